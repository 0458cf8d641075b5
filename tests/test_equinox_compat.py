"""Code written for Equinox runs unchanged on equinox_typed, with the same numbers.

The same training loop (an optax optimiser over a filtered model, as Equinox's own
tutorials write it) runs once with each library, from the same weights.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
import pytest

import equinox_typed

equinox = pytest.importorskip("equinox")
optax = pytest.importorskip("optax")


class CNN:
    """Builds the same small CNN with either library (`lib` is the imported module)."""

    def __init__(self, lib: ModuleType, key: jax.Array) -> None:
        k1, k2, k3 = jax.random.split(key, 3)
        self.layers = [
            lib.nn.Conv2d(1, 3, kernel_size=3, padding=1, key=k1),
            lib.nn.MaxPool2d(kernel_size=2, stride=2),
            jnp.ravel,
            lib.nn.Linear(3 * 4 * 4, 16, key=k2),
            jax.nn.relu,
            lib.nn.Linear(16, 2, key=k3),
        ]


def _model(lib: ModuleType, key: jax.Array) -> Any:
    layers = CNN(lib, key).layers
    return lib.nn.Sequential([f if isinstance(f, lib.Module) else lib.nn.Lambda(f) for f in layers])


def _train(lib: ModuleType, model: Any, xs: jax.Array, ys: jax.Array, steps: int) -> list[float]:
    """Equinox-style training: written once, run with either library."""
    optim = optax.adam(1e-2)
    opt_state = optim.init(lib.filter(model, lib.is_array))

    @lib.filter_value_and_grad
    def loss_fn(model: Any, x: jax.Array, y: jax.Array) -> jax.Array:
        logits = jax.vmap(model)(x)
        return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

    @lib.filter_jit
    def step(model: Any, opt_state: Any, x: jax.Array, y: jax.Array) -> Any:
        loss, grads = loss_fn(model, x, y)
        updates, opt_state = optim.update(grads, opt_state, lib.filter(model, lib.is_array))
        model = lib.apply_updates(model, updates)
        return model, opt_state, loss

    losses = []
    for _ in range(steps):
        model, opt_state, loss = step(model, opt_state, xs, ys)
        losses.append(float(loss))
    return losses


def _parameters(model: Any) -> list[Any]:
    """The weights and biases of a Sequential's or MLP's layers, in order."""
    layers = [layer for layer in model.layers if hasattr(layer, "weight")]
    return [getattr(layer, name) for layer in layers for name in ("weight", "bias")]


def _copy_arrays(source: Any, target: Any) -> Any:
    """`target` with the parameters of `source`."""
    return equinox_typed.tree_at(_parameters, target, _parameters(source))


def test_same_training_loop_same_losses() -> None:
    key = jax.random.key(0)
    xs = jax.random.normal(jax.random.key(1), (16, 1, 8, 8))
    ys = (xs.mean(axis=(1, 2, 3)) > 0).astype(jnp.int32)
    theirs = _model(equinox, key)
    ours = _copy_arrays(theirs, _model(equinox_typed, key))
    their_losses = _train(equinox, theirs, xs, ys, steps=5)
    our_losses = _train(equinox_typed, ours, xs, ys, steps=5)
    np.testing.assert_allclose(our_losses, their_losses, rtol=1e-5)
    assert our_losses[-1] < our_losses[0]


def test_partition_combine_and_tree_at_agree_with_equinox() -> None:
    key = jax.random.key(2)
    theirs = equinox.nn.MLP(3, 2, 8, 2, key=key)
    ours = _copy_arrays(theirs, equinox_typed.nn.MLP(3, 2, 8, 2, key=key))
    x = jnp.arange(3.0)
    np.testing.assert_allclose(ours(x), theirs(x), rtol=1e-6)
    p_theirs, _ = equinox.partition(theirs, equinox.is_inexact_array)
    p_ours, _ = equinox_typed.partition(ours, equinox_typed.is_inexact_array)
    for a, b in zip(jtu.tree_leaves(p_ours), jtu.tree_leaves(p_theirs), strict=True):
        np.testing.assert_array_equal(a, b)
    bumped_theirs = equinox.tree_at(lambda m: m.layers[-1].bias, theirs, jnp.ones(2))
    bumped_ours = equinox_typed.tree_at(lambda m: m.layers[-1].bias, ours, jnp.ones(2))
    np.testing.assert_allclose(bumped_ours(x), bumped_theirs(x), rtol=1e-6)
