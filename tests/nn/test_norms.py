"""LayerNorm, GroupNorm, RMSNorm and BatchNorm against PyTorch (outputs and gradients)."""

from __future__ import annotations

import pickle
import warnings
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import equinox as eqxr

import equinox_typed as eqx
import equinox_typed.nn as nn

from ._helpers import assert_same_leaves, raises_check_error

RTOL = ATOL = 1e-5


def _np(t: torch.Tensor) -> np.ndarray:
    return t.detach().numpy()


def _random(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(1.0, 2.0, shape).astype(np.float32)


def _torch_grads(
    module: torch.nn.Module, x: np.ndarray, cotangent: np.ndarray
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Output, input gradient and parameter gradients of sum(module(x) * cotangent)."""
    tx = torch.tensor(x, requires_grad=True)
    out = module(tx)
    (out * torch.tensor(cotangent)).sum().backward()
    assert tx.grad is not None
    params = {n: _np(p.grad) for n, p in module.named_parameters() if p.grad is not None}
    return _np(out), _np(tx.grad), params


def _jax_grads(layer: Any, x: np.ndarray, cotangent: np.ndarray, batched: bool) -> Any:
    def loss(params: tuple[Any, Any], xs: jax.Array) -> jax.Array:
        model = eqx.tree_at(lambda m: (m.weight, m.bias), layer, params)
        out = jax.vmap(model)(xs) if batched else model(xs)
        return jnp.sum(out * cotangent)

    out = jax.vmap(layer)(jnp.asarray(x)) if batched else layer(jnp.asarray(x))
    (gw, gb), gx = jax.grad(loss, argnums=(0, 1))((layer.weight, layer.bias), jnp.asarray(x))
    return out, gx, gw, gb


# ---------------------------------------------------------------------------------------
# Per-example norms


def _randomise_affine(layer: Any, torch_layer: torch.nn.Module) -> Any:
    """Give both layers the same non-trivial weight and bias."""
    w = _random(tuple(layer.weight.shape), seed=1)
    b = _random(tuple(layer.bias.shape), seed=2)
    with torch.no_grad():
        torch_layer.weight.copy_(torch.tensor(w))
        torch_layer.bias.copy_(torch.tensor(b))
    return eqx.tree_at(lambda m: (m.weight, m.bias), layer, (jnp.asarray(w), jnp.asarray(b)))


@pytest.mark.parametrize("shape", [5, (3, 4)])
def test_layernorm_matches_torch(shape: int | tuple[int, ...]) -> None:
    normalized = (shape,) if isinstance(shape, int) else shape
    layer = nn.LayerNorm(shape, eps=1e-5)
    torch_layer = torch.nn.LayerNorm(normalized, eps=1e-5)
    layer = _randomise_affine(layer, torch_layer)
    x, ct = _random((2, *normalized)), _random((2, *normalized), seed=3)
    t_out, t_gx, t_params = _torch_grads(torch_layer, x, ct)
    out, gx, gw, gb = _jax_grads(layer, x, ct, batched=True)
    np.testing.assert_allclose(out, t_out, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(gx, t_gx, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(gw, t_params["weight"], rtol=RTOL, atol=1e-4)
    np.testing.assert_allclose(gb, t_params["bias"], rtol=RTOL, atol=1e-4)


def test_layernorm_options() -> None:
    x = jnp.asarray(_random((6,)))
    plain = nn.LayerNorm(6, use_weight=False, use_bias=False)
    assert plain.weight is None and plain.bias is None
    expected = (x - x.mean()) / jnp.sqrt(x.var() + 1e-5)
    np.testing.assert_allclose(plain(x), expected, rtol=1e-5, atol=1e-6)
    with pytest.warns(DeprecationWarning, match="elementwise_affine"):
        old = nn.LayerNorm(6, elementwise_affine=False)
    assert old.weight is None and old.bias is None
    # Passing a state threads it through unchanged.
    state = nn.State(nn.BatchNorm(2, "b", mode="batch"))
    out, same = plain(x, state)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    assert same is state


def test_layernorm_half_precision_keeps_dtype() -> None:
    x = jnp.asarray(_random((8,))).astype(jnp.float16)
    out = nn.LayerNorm(8)(x)
    assert out.dtype == jnp.float16
    ref = nn.LayerNorm(8)(x.astype(jnp.float32))
    np.testing.assert_allclose(out.astype(jnp.float32), ref, atol=5e-3)


def test_rmsnorm_matches_torch() -> None:
    layer = nn.RMSNorm(5, eps=1e-5, use_bias=False)
    assert layer.bias is None
    torch_layer = torch.nn.RMSNorm(5, eps=1e-5)
    w = _random((5,), seed=1)
    with torch.no_grad():
        torch_layer.weight.copy_(torch.tensor(w))
    layer = eqx.tree_at(lambda m: m.weight, layer, jnp.asarray(w))
    x, ct = _random((3, 5)), _random((3, 5), seed=3)
    t_out, t_gx, t_params = _torch_grads(torch_layer, x, ct)

    def loss(weight: jax.Array, xs: jax.Array) -> jax.Array:
        model = eqx.tree_at(lambda m: m.weight, layer, weight)
        return jnp.sum(jax.vmap(model)(xs) * ct)

    gw, gx = jax.grad(loss, argnums=(0, 1))(layer.weight, jnp.asarray(x))
    np.testing.assert_allclose(jax.vmap(layer)(jnp.asarray(x)), t_out, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(gx, t_gx, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(gw, t_params["weight"], rtol=RTOL, atol=1e-4)


def test_rmsnorm_default_bias_is_zero_shift() -> None:
    layer = nn.RMSNorm((2, 3))  # Equinox's default: use_bias=True, initialised to zero
    assert layer.bias is not None and layer.weight is not None
    x = jnp.asarray(_random((2, 3)))
    np.testing.assert_allclose(layer(x), x / jnp.sqrt(jnp.mean(x**2) + 1e-5), rtol=1e-6)


@pytest.mark.parametrize("groups,spatial", [(2, (3, 3)), (4, (5,)), (1, ())])
def test_groupnorm_matches_torch(groups: int, spatial: tuple[int, ...]) -> None:
    layer = nn.GroupNorm(groups, 4)
    torch_layer = torch.nn.GroupNorm(groups, 4, eps=1e-5)
    layer = _randomise_affine(layer, torch_layer)
    x, ct = _random((2, 4, *spatial)), _random((2, 4, *spatial), seed=3)
    t_out, t_gx, t_params = _torch_grads(torch_layer, x, ct)
    out, gx, gw, gb = _jax_grads(layer, x, ct, batched=True)
    np.testing.assert_allclose(out, t_out, rtol=RTOL, atol=ATOL)
    np.testing.assert_allclose(gx, t_gx, rtol=RTOL, atol=1e-4)
    np.testing.assert_allclose(gw, t_params["weight"], rtol=RTOL, atol=1e-4)
    np.testing.assert_allclose(gb, t_params["bias"], rtol=RTOL, atol=1e-4)


def test_groupnorm_constructor_errors() -> None:
    with pytest.raises(ValueError, match="not divisible by groups=3"):
        nn.GroupNorm(3, 4)
    with pytest.raises(ValueError, match="needs `channels`"):
        nn.GroupNorm(2)
    layer = nn.GroupNorm(2, channelwise_affine=False)
    x = jnp.asarray(_random((4, 3)))
    grouped = x.reshape(2, -1)
    ref = (grouped - grouped.mean(1, keepdims=True)) / jnp.sqrt(
        grouped.var(1, keepdims=True) + 1e-5
    )
    np.testing.assert_allclose(layer(x), ref.reshape(4, 3), rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------------------------
# Shape checks


def test_layernorm_wrong_shape_raises(typechecker: str) -> None:
    with raises_check_error(
        "LayerNorm.__call__",
        "`x`",
        "Num[Array, '*shape']",
        "f32[4]",
        "shape=(5,)",
    ):
        nn.LayerNorm(5)(jnp.ones(4))


def test_groupnorm_and_rmsnorm_wrong_shape_raise(typechecker: str) -> None:
    with pytest.raises(eqx.TypeCheckError, match=r"(?s)GroupNorm.*f32\[3,2\].*channels=4"):
        nn.GroupNorm(2, 4)(jnp.ones((3, 2)))
    with pytest.raises(eqx.TypeCheckError, match=r"(?s)RMSNorm.*f32\[2,3\]"):
        nn.RMSNorm((3, 2))(jnp.ones((2, 3)))
    with pytest.raises(eqx.TypeCheckError, match=r"(?s)LayerNorm.*bool\[3\]"):
        nn.LayerNorm(3)(jnp.ones(3, bool))  # integers are promoted (as Equinox), bools not


def test_wrong_shape_not_checked_when_off() -> None:
    with eqx.checks("off"):
        out = nn.LayerNorm(5, use_weight=False, use_bias=False)(jnp.arange(4.0))
    assert out.shape == (4,)


# ---------------------------------------------------------------------------------------
# BatchNorm


def _batched(layer: Any, **kwargs: Any) -> Any:
    return jax.vmap(
        lambda x, s: layer(x, s, **kwargs),
        axis_name="batch",
        in_axes=(0, None),
        out_axes=(0, None),
    )


def _both_batchnorms(mode: str, **kwargs: Any) -> tuple[Any, Any, Any, Any]:
    bn, state = nn.make_with_state(nn.BatchNorm)(3, "batch", mode=mode, **kwargs)
    ref, ref_state = eqxr.nn.make_with_state(eqxr.nn.BatchNorm)(3, "batch", mode=mode, **kwargs)
    return bn, state, ref, ref_state


@pytest.mark.parametrize("mode", ["batch", "ema"])
@pytest.mark.parametrize("x_shape", [(6, 3), (4, 3, 5)])
def test_batchnorm_matches_equinox(mode: str, x_shape: tuple[int, ...]) -> None:
    bn, state, ref, ref_state = _both_batchnorms(mode, momentum=0.9)
    for step in range(3):
        x = jnp.asarray(_random(x_shape, seed=10 + step) * (step + 1))
        y, state = _batched(bn)(x, state)
        ref_y, ref_state = _batched(ref)(x, ref_state)
        assert_same_leaves((y, state), (ref_y, ref_state))
    # Inference: the running statistics (zero-debiased in "batch" mode), state untouched.
    x = jnp.asarray(_random(x_shape, seed=20))
    y, after = _batched(nn.inference_mode(bn))(x, state)
    ref_y, _ = _batched(eqxr.nn.inference_mode(ref))(x, ref_state)
    assert_same_leaves(y, ref_y)
    assert_same_leaves(after, state)
    # The call-time override agrees with inference_mode.
    np.testing.assert_array_equal(_batched(bn, inference=True)(x, after)[0], y)


@pytest.mark.parametrize("mode", ["batch", "ema"])
def test_batchnorm_state_layout_matches_equinox(mode: str) -> None:
    bn, state, ref, ref_state = _both_batchnorms(mode)
    names = ["ema_first_time_index", "ema_state_index", "batch_counter", "batch_state_index"]
    for name in names:
        assert (getattr(bn, name) is None) == (getattr(ref, name) is None), name
    used = names[:2] if mode == "ema" else names[2:]
    for name in used:
        assert_same_leaves(state.get(getattr(bn, name)), ref_state.get(getattr(ref, name)))
    assert_same_leaves(state, ref_state)
    # The layer flattens to Equinox's leaves (axis_name and inference included).
    assert [type(x) for x in jax.tree.leaves(bn)] == [type(x) for x in jax.tree.leaves(ref)]
    assert bn.mode == ref.mode == mode


def test_batchnorm_warns_when_mode_is_left_out() -> None:
    with pytest.warns(UserWarning, match=r"BatchNorm: `mode` was not given.*mode='batch'"):
        bn = nn.BatchNorm(3, "batch")
    with pytest.warns(UserWarning):
        ref = eqxr.nn.BatchNorm(3, "batch")
    assert bn.mode == ref.mode == "ema"
    assert bn.ema_state_index is not None and bn.batch_state_index is None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.BatchNorm(3, "batch", mode="ema")
        nn.BatchNorm(3, "batch", mode="batch")
    with pytest.raises(ValueError, match="mode must be 'ema', 'batch' or 'legacy', got 'bn'"):
        nn.BatchNorm(3, "batch", mode="bn")  # type: ignore[arg-type]


@pytest.mark.parametrize("mode", ["batch", "ema"])
def test_batchnorm_gradients_through_running_statistics_match_equinox(mode: str) -> None:
    """A layer called twice in one loss (a GAN discriminator on real, then fake data):
    the second call depends on the first through the running statistics, and the
    gradients follow that dependence exactly as Equinox's do."""
    bn, state, ref, ref_state = _both_batchnorms(mode, momentum=0.5)
    x1, x2 = jnp.asarray(_random((4, 3, 2))), jnp.asarray(_random((4, 3, 2), seed=1) * 3)
    ct = jnp.asarray(_random((4, 3, 2), seed=2))

    def loss(model: Any, xs: tuple[jax.Array, jax.Array], s: Any, cut: bool = False) -> jax.Array:
        y1, s = _batched(model)(xs[0] * model.weight[:, None], s)
        if cut:  # what a stop_gradient on the running statistics would do
            s = jax.lax.stop_gradient(s)
        y2, _ = _batched(model)(xs[1], s)
        return jnp.sum(y1 * ct) + jnp.sum(y2**2 * ct)

    grads = eqx.filter_grad(loss)(bn, (x1, x2), state)
    ref_grads = eqxr.filter_grad(loss)(ref, (x1, x2), ref_state)
    assert_same_leaves((grads.weight, grads.bias), (ref_grads.weight, ref_grads.bias))
    input_grads = jax.grad(lambda xs: loss(bn, xs, state))((x1, x2))
    ref_input_grads = jax.grad(lambda xs: loss(ref, xs, ref_state))((x1, x2))
    assert_same_leaves(input_grads, ref_input_grads)
    if mode == "ema":
        # Training normalises with the updated running statistics: the first batch
        # reaches the second call's output through the state, and cutting that path
        # changes the gradients.
        cut_grads = jax.grad(lambda xs: loss(bn, xs, state, cut=True))((x1, x2))
        assert float(jnp.max(jnp.abs(cut_grads[0] - input_grads[0]))) > 1e-2


def test_batchnorm_training_matches_torch() -> None:
    bn, state = nn.make_with_state(nn.BatchNorm)(3, "batch", mode="batch", momentum=0.9)
    torch_bn = torch.nn.BatchNorm1d(3, momentum=0.1, eps=1e-5)
    bn = _randomise_affine(bn, torch_bn)
    for step in range(2):
        x = _random((4, 3, 5), seed=10 + step) * (step + 1)
        y, state = _batched(bn)(jnp.asarray(x), state)
        np.testing.assert_allclose(y, _np(torch_bn(torch.tensor(x))), rtol=RTOL, atol=ATOL)


def test_batchnorm_gradients_match_torch() -> None:
    bn, state = nn.make_with_state(nn.BatchNorm)(3, "batch", mode="batch")
    torch_bn = torch.nn.BatchNorm1d(3)
    x, ct = _random((5, 3, 2)), _random((5, 3, 2), seed=3)
    t_out, t_gx, t_params = _torch_grads(torch_bn, x, ct)

    def loss(params: tuple[jax.Array, jax.Array], xs: jax.Array) -> jax.Array:
        model = eqx.tree_at(lambda m: (m.weight, m.bias), bn, params)
        y, _ = _batched(model)(xs, state)
        return jnp.sum(y * ct)

    (gw, gb), gx = jax.grad(loss, argnums=(0, 1))((bn.weight, bn.bias), jnp.asarray(x))
    np.testing.assert_allclose(gx, t_gx, rtol=RTOL, atol=1e-4)
    np.testing.assert_allclose(gw, t_params["weight"], rtol=RTOL, atol=1e-4)
    np.testing.assert_allclose(gb, t_params["bias"], rtol=RTOL, atol=1e-4)


def test_batchnorm_multiple_axis_names() -> None:
    bn, state = nn.make_with_state(nn.BatchNorm)(2, ["a", "b"], mode="batch")
    assert bn.axis_name == ("a", "b")
    x = jnp.asarray(_random((2, 3, 2)))
    inner = jax.vmap(lambda x, s: bn(x, s), axis_name="b", in_axes=(0, None), out_axes=(0, None))
    y, _ = jax.vmap(inner, axis_name="a", in_axes=(0, None), out_axes=(0, None))(x, state)
    flat = x.reshape(6, 2)
    ref = (flat - flat.mean(0)) / jnp.sqrt(flat.var(0) + 1e-5)
    np.testing.assert_allclose(y.reshape(6, 2), ref, rtol=1e-5, atol=1e-6)


def test_batchnorm_without_vmap_names_the_axis() -> None:
    bn, state = nn.make_with_state(nn.BatchNorm)(2, "batch", mode="batch")
    with pytest.raises(NameError, match="batch"):
        bn(jnp.ones(2), state)


def test_batchnorm_wrong_channels_raises(typechecker: str) -> None:
    bn, state = nn.make_with_state(nn.BatchNorm)(3, "batch", mode="batch")
    with pytest.raises(eqx.TypeCheckError, match=r"(?s)BatchNorm.__call__.*`x`.*input_size=3"):
        bn(jnp.ones((4, 2)), state)


def test_batchnorm_under_jit_and_filter_jit() -> None:
    bn, state = nn.make_with_state(nn.BatchNorm)(3, "batch", mode="batch")
    x = jnp.asarray(_random((4, 3)))
    expected, expected_state = _batched(bn)(x, state)
    traces = 0

    def step(x: jax.Array, s: nn.State) -> Any:
        nonlocal traces
        traces += 1
        return _batched(bn)(x, s)

    jitted = jax.jit(step)
    y, s1 = jitted(x, state)
    y, s2 = jitted(x, s1)  # same structure: no retrace
    assert traces == 1
    np.testing.assert_allclose(jitted(x, state)[0], expected, rtol=1e-6)
    assert bn.batch_state_index is not None
    np.testing.assert_allclose(
        s1.get(bn.batch_state_index)[0], expected_state.get(bn.batch_state_index)[0], rtol=1e-6
    )
    out, _ = eqx.filter_jit(lambda m, x, s: _batched(m)(x, s))(bn, x, state)
    np.testing.assert_allclose(out, expected, rtol=1e-6)


@pytest.mark.parametrize(
    "make",
    [
        lambda: nn.LayerNorm((2, 3)),
        lambda: nn.RMSNorm(4),
        lambda: nn.GroupNorm(2, 4),
        lambda: nn.BatchNorm(3, "batch", mode="batch"),
    ],
)
def test_norms_roundtrip_flatten_and_pickle(make: Any) -> None:
    layer = make()
    leaves, treedef = jax.tree_util.tree_flatten(layer)
    rebuilt = jax.tree_util.tree_unflatten(treedef, leaves)
    assert eqx.tree_equal(rebuilt, layer)
    unpickled = pickle.loads(pickle.dumps(layer))
    assert eqx.tree_equal(unpickled, layer)
    assert type(unpickled) is type(layer)


def test_norms_under_jit_vmap() -> None:
    layer = nn.LayerNorm(3)
    x = jnp.asarray(_random((4, 3)))
    expected = jnp.stack([layer(row) for row in x])
    np.testing.assert_allclose(jax.jit(jax.vmap(layer))(x), expected, rtol=1e-6)
    np.testing.assert_allclose(
        eqx.filter_jit(lambda m, x: jax.vmap(m)(x))(layer, x), expected, rtol=1e-6
    )


def test_checks_always_run_inside_vmap(typechecker: str) -> None:
    bn, state = nn.make_with_state(nn.BatchNorm)(3, "batch", mode="batch")
    with eqx.checks("always"):
        y, _ = _batched(bn)(jnp.ones((2, 3, 4)), state)
        assert y.shape == (2, 3, 4)
        with pytest.raises(eqx.TypeCheckError, match=r"(?s)BatchNorm.__call__.*f32\[4,3\]"):
            _batched(bn)(jnp.ones((2, 4, 3)), state)
        with pytest.raises(eqx.TypeCheckError, match=r"(?s)LayerNorm.__call__.*f32\[2\]"):
            jax.vmap(nn.LayerNorm(3))(jnp.ones((5, 2)))
