"""Tests for equinox_typed._tree: tree_at, tree_equal, apply_updates, tree_check,
tree_flatten_one_level and Partial."""

from __future__ import annotations

import dataclasses
import functools
import pickle
from collections import namedtuple
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from equinox_typed._module import Module, field
from equinox_typed._tree import (
    Partial,
    apply_updates,
    tree_at,
    tree_check,
    tree_equal,
    tree_flatten_one_level,
)

# --------------------------------------------------------------------------------------
# A Module-like class: a frozen dataclass registered as a PyTree whose unflatten does
# not call __init__ (as with real Modules). __init__ refuses anything but arrays for
# `weight`, so a call to it during unflatten would be noticed.
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Linear:
    weight: Any
    bias: Any
    in_features: int  # static: part of the treedef

    def __post_init__(self) -> None:
        if not isinstance(self.weight, jax.Array):
            raise TypeError("Linear.__init__ called with a non-array weight")


def _flatten_linear(m: Linear) -> tuple[Any, int]:
    children = ((jtu.GetAttrKey("weight"), m.weight), (jtu.GetAttrKey("bias"), m.bias))
    return children, m.in_features


def _unflatten_linear(in_features: int, children: Any) -> Linear:
    weight, bias = children
    obj = object.__new__(Linear)
    object.__setattr__(obj, "weight", weight)
    object.__setattr__(obj, "bias", bias)
    object.__setattr__(obj, "in_features", in_features)
    return obj


jtu.register_pytree_with_keys(Linear, _flatten_linear, _unflatten_linear)


@dataclasses.dataclass(frozen=True)
class MLP:
    layers: tuple[Linear, ...]
    activation: Callable[[Any], Any]  # static


jtu.register_pytree_with_keys(
    MLP,
    lambda m: (((jtu.GetAttrKey("layers"), m.layers),), m.activation),
    lambda activation, children: MLP(*children, activation),
)

Point = namedtuple("Point", ["x", "y"])


def make_linear(bias: Any = None) -> Linear:
    return Linear(jnp.arange(6.0).reshape(3, 2), bias, 2)


def make_mlp() -> MLP:
    return MLP((make_linear(jnp.zeros(3)), make_linear(jnp.ones(3))), jax.nn.relu)


# --------------------------------------------------------------------------------------
# tree_at
# --------------------------------------------------------------------------------------


class TestTreeAt:
    def test_replace_leaf_in_module(self) -> None:
        linear = make_linear(jnp.zeros(3))
        new = tree_at(lambda m: m.bias, linear, jnp.full(3, 7.0))
        assert isinstance(new, Linear)
        np.testing.assert_array_equal(new.bias, np.full(3, 7.0))
        assert new.weight is linear.weight
        assert new.in_features == 2

    def test_input_not_mutated(self) -> None:
        linear = make_linear(jnp.zeros(3))
        tree_at(lambda m: m.bias, linear, jnp.ones(3))
        np.testing.assert_array_equal(linear.bias, np.zeros(3))
        tree = {"a": [1, 2], "b": (3,)}
        tree_at(lambda t: t["a"][0], tree, 100)
        assert tree == {"a": [1, 2], "b": (3,)}

    def test_replace_none_node(self) -> None:
        linear = make_linear(bias=None)
        new = tree_at(lambda m: m.bias, linear, jnp.zeros(3))
        np.testing.assert_array_equal(new.bias, np.zeros(3))
        assert linear.bias is None
        # The structure changed: a new leaf appeared.
        assert len(jtu.tree_leaves(new)) == len(jtu.tree_leaves(linear)) + 1

    def test_replace_by_none(self) -> None:
        linear = make_linear(jnp.zeros(3))
        new = tree_at(lambda m: m.bias, linear, None)
        assert new.bias is None

    def test_replace_subtree_with_different_structure(self) -> None:
        mlp = make_mlp()
        new = tree_at(lambda m: m.layers[0], mlp, {"anything": (1, 2, 3)})
        assert new.layers[0] == {"anything": (1, 2, 3)}
        assert new.layers[1] is mlp.layers[1]
        assert new.activation is jax.nn.relu

    def test_replace_whole_tuple_node(self) -> None:
        mlp = make_mlp()
        new = tree_at(lambda m: m.layers, mlp, ())
        assert new.layers == ()

    def test_replace_root(self) -> None:
        assert tree_at(lambda t: t, [1, 2], "new") == "new"

    def test_tuple_of_nodes(self) -> None:
        mlp = make_mlp()
        new = tree_at(
            lambda m: (m.layers[0].bias, m.layers[1].weight), mlp, (jnp.ones(3), 5.0)
        )
        np.testing.assert_array_equal(new.layers[0].bias, np.ones(3))
        assert new.layers[1].weight == 5.0
        np.testing.assert_array_equal(new.layers[1].bias, np.ones(3))

    def test_list_of_nodes(self) -> None:
        tree = {"a": 1, "b": 2, "c": 3}
        assert tree_at(lambda t: [t["a"], t["c"]], tree, [10, 30]) == {
            "a": 10,
            "b": 2,
            "c": 30,
        }

    def test_equal_leaves_are_distinguished(self) -> None:
        # Both leaves are the very same object (small ints are cached): only the
        # selected position must change.
        tree = [1, 1, 1]
        assert tree_at(lambda t: t[1], tree, 9) == [1, 9, 1]
        none_tree = (None, None)
        assert tree_at(lambda t: t[0], none_tree, 0) == (0, None)

    def test_shared_array_leaf(self) -> None:
        x = jnp.ones(2)
        new = tree_at(lambda t: t[1], [x, x], 0)
        assert new[0] is x and new[1] == 0

    def test_replace_fn(self) -> None:
        linear = make_linear(jnp.ones(3))
        new = tree_at(lambda m: m.weight, linear, replace_fn=lambda w: w * 2)
        np.testing.assert_array_equal(new.weight, np.arange(6.0).reshape(3, 2) * 2)

    def test_replace_fn_on_several_nodes(self) -> None:
        tree = {"a": 1.0, "b": [2.0, 3.0]}
        new = tree_at(lambda t: (t["a"], t["b"][1]), tree, replace_fn=lambda x: -x)
        assert new == {"a": -1.0, "b": [2.0, -3.0]}

    def test_replace_fn_on_none(self) -> None:
        seen: list[Any] = []

        def record(x: Any) -> str:
            seen.append(x)
            return "was none"

        assert tree_at(lambda t: t[0], (None, 1), replace_fn=record) == ("was none", 1)
        assert seen == [None]

    def test_replace_fn_on_subtree(self) -> None:
        mlp = make_mlp()
        new = tree_at(lambda m: m.layers[1], mlp, replace_fn=lambda lin: lin.bias)
        np.testing.assert_array_equal(new.layers[1], np.ones(3))

    def test_nested_selection_applies_inner_first(self) -> None:
        tree = [[1, 2], 3]
        new = tree_at(lambda t: (t[0], t[0][0]), tree, replace_fn=lambda x: ("w", x))
        assert new == [("w", [("w", 1), 2]), 3]

    def test_containers(self) -> None:
        tree = {"p": Point(1, [2, (3, 4)]), "q": [None, {"r": 5}]}
        new = tree_at(lambda t: (t["p"].y[1][0], t["q"][1]["r"]), tree, ("x", "y"))
        assert new == {"p": Point(1, [2, ("x", 4)]), "q": [None, {"r": "y"}]}
        assert type(new["p"]) is Point

    def test_empty_container_node(self) -> None:
        tree = {"a": (), "b": []}
        assert tree_at(lambda t: t["a"], tree, (1,)) == {"a": (1,), "b": []}
        assert tree_at(lambda t: t["b"], tree, [2]) == {"a": (), "b": [2]}

    def test_unflatten_does_not_call_init(self) -> None:
        # Replacing the weight by a non-array would make Linear.__init__ raise.
        linear = make_linear()
        new = tree_at(lambda m: m.weight, linear, "not an array")
        assert new.weight == "not an array"

    def test_static_field_can_guide_where(self) -> None:
        mlp = make_mlp()
        # `in_features` is static, so it is available while locating nodes.
        new = tree_at(lambda m: m.layers[m.layers[0].in_features - 1].bias, mlp, 0)
        assert new.layers[1].bias == 0

    def test_is_leaf(self) -> None:
        tree = {"a": Point(1, 2), "b": 3}
        new = tree_at(
            lambda t: t["a"],
            tree,
            replace_fn=lambda p: p.x + p.y,
            is_leaf=lambda x: isinstance(x, Point),
        )
        assert new == {"a": 3, "b": 3}

    def test_under_jit(self) -> None:
        @jax.jit
        def f(linear: Linear) -> Linear:
            return tree_at(lambda m: m.weight, linear, replace_fn=lambda w: w + 1)

        out = f(make_linear(jnp.zeros(3)))
        np.testing.assert_array_equal(out.weight, np.arange(6.0).reshape(3, 2) + 1)

    @pytest.mark.parametrize(
        "where",
        [lambda m: jnp.zeros(3), lambda m: 3, lambda m: m.weight + 1, lambda m: m.weight.T],
        ids=["fresh-array", "constant", "arithmetic", "transpose"],
    )
    def test_where_not_a_node(self, where: Callable[[Linear], Any]) -> None:
        with pytest.raises(TypeError, match="`where` must return nodes of the tree"):
            tree_at(where, make_linear(jnp.zeros(3)), jnp.ones(3))

    def test_where_item_not_a_node(self) -> None:
        with pytest.raises(TypeError, match=r"item 1 .* not a node of the tree"):
            tree_at(lambda m: (m.weight, jnp.ones(3)), make_linear(), (1, 2))

    def test_where_bug_surfaces_as_is(self) -> None:
        with pytest.raises(AttributeError, match="nonexistent"):
            tree_at(lambda m: m.nonexistent, make_linear(), 1)

    def test_duplicate_nodes(self) -> None:
        with pytest.raises(ValueError, match="same node more than once"):
            tree_at(lambda m: (m.weight, m.weight), make_linear(), (1, 2))

    def test_both_replace_and_replace_fn(self) -> None:
        with pytest.raises(ValueError, match="exactly one of `replace` and `replace_fn`.*both"):
            tree_at(lambda m: m.weight, make_linear(), 1, replace_fn=lambda x: x)

    def test_neither_replace_nor_replace_fn(self) -> None:
        with pytest.raises(ValueError, match="exactly one .*neither"):
            tree_at(lambda m: m.weight, make_linear())

    def test_length_mismatch(self) -> None:
        with pytest.raises(ValueError, match="returned 2 nodes but `replace` has 3 values"):
            tree_at(lambda m: (m.weight, m.bias), make_linear(), (1, 2, 3))

    def test_replace_not_a_sequence(self) -> None:
        with pytest.raises(ValueError, match="must be a sequence of 2 values; got int"):
            tree_at(lambda m: (m.weight, m.bias), make_linear(), 1)


# --------------------------------------------------------------------------------------
# tree_equal
# --------------------------------------------------------------------------------------


def _array_verdict(result: Any) -> bool:
    """The value of a tree_equal result that must be a scalar boolean JAX array."""
    assert isinstance(result, jax.Array), f"expected a JAX bool array, got {result!r}"
    assert result.shape == () and result.dtype == jnp.bool_
    return bool(result)


class TestTreeEqual:
    # As in Equinox: comparing JAX arrays by value gives a JAX bool array (eagerly too);
    # everything decided without that (structure, shape, dtype, non-array leaves, NumPy
    # arrays only) is a Python bool.

    def test_equal_trees(self) -> None:
        a = {"x": jnp.arange(3.0), "y": [1, "s", None]}
        b = {"x": jnp.arange(3.0), "y": [1, "s", None]}
        assert _array_verdict(tree_equal(a, b)) is True
        assert tree_equal({"y": [1, "s", None]}, {"y": [1, "s", None]}) is True

    def test_eager_array_comparison_is_a_jax_array(self) -> None:
        assert _array_verdict(tree_equal(jnp.ones(2), jnp.zeros(2))) is False
        assert _array_verdict(tree_equal(jnp.ones(2), jnp.ones(2))) is True

    def test_value_mismatch(self) -> None:
        assert _array_verdict(tree_equal([jnp.array([1.0, 2.0])], [jnp.array([1.0, 2.5])])) is False

    def test_non_array_mismatch_is_python_false_even_with_arrays(self) -> None:
        assert tree_equal((jnp.ones(2), 1), (jnp.ones(2), 2)) is False
        assert tree_equal((np.ones(2), jnp.ones(2)), (np.zeros(2), jnp.ones(2))) is False

    def test_structure_mismatch(self) -> None:
        assert tree_equal([1, 2], (1, 2)) is False
        assert tree_equal({"a": 1}, {"b": 1}) is False
        assert tree_equal([1, None], [1, 2]) is False

    def test_shape_and_dtype_mismatch(self) -> None:
        assert tree_equal(jnp.zeros(3), jnp.zeros((3, 1))) is False
        assert tree_equal(jnp.zeros(3), jnp.zeros(3, dtype=jnp.int32)) is False

    def test_static_part_of_treedef(self) -> None:
        a = make_linear()
        b = Linear(a.weight, None, 5)
        assert _array_verdict(tree_equal(a, a)) is True
        assert tree_equal(a, b) is False

    def test_many_trees(self) -> None:
        assert tree_equal(1, 1, 1) is True
        assert tree_equal(1, 1, 2) is False
        assert tree_equal(jnp.ones(1)) is True
        assert tree_equal() is True
        assert _array_verdict(tree_equal(jnp.ones(1), jnp.ones(1), jnp.zeros(1))) is False

    def test_nan_unequal(self) -> None:
        nan = jnp.array([jnp.nan])
        assert _array_verdict(tree_equal(nan, nan)) is False
        assert tree_equal(np.array([np.nan]), np.array([np.nan])) is False
        assert tree_equal(float("nan"), float("nan")) is False

    def test_numpy_vs_jax(self) -> None:
        assert _array_verdict(tree_equal(np.ones(2, np.float32), jnp.ones(2))) is True
        assert _array_verdict(tree_equal(jnp.ones(2), np.zeros(2, np.float32))) is False
        assert tree_equal(np.ones(2, np.float32), jnp.ones(2), typematch=True) is False
        assert tree_equal(np.ones(2), jnp.ones(2)) is False  # float64 vs float32

    def test_numpy_only_is_python_bool(self) -> None:
        assert tree_equal(np.arange(3.0), np.arange(3.0)) is True
        assert tree_equal(np.arange(3.0), np.arange(3.0) + 1) is False
        assert tree_equal(np.arange(3.0), np.arange(3.0) + 1e-5, rtol=1e-3, atol=1e-3) is True

    def test_array_vs_non_array(self) -> None:
        assert tree_equal(jnp.array(1), 1) is False

    def test_typematch(self) -> None:
        assert tree_equal(1, 1.0) is True
        assert tree_equal(1, 1.0, typematch=True) is False
        assert tree_equal(True, 1, typematch=True) is False
        assert tree_equal([1, "a"], [1, "a"], typematch=True) is True

    def test_tolerances(self) -> None:
        a = jnp.array([1.0, 100.0])
        b = jnp.array([1.001, 100.1])
        assert _array_verdict(tree_equal(a, b)) is False
        assert _array_verdict(tree_equal(a, b, rtol=1e-2)) is True
        assert _array_verdict(tree_equal(a, b, atol=0.2)) is True
        assert _array_verdict(tree_equal(a, b, atol=1e-4)) is False
        # Agreement with numpy's definition, for JAX and for NumPy arrays.
        for rtol, atol in [(1e-3, 0.0), (0.0, 0.05), (1e-5, 1e-5)]:
            expected = bool(np.allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol))
            assert _array_verdict(tree_equal(a, b, rtol=rtol, atol=atol)) is expected
            assert tree_equal(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol) is expected
            assert _array_verdict(tree_equal(np.asarray(a), b, rtol=rtol, atol=atol)) is expected

    def test_tolerance_ignored_for_integers(self) -> None:
        assert _array_verdict(tree_equal(jnp.array([1]), jnp.array([2]), atol=5.0)) is False

    def test_bfloat16(self) -> None:
        a = jnp.ones(3, jnp.bfloat16)
        assert _array_verdict(tree_equal(a, a + 0)) is True
        assert _array_verdict(tree_equal(a, a * 2, atol=0.5)) is False

    def test_under_jit_returns_array(self) -> None:
        @jax.jit
        def same(a: jax.Array, b: jax.Array) -> jax.Array:
            result = tree_equal({"v": a}, {"v": b})
            assert isinstance(result, jax.Array)
            return result

        out = same(jnp.arange(3.0), jnp.arange(3.0))
        assert out.shape == () and out.dtype == jnp.bool_ and bool(out)
        assert not bool(same(jnp.arange(3.0), jnp.zeros(3)))

    def test_under_jit_tolerance(self) -> None:
        f = jax.jit(lambda a, b: tree_equal(a, b, rtol=1e-2))
        assert bool(f(jnp.array(1.0), jnp.array(1.001)))
        assert not bool(f(jnp.array(1.0), jnp.array(1.1)))

    def test_under_jit_static_mismatch_is_python_false(self) -> None:
        results: list[Any] = []

        @jax.jit
        def f(a: jax.Array) -> jax.Array:
            results.append(tree_equal(a, jnp.zeros(4)))  # shapes differ
            results.append(tree_equal([a], (a,)))  # structures differ
            return a

        f(jnp.zeros(3))
        assert results == [False, False]
        assert all(r is False for r in results)

    def test_under_jit_mixed_concrete_and_traced(self) -> None:
        results: list[Any] = []

        @jax.jit
        def f(a: jax.Array) -> jax.Array:
            # Concrete leaves that differ decide the answer statically...
            results.append(tree_equal([a, np.ones(2)], [a, np.zeros(2)]))
            # ...while equal concrete leaves leave it to the traced ones.
            results.append(tree_equal([a, np.ones(2)], [a, np.ones(2)]))
            return a

        f(jnp.ones(1))
        assert results[0] is False
        assert isinstance(results[1], jax.Array)


# --------------------------------------------------------------------------------------
# apply_updates
# --------------------------------------------------------------------------------------


class TestApplyUpdates:
    def test_adds_leafwise(self) -> None:
        linear = make_linear(jnp.ones(3))
        updates = Linear(jnp.full((3, 2), 0.5), jnp.full(3, -1.0), 2)
        new = apply_updates(linear, updates)
        np.testing.assert_allclose(new.weight, np.arange(6.0).reshape(3, 2) + 0.5)
        np.testing.assert_allclose(new.bias, np.zeros(3))
        assert new.in_features == 2

    def test_none_leaves_model_untouched(self) -> None:
        model = {"w": jnp.ones(2), "name": "layer", "count": 3, "b": jnp.zeros(2)}
        updates = {"w": jnp.ones(2), "name": None, "count": None, "b": None}
        new = apply_updates(model, updates)
        np.testing.assert_array_equal(new["w"], np.full(2, 2.0))
        assert new["name"] == "layer" and new["count"] == 3
        assert new["b"] is model["b"]

    def test_none_for_whole_subtree(self) -> None:
        model = {"frozen": make_linear(jnp.ones(3)), "w": jnp.ones(1)}
        new = apply_updates(model, {"frozen": None, "w": jnp.ones(1)})
        assert new["frozen"] is model["frozen"]
        np.testing.assert_array_equal(new["w"], [2.0])

    def test_with_grad(self) -> None:
        model = {"w": jnp.array(3.0), "act": None}

        def loss(m: dict[str, Any]) -> jax.Array:
            return m["w"] ** 2

        grads = jax.grad(loss)(model)
        updates = jax.tree_util.tree_map(lambda g: -0.1 * g, grads)
        new = apply_updates(model, updates)
        np.testing.assert_allclose(new["w"], 3.0 - 0.1 * 6.0, rtol=1e-6)


# --------------------------------------------------------------------------------------
# tree_flatten_one_level
# --------------------------------------------------------------------------------------


class TestFlattenOneLevel:
    def test_dict(self) -> None:
        tree = {"a": (1, 2), "b": None, "c": [3]}
        children, treedef = tree_flatten_one_level(tree)
        assert children == [(1, 2), None, [3]]
        assert treedef.unflatten(children) == tree

    def test_module(self) -> None:
        mlp = make_mlp()
        children, treedef = tree_flatten_one_level(mlp)
        assert children == [mlp.layers]
        rebuilt = treedef.unflatten(children)
        assert isinstance(rebuilt, MLP) and rebuilt.layers is mlp.layers

    def test_leaf(self) -> None:
        x = jnp.ones(2)
        children, treedef = tree_flatten_one_level(x)
        assert children == [x] or children[0] is x
        assert treedef == jtu.tree_structure(0)

    def test_none(self) -> None:
        children, treedef = tree_flatten_one_level(None)
        assert children == []
        assert treedef == jtu.tree_structure(None)

    def test_self_containing_node_is_refused(self) -> None:
        loop: list[Any] = [1]
        loop.append(loop)
        with pytest.raises(ValueError, match="list contains itself as one of its own children"):
            tree_flatten_one_level(loop)
        d: dict[str, Any] = {}
        d["me"] = d
        with pytest.raises(ValueError, match="dict contains itself"):
            tree_flatten_one_level(d)

    def test_deeper_cycles_and_repeated_children_are_one_level_away(self) -> None:
        # Only the node itself among its children is refused: a child holding the
        # node further down, or the same child twice, flattens one level as usual.
        outer: list[Any] = [1]
        inner: list[Any] = [outer]
        outer.append(inner)
        children, _ = tree_flatten_one_level(outer)
        assert children[0] == 1 and children[1] is inner
        shared = [1, 2]
        children, _ = tree_flatten_one_level([shared, shared])
        assert children[0] is shared and children[1] is shared


# --------------------------------------------------------------------------------------
# tree_check
# --------------------------------------------------------------------------------------


class TestTreeCheck:
    def test_ok(self) -> None:
        x = jnp.ones(2)
        # Repeated leaves, None and empty containers are fine.
        tree_check({"a": [x, x, 1, 1], "b": (None, None), "c": [(), ()]})
        tree_check(make_mlp())

    def test_duplicate_list(self) -> None:
        shared = [1.0]
        with pytest.raises(ValueError, match=r"same list object appears at \['a'\] and at \['b'\]\[0\]"):
            tree_check({"a": shared, "b": [shared]})

    def test_duplicate_module(self) -> None:
        layer = make_linear(jnp.zeros(3))
        mlp = MLP((layer, layer), jax.nn.relu)
        with pytest.raises(ValueError, match=r"Linear object appears at \.layers\[0\] and at \.layers\[1\]"):
            tree_check(mlp)

    def test_cycle(self) -> None:
        loop: list[Any] = [1]
        loop.append(loop)
        with pytest.raises(ValueError, match=r"at \['x'\]\[1\] contains itself"):
            tree_check({"x": loop})

    def test_cycle_at_root(self) -> None:
        loop: list[Any] = []
        loop.append([loop])
        with pytest.raises(ValueError, match=r"\[0\]\[0\] contains itself"):
            tree_check(loop)


# --------------------------------------------------------------------------------------
# Partial
# --------------------------------------------------------------------------------------


def mul(x: Any, y: Any) -> Any:
    return x * y


def affine(x: Any, *, scale: Any = 1.0, shift: Any = 0.0) -> Any:
    return x * scale + shift


class TestPartial:
    def test_call(self) -> None:
        assert Partial(mul, 3)(4) == 12
        assert Partial(affine, scale=2.0)(1.0, shift=5.0) == 7.0
        # Call-time keywords override bound ones.
        assert Partial(affine, scale=2.0)(1.0, scale=3.0) == 3.0

    def test_matches_functools_partial(self) -> None:
        def f(*args: Any, **kwargs: Any) -> tuple[Any, ...]:
            return args, kwargs

        ours = Partial(f, 1, 2, a=3)
        theirs = functools.partial(f, 1, 2, a=3)
        assert ours(4, b=5) == theirs(4, b=5)
        assert ours(4, a=6) == theirs(4, a=6)

    def test_attributes(self) -> None:
        p = Partial(affine, 1.0, scale=2.0)
        assert p.func is affine
        assert p.args == (1.0,)
        assert p.keywords == {"scale": 2.0}

    def test_pytree_structure(self) -> None:
        x = jnp.ones(2)
        p = Partial(affine, x, scale=jnp.zeros(1))
        leaves, treedef = jtu.tree_flatten(p)
        assert len(leaves) == 2 and leaves[0] is x
        paths = [jtu.keystr(path) for path, _ in jtu.tree_flatten_with_path(p)[0]]
        assert paths == [".args[0]", ".keywords['scale']"]
        rebuilt = jtu.tree_unflatten(treedef, leaves)
        assert isinstance(rebuilt, Partial) and rebuilt.func is affine

    def test_func_is_static(self) -> None:
        assert jtu.tree_structure(Partial(mul, 1)) != jtu.tree_structure(Partial(affine, 1))

    def test_jit(self) -> None:
        p = Partial(mul, jnp.array(3.0))
        out = jax.jit(lambda q: q(2.0))(p)
        np.testing.assert_allclose(out, 6.0)

    def test_returned_from_jit(self) -> None:
        p = jax.jit(lambda x: Partial(mul, x + 1))(jnp.array(1.0))
        assert isinstance(p, Partial)
        np.testing.assert_allclose(p(3.0), 6.0)

    def test_grad(self) -> None:
        grad = jax.grad(lambda p: p(2.0))(Partial(mul, jnp.array(3.0)))
        assert isinstance(grad, Partial) and grad.func is mul
        np.testing.assert_allclose(grad.args[0], 2.0)

    def test_grad_keywords(self) -> None:
        grad = jax.grad(lambda p: p(3.0))(Partial(affine, scale=jnp.array(2.0)))
        np.testing.assert_allclose(grad.keywords["scale"], 3.0)

    def test_vmap(self) -> None:
        out = jax.vmap(lambda p: p(2.0))(Partial(mul, jnp.arange(3.0)))
        np.testing.assert_allclose(out, [0.0, 2.0, 4.0])

    def test_frozen(self) -> None:
        p = Partial(mul, 1)
        with pytest.raises(dataclasses.FrozenInstanceError):
            p.args = (2,)  # type: ignore[misc]
        with pytest.raises(dataclasses.FrozenInstanceError):
            p.func = affine  # type: ignore[misc]

    def test_eq_hash(self) -> None:
        assert Partial(mul, 1, k=2) == Partial(mul, 1, k=2)
        assert hash(Partial(mul, 1, k=2)) == hash(Partial(mul, 1, k=2))
        assert Partial(mul, 1) != Partial(mul, 2)
        assert Partial(mul, 1) != Partial(affine, 1)
        assert Partial(mul, 1) != functools.partial(mul, 1)
        x = jnp.arange(3.0)
        assert Partial(mul, x) == Partial(mul, jnp.arange(3.0))
        assert Partial(mul, x) != Partial(mul, x + 1)

    def test_pickle(self) -> None:
        p = Partial(affine, np.arange(3.0), scale=2.0)
        q = pickle.loads(pickle.dumps(p))
        assert isinstance(q, Partial)
        assert q == p
        np.testing.assert_array_equal(q(), np.arange(3.0) * 2.0)

    def test_pickle_jax_array(self) -> None:
        p = Partial(mul, jnp.array(2.0))
        q = pickle.loads(pickle.dumps(p))
        np.testing.assert_allclose(q(3.0), 6.0)

    def test_not_callable(self) -> None:
        with pytest.raises(TypeError, match="callable"):
            Partial(3)  # type: ignore[arg-type]

    def test_empty_partial_with_tree_at(self) -> None:
        p = Partial(mul)
        q = tree_at(lambda q: q.args, p, (5,))
        assert q(2) == 10


# --------------------------------------------------------------------------------------
# Property tests
# --------------------------------------------------------------------------------------

_leaf = st.one_of(
    st.none(),
    st.integers(-5, 5),
    st.floats(-10, 10, allow_nan=False),
    st.text(max_size=3),
)
_trees = st.recursive(
    _leaf,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.tuples(children, children),
        st.dictionaries(st.text(max_size=2), children, max_size=3),
        st.builds(Point, children, children),
    ),
    max_leaves=12,
)


def _all_node_selectors(tree: Any) -> list[Callable[[Any], Any]]:
    """A `where` function for every node (leaves, None and subtrees) of ``tree``."""
    selectors: list[Callable[[Any], Any]] = []

    def walk(node: Any, getters: tuple[Callable[[Any], Any], ...]) -> None:
        def select(t: Any, getters: tuple[Callable[[Any], Any], ...] = getters) -> Any:
            for get in getters:
                t = get(t)
            return t

        selectors.append(select)
        if isinstance(node, dict):
            for key in node:
                walk(node[key], (*getters, lambda t, key=key: t[key]))
        elif isinstance(node, (list, tuple)):
            for index in range(len(node)):
                walk(node[index], (*getters, lambda t, index=index: t[index]))

    walk(tree, ())
    return selectors


@settings(max_examples=60, deadline=None)
@given(_trees)
def test_tree_at_identity_is_noop(tree: Any) -> None:
    for where in _all_node_selectors(tree):
        assert tree_equal(tree_at(where, tree, replace_fn=lambda x: x), tree)


@settings(max_examples=60, deadline=None)
@given(_trees)
def test_tree_at_replaces_exactly_the_selected_node(tree: Any) -> None:
    marker = object()
    for where in _all_node_selectors(tree):
        new = tree_at(where, tree, marker)
        assert where(new) is marker
        # Putting the original node back restores the tree.
        assert tree_equal(tree_at(where, new, where(tree)), tree)


@settings(max_examples=60, deadline=None)
@given(_trees)
def test_tree_equal_reflexive_and_copy(tree: Any) -> None:
    leaves, treedef = jtu.tree_flatten(tree)
    assert tree_equal(tree, jtu.tree_unflatten(treedef, list(leaves))) is True
    tree_check(tree)


# --------------------------------------------------------------------------------------
# With the real Module
# --------------------------------------------------------------------------------------

class Scale(Module):
    weight: jax.Array
    bias: jax.Array | None
    size: int = field(static=True)


def test_module_tree_at_and_equal() -> None:
    m = Scale(jnp.ones(3), None, 3)
    new = tree_at(lambda s: s.bias, m, jnp.zeros(3))
    assert isinstance(new, Scale) and new.size == 3
    np.testing.assert_array_equal(new.bias, np.zeros(3))
    assert m.bias is None
    assert _array_verdict(tree_equal(m, Scale(jnp.ones(3), None, 3))) is True
    assert tree_equal(m, Scale(jnp.ones(3), None, 4)) is False  # static field differs


def test_module_apply_updates_and_check() -> None:
    m = Scale(jnp.ones(3), jnp.zeros(3), 3)
    grads = jax.grad(lambda s: jnp.sum(s.weight * 2.0 + s.bias))(m)
    new = apply_updates(m, jtu.tree_map(lambda g: -g, grads))
    np.testing.assert_allclose(new.weight, np.full(3, -1.0))
    np.testing.assert_allclose(new.bias, np.full(3, -1.0))
    tree_check([m, new])
    with pytest.raises(ValueError, match=r"Scale object appears at \[0\] and at \[1\]"):
        tree_check([m, m])
