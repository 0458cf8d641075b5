"""The examples run end to end (in subprocesses, as a user would run them, in their
--quick modes) and print what they claim to."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

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
    out = _run("examples/demo.py", timeout=600)

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
    out = _run("examples/train_digits.py", "--quick", "--out", str(tmp_path), timeout=600)
    assert "digits: 1437 training and 360 held-out 8x8 images" in out
    assert "trained 200 steps (batch 64)" in out
    # The audit before training: the hand-written layer's fields with their bindings, and
    # one batch's shapes through the forward pass.
    assert re.search(r"\.out_weight +DigitsCNN +Float\[Array, 'num_classes hidden_size'\] +f32\[10,64\] +hidden_size=64, num_classes=10 +ok", out), out
    assert re.search(r"\(root\) +DigitsCNN +f32\[64,8,8\] +f32\[64,10\] +ok", out), out
    assert re.search(r"\.pool +MaxPool2d +f32\[32,8,8\] +f32\[32,4,4\] +ok", out), out
    assert "OK: no violations" in out
    # Chance is 10%; the full run reaches 99% (README), the quick one well over 90%.
    accuracy = _number(r"held-out accuracy ([0-9.]+)", out)
    assert accuracy >= 0.93, out
    # The checkpoint reloaded into an abstract skeleton scores exactly the same.
    checkpoint = tmp_path / "digits_cnn.eqx"
    assert checkpoint.stat().st_size > 38_282 * 4
    reloaded = _number(r"reloaded into an abstract skeleton, held-out accuracy ([0-9.]+)", out)
    assert reloaded == accuracy, out
    # Nothing is left over from the atomic write (its temporary file is renamed).
    assert sorted(p.name for p in tmp_path.iterdir()) == ["curves.png", "digits_cnn.eqx"]
    plot = tmp_path / "curves.png"
    assert f"wrote loss and accuracy curves to {plot.resolve()}" in out
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and plot.stat().st_size > 10_000


def test_frozen_layer_trains_only_the_unfrozen_part() -> None:
    out = _run("examples/frozen_layer.py", "--quick", timeout=600)
    initial = _number(r"initial loss ([0-9.]+)", out)
    final = _number(r"final loss ([0-9.]+)", out)
    assert final < initial / 100, out
    assert "frozen layers unchanged: True" in out
    assert "last layer changed: True" in out
    # MLP(4 -> 32 x 3 -> scalar): only the last layer's 32 weights and 1 bias train.
    assert f"trained 33 of {4 * 32 + 32 + 2 * (32 * 32 + 32) + 33} parameters" in out


def test_train_rnn_tells_the_spirals_apart() -> None:
    out = _run("examples/train_rnn.py", "--quick", timeout=600)
    assert _number(r"initial test accuracy ([0-9.]+)", out) <= 0.7, out
    assert _number(r"final test accuracy ([0-9.]+)", out) >= 0.95, out
    assert _number(r"final test loss ([0-9.]+)", out) < 0.2, out


def test_stateful_batchnorm_trains_then_predicts_per_example() -> None:
    out = _run("examples/stateful.py", "--quick", timeout=600)
    losses = [float(v) for v in re.findall(r"step +\d+ +loss ([0-9.]+)", out)]
    assert len(losses) >= 3 and losses[-1] < losses[0], out
    # The classes are 4 standard deviations apart (best possible accuracy ~97.7%).
    assert _number(r"inference-mode test accuracy ([0-9.]+)", out) >= 0.9, out
    assert "single examples predicted as in the batch: True" in out
    assert "State(Classifier.norm.ema_first_time_index=bool[], Classifier.norm.ema_state_index=(f32[32], f32[32]))" in out


def test_shape_errors_shows_our_message_next_to_plain_jax() -> None:
    out = _run("examples/shape_errors.py", timeout=600)
    first, second, third = out.split("=== ")[1:]
    ours, plain = first.split("plain JAX:")
    assert "Linear: field `model.weight` does not match its annotation." in ours
    assert "got:      f32[3,4]" in ours and "bindings: in_features=3, out_features=4" in ours
    assert "dot_general requires contracting dimensions to have the same shape" in plain
    ours, plain = second.split("plain JAX:")
    assert "MLP: field `.layers[2]` does not fit the layer before it." in ours
    assert "got:      Linear with in_features=16, out_features=5" in ours
    assert "got (16,) and (8,)" in plain
    ours, plain = third.split("plain JAX:")
    assert "Linear.__call__: argument `x` does not match its annotation." in ours
    assert "got:      f32[16,16]" in ours
    assert "no error; returned f32[16,16]" in plain


def test_ensemble_trains_stacked_members_as_separate_ones() -> None:
    # Default checking mode: the stacked Module passes the filter_jit/filter_grad boundaries.
    out = _run("examples/ensemble.py", "--quick", timeout=600)
    assert "stacked ensemble: first weight f32[8,32,1], 8 members" in out
    first, last = re.search(r"summed loss: step 0 ([0-9.]+), step \d+ ([0-9.]+)", out).groups()  # type: ignore[union-attr]
    assert float(last) < float(first) / 10, out
    assert "member 0 after 100 steps, stacked vs alone" in out
    assert _number(r"max parameter difference ([0-9.e+-]+)", out) < 1e-4, out
    members = [float(v) for v in re.search(r"member test losses (.*)", out).group(1).split()]  # type: ignore[union-attr]
    assert len(members) == 8
    assert _number(r"average member test loss ([0-9.]+)", out) == pytest.approx(sum(members) / 8, abs=2e-4)
    assert _number(r"ensemble-mean test loss ([0-9.]+)", out) <= _number(r"average member test loss ([0-9.]+)", out)


def test_data_parallel_matches_single_device_and_restores_on_a_new_layout() -> None:
    out = _run("examples/data_parallel.py", "--quick", timeout=600)
    assert "batch (64, 16) split over 8 devices: (8, 16) each" in out
    assert "parameters replicated: True" in out
    assert _number(r"data-parallel vs single-device losses: max relative difference ([0-9.e+-]+)", out) < 1e-5
    assert "layers[0].weight: global f32[1024,16], per device (128, 16) on 8 devices" in out
    assert _number(r"model-parallel vs single-device losses: max relative difference ([0-9.e+-]+)", out) < 1e-5
    # The boundary check reports the global shape of a sharded array, not a shard's.
    caught = out.split("caught at the filter_jit boundary:", 1)[1]
    assert "got:      f32[1024,17]" in caught and "bindings: in_features=16, out_features=1024" in caught
    assert "restored onto {'data': 2, 'model': 4}: layers[0].weight per device (256, 16)" in out
    assert "restored parameters equal the saved ones: True" in out
    # eqx.audit of the restored model: global shapes, and a clean verdict.
    assert re.search(r"\.layers\[1\]\.weight +Linear .* f32\[1024,1024\] +in_features=1024, out_features=1024 +ok", out), out
    assert "OK: no violations (6 arrays, 4 calls checked)" in out
    before, after = re.search(r"loss before saving ([0-9.]+), after restoring ([0-9.]+)", out).groups()  # type: ignore[union-attr]
    assert before == after


def test_multi_process_training_matches_one_process() -> None:
    out = _run("examples/multi_process.py", "--quick", "--num-processes", "2", timeout=600)
    for rank in (0, 1):
        assert f"process {rank}/2: 1 local of 2 devices, batch slice (32, 16) of (64, 16)" in out
    assert "2 processes vs 1 process after 20 steps:" in out
    assert _number(r"losses: first [0-9.]+, last [0-9.]+; max difference ([0-9.e+-]+)", out) < 1e-5
    assert _number(r"final parameters: max difference ([0-9.e+-]+) over 5313 values", out) < 1e-5
    first, last = re.search(r"losses: first ([0-9.]+), last ([0-9.]+)", out).groups()  # type: ignore[union-attr]
    assert float(last) < float(first)
