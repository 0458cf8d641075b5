"""The examples run end to end (in subprocesses, as a user would run them, in their
--quick modes) and print what they claim to."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _run(*args: str, timeout: float) -> str:
    env = dict(os.environ, PYTHONPATH=str(ROOT), JAX_PLATFORMS="cpu")
    env.pop("EQUINOX_TYPED_CHECKS", None)  # the demo relies on the default mode
    proc = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )
    assert proc.returncode == 0, f"exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


def test_demo_trains_and_catches_the_shape_mistake() -> None:
    out = _run("examples/demo.py", timeout=120)

    # Training: the held-out loss falls by at least a factor of 5, and the printed
    # training losses go down from the first step to the last.
    initial = float(re.search(r"initial test loss ([0-9.]+)", out).group(1))  # type: ignore[union-attr]
    final = float(re.search(r"final test loss ([0-9.]+)", out).group(1))  # type: ignore[union-attr]
    assert final < initial / 5, out
    train = [float(v) for v in re.findall(r"step +\d+ +train loss ([0-9.]+)", out)]
    assert len(train) >= 3 and train[-1] < train[0] / 5, out

    # The wrongly shaped weight is caught at the filter_jit boundary, and the message
    # names the field's path, the annotation, what arrived and the sizes in force.
    caught = out.split("caught at the filter_jit boundary:", 1)[1]
    assert "Linear: field `model.layers[0].weight` does not match its annotation" in caught
    assert "expected: Inexact[Array, 'out_features in_features']" in caught
    assert "got:      f32[5,5]" in caught
    assert "bindings: in_features=2, out_features=32" in caught

    # filter_eval_shape: the parameter count of MLP(1024 -> 4096 x 8 -> 1024).
    expected = 1024 * 4096 + 7 * 4096 * 4096 + 4096 * 1024 + 8 * 4096 + 1024
    assert f"{expected:,} parameters (none allocated)" in out
    assert "first weight float32[4096, 1024]" in out


def _number(pattern: str, out: str) -> float:
    found = re.search(pattern, out)
    assert found is not None, f"{pattern!r} not in output:\n{out}"
    return float(found.group(1))


def test_train_digits_reaches_its_accuracy_and_writes_the_plot(tmp_path: Path) -> None:
    out = _run("examples/train_digits.py", "--quick", "--out", str(tmp_path), timeout=300)
    assert "digits: 1437 training and 360 held-out 8x8 images" in out
    assert "trained 200 steps (batch 64)" in out
    # Chance is 10%; the full run reaches 99% (README), the quick one well over 90%.
    accuracy = _number(r"held-out accuracy ([0-9.]+)", out)
    assert accuracy >= 0.93, out
    plot = tmp_path / "curves.png"
    assert f"wrote loss and accuracy curves to {plot.resolve()}" in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 10_000


def test_frozen_layer_trains_only_the_unfrozen_part() -> None:
    out = _run("examples/frozen_layer.py", "--quick", timeout=180)
    initial = _number(r"initial loss ([0-9.]+)", out)
    final = _number(r"final loss ([0-9.]+)", out)
    assert final < initial / 100, out
    assert "frozen layers unchanged: True" in out
    assert "last layer changed: True" in out
    # MLP(4 -> 32 x 3 -> scalar): only the last layer's 32 weights and 1 bias train.
    assert f"trained 33 of {4 * 32 + 32 + 2 * (32 * 32 + 32) + 33} parameters" in out
