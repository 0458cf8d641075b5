"""N-dimensional pooling over channels-first inputs ``(channels, *spatial)``.

:class:`Pool` reduces sliding windows with any monoid ``(init, operation)``; the max and
average pools of each dimensionality only fix those and ``num_spatial_dims``.
:class:`AdaptivePool` reduces non-overlapping blocks chosen so that the output has a
given shape; its max and average versions likewise fix the reduction.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, cast

import jax.lax as lax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, PRNGKeyArray, Shaped

from .._call_checks import checked_call
from .._jax_typed import reduce_window, vectorize
from .._module import Module, field
from ._padding import PaddingPairs, as_padding, as_tuple, check_rank
from ._sizes import check_sizes

__all__ = [
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d",
    "AdaptivePool",
    "AvgPool1d",
    "AvgPool2d",
    "AvgPool3d",
    "MaxPool1d",
    "MaxPool2d",
    "MaxPool3d",
    "Pool",
]


# Reductions: `Pool`'s combines two values, `AdaptivePool`'s reduces a 1-D block. (Shaped
# rather than bare `Array`, which strict Modules refuse even inside a Callable.)
BinaryOp = Callable[
    [Shaped[Array, "*shape"], Shaped[Array, "*shape"]], Shaped[Array, "*shape"]
]
BlockReduction = Callable[[Shaped[Array, "n"]], Shaped[Array, ""]]


def _as_scalar(init: Any) -> int | float:
    """A Python scalar, so that ``init`` can be a static (hashable) field."""
    value = np.asarray(init)
    if value.shape != ():
        raise ValueError(f"Pool: `init` must be a scalar, got shape {value.shape}")
    scalar: int | float = value.item()
    return scalar


def _init_value(init: int | float, dtype: Any) -> np.ndarray[Any, Any]:
    """``init`` as a scalar of ``dtype``; infinities become the integer extremes for
    integer inputs (so max pooling of integers works, and lax still recognises the
    identity of ``max`` and picks its differentiable reduction)."""
    if jnp.issubdtype(dtype, jnp.integer) and math.isinf(init):
        info = np.iinfo(dtype)
        return np.asarray(info.min if init < 0 else info.max, dtype)
    return np.asarray(init, dtype)


def _ceil_extra(size: int, pad: tuple[int, int], kernel: int, stride: int) -> int:
    """Extra padding at the end for ``use_ceil``: PyTorch's ``ceil_mode`` rule (a last,
    partial window is kept only if it starts inside the input or the leading padding)."""
    lo, hi = pad
    span = size + lo + hi - kernel
    out = -(-span // stride) + 1
    if (out - 1) * stride >= size + lo:
        out -= 1
    return max((out - 1) * stride + kernel - (size + lo + hi), 0)


class Pool(Module, strict=True):
    """Reduce sliding windows of a channels-first input ``(channels, *spatial)``.

    **Arguments:**

    - ``init``: the starting value of each window's reduction, and the value padding
      stands for. For ``Pool`` to be differentiable it should be the identity of
      ``operation`` (``-inf`` for ``max``, ``0`` for ``add``).
    - ``operation``: a binary, associative reduction, e.g. ``jax.lax.max``.
    - ``num_spatial_dims``: the number of spatial dimensions.
    - ``kernel_size``: the window size (int, or one per spatial dimension).
    - ``stride``: the step between windows (int or per dimension; default 1).
    - ``padding``: an int, one int per dimension, or one ``(lo, hi)`` pair per
      dimension; each must be smaller than the kernel.
    - ``use_ceil``: round the number of windows up rather than down, adding padding at
      the end (PyTorch's ``ceil_mode``: a window starting in the end padding is dropped).

    ```python
    pool = eqx.nn.Pool(-jnp.inf, jax.lax.max, 2, kernel_size=2, stride=2)
    pool(jnp.ones((3, 8, 8))).shape  # (3, 4, 4)
    ```
    """

    init: int | float = field(static=True)
    operation: BinaryOp = field(static=True)
    num_spatial_dims: int = field(static=True)
    kernel_size: tuple[int, ...] = field(static=True)
    stride: tuple[int, ...] = field(static=True)
    padding: PaddingPairs = field(static=True)
    use_ceil: bool = field(static=True)

    def __init__(
        self,
        init: int | float | Array,
        operation: BinaryOp,
        num_spatial_dims: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] | Sequence[tuple[int, int]] = 0,
        use_ceil: bool = False,
    ) -> None:
        n = num_spatial_dims
        self.init = _as_scalar(init)
        self.operation = operation
        self.num_spatial_dims = n
        self.kernel_size = as_tuple(kernel_size, n, "kernel_size")
        self.stride = as_tuple(stride, n, "stride")
        check_sizes(type(self).__qualname__, "kernel_size", self.kernel_size, at_least=1)
        check_sizes(type(self).__qualname__, "stride", self.stride, at_least=1)
        pairs = as_padding(padding, n, allow_strings=False)
        assert not isinstance(pairs, str)
        for (lo, hi), k in zip(pairs, self.kernel_size, strict=True):
            if not (0 <= lo < k and 0 <= hi < k):
                raise ValueError(
                    f"{type(self).__qualname__}: each padding must be in [0, kernel size); "
                    f"got padding={padding!r} for kernel_size={self.kernel_size}"
                )
        self.padding = pairs
        self.use_ceil = use_ceil

    @checked_call
    def __call__(
        self, x: Shaped[Array, "channels *spatial"], *, key: PRNGKeyArray | None = None
    ) -> Shaped[Array, "channels *out_spatial"]:
        """Pool ``x`` of shape ``(channels, *spatial)``; ``key`` is ignored."""
        return _reduce_windows(self, x)


def _reduce_windows(pool: Pool, x: Array) -> Array:
    check_rank(pool, x, pool.num_spatial_dims)
    pairs = pool.padding
    if pool.use_ceil:
        pairs = tuple(
            (lo, hi + _ceil_extra(size, (lo, hi), k, s))
            for size, (lo, hi), k, s in zip(
                x.shape[1:], pairs, pool.kernel_size, pool.stride, strict=True
            )
        )
    out: Array = reduce_window(
        x,
        _init_value(pool.init, x.dtype),
        pool.operation,
        (1, *pool.kernel_size),
        (1, *pool.stride),
        ((0, 0), *pairs),
    )
    return out


class _FixedPool(Pool):
    """A :class:`Pool` whose reduction and dimensionality are fixed by the subclass."""

    _spatial_dims: ClassVar[int]

    @staticmethod
    def _monoid() -> tuple[float, BinaryOp]:
        """The ``(init, operation)`` of the reduction."""
        raise NotImplementedError

    def __init__(
        self,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: int | Sequence[int] | Sequence[tuple[int, int]] = 0,
        use_ceil: bool = False,
    ) -> None:
        init, operation = self._monoid()
        super().__init__(
            init, operation, self._spatial_dims, kernel_size, stride, padding, use_ceil
        )


class _MaxPool(_FixedPool):
    """Maximum over each window; padding never wins (it stands for ``-inf``)."""

    @staticmethod
    def _monoid() -> tuple[float, BinaryOp]:
        return -math.inf, lax.max


class _AvgPool(_FixedPool):
    """Mean over each window. Like Equinox, the divisor is always ``prod(kernel_size)``:
    padding counts as zeros (PyTorch's ``count_include_pad=True``), including the extra
    end padding of ``use_ceil``."""

    @staticmethod
    def _monoid() -> tuple[float, BinaryOp]:
        return 0.0, lax.add

    @checked_call
    def __call__(
        self, x: Shaped[Array, "channels *spatial"], *, key: PRNGKeyArray | None = None
    ) -> Shaped[Array, "channels *out_spatial"]:
        """Average-pool ``x`` of shape ``(channels, *spatial)``; ``key`` is ignored."""
        return _reduce_windows(self, x) / math.prod(self.kernel_size)


class MaxPool1d(_MaxPool, strict=True):
    """Max pooling over ``(channels, length)``: ``MaxPool1d(kernel_size, stride=1,
    padding=0, use_ceil=False)``; see :class:`Pool`."""

    _spatial_dims = 1


class MaxPool2d(_MaxPool, strict=True):
    """Max pooling over ``(channels, height, width)``; see :class:`MaxPool1d`."""

    _spatial_dims = 2


class MaxPool3d(_MaxPool, strict=True):
    """Max pooling over ``(channels, depth, height, width)``; see :class:`MaxPool1d`."""

    _spatial_dims = 3


class AvgPool1d(_AvgPool, strict=True):
    """Average pooling over ``(channels, length)``: ``AvgPool1d(kernel_size, stride=1,
    padding=0, use_ceil=False)``; padding counts as zeros in the mean."""

    _spatial_dims = 1


class AvgPool2d(_AvgPool, strict=True):
    """Average pooling over ``(channels, height, width)``; see :class:`AvgPool1d`."""

    _spatial_dims = 2


class AvgPool3d(_AvgPool, strict=True):
    """Average pooling over ``(channels, depth, height, width)``; see
    :class:`AvgPool1d`."""

    _spatial_dims = 3


# ---------------------------------------------------------------------------------------
# Adaptive pooling.


def _adaptive_axis(
    x: Array, axis: int, target: int, reduce: BlockReduction
) -> Array:
    """Reduce ``axis`` of ``x`` to length ``target`` with contiguous, non-overlapping
    blocks: the first ``size % target`` blocks one longer than the others."""
    size = x.shape[axis]
    short, longer = divmod(size, target)
    x = jnp.moveaxis(x, axis, -1)
    batch = x.shape[:-1]
    split = longer * (short + 1)
    blocks = [
        x[..., :split].reshape(*batch, longer, short + 1),
        x[..., split:].reshape(*batch, target - longer, short),
    ]
    out = jnp.concatenate([reduce(b) for b in blocks if b.shape[-2]], axis=-1)
    return jnp.moveaxis(out, -1, axis)


class AdaptivePool(Module, strict=True):
    """Pool ``(channels, *spatial)`` down to ``(channels, *target_shape)``.

    Each spatial dimension of length ``n`` is cut into ``t`` contiguous, non-overlapping
    blocks (the first ``n % t`` of length ``n // t + 1``, the rest ``n // t``), and
    ``operation`` reduces each block, one dimension at a time. When ``t`` divides ``n``
    this is PyTorch's adaptive pooling; otherwise PyTorch's windows overlap and these,
    like Equinox's, do not.

    **Arguments:**

    - ``target_shape``: the output's spatial shape (int, or one per dimension); each
      must be at most the input's length along that dimension.
    - ``num_spatial_dims``: the number of spatial dimensions.
    - ``operation``: reduces a 1-D array to a scalar, e.g. ``jnp.mean`` or ``jnp.max``.

    ```python
    pool = eqx.nn.AdaptivePool((2, 2), 2, jnp.max)
    pool(jnp.ones((3, 7, 8))).shape  # (3, 2, 2)
    ```
    """

    target_shape: tuple[int, ...] = field(static=True)
    operation: BlockReduction = field(static=True)

    def __init__(
        self,
        target_shape: int | Sequence[int],
        num_spatial_dims: int,
        operation: BlockReduction,
    ) -> None:
        self.target_shape = as_tuple(target_shape, num_spatial_dims, "target_shape")
        check_sizes(type(self).__qualname__, "target_shape", self.target_shape, at_least=1)
        self.operation = operation

    @checked_call
    def __call__(
        self, x: Shaped[Array, "channels *spatial"], *, key: PRNGKeyArray | None = None
    ) -> Shaped[Array, "channels *out_spatial"]:
        """Pool ``x`` of shape ``(channels, *spatial)``; ``key`` is ignored."""
        check_rank(self, x, len(self.target_shape))
        if any(t > n for t, n in zip(self.target_shape, x.shape[1:], strict=True)):
            raise ValueError(
                f"{type(self).__qualname__}: target_shape {self.target_shape} is larger "
                f"than the input's spatial shape {tuple(x.shape[1:])}"
            )
        # Applies the 1-D reduction to the last axis, batched over the others.
        reduce = cast(
            BlockReduction,
            vectorize(self.operation, signature="(n)->()"),
        )
        for axis, target in enumerate(self.target_shape, start=1):
            x = _adaptive_axis(x, axis, target, reduce)
        return x


class _FixedAdaptivePool(AdaptivePool):
    """An :class:`AdaptivePool` whose reduction and dimensionality are fixed."""

    _spatial_dims: ClassVar[int]

    @staticmethod
    def _reduction() -> BlockReduction:
        raise NotImplementedError

    def __init__(self, target_shape: int | Sequence[int]) -> None:
        super().__init__(target_shape, self._spatial_dims, self._reduction())


class _AdaptiveAvgPool(_FixedAdaptivePool):
    @staticmethod
    def _reduction() -> BlockReduction:
        return jnp.mean


class _AdaptiveMaxPool(_FixedAdaptivePool):
    @staticmethod
    def _reduction() -> BlockReduction:
        return jnp.max


class AdaptiveAvgPool1d(_AdaptiveAvgPool, strict=True):
    """Average-pool ``(channels, length)`` to ``(channels, target_shape)``; see
    :class:`AdaptivePool`."""

    _spatial_dims = 1


class AdaptiveAvgPool2d(_AdaptiveAvgPool, strict=True):
    """Average-pool ``(channels, H, W)`` to ``(channels, *target_shape)``."""

    _spatial_dims = 2


class AdaptiveAvgPool3d(_AdaptiveAvgPool, strict=True):
    """Average-pool ``(channels, D, H, W)`` to ``(channels, *target_shape)``."""

    _spatial_dims = 3


class AdaptiveMaxPool1d(_AdaptiveMaxPool, strict=True):
    """Max-pool ``(channels, length)`` to ``(channels, target_shape)``; see
    :class:`AdaptivePool`."""

    _spatial_dims = 1


class AdaptiveMaxPool2d(_AdaptiveMaxPool, strict=True):
    """Max-pool ``(channels, H, W)`` to ``(channels, *target_shape)``."""

    _spatial_dims = 2


class AdaptiveMaxPool3d(_AdaptiveMaxPool, strict=True):
    """Max-pool ``(channels, D, H, W)`` to ``(channels, *target_shape)``."""

    _spatial_dims = 3
