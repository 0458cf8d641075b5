"""(5) PyTree operations on Modules: construction, flatten/unflatten, tree_at,
partition/combine, ours against Equinox."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

import equinox_typed as eqx

from . import _models
from ._section import case, section
from ._timing import Budget, Variant, interleaved

try:
    import equinox
except ImportError:
    equinox = None

VS = {"ours / equinox": ("ours", "equinox")}


def _operations(lib: Any, depth: int) -> dict[str, Any]:
    model = _models.mlp(lib, depth)
    leaves, treedef = jax.tree_util.tree_flatten(model)
    params, static = lib.partition(model, lib.is_array)
    new_weight = jnp.zeros_like(model.layers[0].weight)
    return {
        "MLP construction (random init)": lambda: _models.mlp(lib, depth),
        "tree_flatten": lambda: jax.tree_util.tree_flatten(model),
        "tree_unflatten": lambda: treedef.unflatten(leaves),
        "tree_at (one weight)": lambda: lib.tree_at(lambda m: m.layers[0].weight, model, new_weight),
        "partition": lambda: lib.partition(model, lib.is_array),
        "combine": lambda: lib.combine(params, static),
    }


def tree_operations(budget: Budget, quick: bool) -> dict[str, Any]:
    cases = []
    for depth in [2] if quick else [2, 8, 32]:
        ours = _operations(eqx, depth)
        theirs = _operations(equinox, depth) if equinox is not None else {}
        for op, fn in ours.items():
            variants = {"ours": Variant(fn)}
            if op in theirs:
                variants["equinox"] = Variant(theirs[op])
            number = 20 if op.startswith("MLP construction") else 300
            cases.append(case(f"{op}, MLP depth {depth}", interleaved(variants, budget, number), VS))
    return section("Module PyTree operations", "us/call", cases)
