"""Memoised checks are sound: a memo hit happens only when a fresh check would give the
same answer, and memos hold no strong reference to user objects."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable
from typing import Annotated, Any

import jax.numpy as jnp
import numpy as np
import pytest
from beartype.vale import Is
from jaxtyping import Array, Float

import equinox_typed as eqx
from equinox_typed import _checking


def _fresh_verdict(cls: type, *args: Any) -> str:
    """What a check with no memo says about ``cls(*args)``: 'ok' or the error text."""
    plan = cls.__dict__.get("_eqx_plan")
    if plan is not None:
        plan.memo._seen.clear()
    try:
        cls(*args)
    except eqx.TypeCheckError as error:
        return str(error)
    return "ok"


def _verdict(cls: type, *args: Any) -> str:
    try:
        cls(*args)
    except eqx.TypeCheckError as error:
        return str(error)
    return "ok"


class IntPair(eqx.Module):
    pair: tuple[int, int]
    w: Float[Array, " 2"]


def test_tuple_field_keys_every_element_type(typechecker: str) -> None:
    w = jnp.zeros(2)
    assert _verdict(IntPair, (1, 2), w) == "ok"
    message = _verdict(IntPair, (1.0, 2), w)  # the same hash and == as (1, 2)
    assert "`.pair`" in message and "tuple[int, int]" in message
    # Whatever the rule for NumPy integers, a memoised check agrees with a fresh one.
    for value in [(np.int64(1), 2), (True, 2), (1, 2)]:
        assert _verdict(IntPair, value, w) == _fresh_verdict(IntPair, value, w)


def test_nested_container_keys_leaf_types(typechecker: str) -> None:
    class Nested(eqx.Module):
        table: dict[str, list[int]]

    assert _verdict(Nested, {"a": [1, 2]}) == "ok"
    assert "`.table`" in _verdict(Nested, {"a": [1, 2.0]})
    assert "`.table`" in _verdict(Nested, {"a": [1, "2"]})


def test_any_annotated_size_field_that_binds_a_dimension_is_keyed(typechecker: str) -> None:
    class Sized(eqx.Module):
        n: Any
        w: Float[Array, " n"]

    assert _verdict(Sized, 3, jnp.zeros(3)) == "ok"
    message = _verdict(Sized, 4, jnp.zeros(3))
    assert "`.w`" in message and "n=4" in message


Positive = Annotated[Float[Array, ""], Is[lambda x: bool(x > 0)]]


def test_value_validators_are_checked_every_time() -> None:
    eqx.set_typechecker("beartype")  # typeguard does not run beartype validators

    class Scale(eqx.Module):
        s: Positive

    for _ in range(3):
        Scale(jnp.array(2.0))
        with pytest.raises(eqx.TypeCheckError, match="`.s`"):
            Scale(jnp.array(-1.0))


def test_value_validators_at_a_jit_boundary_are_checked_every_time() -> None:
    eqx.set_typechecker("beartype")

    @eqx.filter_jit
    def f(s: Positive) -> Float[Array, ""]:
        return s * 2

    assert float(f(jnp.array(2.0))) == 4.0
    with pytest.raises(eqx.TypeCheckError, match="`s`"):
        f(jnp.array(-1.0))  # same signature as the passing call


def test_value_validators_in_layer_calls_are_checked_every_time() -> None:
    eqx.set_typechecker("beartype")
    from equinox_typed._call_checks import checked_call

    class Halve(eqx.Module):
        @checked_call
        def __call__(self, s: Positive) -> Float[Array, ""]:
            return s / 2

    layer = Halve()
    assert float(layer(jnp.array(2.0))) == 1.0
    with pytest.raises(eqx.TypeCheckError, match="`s`"):
        layer(jnp.array(-1.0))


class Stack(eqx.Module):
    xs: list[Float[Array, " 3"]]


@pytest.mark.parametrize("bad_index", [0, 7, 19])
def test_every_container_element_is_checked(typechecker: str, bad_index: int) -> None:
    # With beartype's default sampling one random element is checked: a wrong element
    # in 20 would pass 19 times in 20.
    for attempt in range(10):
        xs = [jnp.full(3, attempt, dtype=jnp.float32) for _ in range(20)]
        xs[bad_index] = jnp.zeros(4)
        with pytest.raises(eqx.TypeCheckError, match="`.xs`"):
            Stack(xs)


def test_every_container_element_is_checked_at_a_jit_boundary(typechecker: str) -> None:
    @eqx.filter_jit
    def total(xs: list[Float[Array, " 3"]]) -> Float[Array, ""]:
        return sum(x.sum() for x in xs)  # type: ignore[return-value]

    for bad_index in range(0, 20, 4):
        xs = [jnp.ones(3) for _ in range(20)]
        xs[bad_index] = jnp.ones(5)
        with pytest.raises(eqx.TypeCheckError, match="`xs`"):
            total(xs)


class WithFunction(eqx.Module):
    fn: Callable[[Any], Any]
    w: Float[Array, " n"]


class Big:
    """Stands for a large object captured by a closure."""


def _closure_over_big() -> tuple[Callable[[Any], Any], weakref.ref[Big]]:
    big = Big()

    def closure(x: Any) -> Any:
        return (big, x)

    return closure, weakref.ref(big)


def test_memos_hold_no_reference_to_field_values(typechecker: str) -> None:
    closure, watched = _closure_over_big()
    WithFunction(closure, jnp.zeros(2))
    WithFunction(closure, jnp.zeros(2))  # a memo hit on the same function
    assert watched() is not None  # the closure keeps it alive...
    del closure
    gc.collect()
    assert watched() is None  # ...and nothing else does


def test_memos_hold_no_reference_to_static_field_values(typechecker: str) -> None:
    class Static(eqx.Module):
        fn: Callable[[Any], Any] = eqx.field(static=True)

    closure, watched = _closure_over_big()
    Static(closure)
    del closure
    gc.collect()
    assert watched() is None


def test_memos_hold_no_reference_to_discarded_models(typechecker: str) -> None:
    class Outer(eqx.Module):
        inner: WithFunction
        extra: tuple[WithFunction, ...]

    watched = []
    for _ in range(5):
        inner = WithFunction(lambda x: x, jnp.zeros(2))
        outer = Outer(inner, (inner,))
        eqx.filter_jit(lambda m: m.inner.w + 1)(outer)
        watched.append(weakref.ref(inner))
        del inner, outer
    gc.collect()
    assert [w() for w in watched] == [None] * 5


def test_a_memo_of_a_dead_object_matches_nothing() -> None:
    class Thing:
        pass

    first = Thing()
    key = _checking.value_key(first)
    assert key == _checking.value_key(first)
    del first
    gc.collect()
    assert key != _checking.value_key(Thing())  # even if the id is reused


def test_value_keys_tell_apart_what_checks_tell_apart() -> None:
    key = _checking.value_key
    assert key((1, 2)) != key((1.0, 2))
    assert key((1, 2)) != key((np.int64(1), 2))
    assert key([1]) != key((1,))
    assert key(1) != key(True)
    assert key({"a": 1}) != key({"a": 1.0})
    assert key(np.zeros(3)) == key(np.ones(3))
    assert key(np.zeros(3)) != key(jnp.zeros(3))
    assert key(np.zeros(3)) != key(np.zeros(3, dtype=np.int32))
