"""``SpectralNorm``: divide a layer's weight by its largest singular value."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float, PRNGKeyArray, Shaped

from .._module import field
from ._stateful import State, StatefulLayer, StateIndex
from ._weight_norm import weight_of, with_weight

__all__ = ["SpectralNorm"]

_Layer = TypeVar("_Layer")


def _normalise(v: Float[Array, " n"], eps: float) -> Float[Array, " n"]:
    """``v / max(||v||, eps)``: unit length, without dividing by zero."""
    norm = jnp.sqrt(jnp.sum(jnp.square(v)))
    return v / jnp.maximum(norm, eps)


def _as_matrix(weight: Float[Array, "out *rest"]) -> Float[Array, "out rest"]:
    """The weight as a matrix: first axis (outputs) by everything else."""
    return weight.reshape(weight.shape[0], -1)


def power_iteration(
    matrix: Float[Array, "m n"],
    u: Float[Array, " m"],
    v: Float[Array, " n"],
    iterations: int,
    eps: float,
) -> tuple[Float[Array, " m"], Float[Array, " n"]]:
    """``iterations`` steps of the power method for the top singular vectors."""
    for _ in range(iterations):
        v = _normalise(matrix.T @ u, eps)
        u = _normalise(matrix @ v, eps)
    return u, v


class SpectralNorm(StatefulLayer, Generic[_Layer], strict=True):
    """Spectral normalisation: use ``W / sigma(W)`` as the layer's weight, where
    ``sigma(W)`` (the largest singular value of the weight, seen as a matrix of shape
    ``(out, everything else)``) is estimated by power iteration.

    The singular-vector estimates ``(u, v)`` are state: each training call refines them
    by ``num_power_iterations`` steps and stores them in the State. In inference mode
    they are used as stored.

    **Arguments:**

    - ``layer``: the layer to wrap, e.g. a Linear or a convolution.
    - ``weight_name``: the name of the layer's weight field.
    - ``num_power_iterations``: power-method steps per training call.
    - ``eps``: lower bound on norms in the power method (avoids dividing by zero).
    - ``inference``: use the stored ``(u, v)`` without refining them.
    - ``key``: PRNG key for the random initial ``(u, v)`` (keyword-only).

    ```python
    layer, state = eqx.nn.make_with_state(eqx.nn.SpectralNorm)(
        eqx.nn.Linear(3, 4, key=k1), "weight", key=k2)
    y, state = layer(jnp.ones(3), state)
    ```
    """

    layer: _Layer
    uv_index: StateIndex[Any]
    inference: bool
    weight_name: str = field(static=True)
    num_power_iterations: int = field(static=True)
    eps: float = field(static=True)

    def __init__(
        self,
        layer: _Layer,
        weight_name: str = "weight",
        num_power_iterations: int = 1,
        eps: float = 1e-12,
        inference: bool = False,
        *,
        key: PRNGKeyArray,
    ) -> None:
        matrix = _as_matrix(weight_of(layer, weight_name))
        ukey, vkey = jr.split(key)
        u = _normalise(jr.normal(ukey, matrix.shape[:1], matrix.dtype), eps)
        v = _normalise(jr.normal(vkey, matrix.shape[1:], matrix.dtype), eps)
        self.layer = layer
        self.uv_index = StateIndex((u, v))
        self.inference = inference
        self.weight_name = weight_name
        self.num_power_iterations = num_power_iterations
        self.eps = eps

    def __call__(
        self,
        x: Shaped[Array, "..."],
        state: State,
        *,
        key: PRNGKeyArray | None = None,
        inference: bool | None = None,
    ) -> tuple[Shaped[Array, "..."], State]:
        """**Arguments:**

        - ``x``: the wrapped layer's input.
        - ``state``: the model's State (holding ``(u, v)``).
        - ``key``: ignored.
        - ``inference``: overrides the ``inference`` field for this call.

        **Returns:** ``(wrapped layer's output with the normalised weight, state)``.
        """
        if inference is None:
            inference = self.inference
        weight = weight_of(self.layer, self.weight_name)
        matrix = _as_matrix(weight)
        u, v = state.get(self.uv_index)
        if not inference:
            # The vectors are an estimate, not a function to differentiate through.
            u, v = jax.lax.stop_gradient(
                power_iteration(matrix, u, v, self.num_power_iterations, self.eps)
            )
            state = state.set(self.uv_index, (u, v))
        sigma = u @ matrix @ v
        layer: Any = with_weight(self.layer, self.weight_name, weight / sigma)
        out: Shaped[Array, "..."] = layer(x)
        return out, state
