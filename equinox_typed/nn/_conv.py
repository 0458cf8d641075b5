"""N-dimensional convolutions and transposed convolutions, channels-first, one example.

``Conv`` and ``ConvTranspose`` take ``num_spatial_dims``; ``Conv1d``/``Conv2d``/``Conv3d``
and ``ConvTranspose1d``/``2d``/``3d`` only fix it. Weights use the layout
``(out_channels, in_channels // groups, *kernel_size)`` for both (as Equinox does), and
the bias has shape ``(out_channels, 1, ..., 1)`` so that it broadcasts over the output.
"""

from __future__ import annotations

import abc
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import jax.lax as lax
import jax.random as jr
from jaxtyping import Array, Inexact, PRNGKeyArray

from .._call_checks import checked_call
from .._jax_typed import pad as jax_pad
from .._module import Module, field
from ._init import fan_in_limit, resolve_dtype, uniform_init
from ._sizes import check_size, check_sizes
from ._padding import (
    PADDING_MODES,
    PaddingLike,
    PaddingPairs,
    PaddingSpec,
    as_padding,
    as_tuple,
    check_rank,
    pad_spatial,
    resolve_padding,
    same_padding,
)

__all__ = [
    "Conv",
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvTranspose",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ConvTranspose3d",
]


# ---------------------------------------------------------------------------------------
# Construction shared by Conv and ConvTranspose.


def _check_channels(in_channels: int, out_channels: int, groups: int) -> None:
    if groups < 1 or in_channels % groups or out_channels % groups:
        raise ValueError(
            f"`groups`={groups} must be a positive divisor of both in_channels="
            f"{in_channels} and out_channels={out_channels}"
        )


def _check_padding_mode(padding_mode: str, allowed: Sequence[str]) -> str:
    mode = padding_mode.upper()
    if mode not in PADDING_MODES:
        raise ValueError(f"`padding_mode` must be one of {PADDING_MODES}, got {padding_mode!r}")
    if mode not in allowed:
        raise NotImplementedError(
            f"padding_mode={padding_mode!r} is not supported here; use one of {tuple(allowed)}"
        )
    return mode


class _AbstractConv(Module, strict=True):
    """The fields, construction and parameters that :class:`Conv` and
    :class:`ConvTranspose` share; each subclass adds its own ``__call__``.

    The settings after ``padding`` (``dilation``, ``groups``, ``use_bias``,
    ``padding_mode``) are declared as fields by each subclass, not here: ``ConvTranspose``
    puts ``output_padding`` before them, and the field order is what reprs show (Equinox's
    order). Here they are only declared for the checkers, so that ``_init_common`` may
    assign them.
    """

    num_spatial_dims: int = field(static=True)
    weight: Inexact[Array, "out_channels in_channels//groups *kernel_size"]
    # `#` because the bias is (out_channels, 1, ..., 1): one 1 per kernel dimension.
    bias: Inexact[Array, "out_channels *#kernel_size"] | None
    in_channels: int = field(static=True)
    out_channels: int = field(static=True)
    kernel_size: tuple[int, ...] = field(static=True)
    stride: tuple[int, ...] = field(static=True)
    padding: PaddingSpec = field(static=True)
    if TYPE_CHECKING:
        dilation: tuple[int, ...]
        groups: int
        use_bias: bool
        padding_mode: str

    def _init_common(
        self,
        num_spatial_dims: int,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int],
        padding: PaddingLike,
        dilation: int | Sequence[int],
        groups: int,
        use_bias: bool,
        padding_mode: str,
        padding_modes: Sequence[str],
    ) -> None:
        """Validate the shared constructor arguments and store them in normal form (one
        int per spatial dimension, explicit or string padding, upper-case padding mode);
        ``padding_modes`` are the modes this layer supports."""
        n = num_spatial_dims
        owner = type(self).__qualname__
        check_size(owner, "num_spatial_dims", n)
        check_size(owner, "in_channels", in_channels)
        check_size(owner, "out_channels", out_channels)
        _check_channels(in_channels, out_channels, groups)
        self.num_spatial_dims = n
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = as_tuple(kernel_size, n, "kernel_size")
        self.stride = as_tuple(stride, n, "stride")
        self.padding = as_padding(padding, n)
        self.dilation = as_tuple(dilation, n, "dilation")
        # Zero-sized windows and steps make no layer (XLA refuses them at call time).
        for name in ("kernel_size", "stride", "dilation"):
            check_sizes(owner, name, getattr(self, name), at_least=1)
        self.groups = groups
        self.use_bias = use_bias
        self.padding_mode = _check_padding_mode(padding_mode, padding_modes)

    def _init_parameters(self, dtype: Any, key: PRNGKeyArray) -> None:
        """Weight ``(out, in // groups, *kernel)`` and bias ``(out, 1, ..., 1)`` (or None),
        uniform on ``±1/sqrt(fan_in)`` with ``fan_in = in // groups * prod(kernel)``.
        Call it after ``_init_common``."""
        dtype = resolve_dtype(dtype)
        lim = fan_in_limit(self.in_channels // self.groups * math.prod(self.kernel_size))
        wkey, bkey = jr.split(key)
        shape = (self.out_channels, self.in_channels // self.groups, *self.kernel_size)
        self.weight = uniform_init(wkey, shape, dtype, lim)
        bias_shape = (self.out_channels,) + (1,) * len(self.kernel_size)
        self.bias = uniform_init(bkey, bias_shape, dtype, lim) if self.use_bias else None

    @abc.abstractmethod
    def __call__(
        self,
        x: Inexact[Array, "in_channels *spatial"],
        *,
        key: PRNGKeyArray | None = None,
    ) -> Inexact[Array, "out_channels *out_spatial"]:
        """Apply the layer to ``x`` of shape ``(in_channels, *spatial)``."""


# ---------------------------------------------------------------------------------------
# Convolution.


class Conv(_AbstractConv, strict=True):
    """An N-dimensional convolution over a channels-first input ``(in_channels, *spatial)``.

    **Arguments:**

    - ``num_spatial_dims``: the number of spatial dimensions (2 for images).
    - ``in_channels``, ``out_channels``: the numbers of input and output channels.
    - ``kernel_size``: the size of the kernel: an int, or one int per spatial dimension.
    - ``stride``: the step between applications of the kernel (int or per-dimension).
    - ``padding``: an int, one int per dimension, one ``(lo, hi)`` pair per dimension,
      ``"VALID"`` (no padding), ``"SAME"`` / ``"SAME_LOWER"`` (pad so that the output is
      ``ceil(size / stride)`` long, the odd unit at the end / start).
    - ``dilation``: the spacing between kernel elements (int or per-dimension).
    - ``groups``: split the channels into this many independent groups; it must divide
      both ``in_channels`` and ``out_channels``.
    - ``use_bias``: whether to add a learnt bias to the output.
    - ``padding_mode``: the values padded with: ``"ZEROS"`` (``1234 -> 00123400``),
      ``"REFLECT"`` (``32123432``), ``"REPLICATE"`` (``11123444``) or ``"CIRCULAR"``
      (``34123412``).
    - ``dtype``: the dtype of the parameters (default float32, or float64 in x64 mode).
    - ``key``: a PRNG key for the initialisation (keyword only). Parameters are uniform
      on ``±1/sqrt(in_channels // groups * prod(kernel_size))``, as in PyTorch.

    ```python
    conv = eqx.nn.Conv(2, 3, 8, kernel_size=3, padding="SAME", key=jax.random.key(0))
    conv(jnp.ones((3, 32, 32))).shape  # (8, 32, 32)
    ```
    """

    dilation: tuple[int, ...] = field(static=True)
    groups: int = field(static=True)
    use_bias: bool = field(static=True)
    padding_mode: str = field(static=True)

    def __init__(
        self,
        num_spatial_dims: int,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: PaddingLike = 0,
        dilation: int | Sequence[int] = 1,
        groups: int = 1,
        use_bias: bool = True,
        padding_mode: str = "ZEROS",
        dtype: Any = None,
        *,
        key: PRNGKeyArray,
    ) -> None:
        self._init_common(
            num_spatial_dims,
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            use_bias,
            padding_mode,
            PADDING_MODES,
        )
        self._init_parameters(dtype, key)

    @checked_call
    def __call__(
        self,
        x: Inexact[Array, "in_channels *spatial"],
        *,
        key: PRNGKeyArray | None = None,
    ) -> Inexact[Array, "out_channels *out_spatial"]:
        """Convolve ``x`` of shape ``(in_channels, *spatial)``; ``key`` is ignored."""
        check_rank(self, x, self.num_spatial_dims)
        pairs = resolve_padding(
            self.padding, x.shape[1:], self.kernel_size, self.stride, self.dilation
        )
        if self.padding_mode != "ZEROS":
            x = pad_spatial(x, pairs, self.padding_mode)
            pairs = ((0, 0),) * self.num_spatial_dims
        y = lax.conv_general_dilated(
            x[None],
            self.weight,
            window_strides=self.stride,
            padding=pairs,
            rhs_dilation=self.dilation,
            feature_group_count=self.groups,
        )[0]
        return y if self.bias is None else y + self.bias


class _FixedDimsConv(Conv):
    """``Conv`` with ``num_spatial_dims`` fixed by the subclass."""

    _spatial_dims: ClassVar[int]

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: PaddingLike = 0,
        dilation: int | Sequence[int] = 1,
        groups: int = 1,
        use_bias: bool = True,
        padding_mode: str = "ZEROS",
        dtype: Any = None,
        *,
        key: PRNGKeyArray,
    ) -> None:
        super().__init__(
            self._spatial_dims,
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            use_bias,
            padding_mode,
            dtype,
            key=key,
        )


class Conv1d(_FixedDimsConv, strict=True):
    """:class:`Conv` with one spatial dimension: input ``(in_channels, length)``."""

    _spatial_dims = 1


class Conv2d(_FixedDimsConv, strict=True):
    """:class:`Conv` with two spatial dimensions: input ``(in_channels, height, width)``."""

    _spatial_dims = 2


class Conv3d(_FixedDimsConv, strict=True):
    """:class:`Conv` with three spatial dimensions: input ``(in_channels, D, H, W)``."""

    _spatial_dims = 3


# ---------------------------------------------------------------------------------------
# Transposed convolution.


def _transpose_padding(
    padding: str | tuple[int, int],
    in_size: int,
    kernel: int,
    stride: int,
    dilation: int,
    output_padding: int,
) -> tuple[tuple[int, int], tuple[int, int]]:
    """For one spatial dimension: the padding ``(lo, hi)`` of the equivalent forward
    convolution, and the padding of the dilated input that computes the transpose."""
    span = (kernel - 1) * dilation + 1
    if padding in ("SAME", "SAME_LOWER"):
        # The forward convolution had `in_size * stride - output_padding` inputs.
        forward_size = in_size * stride - output_padding
        lo, hi = same_padding(forward_size, kernel, stride, dilation, lower=padding == "SAME_LOWER")
        extra = forward_size + lo + hi - ((in_size - 1) * stride + span)
    else:
        lo, hi = (0, 0) if isinstance(padding, str) else padding
        extra = output_padding
    return (lo, hi), (span - 1 - lo, span - 1 - hi + extra)


def _per_dim(padding: PaddingSpec, n: int) -> tuple[str | tuple[int, int], ...]:
    return (padding,) * n if isinstance(padding, str) else padding


def _fold_circular(y: Array, axis: int, lo: int, hi: int) -> Array:
    """Adjoint of circular padding along ``axis``: add the padded margins of ``y`` back
    onto the opposite ends of its interior."""
    n = y.shape[axis] - lo - hi
    interior = lax.slice_in_dim(y, lo, lo + n, axis=axis)
    if lo:
        before = lax.slice_in_dim(y, 0, lo, axis=axis)
        pad = [(0, 0)] * y.ndim
        pad[axis] = (n - lo, 0)
        interior = interior + jax_pad(before, pad)
    if hi:
        after = lax.slice_in_dim(y, lo + n, lo + n + hi, axis=axis)
        pad = [(0, 0)] * y.ndim
        pad[axis] = (0, n - hi)
        interior = interior + jax_pad(after, pad)
    return interior


class ConvTranspose(_AbstractConv, strict=True):
    """An N-dimensional transposed convolution over ``(in_channels, *spatial)``.

    It has the connectivity of a :class:`Conv` with the same ``kernel_size``, ``stride``,
    ``padding``, ``dilation`` and ``groups`` but ``in_channels``/``out_channels``
    swapped, run backwards: it maps that convolution's output shape to its input shape.
    With explicit padding the output length is
    ``(n - 1) * stride - lo - hi + dilation * (kernel - 1) + 1 + output_padding``
    (PyTorch's rule); with ``"SAME"``/``"SAME_LOWER"`` it is
    ``n * stride - output_padding``.

    **Arguments:** as :class:`Conv`, plus

    - ``output_padding``: resolves the ambiguity of ``stride > 1`` (several input sizes of
      the forward convolution give the same output size): extra length at the end of
      each dimension, or with ``"SAME"`` paddings, length taken off.
    - ``padding_mode``: ``"ZEROS"``, or ``"CIRCULAR"`` (the exact transpose of a circular
      convolution; only with ``"SAME"``/``"SAME_LOWER"`` padding and
      ``output_padding=0``).

    The weight has shape ``(out_channels, in_channels // groups, *kernel_size)``: it is
    the kernel of a forward convolution over the stride-dilated input, as in Equinox, so
    Equinox weights load unchanged. (PyTorch's ``(in, out // groups, *kernel)`` weight
    ``w`` corresponds to this layout transposed per group and flipped spatially.)

    ```python
    up = eqx.nn.ConvTranspose(2, 8, 3, kernel_size=4, stride=2, padding=1,
                              key=jax.random.key(0))
    up(jnp.ones((8, 16, 16))).shape  # (3, 32, 32)
    ```
    """

    output_padding: tuple[int, ...] = field(static=True)
    dilation: tuple[int, ...] = field(static=True)
    groups: int = field(static=True)
    use_bias: bool = field(static=True)
    padding_mode: str = field(static=True)

    def __init__(
        self,
        num_spatial_dims: int,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        padding: PaddingLike = 0,
        output_padding: int | Sequence[int] = 0,
        dilation: int | Sequence[int] = 1,
        groups: int = 1,
        use_bias: bool = True,
        padding_mode: str = "ZEROS",
        dtype: Any = None,
        *,
        key: PRNGKeyArray,
    ) -> None:
        self._init_common(
            num_spatial_dims,
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            dilation,
            groups,
            use_bias,
            padding_mode,
            ("ZEROS", "CIRCULAR"),
        )
        self.output_padding = as_tuple(output_padding, num_spatial_dims, "output_padding")
        if self.padding_mode == "CIRCULAR" and (
            self.padding not in ("SAME", "SAME_LOWER") or any(self.output_padding)
        ):
            raise NotImplementedError(
                "ConvTranspose: padding_mode='CIRCULAR' needs padding='SAME' or "
                f"'SAME_LOWER' and output_padding=0, got padding={padding!r}, "
                f"output_padding={output_padding!r}"
            )
        self._init_parameters(dtype, key)

    @checked_call
    def __call__(
        self,
        x: Inexact[Array, "in_channels *spatial"],
        *,
        key: PRNGKeyArray | None = None,
    ) -> Inexact[Array, "out_channels *out_spatial"]:
        """Transposed-convolve ``x`` of shape ``(in_channels, *spatial)``; ``key`` is
        ignored."""
        n = self.num_spatial_dims
        check_rank(self, x, n)
        paddings = [
            _transpose_padding(p, size, k, s, d, op)
            for p, size, k, s, d, op in zip(
                _per_dim(self.padding, n),
                x.shape[1:],
                self.kernel_size,
                self.stride,
                self.dilation,
                self.output_padding,
                strict=True,
            )
        ]
        circular = self.padding_mode == "CIRCULAR"
        # For circular padding compute the full (uncropped) transpose, then fold the
        # margins that correspond to wrapped-around inputs back onto the interior.
        conv_pads: PaddingPairs = tuple(
            (inner[0] + fwd[0], inner[1] + fwd[1]) if circular else inner
            for fwd, inner in paddings
        )
        y = lax.conv_general_dilated(
            x[None],
            self.weight,
            window_strides=(1,) * n,
            padding=conv_pads,
            lhs_dilation=self.stride,
            rhs_dilation=self.dilation,
            feature_group_count=self.groups,
        )[0]
        if circular:
            for axis, ((lo, hi), _) in enumerate(paddings, start=1):
                y = _fold_circular(y, axis, lo, hi)
        return y if self.bias is None else y + self.bias


class _FixedDimsConvTranspose(ConvTranspose):
    """``ConvTranspose`` with ``num_spatial_dims`` fixed by the subclass.

    Positionally, ``output_padding`` comes before ``padding`` here (as in Equinox's
    ``ConvTranspose1d/2d/3d``), unlike in :class:`ConvTranspose`.
    """

    _spatial_dims: ClassVar[int]

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | Sequence[int],
        stride: int | Sequence[int] = 1,
        output_padding: int | Sequence[int] = 0,
        padding: PaddingLike = 0,
        dilation: int | Sequence[int] = 1,
        groups: int = 1,
        use_bias: bool = True,
        padding_mode: str = "ZEROS",
        dtype: Any = None,
        *,
        key: PRNGKeyArray,
    ) -> None:
        super().__init__(
            self._spatial_dims,
            in_channels,
            out_channels,
            kernel_size,
            stride,
            padding,
            output_padding,
            dilation,
            groups,
            use_bias,
            padding_mode,
            dtype,
            key=key,
        )


class ConvTranspose1d(_FixedDimsConvTranspose, strict=True):
    """:class:`ConvTranspose` with one spatial dimension."""

    _spatial_dims = 1


class ConvTranspose2d(_FixedDimsConvTranspose, strict=True):
    """:class:`ConvTranspose` with two spatial dimensions."""

    _spatial_dims = 2


class ConvTranspose3d(_FixedDimsConvTranspose, strict=True):
    """:class:`ConvTranspose` with three spatial dimensions."""

    _spatial_dims = 3
