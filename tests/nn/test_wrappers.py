"""Sequential, inference_mode, Shared, WeightNorm and SpectralNorm."""

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
from equinox_typed._shared_node import SharedNode

from ._helpers import assert_same_leaves

KEYS = jax.random.split(jax.random.key(0), 8)


def _relu(x: jax.Array) -> jax.Array:
    return jnp.maximum(x, 0)  # a module-level function, so the model pickles


def _mlp() -> nn.Sequential:
    return nn.Sequential(
        [nn.Linear(3, 4, key=KEYS[0]), nn.Lambda(_relu), nn.Linear(4, 2, key=KEYS[1])]
    )


# ---------------------------------------------------------------------------------------
# Sequential


def test_sequential_matches_manual_composition() -> None:
    seq = _mlp()
    x = jax.random.normal(KEYS[2], (3,))
    first, last = seq.layers[0], seq.layers[2]
    expected = last(jax.nn.relu(first(x)))
    np.testing.assert_allclose(seq(x), expected, rtol=1e-6)
    np.testing.assert_allclose(jax.jit(lambda x: seq(x))(x), expected, rtol=1e-6)
    np.testing.assert_allclose(eqx.filter_jit(lambda m, x: m(x))(seq, x), expected, rtol=1e-6)
    np.testing.assert_allclose(jax.vmap(seq)(jnp.stack([x, x]))[1], expected, rtol=1e-6)


def test_sequential_indexing_slicing_len_iter() -> None:
    seq = _mlp()
    assert len(seq) == 3
    assert seq[0] is seq.layers[0]
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and len(tail) == 2
    h = jnp.arange(4.0) - 2
    np.testing.assert_allclose(tail(h), seq.layers[2](jax.nn.relu(h)), rtol=1e-6)
    assert list(seq) == list(seq.layers)


def test_sequential_gradients_and_pytree() -> None:
    seq = _mlp()
    x = jax.random.normal(KEYS[2], (3,))

    def loss(params: Any) -> jax.Array:
        model = eqx.combine(params, static)
        return jnp.sum(model(x) ** 2)

    params, static = eqx.partition(seq, eqx.is_inexact_array)
    grads = jax.grad(loss)(params)
    w0, b0, w2 = seq.layers[0].weight, seq.layers[0].bias, seq.layers[2].weight

    def direct(w0: jax.Array, w2: jax.Array) -> jax.Array:
        h = jax.nn.relu(w0 @ x + b0)
        return jnp.sum((w2 @ h + seq.layers[2].bias) ** 2)

    g0, g2 = jax.grad(direct, argnums=(0, 1))(w0, w2)
    np.testing.assert_allclose(grads.layers[0].weight, g0, rtol=1e-5)
    np.testing.assert_allclose(grads.layers[2].weight, g2, rtol=1e-5)
    leaves, treedef = jax.tree_util.tree_flatten(params)
    assert eqx.tree_equal(jax.tree_util.tree_unflatten(treedef, leaves), params)
    unpickled = pickle.loads(pickle.dumps(seq))
    np.testing.assert_allclose(unpickled(x), seq(x), rtol=1e-6)


# ---------------------------------------------------------------------------------------
# inference_mode


def test_inference_mode_switches_nested_layers() -> None:
    model = nn.Sequential(
        [nn.Dropout(0.5), nn.Sequential([nn.BatchNorm(3, "batch", mode="batch"), nn.Dropout(0.1)])]
    )
    inner = model.layers[1]
    assert not model.layers[0].inference and not inner.layers[0].inference
    evaluated = nn.inference_mode(model)
    assert evaluated.layers[0].inference is True
    assert evaluated.layers[1].layers[0].inference is True
    assert evaluated.layers[1].layers[1].inference is True
    assert evaluated.layers[1].layers[1].p == 0.1  # nothing else changes
    assert model.layers[0].inference is False  # a copy: the original is untouched
    back = nn.inference_mode(evaluated, value=False)
    assert back.layers[1].layers[0].inference is False
    # The markers (and so the State) still match the original model.
    state = nn.State(model)
    assert state.get(evaluated.layers[1].layers[0].batch_state_index) is not None


def test_inference_mode_makes_dropout_deterministic() -> None:
    model = nn.Sequential([nn.Dropout(0.5)])
    x = jnp.ones(100)
    trained = model(x, key=KEYS[3])
    assert not jnp.allclose(trained, x)
    np.testing.assert_array_equal(nn.inference_mode(model)(x, key=KEYS[3]), x)


# ---------------------------------------------------------------------------------------
# Shared


def _output_weight(pair: Any) -> Any:
    return pair[1].weight


def _embedding_weight(pair: Any) -> Any:
    return pair[0].weight


def _tied() -> tuple[nn.Shared, nn.Embedding, nn.Linear]:
    embedding = nn.Embedding(5, 3, key=KEYS[4])
    linear = nn.Linear(3, 5, use_bias=False, key=KEYS[5])
    shared = nn.Shared((embedding, linear), where=_output_weight, get=_embedding_weight)
    return shared, embedding, linear


def test_shared_ties_weights() -> None:
    shared, embedding, linear = _tied()
    embed, lin = shared()
    assert lin.weight is embed.weight
    np.testing.assert_array_equal(lin.weight, embedding.weight)
    tokens = jnp.array(2)
    np.testing.assert_allclose(lin(embed(tokens)), embedding.weight @ embedding.weight[2])


def test_shared_gradients_accumulate_into_one_copy() -> None:
    shared, embedding, _ = _tied()

    def loss(model: nn.Shared) -> jax.Array:
        embed, lin = model()
        return jnp.sum(lin(embed(jnp.array(1))) ** 2)

    params, static = eqx.partition(shared, eqx.is_inexact_array)
    grads = jax.grad(lambda p: loss(eqx.combine(p, static)))(params)
    W = embedding.weight

    def direct(w: jax.Array) -> jax.Array:
        return jnp.sum((w @ w[1]) ** 2)

    np.testing.assert_allclose(grads.pytree[0].weight, jax.grad(direct)(W), rtol=1e-5)
    assert grads.pytree[1].weight is None  # no second copy: nothing to differentiate
    # After an update, the tie still holds: the stale copy is never read.
    updated = eqx.apply_updates(shared, jax.tree_util.tree_map(lambda g: -0.1 * g, grads))
    embed, lin = updated()
    np.testing.assert_allclose(lin.weight, W - 0.1 * jax.grad(direct)(W), rtol=1e-5)


def test_shared_under_jit_and_pickle() -> None:
    shared, embedding, _ = _tied()
    run = eqx.filter_jit(lambda s, t: s()[1](s()[0](t)))
    np.testing.assert_allclose(run(shared, jnp.array(4)), embedding.weight @ embedding.weight[4])
    unpickled = pickle.loads(pickle.dumps(shared))
    leaves, treedef = jax.tree_util.tree_flatten(unpickled)
    rebuilt = jax.tree_util.tree_unflatten(treedef, leaves)
    np.testing.assert_array_equal(rebuilt()[1].weight, embedding.weight)


def test_shared_refuses_mismatched_nodes() -> None:
    embedding = nn.Embedding(5, 3, key=KEYS[4])
    linear = nn.Linear(5, 3, use_bias=False, key=KEYS[5])  # weight (3, 5), not (5, 3)
    with pytest.raises(ValueError) as info:
        nn.Shared((embedding, linear), lambda p: p[1].weight, lambda p: p[0].weight)
    message = str(info.value)
    assert "same tree structure, shapes and dtypes" in message
    assert "get(pytree) gives:   PyTreeDef(*) with leaves [float32[5, 3]]" in message
    assert "where(pytree) picks: PyTreeDef(*) with leaves [float32[3, 5]]" in message
    # Whole layers: the structures are named, static sizes included.
    with pytest.raises(ValueError, match=r"(?s)gives: .*Linear\[\(3, 4, True\)\].*picks: .*Linear\[\(3, 5, True\)\]"):
        nn.Shared(
            (nn.Linear(3, 4, key=KEYS[0]), nn.Linear(3, 5, key=KEYS[1])),
            lambda p: p[1],
            lambda p: p[0],
        )
    # `get` may compute (here a transpose), evaluated abstractly.
    square = nn.Linear(3, 5, use_bias=False, key=KEYS[5])
    shared = nn.Shared((embedding, square), lambda p: p[1].weight, lambda p: p[0].weight)
    tied = nn.Shared((embedding, linear), lambda p: p[1].weight, lambda p: p[0].weight.T)
    np.testing.assert_array_equal(tied()[1].weight, embedding.weight.T)
    np.testing.assert_array_equal(shared()[1].weight, embedding.weight)


def test_shared_leaves_line_up_with_equinox() -> None:
    """A placeholder leaf where the tied weight was: the same leaves, array shapes and
    optimiser state as Equinox's, and the boundary checks take the placeholder as a
    hole (not a wrong value for `Linear.weight`)."""
    optax = pytest.importorskip("optax")

    def build(lib: Any) -> Any:
        embedding = lib.nn.Embedding(5, 3, key=KEYS[4])
        linear = lib.nn.Linear(3, 5, key=KEYS[5])
        return lib.nn.Shared((embedding, linear), _output_weight, _embedding_weight)

    shared, ref = build(eqx), build(eqxr)
    ours, theirs = jax.tree.leaves(shared), jax.tree.leaves(ref)
    assert [type(x).__name__ for x in ours] == [type(x).__name__ for x in theirs]
    assert repr(shared.pytree[1].weight) == repr(ref.pytree[1].weight) == "SharedNode"
    assert_same_leaves(eqx.filter(shared, eqx.is_array), eqxr.filter(ref, eqxr.is_array))
    opt = optax.adam(1e-2)
    assert_same_leaves(
        opt.init(eqx.filter(shared, eqx.is_array)), opt.init(eqxr.filter(ref, eqxr.is_array))
    )

    def loss(model: Any, tokens: jax.Array) -> jax.Array:
        embed, lin = model()
        return jnp.sum(jax.vmap(lambda t: lin(embed(t)))(tokens) ** 2)

    tokens = jnp.array([0, 3, 4])
    grads = eqx.filter_jit(eqx.filter_grad(loss))(shared, tokens)
    ref_grads = eqxr.filter_jit(eqxr.filter_grad(loss))(ref, tokens)
    assert_same_leaves(grads, ref_grads, rtol=1e-5)
    # A real wrong value at the placeholder's place is still caught.
    broken = eqx.tree_at(lambda s: s.pytree[1].weight, shared, jnp.ones(3), is_leaf=lambda x: isinstance(x, SharedNode))
    with pytest.raises(eqx.TypeCheckError, match=r"(?s)weight.*f32\[3\]"):
        eqx.filter_jit(loss)(broken, tokens)


# ---------------------------------------------------------------------------------------
# WeightNorm


@pytest.mark.parametrize("axis", [0, None])
def test_weight_norm_matches_torch(axis: int | None) -> None:
    linear = nn.Linear(3, 4, key=KEYS[6])
    torch_linear = torch.nn.Linear(3, 4)
    with torch.no_grad():
        torch_linear.weight.copy_(torch.tensor(np.asarray(linear.weight)))
        torch_linear.bias.copy_(torch.tensor(np.asarray(linear.bias)))
    layer = nn.WeightNorm(linear, axis=axis)
    # Change g away from its initial value so the normalisation matters.
    layer = eqx.tree_at(lambda m: m.g, layer, layer.g * 1.5)
    torch_layer = torch.nn.utils.parametrizations.weight_norm(
        torch_linear, dim=axis if axis is not None else None
    )
    with torch.no_grad():
        torch_layer.parametrizations.weight.original0.copy_(
            torch.tensor(np.asarray(layer.g).reshape(torch_layer.parametrizations.weight.original0.shape))
        )
    x = np.random.default_rng(0).normal(size=(2, 3)).astype(np.float32)
    ct = np.random.default_rng(1).normal(size=(2, 4)).astype(np.float32)
    tx = torch.tensor(x, requires_grad=True)
    (torch_layer(tx) * torch.tensor(ct)).sum().backward()

    def loss(m: Any, xs: jax.Array) -> jax.Array:
        return jnp.sum(jax.vmap(m)(xs) * ct)

    params, static = eqx.partition(layer, eqx.is_inexact_array)
    gm, gx = jax.grad(lambda p, xs: loss(eqx.combine(p, static), xs), argnums=(0, 1))(
        params, jnp.asarray(x)
    )
    np.testing.assert_allclose(
        jax.vmap(layer)(jnp.asarray(x)), torch_layer(torch.tensor(x)).detach(), rtol=1e-5, atol=1e-6
    )
    assert tx.grad is not None
    np.testing.assert_allclose(gx, tx.grad.numpy(), rtol=1e-5, atol=1e-6)
    pw = torch_layer.parametrizations.weight
    assert pw.original0.grad is not None and pw.original1.grad is not None
    np.testing.assert_allclose(gm.g.reshape(-1), pw.original0.grad.numpy().reshape(-1), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(gm.layer.weight, pw.original1.grad.numpy(), rtol=1e-5, atol=1e-5)


def test_weight_norm_initially_identity_and_errors() -> None:
    linear = nn.Linear(3, 4, key=KEYS[6])
    x = jnp.ones(3)
    np.testing.assert_allclose(nn.WeightNorm(linear)(x), linear(x), rtol=1e-5)
    wn = nn.WeightNorm(linear)
    np.testing.assert_allclose(jax.jit(lambda x: wn(x))(x), linear(x), rtol=1e-5)
    with pytest.raises(ValueError, match="no array field 'kernel'"):
        nn.WeightNorm(linear, weight_name="kernel")


# ---------------------------------------------------------------------------------------
# SpectralNorm


def _reference_spectral(
    w: jax.Array, u: jax.Array, v: jax.Array, iterations: int
) -> tuple[jax.Array, jax.Array, jax.Array]:
    for _ in range(iterations):  # u from v, then v from the new u
        u = w @ v
        u = u / jnp.linalg.norm(u)
        v = w.T @ u
        v = v / jnp.linalg.norm(v)
    return w / (u @ w @ v), u, v


def test_spectral_norm_matches_reference_and_converges() -> None:
    linear = nn.Linear(5, 4, key=KEYS[6])
    layer, state = nn.make_with_state(nn.SpectralNorm)(
        linear, "weight", num_power_iterations=2, key=KEYS[7]
    )
    u0, v0 = state.get(layer.uv_index)
    assert u0.shape == (4,) and v0.shape == (5,)
    x = jax.random.normal(KEYS[2], (5,))
    y, state = layer(x, state)
    w_ref, u_ref, v_ref = _reference_spectral(linear.weight, u0, v0, 2)
    np.testing.assert_allclose(y, w_ref @ x + linear.bias, rtol=1e-5, atol=1e-6)
    u1, v1 = state.get(layer.uv_index)
    np.testing.assert_allclose(u1, u_ref, rtol=1e-5, atol=1e-6)
    # Gradients with respect to the weight and the input match the reference.
    params, static = eqx.partition(layer, eqx.is_inexact_array)

    def loss(p: Any, x: jax.Array, s: nn.State) -> jax.Array:
        out, _ = eqx.combine(p, static)(x, s)
        return jnp.sum(out**2)

    def ref_loss(w: jax.Array, x: jax.Array) -> jax.Array:
        u, v = jax.lax.stop_gradient(_reference_spectral(w, u1, v1, 2)[1:])
        return jnp.sum(((w / (u @ w @ v)) @ x + linear.bias) ** 2)

    # jax.grad hands non-differentiated arguments over as they are, and calling the layer
    # supersedes the State it is given: pass a copy.
    copy = jax.tree_util.tree_map(lambda a: a, state)
    g, gx = jax.grad(loss, argnums=(0, 1))(params, x, copy)
    rw, rx = jax.grad(ref_loss, argnums=(0, 1))(linear.weight, x)
    np.testing.assert_allclose(g.layer.weight, rw, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(gx, rx, rtol=1e-5, atol=1e-6)
    # Many training calls converge to the true largest singular value.
    step = jax.jit(lambda s: layer(x, s)[1])
    for _ in range(30):
        state = step(state)
    u, v = state.get(layer.uv_index)
    sigma = jnp.linalg.svd(linear.weight, compute_uv=False)[0]
    np.testing.assert_allclose(u @ linear.weight @ v, sigma, rtol=1e-4)


@pytest.mark.parametrize("conv", [False, True])
def test_spectral_norm_matches_equinox_from_the_first_call(conv: bool) -> None:
    """The same key gives Equinox's vectors at creation (15 power-method steps from a
    random start), then the same outputs, states and gradients call after call."""

    def wrapped(lib: Any) -> Any:
        layer = lib.nn.Conv2d(2, 3, 3, key=KEYS[5]) if conv else lib.nn.Linear(5, 4, key=KEYS[5])
        return lib.nn.make_with_state(lib.nn.SpectralNorm)(layer, "weight", key=KEYS[7])

    (layer, state), (ref, ref_state) = wrapped(eqx), wrapped(eqxr)
    assert_same_leaves(state, ref_state)
    u, v = state.get(layer.uv_index)
    w = layer.layer.weight.reshape(layer.layer.weight.shape[0], -1)
    sigma = jnp.linalg.svd(w, compute_uv=False)[0]
    np.testing.assert_allclose(u @ w @ v, sigma, rtol=1e-3)  # already converged
    x = jax.random.normal(KEYS[2], (2, 6, 6) if conv else (5,))
    for _ in range(3):
        y, state = layer(x, state)
        ref_y, ref_state = ref(x, ref_state)
        assert_same_leaves((y, state), (ref_y, ref_state))

    def loss(model: Any, s: Any) -> jax.Array:
        return jnp.sum(model(x, s)[0] ** 2)

    assert_same_leaves(
        eqx.filter_grad(loss)(layer, state).layer, eqxr.filter_grad(loss)(ref, ref_state).layer
    )


def test_spectral_norm_refuses_vector_weights() -> None:
    with pytest.raises(ValueError, match=r"`bias` must have at least two dimensions.*\(4,\)"):
        nn.SpectralNorm(nn.Linear(3, 4, key=KEYS[0]), "bias", key=KEYS[1])


def test_spectral_norm_inference_keeps_state() -> None:
    layer, state = nn.make_with_state(nn.SpectralNorm)(
        nn.Linear(3, 3, key=KEYS[6]), "weight", key=KEYS[7]
    )
    u0, v0 = state.get(layer.uv_index)
    evaluated = nn.inference_mode(layer)
    y, state2 = evaluated(jnp.ones(3), state)
    np.testing.assert_array_equal(state2.get(layer.uv_index)[0], u0)
    w = layer.layer.weight
    np.testing.assert_allclose(y, (w / (u0 @ w @ v0)) @ jnp.ones(3) + layer.layer.bias, rtol=1e-5)
    # The layer's state serves any model built around the layer.
    seq = nn.Sequential([layer, nn.Lambda(jnp.sum)])
    out, state = seq(jnp.ones(3), state2)
    assert out.shape == ()
    leaves, treedef = jax.tree_util.tree_flatten(layer)
    assert eqx.tree_equal(jax.tree_util.tree_unflatten(treedef, leaves), layer)
    assert eqx.tree_equal(pickle.loads(pickle.dumps(layer)), layer)


def test_every_layer_class_is_strict() -> None:
    import inspect

    modules = [
        obj
        for obj in vars(eqx.nn).values()
        if inspect.isclass(obj) and issubclass(obj, eqx.Module)
    ]
    assert len(modules) > 40
    assert [m.__name__ for m in modules if not m._eqx_strict] == []  # type: ignore[attr-defined]


def test_sequential_is_subscriptable_like_its_stub():
    # The stubs make Sequential generic in its layer type; the run-time class must accept
    # the same subscript, in annotations that are evaluated (field checks resolve them).
    layer_type = nn.Sequential[nn.Linear]
    assert layer_type.__origin__ is nn.Sequential

    class Net(eqx.Module):
        body: nn.Sequential[nn.Linear]

    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an unresolvable annotation would warn
        net = Net(nn.Sequential([nn.Linear(2, 3, key=jax.random.key(0))]))
    assert net.body(jnp.ones(2)).shape == (3,)
    with pytest.raises(eqx.TypeCheckError, match=r"\.body"):
        Net(nn.Linear(2, 3, key=jax.random.key(0)))  # type: ignore[arg-type]
