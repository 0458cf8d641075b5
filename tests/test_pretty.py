"""Tests for equinox_typed._pretty: tree_pformat and tree_pprint."""

from __future__ import annotations

import dataclasses
import functools
from collections import namedtuple
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from equinox_typed._module import Module, field
from equinox_typed._pretty import tree_pformat, tree_pprint


@dataclasses.dataclass
class Linear:
    weight: Any
    bias: Any
    in_features: int
    out_features: int
    use_bias: bool


@dataclasses.dataclass
class MLP:
    layers: tuple[Linear, ...]
    activation: Any


def make_linear(n_in: int = 2, n_out: int = 3) -> Linear:
    return Linear(jnp.zeros((n_out, n_in)), jnp.zeros(n_out), n_in, n_out, True)


LINEAR_ONE_LINE = (
    "Linear(weight=f32[3,2], bias=f32[3], in_features=2, out_features=3, use_bias=True)"
)

Point = namedtuple("Point", ["x", "y"])


class TestArrays:
    @pytest.mark.parametrize(
        ("dtype", "code"),
        [
            (jnp.float32, "f32"),
            (jnp.float16, "f16"),
            (jnp.bfloat16, "bf16"),
            (jnp.int32, "i32"),
            (jnp.int8, "i8"),
            (jnp.uint8, "u8"),
            (jnp.bool_, "bool"),
            (jnp.complex64, "c64"),
        ],
    )
    def test_dtype_codes(self, dtype: Any, code: str) -> None:
        assert tree_pformat(jnp.zeros((3, 2), dtype)) == f"{code}[3,2]"

    def test_64_bit_numpy(self) -> None:
        assert tree_pformat(np.zeros(4, np.float64)) == "f64[4](numpy)"
        assert tree_pformat(np.zeros(4, np.int64)) == "i64[4](numpy)"
        assert tree_pformat(np.zeros(1, np.complex128)) == "c128[1](numpy)"

    def test_scalar(self) -> None:
        assert tree_pformat(jnp.array(1.0, jnp.float32)) == "f32[]"
        assert tree_pformat(np.float32(1.0)) == "np.float32(1.0)"  # NumPy scalars: repr

    def test_weak_types_are_marked(self) -> None:
        # Python scalars become weakly typed arrays (they adopt the dtype of what they
        # are combined with); the summary says so, as Equinox's does.
        assert tree_pformat(jnp.asarray(1.0)) == "weak_f32[]"
        assert tree_pformat(jnp.asarray(1)) == "weak_i32[]"
        assert tree_pformat(jnp.asarray(1j)) == "weak_c64[]"
        assert tree_pformat(jnp.full((2,), 3.0) + 1.0) == "weak_f32[2]"
        assert tree_pformat(jnp.ones(2) + 1.0) == "f32[2]"  # a strong operand wins
        assert tree_pformat(np.ones(2, np.float32)) == "f32[2](numpy)"  # never weak
        seen: list[str] = []
        jax.jit(lambda x: seen.append(tree_pformat(x)))(1.0)
        assert seen == ["weak_f32[]"]
        assert tree_pformat(jax.ShapeDtypeStruct((2,), jnp.float32, weak_type=True), struct_as_array=True) == "weak_f32[2]"

    def test_numpy_suffix(self) -> None:
        assert tree_pformat(np.zeros(3, np.float32)) == "f32[3](numpy)"

    def test_full_values(self) -> None:
        x = jnp.arange(3.0)
        assert tree_pformat(x, short_arrays=False) == repr(x)
        y = np.arange(3)
        assert tree_pformat([y], short_arrays=False) == f"[{y!r}]"

    def test_multiline_values_stay_aligned(self) -> None:
        x = jnp.arange(4.0).reshape(2, 2)
        text = tree_pformat({"a": x}, short_arrays=False)
        lines = text.splitlines()
        value_lines = repr(x).splitlines()
        assert lines[0] == "{"
        assert lines[1] == "  'a': " + value_lines[0]
        # The second row lines up under the first, shifted by the same prefix.
        assert lines[2] == " " * len("  'a': ") + value_lines[1]
        assert lines[-1] == "}"

    def test_tracer(self) -> None:
        seen: list[str] = []

        @jax.jit
        def f(x: jax.Array) -> jax.Array:
            seen.append(tree_pformat(x))
            seen.append(tree_pformat({"x": x}, short_arrays=False))
            return x

        f(jnp.zeros((3, 2)))
        assert seen == ["f32[3,2]", "{'x': f32[3,2]}"]

    def test_shape_dtype_struct(self) -> None:
        s = jax.ShapeDtypeStruct((2, 5), jnp.int32)
        assert tree_pformat(s, struct_as_array=True) == "i32[2,5]"
        assert tree_pformat(s) == repr(s)


class TestContainers:
    def test_dataclass_one_line(self) -> None:
        assert tree_pformat(make_linear(), width=100) == LINEAR_ONE_LINE

    def test_dataclass_breaks_when_too_long(self) -> None:
        assert tree_pformat(make_linear(), width=len(LINEAR_ONE_LINE) - 1) == (
            "Linear(\n"
            "  weight=f32[3,2],\n"
            "  bias=f32[3],\n"
            "  in_features=2,\n"
            "  out_features=3,\n"
            "  use_bias=True\n"
            ")"
        )

    def test_exact_fit(self) -> None:
        assert tree_pformat(make_linear(), width=len(LINEAR_ONE_LINE)) == LINEAR_ONE_LINE

    def test_nested_breaks_only_outer(self) -> None:
        mlp = MLP((make_linear(), make_linear()), jax.nn.relu)
        assert tree_pformat(mlp, width=100) == (
            "MLP(\n"
            "  layers=(\n"
            f"    {LINEAR_ONE_LINE},\n"
            f"    {LINEAR_ONE_LINE}\n"
            "  ),\n"
            "  activation=<wrapped function relu>\n"
            ")"
        )

    def test_indent(self) -> None:
        assert tree_pformat([1, 2], width=3, indent=4) == "[\n    1,\n    2\n]"

    def test_no_line_exceeds_width_when_avoidable(self) -> None:
        mlp = MLP(tuple(make_linear(64, 64) for _ in range(3)), jax.nn.relu)
        for width in (40, 50, 80, 120):
            for line in tree_pformat(mlp, width=width).splitlines():
                assert len(line) <= width

    def test_repr_false_fields_hidden(self) -> None:
        @dataclasses.dataclass
        class Thing:
            shown: int
            hidden: int = dataclasses.field(repr=False)

        assert tree_pformat(Thing(1, 2)) == f"{Thing.__qualname__}(shown=1)"

    def test_missing_field_skipped(self) -> None:
        @dataclasses.dataclass
        class Half:
            a: int
            b: int

        obj = object.__new__(Half)
        obj.a = 1
        assert tree_pformat(obj) == f"{Half.__qualname__}(a=1)"

    def test_dataclass_class_is_not_expanded(self) -> None:
        assert tree_pformat(Linear) == repr(Linear)

    def test_list_tuple_dict(self) -> None:
        tree = {"a": [1, 2.5, "s"], "b": (None, True), 3: {}}
        assert tree_pformat(tree) == "{'a': [1, 2.5, 's'], 'b': (None, True), 3: {}}"

    def test_empty(self) -> None:
        assert tree_pformat([]) == "[]"
        assert tree_pformat(()) == "()"
        assert tree_pformat({}, width=1) == "{}"

    def test_one_tuple(self) -> None:
        assert tree_pformat((1,)) == "(1,)"
        assert tree_pformat((1,), width=2) == "(\n  1,\n)"

    def test_namedtuple(self) -> None:
        assert tree_pformat(Point(1, jnp.ones(2))) == "Point(x=1, y=f32[2])"

    def test_dict_breaks(self) -> None:
        text = tree_pformat({"weight": jnp.ones((3, 3)), "bias": jnp.ones(3)}, width=20)
        assert text == "{\n  'weight': f32[3,3],\n  'bias': f32[3]\n}"


def module_level_function(x: Any) -> Any:
    return x


class TestCallables:
    def test_function(self) -> None:
        def my_function(x: Any) -> Any:
            return x

        # Qualified names, so methods and nested functions say where they live.
        assert tree_pformat(my_function) == (
            "<function TestCallables.test_function.<locals>.my_function>"
        )
        assert tree_pformat(lambda x: x) == (
            "<function TestCallables.test_function.<locals>.<lambda>>"
        )
        assert tree_pformat(TestCallables.test_function) == "<function TestCallables.test_function>"
        assert tree_pformat(module_level_function) == "<function module_level_function>"

    def test_builtin_bound_method_and_jax(self) -> None:
        assert tree_pformat(max) == "<built-in function max>"
        assert tree_pformat(jax.nn.relu) == "<wrapped function relu>"
        assert tree_pformat(jnp.tanh) == "<wrapped function tanh>"
        bound = TestCallables().test_function
        assert tree_pformat(bound) == repr(bound)

    def test_functools_wraps(self) -> None:
        @functools.wraps(module_level_function)
        def wrapper(x: Any) -> Any:
            return x

        assert tree_pformat(wrapper) == "<wrapped function module_level_function>"

    def test_jitted(self) -> None:
        @jax.jit
        def g(x: jax.Array) -> jax.Array:
            return x

        assert tree_pformat(g) == "<wrapped function TestCallables.test_jitted.<locals>.g>"

    def test_partial(self) -> None:
        def f(a: Any, b: Any, *, c: Any) -> Any:
            return a

        text = tree_pformat(functools.partial(f, jnp.ones(2), 3, c="x"))
        assert text == "partial(<function TestCallables.test_partial.<locals>.f>, f32[2], 3, c='x')"

    def test_class_object_uses_repr(self) -> None:
        assert tree_pformat(int) == "<class 'int'>"


class TestOptions:
    def test_truncate_leaf(self) -> None:
        tree = {"lin": make_linear(), "n": 1}
        text = tree_pformat(tree, truncate_leaf=lambda x: isinstance(x, Linear))
        assert text == "{'lin': Linear(...), 'n': 1}"

    def test_invalid_width(self) -> None:
        with pytest.raises(ValueError, match="width >= 1"):
            tree_pformat(1, width=0)

    def test_pprint(self, capsys: pytest.CaptureFixture[str]) -> None:
        tree_pprint({"a": jnp.ones(2)}, width=5)
        assert capsys.readouterr().out == "{\n  'a': f32[2]\n}\n"


class TestCycles:
    def test_self_containing_list(self) -> None:
        loop: list[Any] = [1]
        loop.append(loop)
        assert tree_pformat(loop) == "[1, <cycle>]"

    def test_self_containing_dataclass(self) -> None:
        @dataclasses.dataclass
        class Node:
            child: Any

        node = Node(None)
        node.child = [node]
        assert tree_pformat(node) == "TestCycles.test_self_containing_dataclass.<locals>.Node(child=[<cycle>])"

    def test_shared_but_acyclic_is_printed_twice(self) -> None:
        shared = [1]
        assert tree_pformat([shared, shared]) == "[[1], [1]]"


_json_like = st.recursive(
    st.one_of(st.none(), st.booleans(), st.integers(-100, 100), st.text(max_size=5)),
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=3), children, max_size=4),
    ),
    max_leaves=20,
)


@settings(max_examples=100, deadline=None)
@given(_json_like, st.integers(1, 60))
def test_flattening_lines_gives_python_repr(tree: Any, width: int) -> None:
    # Removing the layout whitespace must give back the one-line form, which for
    # lists/dicts/scalars is Python's own repr.
    text = tree_pformat(tree, width=width)
    joined = "".join(line.strip() for line in text.splitlines())
    expected = repr(tree).replace(", ", ",")
    assert joined.replace(", ", ",") == expected
    # A tree whose one-line form fits is printed on one line.
    assert (text == repr(tree)) == (len(repr(tree)) <= width or "\n" not in text)


# --------------------------------------------------------------------------------------
# With the real Module
# --------------------------------------------------------------------------------------

class Dense(Module):
    weight: jax.Array
    bias: jax.Array | None
    size: int = field(static=True)


def test_module_pformat() -> None:
    dense = Dense(jnp.zeros((4, 2)), None, 4)
    assert tree_pformat(dense) == "Dense(weight=f32[4,2], bias=None, size=4)"


def test_module_repr_uses_pformat() -> None:
    dense = Dense(jnp.zeros((4, 2)), jnp.zeros(4), 4)
    assert repr(dense) == tree_pformat(dense)
    assert repr([dense]) == "[Dense(weight=f32[4,2], bias=f32[4], size=4)]"
