"""Stacked Modules (ensembles): accepted at transformation boundaries, member by member."""

from __future__ import annotations

import pickle
from collections.abc import Callable

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from jaxtyping import Array, Float

import equinox_typed as eqx

_MEMBERS = 4


def _ensemble() -> eqx.nn.MLP:
    keys = jr.split(jr.PRNGKey(0), _MEMBERS)
    return eqx.filter_vmap(lambda k: eqx.nn.MLP(3, 2, 5, 2, key=k))(keys)


def _member(ensemble: eqx.nn.MLP, i: int) -> eqx.nn.MLP:
    return jax.tree.map(lambda x: x[i] if eqx.is_array(x) else x, ensemble)


@eqx.filter_jit
def _predict(models: eqx.nn.MLP, x: Float[Array, " 3"]) -> Float[Array, "members 2"]:
    return eqx.filter_vmap(lambda m: m(x))(models)


def _message(call: Callable[[], object]) -> str:
    with pytest.raises(eqx.TypeCheckError) as info:
        call()
    return str(info.value)


def test_ensemble_crosses_filter_jit_and_matches_its_members(typechecker: str) -> None:
    ensemble = _ensemble()
    assert ensemble.layers[0].weight.shape == (_MEMBERS, 5, 3)
    x = jnp.array([0.5, -1.0, 2.0])
    out = _predict(ensemble, x)
    for i in range(_MEMBERS):
        np.testing.assert_allclose(out[i], _member(ensemble, i)(x), rtol=1e-6)


def test_ensemble_gradients_and_update(typechecker: str) -> None:
    ensemble = _ensemble()
    x = jnp.array([0.5, -1.0, 2.0])

    @eqx.filter_grad
    def grad(models: eqx.nn.MLP) -> Float[Array, ""]:
        return jnp.sum(_predict(models, x) ** 2)

    grads = grad(ensemble)
    assert grads.layers[1].weight.shape == (_MEMBERS, 5, 5)
    for i in range(_MEMBERS):
        expected = eqx.filter_grad(lambda m: jnp.sum(m(x) ** 2))(_member(ensemble, i))
        np.testing.assert_allclose(grads.layers[2].bias[i], expected.layers[2].bias, rtol=1e-5)
    updated = eqx.apply_updates(ensemble, jax.tree.map(lambda g: -0.1 * g, grads))
    assert _predict(updated, x).shape == (_MEMBERS, 2)


def test_stack_mapped_back_into_members(typechecker: str) -> None:
    ensemble = _ensemble()
    xs = jnp.arange(_MEMBERS * 3.0).reshape(_MEMBERS, 3)

    def apply(model: eqx.nn.MLP, x: Float[Array, " 3"]) -> Float[Array, " 2"]:
        return model(x)

    out = eqx.filter_vmap(apply)(ensemble, xs)
    np.testing.assert_allclose(out[2], _member(ensemble, 2)(xs[2]), rtol=1e-6)
    message = _message(lambda: eqx.filter_vmap(apply)(ensemble, xs[:, :2]))
    assert "argument `x`" in message


def test_stack_survives_tree_utilities_printing_and_pickling(typechecker: str) -> None:
    ensemble = _ensemble()
    x = jnp.ones(3)
    params, static = eqx.partition(ensemble, eqx.is_array)
    rebuilt = eqx.combine(params, static)
    np.testing.assert_allclose(_predict(rebuilt, x), _predict(ensemble, x))
    doubled = eqx.tree_at(lambda m: m.layers[0].weight, ensemble, replace_fn=lambda w: 2 * w)
    assert _predict(doubled, x).shape == (_MEMBERS, 2)
    assert "weight=f32[4,5,3]" in repr(ensemble)
    restored = pickle.loads(pickle.dumps(ensemble))
    np.testing.assert_allclose(_predict(restored, x), _predict(ensemble, x))


def test_a_mismatched_member_is_reported(typechecker: str) -> None:
    ensemble = _ensemble()
    bad = eqx.tree_at(lambda m: m.layers[0].bias, ensemble, jnp.zeros((_MEMBERS, 9)))
    message = _message(lambda: _predict(bad, jnp.ones(3)))
    assert "Linear: field `models.layers[0].bias` does not match its annotation." in message
    assert "got:      f32[9]" in message and "out_features=5" in message
    assert "stacked:  Linear holds 4 members (leading axes (4,) on every array)" in message


def test_an_array_without_the_stack_axes_is_not_a_stack(typechecker: str) -> None:
    ensemble = _ensemble()
    bad = eqx.tree_at(lambda m: m.layers[0].bias, ensemble, jnp.zeros(5))
    message = _message(lambda: _predict(bad, jnp.ones(3)))
    assert "`models.layers[0].weight`" in message and "f32[4,5,3]" in message
    assert "stacked:" not in message


class Dense(eqx.Module):
    weight: Float[Array, "out in"]
    bias: Float[Array, " out"]


def test_construction_never_accepts_a_stack(typechecker: str) -> None:
    # A stack is made by transformations; `__init__` with stacked arrays is a bug.
    message = _message(lambda: Dense(jnp.zeros((4, 2, 3)), jnp.zeros((4, 2))))
    assert "Dense: field `.weight`" in message and "f32[4,2,3]" in message
    assert "stacked:" not in message
    stack = eqx.filter_vmap(lambda w: Dense(w, w[:, 0]))(jnp.zeros((4, 2, 3)))

    @eqx.filter_jit
    def rows(d: Dense) -> Float[Array, "4 2"]:
        return d.bias

    assert rows(stack).shape == (4, 2)
