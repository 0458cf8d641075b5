"""Checks and reprs scale with the size of the model, and error messages say clearly what
arrived and where, cheaply."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
import pytest
from jaxtyping import Array, Float

import equinox_typed as eqx
from equinox_typed._checking import describe_value


class Counted:
    """A childless PyTree node that counts how often it is flattened."""

    flattens = 0


def _flatten_counted(node: Counted) -> tuple[tuple[()], None]:
    Counted.flattens += 1
    return (), None


jtu.register_pytree_node(Counted, _flatten_counted, lambda aux, children: Counted())


class Link(eqx.Module):
    child: Link | None
    tag: Counted
    w: Float[Array, " 2"]


def _chain(n: int) -> Link | None:
    link = None
    for _ in range(n):
        link = Link(link, Counted(), jnp.zeros(2))
    return link


def _flattens_for(n: int) -> tuple[int, int]:
    """Flattens of the nodes while building a chain of ``n`` Modules, and during the
    first (checked) filter_jit call on it."""
    Counted.flattens = 0
    chain = _chain(n)
    built = Counted.flattens
    Counted.flattens = 0
    eqx.filter_jit(lambda m: m.w * 2)(chain)
    return built, Counted.flattens


def test_nested_modules_are_checked_in_linear_time() -> None:
    small_build, small_call = _flattens_for(30)
    large_build, large_call = _flattens_for(90)
    # Linear: three times the depth, about three times the work (quadratic would be 9).
    assert large_build <= 3 * small_build + 3
    assert large_call <= 3.5 * small_call
    assert large_call <= 12 * 90


def test_repr_of_deeply_nested_modules() -> None:
    # Equinox renders 200 levels and fails at 300; this renders 300.
    text = repr(_chain(300))
    assert text.count("Link(") == 300
    assert text.startswith("Link(\n  child=Link(")


class Chatty:
    """An element whose repr counts its calls."""

    calls = 0

    def __repr__(self) -> str:
        Chatty.calls += 1
        return "Chatty()"


class Weights(eqx.Module):
    w: Float[Array, " n"]


def test_error_for_a_huge_list_in_an_array_field_is_cheap() -> None:
    huge = [Chatty() for _ in range(100_000)]
    Chatty.calls = 0
    with pytest.raises(eqx.TypeCheckError) as info:
        Weights(huge)  # type: ignore[arg-type]
    message = str(info.value)
    assert "list of 100000" in message
    assert len(message) < 400
    assert Chatty.calls <= 10  # a bounded repr, not one per element


@pytest.mark.slow
def test_error_for_a_five_million_list_is_cheap() -> None:
    huge = list(range(5_000_000))
    with pytest.raises(eqx.TypeCheckError, match="list of 5000000"):
        Weights(huge)  # type: ignore[arg-type]


def test_same_shape_and_dtype_of_another_kind_says_what_it_is() -> None:
    assert describe_value(jnp.zeros((), jnp.float32)) == "f32[]"
    assert describe_value(np.zeros(3, np.float32)) == "f32[3](numpy)"
    scalar = describe_value(np.float32(1.0))
    assert scalar.startswith("f32[]") and "NumPy scalar" in scalar and "float32" in scalar
    with pytest.raises(eqx.TypeCheckError) as info:
        Weights(jax.ShapeDtypeStruct((3,), jnp.float32))  # type: ignore[arg-type]
    assert "f32[3] (a ShapeDtypeStruct, not an array)" in str(info.value)


class Net(eqx.Module):
    layers: tuple[Weights, ...]
    table: dict[str, Float[Array, " n"]]


def test_a_wrong_element_in_a_container_is_named_by_its_path(typechecker: str) -> None:
    good = Weights(jnp.zeros(2))
    with pytest.raises(eqx.TypeCheckError) as info:
        Net((good, good, good, 3), {})  # type: ignore[arg-type]
    message = str(info.value)
    assert "`.layers[3]`" in message
    assert "expected: Weights" in message and "got:      int 3" in message
    assert "within:   `.layers`, annotated tuple[Weights, ...]" in message
    with pytest.raises(eqx.TypeCheckError) as info:
        Net((), {"a": jnp.zeros(2), "key": jnp.zeros(3)})
    message = str(info.value)
    assert "`.table['key']`" in message and "f32[3]" in message
    assert "bindings: (none)" in message  # n=2 is bound by the element before it...
    assert "expected: Float[Array, 'n']" in message


def test_a_wrong_element_in_a_jit_argument_is_named_by_its_path(typechecker: str) -> None:
    @eqx.filter_jit
    def total(xs: list[Float[Array, " 3"]]) -> Float[Array, ""]:
        return sum(x.sum() for x in xs)  # type: ignore[return-value]

    with pytest.raises(eqx.TypeCheckError, match=r"`xs\[2\]`[\s\S]*f32\[4\]"):
        total([jnp.ones(3), jnp.ones(3), jnp.ones(4)])


def test_element_paths_do_not_change_a_passing_check(typechecker: str) -> None:
    Net((Weights(jnp.zeros(2)),), {"a": jnp.zeros(2), "b": jnp.ones(2)})


def test_describe_value_kinds_for_other_values() -> None:
    assert describe_value(3) == "int 3"
    assert describe_value((1, 2)) == "tuple of 2: (1, 2)"
    assert describe_value({"a": 1}).startswith("dict of 1: {'a': 1}")
    text: Any = describe_value("x" * 500)
    assert len(text) < 80
