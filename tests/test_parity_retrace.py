"""Re-wrapping never retraces: compiled code is found by what is wrapped, not by the
wrapper object. Every case counts traces with ours and with Equinox 0.13.8 side by side
(the same program written against each library), and asserts the count itself too."""

from __future__ import annotations

import types
import warnings
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float

import equinox_typed

equinox = pytest.importorskip("equinox")

LIBRARIES = [equinox_typed, equinox]

# Each case: `case(lib, count)` runs three steps of a training-like loop written against
# `lib`, appending to `count` whenever Python code of the wrapped function runs (traces).
Case = Callable[[types.ModuleType, list[int]], None]


def _model_class(lib: types.ModuleType, count: list[int]) -> Any:
    class Model(lib.Module):  # type: ignore[name-defined,misc]
        w: Float[Array, "3"]

        def __call__(self, x: Float[Array, "3"]) -> Float[Array, "3"]:
            count.append(1)
            return self.w * x

        def method(self, x: Float[Array, "3"]) -> Float[Array, "3"]:
            count.append(1)
            return self.w + x

        @lib.filter_jit
        def jitted_method(self, x: Float[Array, "3"]) -> Float[Array, "3"]:
            count.append(1)
            return self.w - x

        @lib.filter_jit(donate="all")
        def donating_method(self, x: Float[Array, "3"]) -> Float[Array, "3"]:
            count.append(1)
            return self.w - x

    return Model


def _loss(count: list[int]) -> Callable[..., Any]:
    def loss(model: Any, x: Float[Array, "3"]) -> Float[Array, ""]:
        count.append(1)
        return jnp.sum(model(x) ** 2)

    return loss


def new_jit_wrapper_each_step(lib: types.ModuleType, count: list[int]) -> None:
    Model = _model_class(lib, count)
    for i in range(3):
        lib.filter_jit(Model(jnp.full(3, float(i))))(jnp.ones(3))


def jit_of_grad_rebuilt(lib: types.ModuleType, count: list[int]) -> None:
    Model, loss = _model_class(lib, count), _loss(count)
    for i in range(3):
        lib.filter_jit(lib.filter_grad(loss))(Model(jnp.full(3, float(i))), jnp.ones(3))


def jit_of_value_and_grad_rebuilt(lib: types.ModuleType, count: list[int]) -> None:
    Model, loss = _model_class(lib, count), _loss(count)
    for i in range(3):
        lib.filter_jit(lib.filter_value_and_grad(loss))(Model(jnp.full(3, float(i))), jnp.ones(3))


def jit_of_bound_method_same_instance(lib: types.ModuleType, count: list[int]) -> None:
    model = _model_class(lib, count)(jnp.ones(3))
    for _ in range(3):
        lib.filter_jit(model.method)(jnp.ones(3))


def jit_of_bound_method_equal_instances(lib: types.ModuleType, count: list[int]) -> None:
    Model = _model_class(lib, count)
    for i in range(3):
        lib.filter_jit(Model(jnp.full(3, float(i))).method)(jnp.ones(3))


def decorated_method_same_instance(lib: types.ModuleType, count: list[int]) -> None:
    model = _model_class(lib, count)(jnp.ones(3))
    for _ in range(3):
        model.jitted_method(jnp.ones(3))


def decorated_method_equal_instances(lib: types.ModuleType, count: list[int]) -> None:
    Model = _model_class(lib, count)
    for i in range(3):
        Model(jnp.full(3, float(i))).jitted_method(jnp.ones(3))


def donating_method(lib: types.ModuleType, count: list[int]) -> None:
    Model = _model_class(lib, count)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # donation through a method must not warn either
        for i in range(3):
            Model(jnp.full(3, float(i))).donating_method(jnp.ones(3))


def _custom_jvp_function(count: list[int]) -> Callable[[jax.Array], jax.Array]:
    @jax.custom_jvp
    def f(x: jax.Array) -> jax.Array:
        count.append(1)
        return jnp.sum(jnp.sin(x))

    @f.defjvp
    def f_jvp(primals: Any, tangents: Any) -> Any:
        (x,), (t,) = primals, tangents
        return f(x), jnp.sum(jnp.cos(x) * t)

    return f


def grad_of_jax_jit_custom_jvp(lib: types.ModuleType, count: list[int]) -> None:
    f = jax.jit(_custom_jvp_function(count))
    for i in range(3):
        lib.filter_grad(f)(jnp.full(3, float(i)))


def grad_of_filter_jit_custom_jvp(lib: types.ModuleType, count: list[int]) -> None:
    f = _custom_jvp_function(count)
    for i in range(3):
        lib.filter_grad(lib.filter_jit(f))(jnp.full(3, float(i)))


def jit_of_vmap_rebuilt(lib: types.ModuleType, count: list[int]) -> None:
    class Stack(lib.Module):  # type: ignore[name-defined,misc]
        w: jax.Array  # stacked: one row per example

        def __call__(self, x: jax.Array) -> jax.Array:
            count.append(1)
            return self.w * x

    for i in range(3):
        lib.filter_jit(lib.filter_vmap(Stack(jnp.full((4, 3), float(i)))))(jnp.ones((4, 3)))


def vmap_wrapper_passed_to_jit(lib: types.ModuleType, count: list[int]) -> None:
    def per_example(x: jax.Array) -> jax.Array:
        count.append(1)
        return 2 * x

    @lib.filter_jit
    def apply(f: Callable[[jax.Array], jax.Array], xs: jax.Array) -> jax.Array:
        return f(xs)

    for i in range(3):
        apply(lib.filter_vmap(per_example), jnp.full((4, 3), float(i)))


def vmap_inside_jit(lib: types.ModuleType, count: list[int]) -> None:
    def per_example(x: jax.Array, y: jax.Array) -> jax.Array:
        count.append(1)
        return x * y

    @lib.filter_jit
    def step(xs: jax.Array, y: jax.Array) -> jax.Array:
        return lib.filter_vmap(per_example, in_axes=(0, None))(xs, y)

    for i in range(3):
        step(jnp.full((4, 3), float(i)), jnp.ones(3))


SAME_SIGNATURE_CASES: dict[str, tuple[Case, int]] = {
    # name: (case, expected traces over the three steps)
    "new filter_jit(model) each step": (new_jit_wrapper_each_step, 1),
    "filter_jit(filter_grad(f)) rebuilt": (jit_of_grad_rebuilt, 2),
    "filter_jit(filter_value_and_grad(f)) rebuilt": (jit_of_value_and_grad_rebuilt, 2),
    "filter_jit(model.method), same instance": (jit_of_bound_method_same_instance, 1),
    "filter_jit(model.method), equal instances": (jit_of_bound_method_equal_instances, 1),
    "@filter_jit method, same instance": (decorated_method_same_instance, 1),
    "@filter_jit method, equal instances": (decorated_method_equal_instances, 1),
    "@filter_jit(donate='all') method": (donating_method, 1),
    "filter_grad(jax.jit(custom_jvp f))": (grad_of_jax_jit_custom_jvp, 2),
    "filter_grad(filter_jit(custom_jvp f))": (grad_of_filter_jit_custom_jvp, 2),
    "filter_jit(filter_vmap(model)) rebuilt": (jit_of_vmap_rebuilt, 1),
    "filter_vmap wrapper passed into filter_jit": (vmap_wrapper_passed_to_jit, 1),
    "filter_vmap inside filter_jit": (vmap_inside_jit, 1),
}


@pytest.mark.parametrize("name", list(SAME_SIGNATURE_CASES))
def test_rewrapping_traces_once_per_signature(name: str) -> None:
    case, expected = SAME_SIGNATURE_CASES[name]
    counts = []
    for lib in LIBRARIES:
        count: list[int] = []
        case(lib, count)
        counts.append(len(count))
    ours, theirs = counts
    assert ours == expected, f"{name}: traced {ours} times, expected {expected}"
    # The filter_vmap-as-argument case is one where Equinox itself retraces (its vmap
    # wrapper compares by identity); there we are stricter, never looser.
    assert ours <= theirs, f"{name}: ours traced {ours} times, Equinox {theirs}"


def test_different_static_configuration_still_retraces() -> None:
    for lib in LIBRARIES:
        count: list[int] = []
        loss = _loss(count)
        model = _model_class(lib, [])(jnp.ones(3))
        x = jnp.ones(3)
        lib.filter_jit(loss)(model, x)
        lib.filter_jit(loss)(model, x)
        assert len(count) == 1, lib.__name__
        lib.filter_jit(loss, donate="all")(model, jnp.ones(3))  # another donation setting
        assert len(count) == 2, lib.__name__
        lib.filter_jit(lib.filter_grad(loss))(model, x)
        lib.filter_jit(lib.filter_grad(loss, has_aux=False))(model, x)  # equal settings
        n = len(count)
        lib.filter_jit(lib.filter_value_and_grad(loss))(model, x)  # another transformation
        assert len(count) > n, lib.__name__


def test_different_static_fields_and_functions_still_retrace() -> None:
    count: list[int] = []

    class Scaled(equinox_typed.Module):
        w: Float[Array, "3"]
        scale: float = equinox_typed.field(static=True)

        def __call__(self, x: Float[Array, "3"]) -> Float[Array, "3"]:
            count.append(1)
            return self.w * x * self.scale

    x = jnp.ones(3)
    np.testing.assert_allclose(equinox_typed.filter_jit(Scaled(jnp.ones(3), 2.0))(x), 2 * x)
    np.testing.assert_allclose(equinox_typed.filter_jit(Scaled(jnp.ones(3), 3.0))(x), 3 * x)
    assert len(count) == 2

    # Two different functions of the same name never share compiled code.
    def make(k: float) -> Callable[[jax.Array], jax.Array]:
        def f(x: jax.Array) -> jax.Array:
            return x * k

        return f

    np.testing.assert_allclose(equinox_typed.filter_jit(make(2.0))(x), 2 * x)
    np.testing.assert_allclose(equinox_typed.filter_jit(make(5.0))(x), 5 * x)


def test_grad_wrappers_of_equal_functions_are_equal_pytrees() -> None:
    def loss(x: jax.Array) -> jax.Array:
        return jnp.sum(x**2)

    a, b = equinox_typed.filter_grad(loss), equinox_typed.filter_grad(loss)
    assert a is not b and a == b and hash(a) == hash(b)
    assert equinox_typed.filter_grad(loss, has_aux=True) != a
    assert equinox_typed.filter_value_and_grad(loss) != a
    assert equinox_typed.filter_vmap(loss) == equinox_typed.filter_vmap(loss)
    assert equinox_typed.filter_vmap(loss, in_axes=1) != equinox_typed.filter_vmap(loss)
    # dict/list axis specifications compare by value and stay hashable
    by_name = equinox_typed.filter_vmap(loss, in_axes={"x": 0})
    assert by_name == equinox_typed.filter_vmap(loss, in_axes={"x": 0})
    hash(by_name)


def test_wrapped_module_arrays_are_inputs_not_constants() -> None:
    # A new model in a rebuilt wrapper gives new numbers from the cached code.
    count: list[int] = []
    Model, loss = _model_class(equinox_typed, count), _loss(count)
    for scale in (1.0, 2.0, 3.0):
        model = Model(jnp.full(3, scale))
        grads = equinox_typed.filter_jit(equinox_typed.filter_grad(loss))(model, jnp.ones(3))
        np.testing.assert_allclose(grads.w, 2 * scale * np.ones(3))
        partial = equinox_typed.filter_grad(lambda x, m: loss(m, x))
        np.testing.assert_allclose(
            equinox_typed.filter_jit(partial)(jnp.ones(3), model), 2 * scale**2 * np.ones(3)
        )
