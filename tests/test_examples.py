"""The main example runs end to end (in subprocesses, as a user
would run them) and print what they claim to."""

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
