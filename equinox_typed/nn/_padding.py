"""Spatial hyperparameters shared by convolutions and pools: normalising per-dimension
sizes, turning padding specifications into explicit ``(lo, hi)`` pairs, and checking
that an input is channels-first with the layer's number of spatial dimensions.

Layers store their hyperparameters in normal form (a tuple per spatial dimension, or a
padding string), and resolve string paddings against the input's spatial shape when
called, since ``"SAME"`` padding depends on the input size when ``stride > 1``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Literal, TypeAlias, cast

from jaxtyping import Array, Shaped

from .._jax_typed import pad

__all__ = [
    "PaddingLike",
    "PaddingMode",
    "PaddingPairs",
    "PaddingSpec",
    "as_padding",
    "as_tuple",
    "check_rank",
    "pad_spatial",
    "resolve_padding",
    "same_padding",
]

PaddingPairs: TypeAlias = tuple[tuple[int, int], ...]
PaddingSpec: TypeAlias = str | PaddingPairs
PaddingLike: TypeAlias = str | int | Sequence[int] | Sequence[tuple[int, int]]
PaddingMode: TypeAlias = Literal["ZEROS", "REFLECT", "REPLICATE", "CIRCULAR"]

PADDING_STRINGS: Final = ("SAME", "SAME_LOWER", "VALID")
PADDING_MODES: Final = ("ZEROS", "REFLECT", "REPLICATE", "CIRCULAR")
# The corresponding `jnp.pad` modes ("ZEROS" pads inside the convolution instead).
_JNP_PAD_MODES: Final = {"REFLECT": "reflect", "REPLICATE": "edge", "CIRCULAR": "wrap"}


def as_tuple(value: int | Sequence[int], n: int, name: str) -> tuple[int, ...]:
    """One int per spatial dimension: ``value`` repeated ``n`` times if it is an int.

    **Arguments:**

    - ``value``: an int, or a sequence of ``n`` ints.
    - ``n``: the number of spatial dimensions.
    - ``name``: the argument's name, for the error message.

    ```python
    as_tuple(3, 2, "kernel_size")       # (3, 3)
    as_tuple([3, 5], 2, "kernel_size")  # (3, 5)
    ```
    """
    if isinstance(value, int):
        return (value,) * n
    result = tuple(value)
    if len(result) != n or not all(isinstance(v, int) for v in result):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise ValueError(f"`{name}` must be an int or a sequence of {n} ints, got {value!r}")
    return result


def check_rank(layer: object, x: Array, num_spatial_dims: int) -> None:
    """Refuse an input that is not ``(channels, *spatial)`` with ``num_spatial_dims``
    spatial dimensions; ``layer`` is named in the error.

    ```python
    check_rank(conv2d, jnp.zeros((3, 8, 8)), 2)  # fine
    check_rank(conv2d, jnp.zeros((8, 8)), 2)     # ValueError: ... rank 3 ...
    ```
    """
    # Shapes are static, so this also runs (once) while tracing: a wrong rank can never
    # be right, and lax would otherwise fail with an error about dimension numbers.
    if x.ndim != num_spatial_dims + 1:
        raise ValueError(
            f"{type(layer).__qualname__}: the input must have shape (channels, "
            f"{num_spatial_dims} spatial dims) -- rank {num_spatial_dims + 1} -- "
            f"but it has shape {tuple(x.shape)}"
        )


def as_padding(padding: PaddingLike, n: int, *, allow_strings: bool = True) -> PaddingSpec:
    """Normal form of a padding argument: a padding string, or one ``(lo, hi)`` per dim.

    **Arguments:**

    - ``padding``: an int (same on both sides of every dimension), a sequence of ``n``
      ints (same on both sides of each dimension), a sequence of ``n`` ``(lo, hi)``
      pairs, or one of ``"SAME"``, ``"SAME_LOWER"``, ``"VALID"`` (case-insensitive).
    - ``n``: the number of spatial dimensions.
    - ``allow_strings``: whether padding strings are accepted (pools refuse them).

    ```python
    as_padding(1, 2)                 # ((1, 1), (1, 1))
    as_padding([(0, 1), (2, 0)], 2)  # ((0, 1), (2, 0))
    as_padding("same", 2)            # "SAME"
    ```
    """
    if isinstance(padding, str):
        upper = padding.upper()
        if not allow_strings or upper not in PADDING_STRINGS:
            allowed = f"one of {PADDING_STRINGS}, " if allow_strings else ""
            raise ValueError(
                f"`padding` must be {allowed}an int, a sequence of {n} ints, or a "
                f"sequence of {n} (lo, hi) pairs; got {padding!r}"
            )
        return upper
    if isinstance(padding, int):
        return ((padding, padding),) * n
    items = tuple(padding)
    if len(items) == n and all(isinstance(p, int) for p in items):
        return tuple((p, p) for p in items)  # type: ignore[misc]
    if len(items) == n and all(_is_pair(p) for p in items):
        return tuple((int(p[0]), int(p[1])) for p in items)  # type: ignore[index]
    raise ValueError(
        f"`padding` must be an int, a sequence of {n} ints or a sequence of {n} "
        f"(lo, hi) pairs, got {padding!r}"
    )


def _is_pair(value: object) -> bool:
    if not isinstance(value, Sequence) or isinstance(value, str):
        return False
    items = tuple(cast("Sequence[object]", value))
    return len(items) == 2 and all(isinstance(v, int) for v in items)


def same_padding(
    size: int, kernel: int, stride: int, dilation: int, *, lower: bool
) -> tuple[int, int]:
    """The ``(lo, hi)`` padding that makes a convolution's output ``ceil(size / stride)``.

    **Arguments:**

    - ``size``: the input's length along this dimension.
    - ``kernel``, ``stride``, ``dilation``: the convolution's along this dimension.
    - ``lower``: put the odd unit of padding at the start (``"SAME_LOWER"``) instead of
      the end (``"SAME"``).

    ```python
    same_padding(5, 4, 1, 1, lower=False)  # (1, 2)
    same_padding(5, 4, 1, 1, lower=True)   # (2, 1)
    ```
    """
    out = -(-size // stride)
    span = (kernel - 1) * dilation + 1
    total = max((out - 1) * stride + span - size, 0)
    small, large = total // 2, total - total // 2
    return (large, small) if lower else (small, large)


def resolve_padding(
    padding: PaddingSpec,
    spatial_shape: Sequence[int],
    kernel_size: Sequence[int],
    stride: Sequence[int],
    dilation: Sequence[int],
) -> PaddingPairs:
    """Explicit ``(lo, hi)`` pairs for a stored padding and an input's spatial shape.

    ```python
    resolve_padding("SAME", (7,), (3,), (2,), (1,))  # ((1, 1),)
    resolve_padding("VALID", (7,), (3,), (2,), (1,))  # ((0, 0),)
    ```
    """
    if not isinstance(padding, str):
        return padding
    if padding == "VALID":
        return ((0, 0),) * len(spatial_shape)
    lower = padding == "SAME_LOWER"
    return tuple(
        same_padding(n, k, s, d, lower=lower)
        for n, k, s, d in zip(spatial_shape, kernel_size, stride, dilation, strict=True)
    )


def pad_spatial(
    x: Shaped[Array, "channels *spatial"], pairs: PaddingPairs, mode: str
) -> Shaped[Array, "channels *padded"]:
    """Pad the spatial dimensions of a channels-first array with a non-zero padding mode.

    **Arguments:**

    - ``x``: an array of shape ``(channels, *spatial)``.
    - ``pairs``: one ``(lo, hi)`` per spatial dimension.
    - ``mode``: ``"REFLECT"`` (``1234 -> 32123432``), ``"REPLICATE"``
      (``1234 -> 11123444``) or ``"CIRCULAR"`` (``1234 -> 34123412``).
    """
    mode_name = _JNP_PAD_MODES[mode]
    return pad(x, ((0, 0), *pairs), mode=mode_name)
