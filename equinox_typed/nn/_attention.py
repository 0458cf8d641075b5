"""``MultiheadAttention`` and the scaled dot-product attention it is built from."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Bool, Float, Inexact, PRNGKeyArray

from .._call_checks import checked_call
from .._jax_typed import finfo
from .._module import Module, field
from ._dropout import Dropout
from ._dtypes import at_least_float32
from ._linear import Linear
from ._sizes import check_size

__all__ = ["MultiheadAttention", "dot_product_attention", "dot_product_attention_weights"]

# (query_heads, key_heads, value_heads) -> the same, e.g. with RoPE applied.
ProcessHeads = Callable[
    [
        Inexact[Array, "q_seq num_heads qk_size"],
        Inexact[Array, "kv_seq num_heads qk_size"],
        Inexact[Array, "kv_seq num_heads vo_size"],
    ],
    tuple[
        Inexact[Array, "q_seq num_heads qk_size"],
        Inexact[Array, "kv_seq num_heads qk_size"],
        Inexact[Array, "kv_seq num_heads vo_size"],
    ],
]


def _lowest(dtype: Any) -> float:
    """The most negative finite value of a floating dtype (bfloat16 included)."""
    return float(finfo(dtype).min)


def dot_product_attention_weights(
    query: Inexact[Array, "q_seq qk_size"],
    key: Inexact[Array, "kv_seq qk_size"],
    mask: Bool[Array, "q_seq kv_seq"] | Float[Array, "q_seq kv_seq"] | None = None,
) -> Inexact[Array, "q_seq kv_seq"]:
    """``softmax(query @ key.T / sqrt(qk_size))`` over the key axis, for one head.

    **Arguments:**

    - ``query``, ``key``: one head's queries and keys.
    - ``mask``: where False (or 0 for a floating mask), the query may not attend to the
      key (its weight is 0).

    The softmax runs in at least float32, so half-precision inputs stay accurate.
    """
    logits = (query / math.sqrt(query.shape[-1])) @ key.T
    if mask is not None:
        # The lowest finite value, not -inf: a fully masked row then gets uniform weights
        # rather than NaN.
        logits = jnp.where(mask, logits, _lowest(logits.dtype))
    softmax_dtype = at_least_float32(logits.dtype)
    weights = jax.nn.softmax(logits.astype(softmax_dtype), axis=-1)
    return weights.astype(logits.dtype)


def dot_product_attention(
    query: Inexact[Array, "q_seq qk_size"],
    key: Inexact[Array, "kv_seq qk_size"],
    value: Inexact[Array, "kv_seq vo_size"],
    mask: Bool[Array, "q_seq kv_seq"] | Float[Array, "q_seq kv_seq"] | None = None,
    dropout: Dropout | None = None,
    *,
    dropout_key: PRNGKeyArray | None = None,
    inference: bool | None = None,
) -> Inexact[Array, "q_seq vo_size"]:
    """Scaled dot-product attention for one head: the attention weights (optionally
    passed through ``dropout``, with ``dropout_key`` and ``inference``) applied to
    ``value``.

    ```python
    out = dot_product_attention(q, k, v, mask=jnp.tril(jnp.ones((4, 4), bool)))
    ```
    """
    weights = dot_product_attention_weights(query, key, mask)
    if dropout is not None:
        weights = dropout(weights, key=dropout_key, inference=inference)
    return weights @ value


class MultiheadAttention(Module, strict=True):
    """Multi-head attention (Vaswani et al., 2017) on one unbatched example.

    Queries, keys and values are projected into ``num_heads`` heads, each head attends
    with scaled dot-product attention, and the concatenated heads are projected to
    ``output_size``.

    **Arguments:**

    - ``num_heads``: the number of heads.
    - ``query_size``: the feature size of the queries.
    - ``key_size``, ``value_size``: the feature sizes of keys and values (default
      ``query_size``).
    - ``output_size``: the feature size of the result (default ``query_size``).
    - ``qk_size``, ``vo_size``: the per-head size of queries/keys and of values/outputs
      (default ``query_size // num_heads``).
    - ``use_query_bias``, ``use_key_bias``, ``use_value_bias``, ``use_output_bias``:
      whether each projection has a bias.
    - ``dropout_p``: the dropout probability on the attention weights.
    - ``inference``: whether dropout is off by default.
    - ``dtype``: the parameters' dtype (default float32, or float64 in x64 mode).
    - ``key``: a PRNG key for the initialisation (keyword-only).

    ```python
    mha = eqx.nn.MultiheadAttention(num_heads=4, query_size=32, key=jax.random.key(0))
    out = mha(x, x, x)   # self-attention, x: (seq_length, 32) -> (seq_length, 32)
    ```
    """

    query_proj: Linear
    key_proj: Linear
    value_proj: Linear
    output_proj: Linear
    dropout: Dropout
    num_heads: int = field(static=True)
    query_size: int = field(static=True)
    key_size: int = field(static=True)
    value_size: int = field(static=True)
    output_size: int = field(static=True)
    qk_size: int = field(static=True)
    vo_size: int = field(static=True)
    use_query_bias: bool = field(static=True)
    use_key_bias: bool = field(static=True)
    use_value_bias: bool = field(static=True)
    use_output_bias: bool = field(static=True)

    def __init__(
        self,
        num_heads: int,
        query_size: int,
        key_size: int | None = None,
        value_size: int | None = None,
        output_size: int | None = None,
        qk_size: int | None = None,
        vo_size: int | None = None,
        use_query_bias: bool = False,
        use_key_bias: bool = False,
        use_value_bias: bool = False,
        use_output_bias: bool = False,
        dropout_p: float = 0.0,
        inference: bool = False,
        dtype: Any = None,
        *,
        key: PRNGKeyArray,
    ) -> None:
        qkey, kkey, vkey, okey = jr.split(key, 4)
        check_size("MultiheadAttention", "num_heads", num_heads, at_least=1)
        sizes = {
            "query_size": query_size,
            "key_size": key_size,
            "value_size": value_size,
            "output_size": output_size,
            "qk_size": qk_size,
            "vo_size": vo_size,
        }
        for name, size in sizes.items():
            if size is not None:  # None: derived from query_size
                check_size("MultiheadAttention", name, size)
        key_size = query_size if key_size is None else key_size
        value_size = query_size if value_size is None else value_size
        output_size = query_size if output_size is None else output_size
        qk_size = query_size // num_heads if qk_size is None else qk_size
        vo_size = query_size // num_heads if vo_size is None else vo_size
        qk_total, vo_total = num_heads * qk_size, num_heads * vo_size
        self.query_proj = Linear(query_size, qk_total, use_query_bias, dtype, key=qkey)
        self.key_proj = Linear(key_size, qk_total, use_key_bias, dtype, key=kkey)
        self.value_proj = Linear(value_size, vo_total, use_value_bias, dtype, key=vkey)
        self.output_proj = Linear(vo_total, output_size, use_output_bias, dtype, key=okey)
        self.dropout = Dropout(dropout_p, inference=inference)
        self.num_heads = num_heads
        self.query_size = query_size
        self.key_size = key_size
        self.value_size = value_size
        self.output_size = output_size
        self.qk_size = qk_size
        self.vo_size = vo_size
        self.use_query_bias = use_query_bias
        self.use_key_bias = use_key_bias
        self.use_value_bias = use_value_bias
        self.use_output_bias = use_output_bias

    @checked_call
    def __call__(
        self,
        query: Inexact[Array, "q_seq query_size"],
        key_: Inexact[Array, "kv_seq key_size"],
        value: Inexact[Array, "kv_seq value_size"],
        mask: Bool[Array, "q_seq kv_seq"]
        | Float[Array, "q_seq kv_seq"]
        | Bool[Array, "num_heads q_seq kv_seq"]
        | Float[Array, "num_heads q_seq kv_seq"]
        | None = None,
        *,
        key: PRNGKeyArray | None = None,
        inference: bool | None = None,
        deterministic: bool | None = None,
        process_heads: ProcessHeads | None = None,
    ) -> Inexact[Array, "q_seq output_size"]:
        """**Arguments:**

        - ``query``: ``(q_seq, query_size)``.
        - ``key_``: ``(kv_seq, key_size)``.
        - ``value``: ``(kv_seq, value_size)``.
        - ``mask``: ``(q_seq, kv_seq)``, or ``(num_heads, q_seq, kv_seq)`` for one mask
          per head; where False, attention is blocked.
        - ``key``: PRNG key for dropout (needed when dropout is active).
        - ``inference``: overrides the dropout's ``inference`` for this call
          (``deterministic`` is its old name).
        - ``process_heads``: called on the projected ``(query_heads, key_heads,
          value_heads)`` (shapes ``(seq, num_heads, size)``) and returning replacements,
          e.g. to apply rotary embeddings.

        **Returns:** ``(q_seq, output_size)``.
        """
        if deterministic is not None:
            inference = deterministic
        query_heads = self._project(self.query_proj, query, self.qk_size)
        key_heads = self._project(self.key_proj, key_, self.qk_size)
        value_heads = self._project(self.value_proj, value, self.vo_size)
        if process_heads is not None:
            query_heads, key_heads, value_heads = process_heads(
                query_heads, key_heads, value_heads
            )
        per_head_mask = mask is not None and mask.ndim == 3
        keys = None if key is None else jr.split(key, self.num_heads)

        def one_head(
            q: Array, k: Array, v: Array, m: Array | None, dkey: Array | None
        ) -> Array:
            return dot_product_attention(
                q, k, v, m, self.dropout, dropout_key=dkey, inference=inference
            )

        attend = jax.vmap(
            one_head,
            in_axes=(1, 1, 1, 0 if per_head_mask else None, None if keys is None else 0),
            out_axes=1,
        )
        heads = attend(query_heads, key_heads, value_heads, mask, keys)
        heads = heads.reshape(query.shape[0], self.num_heads * self.vo_size)
        return jax.vmap(self.output_proj)(heads)

    def _project(self, linear: Linear, x: Array, head_size: int) -> Array:
        """``(seq, size)`` -> ``(seq, num_heads, head_size)``. The head count is given,
        not inferred with ``-1``, which cannot be inferred when ``head_size`` is 0."""
        return jax.vmap(linear)(x).reshape(x.shape[0], self.num_heads, head_size)
