"""MultiheadAttention and RotaryPositionalEmbedding: PyTorch parity (outputs and
gradients), masks, dropout, process_heads with RoPE, RoPE against a complex-number
reference, and shape-check messages."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import equinox_typed as eqx
import equinox_typed.nn as nn

from ._helpers import assert_same_leaves, raises_check_error

KEY = jax.random.key(0)
HEADS, SIZE, Q_SEQ, KV_SEQ = 2, 8, 3, 4
TOL = {"rtol": 1e-5, "atol": 1e-5}


def _t(a: Any, grad: bool = False) -> torch.Tensor:
    return torch.tensor(np.asarray(a), requires_grad=grad)


def _qkv(key_size: int = SIZE, value_size: int = SIZE) -> tuple[jax.Array, jax.Array, jax.Array]:
    k1, k2, k3 = jax.random.split(jax.random.key(1), 3)
    return (
        jax.random.normal(k1, (Q_SEQ, SIZE)),
        jax.random.normal(k2, (KV_SEQ, key_size)),
        jax.random.normal(k3, (KV_SEQ, value_size)),
    )


def _biased_mha(key_size: int = SIZE, value_size: int = SIZE, **kwargs: Any) -> nn.MultiheadAttention:
    return nn.MultiheadAttention(
        HEADS,
        SIZE,
        key_size,
        value_size,
        use_query_bias=True,
        use_key_bias=True,
        use_value_bias=True,
        use_output_bias=True,
        key=KEY,
        **kwargs,
    )


def _reference(
    mha: nn.MultiheadAttention,
    q: jax.Array,
    k: jax.Array,
    v: jax.Array,
    mask: jax.Array | None = None,
    rope: Any = None,
) -> jax.Array:
    """Multi-head attention written out with einsum, heads as an explicit axis."""

    def project(linear: nn.Linear, x: jax.Array, size: int) -> jax.Array:
        y = x @ linear.weight.T + (0 if linear.bias is None else linear.bias)
        return y.reshape(x.shape[0], HEADS, size)

    qh = project(mha.query_proj, q, mha.qk_size)
    kh = project(mha.key_proj, k, mha.qk_size)
    vh = project(mha.value_proj, v, mha.vo_size)
    if rope is not None:
        qh = jnp.stack([rope(qh[:, i]) for i in range(HEADS)], axis=1)
        kh = jnp.stack([rope(kh[:, i]) for i in range(HEADS)], axis=1)
    logits = jnp.einsum("qhd,khd->hqk", qh, kh) / np.sqrt(mha.qk_size)
    if mask is not None:
        logits = jnp.where(jnp.broadcast_to(mask, logits.shape), logits, -1e30)
    weights = jax.nn.softmax(logits, axis=-1)
    heads = jnp.einsum("hqk,khd->qhd", weights, vh).reshape(q.shape[0], -1)
    out_proj = mha.output_proj
    return heads @ out_proj.weight.T + (0 if out_proj.bias is None else out_proj.bias)


@pytest.mark.parametrize(("key_size", "value_size"), [(SIZE, SIZE), (6, 5)])
@pytest.mark.parametrize("masked", [False, True])
def test_mha_matches_torch(key_size: int, value_size: int, masked: bool) -> None:
    mha = _biased_mha(key_size, value_size)
    q, k, v = _qkv(key_size, value_size)
    mask = jnp.tril(jnp.ones((Q_SEQ, KV_SEQ), bool)) if masked else None
    cotangent = jax.random.normal(jax.random.key(2), (Q_SEQ, SIZE))

    torch_mha = torch.nn.MultiheadAttention(SIZE, HEADS, bias=True, kdim=key_size, vdim=value_size)
    with torch.no_grad():
        if key_size == SIZE and value_size == SIZE:
            w = torch.cat([_t(mha.query_proj.weight), _t(mha.key_proj.weight), _t(mha.value_proj.weight)])
            torch_mha.in_proj_weight.copy_(w)
        else:
            torch_mha.q_proj_weight.copy_(_t(mha.query_proj.weight))
            torch_mha.k_proj_weight.copy_(_t(mha.key_proj.weight))
            torch_mha.v_proj_weight.copy_(_t(mha.value_proj.weight))
        biases = [mha.query_proj.bias, mha.key_proj.bias, mha.value_proj.bias]
        torch_mha.in_proj_bias.copy_(torch.cat([_t(b) for b in biases]))
        torch_mha.out_proj.weight.copy_(_t(mha.output_proj.weight))
        torch_mha.out_proj.bias.copy_(_t(mha.output_proj.bias))

    # The Dropout inside holds a bool leaf, so differentiate the float arrays only.
    params, static = eqx.partition(mha, eqx.is_inexact_array)

    def loss(params: Any, q: jax.Array) -> jax.Array:
        return jnp.sum(eqx.combine(params, static)(q, k, v, mask) * cotangent)

    out = mha(q, k, v, mask)
    grad_mha, grad_q = jax.jit(jax.grad(loss, argnums=(0, 1)))(params, q)

    tq = _t(q, True)
    # PyTorch's boolean mask marks the *blocked* positions.
    attn_mask = None if mask is None else _t(~mask)
    tout, _ = torch_mha(tq, _t(k), _t(v), attn_mask=attn_mask, need_weights=False)
    (tout * _t(cotangent)).sum().backward()

    np.testing.assert_allclose(out, tout.detach().numpy(), **TOL)
    np.testing.assert_allclose(grad_q, tq.grad.numpy(), **TOL)
    torch_query_weight_grad = (
        torch_mha.in_proj_weight.grad[:SIZE]
        if key_size == SIZE and value_size == SIZE
        else torch_mha.q_proj_weight.grad
    )
    np.testing.assert_allclose(grad_mha.query_proj.weight, torch_query_weight_grad.numpy(), **TOL)
    np.testing.assert_allclose(
        grad_mha.output_proj.weight, torch_mha.out_proj.weight.grad.numpy(), **TOL
    )
    np.testing.assert_allclose(
        grad_mha.value_proj.bias, torch_mha.in_proj_bias.grad[2 * SIZE :].numpy(), **TOL
    )


def test_mha_sizes_and_defaults() -> None:
    mha = nn.MultiheadAttention(
        4, 8, key_size=6, value_size=5, output_size=7, qk_size=3, vo_size=2, key=KEY
    )
    assert (mha.key_size, mha.value_size, mha.output_size) == (6, 5, 7)
    assert mha.query_proj.weight.shape == (12, 8) and mha.query_proj.bias is None
    assert mha.value_proj.weight.shape == (8, 5) and mha.output_proj.weight.shape == (7, 8)
    q = jnp.ones((Q_SEQ, 8))
    out = mha(q, jnp.ones((KV_SEQ, 6)), jnp.ones((KV_SEQ, 5)))
    assert out.shape == (Q_SEQ, 7)
    defaults = nn.MultiheadAttention(2, 8, key=KEY)
    assert (defaults.qk_size, defaults.vo_size, defaults.key_size, defaults.output_size) == (4, 4, 8, 8)


def test_mha_per_head_mask_matches_reference() -> None:
    mha = _biased_mha()
    q, k, v = _qkv()
    mask = jax.random.bernoulli(jax.random.key(5), 0.6, (HEADS, Q_SEQ, KV_SEQ))
    mask = mask.at[:, :, 0].set(True)  # no fully masked rows
    np.testing.assert_allclose(mha(q, k, v, mask), _reference(mha, q, k, v, mask), **TOL)
    # A per-head mask that is the same for every head is the shared mask.
    shared = mask[0]
    np.testing.assert_allclose(
        mha(q, k, v, jnp.stack([shared] * HEADS)), mha(q, k, v, shared), **TOL
    )


def test_mha_process_heads_with_rope_matches_reference() -> None:
    mha = _biased_mha()
    q, k, v = _qkv()
    rope = nn.RotaryPositionalEmbedding(mha.qk_size)
    per_head = jax.vmap(rope, in_axes=1, out_axes=1)

    def process_heads(qh: jax.Array, kh: jax.Array, vh: jax.Array) -> Any:
        assert qh.shape == (Q_SEQ, HEADS, mha.qk_size)
        assert vh.shape == (KV_SEQ, HEADS, mha.vo_size)
        return per_head(qh), per_head(kh), vh

    out = mha(q, k, v, process_heads=process_heads)
    np.testing.assert_allclose(out, _reference(mha, q, k, v, rope=rope), **TOL)
    assert not np.allclose(out, mha(q, k, v), atol=1e-3)


def test_mha_dropout() -> None:
    mha = _biased_mha(dropout_p=0.5)
    q, k, v = _qkv()
    plain = mha(q, k, v, inference=True)
    np.testing.assert_allclose(plain, _reference(mha, q, k, v), **TOL)
    dropped = mha(q, k, v, key=jax.random.key(7))
    assert not np.allclose(dropped, plain, atol=1e-3)
    np.testing.assert_array_equal(dropped, mha(q, k, v, key=jax.random.key(7)))
    np.testing.assert_array_equal(plain, mha(q, k, v, deterministic=True))
    with pytest.raises(RuntimeError, match="needs a `key`"):
        mha(q, k, v)
    in_inference = _biased_mha(dropout_p=0.5, inference=True)
    np.testing.assert_allclose(in_inference(q, k, v), plain, **TOL)


def test_mha_wrong_mask_shape(typechecker: str) -> None:
    mha = _biased_mha()
    q, k, v = _qkv()
    with raises_check_error(
        "MultiheadAttention.__call__",
        "argument `mask`",
        "Bool[Array, 'num_heads q_seq kv_seq']",
        "bool[3,3,4]",
        "num_heads=2",
        "kv_seq=4",
    ):
        mha(q, k, v, jnp.ones((HEADS + 1, Q_SEQ, KV_SEQ), bool))


def test_mha_wrong_key_size(typechecker: str) -> None:
    mha = _biased_mha()
    q, k, v = _qkv()
    with pytest.raises(
        eqx.TypeCheckError, match=r"(?s)argument `key_`.*'kv_seq key_size'.*f32\[4,5\].*key_size=8"
    ):
        mha(q, k[:, :5], v)


def _rope_reference(x: jax.Array, theta: float = 10_000.0) -> jax.Array:
    """RoPE as complex multiplication: feature pair (i, i + E/2) is one complex number."""
    half = x.shape[1] // 2
    z = x[:, :half] + 1j * x[:, half:]
    frequencies = theta ** (-2 * np.arange(half) / x.shape[1])
    angles = np.arange(x.shape[0])[:, None] * frequencies[None, :]
    rotated = z * np.exp(1j * angles)
    return jnp.concatenate([rotated.real, rotated.imag], axis=1)


@pytest.mark.parametrize("theta", [10_000.0, 500.0])
def test_rope_matches_complex_reference(theta: float) -> None:
    x = jax.random.normal(jax.random.key(3), (7, 6))
    rope = nn.RotaryPositionalEmbedding(6, theta=theta)
    np.testing.assert_allclose(rope(x), _rope_reference(x, theta), rtol=1e-5, atol=1e-5)
    # Position 0 is not rotated; rotations keep norms.
    np.testing.assert_allclose(rope(x)[0], x[0], rtol=1e-6)
    np.testing.assert_allclose(
        jnp.linalg.norm(rope(x), axis=1), jnp.linalg.norm(x, axis=1), rtol=1e-5
    )


def test_rope_checks() -> None:
    with pytest.raises(ValueError, match="must be even"):
        nn.RotaryPositionalEmbedding(5)
    rope = nn.RotaryPositionalEmbedding(4)
    with pytest.raises(
        eqx.TypeCheckError, match=r"(?s)RotaryPositionalEmbedding.__call__.*argument `x`.*f32\[3,6\].*embedding_size=4"
    ):
        rope(jnp.ones((3, 6)))


def test_rope_precompute_freqs_cis_matches_equinox() -> None:
    import equinox as eqxr

    ours = nn.RotaryPositionalEmbedding.precompute_freqs_cis(8, 5, 500.0, jnp.bfloat16)
    theirs = eqxr.nn.RotaryPositionalEmbedding.precompute_freqs_cis(8, 5, 500.0, jnp.bfloat16)
    assert_same_leaves(ours, theirs, rtol=0, atol=0)
    cos, sin = nn.RotaryPositionalEmbedding.precompute_freqs_cis(6, 7, 10_000.0, jnp.float32)
    angles = np.arange(7)[:, None] * 10_000.0 ** (-2 * np.arange(3) / 6)[None, :]
    np.testing.assert_allclose(cos, np.cos(angles), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(sin, np.sin(angles), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("dtype", [jnp.float32, jnp.bfloat16, jnp.float16])
def test_rope_matches_equinox(dtype: Any) -> None:
    """Tables in float32 by default, cast at the end, as Equinox: half-precision inputs
    are rotated by accurate angles and keep their dtype."""
    import equinox as eqxr

    x = jax.random.normal(jax.random.key(3), (40, 8)).astype(dtype)
    rope, ref = nn.RotaryPositionalEmbedding(8), eqxr.nn.RotaryPositionalEmbedding(8)
    assert rope.dtype == ref.dtype == jnp.float32
    assert_same_leaves(rope(x), ref(x), rtol=0, atol=0)
    half = nn.RotaryPositionalEmbedding(8, dtype=dtype)
    assert_same_leaves(half(x), eqxr.nn.RotaryPositionalEmbedding(8, dtype=dtype)(x), rtol=0, atol=0)
    with pytest.raises(ValueError, match="even and non-negative, got -2"):
        nn.RotaryPositionalEmbedding(-2)


def test_zero_query_key_size_gives_equinox_output() -> None:
    # qk_size=0 is valid in Equinox: the logits are all zero, so attention averages the
    # values. Reshaping the projections must not infer the head axis from a size of 0.
    equinox = pytest.importorskip("equinox")
    q = jax.random.normal(jax.random.PRNGKey(1), (3, 4))
    ours = nn.MultiheadAttention(2, 4, qk_size=0, key=KEY)
    theirs = equinox.nn.MultiheadAttention(2, 4, qk_size=0, key=KEY)
    theirs = equinox.tree_at(
        lambda m: [m.value_proj.weight, m.output_proj.weight],
        theirs,
        [ours.value_proj.weight, ours.output_proj.weight],
    )
    out = ours(q, q, q)
    assert out.shape == (3, 4)
    np.testing.assert_allclose(out, theirs(q, q, q), rtol=1e-5, atol=1e-6)
