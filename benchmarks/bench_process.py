"""(6) Import time and (7) peak memory, each measured in fresh subprocesses (a process
imports once, and its peak resident set size is a per-process figure)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from ._section import case, section, single
from ._timing import Budget, Timings

ROOT = Path(__file__).resolve().parents[1]


def _python(code: str) -> dict[str, Any]:
    """Run ``code`` in a fresh interpreter; it prints one JSON object as its last line."""
    env = dict(os.environ, PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu")
    proc = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=900
    )
    if proc.returncode != 0:
        raise RuntimeError(f"benchmark subprocess failed:\n{proc.stderr[-2000:]}")
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


_IMPORT = """
import json, time
start = time.perf_counter()
import {module}
print(json.dumps({{"seconds": time.perf_counter() - start}}))
"""


def import_time(budget: Budget, quick: bool) -> dict[str, Any]:
    modules = {"ours": "equinox_typed", "jax": "jax"}
    try:
        import equinox  # noqa: F401

        modules["equinox"] = "equinox"
    except ImportError:
        pass
    rounds = 2 if quick else 7
    times: dict[str, list[float]] = {name: [] for name in modules}
    for _ in range(rounds):  # interleaved
        for name, module in modules.items():
            times[name].append(_python(_IMPORT.format(module=module))["seconds"] * 1e3)
    ratios = {"ours / equinox": ("ours", "equinox"), "ours / jax": ("ours", "jax")}
    rows = [case("import in a fresh interpreter (includes jax)", Timings(times), ratios)]
    return section("Import time", "ms", rows)


_TRAIN = """
import json, resource
import jax, jax.numpy as jnp, optax
import equinox_typed as eqx
model = eqx.nn.MLP(1024, 1024, 2048, 3, key=jax.random.key(0))
optim = optax.adam(1e-3)
x, y = jnp.ones((64, 1024)), jnp.ones((64, 1024))
def loss(m, x, y):
    return jnp.mean((jax.vmap(m)(x) - y) ** 2)
if "{kind}" == "ours":
    @eqx.filter_jit
    def step(model, opt_state, x, y):
        value, grads = eqx.filter_value_and_grad(loss)(model, x, y)
        updates, opt_state = optim.update(grads, opt_state, eqx.filter(model, eqx.is_inexact_array))
        return eqx.apply_updates(model, updates), opt_state, value
    state = (model, optim.init(eqx.filter(model, eqx.is_inexact_array)))
else:
    params, static = eqx.partition(model, eqx.is_inexact_array)
    del model
    @jax.jit
    def step(params, opt_state, x, y):
        value, grads = jax.value_and_grad(lambda p: loss(eqx.combine(p, static), x, y))(params)
        updates, opt_state = optim.update(grads, opt_state, params)
        return optax.apply_updates(params, updates), opt_state, value
    state = (params, optim.init(params))
for _ in range({steps}):
    *state, value = step(*state, x, y)
jax.block_until_ready(value)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({{"peak_mb": peak}}))
"""

_AUDIT = """
import json, resource, time
import jax
import equinox_typed as eqx
def factory():
    k1, k2 = jax.random.split(jax.random.key(0))
    # Two Linear layers of 50,000 x 25,000 float32: 2 x 5 GB of parameters if built.
    return eqx.nn.Sequential([eqx.nn.Linear(25_000, 50_000, key=k1),
                              eqx.nn.Linear(50_000, 25_000, key=k2)])
start = time.perf_counter()
report = eqx.audit(factory)
seconds = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak, "ok": bool(report.ok)}))
"""


def peak_memory(budget: Budget, quick: bool) -> dict[str, Any]:
    rounds = 1 if quick else 3
    steps = 2 if quick else 5
    times: dict[str, list[float]] = {"ours": [], "jax.jit": []}
    for _ in range(rounds):
        for name, kind in (("ours", "ours"), ("jax.jit", "floor")):
            times[name].append(_python(_TRAIN.format(kind=kind, steps=steps))["peak_mb"])
    rows = [case("training step, MLP 1024-2048x3-1024 (14.7M params) + adam",
                 Timings(times), {"ours / jax.jit": ("ours", "jax.jit")})]
    import equinox_typed as eqx

    if hasattr(eqx, "audit"):
        audit = _python(_AUDIT)
        rows.append({
            "case": "eqx.audit of a factory whose parameters would take 10 GB",
            "values": {"peak MB": single(audit["peak_mb"]), "seconds": single(audit["seconds"])},
            "ratios": {},
        })
    return section("Peak resident memory", "MB", rows,
                   "Peak RSS of a fresh process (includes the JAX runtime itself).")
