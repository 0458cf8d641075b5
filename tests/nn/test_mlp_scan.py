"""MLP(scan=True): the hidden layers as one stacked Linear applied with jax.lax.scan,
against the unrolled MLP and Equinox 0.13.8 (learnt activations included)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import equinox as eqxr
import equinox_typed as eqx
import equinox_typed.nn as nn

from ._helpers import assert_same_leaves

KEY = jax.random.key(7)


def _random_slopes(mlp: Any, seed: int) -> Any:
    """Give every per-layer, per-neuron PReLU slope its own value (they start equal)."""
    slopes = mlp.activation.negative_slope
    new = jax.random.uniform(jax.random.key(seed), slopes.shape, slopes.dtype)
    return eqx.tree_at(lambda m: m.activation.negative_slope, mlp, new)


def _build(lib: Any, depth: int, scan: bool, learnt: bool) -> Any:
    activation = lib.nn.PReLU() if learnt else jax.nn.tanh
    final = lib.nn.PReLU() if learnt else (lambda x: x)
    mlp = lib.nn.MLP(3, 2, 4, depth, activation=activation, final_activation=final, scan=scan, key=KEY)
    if learnt:
        mlp = _random_slopes(mlp, seed=depth)
        mlp = lib.tree_at(
            lambda m: m.final_activation.negative_slope, mlp, jnp.array([0.1, 0.7])
        )
    return mlp


@pytest.mark.parametrize("learnt", [False, True])
@pytest.mark.parametrize("depth", [1, 2, 5])
def test_scan_matches_unrolled_and_equinox(depth: int, learnt: bool) -> None:
    x = jnp.array([0.3, -1.2, 2.0])
    unrolled, scanned = _build(eqx, depth, False, learnt), _build(eqx, depth, True, learnt)
    ref_unrolled, ref_scanned = _build(eqxr, depth, False, learnt), _build(eqxr, depth, True, learnt)
    # The stacked layer holds exactly the unrolled hidden layers.
    assert len(scanned.layers) == 3 and len(unrolled.layers) == depth + 1
    stacked = jax.tree.map(lambda *xs: jnp.stack(xs), *unrolled.layers[1:-1]) if depth > 1 else None
    if stacked is not None:
        assert_same_leaves(scanned.layers[1], stacked, rtol=0, atol=0)
    assert scanned.layers[1].weight.shape == (depth - 1, 4, 4)
    # Leaves (learnt slopes per layer and neuron included) line up with Equinox's.
    assert_same_leaves(eqx.filter(scanned, eqx.is_array), eqxr.filter(ref_scanned, eqxr.is_array))
    assert_same_leaves(eqx.filter(unrolled, eqx.is_array), eqxr.filter(ref_unrolled, eqxr.is_array))
    if learnt:
        assert scanned.activation.negative_slope.shape == (depth, 4)
    y = unrolled(x)
    np.testing.assert_allclose(scanned(x), y, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ref_scanned(x), y, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ref_unrolled(x), y, rtol=1e-6, atol=1e-7)


def test_scan_under_filter_jit_and_filter_grad() -> None:
    """Gradients of the scanned MLP are the unrolled MLP's, stacked; one trace per
    signature; the boundary checks take the stacked layer as a stack of Linears."""
    xs = jax.random.normal(jax.random.key(1), (6, 3))
    unrolled, scanned = _build(eqx, 4, False, True), _build(eqx, 4, True, True)
    traces = 0

    def loss(model: nn.MLP, xs: jax.Array) -> jax.Array:
        nonlocal traces
        traces += 1
        return jnp.mean(jax.vmap(model)(xs) ** 2)

    step = eqx.filter_jit(eqx.filter_value_and_grad(loss))
    value, grads = step(scanned, xs)
    value_again, _ = step(scanned, xs + 1)
    ref_value, ref_grads = eqx.filter_value_and_grad(loss)(unrolled, xs)
    assert traces == 2  # one filter_jit trace, one eager reference
    np.testing.assert_allclose(value, ref_value, rtol=1e-6)
    assert float(value_again) != float(value)
    stacked = jax.tree.map(lambda *g: jnp.stack(g), *ref_grads.layers[1:-1])
    assert_same_leaves(grads.layers[1], stacked, rtol=1e-5, atol=1e-7)
    assert_same_leaves(grads.layers[0], ref_grads.layers[0], rtol=1e-5, atol=1e-7)
    assert_same_leaves(grads.activation, ref_grads.activation, rtol=1e-5, atol=1e-7)


def test_scan_layer_chain_errors() -> None:
    mlp = nn.MLP(3, 2, 4, 3, scan=True, key=KEY)
    assert mlp.scan and not nn.MLP(3, 2, 4, 3, key=KEY).scan
    short = eqx.tree_at(
        lambda m: m.layers[1], mlp, jax.tree.map(lambda a: a[:1], mlp.layers[1])
    )
    with pytest.raises(eqx.TypeCheckError, match=r"stacked hidden layers.*\(2, out_features, in_features\) for depth=3, got \(1, 4, 4\)"):
        short(jnp.ones(3))
    with pytest.raises(eqx.TypeCheckError, match=r"holds 4 layers, but depth=3 needs 3 \(scan=True"):
        eqx.tree_at(lambda m: m.layers, mlp, (*mlp.layers, mlp.layers[-1]))(jnp.ones(3))
    # depth 0 and 1: no hidden-to-hidden layers to scan (an empty stack for depth 1).
    assert len(nn.MLP(3, 2, 4, 0, scan=True, key=KEY).layers) == 1
    one = nn.MLP(3, 2, 4, 1, scan=True, key=KEY)
    assert one.layers[1].weight.shape == (0, 4, 4)
    np.testing.assert_allclose(one(jnp.ones(3)), nn.MLP(3, 2, 4, 1, key=KEY)(jnp.ones(3)), rtol=1e-6)
