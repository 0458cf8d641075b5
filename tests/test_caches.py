"""eqx.clear_caches empties compiled functions, check memos and plans; checks still hold."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import pytest
from jaxtyping import Array, Float

import equinox_typed as eqx
import equinox_typed._checking as _checking


def test_cached_filter_jit_retraces_after_clear() -> None:
    traces = []

    @eqx.filter_jit
    def f(x: jax.Array) -> jax.Array:
        traces.append(x.shape)
        return x * 2

    f(jnp.ones(2))
    f(jnp.ones(2))
    assert len(traces) == 1  # cached
    eqx.clear_caches()
    assert float(f(jnp.ones(2))[0]) == 2.0
    assert len(traces) == 2  # compiled afresh
    f(jnp.ones(2))
    assert len(traces) == 2  # and cached again


class _Scaled(eqx.Module, strict=True):
    weight: Float[Array, " n"]
    n: int = eqx.field(static=True)


def test_memos_and_plans_are_emptied_and_checks_still_hold() -> None:
    _Scaled(jnp.ones(3), 3)
    memo = type.__getattribute__(_Scaled, "_eqx_plan").memo
    assert len(memo._seen) == 1
    layer = eqx.nn.Linear(2, 3, key=jax.random.key(0))
    layer(jnp.ones(2))
    eqx.clear_caches()
    assert len(memo._seen) == 0
    assert _Scaled.__dict__["_eqx_plan"] is None
    # Rebuilt on use: the valid case passes, the nearest invalid one still raises.
    _Scaled(jnp.ones(3), 3)
    with pytest.raises(eqx.TypeCheckError, match="weight"):
        _Scaled(jnp.ones(4), 3)
    assert layer(jnp.ones(2)).shape == (3,)
    with pytest.raises(eqx.TypeCheckError, match="in_features=2"):
        layer(jnp.ones(5))


def test_boundary_memos_of_live_wrappers_are_emptied() -> None:
    grad = eqx.filter_grad(lambda x: jnp.sum(x**2))
    grad(jnp.ones(2))
    live = [m for m in list(_checking._LIVE_MEMOS) if len(m._seen)]
    assert live
    eqx.clear_caches()
    assert all(len(m._seen) == 0 for m in live)
    assert grad(jnp.ones(2)).tolist() == [2.0, 2.0]


def test_rewritten_annotations_are_emptied_and_checks_still_hold() -> None:
    import equinox_typed._accept as _accept

    @eqx.filter_jit
    def double(x: Float[Array, "n"]) -> Float[Array, "n"]:
        return 2 * x

    double(jnp.ones(2))
    assert _accept._CACHE
    eqx.clear_caches()
    assert not _accept._CACHE
    assert double(jnp.ones(2)).tolist() == [2.0, 2.0]
    assert _accept._CACHE  # rebuilt on use
    with pytest.raises(eqx.TypeCheckError, match="argument `x`"):
        double(jnp.ones((2, 2), dtype=jnp.int32))


def test_plain_jax_jit_retraces_after_clear() -> None:
    # JAX's own caches are emptied too, not only the ones behind filter_jit.
    traces = []

    @jax.jit
    def f(x: jax.Array) -> jax.Array:
        traces.append(x.shape)
        return x + 1

    f(jnp.ones(2))
    f(jnp.ones(2))
    assert len(traces) == 1
    eqx.clear_caches()
    f(jnp.ones(2))
    assert len(traces) == 2
