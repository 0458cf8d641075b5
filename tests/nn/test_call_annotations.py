"""Built-in layers accept exactly what they compute correctly (as Equinox 0.13.8 does):
integer inputs where the layer promotes them, any integer dtype for Embedding indices,
boolean or floating attention masks. Shapes stay strict, and other kinds are refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import equinox as reference
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest

import equinox_typed as eqx

from ._helpers import raises_check_error

_KEY = jr.PRNGKey(0)


def _first(out: Any) -> Any:
    return out[0] if isinstance(out, tuple) else out


_CASES: list[tuple[str, Callable[[Any], Any], tuple[Any, ...]]] = [
    ("MLP", lambda nn: nn.MLP(2, 3, 4, 2, key=_KEY), (jnp.arange(2),)),
    ("Linear", lambda nn: nn.Linear(2, 3, key=_KEY), (np.arange(2, dtype=np.int16),)),
    ("LayerNorm", lambda nn: nn.LayerNorm(3), (jnp.array([1, 5, 9]),)),
    ("GRUCell", lambda nn: nn.GRUCell(2, 3, key=_KEY), (jnp.arange(2), jnp.zeros(3))),
    (
        "LSTMCell",
        lambda nn: nn.LSTMCell(2, 3, key=_KEY),
        (jnp.arange(2), (jnp.zeros(3), jnp.zeros(3))),
    ),
    ("Embedding-uint8", lambda nn: nn.Embedding(5, 2, key=_KEY), (jnp.array(3, jnp.uint8),)),
    ("Embedding-np.int64", lambda nn: nn.Embedding(5, 2, key=_KEY), (np.int64(4),)),
    (
        "MultiheadAttention-float-mask",
        lambda nn: nn.MultiheadAttention(2, 4, key=_KEY),
        (jnp.ones((3, 4)), jnp.ones((3, 4)), jnp.arange(12.0).reshape(3, 4), jnp.tril(jnp.ones((3, 3)))),
    ),
]


@pytest.mark.parametrize(("name", "make", "args"), _CASES, ids=[c[0] for c in _CASES])
def test_layer_accepts_what_equinox_computes(
    typechecker: str, name: str, make: Callable[[Any], Any], args: tuple[Any, ...]
) -> None:
    del name
    ours, theirs = _first(make(eqx.nn)(*args)), _first(make(reference.nn)(*args))
    assert ours.dtype == theirs.dtype
    np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-6)


def test_float_mask_means_the_same_as_a_bool_mask(typechecker: str) -> None:
    attention = eqx.nn.MultiheadAttention(2, 4, key=_KEY)
    x = jnp.arange(12.0).reshape(3, 4)
    tril = jnp.tril(jnp.ones((3, 3)))
    np.testing.assert_allclose(attention(x, x, x, tril), attention(x, x, x, tril.astype(bool)))


def test_integer_inputs_keep_shapes_strict(typechecker: str) -> None:
    mlp = eqx.nn.MLP(2, 3, 4, 2, key=_KEY)
    with raises_check_error("MLP.__call__", "argument `x`", "i32[3]"):
        mlp(jnp.arange(3))
    norm = eqx.nn.LayerNorm(3)
    with raises_check_error("LayerNorm.__call__", "argument `x`", "i32[4]"):
        norm(jnp.arange(4))


def test_other_kinds_are_refused(typechecker: str) -> None:
    with raises_check_error("Linear.__call__", "argument `x`", "bool[2]"):
        eqx.nn.Linear(2, 3, key=_KEY)(jnp.array([True, False]))
    with raises_check_error("Embedding.__call__", "argument `x`", "f32[]"):
        eqx.nn.Embedding(5, 2, key=_KEY)(jnp.array(3.0))
    attention = eqx.nn.MultiheadAttention(2, 4, key=_KEY)
    x = jnp.ones((3, 4))
    with raises_check_error("MultiheadAttention.__call__", "argument `mask`", "i32[3,3]"):
        attention(x, x, x, jnp.tril(jnp.ones((3, 3), jnp.int32)))
    with raises_check_error("MultiheadAttention.__call__", "argument `mask`", "f32[3,2]"):
        attention(x, x, x, jnp.ones((3, 2)))
