"""Property tests of the checking engine (hypothesis): Module classes generated with
random dimension-name annotations and dtypes, instances with random shapes and dtypes,
checked in random orders (with mode switches in between), against an independent
oracle computed from the generated annotations; the answer never depends on what was
checked before (memos) and equals a fresh, un-memoised check. Also partition/combine
and tree_at round trips of the generated Modules.

Sizes here run in seconds; the `slow` variants run many more examples.
"""

from __future__ import annotations

import dataclasses
import operator
from typing import Any

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jaxtyping import Array, Float, Int, Shaped

import equinox_typed as eqx

NAMES = ("a", "b", "c")
# jaxtyping dtype categories and the dtypes each accepts among those drawn here.
KINDS: dict[str, tuple[Any, set[str]]] = {
    "Float": (Float, {"float32", "float16"}),
    "Int": (Int, {"int32", "int8"}),
    "Shaped": (Shaped, {"float32", "float16", "int32", "int8", "bool"}),
}
DTYPES = ("float32", "float16", "int32", "int8", "bool")


@dataclasses.dataclass(frozen=True)
class FieldSpec:
    kind: str
    dims: tuple[str, ...]  # names from NAMES, or digits for fixed sizes

    def annotation(self) -> Any:
        return KINDS[self.kind][0][Array, " ".join(self.dims)]


@dataclasses.dataclass(frozen=True)
class Value:
    shape: tuple[int, ...]
    dtype: str

    def array(self) -> jax.Array:
        return jnp.zeros(self.shape, self.dtype)


def expected_valid(specs: tuple[FieldSpec, ...], values: tuple[Value, ...]) -> bool:
    """The oracle: every dtype in its category, every rank right, every fixed size
    right, and every name one size across all fields (checked in field order)."""
    bound: dict[str, int] = {}
    for spec, value in zip(specs, values, strict=True):
        if value.dtype not in KINDS[spec.kind][1] or len(value.shape) != len(spec.dims):
            return False
        for dim, size in zip(spec.dims, value.shape, strict=True):
            if dim.isdigit():
                if int(dim) != size:
                    return False
            elif bound.setdefault(dim, size) != size:
                return False
    return True


_dim = st.one_of(st.sampled_from(NAMES), st.sampled_from(("1", "2")))
_field = st.builds(
    FieldSpec, st.sampled_from(sorted(KINDS)), st.lists(_dim, max_size=3).map(tuple)
)
_specs = st.lists(_field, min_size=1, max_size=3).map(tuple)


@st.composite
def _values_for(draw: st.DrawFn, specs: tuple[FieldSpec, ...]) -> tuple[Value, ...]:
    """Values near the annotations: mostly consistent sizes and accepted dtypes, with
    random perturbations (a size, the rank, the dtype) so both outcomes occur."""
    sizes = {name: draw(st.integers(1, 3)) for name in NAMES}
    values = []
    for spec in specs:
        shape = [int(d) if d.isdigit() else sizes[d] for d in spec.dims]
        if draw(st.integers(0, 4)) == 0 and shape:
            shape[draw(st.integers(0, len(shape) - 1))] = draw(st.integers(1, 3))
        if draw(st.integers(0, 6)) == 0:
            shape = shape[:-1] if shape and draw(st.booleans()) else [*shape, 2]
        accepted = sorted(KINDS[spec.kind][1])
        dtype = draw(st.sampled_from(DTYPES if draw(st.integers(0, 4)) == 0 else accepted))
        values.append(Value(tuple(shape), dtype))
    return tuple(values)


def make_module_class(specs: tuple[FieldSpec, ...]) -> type[eqx.Module]:
    annotations = {f"f{i}": spec.annotation() for i, spec in enumerate(specs)}
    return type("Generated", (eqx.Module,), {"__annotations__": annotations})


def builds(cls: type[eqx.Module], values: tuple[Value, ...]) -> bool:
    try:
        cls(*[v.array() for v in values])
    except eqx.TypeCheckError:
        return False
    return True


def jitted_for(specs: tuple[FieldSpec, ...]) -> Any:
    """A filter_jit function taking one argument per field, annotated like the fields."""
    params = ", ".join(f"x{i}" for i in range(len(specs)))
    namespace: dict[str, Any] = {}
    exec(f"def f({params}):\n    return ({params},)", namespace)  # noqa: S102
    fun = namespace["f"]
    fun.__annotations__ = {f"x{i}": spec.annotation() for i, spec in enumerate(specs)}
    return eqx.filter_jit(fun)


def calls(jitted: Any, values: tuple[Value, ...]) -> bool:
    try:
        jitted(*[v.array() for v in values])
    except eqx.TypeCheckError:
        return False
    return True


@st.composite
def _cases(draw: st.DrawFn) -> tuple[tuple[FieldSpec, ...], list[tuple[Value, ...]], list[str]]:
    specs = draw(_specs)
    instances = draw(st.lists(_values_for(specs), min_size=1, max_size=4))
    # A random order of calls over these instances (repeats included), each in a mode.
    order = draw(st.lists(st.integers(0, len(instances) - 1), min_size=1, max_size=8))
    modes = draw(st.lists(st.sampled_from(("eager", "eager", "off")), min_size=len(order),
                          max_size=len(order)))
    return specs, [instances[i] for i in order], modes


def _check_every_order(
    specs: tuple[FieldSpec, ...], sequence: list[tuple[Value, ...]], modes: list[str]
) -> None:
    cls, jitted = make_module_class(specs), jitted_for(specs)
    for values, mode in zip(sequence, modes, strict=True):
        with eqx.checks(mode):  # type: ignore[arg-type]
            built, called = builds(cls, values), calls(jitted, values)
        if mode == "off":
            assert built and called  # nothing is checked
            continue
        expected = expected_valid(specs, values)
        assert built == expected, (specs, values)
        assert called == expected, (specs, values)
    # A fresh, un-memoised check agrees with the last answer: a new class and a new
    # function start with empty memos and nothing compiled.
    fresh_cls, fresh_jitted = make_module_class(specs), jitted_for(specs)
    expected = expected_valid(specs, sequence[-1])
    assert builds(fresh_cls, sequence[-1]) == expected
    assert calls(fresh_jitted, sequence[-1]) == expected


_SETTINGS = {"deadline": None, "suppress_health_check": [HealthCheck.too_slow]}


@settings(max_examples=20, **_SETTINGS)  # type: ignore[arg-type]
@given(_cases())
def test_check_result_is_the_oracle_in_every_order(
    case: tuple[tuple[FieldSpec, ...], list[tuple[Value, ...]], list[str]],
) -> None:
    _check_every_order(*case)


@pytest.mark.slow
@settings(max_examples=300, **_SETTINGS)  # type: ignore[arg-type]
@given(_cases())
def test_check_result_is_the_oracle_in_every_order_many(
    case: tuple[tuple[FieldSpec, ...], list[tuple[Value, ...]], list[str]],
) -> None:
    _check_every_order(*case)


def test_oracle_sees_both_outcomes() -> None:
    # The generator is only useful if it makes valid and invalid instances alike.
    specs = (FieldSpec("Float", ("a", "b")), FieldSpec("Int", ("b",)))
    assert expected_valid(specs, (Value((2, 3), "float32"), Value((3,), "int32")))
    assert not expected_valid(specs, (Value((2, 3), "float32"), Value((2,), "int32")))
    assert not expected_valid(specs, (Value((2, 3), "int32"), Value((3,), "int32")))
    cls = make_module_class(specs)
    assert builds(cls, (Value((2, 3), "float32"), Value((3,), "int32")))
    assert not builds(cls, (Value((2, 3), "float32"), Value((2,), "int32")))


@st.composite
def _valid_models(draw: st.DrawFn) -> eqx.Module:
    specs = draw(_specs)
    sizes = {name: draw(st.integers(1, 3)) for name in NAMES}
    values = [
        Value(tuple(int(d) if d.isdigit() else sizes[d] for d in spec.dims),
              sorted(KINDS[spec.kind][1])[0])
        for spec in specs
    ]
    inner = make_module_class(specs)(*[v.array() for v in values])
    return draw(st.sampled_from((inner, (inner, [inner, 1.5]), {"m": inner, "n": None})))


@settings(max_examples=15, **_SETTINGS)  # type: ignore[arg-type]
@given(_valid_models())
def test_partition_combine_and_tree_at_round_trips_keep_checked_modules(tree: Any) -> None:
    arrays, rest = eqx.partition(tree, eqx.is_array)
    merged = eqx.combine(arrays, rest)
    assert bool(eqx.tree_equal(merged, tree))  # an Array(True) for array leaves
    assert jtu.tree_structure(merged) == jtu.tree_structure(tree)
    leaves = jtu.tree_leaves(tree)
    for index in range(len(leaves)):

        def where(t: Any, index: int = index) -> Any:
            return jtu.tree_leaves(t)[index]

        same = eqx.tree_at(where, tree, replace_fn=lambda x: x)
        assert bool(eqx.tree_equal(same, tree))
        marker = object()
        swapped = eqx.tree_at(where, tree, marker)
        assert where(swapped) is marker
        restored = eqx.tree_at(where, swapped, where(tree))
        assert all(map(operator.is_, jtu.tree_leaves(restored), leaves))
        assert jtu.tree_structure(restored) == jtu.tree_structure(tree)
