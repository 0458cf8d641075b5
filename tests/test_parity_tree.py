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
