"""(3) First-call cost: tracing + compiling a gradient step of a deep residual model,
unrolled and scanned, with both libraries and the hand-partitioned ``jax.jit`` floor."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import jax
import jax.numpy as jnp

import equinox_typed as eqx

from . import _models
from ._section import case, section
from ._timing import Budget, Timings, time_once

try:
    import equinox
except ImportError:
    equinox = None


def _first_call_ours(lib: ModuleType, model: Any, x: jax.Array) -> float:
    # A new loss function each time: the compilation caches key on what is wrapped.
    def loss(m: Any, x: jax.Array) -> jax.Array:
        return jnp.sum(jax.vmap(m)(x) ** 2)

    step = lib.filter_jit(lib.filter_value_and_grad(loss))
    return time_once(lambda: step(model, x))


def _first_call_floor(model: Any, x: jax.Array) -> float:
    params, static = eqx.partition(model, eqx.is_array)

    def loss(p: Any, x: jax.Array) -> jax.Array:
        return jnp.sum(jax.vmap(eqx.combine(p, static))(x) ** 2)

    step = jax.jit(jax.value_and_grad(loss))
    return time_once(lambda: step(params, x))


def _measure(variants: dict[str, Any], rounds: int) -> Timings:
    """Interleaved rounds of first calls (seconds); JAX's caches are emptied before each
    so every call traces and compiles from scratch."""
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, fn in variants.items():
            jax.clear_caches()
            times[name].append(fn())
    return Timings(times)


def first_call(budget: Budget, quick: bool) -> dict[str, Any]:
    depths = [2, 4] if quick else [12, 24, 48]
    rounds = 1 if quick else max(2, budget.rounds // 5)
    x = jnp.ones((8, 32))
    cases = []
    for depth in depths:
        ours_model = _models.residual(eqx, depth)
        scanned = _models.residual(eqx, depth, scanned=True)
        variants = {
            "ours": lambda m=ours_model: _first_call_ours(eqx, m, x),
            "ours, scanned": lambda m=scanned: _first_call_ours(eqx, m, x),
            "jax.jit": lambda m=ours_model: _first_call_floor(m, x),
        }
        if equinox is not None:
            their_model = _models.residual(equinox, depth)
            variants["equinox"] = lambda m=their_model: _first_call_ours(equinox, m, x)
        ratios = {
            "ours / jax.jit": ("ours", "jax.jit"),
            "ours / equinox": ("ours", "equinox"),
            "unrolled / scanned": ("ours", "ours, scanned"),
        }
        cases.append(case(f"{depth} residual blocks", _measure(variants, rounds), ratios))
    return section(
        "First call: trace + compile of filter_jit(filter_value_and_grad(loss))", "s", cases,
        "Blocks are Linear/LayerNorm/Linear with a residual connection, width 32. "
        "'scanned' stores the blocks as one stacked Module (filter_vmap) applied with "
        "jax.lax.scan. A flat 'ours / jax.jit' ratio across depths means the boundary "
        "checks on the first call grow linearly with the model.",
    )
