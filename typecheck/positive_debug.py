"""eqx.debug keeps the types of what it wraps (checked with assert_type)."""

from typing import Any, assert_type

import jax.numpy as jnp
from jax import Array
from jaxtyping import Float

import equinox_typed as eqx


def double(x: Float[Array, "n"], times: int) -> Float[Array, "n"]:
    return x * 2 * times


def check_assert_max_traces(x: Array) -> None:
    counted = eqx.debug.assert_max_traces(double, max_traces=1)
    assert_type(counted(x, 2), Array)
    assert_type(eqx.debug.get_num_traces(counted), int)
    unlimited = eqx.debug.assert_max_traces(double, max_traces=None)
    assert_type(unlimited(x, times=1), Array)

    @eqx.filter_jit
    @eqx.debug.assert_max_traces(max_traces=2)
    def step(x: Float[Array, "n"]) -> Float[Array, ""]:
        return jnp.sum(x)

    assert_type(step(x), Array)
    assert_type(eqx.debug.get_num_traces(step), int)


def check_breakpoint_if(x: Array) -> None:
    token: Any = eqx.debug.breakpoint_if(x > 0, num_frames=2)
    del token


def check_identities(x: Float[Array, "n"], tree: dict[str, Array]) -> None:
    assert_type(eqx.debug.backward_nan(x, name="x", terminate=False), Array)
    assert_type(eqx.debug.store_dce(tree, name=("layer", 1)), dict[str, Array])
    eqx.debug.inspect_dce(name=("layer", 1))
    said: list[str] = []
    assert_type(eqx.debug.announce_transform(tree, name="t", announce=said.append), dict[str, Array])
    assert_type(eqx.debug.announce_transform(x, intermediates=True), Array)
