"""(4) What checking costs: checked vs unchecked construction (against Equinox with
jaxtyping's decorator), eager layer calls with checks on and off, and whether switching
the checking mode or backend recompiles anything."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
from beartype import beartype
from jaxtyping import Array, Float, jaxtyped

import equinox_typed as eqx

from ._section import case, section, single
from ._timing import Budget, Variant, interleaved

try:
    import equinox
except ImportError:
    equinox = None

IN, WIDTH = 8, 32


class FromArrays(eqx.Module):
    weight: Float[Array, "out_features in_features"]
    bias: Float[Array, " out_features"]
    in_features: int = eqx.field(static=True)
    out_features: int = eqx.field(static=True)


def _equinox_class() -> Any:
    assert equinox is not None

    class EqxFromArrays(equinox.Module):
        weight: Float[Array, "out_features in_features"]
        bias: Float[Array, " out_features"]
        in_features: int = equinox.field(static=True)
        out_features: int = equinox.field(static=True)

    return EqxFromArrays


def construction(budget: Budget, quick: bool) -> dict[str, Any]:
    w, b = jnp.ones((WIDTH, IN)), jnp.ones(WIDTH)
    variants = {
        "ours": Variant(lambda: FromArrays(w, b, IN, WIDTH)),
        "ours (checks off)": Variant(lambda: FromArrays(w, b, IN, WIDTH), "off"),
    }
    if equinox is not None:
        plain = _equinox_class()
        # A second class: jaxtyped decorates a dataclass in place.
        checked = jaxtyped(typechecker=beartype)(_equinox_class())
        variants["equinox"] = Variant(lambda: plain(w, b, IN, WIDTH))
        variants["equinox + jaxtyped(beartype)"] = Variant(lambda: checked(w, b, IN, WIDTH))
    ratios = {
        "ours checked / unchecked": ("ours", "ours (checks off)"),
        "equinox jaxtyped / plain": ("equinox + jaxtyped(beartype)", "equinox"),
        "ours / equinox": ("ours", "equinox"),
    }
    rows = [case("Linear-like Module from existing arrays", interleaved(variants, budget, 300), ratios)]
    return section("Checked construction", "us/call", rows)


def layer_call(budget: Budget, quick: bool) -> dict[str, Any]:
    x = jnp.ones(IN)
    linear = eqx.nn.Linear(IN, WIDTH, key=jax.random.key(0))
    variants = {
        "ours": Variant(lambda: linear(x)),
        "ours (checks off)": Variant(lambda: linear(x), "off"),
    }
    if equinox is not None:
        theirs = equinox.nn.Linear(IN, WIDTH, key=jax.random.key(0))
        variants["equinox"] = Variant(lambda: theirs(x))
    ratios = {"checks on / off": ("ours", "ours (checks off)"), "ours / equinox": ("ours", "equinox")}
    rows = [case(f"nn.Linear({IN}, {WIDTH}), eager", interleaved(variants, budget, 200), ratios)]
    return section("Eager layer call", "us/call", rows)


def mode_switch_traces(budget: Budget, quick: bool) -> dict[str, Any]:
    """Trace count of one jitted function called under every mode and backend in turn:
    compiled code does not depend on checking, so it must stay at 1."""
    traces = 0

    @eqx.filter_jit
    def f(x: Float[Array, " n"]) -> Float[Array, " n"]:
        nonlocal traces
        traces += 1
        return x * 2

    x = jnp.ones(3)
    previous_mode, previous_checker = eqx.get_checks(), eqx.get_typechecker()
    try:
        for checker in ("beartype", "typeguard", "beartype"):
            eqx.set_typechecker(checker)  # type: ignore[arg-type]
            for mode in ("eager", "off", "always", "eager"):
                eqx.set_checks(mode)  # type: ignore[arg-type]
                f(x)
    finally:
        eqx.set_checks(previous_mode)
        eqx.set_typechecker(previous_checker)
    row = {"case": "12 calls across 3 backends x 4 modes", "values": {"traces": single(traces)},
           "ratios": {}}
    return section("Switching check modes and backends", "traces", [row])
