"""Memory: thousands of distinct signatures leave every memo of passed checks bounded,
and models discarded after going through checks and transformations are collectable
(nothing of this library keeps them alive); `eqx.clear_caches` releases what JAX's own
compilation cache holds (the static parts of compiled calls).

Sizes here run in seconds; the `slow` variant goes through many more signatures.
"""

from __future__ import annotations

import gc
import weakref
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float

import equinox_typed as eqx
import equinox_typed._checking as _checking


class Row(eqx.Module):
    w: Float[Array, " n"]
    b: Float[Array, " n"]


def _live_memo_sizes() -> list[tuple[int, int]]:
    return [(len(memo._seen), memo._limit) for memo in list(_checking._LIVE_MEMOS)]


def test_memo_drops_its_oldest_half_when_full() -> None:
    memo = _checking.SignatureMemo(limit=64)
    for key in range(1000):
        memo.add(key)
        assert len(memo._seen) <= 64
    assert 999 in memo and 998 in memo
    assert 0 not in memo


def _distinct_signatures(count: int) -> None:
    # NumPy arrays: a new shape each, without compiling anything; more than a memo's
    # 4096 entries, so that old ones must be dropped.
    for n in range(1, count + 1):
        Row(np.zeros(n, np.float32), np.zeros(n, np.float32))
        if n % 100 == 0:
            with pytest.raises(eqx.TypeCheckError):
                Row(np.zeros(n, np.float32), np.zeros(n + 1, np.float32))


def test_thousands_of_signatures_leave_every_memo_bounded() -> None:
    _distinct_signatures(5000)
    sizes = _live_memo_sizes()
    assert sizes and all(seen <= limit for seen, limit in sizes)
    # Still exact after so many: the latest signatures pass, invalid ones raise.
    Row(np.zeros(5000, np.float32), np.zeros(5000, np.float32))
    with pytest.raises(eqx.TypeCheckError, match="`.b`"):
        Row(np.zeros(7, np.float32), np.zeros(8, np.float32))


@pytest.mark.slow
def test_many_more_signatures_leave_every_memo_bounded() -> None:
    _distinct_signatures(40_000)
    assert all(seen <= limit for seen, limit in _live_memo_sizes())


class Payload:
    """Stands for a large object a model refers to."""


class Holder(eqx.Module):
    linear: eqx.nn.Linear
    payload: Any  # a non-array leaf: static under filter_jit


def _use_everywhere(model: Holder, x: jax.Array) -> None:
    """Send ``model`` through every checked path: construction (done), filter_jit (both
    dispatch paths), filter_grad, filter_vmap, a checked layer call."""
    _JITTED(model, x)
    _DONATING(model, x)
    _GRAD(model, x)
    _VMAPPED(model, jnp.stack([x, x]))
    model.linear(x)
    # Failed checks keep nothing either.
    with pytest.raises(eqx.TypeCheckError):
        model.linear(jnp.ones(4))
    with pytest.raises(eqx.TypeCheckError):
        _JITTED(model, jnp.ones(4))


def _apply(model: Holder, x: Float[Array, " 3"]) -> Float[Array, " 2"]:
    return model.linear(x)


def _loss(model: Holder, x: Float[Array, " 3"]) -> Float[Array, ""]:
    return jnp.sum(model.linear(x))


# Module-level, as in a program: each model is a new value of the same signature.
_JITTED = eqx.filter_jit(_apply)
_DONATING = eqx.filter_jit(_apply, donate="all-except-first")
_GRAD = eqx.filter_grad(_loss)
_VMAPPED = eqx.filter_vmap(_apply, in_axes=(None, 0))


def test_discarded_models_are_collectable() -> None:
    watched: list[weakref.ref[Any]] = []
    x = jnp.ones(3)
    for seed in range(10):
        linear = eqx.nn.Linear(3, 2, key=jax.random.PRNGKey(seed))
        model = Holder(linear, None)
        _use_everywhere(model, x)
        watched += [weakref.ref(model), weakref.ref(linear), weakref.ref(linear.weight)]
        del linear, model
    gc.collect()
    assert [w() for w in watched if w() is not None] == []


@pytest.mark.skipif(
    tuple(int(p) for p in jax.__version__.split(".")[:2]) < (0, 5),
    reason="JAX 0.4.x's jax.clear_caches leaves static arguments in a tracing cache of its "
    "own (held through jax._src.api_util._HashableWithStrictTypeEquality)",
)
def test_static_parts_held_by_compiled_code_are_released_by_clear_caches() -> None:
    # A non-array leaf is part of the compilation cache key (as in Equinox), so JAX
    # keeps it while the compiled code lives; clear_caches lets it go.
    payload = Payload()
    watched = weakref.ref(payload)
    model = Holder(eqx.nn.Linear(3, 2, key=jax.random.PRNGKey(0)), payload)
    eqx.filter_jit(lambda m, x: m.linear(x))(model, jnp.ones(3))
    del model, payload
    eqx.clear_caches()
    gc.collect()
    assert watched() is None
