"""PyTorch-style parameter initialisation shared by the layers in ``equinox_typed.nn``.

PyTorch initialises most weights and biases of a layer with ``fan_in`` inputs per output
uniformly on ``[-1/sqrt(fan_in), 1/sqrt(fan_in)]``; the layers here do the same so that
a model built with either library starts from the same distribution.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
from jaxtyping import Array, Inexact, PRNGKeyArray

__all__ = ["default_float_dtype", "fan_in_limit", "resolve_dtype", "uniform_init"]


def default_float_dtype() -> Any:
    """The floating dtype layers use when given ``dtype=None``.

    ``float64`` when JAX's 64-bit mode (``jax_enable_x64``) is on, else ``float32``.
    """
    # canonicalize_dtype maps float64 to float32 unless x64 mode is on.
    return jax.dtypes.canonicalize_dtype(jnp.float64)


def resolve_dtype(dtype: Any) -> Any:
    """``dtype`` itself, or :func:`default_float_dtype` when ``dtype`` is None."""
    return default_float_dtype() if dtype is None else dtype


def fan_in_limit(fan_in: int) -> float:
    """``1/sqrt(fan_in)``: the bound of PyTorch's default uniform initialisation.

    A ``fan_in`` of zero (a layer with no inputs) gives a bound of ``1.0`` rather than
    dividing by zero.

    ```python
    lim = fan_in_limit(in_features)  # e.g. 0.5 for in_features=4
    ```
    """
    return 1.0 / math.sqrt(fan_in) if fan_in > 0 else 1.0


def uniform_init(
    key: PRNGKeyArray, shape: Sequence[int], dtype: Any, lim: float
) -> Inexact[Array, "..."]:
    """An array of ``shape`` drawn uniformly from ``[-lim, lim)``.

    **Arguments:**

    - ``key``: a JAX PRNG key.
    - ``shape``: the shape of the result.
    - ``dtype``: a floating or complex dtype. For complex dtypes the real and imaginary
      parts are drawn independently from the same interval, with the two halves of
      ``jax.random.split(key)`` (the same numbers as Equinox's).
    - ``lim``: the half-width of the interval.

    ```python
    weight = uniform_init(key, (out_features, in_features), jnp.float32,
                          fan_in_limit(in_features))
    ```
    """
    shape = tuple(shape)
    if jnp.issubdtype(dtype, jnp.complexfloating):
        real_dtype = np.finfo(dtype).dtype
        real_key, imag_key = jr.split(key)
        real = jr.uniform(real_key, shape, real_dtype, minval=-lim, maxval=lim)
        imag = jr.uniform(imag_key, shape, real_dtype, minval=-lim, maxval=lim)
        # lax.complex rather than `re + 1j * im`: no dtype promotion involved, so
        # this also runs under jax_numpy_dtype_promotion="strict".
        return jax.lax.complex(real, imag).astype(dtype)
    return jr.uniform(key, shape, dtype, minval=-lim, maxval=lim)
