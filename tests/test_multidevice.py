"""filter_shard, filter_jit and filter_pmap on 8 simulated CPU devices.

The rest of the suite runs on one device, and JAX fixes the device count at import, so
the multi-device part runs in a subprocess (with ``XLA_FLAGS`` set before JAX is
imported) that prints its results as JSON; the assertions are made here.
"""

from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import textwrap
from typing import Any

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest


_ROOT = pathlib.Path(__file__).resolve().parents[1]

_SCRIPT = textwrap.dedent(
    """
    import json

    import numpy as np
    import jax
    import jax.numpy as jnp
    import jax.random as jr
    from jax.sharding import Mesh, NamedSharding, PartitionSpec as P

    import equinox_typed as eqx
    from equinox_typed.nn._linear import Linear

    devices = jax.devices()
    mesh = Mesh(np.array(devices).reshape(4, 2), ("batch", "model"))
    model = Linear(6, 4, key=jr.key(0))
    x = jr.normal(jr.key(1), (8, 6))

    # Shardings as a prefix tree of the model: weight rows split over "model",
    # bias replicated; static fields untouched.
    specs = jax.tree_util.tree_map(
        lambda a: NamedSharding(mesh, P("model", None) if a.ndim == 2 else P()), model
    )
    sharded_model = eqx.filter_shard(model, specs)
    sharded_x = eqx.filter_shard(x, NamedSharding(mesh, P("batch")))

    traces = []

    @eqx.filter_jit
    def forward(m, xs, out_sharding):  # the sharding is not an array: static
        traces.append(None)
        out = jax.vmap(m)(xs)
        # Inside jit filter_shard is a sharding constraint.
        return eqx.filter_shard(out, out_sharding)

    out_sharding = NamedSharding(mesh, P("batch", "model"))
    out = forward(sharded_model, sharded_x, out_sharding)
    out_again = forward(sharded_model, sharded_x, out_sharding)

    # The same computation on one device.
    one = jax.devices()[0]
    out_one = forward(eqx.filter_shard(model, one), eqx.filter_shard(x, one), one)

    grad = jax.grad(lambda m, xs: jnp.sum(jax.vmap(m)(xs) ** 2))(sharded_model, sharded_x)

    # filter_pmap with nothing mapped: axis_size alone sets the number of devices, and
    # out_axes=None returns an unbatched array and a non-array as they are.
    def per_device():
        return jax.lax.axis_index("d") * 1.0, jnp.arange(2.0), "tag"

    pmapped = eqx.filter_pmap(
        per_device, in_axes=(), out_axes=(0, None, None), axis_name="d", axis_size=8
    )()

    print(json.dumps({
        "pmap_indices": pmapped[0].tolist(),
        "pmap_unbatched": pmapped[1].tolist(),
        "pmap_static": pmapped[2],
        "device_count": jax.device_count(),
        "weight_spec": str(sharded_model.weight.sharding.spec),
        "weight_shards": len(sharded_model.weight.addressable_shards),
        "weight_shard_shape": list(sharded_model.weight.addressable_shards[0].data.shape),
        "bias_replicated": sharded_model.bias.sharding.is_fully_replicated,
        "in_features": sharded_model.in_features,
        "x_spec": str(sharded_x.sharding.spec),
        "x_shard_shape": list(sharded_x.addressable_shards[0].data.shape),
        "out": out.tolist(),
        "out_one": out_one.tolist(),
        "out_spec": str(out.sharding.spec),
        "out_shard_shape": list(out.addressable_shards[0].data.shape),
        "out_one_devices": len(out_one.devices()),
        "same_again": bool((out == out_again).all()),
        "traces": len(traces),
        "grad_weight": grad.weight.tolist(),
        "x": x.tolist(),
    }))
    """
)


@pytest.fixture(scope="module")
def eight_devices() -> dict[str, Any]:
    env = dict(os.environ)
    env["XLA_FLAGS"] = (
        env.get("XLA_FLAGS", "") + " --xla_force_host_platform_device_count=8"
    ).strip()
    env["JAX_PLATFORMS"] = "cpu"
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(_ROOT), env.get("PYTHONPATH")]))
    result = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
        cwd=_ROOT,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return json.loads(result.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def test_filter_shard_places_model_and_batch(eight_devices: dict[str, Any]) -> None:
    r = eight_devices
    assert r["device_count"] == 8
    assert r["weight_spec"] == str(jax.sharding.PartitionSpec("model", None))
    assert r["weight_shards"] == 8 and r["weight_shard_shape"] == [2, 6]  # 4 rows / 2
    assert r["bias_replicated"] is True
    assert r["in_features"] == 6
    assert r["x_spec"] == str(jax.sharding.PartitionSpec("batch"))
    assert r["x_shard_shape"] == [2, 6]  # 8 rows / 4


def test_filter_jit_sharded_matches_single_device(eight_devices: dict[str, Any]) -> None:
    r = eight_devices
    out, out_one = np.array(r["out"]), np.array(r["out_one"])
    np.testing.assert_allclose(out, out_one, rtol=1e-6, atol=1e-6)
    assert r["out_one_devices"] == 1
    assert r["out_spec"] == str(jax.sharding.PartitionSpec("batch", "model"))
    assert r["out_shard_shape"] == [2, 2]
    assert r["same_again"]
    # Sharded and single-device inputs are different signatures: two traces, no more.
    assert r["traces"] == 2

    # And the numbers agree with this (one-device) process.
    from equinox_typed.nn._linear import Linear

    model = Linear(6, 4, key=jr.key(0))
    x = np.array(r["x"], dtype=np.float32)
    np.testing.assert_allclose(out, jax.vmap(model)(x), rtol=1e-5, atol=1e-6)
    ref_grad = jax.grad(lambda w: jnp.sum((x @ w.T + model.bias) ** 2))(model.weight)
    np.testing.assert_allclose(np.array(r["grad_weight"]), ref_grad, rtol=1e-4, atol=1e-5)


def test_filter_pmap_axis_size_without_mapped_inputs(eight_devices: dict[str, Any]) -> None:
    r = eight_devices
    assert r["pmap_indices"] == [float(i) for i in range(8)]  # one per device
    assert r["pmap_unbatched"] == [0.0, 1.0]
    assert r["pmap_static"] == "tag"
