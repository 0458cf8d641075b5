"""Lambda, Dropout, MLP, PReLU and Embedding (against PyTorch or plain jax.numpy), and
every layer of this group under jax.jit, eqx.filter_jit, jax.vmap, eqx.filter_grad,
tree flatten/unflatten and pickle."""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
import pytest
import torch

import equinox_typed as eqx
import equinox_typed.nn as nn

from ._helpers import raises_check_error

KEY = jax.random.key(0)
TOL = {"rtol": 1e-5, "atol": 1e-5}


def _t(a: Any, grad: bool = False) -> torch.Tensor:
    return torch.tensor(np.asarray(a), requires_grad=grad)


# ---------------------------------------------------------------------------------------
# Lambda


def test_lambda_applies_its_function_and_carries_pytree_leaves() -> None:
    x = jnp.array([-1.0, 0.5])
    np.testing.assert_allclose(nn.Lambda(jnp.tanh)(x), jnp.tanh(x))
    scale = jnp.array(3.0)
    layer = nn.Lambda(eqx.Partial(jnp.multiply, scale))
    np.testing.assert_allclose(layer(x, key=KEY), 3 * x)
    # The Partial's array is a leaf of the layer, so it is differentiable.
    grads = jax.grad(lambda m: jnp.sum(m(x)))(layer)
    np.testing.assert_allclose(grads.fn.args[0], jnp.sum(x))


# ---------------------------------------------------------------------------------------
# Dropout


def test_dropout_statistics() -> None:
    p = 0.3
    x = jnp.ones(20_000)
    y = nn.Dropout(p)(x, key=KEY)
    dropped = float(jnp.mean(y == 0))
    assert abs(dropped - p) < 0.015
    kept = y[y != 0]
    np.testing.assert_allclose(kept, 1 / (1 - p), rtol=1e-6)
    # Different keys drop different elements; the same key the same ones.
    assert not np.array_equal(y, nn.Dropout(p)(x, key=jax.random.key(1)))
    np.testing.assert_array_equal(y, nn.Dropout(p)(x, key=KEY))


def test_dropout_gradient_is_mask_over_keep_probability() -> None:
    x = jnp.arange(1.0, 7.0)
    dropout = nn.Dropout(0.5)
    grad = jax.grad(lambda x: jnp.sum(dropout(x, key=KEY)))(x)
    mask = dropout(x, key=KEY) != 0
    np.testing.assert_allclose(grad, jnp.where(mask, 2.0, 0.0))


def test_dropout_inference_passthrough() -> None:
    x = jnp.arange(4.0)
    assert nn.Dropout(0.5, inference=True)(x) is x
    assert nn.Dropout(0.5)(x, inference=True) is x
    assert nn.Dropout(0.5)(x, deterministic=True) is x
    assert nn.Dropout(0.0)(x) is x  # p=0 needs no key
    assert nn.Dropout(0)(x) is x
    # The call's `inference` overrides the layer's.
    trained = nn.Dropout(0.5, inference=True)(jnp.ones(100), key=KEY, inference=False)
    assert float(jnp.mean(trained == 0)) > 0.2
    with pytest.warns(DeprecationWarning, match="inference"):
        old = nn.Dropout(0.5, deterministic=True)
    assert old.inference is True


def test_dropout_without_key_when_training_says_what_to_do() -> None:
    with pytest.raises(RuntimeError, match=r"needs a `key`.*inference=True"):
        nn.Dropout(0.5)(jnp.ones(3))


def test_dropout_keeps_low_precision_dtype() -> None:
    y = nn.Dropout(0.5)(jnp.ones(8, jnp.bfloat16), key=KEY)
    assert y.dtype == jnp.bfloat16


# ---------------------------------------------------------------------------------------
# MLP


def _mlp_reference(mlp: nn.MLP, x: jax.Array, activation: Callable[..., Any], final: Callable[..., Any]) -> jax.Array:
    h = jnp.reshape(x, (-1,))
    for i, layer in enumerate(mlp.layers):
        h = layer.weight @ h + (0 if layer.bias is None else layer.bias)
        h = activation(h) if i < len(mlp.layers) - 1 else final(h)
    return h.reshape(()) if mlp.out_size == "scalar" else h


@pytest.mark.parametrize(
    ("in_size", "out_size", "depth", "use_bias", "use_final_bias"),
    [(3, 2, 2, True, True), (3, 2, 0, True, False), ("scalar", "scalar", 1, False, True)],
)
def test_mlp_matches_jnp_reference(
    in_size: Any, out_size: Any, depth: int, use_bias: bool, use_final_bias: bool
) -> None:
    mlp = nn.MLP(
        in_size,
        out_size,
        width_size=5,
        depth=depth,
        activation=jnp.tanh,
        final_activation=jax.nn.sigmoid,
        use_bias=use_bias,
        use_final_bias=use_final_bias,
        key=KEY,
    )
    assert len(mlp.layers) == depth + 1
    assert all(layer.use_bias == use_bias for layer in mlp.layers[:-1])
    assert mlp.layers[-1].use_bias == use_final_bias
    x = jax.random.normal(jax.random.key(1), () if in_size == "scalar" else (in_size,))
    expected = _mlp_reference(mlp, x, jnp.tanh, jax.nn.sigmoid)
    np.testing.assert_allclose(mlp(x), expected, **TOL)
    assert mlp(x).shape == (() if out_size == "scalar" else (out_size,))


def test_mlp_default_activations_are_relu_and_identity() -> None:
    mlp = nn.MLP(3, 4, 6, 2, key=KEY)
    x = jax.random.normal(jax.random.key(2), (3,))
    np.testing.assert_allclose(mlp(x), _mlp_reference(mlp, x, jax.nn.relu, lambda h: h), **TOL)
    assert mlp.layers[1].weight.shape == (6, 6)
    assert mlp.layers[0].weight.dtype == jnp.float32
    assert nn.MLP(3, 4, 6, 1, dtype=jnp.float16, key=KEY).layers[1].weight.dtype == jnp.float16


def test_mlp_wrong_input_size(typechecker: str) -> None:
    mlp = nn.MLP(2, 3, 8, 2, key=KEY)
    with raises_check_error(
        "MLP.__call__",
        "argument `x`",
        "Num[Array, '*in_size']",
        "f32[3]",
        "in_size=2",
    ):
        mlp(jnp.ones(3))


@pytest.mark.parametrize("how", ["eager", "filter_jit", "jax.jit"])
def test_mlp_with_a_wrongly_sized_layer_swapped_in(how: str, typechecker: str) -> None:
    mlp = nn.MLP(2, 3, 8, 2, key=KEY)
    bad = eqx.tree_at(lambda m: m.layers[1], mlp, nn.Linear(5, 8, key=KEY))
    params, static = eqx.partition(bad, eqx.is_array)
    calls: dict[str, Callable[[], Any]] = {
        "eager": lambda: bad(jnp.ones(2)),
        "filter_jit": lambda: eqx.filter_jit(lambda m, x: m(x))(bad, jnp.ones(2)),
        # The activations are functions, so plain jax.jit sees the arrays only.
        "jax.jit": lambda: jax.jit(lambda p, x: eqx.combine(p, static)(x))(params, jnp.ones(2)),
    }
    with raises_check_error(
        "MLP",
        "`.layers[1]`",
        "expected: Linear with in_features=8",
        "got:      Linear with in_features=5, out_features=8",
    ):
        calls[how]()


def test_mlp_layer_chain_checked_at_construction() -> None:
    mlp = nn.MLP(2, 3, 8, 1, key=KEY)
    wrong_end = eqx.tree_at(lambda m: m.layers[1], mlp, nn.Linear(8, 4, key=KEY))
    with pytest.raises(eqx.TypeCheckError, match=r"(?s)does not give out_size.*out_features=3"):
        wrong_end.__check_init__()
    too_short = eqx.tree_at(lambda m: m.layers, mlp, mlp.layers[:1])
    with pytest.raises(eqx.TypeCheckError, match="holds 1 layers, but depth=1 needs 2"):
        too_short.__check_init__()


# ---------------------------------------------------------------------------------------
# PReLU


@pytest.mark.parametrize("per_channel", [False, True])
def test_prelu_matches_torch(per_channel: bool) -> None:
    channels = 4
    init = jnp.linspace(0.1, 0.4, channels) if per_channel else 0.25
    prelu = nn.PReLU(init)
    x = jax.random.normal(jax.random.key(1), (5, channels))
    cotangent = jax.random.normal(jax.random.key(2), (5, channels))

    def loss(prelu: nn.PReLU, x: jax.Array) -> jax.Array:
        return jnp.sum(jax.vmap(prelu)(x) * cotangent)

    out = jax.vmap(prelu)(x)
    grad_prelu, grad_x = jax.grad(loss, argnums=(0, 1))(prelu, x)

    torch_prelu = torch.nn.PReLU(channels if per_channel else 1)
    with torch.no_grad():
        torch_prelu.weight.copy_(_t(jnp.reshape(prelu.negative_slope, (-1,))))
    tx = _t(x, True)
    tout = torch_prelu(tx)  # channels on axis 1 of a (batch, channels) input
    (tout * _t(cotangent)).sum().backward()
    np.testing.assert_allclose(out, tout.detach().numpy(), **TOL)
    np.testing.assert_allclose(grad_x, tx.grad.numpy(), **TOL)
    np.testing.assert_allclose(
        jnp.reshape(grad_prelu.negative_slope, (-1,)), torch_prelu.weight.grad.numpy(), **TOL
    )


def test_prelu_defaults() -> None:
    prelu = nn.PReLU()
    assert prelu.negative_slope.shape == () and prelu.negative_slope.dtype == jnp.float32
    np.testing.assert_allclose(prelu(jnp.array([-2.0, 3.0])), [-0.5, 3.0])


# ---------------------------------------------------------------------------------------
# Embedding


def test_embedding_matches_torch() -> None:
    embedding = nn.Embedding(6, 3, key=KEY)
    indices = jnp.array([0, 4, 4, 5])
    cotangent = jax.random.normal(jax.random.key(2), (4, 3))

    def loss(embedding: nn.Embedding) -> jax.Array:
        return jnp.sum(jax.vmap(embedding)(indices) * cotangent)

    out = jax.vmap(embedding)(indices)
    grad = jax.grad(loss)(embedding)
    torch_embedding = torch.nn.Embedding.from_pretrained(_t(embedding.weight), freeze=False)
    tout = torch_embedding(torch.tensor(np.asarray(indices)))
    (tout * _t(cotangent)).sum().backward()
    np.testing.assert_allclose(out, tout.detach().numpy(), **TOL)
    # Row 4 is used twice: its gradient accumulates.
    np.testing.assert_allclose(grad.weight, torch_embedding.weight.grad.numpy(), **TOL)


def test_embedding_initialisation_and_given_weight() -> None:
    big = nn.Embedding(2000, 8, key=KEY)
    assert big.weight.shape == (2000, 8) and big.weight.dtype == jnp.float32
    assert abs(float(jnp.mean(big.weight))) < 0.05
    assert abs(float(jnp.std(big.weight)) - 1.0) < 0.05  # standard normal, like PyTorch
    weight = jnp.arange(6.0).reshape(3, 2)
    given = nn.Embedding(weight=weight)
    assert (given.num_embeddings, given.embedding_size) == (3, 2)
    np.testing.assert_array_equal(given(2), weight[2])
    np.testing.assert_array_equal(given(jnp.array(1, jnp.int32)), weight[1])
    with pytest.raises(ValueError, match="num_embeddings=4"):
        nn.Embedding(4, 2, weight=weight)
    with pytest.raises(ValueError, match="needs num_embeddings, embedding_size and key"):
        nn.Embedding(4, 2)


def test_embedding_index_checks(typechecker: str) -> None:
    embedding = nn.Embedding(5, 3, key=KEY)
    with raises_check_error("Embedding.__call__", "argument `x`", "i32[2]", "Integer[Array, '']"):
        embedding(jnp.array([1, 2]))
    with pytest.raises(eqx.TypeCheckError, match=r"f32\[\]"):
        embedding(jnp.array(1.0))
    # Inside a trace the eager check is off; the layer still refuses a non-scalar index.
    with pytest.raises(ValueError, match="one scalar index"):
        jax.vmap(embedding)(jnp.zeros((3, 2), jnp.int32))


# ---------------------------------------------------------------------------------------
# Every layer under the transformations, flattening and pickling.


def _tanh(x: Any) -> Any:
    return jnp.tanh(x)


def _normal(shape: tuple[int, ...], seed: int = 1) -> jax.Array:
    return jax.random.normal(jax.random.key(seed), shape)


# name -> (layer factory, example arguments, keyword arguments for every call)
CASES: dict[str, tuple[Callable[[], Any], Callable[[], tuple[Any, ...]], dict[str, Any]]] = {
    "Linear": (lambda: nn.Linear(3, 4, key=KEY), lambda: (_normal((3,)),), {}),
    "Linear-scalar": (lambda: nn.Linear("scalar", "scalar", key=KEY), lambda: (_normal(()),), {}),
    "Identity": (lambda: nn.Identity(), lambda: (_normal((3,)),), {}),
    "Lambda": (lambda: nn.Lambda(_tanh), lambda: (_normal((3,)),), {}),
    "Dropout": (lambda: nn.Dropout(0.3), lambda: (_normal((6,)),), {"key": KEY}),
    "MLP": (lambda: nn.MLP(3, 2, 4, 2, key=KEY), lambda: (_normal((3,)),), {}),
    "MLP-scalar": (lambda: nn.MLP("scalar", "scalar", 4, 1, key=KEY), lambda: (_normal(()),), {}),
    "PReLU": (lambda: nn.PReLU(), lambda: (_normal((3,)),), {}),
    "GRUCell": (lambda: nn.GRUCell(3, 4, key=KEY), lambda: (_normal((3,)), _normal((4,), 2)), {}),
    "LSTMCell": (
        lambda: nn.LSTMCell(3, 4, key=KEY),
        lambda: (_normal((3,)), (_normal((4,), 2), _normal((4,), 3))),
        {},
    ),
    "Embedding": (lambda: nn.Embedding(5, 3, key=KEY), lambda: (jnp.array(2),), {}),
    "MultiheadAttention": (
        lambda: nn.MultiheadAttention(2, 4, dropout_p=0.2, key=KEY),
        lambda: (_normal((3, 4)), _normal((2, 4), 2), _normal((2, 4), 3)),
        {"key": KEY},
    ),
    "RotaryPositionalEmbedding": (
        lambda: nn.RotaryPositionalEmbedding(4),
        lambda: (_normal((3, 4)),),
        {},
    ),
}


def _assert_trees_close(a: Any, b: Any) -> None:
    assert jtu.tree_structure(a) == jtu.tree_structure(b)
    for x, y in zip(jtu.tree_leaves(a), jtu.tree_leaves(b), strict=True):
        np.testing.assert_allclose(x, y, rtol=1e-5, atol=1e-6)


def _loss(out: Any) -> jax.Array:
    return sum((jnp.sum(leaf) for leaf in jtu.tree_leaves(out)), jnp.array(0.0))


@pytest.fixture(params=sorted(CASES))
def case(request: pytest.FixtureRequest) -> tuple[Any, tuple[Any, ...], dict[str, Any]]:
    make_layer, make_args, kwargs = CASES[request.param]
    return make_layer(), make_args(), kwargs


def test_layer_under_jax_jit(case: Any) -> None:
    layer, args, kwargs = case
    expected = layer(*args, **kwargs)
    # jax.jit traces every leaf, so Python bools/floats (Dropout's) go in the static half.
    params, static = eqx.partition(layer, eqx.is_array)
    out = jax.jit(lambda p, *a: eqx.combine(p, static)(*a, **kwargs))(params, *args)
    _assert_trees_close(out, expected)


def test_layer_under_filter_jit(case: Any) -> None:
    layer, args, kwargs = case
    traces = 0

    @eqx.filter_jit
    def call(layer: Any, *args: Any) -> Any:
        nonlocal traces
        traces += 1
        return layer(*args, **kwargs)

    expected = layer(*args, **kwargs)
    _assert_trees_close(call(layer, *args), expected)
    _assert_trees_close(call(layer, *args), expected)
    assert traces == 1


def test_layer_under_vmap(case: Any) -> None:
    layer, args, kwargs = case
    batched = jtu.tree_map(lambda a: jnp.stack([a, a + 1]), args)
    out = jax.vmap(lambda *a: layer(*a, **kwargs))(*batched)
    for i in range(2):
        example = jtu.tree_map(lambda a: a[i], batched)
        _assert_trees_close(jtu.tree_map(lambda o: o[i], out), layer(*example, **kwargs))


def test_layer_under_filter_grad(case: Any) -> None:
    filter_grad = getattr(eqx, "filter_grad", None)
    if filter_grad is None:
        pytest.skip("eqx.filter_grad is not available yet")
    layer, args, kwargs = case
    grads = filter_grad(lambda m: _loss(m(*args, **kwargs)))(layer)
    params, static = eqx.partition(layer, eqx.is_inexact_array)
    expected = jax.grad(lambda p: _loss(eqx.combine(p, static)(*args, **kwargs)))(params)
    _assert_trees_close(eqx.filter(grads, eqx.is_array), eqx.filter(expected, eqx.is_array))


def test_layer_flatten_unflatten_and_pickle(case: Any) -> None:
    layer, args, kwargs = case
    leaves, treedef = jtu.tree_flatten(layer)
    rebuilt = jtu.tree_unflatten(treedef, leaves)
    assert type(rebuilt) is type(layer)
    assert jtu.tree_structure(rebuilt) == treedef
    expected = layer(*args, **kwargs)
    _assert_trees_close(rebuilt(*args, **kwargs), expected)
    unpickled = pickle.loads(pickle.dumps(layer))
    assert type(unpickled) is type(layer)
    assert jtu.tree_structure(unpickled) == treedef
    _assert_trees_close(unpickled(*args, **kwargs), expected)
