"""Filtered transformations nest: an outer boundary checks only what still holds."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float

import equinox_typed as eqx


def _mlp() -> eqx.nn.MLP:
    return eqx.nn.MLP(3, 2, 4, 1, key=jax.random.key(0))


def loss(model: eqx.nn.MLP, x: Float[Array, " 3"]) -> Float[Array, ""]:
    return jnp.sum(model(x) ** 2)


def per_example(x: Float[Array, " n"], scale: Float[Array, ""]) -> Float[Array, " n"]:
    return x * scale


def test_jit_of_grad_of_annotated_loss(typechecker: str) -> None:
    model, x = _mlp(), jnp.arange(3.0)
    grads = eqx.filter_jit(eqx.filter_grad(loss))(model, x)
    params, static = eqx.partition(model, eqx.is_inexact_array)
    expected = jax.grad(lambda p: loss(eqx.combine(p, static), x))(params)
    np.testing.assert_allclose(grads.layers[0].weight, expected.layers[0].weight, rtol=1e-6)
    (value, grads2) = eqx.filter_jit(eqx.filter_value_and_grad(loss))(model, x)
    np.testing.assert_allclose(value, loss(model, x), rtol=1e-6)
    np.testing.assert_allclose(grads2.layers[1].bias, expected.layers[1].bias, rtol=1e-6)


def test_outer_boundary_still_checks_arguments(typechecker: str) -> None:
    model = eqx.tree_at(lambda m: m.layers[0].weight, _mlp(), jnp.zeros((5, 5)))
    with pytest.raises(eqx.TypeCheckError, match=r"model\.layers\[0\]\.weight"):
        eqx.filter_jit(eqx.filter_grad(loss))(model, jnp.arange(3.0))
    with pytest.raises(eqx.TypeCheckError, match="argument `x`"):
        eqx.filter_jit(eqx.filter_grad(loss))(_mlp(), jnp.arange(4.0))


def test_jit_of_vmap_and_vmap_of_vmap(typechecker: str) -> None:
    xs = jnp.arange(12.0).reshape(4, 3)
    scales = jnp.arange(4.0)
    out = eqx.filter_jit(eqx.filter_vmap(per_example))(xs, scales)
    np.testing.assert_allclose(out, xs * scales[:, None])
    grid = jnp.arange(24.0).reshape(2, 4, 3)
    out2 = eqx.filter_vmap(eqx.filter_vmap(per_example))(grid, jnp.ones((2, 4)))
    np.testing.assert_allclose(out2, grid)
    # The innermost boundary still sees per-example shapes and binds `n` across them.
    with pytest.raises(eqx.TypeCheckError, match="per_example"):
        eqx.filter_vmap(per_example)(xs, jnp.ones((4, 2)))


def test_partial_modules_cross_boundaries(typechecker: str) -> None:
    """Gradients, `eqx.filter` outputs and optimiser states are Modules with `None` in
    the filtered-out fields: the boundary checks what they hold, not what they lack."""
    model = _mlp()
    params = eqx.filter(model, eqx.is_inexact_array)
    assert params.activation is None  # type: ignore[comparison-overlap]
    grads = eqx.filter_grad(loss)(model, jnp.arange(3.0))

    @eqx.filter_jit
    def sgd(params: eqx.nn.MLP, grads: eqx.nn.MLP) -> eqx.nn.MLP:
        return jax.tree_util.tree_map(lambda p, g: p - 0.1 * g, params, grads)

    updated = sgd(params, grads)
    # rtol: the compiled update may fuse the multiply-add, which rounds once.
    np.testing.assert_allclose(
        updated.layers[0].weight,
        params.layers[0].weight - 0.1 * grads.layers[0].weight,
        rtol=1e-6,
    )
    # What a partial Module does hold is still checked...
    bad = eqx.tree_at(lambda g: g.layers[1].weight, grads, jnp.zeros((3, 3)))
    with pytest.raises(eqx.TypeCheckError, match=r"grads\.layers\[1\]\.weight"):
        sgd(params, bad)
    # ...and a whole Module with a hole is still refused at construction.
    with pytest.raises(eqx.TypeCheckError, match="`.fn`"):
        eqx.nn.Lambda(None)  # type: ignore[arg-type]


def test_eager_layer_calls_memoise_by_shape_not_by_value(typechecker: str) -> None:
    linear = eqx.nn.Linear(3, 2, key=jax.random.key(0))
    for _ in range(2):
        linear(jnp.ones(3))
        linear(jnp.zeros(3))
        with pytest.raises(eqx.TypeCheckError, match=r"f32\[4\]"):
            linear(jnp.ones(4))
        linear(jnp.ones(3, dtype=jnp.int32))  # integers are promoted, as in Equinox
        with pytest.raises(eqx.TypeCheckError, match=r"bool\[3\]"):
            linear(jnp.ones(3, dtype=bool))
    linear(jnp.ones(3), key=jax.random.key(1))  # keyword arguments take part in the key
