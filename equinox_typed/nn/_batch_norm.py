"""``BatchNorm``: normalisation by statistics shared across a named (vmapped) batch axis."""

from __future__ import annotations

import warnings
from collections.abc import Hashable, Sequence
from typing import Any, Literal, TypeAlias, cast

import jax
import jax.numpy as jnp
from jaxtyping import Array, Bool, Float, Int, PRNGKeyArray

from .._call_checks import checked_call
from .._module import field
from ._dtypes import promoted
from ._init import resolve_dtype
from ._normalisation import constant
from ._sizes import check_size
from ._stateful import State, StatefulLayer, StateIndex

__all__ = ["BatchNorm"]

# Some jax.numpy signatures are partially unknown to pyright strict: called through
# `Any` (results are annotated where they are used).
_jnp: Any = jnp

BatchNormMode: TypeAlias = Literal["ema", "batch", "legacy"]

_Stats: TypeAlias = tuple[Float[Array, " input_size"], Float[Array, " input_size"]]
# jax.lax's collectives carry no annotations; calls through `Any` keep strict checkers
# quiet without blanket ignores.
_lax: Any = jax.lax

_LEGACY_WARNING = (
    "BatchNorm: `mode` was not given, so the 'ema' variant is used (the historical "
    "default, kept for compatibility). It is usually slower to train with; new code "
    "should pass mode='batch' (or mode='ema' to keep this behaviour and silence this "
    "warning). See https://github.com/patrick-kidger/equinox/issues/659."
)


class BatchNorm(StatefulLayer, strict=True):
    """Normalise each channel by the mean and variance over the batch and all spatial
    positions, then optionally scale and shift per channel.

    The layer sees one example; the batch is the ``jax.vmap`` (or ``pmap``) axis named
    ``axis_name``, over which statistics are averaged with ``jax.lax.pmean``. Running
    statistics live in a :class:`~equinox_typed.nn.State`. Gradients flow through them
    (a layer called twice in one loss sees the first call's statistics in the second).

    **Arguments:**

    - ``input_size``: the number of channels (the input's first axis).
    - ``axis_name``: the name (or a sequence of names) of the batch axis, as given to
      ``jax.vmap(..., axis_name=...)``.
    - ``eps``: added to the variance before the square root.
    - ``channelwise_affine``: learn a per-channel scale (ones) and shift (zeros).
    - ``momentum``: weight of the old running statistics in each update,
      ``running = momentum * running + (1 - momentum) * batch``; between 0 and 1.
    - ``inference``: use the running statistics instead of the batch's (and leave them
      unchanged). Toggle with :func:`~equinox_typed.nn.inference_mode`.
    - ``dtype``: dtype of the parameters and running statistics.
    - ``mode``:
        - ``"batch"``: training normalises with the batch's mean and variance and
          updates exponential moving averages of them (State entries
          ``batch_counter``, a step count, and ``batch_state_index``, the averages
          starting at 0 and 1); inference normalises with the averages divided by
          ``1 - momentum ** count`` (zero-debiased).
        - ``"ema"``: State entries ``ema_first_time_index`` (True until the first
          update) and ``ema_state_index`` (running mean and variance, set to the
          first batch's, then averaged); training normalises with the *updated
          running* statistics, inference with the stored ones.
        - ``"legacy"`` (default): ``"ema"`` with a warning asking to choose.

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
    ema_first_time_index: StateIndex[Bool[Array, ""]] | None
    ema_state_index: StateIndex[_Stats] | None
    batch_counter: StateIndex[Int[Array, ""]] | None
    batch_state_index: StateIndex[_Stats] | None
    # Not static (as in Equinox): the name is a leaf, so the flattened layer lines up
    # with Equinox's leaf for leaf.
    axis_name: Hashable | tuple[Hashable, ...]
    inference: bool
    input_size: int = field(static=True)
    eps: float = field(static=True)
    channelwise_affine: bool = field(static=True)
    momentum: float = field(static=True)
    mode: Literal["ema", "batch"] = field(static=True)

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
        check_size("BatchNorm", "input_size", input_size)
        if mode not in ("ema", "batch", "legacy"):
            raise ValueError(f"BatchNorm: mode must be 'ema', 'batch' or 'legacy', got {mode!r}")
        if not 0.0 <= momentum <= 1.0:
            raise ValueError(f"BatchNorm: momentum must be in [0, 1], got {momentum}")
        if mode == "legacy":
            warnings.warn(_LEGACY_WARNING, UserWarning, stacklevel=3)
            mode = "ema"
        dtype = resolve_dtype(dtype)
        shape = (input_size,)
        self.weight = constant(shape, 1.0, dtype) if channelwise_affine else None
        self.bias = constant(shape, 0.0, dtype) if channelwise_affine else None
        zeros, ones = constant(shape, 0.0, dtype), constant(shape, 1.0, dtype)
        self.ema_first_time_index = StateIndex(_jnp.array(True)) if mode == "ema" else None
        self.ema_state_index = StateIndex((zeros, zeros)) if mode == "ema" else None
        # A step count with JAX's default integer dtype (int64 under x64).
        self.batch_counter = StateIndex(_jnp.array(0)) if mode == "batch" else None
        self.batch_state_index = StateIndex((zeros, ones)) if mode == "batch" else None
        # Lists are unhashable (jax.lax wants hashable axis names): keep a tuple.
        self.axis_name = _hashable_axis_name(axis_name)
        self.inference = inference
        self.input_size = input_size
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

        **Returns:** ``(normalised x, updated state)``. The output's dtype is the
        promotion of the input's and the layer's.
        """
        if inference is None:
            inference = self.inference
        if self.mode == "ema":
            mean, var, state = self._ema_statistics(x, state, inference)
        else:
            mean, var, state = self._batch_mode_statistics(x, state, inference)
        dtype = promoted(x.dtype, mean.dtype)
        out = (x.astype(dtype) - _per_channel(mean, x.ndim, dtype)) / jnp.sqrt(
            _per_channel(var, x.ndim, dtype) + _jnp.asarray(self.eps, dtype)
        )
        if self.weight is not None and self.bias is not None:
            out = out * _per_channel(self.weight, x.ndim, dtype) + _per_channel(
                self.bias, x.ndim, dtype
            )
        return out, state

    def _ema_statistics(
        self, x: Float[Array, "input_size *spatial"], state: State, inference: bool
    ) -> tuple[Float[Array, " input_size"], Float[Array, " input_size"], State]:
        assert self.ema_first_time_index is not None and self.ema_state_index is not None
        running_mean, running_var = state.get(self.ema_state_index)
        if inference:
            return running_mean, running_var, state
        first_time = state.get(self.ema_first_time_index)
        state = state.set(self.ema_first_time_index, _jnp.array(False))
        batch_mean, batch_var = self._batch_statistics(x, running_mean.dtype)
        mean = jnp.where(first_time, batch_mean, self._average(running_mean, batch_mean))
        var = jnp.where(first_time, batch_var, self._average(running_var, batch_var))
        state = state.set(self.ema_state_index, (mean, var))
        return mean, var, state

    def _batch_mode_statistics(
        self, x: Float[Array, "input_size *spatial"], state: State, inference: bool
    ) -> tuple[Float[Array, " input_size"], Float[Array, " input_size"], State]:
        assert self.batch_counter is not None and self.batch_state_index is not None
        count = state.get(self.batch_counter)
        hidden_mean, hidden_var = state.get(self.batch_state_index)
        if inference:
            # The averages start at (0, 1): undo the bias towards that start.
            dtype = hidden_mean.dtype
            debias = 1 - _jnp.asarray(self.momentum, dtype) ** count.astype(dtype)
            scale = jnp.where(count == 0, _jnp.ones((), dtype), debias)
            return hidden_mean / scale, hidden_var / scale, state
        mean, var = self._batch_statistics(x, hidden_mean.dtype)
        state = state.set(self.batch_counter, count + 1)
        state = state.set(
            self.batch_state_index,
            (self._average(hidden_mean, mean), self._average(hidden_var, var)),
        )
        return mean, var, state

    def _average(
        self, running: Float[Array, " input_size"], batch: Float[Array, " input_size"]
    ) -> Float[Array, " input_size"]:
        """``momentum * running + (1 - momentum) * batch``, in the running dtype."""
        m = self.momentum
        return (batch * (1 - m)).astype(running.dtype) + running * m

    def _batch_statistics(
        self, x: Float[Array, "input_size *spatial"], dtype: Any
    ) -> _Stats:
        """Per-channel mean and (biased) variance over batch and space, in the
        promotion of ``x``'s dtype and ``dtype``."""
        x = x.astype(promoted(x.dtype, dtype))
        flat = x.reshape(x.shape[0], -1)
        mean = _lax.pmean(jnp.mean(flat, axis=1), self.axis_name)
        centred = flat - mean[:, None]
        var = _lax.pmean(jnp.mean(centred * jnp.conj(centred), axis=1), self.axis_name)
        return mean, jnp.maximum(var, _jnp.zeros((), var.dtype))


def _hashable_axis_name(
    axis_name: Hashable | Sequence[Hashable],
) -> Hashable | tuple[Hashable, ...]:
    """One name as is; a list (or other sequence) of names as a tuple."""
    if isinstance(axis_name, str) or not isinstance(axis_name, Sequence):
        return axis_name
    names: Sequence[Hashable] = cast("Sequence[Hashable]", axis_name)
    return tuple(names)


def _per_channel(v: Float[Array, " c"], ndim: int, dtype: Any) -> Float[Array, "c ..."]:
    """``v`` in ``dtype``, reshaped to broadcast against ``(channels, *spatial)``."""
    return v.astype(dtype).reshape((-1,) + (1,) * (ndim - 1))
