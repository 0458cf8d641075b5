"""Training sharded over 8 devices: data parallel, model parallel, and a sharded checkpoint.

Run with ``python examples/data_parallel.py`` (about ten seconds). There is no need for 8
accelerators: the script asks XLA for 8 simulated CPU devices
(``XLA_FLAGS=--xla_force_host_platform_device_count=8``, set before JAX is imported), and
the same code runs unchanged on 8 GPUs or TPU cores.

``--mode data``: the batch is split across the devices along a ``"batch"`` mesh axis and
the parameters are replicated, with ``eqx.filter_shard`` (outside ``jit`` it places the
arrays; inside it constrains their layout); the ``eqx.filter_jit`` step is the ordinary
one, and XLA inserts the gradient all-reduce. The losses match a single-device run.

``--mode model``: a wide hidden layer's parameters are split across the devices along a
``"model"`` mesh axis (each device holds 1/8 of its rows). Shape checks at the
``filter_jit`` boundary see global shapes, not per-device shards: a wrongly shaped weight
is reported with its full size. The model is then saved with orbax-checkpoint (each
device writes its own shards, as each host would on a cluster) and restored onto a
different layout, a 2x4 mesh.

``--mode both`` (the default) runs the two in turn.
"""

from __future__ import annotations

import os

# Must happen before JAX is imported anywhere: the device count is fixed at start-up.
NUM_DEVICES = 8
os.environ["XLA_FLAGS"] = (
    os.environ.get("XLA_FLAGS", "") + f" --xla_force_host_platform_device_count={NUM_DEVICES}"
)

import argparse  # noqa: E402
import tempfile  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
import optax  # noqa: E402
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P  # noqa: E402
from jaxtyping import Array, Float, PRNGKeyArray  # noqa: E402

import equinox_typed as eqx  # noqa: E402

IN_SIZE, WIDE, BATCH = 16, 1024, 64


def make_data(key: PRNGKeyArray, n: int) -> tuple[Float[Array, "n 16"], Float[Array, " n"]]:
    xkey, wkey = jax.random.split(key)
    x = jax.random.normal(xkey, (n, IN_SIZE))
    return x, jnp.tanh(x @ jax.random.normal(wkey, (IN_SIZE,)))


def make_model(key: PRNGKeyArray) -> eqx.nn.MLP:
    # MLP(16 -> 1024 -> scalar): the 1024-wide layers are the ones worth splitting.
    return eqx.nn.MLP(IN_SIZE, "scalar", WIDE, depth=2, key=key)


def loss_fn(model: eqx.nn.MLP, x: Float[Array, "n 16"], y: Float[Array, " n"]) -> Float[Array, ""]:
    return jnp.mean((jax.vmap(model)(x) - y) ** 2)


def train(
    model: eqx.nn.MLP, batches: list[tuple[Array, Array]], model_sharding: Any, data_sharding: Any
) -> tuple[eqx.nn.MLP, list[float]]:
    """Plain Adam training; only the shardings say where things live."""
    optimiser = optax.adam(1e-3)
    model = eqx.filter_shard(model, model_sharding)
    opt_state = optimiser.init(eqx.filter(model, eqx.is_array))

    @eqx.filter_jit
    def step(
        model: eqx.nn.MLP, opt_state: optax.OptState, x: Float[Array, "n 16"], y: Float[Array, " n"]
    ) -> tuple[eqx.nn.MLP, optax.OptState, Float[Array, ""]]:
        # Constraints inside jit: XLA keeps this layout and adds the collectives needed.
        x, y = eqx.filter_shard((x, y), data_sharding)
        model = eqx.filter_shard(model, model_sharding)
        loss, grads = eqx.filter_value_and_grad(loss_fn)(model, x, y)
        updates, opt_state = optimiser.update(grads, opt_state)
        model = eqx.filter_shard(eqx.apply_updates(model, updates), model_sharding)
        return model, opt_state, loss

    losses = []
    for x, y in batches:
        x, y = eqx.filter_shard((x, y), data_sharding)  # place the data before the call
        model, opt_state, loss = step(model, opt_state, x, y)
        losses.append(float(loss))
    return model, losses


def single_device_run(model: eqx.nn.MLP, batches: list[tuple[Array, Array]]) -> tuple[eqx.nn.MLP, list[float]]:
    one = jax.devices()[0]
    return train(model, batches, one, one)


def data_parallel(model: eqx.nn.MLP, batches: list[tuple[Array, Array]]) -> None:
    mesh = Mesh(np.array(jax.devices()), ("batch",))
    replicated = NamedSharding(mesh, P())
    split_batch = NamedSharding(mesh, P("batch"))
    sharded, losses = train(model, batches, replicated, split_batch)
    _, reference = single_device_run(model, batches)
    x0 = eqx.filter_shard(batches[0][0], split_batch)
    print("== data parallel ==")
    print(f"batch {tuple(x0.shape)} split over {NUM_DEVICES} devices: {tuple(x0.addressable_shards[0].data.shape)} each")
    print(f"parameters replicated: {sharded.layers[0].weight.sharding.is_fully_replicated}")
    print(f"losses: first {losses[0]:.6f}, last {losses[-1]:.6f}")
    gap = max(abs(a - b) / max(abs(b), 1e-12) for a, b in zip(losses, reference, strict=True))
    print(f"data-parallel vs single-device losses: max relative difference {gap:.2e}")


def model_shardings(model: eqx.nn.MLP, mesh: Mesh, axis: str | tuple[str, ...]) -> eqx.nn.MLP:
    """A sharding per array of ``model``: the wide layers' rows (or columns) split along
    ``axis``, everything else replicated. The result has the model's own shape."""
    spec = jax.tree_util.tree_map(lambda _: NamedSharding(mesh, P()), eqx.filter(model, eqx.is_array))
    return eqx.tree_at(
        lambda m: (m.layers[0].weight, m.layers[0].bias, m.layers[-1].weight),
        spec,
        # layer 0 is (WIDE, IN): split its output rows; the last layer is (1, WIDE): split
        # its input columns, so the hidden activations never need gathering in between.
        replace=(
            NamedSharding(mesh, P(axis, None)),
            NamedSharding(mesh, P(axis)),
            NamedSharding(mesh, P(None, axis)),
        ),
    )


def model_parallel(model: eqx.nn.MLP, batches: list[tuple[Array, Array]], checkpoint_dir: Path) -> None:
    mesh = Mesh(np.array(jax.devices()), ("model",))
    shardings = model_shardings(model, mesh, "model")
    replicated = NamedSharding(mesh, P())
    sharded, losses = train(model, batches, shardings, replicated)
    _, reference = single_device_run(model, batches)
    weight = sharded.layers[0].weight
    print("== model parallel ==")
    print(f"layers[0].weight: global {eqx.tree_pformat(weight)}, "
          f"per device {tuple(weight.addressable_shards[0].data.shape)} on {len(weight.addressable_shards)} devices")
    gap = max(abs(a - b) / max(abs(b), 1e-12) for a, b in zip(losses, reference, strict=True))
    print(f"model-parallel vs single-device losses: max relative difference {gap:.2e}")

    # A wrong shape in a sharded model is reported with its global shape.
    bad = eqx.tree_at(lambda m: m.layers[0].weight, sharded, jnp.zeros((WIDE, IN_SIZE + 1)))
    bad = eqx.filter_shard(bad, eqx.tree_at(lambda s: s.layers[0].weight, shardings, NamedSharding(mesh, P("model", None))))
    try:
        eqx.filter_jit(loss_fn)(bad, *batches[0])
    except eqx.TypeCheckError as error:
        print("a sharded wrong weight, caught at the filter_jit boundary:")
        print("  " + str(error).replace("\n", "\n  "))
    else:
        raise AssertionError("the wrongly shaped sharded weight was not caught")

    sharded_checkpoint(sharded, checkpoint_dir, batches[0])


def sharded_checkpoint(model: eqx.nn.MLP, directory: Path, batch: tuple[Array, Array]) -> None:
    """Save a model-parallel model with orbax-checkpoint, restore it onto a 2x4 mesh."""
    import orbax.checkpoint as ocp

    params, static = eqx.partition(model, eqx.is_array)
    path = (directory / "sharded_mlp").resolve()
    with ocp.StandardCheckpointer() as checkpointer:
        checkpointer.save(path, params, force=True)

    # The new layout: a 2x4 mesh, the wide layers split 4 ways along "model" and
    # replicated across the 2 "data" rows. The restore target is abstract: shapes,
    # dtypes and the shardings wanted, built without running any initialisation.
    mesh = Mesh(np.array(jax.devices()).reshape(2, 4), ("data", "model"))
    new_shardings = model_shardings(model, mesh, "model")
    abstract = eqx.filter_eval_shape(make_model, jax.random.key(0))
    skeleton = eqx.filter(abstract, lambda leaf: isinstance(leaf, jax.ShapeDtypeStruct))
    target = jax.tree_util.tree_map(
        lambda leaf, sharding: jax.ShapeDtypeStruct(leaf.shape, leaf.dtype, sharding=sharding),
        skeleton,
        new_shardings,
    )
    with ocp.StandardCheckpointer() as checkpointer:
        restored_params = checkpointer.restore(path, target)
    restored = eqx.combine(restored_params, static)

    weight = restored.layers[0].weight
    same = all(
        bool(jnp.array_equal(a, b))
        for a, b in zip(jax.tree_util.tree_leaves(params), jax.tree_util.tree_leaves(restored_params), strict=True)
    )
    print("== sharded checkpoint (orbax-checkpoint) ==")
    print(f"saved from a mesh of {NUM_DEVICES}, restored onto {dict(mesh.shape)}: "
          f"layers[0].weight per device {tuple(weight.addressable_shards[0].data.shape)}, spec {weight.sharding.spec}")
    print(f"restored parameters equal the saved ones: {same}")
    # The restored model audited: every parameter against its annotation (global shapes),
    # and one example's forward pass traced abstractly.
    report = eqx.audit(restored, inputs=f"f32[{IN_SIZE}]")
    print(report)
    loss_before = float(eqx.filter_jit(loss_fn)(model, *batch))
    loss_after = float(eqx.filter_jit(loss_fn)(restored, *batch))
    print(f"loss before saving {loss_before:.6f}, after restoring {loss_after:.6f}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--mode", choices=("data", "model", "both"), default="both")
    parser.add_argument("--steps", type=int, default=None, help="training steps (default 50, 10 with --quick)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=None, help="checkpoint directory (default: a temporary one)")
    parser.add_argument("--quick", action="store_true", help="a short run for CI")
    args = parser.parse_args(argv)
    steps = args.steps or (10 if args.quick else 50)
    assert jax.device_count() == NUM_DEVICES, jax.devices()

    model_key, data_key = jax.random.split(jax.random.key(args.seed))
    model = make_model(model_key)
    batches = [make_data(k, BATCH) for k in jax.random.split(data_key, steps)]
    if args.mode in ("data", "both"):
        data_parallel(model, batches)
    if args.mode in ("model", "both"):
        if args.out is not None:
            model_parallel(model, batches, args.out)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                model_parallel(model, batches, Path(tmp))


if __name__ == "__main__":
    main()
