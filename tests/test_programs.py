"""Small versions of typical Equinox programs, run with checks on.

Each program is written once against the Equinox API and run three times: with
equinox_typed under checks ``"eager"``, with equinox_typed under checks ``"off"``, and
with Equinox 0.13.8 itself. The checks must accept every one of them (no false positive)
and change no number.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from jaxtyping import Array, Float, Int

import equinox_typed

equinox = pytest.importorskip("equinox")
optax = pytest.importorskip("optax")

_STEPS = 3


def _ensemble(lib: ModuleType) -> list[Any]:
    """An ensemble built and trained with filter_vmap (one stacked Module)."""
    ensemble = lib.filter_vmap(lambda k: lib.nn.MLP(2, 1, 8, 1, key=k))(jr.split(jr.PRNGKey(0), 3))
    xs = jnp.linspace(-1.0, 1.0, 16).reshape(8, 2)
    ys = jnp.sin(xs.sum(-1, keepdims=True))

    def loss(model: Any, x: Float[Array, "b 2"], y: Float[Array, "b 1"]) -> Float[Array, ""]:
        return jnp.mean((jax.vmap(model)(x) - y) ** 2)

    @lib.filter_jit
    def step(models: Any, x: Float[Array, "b 2"], y: Float[Array, "b 1"]) -> Any:
        values, grads = lib.filter_vmap(
            lib.filter_value_and_grad(loss), in_axes=(lib.if_array(0), None, None)
        )(models, x, y)
        return lib.apply_updates(models, jax.tree.map(lambda g: -0.1 * g, grads)), values

    out = []
    for _ in range(_STEPS):
        ensemble, values = step(ensemble, xs, ys)
        out.append(values)
    return out + [ensemble.layers[0].weight]


def _numpy_batches(lib: ModuleType) -> list[Any]:
    """A classifier trained on NumPy batches, as a data loader hands them over."""
    model = lib.nn.MLP(4, 3, 16, 2, key=jr.PRNGKey(1))
    rng = np.random.default_rng(0)

    @lib.filter_jit
    def step(model: Any, x: Float[Array, "b 4"], y: Int[Array, " b"]) -> Any:
        def loss(m: Any) -> Float[Array, ""]:
            logits = jax.vmap(m)(x)
            return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean()

        value, grads = lib.filter_value_and_grad(loss)(model)
        return lib.apply_updates(model, jax.tree.map(lambda g: -0.5 * g, grads)), value

    out = []
    for _ in range(_STEPS):
        x = rng.normal(size=(8, 4)).astype(np.float32)
        y = rng.integers(0, 3, size=8)  # int64 NumPy labels
        model, value = step(model, x, y)
        out.append(value)
    return out + [model(np.ones(4, np.float32))]


def _frozen_fine_tune(lib: ModuleType) -> list[Any]:
    """Fine-tune the last layer only, selected by a Module-shaped filter spec."""
    model = lib.nn.MLP(3, 2, 8, 2, key=jr.PRNGKey(2))
    spec = jax.tree.map(lambda _: False, model)
    spec = lib.tree_at(lambda s: (s.layers[-1].weight, s.layers[-1].bias), spec, replace=(True, True))
    x, y = jnp.ones((5, 3)), jnp.zeros((5, 2))

    @lib.filter_jit
    def step(model: Any, x: Float[Array, "b 3"], y: Float[Array, "b 2"]) -> Any:
        trainable, frozen = lib.partition(model, spec)

        @lib.filter_grad
        def grad(trainable: Any) -> Float[Array, ""]:
            return jnp.mean((jax.vmap(lib.combine(trainable, frozen))(x) - y) ** 2)

        updates = jax.tree.map(lambda g: -0.1 * g, grad(trainable))
        return lib.combine(lib.apply_updates(trainable, updates), frozen)

    for _ in range(_STEPS):
        model = step(model, x, y)
    return [model.layers[0].weight, model.layers[-1].weight, model(jnp.ones(3))]


def _symmetric_class(lib: ModuleType) -> type:
    class Symmetric(lib.Module):  # type: ignore[misc,name-defined]
        matrix: Float[Array, "n n"]

        def __jax_array__(self) -> Float[Array, "n n"]:
            return 0.5 * (self.matrix + self.matrix.T)

    return Symmetric


def _parametrised_weight(lib: ModuleType) -> list[Any]:
    """A weight re-parametrised as symmetric by wrapping it (tree_at + replace_fn)."""
    symmetric = _symmetric_class(lib)
    model = lib.nn.Linear(3, 3, key=jr.PRNGKey(3))
    model = lib.tree_at(lambda m: m.weight, model, replace_fn=symmetric)
    x, y = jnp.arange(6.0).reshape(2, 3), jnp.ones((2, 3))

    def resolve(tree: Any) -> Any:
        is_wrapper = lambda v: isinstance(v, symmetric)  # noqa: E731
        return jax.tree.map(lambda v: jnp.asarray(v) if is_wrapper(v) else v, tree, is_leaf=is_wrapper)

    @lib.filter_jit
    def step(model: Any, x: Float[Array, "b 3"], y: Float[Array, "b 3"]) -> Any:
        def loss(m: Any) -> Float[Array, ""]:
            return jnp.mean((jax.vmap(resolve(m))(x) - y) ** 2)

        value, grads = lib.filter_value_and_grad(loss)(model)
        return lib.apply_updates(model, jax.tree.map(lambda g: -0.05 * g, grads)), value

    out = []
    for _ in range(_STEPS):
        model, value = step(model, x, y)
        out.append(value)
    return out + [jnp.asarray(model.weight)]


def _layered_class(lib: ModuleType) -> type:
    class Layered(lib.Module):  # type: ignore[misc,name-defined]
        layers: list[Callable[..., Any] | Any]

        def __call__(self, x: Float[Array, " 2"]) -> Float[Array, " 2"]:
            for layer in self.layers:
                x = layer(x)
            return x

    return Layered


def _optax_holes(lib: ModuleType) -> list[Any]:
    """An optax loop: optimiser states hold partial Modules (None holes), one of them
    inside a list of layers and activations."""
    keys = jr.split(jr.PRNGKey(4), 2)
    model = _layered_class(lib)(
        [lib.nn.Linear(2, 4, key=keys[0]), jax.nn.tanh, lib.nn.Linear(4, 2, key=keys[1])]
    )
    optim = optax.adam(1e-2)
    opt_state = optim.init(lib.filter(model, lib.is_array))
    x, y = jnp.ones((4, 2)), jnp.zeros((4, 2))

    @lib.filter_jit
    def step(model: Any, opt_state: Any) -> Any:
        def loss(m: Any) -> Float[Array, ""]:
            return jnp.mean((jax.vmap(m)(x) - y) ** 2)

        value, grads = lib.filter_value_and_grad(loss)(model)
        updates, opt_state = optim.update(grads, opt_state, lib.filter(model, lib.is_array))
        return lib.apply_updates(model, updates), opt_state, value

    out = []
    for _ in range(_STEPS):
        model, opt_state, value = step(model, opt_state)
        out.append(value)
    return out + [model.layers[2].weight]


_PROGRAMS: dict[str, Callable[[ModuleType], list[Any]]] = {
    "ensemble": _ensemble,
    "numpy-batches": _numpy_batches,
    "frozen-fine-tune": _frozen_fine_tune,
    "parametrised-weight": _parametrised_weight,
    "optax-none-holes": _optax_holes,
}


@pytest.mark.parametrize("name", list(_PROGRAMS))
def test_program_runs_checked_with_the_same_numbers(name: str) -> None:
    program = _PROGRAMS[name]
    with equinox_typed.checks("eager"):
        checked = program(equinox_typed)
    with equinox_typed.checks("off"):
        unchecked = program(equinox_typed)
    reference = program(equinox)
    assert len(checked) == len(unchecked) == len(reference)
    for ours, off, theirs in zip(checked, unchecked, reference, strict=True):
        np.testing.assert_array_equal(ours, off)
        np.testing.assert_allclose(ours, theirs, rtol=1e-5, atol=1e-6)
