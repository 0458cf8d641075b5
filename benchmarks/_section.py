"""The shape of a benchmark's result: a table of cases, each with the contenders'
figures and the ratios between them (median with min/max spread)."""

from __future__ import annotations

from typing import Any

from ._timing import Timings

Summary = dict[str, float]  # {"median": ..., "min": ..., "max": ...}


def case(name: str, timings: Timings, ratios: dict[str, tuple[str, str]], **extra: Any) -> dict[str, Any]:
    """One row: every variant's summary and each named ratio ``(numerator, denominator)``
    present in ``timings`` (a ratio whose contender was not measured is left out)."""
    present = timings.rounds
    return {
        "case": name,
        "values": timings.summary(),
        "ratios": {
            label: timings.ratio(a, b)
            for label, (a, b) in ratios.items()
            if a in present and b in present
        },
        **extra,
    }


def single(value: float) -> Summary:
    """A figure measured once (or already aggregated): no spread to report."""
    return {"median": value, "min": value, "max": value}


def section(title: str, unit: str, cases: list[dict[str, Any]], note: str = "") -> dict[str, Any]:
    return {"title": title, "unit": unit, "cases": cases, "note": note}
