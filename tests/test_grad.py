"""filter_grad / filter_value_and_grad against jax.grad."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _transform_models import MLP, params_of, plain_mlp

import equinox_typed as eqx


@pytest.fixture(scope="module")
def mlp() -> MLP:
    return MLP((3, 4, 2), key=jax.random.PRNGKey(0))


def _loss(m: MLP, x: jax.Array) -> jax.Array:
    return jnp.sum(m(x) ** 2)


def test_grad_matches_jax(mlp: MLP) -> None:
    x = jnp.arange(3.0)
    grads = eqx.filter_grad(_loss)(mlp, x)
    ref = jax.grad(lambda p: jnp.sum(plain_mlp(p, x) ** 2))(params_of(mlp))
    for g, (rw, rb) in zip(grads.layers, ref):
        np.testing.assert_allclose(g.weight, rw, rtol=1e-5)
        np.testing.assert_allclose(g.bias, rb, rtol=1e-5)
    # Same structure as the model: static fields kept, Module types kept.
    assert type(grads) is MLP and grads.layers[0].in_features == 3
    assert grads.activation is mlp.activation


def test_non_differentiable_leaves_are_none_and_other_args_constant() -> None:
    tree = {"w": jnp.array([1.0, 2.0]), "n": jnp.array(3), "tag": "hello", "py": 2.0}

    def f(t: dict[str, object], y: jax.Array) -> jax.Array:
        return jnp.sum(t["w"] ** 2) * t["n"] * t["py"] * jnp.sum(y)  # type: ignore[operator]

    y = jnp.array([1.0, 1.0])
    grads = eqx.filter_grad(f)(tree, y)
    np.testing.assert_allclose(grads["w"], 2 * np.array([1.0, 2.0]) * 3 * 2.0 * 2.0)
    assert grads["n"] is None and grads["tag"] is None and grads["py"] is None


def test_value_and_grad_and_aux(mlp: MLP) -> None:
    x = jnp.arange(3.0)

    @eqx.filter_value_and_grad(has_aux=True)
    def loss_aux(m: MLP, x: jax.Array) -> tuple[jax.Array, dict[str, jax.Array]]:
        out = m(x)
        return jnp.sum(out**2), {"out": out}

    (value, aux), grads = loss_aux(mlp, x)
    np.testing.assert_allclose(value, _loss(mlp, x), rtol=1e-6)
    np.testing.assert_allclose(aux["out"], mlp(x), rtol=1e-6)
    ref = eqx.filter_grad(_loss)(mlp, x)
    np.testing.assert_allclose(grads.layers[1].weight, ref.layers[1].weight, rtol=1e-6)

    grads2, aux2 = eqx.filter_grad(has_aux=True)(
        lambda m, x: (jnp.sum(m(x) ** 2), 5)
    )(mlp, x)
    assert aux2 == 5
    np.testing.assert_allclose(grads2.layers[0].bias, ref.layers[0].bias, rtol=1e-6)

    value2, _ = eqx.filter_value_and_grad(_loss)(mlp, x)
    np.testing.assert_allclose(value2, value, rtol=1e-6)


def test_grad_of_keyword_and_bare_decorator() -> None:
    @eqx.filter_grad
    def f(x: jax.Array, *, scale: jax.Array) -> jax.Array:
        return jnp.sum(x * scale)

    np.testing.assert_allclose(f(jnp.ones(2), scale=jnp.array([2.0, 3.0])), [2.0, 3.0])
    assert f.__name__ == "f"


def test_needs_a_positional_argument() -> None:
    with pytest.raises(TypeError, match="first positional argument"):
        eqx.filter_grad(lambda **kw: 0.0)(x=jnp.ones(1))


def test_grad_inside_jit_matches(mlp: MLP) -> None:
    x = jnp.arange(3.0)
    step = eqx.filter_jit(lambda m, x: eqx.filter_grad(_loss)(m, x))
    np.testing.assert_allclose(
        step(mlp, x).layers[0].weight, eqx.filter_grad(_loss)(mlp, x).layers[0].weight, rtol=1e-5
    )
