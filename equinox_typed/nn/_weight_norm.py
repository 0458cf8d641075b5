"""``WeightNorm``: reparametrise a layer's weight as a direction times a learned norm."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray, Shaped

from .._module import Module, field
from .._tree import tree_at

__all__ = ["WeightNorm"]

_Layer = TypeVar("_Layer")


def weight_of(layer: Any, weight_name: str) -> Float[Array, "..."]:
    """The array ``layer.<weight_name>``, with a clear error when it is missing."""
    weight = getattr(layer, weight_name, None)
    if weight is None or not hasattr(weight, "shape"):
        raise ValueError(
            f"{type(layer).__name__} has no array field {weight_name!r} to normalise"
        )
    result: Float[Array, "..."] = weight
    return result


def with_weight(layer: _Layer, weight_name: str, weight: Float[Array, "..."]) -> _Layer:
    """A copy of ``layer`` whose field ``weight_name`` is ``weight``."""
    return tree_at(lambda l: getattr(l, weight_name), layer, weight)


def _reduced_axes(ndim: int, axis: int | None) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    kept = axis % ndim
    return tuple(i for i in range(ndim) if i != kept)


def _norm(v: Float[Array, "..."], axis: int | None) -> Float[Array, "..."]:
    """Euclidean norm over every axis but ``axis`` (all axes for None), kept as size 1."""
    axes = _reduced_axes(v.ndim, axis)
    return jnp.sqrt(jnp.sum(jnp.square(v), axis=axes, keepdims=True))


class WeightNorm(Module, Generic[_Layer], strict=True):
    """Weight normalisation: use ``g * v / ||v||`` as the layer's weight, learning the
    direction ``v`` (stored as the layer's weight) and the norm ``g`` separately (as
    PyTorch's ``nn.utils.parametrizations.weight_norm``).

    **Arguments:**

    - ``layer``: the layer to wrap, e.g. a Linear or a convolution.
    - ``weight_name``: the name of the layer's weight field.
    - ``axis``: the axis kept by the norm (one ``g`` per slice along it: per output
      unit for ``0``); ``None`` for a single norm over the whole weight.

    ``g`` starts at the weight's norm, so the wrapped layer initially computes exactly
    what ``layer`` does.

    ```python
    layer = eqx.nn.WeightNorm(eqx.nn.Linear(3, 4, key=key))
    y = layer(jnp.ones(3))
    ```
    """

    layer: _Layer
    g: Float[Array, "..."]
    weight_name: str = field(static=True)
    axis: int | None = field(static=True)

    def __init__(self, layer: _Layer, weight_name: str = "weight", axis: int | None = 0) -> None:
        weight = weight_of(layer, weight_name)
        self.layer = layer
        self.g = _norm(weight, axis)
        self.weight_name = weight_name
        self.axis = axis

    def __call__(
        self, x: Shaped[Array, "..."], *, key: PRNGKeyArray | None = None
    ) -> Shaped[Array, "..."]:
        """**Arguments:**

        - ``x``: the wrapped layer's input.
        - ``key``: ignored.

        **Returns:** the wrapped layer's output, computed with the normalised weight.
        """
        v = weight_of(self.layer, self.weight_name)
        weight = v * (self.g / _norm(v, self.axis))
        layer: Any = with_weight(self.layer, self.weight_name, weight)
        out: Shaped[Array, "..."] = layer(x)
        return out
