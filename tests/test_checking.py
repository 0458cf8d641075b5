"""Run-time checks of Module fields: modes, backends, dimension binding, messages."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from typing import Literal

import jax
import jax.numpy as jnp
import jaxtyping
import numpy as np
import pytest
from jaxtyping import Array, Float, Int, Shaped

import equinox_typed as eqx
from equinox_typed import _checking


class Dense(eqx.Module):
    weight: Float[Array, "out_features in_features"]
    bias: Float[Array, " out_features"]
    in_features: int = eqx.field(static=True)
    out_features: int = eqx.field(static=True)


class Pair(eqx.Module):
    a: Float[Array, "n m"]
    b: Float[Array, " n"]


class Mixed(eqx.Module):
    table: Int[Array, "rows 2"]
    fn: Callable[[int], int]
    count: int
    names: tuple[str, ...] = ()


def _dense(out: int = 4, inp: int = 3) -> Dense:
    return Dense(jnp.zeros((out, inp)), jnp.zeros(out), inp, out)


def test_valid_construction_passes(typechecker: str) -> None:
    layer = _dense()
    assert layer.weight.shape == (4, 3)


def test_wrong_shape_against_int_fields(typechecker: str) -> None:
    with pytest.raises(eqx.TypeCheckError) as info:
        Dense(jnp.zeros((5, 5)), jnp.zeros(4), 3, 4)
    message = str(info.value)
    assert message.startswith("Dense: field `.weight` does not match its annotation.")
    assert "expected: Float[Array, 'out_features in_features']" in message
    assert "got:      f32[5,5]" in message
    assert "in_features=3" in message and "out_features=4" in message


def test_dimension_names_bind_across_fields(typechecker: str) -> None:
    Pair(jnp.zeros((2, 3)), jnp.zeros(2))
    with pytest.raises(eqx.TypeCheckError) as info:
        Pair(jnp.zeros((2, 3)), jnp.zeros(3))
    message = str(info.value)
    assert "`.b`" in message and "f32[3]" in message
    assert "n=2" in message and "m=3" in message


def test_dtype_category_is_checked(typechecker: str) -> None:
    with pytest.raises(eqx.TypeCheckError, match=r"`\.a`.*\n.*Float.*\n.*i32\[2,3\]"):
        Pair(jnp.zeros((2, 3), dtype=jnp.int32), jnp.zeros(2))


def test_non_array_annotations_are_checked(typechecker: str) -> None:
    Mixed(jnp.zeros((5, 2), dtype=jnp.int32), abs, 3, ("a",))
    with pytest.raises(eqx.TypeCheckError, match="`.count`"):
        Mixed(jnp.zeros((5, 2), dtype=jnp.int32), abs, "three", ())  # type: ignore[arg-type]
    with pytest.raises(eqx.TypeCheckError, match="`.table`.*\n.*\n.*i32\\[5,3\\]"):
        Mixed(jnp.zeros((5, 3), dtype=jnp.int32), abs, 3)


def test_error_is_both_type_error_and_jaxtyping_error() -> None:
    with pytest.raises(TypeError):
        _dense(inp=3) if False else Dense(jnp.zeros((1, 1)), jnp.zeros(4), 3, 4)
    with pytest.raises(jaxtyping.TypeCheckError):
        Dense(jnp.zeros((1, 1)), jnp.zeros(4), 3, 4)
    assert issubclass(eqx.TypeCheckError, TypeError)


def test_user_init_is_checked_too(typechecker: str) -> None:
    class Built(eqx.Module):
        w: Float[Array, " size"]
        size: int = eqx.field(static=True)

        def __init__(self, size: int) -> None:
            self.size = size
            self.w = jnp.zeros(size + 1)  # the bug being caught

    with pytest.raises(eqx.TypeCheckError, match="Built: field `.w`.*\n.*\n.*f32\\[4\\]"):
        Built(3)


def test_numpy_array_reported_as_numpy(typechecker: str) -> None:
    with pytest.raises(eqx.TypeCheckError, match=r"f32\[4\]\(numpy\)"):
        Pair(np.zeros(4, dtype=np.float32), jnp.zeros(2))  # type: ignore[arg-type]


def test_modes_off_eager_always() -> None:
    assert eqx.get_checks() == "eager"
    previous = eqx.set_checks("off")
    assert previous == "eager"
    Pair(jnp.zeros((2, 3)), jnp.zeros(3))  # not checked
    with eqx.checks("eager"):
        assert eqx.get_checks() == "eager"
        with pytest.raises(eqx.TypeCheckError):
            Pair(jnp.zeros((2, 3)), jnp.zeros(3))
    assert eqx.get_checks() == "off"
    with pytest.raises(ValueError, match="checking mode"):
        eqx.set_checks("sometimes")  # type: ignore[arg-type]


def test_eager_mode_does_not_check_inside_traces(typechecker: str) -> None:
    def build(x: jax.Array) -> Pair:
        return Pair(jnp.zeros((2, 3)) * x, jnp.zeros(3) * x)  # inconsistent `n`

    out = jax.jit(build)(1.0)  # no check while tracing: builds fine
    assert out.b.shape == (3,)
    with eqx.checks("always"):
        with pytest.raises(eqx.TypeCheckError, match="`.b`"):
            jax.jit(lambda x: build(x))(2.0)  # a fresh function: traced anew


def test_eager_mode_traces_exactly_as_unchecked_code() -> None:
    def build_and_use(x: jax.Array) -> jax.Array:
        pair = Pair(jnp.outer(x, x), x)
        return pair.a @ pair.b

    x = jnp.arange(3.0)
    with eqx.checks("off"):
        unchecked = str(jax.make_jaxpr(build_and_use)(x))
    checked = str(jax.make_jaxpr(build_and_use)(x))
    assert checked == unchecked
    with eqx.checks("always"):
        assert str(jax.make_jaxpr(build_and_use)(x)) == unchecked


def test_always_mode_checks_abstract_shapes_under_vmap() -> None:
    with eqx.checks("always"):
        good = jax.vmap(lambda a, b: Pair(a, b))(jnp.zeros((4, 2, 3)), jnp.zeros((4, 2)))
        assert good.a.shape == (4, 2, 3)
        with pytest.raises(eqx.TypeCheckError):
            jax.vmap(lambda a, b: Pair(a, b))(jnp.zeros((4, 2, 3)), jnp.zeros((4, 3)))


def test_failed_checks_are_retried_and_passes_memoised(typechecker: str) -> None:
    for _ in range(3):
        with pytest.raises(eqx.TypeCheckError):
            Pair(jnp.zeros((2, 3)), jnp.zeros(3))
    Pair(jnp.zeros((2, 3)), jnp.zeros(2))
    memo = Pair._eqx_plan.memo  # type: ignore[attr-defined]
    size = len(memo._seen)
    Pair(jnp.ones((2, 3)), jnp.ones(2))  # same signature: a lookup
    assert len(memo._seen) == size
    Pair(jnp.ones((5, 3)), jnp.ones(5))
    assert len(memo._seen) == size + 1


def test_switching_backend_invalidates_memo() -> None:
    eqx.set_typechecker("beartype")
    Pair(jnp.zeros((2, 3)), jnp.zeros(2))
    key_before = _checking.abstract_signature([jnp.zeros(2)])
    eqx.set_typechecker("typeguard")
    assert _checking.abstract_signature([jnp.zeros(2)]) != key_before
    with pytest.raises(ValueError, match="typechecker"):
        eqx.set_typechecker("mypy")  # type: ignore[arg-type]


def test_nested_modules_are_checked_by_their_own_class(typechecker: str) -> None:
    class Outer(eqx.Module):
        inner: Dense
        scale: Float[Array, ""]

    Outer(_dense(), jnp.array(1.0))
    with pytest.raises(eqx.TypeCheckError, match="`.inner`"):
        Outer("not a dense", jnp.array(1.0))  # type: ignore[arg-type]


def test_check_tree_modules_names_the_path(typechecker: str) -> None:
    from equinox_typed._module import check_tree_modules

    good = {"layers": [_dense(), _dense(2, 4)]}
    check_tree_modules(good, "model")
    broken = jax.tree_util.tree_map(lambda x: x, good)
    # Bypass the constructor (as tree manipulation does) to make an inconsistent layer.
    leaves, treedef = jax.tree_util.tree_flatten(broken)
    leaves[2] = jnp.zeros((5, 5))
    broken = jax.tree_util.tree_unflatten(treedef, leaves)
    with pytest.raises(eqx.TypeCheckError) as info:
        check_tree_modules(broken, "model")
    message = str(info.value)
    assert "model['layers'][1].weight" in message
    assert "out_features=2" in message and "in_features=4" in message
    assert "f32[5,5]" in message


def test_variadic_and_shaped_annotations(typechecker: str) -> None:
    class Batch(eqx.Module):
        x: Shaped[Array, "*batch channels"]
        channels: int

    Batch(jnp.zeros((2, 3, 4)), 4)
    with pytest.raises(eqx.TypeCheckError, match="channels=4"):
        Batch(jnp.zeros((2, 3, 5)), 4)


def test_environment_variables_select_mode_and_backend() -> None:
    code = (
        "import equinox_typed as eqx;"
        "print(eqx.get_checks(), eqx.get_typechecker())"
    )
    env = {
        **os.environ,
        "EQUINOX_TYPED_CHECKS": "always",
        "EQUINOX_TYPED_TYPECHECKER": "typeguard",
    }
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["always", "typeguard"]
    env["EQUINOX_TYPED_CHECKS"] = "bogus"
    bad = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert bad.returncode != 0 and "EQUINOX_TYPED_CHECKS" in bad.stderr


def test_unresolvable_annotation_warns_and_is_skipped() -> None:
    def make() -> type:
        class Local:  # a name the annotation below cannot see at check time
            pass

        class UsesLocal(eqx.Module):
            thing: "Local"
            w: Float[Array, " n"]

        return UsesLocal

    cls = make()
    with pytest.warns(UserWarning, match="cannot resolve"):
        obj = cls(object(), jnp.zeros(2))
    assert obj.w.shape == (2,)


def test_literal_and_union_fields(typechecker: str) -> None:
    class Sized(eqx.Module):
        size: int | Literal["scalar"]

    assert Sized("scalar").size == "scalar"
    assert Sized(3).size == 3
    with pytest.raises(eqx.TypeCheckError, match="`.size`"):
        Sized("vector")  # type: ignore[arg-type]


def test_memo_distinguishes_array_kinds_and_scalar_types(typechecker: str) -> None:
    class Holder(eqx.Module):
        x: Shaped[Array, " n"] | Shaped[np.ndarray, " n"]
        flag: bool | int

    Holder(jnp.zeros(3), True)
    Holder(np.zeros(3), True)  # a NumPy array: a different signature, checked anew
    with pytest.raises(eqx.TypeCheckError, match="`.x`"):
        Holder(jnp.zeros((3, 1)), 1)  # a new shape is checked, not served from the memo

    class Nested(eqx.Module):
        inner: Pair  # a Module holding arrays: its signature is found by flattening
        scale: Float[Array, ""]

    Nested(Pair(jnp.zeros((2, 3)), jnp.zeros(2)), jnp.array(1.0))
    with pytest.raises(eqx.TypeCheckError, match="`.scale`"):
        Nested(Pair(jnp.zeros((2, 3)), jnp.zeros(2)), jnp.zeros(2))
