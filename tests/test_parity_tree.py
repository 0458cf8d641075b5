"""Tree utilities and printing side by side with Equinox 0.13.8: what ``tree_equal``
returns (type and value), ``tree_at``'s selections and errors,
``tree_flatten_one_level`` on self-referential containers, and ``tree_pformat``'s
marks for weak types and names of functions."""

from __future__ import annotations

import types
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import equinox_typed

equinox = pytest.importorskip("equinox")

LIBRARIES = [equinox_typed, equinox]
both = pytest.mark.parametrize("lib", LIBRARIES, ids=["ours", "equinox"])

X = jnp.arange(3.0)
N32 = np.arange(3.0, dtype=np.float32)


def _kind(result: Any) -> tuple[str, bool]:
    """("array", value) for a scalar JAX bool array, ("bool", value) for a Python bool."""
    if isinstance(result, jax.Array):
        assert result.shape == () and result.dtype == jnp.bool_
        return "array", bool(result)
    assert type(result) is bool, f"unexpected result {result!r}"
    return "bool", result


# (trees, keyword arguments, expected kind and value): each also compared with Equinox.
TREE_EQUAL_CASES: list[tuple[str, tuple[Any, ...], dict[str, Any], tuple[str, bool]]] = [
    ("structure-differs", ((X,), [X]), {}, ("bool", False)),
    ("keys-differ", ({"a": X}, {"b": X}), {}, ("bool", False)),
    ("no-arrays-equal", ((1, "a"), (1, "a")), {}, ("bool", True)),
    ("no-arrays-differ", ((1, "a"), (1, "b")), {}, ("bool", False)),
    ("jax-equal", ((X, 1), (X, 1)), {}, ("array", True)),
    ("jax-differ", ((X, 1), (X + 1, 1)), {}, ("array", False)),
    ("shape-differs", (X, jnp.arange(4.0)), {}, ("bool", False)),
    ("dtype-differs", (X, jnp.arange(3)), {}, ("bool", False)),
    ("non-array-differs-after-arrays", ((X, 1), (X, 2)), {}, ("bool", False)),
    ("within-tolerance", (X, X + 1e-4), {"rtol": 1e-3, "atol": 1e-3}, ("array", True)),
    ("outside-tolerance", (X, X + 1e-2), {"rtol": 1e-3, "atol": 1e-3}, ("array", False)),
    ("complex-tolerance", (X + 0j, X + 1e-5j), {"atol": 1e-3}, ("array", True)),
    ("int-ignores-tolerance", (jnp.arange(3), jnp.arange(3) + 1), {"atol": 2}, ("array", False)),
    ("numpy-only-equal", (np.arange(3.0), np.arange(3.0)), {}, ("bool", True)),
    ("numpy-only-differ", (np.arange(3.0), np.arange(3.0) + 1), {}, ("bool", False)),
    ("numpy-tolerance", (np.arange(3.0), np.arange(3.0) + 1e-5), {"rtol": 1e-3, "atol": 1e-3}, ("bool", True)),
    ("numpy-vs-jax", (N32, X), {}, ("array", True)),
    ("jax-vs-numpy-differ", (X, N32 + 1), {}, ("array", False)),
    ("numpy-vs-jax-tolerance", (N32 + 1e-5, X), {"rtol": 1e-3, "atol": 1e-3}, ("array", True)),
    ("numpy-f64-vs-jax-f32", (np.arange(3.0), X), {}, ("bool", False)),
    ("numpy-differs-before-jax", ((N32, X), (N32 + 1, X)), {}, ("bool", False)),
    ("typematch-numpy-vs-jax", (N32, X), {"typematch": True}, ("bool", False)),
    ("nan", (jnp.array(jnp.nan), jnp.array(jnp.nan)), {}, ("array", False)),
    ("three-trees", (X, X, X + 1), {}, ("array", False)),
    ("one-tree", (X,), {}, ("bool", True)),
    ("weak-vs-strong", (jnp.asarray(1.0), jnp.float32(1.0)), {}, ("array", True)),
]


@both
@pytest.mark.parametrize(
    ("trees", "kwargs", "expected"),
    [case[1:] for case in TREE_EQUAL_CASES],
    ids=[case[0] for case in TREE_EQUAL_CASES],
)
def test_tree_equal_result_type_and_value(
    lib: types.ModuleType, trees: tuple[Any, ...], kwargs: dict[str, Any], expected: tuple[str, bool]
) -> None:
    assert _kind(lib.tree_equal(*trees, **kwargs)) == expected


@both
def test_tree_equal_under_jit(lib: types.ModuleType) -> None:
    same = jax.jit(lambda a, b: lib.tree_equal(a, b))
    assert _kind(same(X, X)) == ("array", True)
    assert _kind(same(X, X + 1)) == ("array", False)
    seen: list[Any] = []

    @jax.jit
    def f(a: jax.Array) -> jax.Array:
        seen.append(lib.tree_equal(a, jnp.ones(4)))  # shapes differ: decided statically
        return a

    f(X)
    assert seen == [False] and type(seen[0]) is bool


@both
def test_module_equality_follows_tree_equal(lib: types.ModuleType) -> None:
    a = lib.nn.Linear(2, 3, key=jax.random.key(0))
    b = lib.nn.Linear(2, 3, key=jax.random.key(0))
    c = lib.nn.Linear(2, 3, key=jax.random.key(1))
    assert _kind(a == b) == ("array", True)
    assert _kind(a == c) == ("array", False)
    assert _kind(a == lib.nn.Linear(2, 4, key=jax.random.key(0))) == ("bool", False)


# ---------------------------------------------------------------------------------------
# tree_at

TREE = {"a": 1, "b": (2, 3), "c": None}

# (where, replace, expected): the same result from both libraries.
TREE_AT_CASES: list[tuple[str, Callable[[Any], Any], Any, Any]] = [
    ("several-nodes", lambda t: (t["a"], t["b"][1]), (10, 30), {"a": 10, "b": (2, 30), "c": None}),
    ("list-of-nodes", lambda t: [t["a"], t["b"][0]], [7, 8], {"a": 7, "b": (8, 3), "c": None}),
    ("subtree-to-other-structure", lambda t: t["b"], [1, 2, 3, 4], {"a": 1, "b": [1, 2, 3, 4], "c": None}),
    ("subtree-to-leaf", lambda t: t["b"], 5, {"a": 1, "b": 5, "c": None}),
    ("leaf-to-subtree", lambda t: t["a"], {"x": (1, 2)}, {"a": {"x": (1, 2)}, "b": (2, 3), "c": None}),
    ("none-node", lambda t: t["c"], 5, {"a": 1, "b": (2, 3), "c": 5}),
    ("nothing-picked", lambda t: (), (), TREE),
    ("root", lambda t: t, 5, 5),
]


@both
@pytest.mark.parametrize(
    ("where", "replace", "expected"),
    [case[1:] for case in TREE_AT_CASES],
    ids=[case[0] for case in TREE_AT_CASES],
)
def test_tree_at_selections(lib: types.ModuleType, where: Any, replace: Any, expected: Any) -> None:
    assert lib.tree_at(where, TREE, replace) == expected


@both
def test_tree_at_replace_fn_on_several_nodes(lib: types.ModuleType) -> None:
    out = lib.tree_at(lambda t: (t["a"], t["b"][1]), TREE, replace_fn=lambda v: v * 100)
    assert out == {"a": 100, "b": (2, 300), "c": None}


@both
def test_tree_at_on_a_module(lib: types.ModuleType) -> None:
    layer = lib.nn.Linear(3, 4, key=jax.random.key(0))
    new = lib.tree_at(lambda m: (m.weight, m.bias), layer, (jnp.zeros((4, 3)), jnp.ones(4)))
    np.testing.assert_array_equal(new.weight, np.zeros((4, 3)))
    np.testing.assert_array_equal(new.bias, np.ones(4))
    no_bias = lib.nn.Linear(3, 4, use_bias=False, key=jax.random.key(0))
    with_bias = lib.tree_at(lambda m: m.bias, no_bias, jnp.ones(4), is_leaf=lambda x: x is None)
    np.testing.assert_array_equal(with_bias.bias, np.ones(4))


@both
@pytest.mark.parametrize(
    "where",
    [lambda t: 7, lambda t: (t["a"], "zz"), lambda t: t["a"] + 1],
    ids=["fresh-value", "fresh-item", "computed-from-a-leaf"],
)
def test_tree_at_where_picking_nothing_is_a_type_error(lib: types.ModuleType, where: Any) -> None:
    with pytest.raises(TypeError):
        lib.tree_at(where, TREE, 5 if "zz" not in str(where) else (5, 6))


@both
def test_tree_at_needs_exactly_one_of_replace_and_replace_fn(lib: types.ModuleType) -> None:
    with pytest.raises(ValueError, match="replace_fn"):
        lib.tree_at(lambda t: t["a"], TREE)
    with pytest.raises(ValueError, match="replace_fn"):
        lib.tree_at(lambda t: t["a"], TREE, 1, replace_fn=lambda v: v)
    with pytest.raises(ValueError, match="same length|values"):
        lib.tree_at(lambda t: (t["a"], t["b"][1]), TREE, (10,))


def test_tree_at_positions_are_unambiguous_where_equinox_refuses() -> None:
    # Several `None`s are the same object, so Equinox cannot tell them apart without
    # is_leaf; ours picks by position and gives what Equinox gives with is_leaf.
    tree = (None, None, 1)
    with pytest.raises(ValueError, match="does not uniquely identify"):
        equinox.tree_at(lambda t: t[0], tree, True)
    theirs = equinox.tree_at(lambda t: t[0], tree, True, is_leaf=lambda x: x is None)
    assert equinox_typed.tree_at(lambda t: t[0], tree, True) == theirs == (True, None, 1)


def test_tree_at_same_node_twice_is_refused() -> None:
    # Equinox lets the last value win silently; ours says the selection is ambiguous
    # (listed in README.md's migration notes).
    assert equinox.tree_at(lambda t: (t["a"], t["a"]), TREE, (1, 2))["a"] == 2
    with pytest.raises(ValueError, match="same node more than once"):
        equinox_typed.tree_at(lambda t: (t["a"], t["a"]), TREE, (1, 2))


# ---------------------------------------------------------------------------------------
# tree_flatten_one_level


@both
def test_flatten_one_level_refuses_a_node_containing_itself(lib: types.ModuleType) -> None:
    loop: list[Any] = [1]
    loop.append(loop)
    with pytest.raises(ValueError, match="self-referential|contains itself"):
        lib.tree_flatten_one_level(loop)
    d: dict[str, Any] = {}
    d["me"] = d
    with pytest.raises(ValueError, match="self-referential|contains itself"):
        lib.tree_flatten_one_level(d)


@both
def test_flatten_one_level_of_ordinary_nodes(lib: types.ModuleType) -> None:
    shared = [2]
    children, treedef = lib.tree_flatten_one_level([1, shared, shared])
    assert children == [1, [2], [2]] and children[1] is shared
    assert treedef.unflatten(children) == [1, [2], [2]]
    outer: list[Any] = [1]
    outer.append([outer])  # a cycle one level further down: not this node's concern
    children, _ = lib.tree_flatten_one_level(outer)
    assert children[1][0] is outer


# ---------------------------------------------------------------------------------------
# tree_pformat


def _outer() -> Callable[[Any], Any]:
    def nested(x: Any) -> Any:
        return x

    return nested


class _Owner:
    def method(self) -> None:
        pass

    class Inner:
        def method(self) -> None:
            pass


PFORMAT_CASES: list[tuple[str, Any]] = [
    ("weak-int", jnp.asarray(1)),
    ("weak-float", jnp.asarray(1.0)),
    ("weak-complex", jnp.asarray(1j)),
    ("strong-float", jnp.float32(1.0)),
    ("weak-result", jnp.full((2,), 3.0) + 1.0),
    ("strong-result", jnp.ones(3) * 2),
    ("numpy-array", np.ones(3)),
    ("numpy-scalar", np.float32(1.0)),
    ("bool", jnp.asarray(True)),
    ("function", _outer),
    ("nested-function", _outer()),
    ("method", _Owner.method),
    ("nested-class-method", _Owner.Inner.method),
    ("builtin", len),
    ("partial", __import__("functools").partial(_outer(), 1)),
    ("in-a-list", [_outer(), jnp.asarray(2), jnp.int32(2)]),
]


@pytest.mark.parametrize("obj", [c[1] for c in PFORMAT_CASES], ids=[c[0] for c in PFORMAT_CASES])
def test_pformat_matches_equinox(obj: Any) -> None:
    assert equinox_typed.tree_pformat(obj) == equinox.tree_pformat(obj)


def test_pformat_weak_types_inside_a_module_and_under_jit() -> None:
    def run(lib: types.ModuleType) -> list[str]:
        class Holder(lib.Module):  # type: ignore[name-defined,misc]
            value: Any

        seen: list[str] = [lib.tree_pformat(Holder(jnp.asarray(0.5)))]
        jax.jit(lambda x: seen.append(lib.tree_pformat(x)))(1.0)
        return seen

    ours = run(equinox_typed)
    assert ours == run(equinox)
    # Classes print by qualified name, as Equinox prints them.
    assert ours[0].startswith("test_pformat_weak_types_inside_a_module_and_under_jit.<locals>")
    assert ours[0].endswith(".Holder(\n  value=weak_f32[]\n)") and ours[1] == "weak_f32[]"
