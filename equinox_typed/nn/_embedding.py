"""``Embedding``: a lookup table from integer indices to vectors."""

from __future__ import annotations

from typing import Any

import jax.random as jr
from jaxtyping import Array, ArrayLike, Inexact, Integer, PRNGKeyArray

from .._call_checks import checked_call
from .._jax_typed import asarray
from .._module import Module, field
from ._init import resolve_dtype
from ._sizes import check_size

__all__ = ["Embedding"]


class Embedding(Module, strict=True):
    """A table of ``num_embeddings`` vectors of size ``embedding_size``; calling it with
    an index returns that row.

    **Arguments:**

    - ``num_embeddings``: the number of rows. May be left out when ``weight`` is given.
    - ``embedding_size``: the size of each row. May be left out when ``weight`` is given.
    - ``weight``: an existing table of shape ``(num_embeddings, embedding_size)`` to use
      instead of a random one.
    - ``dtype``: the table's dtype for a random table (default float32, or float64 in
      x64 mode).
    - ``key``: a PRNG key; needed when ``weight`` is not given. Rows are standard
      normal, as in PyTorch's ``nn.Embedding``.

    ```python
    embed = eqx.nn.Embedding(100, 16, key=jax.random.key(0))
    embed(jnp.array(7))                          # shape (16,)
    jax.vmap(embed)(jnp.array([1, 2, 3]))        # shape (3, 16)
    ```
    """

    weight: Inexact[Array, "num_embeddings embedding_size"]
    num_embeddings: int = field(static=True)
    embedding_size: int = field(static=True)

    def __init__(
        self,
        num_embeddings: int | None = None,
        embedding_size: int | None = None,
        weight: Inexact[Array, "num_embeddings embedding_size"] | None = None,
        dtype: Any = None,
        *,
        key: PRNGKeyArray | None = None,
    ) -> None:
        if num_embeddings is not None:  # None: taken from `weight`
            check_size("Embedding", "num_embeddings", num_embeddings)
        if embedding_size is not None:
            check_size("Embedding", "embedding_size", embedding_size)
        if weight is None:
            if num_embeddings is None or embedding_size is None or key is None:
                raise ValueError(
                    "Embedding needs num_embeddings, embedding_size and key, or an "
                    "existing `weight`"
                )
            shape = (num_embeddings, embedding_size)
            weight = jr.normal(key, shape, resolve_dtype(dtype))
        else:
            if weight.ndim != 2:
                raise ValueError(
                    f"Embedding: `weight` must have shape (num_embeddings, "
                    f"embedding_size), got shape {weight.shape}"
                )
            given = (num_embeddings, embedding_size)
            if any(g is not None and g != s for g, s in zip(given, weight.shape)):
                raise ValueError(
                    f"Embedding: `weight` has shape {weight.shape}, but num_embeddings="
                    f"{num_embeddings} and embedding_size={embedding_size} were given"
                )
            num_embeddings, embedding_size = weight.shape
        self.weight = weight
        self.num_embeddings = num_embeddings
        self.embedding_size = embedding_size

    @checked_call
    def __call__(
        self, x: Integer[ArrayLike, ""], *, key: PRNGKeyArray | None = None
    ) -> Inexact[Array, " embedding_size"]:
        """**Arguments:** ``x``, a scalar integer index; ``key`` is ignored. Use
        ``jax.vmap`` to embed several indices. **Returns:** row ``x`` of the table."""
        index = asarray(x)
        if index.ndim != 0:
            # Also raised while tracing, where the eager check does not run.
            raise ValueError(
                f"Embedding takes one scalar index, got shape {index.shape}; use "
                f"jax.vmap(embedding)(indices) to embed several"
            )
        return self.weight[index]
