"""filter_vmap / filter_pmap against jax.vmap / jax.pmap."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from _transform_models import Linear

import equinox_typed as eqx


def test_default_maps_arrays_broadcasts_rest() -> None:
    def f(x: jax.Array, n: int, y: jax.Array) -> jax.Array:
        return x * n + y

    xs, ys = jnp.arange(6.0).reshape(3, 2), jnp.ones((3, 2))
    out = eqx.filter_vmap(f)(xs, 2, ys)
    np.testing.assert_allclose(out, jax.vmap(lambda x, y: x * 2 + y)(xs, ys))


def test_in_axes_prefix_and_callables() -> None:
    xs = jnp.arange(12.0).reshape(3, 4)
    w = jnp.arange(4.0)
    out = eqx.filter_vmap(lambda x, w: x * w, in_axes=(1, None))(xs, w[:3])
    np.testing.assert_allclose(out, jax.vmap(lambda x, w: x * w, in_axes=(1, None))(xs, w[:3]))
    tree = {"a": xs, "b": xs}
    out2 = eqx.filter_vmap(lambda t: t["a"] - t["b"].sum(), in_axes=({"a": 0, "b": None},))(tree)
    np.testing.assert_allclose(out2, xs - xs.sum())
    out3 = eqx.filter_vmap(lambda x: x.sum(), in_axes=eqx.if_array(1))(xs)
    np.testing.assert_allclose(out3, xs.sum(axis=0))


def test_in_axes_dict_by_argument_name_and_kwargs() -> None:
    def f(x: jax.Array, w: jax.Array, *, b: jax.Array) -> jax.Array:
        return x @ w + b

    xs, w, bs = jnp.ones((5, 3)), jnp.arange(6.0).reshape(3, 2), jnp.arange(10.0).reshape(5, 2)
    out = eqx.filter_vmap(f, in_axes={"w": None})(xs, w, b=bs)  # x, b: default (mapped)
    np.testing.assert_allclose(out, jax.vmap(lambda x, b: x @ w + b)(xs, bs))
    # Without a dict, keyword arrays are mapped over their leading axis by default.
    out2 = eqx.filter_vmap(f, in_axes=(0, None))(xs, w, b=bs)
    np.testing.assert_allclose(out2, out)


def test_out_axes_and_non_array_outputs() -> None:
    xs = jnp.arange(6.0).reshape(3, 2)
    y, label, total = eqx.filter_vmap(
        lambda x: (x * 2, "tag", jnp.sum(jnp.ones(2))), out_axes=(1, None, None)
    )(xs)
    np.testing.assert_allclose(y, (xs * 2).T)
    assert label == "tag"
    np.testing.assert_allclose(total, 2.0)
    with pytest.raises(ValueError):  # an unmapped output that depends on the batch
        eqx.filter_vmap(lambda x: x, out_axes=None)(xs)


def test_ensemble_of_modules() -> None:
    keys = jax.random.split(jax.random.PRNGKey(0), 4)
    ensemble = eqx.filter_vmap(lambda k: Linear(3, 2, key=k))(keys)
    assert type(ensemble) is Linear
    assert ensemble.weight.shape == (4, 2, 3) and ensemble.in_features == 3
    singles = [Linear(3, 2, key=k) for k in keys]
    np.testing.assert_allclose(ensemble.weight[2], singles[2].weight, rtol=1e-6)
    x = jnp.arange(3.0)
    ys = eqx.filter_vmap(lambda m, x: m(x), in_axes=(0, None))(ensemble, x)
    np.testing.assert_allclose(ys[1], singles[1](x), rtol=1e-5)
    # Calling filter_vmap on a Module instance maps over the call's arguments.
    layer = singles[0]
    xs = jnp.arange(6.0).reshape(2, 3)
    np.testing.assert_allclose(eqx.filter_vmap(layer)(xs), jax.vmap(layer)(xs), rtol=1e-6)


def test_axis_name_and_axis_size() -> None:
    xs = jnp.arange(4.0)
    out = eqx.filter_vmap(lambda x: x / jax.lax.psum(x, "b"), axis_name="b")(xs)
    np.testing.assert_allclose(out, xs / xs.sum())
    consts = eqx.filter_vmap(lambda: jnp.ones(2), axis_size=3)()
    assert consts.shape == (3, 2)


_PMAP_SCRIPT = textwrap.dedent(
    """
    import jax, jax.numpy as jnp, numpy as np
    import equinox_typed as eqx
    from jaxtyping import Array, Float
    assert jax.device_count() == 8, jax.device_count()
    traces = []
    def f(x, n, y):
        traces.append(1)
        return x * n + y, "static", jax.lax.psum(jnp.sum(x), "d")
    xs, y = jnp.arange(16.0).reshape(8, 2), jnp.ones(2)
    out, label, total = eqx.filter_pmap(f, in_axes=(0, None, None), out_axes=(0, None, None), axis_name="d")(xs, 3, y)
    np.testing.assert_allclose(out, xs * 3 + y)
    assert label == "static"
    np.testing.assert_allclose(total, xs.sum())
    g = eqx.filter_pmap(f, in_axes=(0, None, None), out_axes=(0, None, None), axis_name="d")
    g(xs, 3, y); g(xs + 1, 3, y)
    assert len(traces) == 1, traces  # g wraps the same function: the first trace serves it
    g(xs, 4, y)
    assert len(traces) == 2
    np.testing.assert_allclose(eqx.filter_pmap(lambda x: x * 2, in_axes=1, out_axes=1)(xs.T), xs.T * 2)
    # Only buffers already laid out across the devices can be donated.
    a, b = eqx.filter_pmap(lambda x: (x + 1, x + 2))(jnp.ones((8, 2)))
    eqx.filter_pmap(lambda a, b: (a + 1, b + 1), donate="all-except-first")(a, b)
    print("donated", a.is_deleted(), b.is_deleted())
    def per_device(x: Float[Array, "n"]) -> Float[Array, "n"]:
        return x * 2
    try:
        eqx.filter_pmap(per_device)(jnp.ones((8, 2, 3)))
    except eqx.TypeCheckError as e:
        print("checked", "`x`" in str(e), "f32[2,3]" in str(e))
    print("OK")
    """
)


def test_filter_pmap_on_8_cpu_devices() -> None:
    env = {**os.environ, "XLA_FLAGS": "--xla_force_host_platform_device_count=8"}
    result = subprocess.run(
        [sys.executable, "-c", _PMAP_SCRIPT], env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    lines = result.stdout.split("\n")
    assert "checked True True" in lines
    assert "donated False True" in lines
    assert "OK" in lines
