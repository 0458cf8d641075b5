"""String options outside their Literal type and custom-derivative rules that do not fit
the function are errors in both checkers (see negative.py)."""

from typing import Any

import jax.numpy as jnp
from jax import Array
from jaxtyping import PRNGKeyArray

import equinox_typed as eqx
import equinox_typed.nn as nn


def string_option_mistakes(key: PRNGKeyArray) -> None:
    nn.Conv2d(3, 4, 3, padding_mode="zero", key=key)  # type: ignore[arg-type]
    nn.Conv2d(3, 4, 3, padding="full", key=key)  # type: ignore[arg-type]
    # ConvTranspose supports only ZEROS and CIRCULAR padding.
    nn.ConvTranspose1d(3, 4, 3, padding_mode="REFLECT", key=key)  # type: ignore[arg-type]
    nn.BatchNorm(3, "batch", mode="running")  # type: ignore[arg-type]


def custom_rule_mistakes(layer: nn.Linear) -> None:
    @eqx.filter_custom_vjp
    def apply(layer: nn.Linear, scale: float) -> Array:
        return layer.weight * scale

    # The differentiated argument of the rule must have the function's first parameter type.
    @apply.def_fwd  # type: ignore[arg-type]
    def fwd_wrong_arg(perturbed: Any, layer: Array, s: float) -> tuple[Array, None]:
        return layer * s, None

    # fwd returns (out, residuals), out of the function's output type.
    @apply.def_fwd  # type: ignore[arg-type]
    def fwd_no_residuals(perturbed: Any, layer: nn.Linear, s: float) -> Array:
        return layer.weight * s

    @apply.def_fwd  # type: ignore[arg-type]
    def fwd_wrong_out(perturbed: Any, layer: nn.Linear, s: float) -> tuple[nn.Linear, None]:
        return layer, None

    @apply.def_bwd  # type: ignore[arg-type]
    def bwd_wrong_arg(res: None, g: Array, perturbed: Any, layer: Array, s: float) -> Array:
        return g

    @eqx.filter_custom_jvp
    def double(y: Array) -> Array:
        return 2 * y

    @double.def_jvp  # type: ignore[arg-type]
    def jvp_wrong_out(primals: tuple[Any, ...], tangents: tuple[Any, ...]) -> tuple[int, int]:
        return 1, 1

    @double.def_jvp  # type: ignore[arg-type]
    def jvp_one_arg(primals: tuple[Any, ...]) -> tuple[Array, Array]:
        return primals[0], primals[0]


def to_array(x: list[float]) -> Array:
    # jnp.asarray's signature is partially unknown to pyright; stack typed scalars instead.
    return jnp.stack([jnp.float32(v) for v in x])


class Scaled(eqx.Module):
    weight: Array = eqx.field(converter=to_array)


def converter_mistakes() -> None:
    # Outside the converter's input type.
    Scaled(1.0)  # type: ignore[arg-type]
    Scaled(weight=None)  # type: ignore[arg-type]


def _identity(y: Array) -> Array:
    return y


def callback_option_mistakes(x: Array) -> None:
    eqx.filter_pure_callback(_identity, x, result_shape_dtypes=x, vmap_method="loop")  # type: ignore[arg-type]
