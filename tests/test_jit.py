"""filter_jit: numbers, tracing/caching, static leaves, donation, AOT, metadata."""

from __future__ import annotations

import functools
import inspect
import typing
import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _transform_models import MLP, Linear, params_of, plain_mlp
from jaxtyping import Array, Float

import equinox_typed as eqx


@pytest.fixture(scope="module")
def mlp() -> MLP:
    return MLP((3, 5, 2), key=jax.random.PRNGKey(0))


def test_matches_jax_jit(mlp: MLP) -> None:
    x = jnp.arange(3.0)
    ours = eqx.filter_jit(lambda m, x: m(x))(mlp, x)
    ref = jax.jit(plain_mlp)(params_of(mlp), x)
    np.testing.assert_allclose(ours, ref, rtol=1e-6)


def test_traces_once_per_shape_and_static_value() -> None:
    traces = []

    @eqx.filter_jit
    def f(x: jax.Array, n: int, *, scale: float = 1.0) -> jax.Array:
        traces.append(1)
        return x * n * scale

    np.testing.assert_allclose(f(jnp.ones(3), 2), 2 * np.ones(3))
    f(jnp.zeros(3), 2)  # new values, same shape: cached
    assert len(traces) == 1
    f(jnp.ones(4), 2)  # new shape
    assert len(traces) == 2
    f(jnp.ones(3), 3)  # new static value
    assert len(traces) == 3
    np.testing.assert_allclose(f(jnp.ones(3), 3, scale=0.5), 1.5 * np.ones(3))
    assert len(traces) == 4
    f(jnp.ones(3), 3, scale=0.5)
    f(jnp.ones(3, dtype=jnp.int32), 3, scale=0.5)  # new dtype
    assert len(traces) == 5


def test_numpy_arrays_are_traced_python_numbers_static() -> None:
    seen = []

    @eqx.filter_jit
    def f(a: object, b: object) -> object:
        seen.append((type(a), type(b)))
        return a

    f(np.ones(2), 1.0)
    assert issubclass(seen[-1][0], jax.core.Tracer)
    assert seen[-1][1] is float
    f(np.zeros(2), 1.0)
    assert len(seen) == 1


def test_non_array_outputs_returned_as_is() -> None:
    traces = []

    @eqx.filter_jit
    def f(x: jax.Array) -> tuple[jax.Array, str, int, None]:
        traces.append(1)
        return x + 1, "label", 7, None

    for _ in range(2):  # the second call is a cache hit: statics still come back
        y, label, n, nothing = f(jnp.ones(2))
        np.testing.assert_allclose(y, 2 * np.ones(2))
        assert (label, n, nothing) == ("label", 7, None)
    assert len(traces) == 1


def test_bound_method_traces_model_arrays(mlp: MLP) -> None:
    traces = []

    def count(x: jax.Array) -> None:
        traces.append(1)

    jitted = eqx.filter_jit(mlp.__call__)
    x = jnp.arange(3.0)
    np.testing.assert_allclose(jitted(x), jax.jit(plain_mlp)(params_of(mlp), x), rtol=1e-6)
    # The model's weights are inputs, not constants: a new model of the same shapes
    # reuses the compiled program and gives its own answer.
    other = MLP((3, 5, 2), key=jax.random.PRNGKey(1))
    f = eqx.filter_jit(lambda m, x: (count(x), m(x))[1])
    f(mlp, x)
    np.testing.assert_allclose(f(other, x), plain_mlp(params_of(other), x), rtol=1e-5)
    assert len(traces) == 1


def test_function_as_pytree_partial() -> None:
    traces = []

    def g(a: jax.Array, b: jax.Array) -> jax.Array:
        traces.append(1)
        return a * b

    f1 = eqx.filter_jit(eqx.Partial(g, jnp.array(2.0)))
    np.testing.assert_allclose(f1(jnp.array(3.0)), 6.0)
    assert issubclass(type(traces), list) and len(traces) == 1


def test_static_module_field_in_cache_key() -> None:
    traces = []

    class Scale(eqx.Module):
        factor: float = eqx.field(static=True)
        w: jax.Array

    def run(m: Scale, x: jax.Array) -> jax.Array:
        traces.append(1)
        return m.w * x * m.factor

    f = eqx.filter_jit(run)
    np.testing.assert_allclose(f(Scale(2.0, jnp.ones(2)), jnp.ones(2)), 2 * np.ones(2))
    f(Scale(2.0, jnp.zeros(2)), jnp.ones(2))
    assert len(traces) == 1
    np.testing.assert_allclose(f(Scale(3.0, jnp.ones(2)), jnp.ones(2)), 3 * np.ones(2))
    assert len(traces) == 2


def test_unhashable_static_leaf_names_its_path() -> None:
    class Unhashable:
        __hash__ = None  # type: ignore[assignment]

    f = eqx.filter_jit(lambda x, cfg: x)
    with pytest.raises(TypeError, match=r"`cfg\['opts'\]`.*Unhashable.*unhashable"):
        f(jnp.ones(2), {"opts": Unhashable()})

    class Holder(eqx.Module):
        w: jax.Array
        activation: object  # not static, but not an array either: a static leaf

    def apply(model: Holder, x: jax.Array) -> jax.Array:
        return model.w * x

    with pytest.raises(TypeError, match=r"`model\.activation`"):
        eqx.filter_jit(apply)(Holder(jnp.ones(2), Unhashable()), jnp.ones(2))


def test_user_errors_inside_are_not_rewritten() -> None:
    def boom(x: jax.Array) -> jax.Array:
        raise ValueError("user failure")

    with pytest.raises(ValueError, match="user failure"):
        eqx.filter_jit(boom)(jnp.ones(2))


@pytest.mark.parametrize("donate", ["all", "warn"])
def test_donate_all(donate: str) -> None:
    f = eqx.filter_jit(lambda a, b: (a + 1, b * 2), donate=donate)  # type: ignore[arg-type]
    a, b = jnp.ones(3), jnp.ones(3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ya, yb = f(a, b)
    np.testing.assert_allclose(ya, 2 * np.ones(3))
    assert a.is_deleted() and b.is_deleted()


def test_donate_all_except_first() -> None:
    f = eqx.filter_jit(lambda a, b: (a + 1, b * 2), donate="all-except-first")
    a, b = jnp.ones(3), jnp.ones(3)
    ya, yb = f(a, b)
    np.testing.assert_allclose(yb, 2 * np.ones(3))
    assert not a.is_deleted()
    assert b.is_deleted()


def test_donate_none_keeps_buffers_and_bad_mode_rejected() -> None:
    a = jnp.ones(3)
    eqx.filter_jit(lambda a: a + 1)(a)
    assert not a.is_deleted()
    with pytest.raises(ValueError, match="donate must be one of"):
        eqx.filter_jit(lambda a: a, donate="some")  # type: ignore[call-overload]


def test_decorator_with_arguments_and_metadata() -> None:
    @eqx.filter_jit(donate="none")
    def scaled(x: Float[Array, " n"], factor: float = 2.0) -> Float[Array, " n"]:
        """Scale x."""
        return x * factor

    assert scaled.__name__ == "scaled"
    assert scaled.__doc__ == "Scale x."
    assert list(inspect.signature(scaled).parameters) == ["x", "factor"]
    assert typing.get_type_hints(scaled)["factor"] is float
    assert scaled.__wrapped__.__name__ == "scaled"  # type: ignore[attr-defined]
    np.testing.assert_allclose(scaled(jnp.ones(2)), 2 * np.ones(2))


def test_lower_and_compile() -> None:
    def f(x: jax.Array, n: int) -> tuple[jax.Array, int]:
        return jnp.sin(x) * n, n

    jitted = eqx.filter_jit(f)
    lowered = jitted.lower(jnp.ones(3), 2)
    assert "sin" in lowered.as_text()
    compiled = lowered.compile()
    y, n = compiled(jnp.zeros(3) + 0.5, 2)
    np.testing.assert_allclose(y, 2 * np.sin(0.5 * np.ones(3)), rtol=1e-6)
    assert n == 2
    with pytest.raises(TypeError, match="lowered for arguments"):
        compiled(jnp.ones(3), 3)


def test_as_method_decorator() -> None:
    traces = []

    class Model(eqx.Module):
        w: jax.Array

        @eqx.filter_jit
        def __call__(self, x: jax.Array) -> jax.Array:
            traces.append(1)
            return self.w * x

    np.testing.assert_allclose(Model(jnp.full(2, 3.0))(jnp.ones(2)), 3 * np.ones(2))
    np.testing.assert_allclose(Model(jnp.full(2, 4.0))(jnp.ones(2)), 4 * np.ones(2))
    assert len(traces) == 1

    class Plain:
        @eqx.filter_jit
        def double(self, x: jax.Array) -> jax.Array:
            return 2 * x

    np.testing.assert_allclose(Plain().double(jnp.ones(2)), 2 * np.ones(2))


def test_grad_through_filter_jit(mlp: MLP) -> None:
    x = jnp.arange(3.0)
    loss = eqx.filter_jit(lambda m, x: jnp.sum(m(x) ** 2))
    grads = eqx.filter_grad(loss)(mlp, x)
    ref = jax.grad(lambda p: jnp.sum(plain_mlp(p, x) ** 2))(params_of(mlp))
    np.testing.assert_allclose(grads.layers[0].weight, ref[0][0], rtol=1e-5)
    assert functools.reduce(lambda a, b: a and b, [g.weight.shape == p[0].shape for g, p in zip(grads.layers, ref)])


def test_linear_fixture_type() -> None:
    layer = Linear(2, 3, key=jax.random.PRNGKey(0))
    out = eqx.filter_jit(layer)(jnp.ones(2))
    np.testing.assert_allclose(out, layer.weight @ jnp.ones(2) + layer.bias, rtol=1e-6)
