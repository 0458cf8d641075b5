"""The benchmark suite runs end to end in its quick mode and reports every section and
target (speed itself is never asserted here: timed tests would flake on shared CI
machines; the figures live in BENCHMARKS.md), and the compiled program of filter_jit
is the one a hand-partitioned jax.jit compiles."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import pytest

import equinox_typed as eqx

from benchmarks import _models, report

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_quick_run_writes_every_section_and_target(tmp_path: Path) -> None:
    out, md = tmp_path / "results.json", tmp_path / "BENCHMARKS.md"
    env = dict(os.environ, PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu")
    env.pop("EQUINOX_TYPED_CHECKS", None)
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks", "--quick", "--out", str(out), "--markdown", str(md),
         "--compare", str(ROOT / "benchmarks" / "results.json")],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = json.loads(out.read_text())
    from benchmarks.run_all import SECTIONS

    assert set(SECTIONS) <= set(results)
    assert results["meta"]["quick"] is True
    for key in SECTIONS:
        cases = results[key]["cases"]
        assert cases, key
        for row in cases:
            assert all(v["median"] > 0 or key == "mode_switch" for v in row["values"].values()), row
    # Every target appears with a verdict, in the JSON, the printout and the report.
    names = [row["name"] for row in results["targets"]]
    assert any("cached call" in n and "ours / jax.jit" in n for n in names)
    assert any("training step" in n for n in names) and any("first call" in n for n in names)
    text = md.read_text()
    assert "## Targets" in text and "## Cached filter_jit call" in text
    for row in results["targets"]:
        assert row["name"] in text
        assert row["passed"] in (True, False, None)
    assert "Compared with" in proc.stdout


def test_compare_names_ratios_that_got_worse() -> None:
    def results(ratio: float) -> dict[str, Any]:
        row = {"case": "c", "values": {}, "ratios": {"ours / jax.jit": {"median": ratio}}}
        return {"s": {"title": "T", "cases": [row]}}

    assert report.compare(results(1.0), results(1.05)) == []
    assert report.compare(results(1.0), results(1.5)) == ["T / c / ours / jax.jit: 1.00 -> 1.50"]
    assert report.compare(results(1.5), results(1.0)) == []


def _program(jaxpr: Any) -> list[Any]:
    """Every equation's primitive and output types, nested jaxprs included, in order: the
    program itself, without the names that JAX versions print differently."""
    out: list[Any] = []
    for eqn in jaxpr.eqns:
        out.append((eqn.primitive.name, tuple(str(v.aval) for v in eqn.outvars)))
        for value in eqn.params.values():
            for item in value if isinstance(value, (tuple, list)) else (value,):
                inner = getattr(item, "jaxpr", item)
                if hasattr(inner, "eqns"):
                    out.append(_program(inner))
    return out


def _inner_jaxpr(closed: Any) -> list[Any]:
    """The program a jit call compiles: the body of the single ``jit``/``pjit`` equation."""
    (eqn,) = closed.jaxpr.eqns
    return _program(eqn.params["jaxpr"].jaxpr)


@pytest.mark.parametrize("depth", [2, 8])
def test_filter_jit_compiles_the_same_program_as_hand_partitioned_jit(depth: int) -> None:
    model, x = _models.mlp(eqx, depth), jnp.ones(_models.IN)
    params, static = eqx.partition(model, eqx.is_array)

    def f(m: Any, x: jax.Array) -> jax.Array:
        return jnp.sum(m(x) ** 2)

    ours = eqx.filter_jit(f)
    floor = jax.jit(lambda p, x: f(eqx.combine(p, static), x))
    theirs = jax.make_jaxpr(lambda p, x: ours(eqx.combine(p, static), x))(params, x)
    expected = jax.make_jaxpr(floor)(params, x)
    assert _inner_jaxpr(theirs) == _inner_jaxpr(expected)


def test_training_step_compiles_the_same_program() -> None:
    model, x = _models.residual(eqx, 3, width=8), jnp.ones((4, 8))
    params, static = eqx.partition(model, eqx.is_array)

    def loss(m: Any, x: jax.Array) -> jax.Array:
        return jnp.mean(jax.vmap(m)(x) ** 2)

    ours = eqx.filter_jit(eqx.filter_value_and_grad(loss))
    floor = jax.jit(jax.value_and_grad(lambda p, x: loss(eqx.combine(p, static), x)))
    theirs = jax.make_jaxpr(lambda p, x: ours(eqx.combine(p, static), x))(params, x)
    expected = jax.make_jaxpr(floor)(params, x)
    assert _inner_jaxpr(theirs) == _inner_jaxpr(expected)
