"""jitf / gradf / value_and_grad_f: the early filtered API."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import equinox_typed as eqx
from equinox_typed._legacy import gradf, jitf, value_and_grad_f


def test_jitf_filter_fn_traces_arrays_only() -> None:
    traces = []

    def f(x: jax.Array, n: int) -> jax.Array:
        traces.append(1)
        return x * n

    g = jitf(f, filter_fn=eqx.is_array)
    np.testing.assert_allclose(g(jnp.ones(2), 3), 3 * np.ones(2))
    g(jnp.zeros(2), 3)
    assert len(traces) == 1
    g(jnp.zeros(2), 4)
    assert len(traces) == 2


def test_jitf_filter_tree_leaf_by_leaf() -> None:
    traces = []

    def f(x: jax.Array, n: float) -> jax.Array:
        traces.append(1)
        return x * n

    g = jitf(f, filter_tree=(True, False))
    np.testing.assert_allclose(g(jnp.ones(2), 2.0), 2 * np.ones(2))
    g(jnp.ones(2), 2.0)
    assert len(traces) == 1


def test_gradf_and_value_and_grad_f() -> None:
    params = {"w": jnp.array([1.0, 2.0]), "b": jnp.array(0.5)}

    def loss(p: dict[str, jax.Array], x: jax.Array) -> jax.Array:
        return jnp.sum((p["w"] * x + p["b"]) ** 2)

    x = jnp.array([1.0, -1.0])
    ref = jax.grad(loss)(params, x)
    g = gradf(loss, filter_fn=eqx.is_inexact_array)(params, x)
    np.testing.assert_allclose(g["w"], ref["w"])
    np.testing.assert_allclose(g["b"], ref["b"])

    only_w = gradf(loss, filter_tree={"w": True, "b": False})(params, x)
    np.testing.assert_allclose(only_w["w"], ref["w"])
    assert only_w["b"] is None

    value, g2 = value_and_grad_f(loss, filter_fn=eqx.is_inexact_array)(params, x)
    np.testing.assert_allclose(value, loss(params, x))
    np.testing.assert_allclose(g2["w"], ref["w"])

    (v, aux), _ = value_and_grad_f(
        lambda p, x: (loss(p, x), "aux"), filter_fn=eqx.is_inexact_array, has_aux=True
    )(params, x)
    assert aux == "aux"


@pytest.mark.parametrize("make", [jitf, gradf, value_and_grad_f])
def test_exactly_one_filter_required(make: object) -> None:
    with pytest.raises(ValueError, match="exactly one of `filter_fn` or `filter_tree`"):
        make(lambda x: x)  # type: ignore[operator]
    with pytest.raises(ValueError, match="exactly one"):
        make(lambda x: x, filter_fn=eqx.is_array, filter_tree=True)  # type: ignore[operator]


def test_filter_tree_structure_mismatch() -> None:
    with pytest.raises(ValueError, match="structure of the positional arguments"):
        jitf(lambda x, y: x, filter_tree=(True,))(jnp.ones(1), jnp.ones(1))
