"""Checks at the boundaries of filtered transformations: arguments, Modules inside
them, return values; memoisation; modes."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest
from _transform_models import MLP, Linear, with_bad_weight
from jaxtyping import Array, Float, Int

import equinox_typed as eqx
from equinox_typed import _checking
from equinox_typed._boundary import Boundary


def _apply(model: Linear, x: Float[Array, " n"]) -> Float[Array, " m"]:
    return model(x)


def _matmul(a: Float[Array, "n k"], b: Float[Array, "k m"]) -> Float[Array, "n m"]:
    return a @ b


def _bad_return(a: Float[Array, "n k"], b: Float[Array, "k m"]) -> Float[Array, "n n"]:
    return a @ b


@pytest.fixture(scope="module")
def layer() -> Linear:
    return Linear(3, 2, key=jax.random.PRNGKey(0))


def _apply_sum(model: Linear, x: Float[Array, " n"]) -> Float[Array, ""]:
    return jnp.sum(model(x))


def test_arguments_bind_dimensions_across_arguments(typechecker: str) -> None:
    f = eqx.filter_jit(_matmul)
    assert f(jnp.ones((2, 3)), jnp.ones((3, 4))).shape == (2, 4)
    with pytest.raises(eqx.TypeCheckError) as info:
        f(jnp.ones((2, 3)), jnp.ones((4, 4)))
    message = str(info.value)
    assert "_matmul" in message and "`b`" in message
    assert "f32[4,4]" in message and "k=3" in message


def test_dtype_mismatch_reported(typechecker: str) -> None:
    def count(x: Int[Array, " n"]) -> Int[Array, ""]:
        return jnp.sum(x)

    with pytest.raises(eqx.TypeCheckError, match=r"(?s)`x`.*f32\[3\]"):
        eqx.filter_jit(count)(jnp.ones(3))
    assert eqx.filter_jit(count)(jnp.ones(3, dtype=jnp.int32)) == 3


@pytest.mark.parametrize("transform", ["jit", "grad", "vmap"])
def test_wrong_module_field_caught_before_dispatch(typechecker: str, transform: str, layer: Linear) -> None:
    bad = with_bad_weight(layer, (2, 4))
    if transform == "vmap":
        call = lambda: eqx.filter_vmap(_apply, in_axes=(None, 0))(bad, jnp.ones((5, 3)))  # noqa: E731
    elif transform == "grad":
        call = lambda: eqx.filter_grad(_apply_sum)(bad, jnp.ones(3))  # noqa: E731
    else:
        call = lambda: eqx.filter_jit(_apply)(bad, jnp.ones(3))  # noqa: E731
    with pytest.raises(eqx.TypeCheckError) as info:
        call()
    message = str(info.value)
    assert "`model.weight`" in message
    assert "f32[2,4]" in message and "in_features=3" in message


def test_nested_module_path(typechecker: str) -> None:
    mlp = MLP((3, 4, 2), key=jax.random.PRNGKey(0))
    bad = eqx.tree_at(lambda m: m.layers[0].weight, mlp, jnp.ones((4, 5)))

    def run(model: MLP, x: Float[Array, " n"]) -> Float[Array, " m"]:
        return model(x)

    with pytest.raises(eqx.TypeCheckError, match=r"`model\.layers\[0\]\.weight`"):
        eqx.filter_jit(run)(bad, jnp.ones(3))
    with pytest.raises(eqx.TypeCheckError, match=r"`self\.layers\[0\]\.weight`"):
        eqx.filter_jit(bad.__call__)(jnp.ones(3))


def test_return_checked_with_argument_bindings(typechecker: str) -> None:
    ok = eqx.filter_jit(_matmul)(jnp.ones((2, 3)), jnp.ones((3, 2)))
    assert ok.shape == (2, 2)
    f = eqx.filter_jit(_bad_return)
    # n=2 bound by the arguments; the result is 2x5, not 2x2.
    with pytest.raises(eqx.TypeCheckError) as info:
        f(jnp.ones((2, 3)), jnp.ones((3, 5)))
    message = str(info.value)
    assert "return" in message and "f32[2,5]" in message and "n=2" in message
    f(jnp.ones((2, 3)), jnp.ones((3, 2)))  # fine when it is square
    with pytest.raises(eqx.TypeCheckError, match="return"):
        eqx.filter_vmap(_bad_return)(jnp.ones((4, 2, 3)), jnp.ones((4, 3, 5)))

    def scalar(a: Float[Array, "n k"]) -> Float[Array, " n"]:
        return jnp.sum(a)  # a scalar, not a vector

    with pytest.raises(eqx.TypeCheckError, match=r"(?s)return.*f32\[\].*n=2"):
        eqx.filter_value_and_grad(scalar)(jnp.ones((2, 3)))
    with pytest.raises(eqx.TypeCheckError, match="return"):
        eqx.filter_grad(scalar)(jnp.ones((2, 3)))


def test_vmap_checks_per_example_shapes(typechecker: str) -> None:
    def per_example(x: Float[Array, " n"], w: Float[Array, "n m"]) -> Float[Array, " m"]:
        return x @ w

    xs, w = jnp.ones((7, 3)), jnp.ones((3, 2))
    assert eqx.filter_vmap(per_example, in_axes=(0, None))(xs, w).shape == (7, 2)
    with pytest.raises(eqx.TypeCheckError, match=r"(?s)`w`.*f32\[4,2\].*n=3"):
        eqx.filter_vmap(per_example, in_axes=(0, None))(xs, jnp.ones((4, 2)))
    # Mapped over axis 1: each example of xs.T is still of size 3.
    assert eqx.filter_vmap(per_example, in_axes=(1, None))(xs.T, w).shape == (7, 2)


def test_passed_signatures_are_memoised(monkeypatch: pytest.MonkeyPatch, layer: Linear) -> None:
    calls = []
    original = Boundary.check_arguments

    def spy(self: Boundary, args: tuple[object, ...], kwargs: dict[str, object]) -> object:
        calls.append(1)
        return original(self, args, kwargs)

    monkeypatch.setattr(Boundary, "check_arguments", spy)
    for transform in (eqx.filter_jit, eqx.filter_grad, eqx.filter_vmap):
        calls.clear()
        f = transform(lambda m, x: jnp.sum(m(x)))
        args = (layer, jnp.ones((4, 3))) if transform is eqx.filter_vmap else (layer, jnp.ones(3))
        if transform is eqx.filter_vmap:
            f = transform(lambda m, x: jnp.sum(m(x)), in_axes=(None, 0))
        f(*args)
        f(*args)
        f(*jax.tree_util.tree_map(lambda a: a + 1, args))  # new values, same signature
        assert len(calls) == 1, transform
    # A new typechecker re-checks. (A function of its own: compiled code, and so the
    # checks it passed, is shared by every wrapper of the same function.)
    def matmul(a: Float[Array, "n k"], b: Float[Array, "k m"]) -> Float[Array, "n m"]:
        return a @ b

    calls.clear()
    f = eqx.filter_jit(matmul)
    f(jnp.ones((2, 3)), jnp.ones((3, 2)))
    eqx.set_typechecker("typeguard" if eqx.get_typechecker() == "beartype" else "beartype")
    f(jnp.ones((2, 3)), jnp.ones((3, 2)))
    assert len(calls) == 2


def test_off_mode_checks_nothing(layer: Linear) -> None:
    bad = with_bad_weight(layer, (2, 4))
    with eqx.checks("off"):
        with pytest.raises(TypeError, match="dot_general"):  # XLA's error, not ours
            eqx.filter_jit(_apply)(bad, jnp.ones(3))
        out = eqx.filter_jit(_bad_return)(jnp.ones((2, 3)), jnp.ones((3, 5)))
        assert out.shape == (2, 5)


def test_eager_mode_does_not_check_inside_traces(layer: Linear) -> None:
    seen = []

    def inner(x: Float[Array, " n"]) -> Float[Array, " n"]:
        seen.append(_checking.checks_active())
        return x

    eqx.filter_jit(inner)(jnp.ones(2))
    eqx.filter_vmap(inner)(jnp.ones((2, 2)))
    eqx.filter_grad(lambda x: jnp.sum(inner(x)))(jnp.ones(2))
    assert seen == [False, False, False]
    # A filter_jit called inside a trace is not checked in eager mode...
    wrong = eqx.filter_jit(_bad_return)
    assert jax.jit(lambda a, b: wrong(a, b))(jnp.ones((2, 3)), jnp.ones((3, 5))).shape == (2, 5)


def test_always_mode_checks_inside_traces(typechecker: str) -> None:
    eqx.set_checks("always")
    wrong = eqx.filter_jit(_bad_return)
    with pytest.raises(eqx.TypeCheckError, match="return"):
        jax.jit(lambda a, b: wrong(a, b))(jnp.ones((2, 3)), jnp.ones((3, 5)))
    seen = []

    def inner(x: Float[Array, " n"]) -> Float[Array, " n"]:
        seen.append(_checking.checks_active())
        return x

    eqx.filter_jit(inner)(jnp.ones(2))
    assert seen == [True]


def test_boundary_labels_varargs_and_partials() -> None:
    def f(a: Float[Array, " n"], *rest: Float[Array, " n"], **named: Float[Array, " n"]) -> None:
        return None

    boundary = Boundary(f)
    labels = [label for label, _ in boundary.label_arguments((1, 2, 3), {"z": 4})]
    assert labels == ["a", "rest[0]", "rest[1]", "named['z']"]
    with pytest.raises(eqx.TypeCheckError, match=r"`rest\[1\]`"):
        boundary.check_arguments((jnp.ones(2), jnp.ones(2), jnp.ones(3)), {})
    partial = Boundary(eqx.Partial(f, jnp.ones(2)))
    with pytest.raises(eqx.TypeCheckError, match=r"`rest\[0\]`.*"):
        partial.check_arguments((jnp.ones(3),), {})


def test_layer_sizes_bind_at_the_boundary_of_a_jitted_layer(typechecker: str) -> None:
    """`filter_jit(linear)` checks `x` against the layer's own `in_features`."""
    linear = eqx.nn.Linear(3, 4, key=jax.random.key(0))
    jitted = eqx.filter_jit(linear)
    assert jitted(jnp.ones(3)).shape == (4,)
    with pytest.raises(eqx.TypeCheckError) as info:
        jitted(jnp.ones(5))
    message = str(info.value)
    assert "Linear.__call__: argument `x`" in message
    assert "in_features=3" in message and "f32[5]" in message
