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

# Some jax.numpy signatures are partially unknown to pyright strict: called through
# `Any` (results are annotated where they are used).
_jnp: Any = jnp

_Layer = TypeVar("_Layer")


# Power-method steps taken at construction, so that the first call already uses a
# good estimate of the top singular vectors (the same count as Equinox).
_INITIAL_ITERATIONS = 15


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
    """``iterations`` steps of the power method for the top singular vectors.

    Each step refines ``u`` from the current ``v`` first, then ``v`` from the new ``u``
    (Equinox's order: the first step ignores the initial ``u``).
    """
    for _ in range(iterations):
        u = _normalise(matrix @ v, eps)
        v = _normalise(matrix.T @ u, eps)
    return u, v


class SpectralNorm(StatefulLayer, Generic[_Layer], strict=True):
    """Spectral normalisation: use ``W / sigma(W)`` as the layer's weight, where
    ``sigma(W)`` (the largest singular value of the weight, seen as a matrix of shape
    ``(out, everything else)``) is estimated by power iteration.

    The singular-vector estimates ``(u, v)`` are state: construction runs 15 steps of
    the power method from a random start, each training call refines them by
    ``num_power_iterations`` more and stores them in the State. In inference mode they
    are used as stored. Given the same key, the numbers are Equinox's.

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
        weight = weight_of(layer, weight_name)
        if weight.ndim < 2:
            raise ValueError(
                f"SpectralNorm: the layer's `{weight_name}` must have at least two "
                f"dimensions (it is normalised as a matrix), got shape {weight.shape}"
            )
        matrix = _as_matrix(weight)
        ukey, vkey = jr.split(key)
        u = jr.normal(ukey, matrix.shape[:1], matrix.dtype)
        v = jr.normal(vkey, matrix.shape[1:], matrix.dtype)
        u, v = power_iteration(matrix, u, v, _INITIAL_ITERATIONS, eps)
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
            u, v = power_iteration(
                jax.lax.stop_gradient(matrix), u, v, self.num_power_iterations, self.eps
            )
            state = state.set(self.uv_index, (u, v))
        sigma = _jnp.einsum("i,ij,j->", u, matrix, v)
        layer: Any = with_weight(self.layer, self.weight_name, weight / sigma)
        out: Shaped[Array, "..."] = layer(x)
        return out, state
