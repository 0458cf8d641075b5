"""The benchmark suite: equinox_typed's overheads side by side with jax.jit and Equinox.

Run ``python benchmarks/run_all.py`` (about a minute) or ``--quick`` (a few seconds, for
smoke tests; its numbers are noisier). It prints one table per measurement, the ratios
and a PASS/FAIL line per target, and writes everything to ``benchmarks/results.json``
(or ``--out PATH``).

Measurements (microseconds per call; best of interleaved rounds, so that load from
other processes on a shared machine hits every variant alike):

- ``jit_call``: a cached call of the same MLP (3 ``Linear`` layers, width 32) through
  ``equinox_typed.filter_jit`` (checks "eager" and "off"), through ``jax.jit`` on
  parameters partitioned beforehand (the floor: no filtering at all) and through
  ``equinox.filter_jit``.
- ``construction``: building a Linear-like Module from existing arrays: ours with checks
  on (signature already seen, and first time a signature is seen) and off, against an
  Equinox Module without checks and with ``jaxtyped(typechecker=beartype)``.
- ``linear_call``: an eager (un-jitted) ``eqx.nn.Linear`` call, checks on vs off, with
  ``equinox.nn.Linear`` for reference.
- ``grad``: the gradient of an MLP regression loss, jitted and cached
  (``filter_jit(filter_grad(loss))``) and eager (``filter_grad(loss)``), ours against
  Equinox, with ``jax.jit(jax.grad(...))`` on pre-partitioned parameters as the floor.

Equinox is a benchmark-only peer: without it the Equinox columns are skipped (and
"equinox not installed" is printed).
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
from beartype import beartype
from jaxtyping import Array, Float, jaxtyped

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
import equinox_typed as eqx  # noqa: E402

try:
    import equinox
except ImportError:
    equinox = None

IN, WIDTH, DEPTH, OUT, BATCH = 8, 32, 2, 4, 32
RESULTS = Path(__file__).resolve().with_name("results.json")


# --- timing -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Variant:
    """One thing to time: ``fn`` is called with no arguments under check mode ``mode``."""

    fn: Callable[[], Any]
    mode: str = "eager"


@dataclass(frozen=True)
class Budget:
    rounds: int
    scale: float  # multiplies each section's calls per round


def best_of(variants: dict[str, Variant], budget: Budget, number: int) -> dict[str, float]:
    """Best per-call time of each variant in microseconds. Each round times every
    variant once, in turn, so they share the machine's load; the check mode is set
    around each timing (not inside it), so switching costs nothing measured."""
    number = max(1, int(number * budget.scale))
    previous = eqx.get_checks()
    best = {name: float("inf") for name in variants}
    try:
        for name, v in variants.items():  # warm up: compile, fill caches
            eqx.set_checks(v.mode)  # type: ignore[arg-type]
            v.fn()
            v.fn()
        for _ in range(budget.rounds):
            for name, v in variants.items():
                eqx.set_checks(v.mode)  # type: ignore[arg-type]
                best[name] = min(best[name], _time_calls(v.fn, number))
    finally:
        eqx.set_checks(previous)
    return best


def _time_calls(fn: Callable[[], Any], number: int) -> float:
    """Microseconds per call of ``number`` calls of ``fn``, including the wait for the
    last result: JAX dispatches asynchronously, and a timing that stopped at the last
    dispatch would leave queued work unmeasured. Not waiting after *each* call keeps
    the measurement about dispatch overhead, as in a training loop."""
    start = time.perf_counter()
    for _ in range(number - 1):
        fn()
    jax.block_until_ready(fn())
    return (time.perf_counter() - start) / number * 1e6


# --- the models ------------------------------------------------------------------------


def our_mlp() -> eqx.nn.MLP:
    return eqx.nn.MLP(IN, OUT, width_size=WIDTH, depth=DEPTH, key=jax.random.key(0))


def their_mlp() -> Any:
    assert equinox is not None
    return equinox.nn.MLP(IN, OUT, width_size=WIDTH, depth=DEPTH, key=jax.random.key(0))


def mse(model: Any, x: Float[Array, "batch n"], y: Float[Array, "batch m"]) -> Float[Array, ""]:
    return jnp.mean((jax.vmap(model)(x) - y) ** 2)


# --- (a) cached filter_jit call --------------------------------------------------------


def bench_jit_call(budget: Budget) -> dict[str, Any]:
    x = jnp.ones(IN)
    model = our_mlp()
    ours = eqx.filter_jit(lambda m, x: m(x))
    params, static = eqx.partition(model, eqx.is_array)
    floor = jax.jit(lambda p, x: eqx.combine(p, static)(x))
    variants = {
        "ours filter_jit (checks eager)": Variant(lambda: ours(model, x)),
        "ours filter_jit (checks off)": Variant(lambda: ours(model, x), "off"),
        "jax.jit on pre-partitioned params": Variant(lambda: floor(params, x)),
    }
    if equinox is not None:
        theirs_model = their_mlp()
        theirs = equinox.filter_jit(lambda m, x: m(x))
        variants["equinox.filter_jit"] = Variant(lambda: theirs(theirs_model, x))
    times = best_of(variants, budget, number=300)
    ratios = {"ours / jax.jit": times["ours filter_jit (checks eager)"] / times["jax.jit on pre-partitioned params"]}
    if equinox is not None:
        ratios["ours / equinox"] = times["ours filter_jit (checks eager)"] / times["equinox.filter_jit"]
    return {"us_per_call": times, "ratios": ratios}


# --- (b) Module construction -----------------------------------------------------------


class FromArrays(eqx.Module):
    weight: Float[Array, "out_features in_features"]
    bias: Float[Array, " out_features"]
    in_features: int = eqx.field(static=True)
    out_features: int = eqx.field(static=True)


def forget_checked_signatures(cls: type) -> None:
    """Empty the memo of signatures that ``cls``'s field check has passed, so that the
    next construction pays for a full check (as the first instance of a shape does).
    Reaches into a private attribute: a benchmark-only device."""
    plan = cls.__dict__.get("_eqx_plan")
    if plan is not None:
        plan.memo._seen.clear()


def bench_construction(budget: Budget) -> dict[str, Any]:
    w, b = jnp.ones((WIDTH, IN)), jnp.ones(WIDTH)

    def first_time() -> FromArrays:
        forget_checked_signatures(FromArrays)
        return FromArrays(w, b, IN, WIDTH)

    variants = {
        "ours (checks eager, signature seen)": Variant(lambda: FromArrays(w, b, IN, WIDTH)),
        "ours (checks eager, first of its signature)": Variant(first_time),
        "ours (checks off)": Variant(lambda: FromArrays(w, b, IN, WIDTH), "off"),
    }
    if equinox is not None:

        def eqx_class() -> Any:
            class EqxFromArrays(equinox.Module):
                weight: Float[Array, "out_features in_features"]
                bias: Float[Array, " out_features"]
                in_features: int = equinox.field(static=True)
                out_features: int = equinox.field(static=True)

            return EqxFromArrays

        # Two distinct classes: jaxtyped decorates a dataclass *in place* (it returns
        # the same class with a checking __init__), so one class cannot serve as both.
        EqxFromArrays = eqx_class()
        checked = jaxtyped(typechecker=beartype)(eqx_class())
        variants["equinox (no checks)"] = Variant(lambda: EqxFromArrays(w, b, IN, WIDTH))
        variants["equinox + jaxtyped(beartype)"] = Variant(lambda: checked(w, b, IN, WIDTH))
    times = best_of(variants, budget, number=300)
    off = times["ours (checks off)"]
    ratios = {
        "ours checked / unchecked": times["ours (checks eager, signature seen)"] / off,
        "ours checked first time / unchecked": times["ours (checks eager, first of its signature)"] / off,
    }
    if equinox is not None:
        ratios["equinox jaxtyped / plain"] = (
            times["equinox + jaxtyped(beartype)"] / times["equinox (no checks)"]
        )
        ratios["ours unchecked / equinox plain"] = off / times["equinox (no checks)"]
    return {"us_per_call": times, "ratios": ratios}


# --- (c) eager nn.Linear call ----------------------------------------------------------


def bench_linear_call(budget: Budget) -> dict[str, Any]:
    x = jnp.ones(IN)
    linear = eqx.nn.Linear(IN, WIDTH, key=jax.random.key(0))
    variants = {
        "ours nn.Linear (checks eager)": Variant(lambda: linear(x)),
        "ours nn.Linear (checks off)": Variant(lambda: linear(x), "off"),
    }
    if equinox is not None:
        theirs = equinox.nn.Linear(IN, WIDTH, key=jax.random.key(0))
        variants["equinox nn.Linear"] = Variant(lambda: theirs(x))
    times = best_of(variants, budget, number=200)
    ratios = {"ours checked / unchecked": times["ours nn.Linear (checks eager)"] / times["ours nn.Linear (checks off)"]}
    if equinox is not None:
        ratios["ours checked / equinox"] = times["ours nn.Linear (checks eager)"] / times["equinox nn.Linear"]
    return {"us_per_call": times, "ratios": ratios}


# --- (d) filter_grad of an MLP loss ----------------------------------------------------


def bench_grad(budget: Budget) -> dict[str, Any]:
    x = jax.random.normal(jax.random.key(1), (BATCH, IN))
    y = jax.random.normal(jax.random.key(2), (BATCH, OUT))
    model = our_mlp()
    ours_jit = eqx.filter_jit(eqx.filter_grad(mse))
    ours_eager = eqx.filter_grad(mse)
    params, static = eqx.partition(model, eqx.is_array)
    floor = jax.jit(jax.grad(lambda p, x, y: mse(eqx.combine(p, static), x, y)))
    jitted = {
        "ours filter_jit(filter_grad) (checks eager)": Variant(lambda: ours_jit(model, x, y)),
        "jax.jit(jax.grad) on pre-partitioned params": Variant(lambda: floor(params, x, y)),
    }
    eager = {"ours filter_grad, eager": Variant(lambda: ours_eager(model, x, y))}
    if equinox is not None:
        theirs_model = their_mlp()
        theirs_jit = equinox.filter_jit(equinox.filter_grad(mse))
        theirs_eager = equinox.filter_grad(mse)
        jitted["equinox filter_jit(filter_grad)"] = Variant(lambda: theirs_jit(theirs_model, x, y))
        eager["equinox filter_grad, eager"] = Variant(lambda: theirs_eager(theirs_model, x, y))
    times = best_of(jitted, budget, number=300)
    # Eager differentiation dispatches every primitive separately: milliseconds a call.
    times |= best_of(eager, Budget(max(2, budget.rounds // 3), budget.scale), number=10)
    ours = times["ours filter_jit(filter_grad) (checks eager)"]
    ratios = {"ours jitted / jax.jit(jax.grad)": ours / times["jax.jit(jax.grad) on pre-partitioned params"]}
    if equinox is not None:
        ratios["ours jitted / equinox jitted"] = ours / times["equinox filter_jit(filter_grad)"]
        ratios["ours eager / equinox eager"] = (
            times["ours filter_grad, eager"] / times["equinox filter_grad, eager"]
        )
    return {"us_per_call": times, "ratios": ratios}


# --- targets and report ----------------------------------------------------------------


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The performance targets, each with its measured value and verdict (None: skipped
    because Equinox is not installed)."""
    jit_ratios = results["jit_call"]["ratios"]
    cons = results["construction"]["ratios"]
    rows: list[dict[str, Any]] = [
        {"name": "cached filter_jit call: ours / jax.jit <= 1.3",
         "value": jit_ratios["ours / jax.jit"], "threshold": 1.3},
        {"name": "cached filter_jit call: ours / equinox.filter_jit <= 0.6",
         "value": jit_ratios.get("ours / equinox"), "threshold": 0.6},
        # The issue: checking should cost "well under" the ~2.5x that jaxtyped(beartype)
        # costs an Equinox Module. Made concrete: our checked/unchecked ratio at most 0.8x
        # of Equinox's jaxtyped/plain ratio measured in the same run.
        {"name": "construction: ours checked/unchecked <= 0.8 x equinox jaxtyped/plain",
         "value": (cons["ours checked / unchecked"] / cons["equinox jaxtyped / plain"]
                   if "equinox jaxtyped / plain" in cons else None),
         "threshold": 0.8},
    ]
    for row in rows:
        row["passed"] = None if row["value"] is None else row["value"] <= row["threshold"]
    # Context for the construction target, without a verdict: the absolute costs. Our
    # unchecked construction is far cheaper than Equinox's, which inflates our ratio.
    us = results["construction"]["us_per_call"]
    if "equinox + jaxtyped(beartype)" in us:
        rows.append({"name": "info: construction, ours checked / equinox + jaxtyped",
                     "value": us["ours (checks eager, signature seen)"] / us["equinox + jaxtyped(beartype)"],
                     "threshold": None, "passed": None})
        rows.append({"name": "info: construction, ours checked / equinox unchecked",
                     "value": us["ours (checks eager, signature seen)"] / us["equinox (no checks)"],
                     "threshold": None, "passed": None})
    return rows


def print_section(title: str, section: dict[str, Any]) -> None:
    print(f"\n{title} (us per call)")
    for name, t in section["us_per_call"].items():
        print(f"  {name:<46} {t:10.2f}")
    for name, r in section["ratios"].items():
        print(f"  ratio {name:<40} {r:10.2f}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="few, short rounds (smoke test)")
    parser.add_argument("--out", type=Path, default=RESULTS, help="where to write the JSON")
    args = parser.parse_args(argv)
    budget = Budget(rounds=3, scale=0.1) if args.quick else Budget(rounds=15, scale=1.0)

    meta = {
        "python": platform.python_version(),
        "jax": jax.__version__,
        "equinox": None if equinox is None else equinox.__version__,
        "backend": jax.default_backend(),
        "quick": args.quick,
        "rounds": budget.rounds,
    }
    print(f"jax {meta['jax']} ({meta['backend']}), python {meta['python']}, "
          f"{'quick' if args.quick else 'full'} run, best of {budget.rounds} interleaved rounds")
    if equinox is None:
        print("equinox not installed: its columns and targets are skipped")
    else:
        print(f"equinox {meta['equinox']}")

    results: dict[str, Any] = {"meta": meta}
    sections = [
        ("jit_call", f"(a) cached call, MLP of {DEPTH + 1} Linear layers (width {WIDTH})", bench_jit_call),
        ("construction", "(b) Module construction (Linear-like, from existing arrays)", bench_construction),
        ("linear_call", f"(c) eager nn.Linear({IN}, {WIDTH}) call", bench_linear_call),
        ("grad", f"(d) gradient of an MLP MSE loss, batch {BATCH}", bench_grad),
    ]
    for key, title, bench in sections:
        results[key] = bench(budget)
        print_section(title, results[key])

    results["targets"] = targets(results)
    print("\nTargets")
    for row in results["targets"]:
        verdict = "INFO" if row["threshold"] is None else {True: "PASS", False: "FAIL", None: "SKIP"}[row["passed"]]
        value = "n/a" if row["value"] is None else f"{row['value']:.2f}"
        print(f"  {verdict}  {row['name']:<68} measured {value}")

    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
