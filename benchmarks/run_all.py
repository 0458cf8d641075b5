"""The benchmark suite: what equinox_typed costs, side by side with jax.jit and Equinox.

``python -m benchmarks`` (or ``python benchmarks/run_all.py``) runs every measurement
(about ten minutes on two cores), writes ``benchmarks/results.json`` and ``BENCHMARKS.md``,
and prints the targets. ``--quick`` runs small versions of everything in about a minute
(CI uses it to prove the suite runs; its numbers are noisy and it writes nothing unless
``--out``/``--markdown`` are given). ``--compare OLD.json`` prints every ratio that got
worse than in an earlier run. ``--only NAME`` runs some sections.

Measurements are never pass/fail tests: targets are reported, not enforced.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import sys
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `benchmarks` importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    __package__ = "benchmarks"

from benchmarks import (  # noqa: E402
    bench_checking,
    bench_compile,
    bench_dispatch,
    bench_process,
    bench_trees,
    report,
)
from benchmarks._timing import Budget  # noqa: E402

HERE = Path(__file__).resolve().parent
SECTIONS: dict[str, Callable[[Budget, bool], dict[str, Any]]] = {
    "call_overhead": bench_dispatch.call_overhead,
    "training_step": bench_dispatch.training_step,
    "first_call": bench_compile.first_call,
    "construction": bench_checking.construction,
    "layer_call": bench_checking.layer_call,
    "mode_switch": bench_checking.mode_switch_traces,
    "tree_operations": bench_trees.tree_operations,
    "import_time": bench_process.import_time,
    "peak_memory": bench_process.peak_memory,
}


def _version(name: str) -> str | None:
    try:
        return version(name)
    except PackageNotFoundError:
        return None


def _machine() -> str:
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{model}, {os.cpu_count()} cores, {platform.system()}"


def _write_markdown(results: dict[str, Any], path: Path) -> None:
    """The report: the tables of ``results`` and the hand-written analysis after them."""
    commentary = (HERE / "commentary.md").read_text() if (HERE / "commentary.md").exists() else ""
    path.write_text(report.markdown(results, list(SECTIONS), commentary))
    print(f"wrote {path}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small, fast versions (smoke test)")
    parser.add_argument("--only", action="append", choices=sorted(SECTIONS), help="run only these sections")
    parser.add_argument("--out", type=Path, help="results JSON (default benchmarks/results.json; none with --quick)")
    parser.add_argument("--markdown", type=Path, help="report (default BENCHMARKS.md; none with --quick)")
    parser.add_argument("--compare", type=Path, help="an earlier results JSON: print what got slower")
    parser.add_argument("--rewrite", action="store_true",
                        help="measure nothing: rewrite BENCHMARKS.md from results.json and commentary.md")
    args = parser.parse_args(argv)
    if args.rewrite:
        _write_markdown(json.loads((HERE / "results.json").read_text()), HERE.parent / "BENCHMARKS.md")
        return 0
    if not args.quick:
        args.out = args.out or HERE / "results.json"
        args.markdown = args.markdown or HERE.parent / "BENCHMARKS.md"
    budget = Budget(rounds=3, scale=0.05) if args.quick else Budget(rounds=15, scale=1.0)

    import jax

    meta = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": _machine(),
        "load": " / ".join(f"{x:.1f}" for x in os.getloadavg()),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "equinox_typed": _version("equinox_typed"),
        "equinox": _version("equinox"),
        "optax": _version("optax"),
        "quick": args.quick,
        "rounds": budget.rounds,
    }
    print(f"{meta['machine']}; python {meta['python']}, jax {meta['jax']}, equinox {meta['equinox']}")
    results: dict[str, Any] = {"meta": meta}
    for key, bench in SECTIONS.items():
        if args.only and key not in args.only:
            continue
        results[key] = bench(budget, args.quick)
        print(f"\n## {results[key]['title']}")
        print("\n".join(report.section_table(results[key])))

    results["targets"] = report.targets(results)
    print("\n## Targets")
    for row in results["targets"]:
        value = "n/a" if row["value"] is None else f"{row['value']:.3f}"
        print(f"  {report.verdict(row):4}  {row['name']:<78} {value:>8} (goal {row['op']} {row['threshold']})")

    if args.out:
        args.out.write_text(json.dumps(results, indent=1) + "\n")
        print(f"\nwrote {args.out}")
    if args.markdown:
        _write_markdown(results, args.markdown)
    if args.compare:
        worse = report.compare(json.loads(args.compare.read_text()), results)
        print(f"\nCompared with {args.compare}: " + ("nothing got slower" if not worse else f"{len(worse)} got slower"))
        for line in worse:
            print(f"  slower: {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
