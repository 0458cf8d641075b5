"""Leaf predicates, and partition/combine/filter on PyTrees and Modules."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jaxtyping import Array, Float

import equinox_typed as eqx


class Block(eqx.Module):
    weight: Float[Array, "a b"]
    scale: float
    activation: object = eqx.field(static=True, default=jax.nn.relu)
    name: str = "block"


def _tree() -> dict[str, object]:
    return {
        "w": jnp.ones((2, 2)),
        "n": np.arange(3),
        "i": jnp.arange(3),
        "f": 1.5,
        "s": "text",
        "nested": [jnp.zeros(1), 2, None],
    }


@pytest.mark.parametrize(
    ("value", "array", "array_like", "inexact", "inexact_like"),
    [
        (jnp.ones(2), True, True, True, True),
        (jnp.arange(2), True, True, False, False),
        (np.ones(2), True, True, True, True),
        (np.float32(1.0), True, True, True, True),
        (np.int32(1), True, True, False, False),
        (1.0, False, True, False, True),
        (1j, False, True, False, True),
        (1, False, True, False, False),
        (True, False, True, False, False),
        ("x", False, False, False, False),
        (None, False, False, False, False),
        (jax.nn.relu, False, False, False, False),
    ],
)
def test_predicates(
    value: object, array: bool, array_like: bool, inexact: bool, inexact_like: bool
) -> None:
    assert eqx.is_array(value) is array
    assert eqx.is_array_like(value) is array_like
    assert eqx.is_inexact_array(value) is inexact
    assert eqx.is_inexact_array_like(value) is inexact_like


def test_if_array() -> None:
    spec = eqx.if_array(1)
    assert spec(jnp.ones((2, 3))) == 1
    assert spec(3.0) is None
    assert spec == eqx.if_array(1) and spec != eqx.if_array(0)
    assert hash(spec) == hash(eqx.if_array(1))
    assert repr(spec) == "if_array(1)"


def test_partition_and_combine_roundtrip_on_dicts() -> None:
    tree = _tree()
    arrays, rest = eqx.partition(tree, eqx.is_array)
    assert arrays["f"] is None and arrays["s"] is None
    assert rest["w"] is None and rest["f"] == 1.5
    assert arrays["nested"][1] is None and rest["nested"][1] == 2  # type: ignore[index]
    merged = eqx.combine(arrays, rest)
    assert jtu.tree_structure(merged) == jtu.tree_structure(tree)
    for a, b in zip(jtu.tree_leaves(merged), jtu.tree_leaves(tree), strict=True):
        assert a is b


def test_partition_keeps_module_type_and_statics() -> None:
    block = Block(jnp.ones((2, 3)), 0.5)
    params, static = eqx.partition(block, eqx.is_inexact_array)
    assert type(params) is Block and type(static) is Block
    assert params.weight is block.weight and params.scale is None
    assert static.weight is None and static.scale == 0.5
    assert params.activation is jax.nn.relu  # static fields are not leaves
    rebuilt = eqx.combine(params, static)
    assert rebuilt.weight is block.weight and rebuilt.scale == 0.5


def test_filter_inverse_and_replace() -> None:
    tree = _tree()
    only_arrays = eqx.filter(tree, eqx.is_array)
    assert only_arrays["f"] is None
    no_arrays = eqx.filter(tree, eqx.is_array, inverse=True)
    assert no_arrays["w"] is None and no_arrays["s"] == "text"
    marked = eqx.filter(tree, eqx.is_array, replace=0)
    assert marked["f"] == 0 and marked["s"] == 0
    assert marked["w"] is tree["w"]


def test_bool_and_prefix_tree_filter_specs() -> None:
    tree = {"a": (jnp.ones(1), 2.0), "b": jnp.zeros(2)}
    everything = eqx.filter(tree, True)
    assert everything["a"][1] == 2.0
    nothing = eqx.filter(tree, False)
    assert jtu.tree_leaves(nothing) == []
    # A prefix tree: everything under "a" is kept, "b" is decided by a predicate.
    spec = {"a": True, "b": lambda x: x.shape == (3,)}
    picked = eqx.filter(tree, spec)
    assert picked["a"][1] == 2.0 and picked["b"] is None
    with pytest.raises(ValueError, match="prefix"):
        eqx.filter(tree, {"a": True})


def test_module_shaped_filter_spec_is_a_prefix_tree_not_a_predicate() -> None:
    # A Module is callable, but as a filter spec it is a tree of bools (as in Equinox):
    # here only the last layer's weight is selected.
    model = eqx.nn.MLP(2, 1, 4, 1, key=jax.random.key(0))
    spec = jtu.tree_map(lambda _: False, model)
    spec = eqx.tree_at(lambda m: m.layers[-1].weight, spec, replace=True)
    picked, rest = eqx.partition(model, spec)
    assert picked.layers[-1].weight is model.layers[-1].weight
    assert picked.layers[0].weight is None and picked.layers[-1].bias is None
    assert rest.layers[-1].weight is None and rest.layers[0].weight is model.layers[0].weight
    # The nearest invalid spec, a Module of another shape, is refused as a non-prefix.
    other = jtu.tree_map(lambda _: True, eqx.nn.MLP(2, 1, 4, 2, key=jax.random.key(0)))
    with pytest.raises(ValueError, match="prefix"):
        eqx.partition(model, other)


def test_is_leaf_stops_descent() -> None:
    block = Block(jnp.ones((2, 2)), 1.0)
    tree = [block, jnp.ones(3)]
    kept = eqx.filter(tree, lambda x: isinstance(x, Block), is_leaf=lambda x: isinstance(x, Block))
    assert kept[0] is block and kept[1] is None


def test_combine_takes_first_non_none_and_validates_structure() -> None:
    a = [None, 1, None]
    b = [5, 6, None]
    c = [7, 8, 9]
    assert eqx.combine(a, b, c) == [5, 1, 9]
    with pytest.raises(TypeError):
        eqx.combine()
    with pytest.raises(ValueError):
        eqx.combine([None, 1], [1, 2, 3])


def test_partition_works_under_jit_with_grads() -> None:
    block = Block(jnp.full((2, 2), 3.0), 2.0)
    params, static = eqx.partition(block, eqx.is_inexact_array)

    @jax.jit
    def loss(p: Block) -> jax.Array:
        model = eqx.combine(p, static)
        return jnp.sum(model.weight**2) * model.scale

    grads = jax.grad(loss)(params)
    np.testing.assert_allclose(grads.weight, 2 * 2.0 * block.weight)


@settings(max_examples=60, deadline=None)  # no deadline: CI machines may be loaded
@given(
    st.recursive(
        st.one_of(
            st.integers(-5, 5),
            st.floats(allow_nan=False, allow_infinity=False, width=32),
            st.text(max_size=3),
            st.integers(0, 3).map(lambda n: np.arange(n, dtype=np.float32)),
        ),
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.dictionaries(st.text(max_size=2), children, max_size=3),
        ),
        max_leaves=8,
    )
)
def test_partition_combine_is_identity(tree: object) -> None:
    arrays, rest = eqx.partition(tree, eqx.is_array)
    merged = eqx.combine(arrays, rest)
    assert jtu.tree_structure(merged) == jtu.tree_structure(tree)
    for a, b in zip(jtu.tree_leaves(merged), jtu.tree_leaves(tree), strict=True):
        assert a is b


def test_list_filter_specs_apply_per_element() -> None:
    tree = [jnp.ones(1), 2, [3.0, jnp.zeros(2)]]
    kept = eqx.filter(tree, [True, False, [False, True]])
    assert kept[0] is tree[0] and kept[1] is None
    assert kept[2] == [None, tree[2][1]]  # type: ignore[index]


def test_predicates_on_tracers() -> None:
    def probe(x: jax.Array) -> jax.Array:
        assert eqx.is_array(x) and eqx.is_inexact_array(x)
        assert eqx.is_array_like(x) and eqx.is_inexact_array_like(x)
        return x

    jax.jit(probe)(jnp.ones(2))
    jax.grad(lambda x: probe(x).sum())(jnp.ones(2))
