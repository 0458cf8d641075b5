"""Interleaved timing: every variant of a measurement runs in the same rounds, in turn.

These machines are shared and noisy, so no figure is a single timing. Each round times
every variant once (N calls each, then a wait for the last result, since JAX dispatches
asynchronously), and the variants' per-call times of that round are compared with each
other: a ratio is the median over rounds of the per-round ratio, so load that comes and
goes hits numerator and denominator alike. Check modes are switched around a timing,
never inside it.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import jax

import equinox_typed as eqx


@dataclass(frozen=True)
class Variant:
    """One contender: ``fn`` is called with no arguments under check mode ``mode``."""

    fn: Callable[[], Any]
    mode: str = "eager"


@dataclass(frozen=True)
class Budget:
    """How much to measure: ``rounds`` interleaved rounds; ``scale`` multiplies the
    calls per round of every measurement (small in ``--quick`` mode)."""

    rounds: int
    scale: float


@dataclass(frozen=True)
class Timings:
    """Per-call microseconds of each variant, one entry per round."""

    rounds: dict[str, list[float]]

    def summary(self) -> dict[str, dict[str, float]]:
        """Median, minimum and maximum per variant (microseconds per call)."""
        return {
            name: {"median": statistics.median(ts), "min": min(ts), "max": max(ts)}
            for name, ts in self.rounds.items()
        }

    def ratio(self, numerator: str, denominator: str) -> dict[str, float]:
        """The per-round ratio's median, and its spread (min/max over rounds)."""
        per_round = [
            a / b for a, b in zip(self.rounds[numerator], self.rounds[denominator], strict=True)
        ]
        return {
            "median": statistics.median(per_round),
            "min": min(per_round),
            "max": max(per_round),
        }


def _set_mode(mode: str) -> None:
    eqx.set_checks(mode)  # type: ignore[arg-type]


def interleaved(variants: dict[str, Variant], budget: Budget, number: int) -> Timings:
    """Time ``number`` calls (scaled by the budget) of every variant per round."""
    number = max(2, int(number * budget.scale))
    previous = eqx.get_checks()
    rounds: dict[str, list[float]] = {name: [] for name in variants}
    try:
        for v in variants.values():  # warm up: compile, fill caches
            _set_mode(v.mode)
            jax.block_until_ready(v.fn())
            jax.block_until_ready(v.fn())
        for _ in range(budget.rounds):
            for name, v in variants.items():
                _set_mode(v.mode)
                rounds[name].append(time_calls(v.fn, number))
    finally:
        _set_mode(previous)
    return Timings(rounds)


def time_calls(fn: Callable[[], Any], number: int) -> float:
    """Microseconds per call over ``number`` calls, waiting only for the last result
    (as a training loop does: it measures dispatch, not a synchronisation per call)."""
    start = time.perf_counter()
    for _ in range(number - 1):
        fn()
    jax.block_until_ready(fn())
    return (time.perf_counter() - start) / number * 1e6


def time_once(fn: Callable[[], Any]) -> float:
    """Seconds for one call of ``fn`` including the wait for its result."""
    start = time.perf_counter()
    jax.block_until_ready(fn())
    return time.perf_counter() - start
