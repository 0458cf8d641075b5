"""(1) Cached ``filter_jit`` call overhead and (2) a whole training step, side by side
with ``jax.jit`` on hand-partitioned parameters (the floor: no filtering at all) and
with Equinox."""

from __future__ import annotations

from types import ModuleType
from typing import Any

import jax
import jax.numpy as jnp
import optax

import equinox_typed as eqx

from . import _models
from ._section import case, section
from ._timing import Budget, Variant, interleaved

try:
    import equinox
except ImportError:  # a benchmark-only peer: its columns are skipped without it
    equinox = None

VS = {"ours / jax.jit": ("ours", "jax.jit"), "ours / equinox": ("ours", "equinox"),
      "checks on / off": ("ours", "ours (checks off)")}


def _dispatch_models(quick: bool) -> list[tuple[str, Any]]:
    depths = [2, 8] if quick else [2, 8, 32, 150]
    return [(f"MLP depth {d}", lambda lib, d=d: _models.mlp(lib, d)) for d in depths]


def call_overhead(budget: Budget, quick: bool) -> dict[str, Any]:
    x = jnp.ones(_models.IN)
    cases = []
    for label, build in _dispatch_models(quick):
        model = build(eqx)
        ours = eqx.filter_jit(lambda m, x: m(x))
        params, static = eqx.partition(model, eqx.is_array)
        floor = jax.jit(lambda p, x, static=static: eqx.combine(p, static)(x))
        variants = {
            "ours": Variant(lambda ours=ours, model=model: ours(model, x)),
            "ours (checks off)": Variant(lambda ours=ours, model=model: ours(model, x), "off"),
            "jax.jit": Variant(lambda floor=floor, params=params: floor(params, x)),
        }
        if equinox is not None:
            theirs, their_model = equinox.filter_jit(lambda m, x: m(x)), build(equinox)
            variants["equinox"] = Variant(lambda t=theirs, m=their_model: t(m, x))
        leaves = _models.leaf_count(model)
        cases.append(case(f"{label} ({leaves} leaves)", interleaved(variants, budget, 300), VS))
    return section(
        "Cached filter_jit call (tiny widths: dispatch dominates)", "us/call", cases,
        "jax.jit is called on parameters partitioned once beforehand, the floor for any "
        "filtering library.",
    )


def _loss(model: Any, x: jax.Array, y: jax.Array) -> jax.Array:
    logits = jax.vmap(model)(x)
    return jnp.mean((logits - y) ** 2)


def _library_step(lib: ModuleType, optim: Any) -> Any:
    @lib.filter_jit
    def step(model: Any, opt_state: Any, x: jax.Array, y: jax.Array) -> Any:
        loss, grads = lib.filter_value_and_grad(_loss)(model, x, y)
        updates, opt_state = optim.update(grads, opt_state, lib.filter(model, lib.is_inexact_array))
        return lib.apply_updates(model, updates), opt_state, loss

    return step


def _floor_step(static: Any, optim: Any) -> Any:
    @jax.jit
    def step(params: Any, opt_state: Any, x: jax.Array, y: jax.Array) -> Any:
        loss, grads = jax.value_and_grad(lambda p: _loss(eqx.combine(p, static), x, y))(params)
        updates, opt_state = optim.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, loss

    return step


def _looping(step: Any, model: Any, opt_state: Any, x: jax.Array, y: jax.Array) -> Any:
    """A call that feeds each step's outputs into the next, as a training loop does."""
    state = [model, opt_state]

    def call() -> Any:
        state[0], state[1], loss = step(state[0], state[1], x, y)
        return loss

    return call


def training_step(budget: Budget, quick: bool) -> dict[str, Any]:
    optim = optax.adam(1e-3)
    builds = [*_dispatch_models(quick)[: 1 if quick else 3], ("small CNN", _models.cnn)]
    cases = []
    for label, build in builds:
        is_cnn = label == "small CNN"
        x = jnp.ones((32, 1, 8, 8) if is_cnn else (32, _models.IN))
        y = jnp.ones((32, 10 if is_cnn else _models.OUT))
        model = build(eqx)
        params, static = eqx.partition(model, eqx.is_inexact_array)
        ours = _library_step(eqx, optim)
        floor = _floor_step(static, optim)
        variants = {
            "ours": Variant(_looping(ours, model, optim.init(params), x, y)),
            "jax.jit": Variant(_looping(floor, params, optim.init(params), x, y)),
        }
        if equinox is not None:
            their_model = build(equinox)
            their_params = equinox.filter(their_model, equinox.is_inexact_array)
            theirs = _library_step(equinox, optim)
            variants["equinox"] = Variant(_looping(theirs, their_model, optim.init(their_params), x, y))
        leaves = _models.leaf_count(model)
        cases.append(case(f"{label} ({leaves} leaves)", interleaved(variants, budget, 150), VS))
    return section(
        "Training step: filter_jit(filter_value_and_grad(loss)) + optax.adam update",
        "us/step", cases,
        "Each call feeds the previous step's model and optimiser state back in, batch 32.",
    )
