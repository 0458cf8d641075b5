"""No silent ``Any``: string options are ``Literal`` types, ``combine`` keeps the model type,
the custom-derivative rules are typed (checked with assert_type)."""

from collections.abc import Callable
from typing import Any, Concatenate, Literal, assert_type

import jax
from jax import Array

from jaxtyping import PRNGKeyArray

import equinox_typed as eqx
import equinox_typed.nn as nn


def check_string_options(key: PRNGKeyArray) -> None:
    conv = nn.Conv2d(3, 4, 3, padding="same", padding_mode="reflect", key=key)
    assert_type(conv.padding_mode, Literal["ZEROS", "REFLECT", "REPLICATE", "CIRCULAR"])
    assert_type(conv.padding, Literal["SAME", "SAME_LOWER", "VALID"] | tuple[tuple[int, int], ...])
    nn.Conv1d(3, 4, 3, padding="VALID", padding_mode="CIRCULAR", key=key)
    nn.Conv1d(3, 4, 3, padding=[(1, 0)], key=key)
    up = nn.ConvTranspose2d(3, 4, 3, padding="SAME", padding_mode="circular", key=key)
    assert_type(up.padding_mode, Literal["ZEROS", "CIRCULAR"])
    assert_type(nn.BatchNorm(3, "batch", mode="ema").mode, Literal["ema", "batch"])


def check_sequential(x: Array, key: PRNGKeyArray) -> None:
    same = nn.Sequential([nn.Linear(3, 3, key=key), nn.Linear(3, 3, key=key)])
    assert_type(same, nn.Sequential[nn.Linear])
    assert_type(same[0], nn.Linear)
    assert_type(same[0].weight, Array)
    assert_type(same.layers, tuple[nn.Linear, ...])
    assert_type(same[1:], nn.Sequential[nn.Linear])
    for layer in same:
        assert_type(layer, nn.Linear)
    assert_type(same(x), Array)
    mixed = nn.Sequential([nn.Linear(3, 3, key=key), nn.Lambda(jax.nn.relu)])
    mixed[0](x)  # callable in both checkers, whatever the join of the layer types
    assert_type(len(mixed), int)
    assert_type(takes_any_sequential(same, x), Array)  # Sequential[Linear] is a Sequential


def takes_any_sequential(model: nn.Sequential, x: Array) -> Array:
    """A bare ``Sequential`` annotation stays valid (the type argument has a default)."""
    return model(x)


def check_combine(model: nn.Linear, untyped: Any) -> None:
    """``combine`` keeps the model type when the other side is less precise."""
    params, static = eqx.partition(model, eqx.is_array)
    assert_type(eqx.combine(params, static), nn.Linear)
    assert_type(eqx.combine(params, untyped), nn.Linear)
    assert_type(eqx.combine(params, static, untyped), nn.Linear)
    assert_type(eqx.combine(params, static, is_leaf=eqx.is_array), nn.Linear)


def check_combine_untyped_first(model: nn.Linear, untyped: Any) -> None:
    # Any first: pyright types the result from the second tree; mypy's rule for Any
    # arguments matching several overloads makes it Any there.
    result = eqx.combine(untyped, model)
    result.weight  # an attribute of Linear in pyright, of Any in mypy


def check_custom_rules(model: nn.Linear, x: Array) -> None:
    """Typed rule decorators: a rule of the right shape registers, keeping its type."""

    @eqx.filter_custom_vjp
    def apply(layer: nn.Linear, scale: float) -> Array:
        return layer.weight * scale

    @apply.def_fwd
    def apply_fwd(perturbed: Any, layer: nn.Linear, s: float) -> tuple[Array, None]:
        return layer.weight * s, None

    @apply.def_bwd
    def apply_bwd(res: None, g: Array, perturbed: Any, layer: nn.Linear, s: float) -> nn.Linear:
        return eqx.tree_at(lambda m: m.weight, layer, g * s)

    assert_type(apply(model, 2.0), Array)
    assert_type(apply_fwd, Callable[Concatenate[Any, nn.Linear, ...], tuple[Array, Any]])

    @eqx.filter_custom_jvp
    def double(y: Array, n: int) -> Array:
        return 2 * y

    @double.def_jvp
    def double_jvp(primals: tuple[Any, ...], tangents: tuple[Any, ...]) -> tuple[Array, Array]:
        (y, _), (ty, _) = primals, tangents
        return 2 * y, 2 * ty

    assert_type(double(x, 1), Array)


def _identity(y: Array) -> Array:
    return y


def check_callback_options(x: Array) -> None:
    eqx.filter_pure_callback(_identity, x, result_shape_dtypes=x, vmap_method="expand_dims")
