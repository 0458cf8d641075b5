"""What the filtered transformations return: metadata of the wrapped function (also after
a flatten/unflatten through filter_jit), and the keyword arguments Equinox's accept,
compared with Equinox 0.13.8 side by side."""

from __future__ import annotations

import types
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import equinox_typed

equinox = pytest.importorskip("equinox")

TRANSFORMS = ["filter_jit", "filter_grad", "filter_value_and_grad", "filter_vmap", "filter_pmap"]
METADATA = ("__name__", "__qualname__", "__doc__", "__annotations__")


def loss(x: jax.Array, scale: float = 1.0) -> jax.Array:
    """The documented loss."""
    return jnp.sum(x**2) * scale


def _metadata(f: Any) -> tuple[Any, ...]:
    return (*(getattr(f, name) for name in METADATA), f.__wrapped__ is loss)


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_wrappers_keep_metadata_like_equinox(transform: str) -> None:
    results = []
    for lib in (equinox_typed, equinox):
        wrapped = getattr(lib, transform)(loss)
        direct = _metadata(wrapped)
        # Through filter_jit as an argument: flattened and rebuilt inside the trace.
        through_jit = lib.filter_jit(lambda f: _metadata(f))(wrapped)
        assert direct == through_jit, lib.__name__
        results.append(direct)
    ours, theirs = results
    assert ours == theirs
    assert ours == ("loss", "loss", "The documented loss.", loss.__annotations__, True)


def test_wrapper_metadata_survives_tree_map() -> None:
    wrapped = equinox_typed.filter_grad(loss)
    rebuilt = jax.tree_util.tree_map(lambda x: x, wrapped)
    assert rebuilt is not wrapped and _metadata(rebuilt) == _metadata(wrapped)


def test_filter_jit_passes_jit_options() -> None:
    for lib in (equinox_typed, equinox):
        inlined = lib.filter_jit(loss, inline=True)
        np.testing.assert_allclose(inlined(jnp.arange(3.0)), 5.0)
        kept = lib.filter_jit(lambda x, unused: x * 2, keep_unused=True)
        np.testing.assert_allclose(kept(jnp.ones(2), jnp.ones(5)), 2 * np.ones(2))
    # The options that filter_jit decides itself are refused, with the reason.
    with pytest.raises(ValueError, match="static_argnums.*array leaves are traced"):
        equinox_typed.filter_jit(loss, static_argnums=1)


def test_inline_filter_jit_leaves_no_nested_call() -> None:
    def count_calls(lib: types.ModuleType, **options: Any) -> int:
        inner = lib.filter_jit(loss, **options)
        jaxpr = jax.make_jaxpr(lambda x: inner(x))(jnp.ones(3))
        return sum(eqn.primitive.name in ("pjit", "jit") for eqn in jaxpr.jaxpr.eqns)

    for lib in (equinox_typed, equinox):
        assert count_calls(lib) == 1, lib.__name__
    # `inline=True` reaches jax.jit as it does from Equinox: the same program results
    # (no nested call on JAX <= 0.10; newer JAX keeps the call in the jaxpr).
    assert count_calls(equinox_typed, inline=True) == count_calls(equinox, inline=True)
    assert count_calls(equinox_typed, inline=True) <= count_calls(equinox_typed)


def test_grad_options_allow_int_and_holomorphic() -> None:
    def f(x: jax.Array) -> jax.Array:
        return jnp.sum(x * x)

    for lib in (equinox_typed, equinox):
        np.testing.assert_allclose(lib.filter_grad(f, allow_int=True)(jnp.ones(3)), 2 * np.ones(3))
        z = jnp.array([1.0 + 2.0j])
        g = lib.filter_grad(lambda z: jnp.sum(z**2), holomorphic=True)(z)
        np.testing.assert_allclose(g, 2 * z)
        value, grad = lib.filter_value_and_grad(f, allow_int=True)(jnp.ones(2))
        assert float(value) == 2.0
        np.testing.assert_allclose(grad, 2 * np.ones(2))
    with pytest.raises(ValueError, match="argnums"):
        equinox_typed.filter_grad(f, argnums=1)


@pytest.mark.skipif(not hasattr(jax, "set_mesh"), reason="jax.set_mesh arrived after JAX 0.4.38")
def test_vmap_passes_vmap_options() -> None:
    mesh = jax.sharding.Mesh(np.array(jax.devices()[:1]), ("data",))
    for lib in (equinox_typed, equinox):
        f = lib.filter_vmap(lambda x: x * 2, spmd_axis_name="data")
        with jax.set_mesh(mesh):
            out = lib.filter_jit(f)(jnp.ones((2, 3)))
        np.testing.assert_allclose(out, 2 * np.ones((2, 3)))


def test_pmap_takes_devices_and_backend() -> None:
    for lib in (equinox_typed, equinox):
        f = lib.filter_pmap(lambda x: x + 1, devices=jax.devices()[:1], backend="cpu")
        np.testing.assert_allclose(f(jnp.zeros((1, 2))), np.ones((1, 2)))


def test_lower_compile_takes_compiler_options() -> None:
    for lib in (equinox_typed, equinox):
        lowered = lib.filter_jit(loss).lower(jnp.ones(3), 2.0)
        compiled = lowered.compile(compiler_options={"xla_embed_ir_in_executable": True})
        np.testing.assert_allclose(compiled(jnp.arange(3.0), 2.0), 10.0)
    with pytest.raises(Exception, match="no_such_option"):
        equinox_typed.filter_jit(loss).lower(jnp.ones(3)).compile(
            compiler_options={"no_such_option": True}
        )
