"""``RotaryPositionalEmbedding`` (RoPE): rotate feature pairs by position-dependent angles."""

from __future__ import annotations

from typing import Any

import jax.lax as lax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._module import Module, field
from .._call_checks import checked_call

__all__ = ["RotaryPositionalEmbedding"]


class RotaryPositionalEmbedding(Module, strict=True):
    """Rotary positional embedding (Su et al., 2021), in the "rotate half" layout.

    Feature ``i`` is paired with feature ``i + embedding_size/2``; at position ``t`` the
    pair is rotated by the angle ``t * theta ** (-2i / embedding_size)``.

    **Arguments:**

    - ``embedding_size``: the (even) number of features.
    - ``theta``: the base of the angle frequencies.
    - ``dtype``: the dtype the sines and cosines are computed in (default: the input's).

    Typically applied to the query and key heads of attention through
    ``MultiheadAttention(..., process_heads=...)``:

    ```python
    rope = eqx.nn.RotaryPositionalEmbedding(64)
    rotated = rope(x)   # x: (seq_length, 64)
    ```
    """

    embedding_size: int = field(static=True)
    theta: float = field(static=True, default=10_000.0)
    dtype: Any = field(static=True, default=None)

    def __check_init__(self) -> None:
        if self.embedding_size % 2 != 0:
            raise ValueError(
                f"RotaryPositionalEmbedding: embedding_size must be even, got "
                f"{self.embedding_size}"
            )

    @checked_call
    def __call__(
        self,
        x: Float[Array, "seq_length embedding_size"],
        *,
        key: PRNGKeyArray | None = None,
    ) -> Float[Array, "seq_length embedding_size"]:
        """**Arguments:** ``x`` of shape ``(seq_length, embedding_size)``; ``key`` is
        ignored. **Returns:** ``x`` with every feature pair rotated."""
        dtype = x.dtype if self.dtype is None else self.dtype
        half = self.embedding_size // 2
        exponents = lax.iota(dtype, half) * (2.0 / self.embedding_size)
        frequencies = self.theta ** (-exponents)
        positions = lax.iota(dtype, x.shape[0])
        angles = positions[:, None] * frequencies[None, :]  # (seq_length, half)
        cos, sin = jnp.cos(angles), jnp.sin(angles)
        first, second = x[:, :half], x[:, half:]
        rotated = jnp.concatenate(
            [first * cos - second * sin, first * sin + second * cos], axis=-1
        )
        return rotated.astype(x.dtype)
