"""Targets, the BENCHMARKS.md report, and comparison of two results files."""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterator
from typing import Any

Results = dict[str, Any]
_OPS: dict[str, Callable[[float, float], bool]] = {"<=": operator.le, ">=": operator.ge, "==": operator.eq}


def _ratio_medians(results: Results, key: str, ratio: str) -> Iterator[tuple[str, float]]:
    for row in results.get(key, {}).get("cases", []):
        if ratio in row["ratios"]:
            yield row["case"], row["ratios"][ratio]["median"]


def _value(results: Results, key: str, case_prefix: str, value: str) -> float | None:
    for row in results.get(key, {}).get("cases", []):
        if row["case"].startswith(case_prefix) and value in row["values"]:
            return float(row["values"][value]["median"])
    return None


def targets(results: Results) -> list[dict[str, Any]]:
    """Every target of the suite with its measured value and verdict (``passed`` is
    None when the figure was not measured, e.g. without Equinox installed)."""
    rows: list[dict[str, Any]] = []

    def add(name: str, value: float | None, op: str, threshold: float) -> None:
        passed = None if value is None else _OPS[op](value, threshold)
        rows.append({"name": name, "value": value, "op": op, "threshold": threshold, "passed": passed})

    def each(key: str, ratio: str, op: str, threshold: float, what: str) -> None:
        found = list(_ratio_medians(results, key, ratio))
        for case_name, value in found:
            add(f"{what}, {case_name}: {ratio}", value, op, threshold)
        if not found:
            add(f"{what}: {ratio}", None, op, threshold)

    each("call_overhead", "ours / jax.jit", "<=", 1.2, "cached call")
    each("call_overhead", "ours / equinox", "<=", 0.5, "cached call")
    each("call_overhead", "checks on / off", "<=", 1.05, "cached call")
    each("training_step", "ours / jax.jit", "<=", 1.1, "training step")
    each("training_step", "ours / equinox", "<=", 1.0, "training step")
    each("first_call", "ours / equinox", "<=", 1.0, "first call")
    each("first_call", "unrolled / scanned", ">=", 2.0, "first call")
    firsts = list(_ratio_medians(results, "first_call", "ours / jax.jit"))
    if len(firsts) >= 2:
        # Linear boundary checks: our extra first-call cost grows no faster than the
        # model (the ratio to plain jax.jit stays flat from the smallest to the largest).
        add("first call: (ours/jax.jit at largest) / (at smallest) depth",
            firsts[-1][1] / firsts[0][1], "<=", 1.25)
    each("construction", "ours checked / unchecked", "<=", 1.5, "construction")
    each("construction", "ours / equinox", "<=", 1.0, "construction")
    traces = _value(results, "mode_switch", "", "traces")
    add("switching modes/backends: traces of one function", traces, "==", 1.0)
    each("tree_operations", "ours / equinox", "<=", 1.0, "trees")
    each("import_time", "ours / equinox", "<=", 1.0, "import")
    each("peak_memory", "ours / jax.jit", "<=", 1.05, "peak memory")
    audit_s = _value(results, "peak_memory", "eqx.audit", "seconds")
    audit_mb = _value(results, "peak_memory", "eqx.audit", "peak MB")
    add("eqx.audit of a 10 GB model: seconds", audit_s, "<=", 30.0)
    add("eqx.audit of a 10 GB model: peak MB", audit_mb, "<=", 2048.0)
    return rows


def _fmt(x: float) -> str:
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    return f"{x:.2f}"


def _cell(summary: dict[str, float] | None) -> str:
    if summary is None:
        return ""
    if summary["min"] == summary["max"]:
        return _fmt(summary["median"])
    return f"{_fmt(summary['median'])} ({_fmt(summary['min'])}–{_fmt(summary['max'])})"


def section_table(section: dict[str, Any]) -> list[str]:
    """A Markdown table: one row per case, the contenders then the ratios."""
    cases = section["cases"]
    values = list(dict.fromkeys(v for row in cases for v in row["values"]))
    ratios = list(dict.fromkeys(r for row in cases for r in row["ratios"]))
    head = ["case", *(f"{v} ({section['unit']})" for v in values), *ratios]
    lines = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for row in cases:
        cells = [row["case"], *(_cell(row["values"].get(v)) for v in values),
                 *(_cell(row["ratios"].get(r)) for r in ratios)]
        lines.append("| " + " | ".join(cells) + " |")
    return lines


def verdict(row: dict[str, Any]) -> str:
    return {True: "PASS", False: "FAIL", None: "n/a"}[row["passed"]]


def markdown(results: Results, sections: list[str], commentary: str = "") -> str:
    meta = results["meta"]
    lines = [
        "# Benchmarks",
        "",
        "Written by `python -m benchmarks` (see `benchmarks/README.md`); do not edit by hand.",
        "",
        f"- date: {meta['date']}; machine: {meta['machine']}; load average at start: {meta['load']}",
        f"- python {meta['python']}, jax {meta['jax']}, equinox_typed {meta['equinox_typed']}, "
        f"equinox {meta['equinox']}, optax {meta['optax']}",
        f"- {'quick' if meta['quick'] else 'full'} run, {meta['rounds']} interleaved rounds per "
        "measurement; figures are medians with (min–max) over rounds; a ratio is the median "
        "of the per-round ratios, measured side by side in the same round.",
        "",
        "## Targets",
        "",
        "| target | measured | goal | verdict |",
        "| --- | --- | --- | --- |",
    ]
    for row in results["targets"]:
        value = "not measured" if row["value"] is None else _fmt(row["value"])
        lines.append(f"| {row['name']} | {value} | {row['op']} {row['threshold']} | {verdict(row)} |")
    for key in sections:
        if key not in results:
            continue
        sec = results[key]
        lines += ["", f"## {sec['title']}", ""]
        if sec.get("note"):
            lines += [sec["note"], ""]
        lines += section_table(sec)
    if commentary:
        lines += ["", commentary.strip()]
    return "\n".join(lines) + "\n"


def compare(old: Results, new: Results, tolerance: float = 0.10) -> list[str]:
    """Lines naming every ratio that got worse by more than ``tolerance`` (relative)
    between two results files; ratios are compared, not absolute times, since absolute
    times move with the machine."""
    worse = []
    for key, sec in new.items():
        if not isinstance(sec, dict) or "cases" not in sec or key not in old:
            continue
        before = {row["case"]: row for row in old[key].get("cases", [])}
        for row in sec["cases"]:
            prior = before.get(row["case"])
            if prior is None:
                continue
            for name, ratio in row["ratios"].items():
                if name not in prior["ratios"]:
                    continue
                a, b = prior["ratios"][name]["median"], ratio["median"]
                # Ratios where larger is better (speed-ups) get worse by falling.
                better_high = name == "unrolled / scanned"
                change = (a - b) / a if better_high else (b - a) / a
                if change > tolerance:
                    worse.append(f"{sec['title']} / {row['case']} / {name}: {_fmt(a)} -> {_fmt(b)}")
    return worse
