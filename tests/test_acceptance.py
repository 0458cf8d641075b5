"""What the checks accept: JAX's value model (README "Checking", acceptance rules).

Each rule is tested both ways: the valid case passes, the nearest invalid case still
raises with the usual message. Rules whose outcome the backend could change run under
beartype and typeguard.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.experimental
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from jaxtyping import Array, Float, Float32, Int

import equinox_typed as eqx


class Dense(eqx.Module):
    weight: Float[Array, "out_features in_features"]
    bias: Float[Array, " out_features"]
    in_features: int = eqx.field(static=True)
    out_features: int = eqx.field(static=True)


def _message(call: Callable[[], object]) -> str:
    with pytest.raises(eqx.TypeCheckError) as info:
        call()
    return str(info.value)


# ---------------------------------------------------------------------------------------
# NumPy is an array.


def test_numpy_arrays_in_array_fields(typechecker: str) -> None:
    layer = Dense(np.zeros((4, 3), np.float32), np.zeros(4), 3, 4)
    assert isinstance(layer.weight, np.ndarray)
    # The nearest invalid cases: a wrong shape, a wrong dtype kind.
    message = _message(lambda: Dense(np.zeros((4, 3)), np.zeros(5), 3, 4))
    assert "`.bias`" in message and "f64[5](numpy)" in message
    assert "expected: Float[Array, 'out_features']" in message
    message = _message(lambda: Dense(np.zeros((4, 3), np.int32), np.zeros(4), 3, 4))
    assert "`.weight`" in message and "i32[4,3](numpy)" in message


def test_numpy_scalars_in_array_fields(typechecker: str) -> None:
    class Scale(eqx.Module):
        factor: Float[Array, ""]

    assert Scale(np.float32(2.0)).factor == 2.0
    message = _message(lambda: Scale(np.int32(2)))
    assert "`.factor`" in message and "expected: Float[Array, '']" in message


def test_numpy_dtypes_read_as_jax_converts_them(typechecker: str) -> None:
    # With 64-bit mode off, JAX turns float64 NumPy data into float32: so does the check.
    class Exact(eqx.Module):
        x: Float32[Array, " n"]

    Exact(np.zeros(3, np.float64))
    # The context manager moved from jax.experimental to jax in JAX 0.5.
    enable_x64 = jax.enable_x64 if hasattr(jax, "enable_x64") else jax.experimental.enable_x64
    with enable_x64(True):
        message = _message(lambda: Exact(np.zeros(3, np.float64)))
    assert "f64[3](numpy)" in message


def test_bare_array_annotation_accepts_numpy(typechecker: str) -> None:
    class Bare(eqx.Module):
        x: jax.Array

    Bare(np.zeros(2))
    message = _message(lambda: Bare([1.0, 2.0]))  # type: ignore[arg-type]
    assert "`.x`" in message and "list" in message


def _fresh_function() -> Callable[..., Any]:
    @eqx.filter_jit
    def total(x: Float[Array, "n 2"], y: Float[Array, " n"]) -> Float[Array, ""]:
        return x.sum() + y.sum()

    return total


@pytest.mark.parametrize("numpy_first", [True, False])
def test_filter_jit_same_answer_in_any_call_order(typechecker: str, numpy_first: bool) -> None:
    # NumPy and JAX arguments of one shape share a compiled signature, so the check must
    # give them one answer whichever compiles the signature first.
    numpy_args = (np.ones((3, 2), np.float32), np.ones(3, np.float64))
    jax_args = (jnp.ones((3, 2)), jnp.ones(3))
    total = _fresh_function()
    for args in (numpy_args, jax_args) if numpy_first else (jax_args, numpy_args):
        assert float(total(*args)) == 9.0
    # A wrong dtype kind is refused in either order, NumPy or not.
    bad_numpy = (np.ones((3, 2), np.int32), np.ones(3))
    bad_jax = (jnp.ones((3, 2), jnp.int32), jnp.ones(3))
    total = _fresh_function()
    for args in (bad_numpy, bad_jax) if numpy_first else (bad_jax, bad_numpy):
        message = _message(lambda: total(*args))
        assert "argument `x`" in message and "i32[3,2]" in message
    message = _message(lambda: total(np.ones((3, 2)), np.ones(4)))
    assert "argument `y`" in message and "n=3" in message


def test_numpy_modules_cross_filter_jit_and_grad(typechecker: str) -> None:
    layer = Dense(np.ones((2, 3), np.float32), np.zeros(2, np.float32), 3, 2)

    @eqx.filter_jit
    def apply(m: Dense, x: Float[Array, " in_features"]) -> Float[Array, " 2"]:
        return jnp.asarray(m.weight) @ x + m.bias

    np.testing.assert_allclose(apply(layer, np.arange(3.0)), [3.0, 3.0])
    grads = eqx.filter_grad(lambda m, x: apply(m, x).sum())(layer, np.arange(3.0))
    np.testing.assert_allclose(grads.weight, np.tile(np.arange(3.0), (2, 1)))


def test_numpy_inputs_to_eager_layer_calls(typechecker: str) -> None:
    linear = eqx.nn.Linear(3, 2, key=jr.PRNGKey(0))
    x = np.arange(3.0, dtype=np.float32)
    np.testing.assert_allclose(linear(x), linear(jnp.asarray(x)), rtol=1e-6)
    message = _message(lambda: linear(np.arange(4.0)))
    assert "Linear.__call__" in message and "argument `x`" in message
    assert "f64[4](numpy)" in message


# ---------------------------------------------------------------------------------------
# The numeric tower.


def test_numpy_integers_where_int_is_annotated(typechecker: str) -> None:
    linear = eqx.nn.Linear(np.prod((2, 3)), 4, key=jr.PRNGKey(0))
    assert linear.weight.shape == (4, 6)
    assert linear(jnp.ones(6)).shape == (4,)
    layer = Dense(jnp.zeros((4, 3)), jnp.zeros(4), np.int64(3), 4)
    # A NumPy integer size binds its dimension like an int does.
    message = _message(lambda: Dense(jnp.zeros((4, 3)), jnp.zeros(4), np.int64(2), 4))
    assert "`.weight`" in message and "in_features=2" in message
    assert layer.in_features == 3
    message = _message(lambda: Dense(jnp.zeros((4, 3)), jnp.zeros(4), np.float64(3), 4))
    assert "`.in_features`" in message and "expected: int" in message


def test_int_where_float_is_annotated(typechecker: str) -> None:
    norm = eqx.nn.LayerNorm(3, eps=0)
    np.testing.assert_allclose(norm(jnp.array([1.0, 2.0, 3.0])).sum(), 0.0, atol=1e-6)

    class Rate(eqx.Module):
        learning_rate: float = 1

    assert Rate().learning_rate == 1
    assert Rate(np.float32(0.5)).learning_rate == 0.5
    message = _message(lambda: Rate("1"))  # type: ignore[arg-type]
    assert "`.learning_rate`" in message and "expected: float" in message
    message = _message(lambda: eqx.nn.LayerNorm(3, eps="0"))  # type: ignore[arg-type]
    assert "eps" in message


# ---------------------------------------------------------------------------------------
# Scalars after transformation.


class Settings(eqx.Module):
    flag: bool
    count: int
    rate: float
    size: int = eqx.field(static=True, default=2)


def test_zero_d_arrays_in_scalar_fields(typechecker: str) -> None:
    settings = jax.tree.map(jnp.asarray, Settings(True, 3, 1))
    assert settings.count.shape == () and settings.rate.dtype == jnp.int32

    @eqx.filter_jit
    def scaled(s: Settings) -> Int[Array, ""]:
        return s.rate * s.count * s.flag

    assert float(scaled(settings)) == 3.0
    Settings(np.bool_(True), np.array(3), np.array(0.5))


@pytest.mark.parametrize(
    ("values", "field", "got"),
    [
        ((jnp.array(True), jnp.array(1.5), 1.0), "`.count`", "f32[]"),
        ((jnp.array(True), jnp.arange(2), 1.0), "`.count`", "i32[2]"),
        ((jnp.array(1), 1, 1.0), "`.flag`", "i32[]"),
        ((True, 1, jnp.array(True)), "`.rate`", "bool[]"),
    ],
)
def test_zero_d_arrays_of_another_kind_or_rank_are_refused(
    typechecker: str, values: tuple[Any, ...], field: str, got: str
) -> None:
    message = _message(lambda: Settings(*values))
    assert field in message and got in message


def test_static_scalar_fields_stay_strict(typechecker: str) -> None:
    message = _message(lambda: Settings(True, 1, 1.0, jnp.array(2)))  # type: ignore[arg-type]
    assert "`.size`" in message and "expected: int" in message


# ---------------------------------------------------------------------------------------
# None holes.


class Stack(eqx.Module):
    layers: list[Callable[..., Any] | eqx.nn.Linear]
    pair: tuple[int, Float[Array, " 2"]]
    table: dict[str, Float[Array, " 2"]]


def _stack() -> Stack:
    linear = eqx.nn.Linear(2, 2, key=jr.PRNGKey(0))
    return Stack([linear, jax.nn.relu], (1, jnp.ones(2)), {"a": jnp.ones(2)})


@pytest.mark.parametrize("repeat", range(4))  # beartype once sampled one element
def test_none_holes_inside_containers_are_never_violations(typechecker: str, repeat: int) -> None:
    del repeat
    model = _stack()
    params = eqx.filter(model, eqx.is_array)
    assert params.layers[1] is None and params.pair[0] is None

    @eqx.filter_jit
    def norm(p: Stack) -> Float[Array, ""]:
        return sum(jnp.sum(x) for x in jax.tree.leaves(eqx.filter(p, eqx.is_array)))

    expected = sum(float(jnp.sum(x)) for x in jax.tree.leaves(params))
    assert float(norm(params)) == pytest.approx(expected)
    assert float(norm(model)) == pytest.approx(expected)
    grads = eqx.filter_grad(lambda m: norm(m))(model)
    assert grads.layers[1] is None and grads.pair[0] is None
    np.testing.assert_allclose(grads.table["a"], [1.0, 1.0])


def test_holes_are_accepted_only_at_boundaries(typechecker: str) -> None:
    message = _message(lambda: Stack([None], (1, jnp.ones(2)), {"a": jnp.ones(2)}))  # type: ignore[list-item]
    assert "`.layers`" in message


def test_a_wrong_value_next_to_holes_is_still_caught(typechecker: str) -> None:
    params = eqx.filter(_stack(), eqx.is_array)
    broken = eqx.tree_at(lambda s: s.layers, params, ["not a layer"])

    @eqx.filter_jit
    def identity(p: Stack) -> Stack:
        return p

    message = _message(lambda: identity(broken))
    assert "`p.layers`" in message and "list" in message
    broken = eqx.tree_at(lambda s: s.table, params, {"a": jnp.ones(3)})
    message = _message(lambda: identity(broken))
    assert "`p.table`" in message


def test_int_array_in_int_annotated_array_field_unchanged(typechecker: str) -> None:
    class Table(eqx.Module):
        rows: Int[Array, " n"]

    Table(np.arange(3))
    message = _message(lambda: Table(np.arange(3.0)))
    assert "expected: Int[Array, 'n']" in message and "f64[3](numpy)" in message


# ---------------------------------------------------------------------------------------
# Wrapped parameters.


class Symmetric(eqx.Module):
    matrix: Float[Array, "n n"]

    def __jax_array__(self) -> Float[Array, "n n"]:
        return 0.5 * (self.matrix + self.matrix.T)


class Tagged(eqx.Module):  # a wrapper that does not say which array it stands for
    value: Float[Array, "a b"]


def _resolve(tree: Any) -> Any:
    def unwrap(x: Any) -> Any:
        return jnp.asarray(x) if isinstance(x, Symmetric) else x.value if isinstance(x, Tagged) else x

    return jax.tree.map(unwrap, tree, is_leaf=lambda x: isinstance(x, (Symmetric, Tagged)))


@eqx.filter_jit
def _apply(model: Dense, x: Float[Array, " in_features"]) -> Float[Array, " out_features"]:
    resolved = _resolve(model)
    return resolved.weight @ x + resolved.bias


def test_wrapped_parameter_crosses_boundaries(typechecker: str) -> None:
    weight = jnp.array([[1.0, 2.0], [0.0, 1.0]])
    model = eqx.tree_at(lambda m: m.weight, Dense(weight, jnp.zeros(2), 2, 2), replace_fn=Symmetric)
    np.testing.assert_allclose(_apply(model, jnp.array([1.0, 1.0])), [2.0, 2.0])
    grads = eqx.filter_grad(lambda m: _apply(m, jnp.array([1.0, 0.0])).sum())(model)
    assert isinstance(grads.weight, Symmetric)
    np.testing.assert_allclose(grads.weight.matrix, [[1.0, 0.5], [0.5, 0.0]])
    tagged = eqx.tree_at(lambda m: m.weight, Dense(weight, jnp.zeros(2), 2, 2), replace_fn=Tagged)
    np.testing.assert_allclose(_apply(tagged, jnp.array([1.0, 1.0])), [3.0, 1.0])


def test_wrapped_parameter_of_the_wrong_shape_is_caught(typechecker: str) -> None:
    model = Dense(jnp.zeros((3, 2)), jnp.zeros(3), 2, 3)
    bad = eqx.tree_at(lambda m: m.weight, model, Symmetric(jnp.zeros((2, 2))))
    message = _message(lambda: _apply(bad, jnp.ones(2)))
    assert "field `model.weight.__jax_array__()` does not match its annotation" in message
    assert "got:      f32[2,2]" in message and "out_features=3" in message
    # The wrapper's own fields are checked by its own annotations.
    sym = eqx.tree_at(lambda s: s.matrix, Symmetric(jnp.zeros((2, 2))), jnp.zeros((2, 3)))
    bad = eqx.tree_at(lambda m: m.weight, model, sym)
    message = _message(lambda: _apply(bad, jnp.ones(2)))
    assert "Symmetric: field `model.weight.matrix`" in message and "f32[2,3]" in message


def test_wrapped_parameter_refused_by_init(typechecker: str) -> None:
    message = _message(lambda: Dense(Symmetric(jnp.zeros((2, 2))), jnp.zeros(2), 2, 2))  # type: ignore[arg-type]
    assert "Dense: field `.weight`" in message and "Symmetric" in message
