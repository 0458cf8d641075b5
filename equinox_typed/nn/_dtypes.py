"""Dtype arithmetic for layers that must also run under
``jax_numpy_dtype_promotion="strict"`` (where ``jnp.promote_types`` itself refuses
mixed precisions): every layer casts explicitly, with the dtypes chosen here."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

__all__ = ["at_least_float32", "promoted"]


def at_least_float32(dtype: Any) -> Any:
    """The dtype to compute statistics in: ``dtype`` itself, or float32 for 16-bit
    floats (float16, bfloat16), so that half-precision inputs are normalised
    accurately.

    ```python
    at_least_float32(jnp.bfloat16)   # float32
    at_least_float32(jnp.complex64)  # complex64
    ```
    """
    return promoted(dtype, jnp.float32)


def promoted(a: Any, b: Any) -> Any:
    """The dtype JAX's standard promotion gives ``a`` with ``b``, whatever the
    promotion mode in force (the callers then cast both explicitly).

    ```python
    promoted(jnp.float16, jnp.float32)  # float32, also under "strict"
    ```
    """
    with jax.numpy_dtype_promotion("standard"):
        return jnp.promote_types(a, b)
