"""``RotaryPositionalEmbedding`` (RoPE): rotate feature pairs by position-dependent angles."""

from __future__ import annotations

from typing import Any

import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

from .._module import Module, field
from .._call_checks import checked_call
from ._dtypes import promoted
from ._init import default_float_dtype

__all__ = ["RotaryPositionalEmbedding"]

# Some jax.numpy signatures are partially unknown to pyright strict: called through
# `Any` (results are annotated where they are used).
_jnp: Any = jnp


class RotaryPositionalEmbedding(Module, strict=True):
    """Rotary positional embedding (Su et al., 2021), in the "rotate half" layout.

    Feature ``i`` is paired with feature ``i + embedding_size/2``; at position ``t`` the
    pair is rotated by the angle ``t * theta ** (-2i / embedding_size)``.

    **Arguments:**

    - ``embedding_size``: the (even, non-negative) number of features.
    - ``theta``: the base of the angle frequencies.
    - ``dtype``: the dtype of the cosine/sine tables (computed in the default floating
      dtype, then cast); default: float32, or float64 under ``jax_enable_x64``. The
      rotation is computed in the promotion of this and the input's dtype and returned
      in the input's dtype.

    Typically applied to the query and key heads of attention through
    ``MultiheadAttention(..., process_heads=...)``:

    ```python
    rope = eqx.nn.RotaryPositionalEmbedding(64)
    rotated = rope(x)   # x: (seq_length, 64)
    ```
    """

    embedding_size: int = field(static=True)
    theta: float = field(static=True, default=10_000.0)
    dtype: Any = field(static=True, default_factory=default_float_dtype)

    def __check_init__(self) -> None:
        if self.embedding_size < 0 or self.embedding_size % 2 != 0:
            raise ValueError(
                f"RotaryPositionalEmbedding: embedding_size must be even and "
                f"non-negative, got {self.embedding_size}"
            )

    @staticmethod
    def precompute_freqs_cis(
        embedding_size: int, end: int, theta: float, dtype: Any
    ) -> tuple[Float[Array, "end half_size"], Float[Array, "end half_size"]]:
        """The cosine and sine tables of the rotation angles.

        **Arguments:**

        - ``embedding_size``: the (even) number of features.
        - ``end``: the number of positions ``0, 1, ..., end - 1``.
        - ``theta``: the base of the angle frequencies.
        - ``dtype``: the dtype of the returned tables (they are computed in the
          default floating dtype and cast at the end, to lose as little precision
          as possible).

        **Returns:** ``(cos, sin)``, each of shape ``(end, embedding_size // 2)``:
        entry ``[t, i]`` is for the angle ``t * theta ** (-2i / embedding_size)``.

        ```python
        cos, sin = eqx.nn.RotaryPositionalEmbedding.precompute_freqs_cis(64, 128, 1e4, jnp.float32)
        ```
        """
        exponents = _jnp.arange(0.0, embedding_size, 2)[None, :] / embedding_size
        frequencies = 1.0 / (theta**exponents)
        angles = jnp.outer(_jnp.arange(float(end)), frequencies)
        return jnp.cos(angles).astype(dtype), jnp.sin(angles).astype(dtype)

    @checked_call
    def __call__(
        self,
        x: Float[Array, "seq_length embedding_size"],
        *,
        key: PRNGKeyArray | None = None,
    ) -> Float[Array, "seq_length embedding_size"]:
        """**Arguments:** ``x`` of shape ``(seq_length, embedding_size)``; ``key`` is
        ignored. **Returns:** ``x`` with every feature pair rotated."""
        seq_length, half = x.shape[0], self.embedding_size // 2
        cos, sin = self.precompute_freqs_cis(
            self.embedding_size, seq_length, self.theta, self.dtype
        )
        # Explicit casts: the same numbers under strict dtype promotion.
        dtype = promoted(x.dtype, cos.dtype)
        cos, sin, xc = cos.astype(dtype), sin.astype(dtype), x.astype(dtype)
        first, second = xc[:, :half], xc[:, half:]
        rotated = jnp.concatenate(
            [first * cos - second * sin, second * cos + first * sin], axis=-1
        )
        return rotated.astype(x.dtype)
