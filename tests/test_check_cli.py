"""``python -m equinox_typed.check``, driven as a subprocess on model files written here."""

from __future__ import annotations

import io
import json
import os
import re
import shlex
import subprocess
import sys
import textwrap
import typing
from pathlib import Path
from typing import Any

import pytest

import equinox_typed._audit_report as report_types

README = Path(__file__).resolve().parents[1] / "README.md"

MODELS = """
import jax
import jax.numpy as jnp
import equinox_typed as eqx


def make_mlp() -> eqx.nn.MLP:
    return eqx.nn.MLP(8, 2, 16, 2, key=jax.random.key(0))


def make_chain() -> eqx.nn.Sequential:
    # Breaks at its fourth layer: the third gives 8 features, the fourth takes 4.
    keys = jax.random.split(jax.random.key(1), 4)
    sizes = [(8, 16), (16, 16), (16, 8), (4, 2)]
    return eqx.nn.Sequential([eqx.nn.Linear(i, o, key=k) for (i, o), k in zip(sizes, keys)])


with eqx.checks("off"):
    resized = eqx.tree_at(lambda m: m.layers[1].weight, make_mlp(), jnp.zeros((16, 5)))


def helper(x):  # takes an argument: not a factory
    return x


def unannotated():  # not declared to return a Module: not discovered
    return make_mlp()


def failing() -> eqx.nn.MLP:
    raise RuntimeError("no weights here")
"""


def _write(directory: Path, name: str, source: str) -> None:
    (directory / name).write_text(textwrap.dedent(source))


def _run(directory: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "equinox_typed.check", *args],
        cwd=directory,
        capture_output=True,
        text=True,
        env={**os.environ, "JAX_PLATFORMS": "cpu"},
        timeout=300,
    )


@pytest.fixture
def models(tmp_path: Path) -> Path:
    _write(tmp_path, "models.py", MODELS)
    return tmp_path


def test_correct_model_exit_0_with_the_table(models: Path) -> None:
    result = _run(models, "models.py:make_mlp", "--input", "f32[8]")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    lines = result.stdout.splitlines()
    assert lines[0] == "== models.py:make_mlp (built abstractly)"
    assert lines[1] == "Parameters (6 arrays)"
    assert lines[2].split() == ["path", "module", "annotation", "value", "bindings", "status"]
    weight = next(line for line in lines if line.strip().startswith(".layers[0].weight"))
    assert "Inexact[Array, 'out_features in_features']" in weight
    assert "f32[16,8]" in weight and weight.endswith("ok")
    assert "Forward pass (inputs: f32[8])" in lines
    assert any(line.split()[:5] == ["(root)", "MLP", "f32[8]", "f32[2]", "ok"] for line in lines)
    assert "Totals: 450 parameters, 1.8 KiB" in result.stdout
    assert lines[-1] == "OK: no violations (6 arrays, 4 calls checked)"


def test_wrongly_sized_field_exit_1_names_path_expected_and_actual(models: Path) -> None:
    result = _run(models, "models.py:resized")
    assert result.returncode == 1, result.stderr
    row = next(line for line in result.stdout.splitlines() if ".layers[1].weight" in line)
    assert "Inexact[Array, 'out_features in_features']" in row
    assert "f32[16,5]" in row and row.endswith("mismatch")
    assert "[field] .layers[1].weight" in result.stdout
    assert "got:      f32[16,5]" in result.stdout
    assert "bindings: in_features=16, out_features=16" in result.stdout
    assert result.stdout.splitlines()[-1] == "FAILED: 1 violation (6 arrays checked)"


def test_forward_pass_breaking_at_the_fourth_layer(models: Path) -> None:
    result = _run(models, "models.py:make_chain", "--input", "f32[8]")
    assert result.returncode == 1, result.stderr
    calls = [line.split() for line in result.stdout.splitlines() if line.startswith("    .layers")]
    assert [c[0] for c in calls] == [".layers[0]", ".layers[1]", ".layers[2]", ".layers[3]"]
    assert [c[-1] for c in calls] == ["ok", "ok", "ok", "failed"]
    assert "[call] .layers[3]" in result.stdout
    assert "first fails in the call of Linear at `.layers[3]`" in result.stdout
    assert "expected: Num[Array, '*in_features']" in result.stdout
    assert "got:      f32[8]" in result.stdout


def test_unimportable_and_unbuildable_targets_exit_2_with_one_line(models: Path) -> None:
    _write(models, "broken.py", "import not_a_module_anywhere\n")
    result = _run(models, "broken.py", "models.py:helper", "models.py:failing", "models.py:nope")
    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        "error: broken.py: cannot import it: ModuleNotFoundError: No module named "
        "'not_a_module_anywhere'",
        "error: models.py:helper: it takes arguments (x); name a Module or a zero-argument "
        "callable returning one",
        "error: models.py:failing: cannot build: RuntimeError: no weights here (built "
        "abstractly; --concrete builds it for real)",
        "error: models.py:nope: the module has no attribute 'nope'",
    ]
    with_traceback = _run(models, "broken.py", "--traceback")
    assert with_traceback.returncode == 2
    assert "Traceback (most recent call last)" in with_traceback.stderr
    assert with_traceback.stderr.splitlines()[-1].startswith("error: broken.py: cannot import")


def test_usage_errors_exit_2(models: Path) -> None:
    result = _run(models, "models.py", "--input", "f32[8,y]")
    assert result.returncode == 2
    assert "input spec 'f32[8,y]': size 'y' is not a non-negative integer" in result.stderr


def test_discovery_and_json_schema(models: Path) -> None:
    result = _run(models, "models.py", "--format", "json", "--input", "f32[8]")
    assert result.returncode == 2, result.stderr  # `failing` cannot be built
    document = json.loads(result.stdout)
    assert set(document) == {"schema", "ok", "exit_status", "results"}
    assert document["schema"] == "equinox_typed.check/1"
    assert (document["ok"], document["exit_status"]) == (False, 2)
    # Discovery: annotated zero-argument factories and Module instances, in order.
    targets = [r["target"] for r in document["results"]]
    assert targets == [
        "models.py:make_mlp",
        "models.py:make_chain",
        "models.py:resized",
        "models.py:failing",
    ]
    failing = document["results"][3]
    assert set(failing) == {"target", "error"}
    assert failing["error"].startswith("models.py:failing: cannot build: RuntimeError")
    reports = {r["target"]: r["report"] for r in document["results"][:3]}
    for report in reports.values():
        assert set(report) == {
            "schema", "ok", "inputs", "checkpoint", "rows", "calls", "violations", "totals"
        }
        assert report["schema"] == "equinox_typed.audit/2"
        assert report["inputs"] == ["f32[8]"]
    assert [r["ok"] for r in reports.values()] == [True, False, False]
    chain = reports["models.py:make_chain"]
    assert chain["violations"][0]["kind"] == "call"
    assert chain["violations"][0]["path"] == ".layers[3]"
    assert chain["calls"][-1] == {
        "path": ".layers[3]",
        "module": "Linear",
        "depth": 1,
        "inputs": ["f32[8]"],
        "output": None,
        "status": "failed",
    }
    resized = reports["models.py:resized"]
    assert [v["path"] for v in resized["violations"]] == [".layers[1].weight", ".layers[1]"]
    assert resized["totals"]["by_dtype"]["float32"]["parameters"] == resized["totals"]["parameters"]


STACKS = """
import jax
import jax.numpy as jnp
from jaxtyping import Array, Float
import equinox_typed as eqx


def make_ensemble() -> eqx.nn.MLP:
    # Five MLPs as one Module: every array has a leading axis of 5.
    keys = jax.random.split(jax.random.key(0), 5)
    return eqx.filter_vmap(lambda k: eqx.nn.MLP(8, 2, 16, 2, key=k))(keys)


class Deep(eqx.Module):
    layers: eqx.nn.Linear  # 6 layers stacked, applied with jax.lax.scan

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, " d"]:
        params, static = eqx.partition(self.layers, eqx.is_array)

        def step(h, layer):
            return jnp.tanh(eqx.combine(layer, static)(h)), None

        return jax.lax.scan(step, x, params)[0]


def make_deep() -> Deep:
    keys = jax.random.split(jax.random.key(1), 6)
    return Deep(eqx.filter_vmap(lambda k: eqx.nn.Linear(4, 4, key=k))(keys))


with eqx.checks("off"):
    wrong = eqx.tree_at(lambda m: m.layers[1].weight, make_ensemble(), jnp.zeros((5, 16, 7)))
"""


def test_stacked_ensemble_and_scanned_layers_exit_0(tmp_path: Path) -> None:
    _write(tmp_path, "stacks.py", STACKS)
    result = _run(tmp_path, "stacks.py:make_ensemble", "stacks.py:make_deep")
    assert result.returncode == 0, result.stdout + result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines() if line.startswith("  .")}
    assert rows[".layers[0].weight"].split()[-5:] == [
        "f32[5,16,8]", "stack[5]", "in_features=8,", "out_features=16", "ok"
    ]
    assert rows[".layers.weight"].split()[-5:] == [
        "f32[6,4,4]", "stack[6]", "in_features=4,", "out_features=4", "ok"
    ]
    assert all(line.endswith("ok") for line in rows.values())
    assert "Totals: 2,250 parameters" in result.stdout  # 5 x 450
    # The scanned model's forward pass runs through its stack (scan traces its body,
    # one member's layer, once: a Module rebuilt inside the scan, not in the tree).
    deep = _run(tmp_path, "stacks.py:make_deep", "--input", "f32[4]")
    assert deep.returncode == 0, deep.stdout + deep.stderr
    calls = [line.split() for line in deep.stdout.splitlines() if line.endswith(" ok")][-2:]
    assert calls == [
        ["(root)", "Deep", "f32[4]", "f32[4]", "ok"],
        ["(not", "in", "tree)", "Linear", "f32[4]", "f32[4]", "ok"],
    ]
    assert deep.stdout.splitlines()[-1] == "OK: no violations (2 arrays, 2 calls checked)"


def test_stack_with_a_wrong_field_exit_1_names_the_members(tmp_path: Path) -> None:
    _write(tmp_path, "stacks.py", STACKS)
    result = _run(tmp_path, "stacks.py:wrong")
    assert result.returncode == 1, result.stderr
    row = next(line for line in result.stdout.splitlines() if ".layers[1].weight" in line)
    assert "f32[5,16,7] stack[5]" in row and row.endswith("mismatch")
    assert "[field] .layers[1].weight" in result.stdout
    assert "got:      f32[16,7]" in result.stdout
    assert "bindings: in_features=16, out_features=16" in result.stdout
    assert (
        "members:  each of the 5 members [0]..[4] of the stack of Linear at `.layers[1]`"
        in result.stdout
    )
    assert result.stdout.splitlines()[-1] == "FAILED: 1 violation (6 arrays checked)"


ZOO = """
import types

import jax
import jax.numpy as jnp
import equinox_typed as eqx

encoder = types.SimpleNamespace(block=eqx.nn.Linear(2, 3, key=jax.random.key(0)))


def make_pair() -> tuple[eqx.nn.Linear, eqx.nn.Linear]:
    return eqx.nn.Linear(2, 3, key=jax.random.key(1)), eqx.nn.Linear(3, 1, key=jax.random.key(2))


def make_named() -> dict[str, eqx.nn.Linear]:
    return {"a": eqx.nn.Linear(4, 5, key=jax.random.key(3))}


class Loose(eqx.Module):
    x: jax.Array  # no shape or dtype


def make_loose() -> Loose:
    return Loose(jnp.zeros(3))


def make_from_data() -> eqx.nn.Linear:
    # Needs a concrete value: cannot be built abstractly.
    return eqx.nn.Linear(int(jnp.ones(3).sum()), 2, key=jax.random.key(4))
"""


def _report_of(result: subprocess.CompletedProcess[str], target: str) -> dict[str, Any]:
    document = json.loads(result.stdout)
    reports: list[dict[str, Any]] = [
        r["report"] for r in document["results"] if r["target"] == target
    ]
    (report,) = reports
    return report


def test_dotted_targets_nested_names_container_factories_strict_concrete(tmp_path: Path) -> None:
    (tmp_path / "zoo").mkdir()
    _write(tmp_path / "zoo", "__init__.py", "")
    _write(tmp_path / "zoo", "models.py", ZOO)
    named = _run(
        tmp_path, "zoo.models:encoder.block", "zoo.models:make_pair", "zoo.models:make_named",
        "zoo.models:make_loose", "--format", "json",
    )
    assert named.returncode == 0, named.stderr
    paths = {
        target: [row["path"] for row in _report_of(named, f"zoo.models:{target}")["rows"]]
        for target in ("encoder.block", "make_pair", "make_named", "make_loose")
    }
    assert paths == {
        "encoder.block": [".weight", ".bias"],
        "make_pair": ["[0].weight", "[0].bias", "[1].weight", "[1].bias"],
        "make_named": ["['a'].weight", "['a'].bias"],
        "make_loose": [".x"],
    }
    assert _report_of(named, "zoo.models:make_loose")["rows"][0]["status"] == "unshaped"
    # Discovery: the annotated factories (tuple and dict of Modules included), not the
    # namespace holding a Module.
    discovered = _run(tmp_path, "zoo.models", "--format", "json")
    assert [r["target"] for r in json.loads(discovered.stdout)["results"]] == [
        "zoo.models:make_pair",
        "zoo.models:make_named",
        "zoo.models:make_loose",
        "zoo.models:make_from_data",
    ]
    assert discovered.returncode == 2  # make_from_data cannot be built abstractly
    assert discovered.stderr.startswith(
        "error: zoo.models:make_from_data: cannot build: ConcretizationTypeError"
    )
    assert discovered.stderr.rstrip().endswith("(built abstractly; --concrete builds it for real)")
    assert len(discovered.stderr.splitlines()) == 1
    # --strict makes the unshaped field a violation; --concrete builds for real.
    strict = _run(tmp_path, "zoo.models:make_loose", "--strict")
    assert strict.returncode == 1
    assert "[unshaped] .x" in strict.stdout
    assert "Loose: field `.x` holds an array but its annotation" in strict.stdout
    concrete = _run(tmp_path, "zoo.models:make_from_data", "--concrete")
    assert concrete.returncode == 0, concrete.stderr
    assert concrete.stdout.splitlines()[0] == "== zoo.models:make_from_data"
    assert "f32[2,3]" in concrete.stdout


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal(
    models: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from equinox_typed.check import main

    monkeypatch.syspath_prepend(str(models))  # what importing the file adds, undone after
    monkeypatch.setenv("COLUMNS", "200")  # the terminal's width, for rich
    target = str(models / "models.py") + ":resized"
    for stream, no_colour, coloured in (
        (io.StringIO(), None, False),
        (_Terminal(), None, True),
        (_Terminal(), "1", False),  # https://no-color.org
    ):
        if no_colour is None:
            monkeypatch.delenv("NO_COLOR", raising=False)
        else:
            monkeypatch.setenv("NO_COLOR", no_colour)
        assert main([target], out=stream, err=io.StringIO()) == 1
        text = stream.getvalue()
        assert ("\x1b[" in text) == coloured, text
        plain = re.sub(r"\x1b\[[0-9;]*m", "", text)
        assert "[field] .layers[1].weight" in plain
        assert plain.splitlines()[-1] == "FAILED: 1 violation (6 arrays checked)"
        if coloured:  # the verdict in red as a whole
            assert "\x1b[31mFAILED: 1 violation (6 arrays checked)\x1b[0m" in text


def _save(path: Path, hidden: int) -> None:
    """A checkpoint of make_mlp's architecture with ``hidden`` features per hidden layer."""
    import jax

    import equinox_typed as eqx

    eqx.tree_serialise_leaves(path, eqx.nn.MLP(8, 2, hidden, 2, key=jax.random.key(2)))


def test_checkpoint_of_another_model_exit_1_names_the_leaves(models: Path) -> None:
    _save(models / "other.eqx", hidden=32)
    result = _run(models, "models.py:make_mlp", "--checkpoint", "other.eqx")
    assert result.returncode == 1, result.stderr
    assert "Checkpoint: other.eqx (compared leaf by leaf)" in result.stdout
    differences = [
        (".layers[0].weight", "expected f32[16,8], got f32[32,8]"),
        (".layers[0].bias", "expected f32[16], got f32[32]"),
        (".layers[1].weight", "expected f32[16,16], got f32[32,32]"),
        (".layers[1].bias", "expected f32[16], got f32[32]"),
        (".layers[2].weight", "expected f32[2,16], got f32[2,32]"),
    ]
    for path, what in differences:
        assert f"[checkpoint] {path}\n    shape differs: {what}\n" in result.stdout
    assert "[checkpoint] .layers[2].bias" not in result.stdout  # f32[2] in both
    assert result.stdout.splitlines()[-1] == "FAILED: 5 violations (6 arrays, checkpoint checked)"
    # The same in JSON, each difference at its key path.
    document = json.loads(
        _run(models, "models.py:make_mlp", "--checkpoint", "other.eqx", "--format", "json").stdout
    )
    report = document["results"][0]["report"]
    assert report["checkpoint"] == "other.eqx"
    assert [(v["kind"], v["path"]) for v in report["violations"]] == [
        ("checkpoint", path) for path, _ in differences
    ]


def test_matching_checkpoint_exit_0(models: Path) -> None:
    _save(models / "mlp.eqx", hidden=16)  # another key: values differ, shapes do not
    result = _run(models, "models.py:make_mlp", "--checkpoint", "mlp.eqx", "--input", "f32[8]")
    assert result.returncode == 0, result.stderr
    assert "Checkpoint: mlp.eqx (compared leaf by leaf)" in result.stdout
    assert result.stdout.splitlines()[-1] == "OK: no violations (6 arrays, 4 calls, checkpoint checked)"


def test_unreadable_checkpoint_is_a_usage_error_on_one_line(models: Path) -> None:
    (models / "folder.eqx").mkdir()
    for given, named, cause in (
        ("missing.eqx", "missing.eqx", "No such file or directory"),
        ("missing", "missing.eqx", "No such file or directory"),  # .eqx added, as when loading
        ("folder.eqx", "folder.eqx", "Is a directory"),
    ):
        result = _run(models, "models.py:make_mlp", "--checkpoint", given)
        assert result.returncode == 2
        assert result.stdout == ""
        assert result.stderr.splitlines() == [f"error: --checkpoint {named}: cannot read it: {cause}"]


BIG = """
import jax
import equinox_typed as eqx

N = 36_000  # two N x N float32 layers: 10.4 GB of parameters


def make_big() -> eqx.nn.Sequential:
    k1, k2 = jax.random.split(jax.random.key(0))
    return eqx.nn.Sequential([eqx.nn.Linear(N, N, key=k1), eqx.nn.Linear(N, N, key=k2)])
"""

# A child starts with the peak memory of the process it was spawned from (Linux carries
# it across exec), so the command is spawned from this small fresh interpreter, which
# reports its child's peak (KiB) on its last line of standard error.
_PEAK_WRAPPER = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[1:])
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)
sys.exit(code)
"""


def test_ten_gigabyte_factory_is_audited_in_little_memory(tmp_path: Path) -> None:
    _write(tmp_path, "big.py", BIG)
    command = [sys.executable, "-m", "equinox_typed.check", "big.py:make_big"]
    result = subprocess.run(
        [sys.executable, "-c", _PEAK_WRAPPER, *command, "--input", "f32[36000]", "--format", "json"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "JAX_PLATFORMS": "cpu"},
        timeout=300,
    )
    peak_mib = int(result.stderr.splitlines()[-1]) / 1024
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)["results"][0]["report"]
    n = 36_000
    assert report["totals"]["parameters"] == 2 * (n * n + n)
    assert report["totals"]["bytes"] == 4 * 2 * (n * n + n) > 10 * 10**9
    assert [c["output"] for c in report["calls"]] == ["f32[36000]"] * 3
    assert peak_mib < 1024, f"peak resident memory {peak_mib:.0f} MiB"


def _readme_section() -> str:
    text = README.read_text()
    start = text.index("## Auditing models")
    return text[start : text.index("\n## ", start + 1)]


def test_readme_example_outputs_are_what_the_command_prints(tmp_path: Path) -> None:
    section = _readme_section()
    models = re.search(r"```python\n(# models\.py\n.*?)```", section, re.S)
    saving = re.search(r"`(eqx\.tree_serialise_leaves\(\"classifier\.eqx\".*?)`", section)
    assert models is not None and saving is not None
    _write(tmp_path, "models.py", models.group(1))
    import jax

    import equinox_typed as eqx

    os.chdir(tmp_path)  # the README saves to a relative path
    try:
        eval(saving.group(1), {"eqx": eqx, "jax": jax})
    finally:
        os.chdir(Path(__file__).parent)
    blocks = re.findall(r"```\n(\$ python -m equinox_typed\.check .*?)```", section, re.S)
    assert len(blocks) == 2
    for block in blocks:
        command, rest = block.split("\n", 1)
        output, status = rest.split("$ echo $?\n")
        result = _run(tmp_path, *shlex.split(command)[4:])
        assert (result.stdout, result.returncode) == (output, int(status)), command


def _documented_names(cell: str) -> set[str]:
    """The backticked plain names in a cell of the README's schema table."""
    return set(re.findall(r"`([a-z_]+)`", cell)) - {"null", "true"}


def test_json_matches_the_documented_schema(models: Path) -> None:
    _save(models / "other.eqx", hidden=32)
    result = _run(
        models, "models.py:make_chain", "--input", "f32[8]", "--checkpoint", "other.eqx",
        "--format", "json",
    )
    report = json.loads(result.stdout)["results"][0]["report"]
    section = _readme_section()
    table = section[section.index("### JSON schema") :]
    cells = dict(re.findall(r"^\| `([a-z_\[\]]+)` \| (.*) \|$", table, re.M))
    assert {key.removesuffix("[]") for key in cells} == set(report)
    assert f'`"{report["schema"]}"`' in cells["schema"]
    parts: dict[str, Any] = {
        "rows[]": report["rows"][0],
        "calls[]": report["calls"][0],
        "violations[]": report["violations"][0],
        "totals": report["totals"],
    }
    for key, example in parts.items():
        assert set(example) <= _documented_names(cells[key]), key
    assert {v["kind"] for v in report["violations"]} == {"call", "checkpoint"}
    # The documented values of each enumeration are exactly the code's.
    for key, literal in (
        ("rows[]", report_types.LeafStatus),
        ("calls[]", report_types.CallStatus),
        ("violations[]", report_types.ViolationKind),
    ):
        documented = set(re.findall(r'`"([a-z]+)"`', cells[key]))
        assert documented == set(typing.get_args(literal)), key
    assert set(report["totals"]["by_dtype"]["float32"]) <= _documented_names(cells["totals"])
