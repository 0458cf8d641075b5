"""``BatchNorm``: normalisation by statistics shared across a named (vmapped) batch axis."""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any, Literal, TypeAlias, cast

import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, PRNGKeyArray

from .._module import field
from .._call_checks import checked_call
from ._init import resolve_dtype
from ._normalisation import constant
from ._stateful import State, StatefulLayer, StateIndex

__all__ = ["BatchNorm"]

BatchNormMode: TypeAlias = Literal["ema", "batch", "legacy"]

# The running statistics kept in the State, per mode:
#   "batch":        (mean, var)
#   "ema"/"legacy": (first_time, mean, var): before the first update there is nothing
#                   to average with, so the first batch's statistics are taken as is.
_BatchStats: TypeAlias = tuple[Float[Array, " input_size"], Float[Array, " input_size"]]
# jax.lax's collectives carry no annotations; calls through `Any` keep strict checkers
# quiet without blanket ignores.
_lax: Any = jax.lax

_EmaStats: TypeAlias = tuple[
    Bool[Array, ""], Float[Array, " input_size"], Float[Array, " input_size"]
]


class BatchNorm(StatefulLayer, strict=True):
    """Normalise each channel by the mean and variance over the batch and all spatial
    positions, then optionally scale and shift per channel.

    The layer sees one example; the batch is the ``jax.vmap`` (or ``pmap``) axis named
    ``axis_name``, over which statistics are averaged with ``jax.lax.pmean``. Running
    statistics live in a :class:`~equinox_typed.nn.State`.

    **Arguments:**

    - ``input_size``: the number of channels (the input's first axis).
    - ``axis_name``: the name (or a sequence of names) of the batch axis, as given to
      ``jax.vmap(..., axis_name=...)``.
    - ``eps``: added to the variance before the square root.
    - ``channelwise_affine``: learn a per-channel scale (ones) and shift (zeros).
    - ``momentum``: weight of the old running statistics in each update,
      ``running = momentum * running + (1 - momentum) * batch``; between 0 and 1.
      (PyTorch's ``momentum=0.1`` is ``momentum=0.9`` here.)
    - ``inference``: use the running statistics instead of the batch's (and leave them
      unchanged). Toggle with :func:`~equinox_typed.nn.inference_mode`.
    - ``dtype``: dtype of the parameters and running statistics.
    - ``mode``:
        - ``"batch"`` (as PyTorch, flax, haiku): training normalises with the batch's
          mean and (biased) variance; the running mean and *unbiased* variance start at
          0 and 1 and are updated every call; inference normalises with them.
        - ``"ema"``: the running mean and (biased) variance are set to the first batch's,
          then updated every call, and training normalises with the *updated running*
          statistics.
        - ``"legacy"`` (default, for compatibility): the same as ``"ema"``.

    ```python
    bn, state = eqx.nn.make_with_state(eqx.nn.BatchNorm)(3, "batch", mode="batch")
    batched = jax.vmap(bn, axis_name="batch", in_axes=(0, None), out_axes=(0, None))
    y, state = batched(x, state)                 # x: (batch, 3, ...)
    y, _ = jax.vmap(eqx.nn.inference_mode(bn), axis_name="batch",
                    in_axes=(0, None), out_axes=(0, None))(x, state)
    ```
    """

    weight: Float[Array, " input_size"] | None
    bias: Float[Array, " input_size"] | None
    state_index: StateIndex[Any]
    inference: bool
    input_size: int = field(static=True)
    axis_name: Hashable | tuple[Hashable, ...] = field(static=True)
    eps: float = field(static=True)
    channelwise_affine: bool = field(static=True)
    momentum: float = field(static=True)
    mode: BatchNormMode = field(static=True)

    def __init__(
        self,
        input_size: int,
        axis_name: Hashable | Sequence[Hashable],
        eps: float = 1e-5,
        channelwise_affine: bool = True,
        momentum: float = 0.99,
        inference: bool = False,
        dtype: Any = None,
        mode: BatchNormMode = "legacy",
    ) -> None:
        if mode not in ("ema", "batch", "legacy"):
            raise ValueError(f"BatchNorm: mode must be 'ema', 'batch' or 'legacy', got {mode!r}")
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"BatchNorm: momentum must be in [0, 1], got {momentum}")
        dtype = resolve_dtype(dtype)
        shape = (input_size,)
        self.weight = constant(shape, 1.0, dtype) if channelwise_affine else None
        self.bias = constant(shape, 0.0, dtype) if channelwise_affine else None
        init: _BatchStats | _EmaStats
        if mode == "batch":
            init = (constant(shape, 0.0, dtype), constant(shape, 1.0, dtype))
        else:
            init = (constant((), 1.0, jnp.bool_), constant(shape, 0.0, dtype), constant(shape, 0.0, dtype))
        self.state_index = StateIndex(init)
        self.inference = inference
        self.input_size = input_size
        # Lists are unhashable, and static fields must hash: keep a tuple of names.
        self.axis_name = _hashable_axis_name(axis_name)
        self.eps = eps
        self.channelwise_affine = channelwise_affine
        self.momentum = momentum
        self.mode = mode

    @checked_call
    def __call__(
        self,
        x: Float[Array, "input_size *spatial"],
        state: State,
        *,
        key: PRNGKeyArray | None = None,
        inference: bool | None = None,
    ) -> tuple[Float[Array, "input_size *spatial"], State]:
        """**Arguments:**

        - ``x``: one example of shape ``(input_size, *spatial)``, called under a
          ``vmap``/``pmap`` with axis name ``axis_name``.
        - ``state``: the model's State.
        - ``key``: ignored.
        - ``inference``: overrides the ``inference`` field for this call.

        **Returns:** ``(normalised x, updated state)``.
        """
        if inference is None:
            inference = self.inference
        dtype = jnp.promote_types(x.dtype, jnp.float32)
        xc = x.astype(dtype)
        if inference:
            mean, var = self._running(state)
        else:
            batch_mean, batch_var, count = self._batch_statistics(xc)
            if self.mode == "batch":
                mean, var = batch_mean, batch_var
                state = self._update_batch_mode(state, batch_mean, batch_var, count)
            else:
                state, mean, var = self._update_ema_mode(state, batch_mean, batch_var)
        out = (xc - _per_channel(mean, x.ndim)) * jax.lax.rsqrt(
            _per_channel(var, x.ndim).astype(dtype) + self.eps
        )
        if self.weight is not None:
            out = out * _per_channel(self.weight, x.ndim)
        if self.bias is not None:
            out = out + _per_channel(self.bias, x.ndim)
        return out.astype(x.dtype), state

    def _running(self, state: State) -> _BatchStats:
        stats = state.get(self.state_index)
        return (stats[0], stats[1]) if self.mode == "batch" else (stats[1], stats[2])

    def _batch_statistics(
        self, x: Float[Array, "input_size *spatial"]
    ) -> tuple[Float[Array, " input_size"], Float[Array, " input_size"], Any]:
        """Mean and biased variance per channel over batch and space; element count."""
        spatial = tuple(range(1, x.ndim))
        mean = _lax.pmean(jnp.mean(x, axis=spatial), self.axis_name)
        centred = x - _per_channel(mean, x.ndim)
        var = _lax.pmean(jnp.mean(jnp.square(centred), axis=spatial), self.axis_name)
        batch_size: int = _lax.psum(1, self.axis_name)
        return mean, var, batch_size * (x.size // x.shape[0])

    def _update_batch_mode(
        self,
        state: State,
        mean: Float[Array, " input_size"],
        var: Float[Array, " input_size"],
        count: Any,
    ) -> State:
        running_mean, running_var = state.get(self.state_index)
        # The running variance estimates the population's: unbiased (Bessel-corrected).
        unbiased = var * (count / jnp.maximum(count - 1, 1))
        m = self.momentum
        new = (
            (m * running_mean + (1 - m) * mean).astype(running_mean.dtype),
            (m * running_var + (1 - m) * unbiased).astype(running_var.dtype),
        )
        return state.set(self.state_index, jax.lax.stop_gradient(new))

    def _update_ema_mode(
        self,
        state: State,
        mean: Float[Array, " input_size"],
        var: Float[Array, " input_size"],
    ) -> tuple[State, Float[Array, " input_size"], Float[Array, " input_size"]]:
        first_time, running_mean, running_var = state.get(self.state_index)
        m = self.momentum
        new_mean = jnp.where(first_time, mean, m * running_mean + (1 - m) * mean)
        new_var = jnp.where(first_time, var, m * running_var + (1 - m) * var)
        new = (
            constant((), 0.0, jnp.bool_),
            new_mean.astype(running_mean.dtype),
            new_var.astype(running_var.dtype),
        )
        state = state.set(self.state_index, jax.lax.stop_gradient(new))
        return state, new_mean, new_var


def _hashable_axis_name(
    axis_name: Hashable | Sequence[Hashable],
) -> Hashable | tuple[Hashable, ...]:
    """One name as is; a list (or other sequence) of names as a tuple."""
    if isinstance(axis_name, str) or not isinstance(axis_name, Sequence):
        return axis_name
    names: Sequence[Hashable] = cast("Sequence[Hashable]", axis_name)
    return tuple(names)


def _per_channel(v: Float[Array, " c"], ndim: int) -> Float[Array, "c ..."]:
    """Reshape a per-channel vector to broadcast against ``(channels, *spatial)``."""
    return v.reshape((-1,) + (1,) * (ndim - 1))
