"""Per-example normalisation: ``LayerNorm``, ``GroupNorm``, ``RMSNorm``.

Each takes one example (use ``jax.vmap`` for a batch). Statistics are computed in at
least float32, so half-precision inputs are normalised accurately, and the result is
cast back to the input's dtype.
"""

from __future__ import annotations

import abc
import warnings
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, Inexact, Num, PRNGKeyArray

from .._call_checks import checked_call
from .._jax_typed import full
from .._module import Module, field
from ._dtypes import at_least_float32
from ._init import resolve_dtype
from ._sizes import check_size, check_sizes
from ._stateful import NO_STATE, State

__all__ = ["GroupNorm", "LayerNorm", "RMSNorm"]



def _as_shape(shape: int | Sequence[int]) -> tuple[int, ...]:
    return (shape,) if isinstance(shape, int) else tuple(int(n) for n in shape)


def _with_state(
    out: Num[Array, "..."], state: State
) -> Num[Array, "..."] | tuple[Num[Array, "..."], State]:
    """The output alone, or with the (unchanged) state when the caller passed one."""
    return out if state is NO_STATE else (out, state)


def constant(shape: tuple[int, ...], value: float, dtype: Any) -> Inexact[Array, "..."]:
    """An array of ``shape`` filled with ``value`` (initial scales, shifts, statistics)."""
    return full(shape, value, dtype)


def _variance(
    centred: Inexact[Array, "*batch n"], dtype: Any, axis: int | None = None
) -> Inexact[Array, "*batch n"]:
    """The mean of ``|centred|**2`` (over ``axis``, keeping it), cast to ``dtype``.

    For complex inputs the variance is the mean squared modulus (a real number, as in
    ``jnp.var``), not the mean of the complex squares. It is cast explicitly to the
    computation dtype, because strict dtype promotion refuses to multiply a complex
    array by a real one."""
    if jnp.iscomplexobj(centred):
        squared = jnp.square(jnp.real(centred)) + jnp.square(jnp.imag(centred))
    else:
        squared = jnp.square(centred)
    return jnp.mean(squared, axis=axis, keepdims=axis is not None).astype(dtype)


class _AbstractShapeNorm(Module, strict=True):
    """What :class:`LayerNorm` and :class:`RMSNorm` share: statistics over the whole
    example of shape ``shape``, then an optional elementwise scale and shift."""

    shape: tuple[int, ...] = field(static=True)
    eps: float = field(static=True)
    use_weight: bool = field(static=True)
    use_bias: bool = field(static=True)
    weight: Inexact[Array, "*shape"] | None
    bias: Inexact[Array, "*shape"] | None

    def _init_common(
        self,
        shape: int | Sequence[int],
        eps: float,
        use_weight: bool,
        use_bias: bool,
        dtype: Any,
    ) -> None:
        """Store the settings; the weight starts at one and the bias at zero."""
        check_sizes(type(self).__qualname__, "shape", shape)
        dtype = resolve_dtype(dtype)
        self.shape = _as_shape(shape)
        self.eps = eps
        self.use_weight = use_weight
        self.use_bias = use_bias
        self.weight = constant(self.shape, 1.0, dtype) if use_weight else None
        self.bias = constant(self.shape, 0.0, dtype) if use_bias else None

    def _scale_shift(self, out: Inexact[Array, "*shape"], dtype: Any) -> Inexact[Array, "*shape"]:
        """``out * weight + bias`` (those present), computed in ``dtype``."""
        if self.weight is not None:
            out = out * self.weight.astype(dtype)
        if self.bias is not None:
            out = out + self.bias.astype(dtype)
        return out

    @abc.abstractmethod
    def __call__(
        self,
        x: Inexact[Array, "*shape"],
        state: State = NO_STATE,
        *,
        key: PRNGKeyArray | None = None,
    ) -> Inexact[Array, "*shape"] | tuple[Inexact[Array, "*shape"], State]:
        """Normalise one example ``x`` of shape ``shape``."""


class LayerNorm(_AbstractShapeNorm, strict=True):
    """Normalise an example to zero mean and unit variance over all of its axes, then
    optionally scale and shift elementwise (as PyTorch's ``nn.LayerNorm``).

    **Arguments:**

    - ``shape``: the input's shape (an int for 1-D inputs).
    - ``eps``: added to the variance before the square root.
    - ``use_weight``: learn an elementwise scale, initialised to one.
    - ``use_bias``: learn an elementwise shift, initialised to zero.
    - ``dtype``: dtype of weight and bias (default float32, or float64 in x64 mode).
    - ``elementwise_affine``: deprecated; sets both ``use_weight`` and ``use_bias``.

    ```python
    norm = eqx.nn.LayerNorm(5)
    y = norm(jnp.arange(5.0))           # one example
    ys = jax.vmap(norm)(batch)          # batch of shape (n, 5)
    ```
    """

    def __init__(
        self,
        shape: int | Sequence[int],
        eps: float = 1e-5,
        use_weight: bool = True,
        use_bias: bool = True,
        dtype: Any = None,
        *,
        elementwise_affine: bool | None = None,
    ) -> None:
        if elementwise_affine is not None:
            warnings.warn(
                "LayerNorm(elementwise_affine=...) is deprecated; pass use_weight=... "
                "and use_bias=... instead",
                DeprecationWarning,
                stacklevel=3,
            )
            use_weight = use_bias = elementwise_affine
        self._init_common(shape, eps, use_weight, use_bias, dtype)

    @checked_call
    def __call__(
        self,
        x: Num[Array, "*shape"],
        state: State = NO_STATE,
        *,
        key: PRNGKeyArray | None = None,
    ) -> Num[Array, "*shape"] | tuple[Num[Array, "*shape"], State]:
        """**Arguments:**

        - ``x``: one example, of shape ``shape``; integer inputs are normalised in
          floating point and returned in their own dtype (as Equinox does).
        - ``state``: optional; passed through unchanged (so the layer fits anywhere a
          stateful layer does).
        - ``key``: ignored.

        **Returns:** the normalised array (same shape and dtype as ``x``), or
        ``(array, state)`` if ``state`` was given.
        """
        dtype = at_least_float32(x.dtype)
        xc = x.astype(dtype)
        mean = jnp.mean(xc)
        centred = xc - mean
        out = centred * jax.lax.rsqrt(_variance(centred, dtype) + self.eps)
        return _with_state(self._scale_shift(out, dtype).astype(x.dtype), state)


class RMSNorm(_AbstractShapeNorm, strict=True):
    """Divide an example by its root mean square, then optionally scale and shift
    elementwise (as PyTorch's ``nn.RMSNorm``, plus an optional bias).

    **Arguments:**

    - ``shape``: the input's shape (an int for 1-D inputs).
    - ``eps``: added to the mean square before the square root.
    - ``use_weight``: learn an elementwise scale, initialised to one.
    - ``use_bias``: learn an elementwise shift, initialised to zero.
    - ``dtype``: dtype of weight and bias (default float32, or float64 in x64 mode).

    ```python
    norm = eqx.nn.RMSNorm(5)
    y = norm(jnp.arange(5.0))
    ```
    """

    def __init__(
        self,
        shape: int | Sequence[int],
        eps: float = 1e-5,
        use_weight: bool = True,
        use_bias: bool = True,
        dtype: Any = None,
    ) -> None:
        self._init_common(shape, eps, use_weight, use_bias, dtype)

    @checked_call
    def __call__(
        self,
        x: Inexact[Array, "*shape"],
        state: State = NO_STATE,
        *,
        key: PRNGKeyArray | None = None,
    ) -> Inexact[Array, "*shape"] | tuple[Inexact[Array, "*shape"], State]:
        """**Arguments:** as for :class:`LayerNorm`; complex inputs are divided by the
        (complex) root of their mean square, as Equinox does.

        **Returns:** ``x / sqrt(mean(x**2) + eps) * weight + bias`` (same shape and dtype
        as ``x``), or ``(array, state)`` if ``state`` was given.
        """
        dtype = at_least_float32(x.dtype)
        xc = x.astype(dtype)
        out = xc * jax.lax.rsqrt(jnp.mean(jnp.square(xc)) + self.eps)
        return _with_state(self._scale_shift(out, dtype).astype(x.dtype), state)


class GroupNorm(Module, strict=True):
    """Split the channels into groups and normalise each group (over its channels and
    all spatial positions), then optionally scale and shift per channel (as PyTorch's
    ``nn.GroupNorm``). ``groups=1`` normalises like LayerNorm over the whole example;
    ``groups=channels`` is instance normalisation.

    **Arguments:**

    - ``groups``: the number of groups; must divide the number of channels.
    - ``channels``: the number of channels (needed when ``channelwise_affine``).
    - ``eps``: added to the variance before the square root.
    - ``channelwise_affine``: learn a per-channel scale (ones) and shift (zeros).
    - ``dtype``: dtype of weight and bias (default float32, or float64 in x64 mode).

    ```python
    norm = eqx.nn.GroupNorm(groups=2, channels=4)
    y = norm(jnp.ones((4, 8, 8)))      # (channels, *spatial)
    ```
    """

    groups: int = field(static=True)
    channels: int | None = field(static=True)
    eps: float = field(static=True)
    channelwise_affine: bool = field(static=True)
    weight: Inexact[Array, " channels"] | None
    bias: Inexact[Array, " channels"] | None

    def __init__(
        self,
        groups: int,
        channels: int | None = None,
        eps: float = 1e-5,
        channelwise_affine: bool = True,
        dtype: Any = None,
    ) -> None:
        check_size("GroupNorm", "groups", groups, at_least=1)
        if channels is not None:
            check_size("GroupNorm", "channels", channels)
        if channels is not None and channels % groups != 0:
            raise ValueError(
                f"GroupNorm: channels={channels} is not divisible by groups={groups}"
            )
        if channelwise_affine and channels is None:
            raise ValueError("GroupNorm: channelwise_affine=True needs `channels`")
        dtype = resolve_dtype(dtype)
        self.groups = groups
        self.channels = channels
        self.eps = eps
        self.channelwise_affine = channelwise_affine
        affine = channelwise_affine and channels is not None
        self.weight = constant((channels,), 1.0, dtype) if affine and channels else None
        self.bias = constant((channels,), 0.0, dtype) if affine and channels else None

    @checked_call
    def __call__(
        self,
        x: Inexact[Array, "channels *spatial"],
        state: State = NO_STATE,
        *,
        key: PRNGKeyArray | None = None,
    ) -> Inexact[Array, "channels *spatial"] | tuple[Inexact[Array, "channels *spatial"], State]:
        """**Arguments:**

        - ``x``: one example of shape ``(channels, *spatial)``.
        - ``state``: optional; passed through unchanged.
        - ``key``: ignored.

        **Returns:** the normalised array (same shape and dtype as ``x``), or
        ``(array, state)`` if ``state`` was given.
        """
        channels = x.shape[0]
        if channels % self.groups != 0:
            raise ValueError(
                f"GroupNorm: {channels} channels are not divisible by "
                f"groups={self.groups}"
            )
        dtype = at_least_float32(x.dtype)
        grouped = x.astype(dtype).reshape(self.groups, -1)
        mean = jnp.mean(grouped, axis=1, keepdims=True)
        centred = grouped - mean
        out = (centred * jax.lax.rsqrt(_variance(centred, dtype, axis=1) + self.eps)).reshape(x.shape)
        per_channel = (channels,) + (1,) * (x.ndim - 1)
        if self.weight is not None:
            out = out * self.weight.astype(dtype).reshape(per_channel)
        if self.bias is not None:
            out = out + self.bias.astype(dtype).reshape(per_channel)
        return _with_state(out.astype(x.dtype), state)
