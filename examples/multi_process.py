"""Data-parallel training across processes joined with ``jax.distributed.initialize``.

Run with ``python examples/multi_process.py`` (about twenty seconds). The script starts
``--num-processes`` worker processes (default 2) on this machine, joined over loopback
(``127.0.0.1``) with CPU collectives (gloo). Each worker is one JAX *process* with one
device, exactly as each host of a cluster is; together they see one global device mesh.
Every worker loads only its own slice of each global batch
(``jax.make_array_from_process_local_data``), the parameters are replicated, and the
``eqx.filter_jit`` training step is the same one a single process would run: XLA adds the
cross-process gradient all-reduce.

The launcher then trains the same model on the whole batches in one process and checks
that the final parameters match.

On a real cluster nothing changes in the worker: run, on every host,

    python examples/multi_process.py --worker --process-id RANK \\
        --num-processes WORLD --coordinator HOST0:PORT

(or call ``jax.distributed.initialize()`` with no arguments under SLURM, Open MPI or on
Cloud TPU, where JAX reads these from the environment), with one or more accelerators
per host instead of a CPU device.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
from jaxtyping import Array, Float, PRNGKeyArray

import equinox_typed as eqx

IN_SIZE, WIDTH, GLOBAL_BATCH = 16, 64, 64


def make_model(key: PRNGKeyArray) -> eqx.nn.MLP:
    return eqx.nn.MLP(IN_SIZE, "scalar", WIDTH, depth=2, key=key)


def global_batches(seed: int, steps: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """The same global batches in every process (each keeps only its slice)."""
    rng = np.random.default_rng(seed)
    teacher = rng.normal(size=IN_SIZE).astype(np.float32)
    batches = []
    for _ in range(steps):
        x = rng.normal(size=(GLOBAL_BATCH, IN_SIZE)).astype(np.float32)
        batches.append((x, np.tanh(x @ teacher).astype(np.float32)))
    return batches


def loss_fn(model: eqx.nn.MLP, x: Float[Array, "n 16"], y: Float[Array, " n"]) -> Float[Array, ""]:
    return jnp.mean((jax.vmap(model)(x) - y) ** 2)


def train(
    model: eqx.nn.MLP, batches: list[tuple[Array, Array]], replicated: NamedSharding | jax.Device
) -> tuple[eqx.nn.MLP, list[Array]]:
    optimiser = optax.sgd(0.05, momentum=0.9)
    model = eqx.filter_shard(model, replicated)
    opt_state = optimiser.init(eqx.filter(model, eqx.is_array))

    @eqx.filter_jit
    def step(
        model: eqx.nn.MLP, opt_state: optax.OptState, x: Float[Array, "n 16"], y: Float[Array, " n"]
    ) -> tuple[eqx.nn.MLP, optax.OptState, Float[Array, ""]]:
        loss, grads = eqx.filter_value_and_grad(loss_fn)(model, x, y)
        updates, opt_state = optimiser.update(grads, opt_state)
        return eqx.filter_shard(eqx.apply_updates(model, updates), replicated), opt_state, loss

    losses = []
    for x, y in batches:
        model, opt_state, loss = step(model, opt_state, x, y)
        losses.append(loss)
    return model, losses


def local(a: Array) -> np.ndarray:
    """This process's copy of a replicated array (the global array spans processes)."""
    return np.asarray(a.addressable_data(0))


def worker(args: argparse.Namespace) -> None:
    jax.config.update("jax_cpu_collectives_implementation", "gloo")
    jax.distributed.initialize(args.coordinator, args.num_processes, args.process_id)
    mesh = Mesh(np.array(jax.devices()), ("batch",))
    replicated = NamedSharding(mesh, P())
    split = NamedSharding(mesh, P("batch"))
    per_process = GLOBAL_BATCH // jax.process_count()
    mine = slice(jax.process_index() * per_process, (jax.process_index() + 1) * per_process)

    batches = [
        (jax.make_array_from_process_local_data(split, x[mine]), jax.make_array_from_process_local_data(split, y[mine]))
        for x, y in global_batches(args.seed, args.steps)
    ]
    model, losses = train(make_model(jax.random.key(args.seed)), batches, replicated)
    print(
        f"process {jax.process_index()}/{jax.process_count()}: {len(jax.local_devices())} local of "
        f"{jax.device_count()} devices, batch slice {tuple(batches[0][0].addressable_data(0).shape)} "
        f"of {tuple(batches[0][0].shape)}, final loss {float(local(losses[-1])):.6f}",
        flush=True,
    )
    if jax.process_index() == 0:
        leaves = jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_array))
        np.savez(args.out / "params.npz", *[local(a) for a in leaves], losses=np.array([local(l) for l in losses]))
    jax.distributed.shutdown()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def launch(args: argparse.Namespace) -> None:
    if GLOBAL_BATCH % args.num_processes:
        raise SystemExit(f"--num-processes must divide the global batch ({GLOBAL_BATCH})")
    with tempfile.TemporaryDirectory() as tmp:
        command = [
            sys.executable, __file__, "--worker", "--num-processes", str(args.num_processes),
            "--coordinator", f"127.0.0.1:{free_port()}", "--steps", str(args.steps),
            "--seed", str(args.seed), "--out", tmp,
        ]  # fmt: skip
        workers = [subprocess.Popen([*command, "--process-id", str(i)]) for i in range(args.num_processes)]
        # Meanwhile the reference: one process, one device, the whole batches.
        batches = [(jnp.asarray(x), jnp.asarray(y)) for x, y in global_batches(args.seed, args.steps)]
        reference, reference_losses = train(make_model(jax.random.key(args.seed)), batches, jax.devices()[0])
        codes = [w.wait(timeout=600) for w in workers]
        if any(codes):
            raise SystemExit(f"a worker failed: exit codes {codes}")
        saved = np.load(Path(tmp) / "params.npz")
        distributed_losses = saved["losses"]
        distributed_params = [saved[f"arr_{i}"] for i in range(len(saved.files) - 1)]

    reference_params = [np.asarray(a) for a in jax.tree_util.tree_leaves(eqx.filter(reference, eqx.is_array))]
    param_gap = max(float(np.max(np.abs(a - b))) for a, b in zip(distributed_params, reference_params, strict=True))
    loss_gap = float(np.max(np.abs(distributed_losses - np.array([float(l) for l in reference_losses]))))
    print(f"{args.num_processes} processes vs 1 process after {args.steps} steps:")
    print(f"  losses: first {float(distributed_losses[0]):.6f}, last {float(distributed_losses[-1]):.6f}; "
          f"max difference {loss_gap:.2e}")
    print(f"  final parameters: max difference {param_gap:.2e} over {sum(a.size for a in reference_params)} values")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--num-processes", type=int, default=2, help="how many processes (default 2)")
    parser.add_argument("--steps", type=int, default=None, help="training steps (default 100, 20 with --quick)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="a short run for CI")
    parser.add_argument("--worker", action="store_true", help="run as one worker (set by the launcher, or by you on a cluster)")
    parser.add_argument("--process-id", type=int, default=0, help="this worker's rank")
    parser.add_argument("--coordinator", default=None, help="HOST:PORT of process 0's coordinator service")
    parser.add_argument("--out", type=Path, default=Path("."), help="where process 0 writes its final parameters")
    args = parser.parse_args(argv)
    args.steps = args.steps or (20 if args.quick else 100)
    if args.num_processes < 1:
        parser.error("--num-processes must be positive")
    if args.worker:
        worker(args)
    else:
        launch(args)


if __name__ == "__main__":
    main()
