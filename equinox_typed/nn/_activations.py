"""``PReLU``: a leaky ReLU whose negative slope is learnt."""

from __future__ import annotations

from typing import Any

import jax.lax as lax
import jax.numpy as jnp
from jaxtyping import Array, ArrayLike, Float, PRNGKeyArray

from .._module import Module
from .._call_checks import checked_call
from ._init import resolve_dtype

__all__ = ["PReLU"]


class PReLU(Module, strict=True):
    """``x`` where ``x >= 0``, else ``negative_slope * x``, with a learnt slope.

    **Arguments:**

    - ``init_alpha``: the initial slope: a scalar (shared by every element), or an
      array broadcast against the input's trailing axes, e.g. one slope per channel.
    - ``dtype``: the slope's dtype (default float32, or float64 in x64 mode).

    ```python
    prelu = eqx.nn.PReLU()                   # one slope, initially 0.25
    prelu(jnp.array([-2.0, 3.0]))            # [-0.5, 3.0]
    ```
    """

    negative_slope: Float[Array, "*slope_shape"]

    def __init__(self, init_alpha: ArrayLike = 0.25, dtype: Any = None) -> None:
        self.negative_slope = lax.convert_element_type(init_alpha, resolve_dtype(dtype))

    @checked_call
    def __call__(
        self, x: Float[Array, "*shape"], *, key: PRNGKeyArray | None = None
    ) -> Float[Array, "*shape"]:
        """Apply elementwise to ``x`` of any shape; ``key`` is ignored."""
        # In the input's dtype (a float32 slope must not promote a bfloat16 input,
        # nor trip strict dtype promotion).
        return jnp.where(x >= 0, x, self.negative_slope.astype(x.dtype) * x)
