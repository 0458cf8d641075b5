"""eqx.audit: fields, forward pass, totals and the report's forms (in process)."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import equinox as reference_eqx
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float

import equinox_typed as eqx
from equinox_typed._audit_text import print_report_rich, render_report
from equinox_typed._shape_spec import parse_shape_spec


def _mlp() -> eqx.nn.MLP:
    return eqx.nn.MLP(3, 2, 8, 2, key=jax.random.key(0))


class Pair(eqx.Module):
    a: Float[Array, " n"]
    b: Float[Array, " n"]
    loose: jax.Array


# ---------------------------------------------------------------------------------------
# Fields.


def test_factory_is_built_abstractly_and_counted_like_equinox() -> None:
    report = eqx.audit(_mlp)
    assert report.ok, report.violations
    real = reference_eqx.nn.MLP(3, 2, 8, 2, key=jax.random.key(0))
    real_leaves = jax.tree_util.tree_leaves(reference_eqx.filter(real, reference_eqx.is_array))
    assert report.totals.parameters == sum(x.size for x in real_leaves)
    assert report.totals.bytes == sum(x.nbytes for x in real_leaves)
    assert report.totals.arrays == len(real_leaves) == len(report.rows)
    assert report.totals.modules == 4  # the MLP and its three Linear layers
    assert report.totals.static_leaves == 2  # activation, final_activation
    (f32,) = report.totals.by_dtype
    assert (f32.dtype, f32.arrays, f32.bytes) == ("float32", 6, report.totals.bytes)
    first = report.rows[0]
    assert (first.path, first.module, first.field) == (".layers[0].weight", "Linear", "weight")
    assert (first.dtype, first.shape, first.status) == ("float32", (8, 3), "ok")
    assert first.bindings == {"in_features": 3, "out_features": 8}
    assert first.annotation == "Inexact[Array, 'out_features in_features']"
    assert report.rows[1].bindings == {"out_features": 8}


def test_abstract_and_concrete_builds_give_the_same_report() -> None:
    assert eqx.audit(_mlp).to_dict() == eqx.audit(_mlp, abstract=False).to_dict()


def test_wrong_field_is_found_whatever_the_mode_and_memo() -> None:
    model = _mlp()  # its checks passed and were memoised
    with eqx.checks("off"):
        bad = eqx.tree_at(lambda m: m.layers[1].weight, model, jnp.zeros((8, 5)))
        report = eqx.audit(bad)
    assert not report.ok
    (violation,) = report.violations
    assert (violation.kind, violation.path) == ("field", ".layers[1].weight")
    for fragment in (
        "Linear: field `.layers[1].weight` does not match its annotation.",
        "expected: Inexact[Array, 'out_features in_features']",
        "got:      f32[8,5]",
        "bindings: in_features=8, out_features=8",
    ):
        assert fragment in violation.message
    statuses = {row.path: row.status for row in report.rows}
    assert statuses[".layers[1].weight"] == "mismatch"
    assert statuses[".layers[1].bias"] == "ok"
    # The audit never raised, and the unchanged model still audits clean.
    assert eqx.audit(model).ok


def test_dimension_names_bind_across_fields(typechecker: str) -> None:
    good = Pair(jnp.zeros(3), jnp.zeros(3), jnp.zeros(2))
    assert eqx.audit(good).ok
    with eqx.checks("off"):
        bad = Pair(jnp.zeros(3), jnp.zeros(4), jnp.zeros(2))
    report = eqx.audit(bad)
    (violation,) = report.violations
    assert violation.path == ".b"
    assert "got:      f32[4]" in violation.message and "bindings: n=3" in violation.message
    assert [r.status for r in report.rows] == ["ok", "mismatch", "unshaped"]
    assert report.rows[0].bindings == {"n": 3}


def test_dtype_mismatch_is_a_violation() -> None:
    with eqx.checks("off"):
        bad = Pair(jnp.zeros(3), jnp.zeros(3, jnp.int32), jnp.zeros(2))
    (violation,) = eqx.audit(bad).violations
    assert violation.path == ".b" and "got:      i32[3]" in violation.message


def test_abstract_leaves_are_checked_too() -> None:
    with eqx.checks("off"):
        bad = eqx.filter_eval_shape(lambda: Pair(jnp.zeros(3), jnp.zeros(5), jnp.zeros(2)))
    assert isinstance(bad.a, jax.ShapeDtypeStruct)
    (violation,) = eqx.audit(bad).violations
    assert violation.path == ".b" and "got:      f32[5]" in violation.message


def test_strict_reports_unshaped_array_fields_only() -> None:
    good = Pair(jnp.zeros(3), jnp.zeros(3), jnp.zeros(2))
    assert eqx.audit(good, strict=False).ok
    report = eqx.audit(good, strict=True)
    (violation,) = report.violations
    assert (violation.kind, violation.path) == ("unshaped", ".loose")
    assert re.match(
        r"Pair: field `.loose` holds an array but its annotation [\w.]*Array gives no "
        r"shape/dtype",
        violation.message,
    )
    # Shaped fields are not reported: a fully annotated model is strictly clean.
    assert eqx.audit(_mlp, strict=True).ok


def test_arrays_outside_modules_are_rows_without_annotation() -> None:
    report = eqx.audit({"model": eqx.nn.Linear(2, 3, key=jax.random.key(0)), "step": jnp.zeros(())})
    assert report.ok
    by_path = {r.path: r for r in report.rows}
    assert by_path["['step']"].status == "unannotated"
    assert by_path["['step']"].module is None
    assert by_path["['model'].weight"].status == "ok"


def test_factory_failures_propagate() -> None:
    class Checked(eqx.Module):
        x: Float[Array, " n"]

        def __check_init__(self) -> None:
            raise ValueError("x must be positive")

    with pytest.raises(ValueError, match="x must be positive"):
        eqx.audit(lambda: Checked(jnp.zeros(2)))


# ---------------------------------------------------------------------------------------
# Stacks: ensembles and scanned layers, audited per member.


def _ensemble(size: int = 5) -> eqx.nn.Linear:
    return eqx.filter_vmap(lambda k: eqx.nn.Linear(3, 4, key=k))(
        jax.random.split(jax.random.key(0), size)
    )


def _member_view(row: Any) -> tuple[Any, ...]:
    """A stack's row as the row of one member: the leading axes dropped."""
    return (row.path, row.module, row.field, row.annotation, row.dtype,
            row.shape[len(row.stack):], row.bindings, row.status)


def test_stacked_modules_are_audited_per_member() -> None:
    ensemble = _ensemble()
    for tree in (ensemble, eqx.filter_eval_shape(_ensemble)):
        report = eqx.audit(tree)
        assert report.ok, report.violations
        weight, bias = report.rows
        assert (weight.shape, weight.stack, weight.status) == ((5, 4, 3), (5,), "ok")
        assert weight.bindings == {"in_features": 3, "out_features": 4}
        assert (bias.shape, bias.stack) == ((5, 4), (5,))
        assert report.totals.parameters == 5 * (4 * 3 + 4) == sum(
            x.size for x in jax.tree_util.tree_leaves(ensemble)
        )
        assert report.totals.modules == 1
        assert "f32[5,4,3] stack[5]" in str(report)
        assert report.to_dict()["rows"][0]["stack"] == [5]
    # Each member, sliced out and audited alone, gives the member's part of each row.
    stacked = [_member_view(r) for r in eqx.audit(ensemble).rows]
    for i in range(5):
        member = jax.tree_util.tree_map(lambda x, i=i: x[i], ensemble)
        alone = eqx.audit(member)
        assert [r.stack for r in alone.rows] == [(), ()]
        assert [_member_view(r) for r in alone.rows] == stacked


def test_a_wrong_field_of_a_stack_names_its_members() -> None:
    # An array of a stack holds the field of every member, so a wrong shape is wrong
    # in each of them; the violation says so, with a member's shapes and bindings.
    with eqx.checks("off"):
        bad = eqx.tree_at(lambda m: m.weight, _ensemble(), jnp.zeros((5, 4, 2)))
    report = eqx.audit(bad)
    (violation,) = report.violations
    assert (violation.kind, violation.path) == ("field", ".weight")
    for fragment in (
        "Linear: field `.weight` does not match its annotation.",
        "got:      f32[4,2]",
        "bindings: in_features=3, out_features=4",
        "members:  each of the 5 members [0]..[4] of the stack of Linear at `(root)` "
        "(leading axes (5,) on every array); the shapes above are a member's",
    ):
        assert fragment in violation.message
    assert [(r.shape, r.stack, r.status) for r in report.rows] == [
        ((5, 4, 2), (5,), "mismatch"),
        ((5, 4), (5,), "ok"),
    ]
    # Not a stack (the arrays disagree on the leading axes): the plain mismatches,
    # without the members line.
    with eqx.checks("off"):
        ragged = eqx.tree_at(lambda m: m.bias, _ensemble(), jnp.zeros((6, 4)))
    report = eqx.audit(ragged)
    assert [v.path for v in report.violations] == [".weight", ".bias"]
    assert "got:      f32[5,4,3]" in report.violations[0].message
    assert all("members:" not in v.message for v in report.violations)
    assert all(r.stack == () for r in report.rows)


class Scanned(eqx.Module):
    """Layers stacked along a leading axis and applied with jax.lax.scan."""

    scale: Float[Array, " d"]
    layers: eqx.nn.Linear

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, " d"]:
        params, static = eqx.partition(self.layers, eqx.is_array)

        def step(h: jax.Array, layer: Any) -> tuple[jax.Array, None]:
            return jnp.tanh(eqx.combine(layer, static)(h)), None

        return jax.lax.scan(step, x * self.scale, params)[0]


def _scanned(key: jax.Array, depth: int = 3) -> Scanned:
    layers = eqx.filter_vmap(lambda k: eqx.nn.Linear(4, 4, key=k))(jax.random.split(key, depth))
    return Scanned(jnp.ones(4), layers)


def test_scanned_layers_and_ensembles_of_them_nest() -> None:
    report = eqx.audit(lambda: _scanned(jax.random.key(0)), inputs="f32[4]")
    assert report.ok, report.violations
    assert [(r.path, r.shape, r.stack) for r in report.rows] == [
        (".scale", (4,), ()),
        (".layers.weight", (3, 4, 4), (3,)),
        (".layers.bias", (3, 4), (3,)),
    ]
    assert report.calls[0].output == "f32[4]"
    # An ensemble of 2 such models: a stack (scale is f32[2,4]) of stacks.
    ensemble = eqx.filter_vmap(_scanned)(jax.random.split(jax.random.key(1), 2))
    report = eqx.audit(ensemble)
    assert report.ok, report.violations
    assert [(r.shape, r.stack, r.bindings) for r in report.rows] == [
        ((2, 4), (2,), {"d": 4}),
        ((2, 3, 4, 4), (2, 3), {"in_features": 4, "out_features": 4}),
        ((2, 3, 4), (2, 3), {"out_features": 4}),
    ]
    with eqx.checks("off"):
        bad = eqx.tree_at(lambda m: m.layers.bias, ensemble, jnp.zeros((2, 3, 5)))
    (violation,) = eqx.audit(bad).violations
    assert violation.path == ".layers.bias" and "got:      f32[5]" in violation.message
    assert "each of the 2 members [0]..[1] of the stack of Scanned at `(root)`" in violation.message
    assert "each of the 3 members [0]..[2] of the stack of Linear at `.layers`" in violation.message


# ---------------------------------------------------------------------------------------
# Forward pass.


class Block(eqx.Module):
    linear: eqx.nn.Linear

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, " d"]:
        return jax.nn.relu(self.linear(x))


class Net(eqx.Module):
    blocks: list[Block]
    head: eqx.nn.Linear

    def __call__(self, x: Float[Array, " d"]) -> Float[Array, " 2"]:
        for block in self.blocks:
            x = block(x)
        return self.head(x)


def _net(width_of_last_block: int = 4) -> Net:
    keys = jax.random.split(jax.random.key(0), 3)
    return Net(
        [
            Block(eqx.nn.Linear(4, 4, key=keys[0])),
            Block(eqx.nn.Linear(4, width_of_last_block, key=keys[1])),
        ],
        eqx.nn.Linear(4, 2, key=keys[2]),
    )


def test_forward_pass_rows_in_call_order() -> None:
    model = _net()
    report = eqx.audit(model, inputs="f32[4]")
    assert report.ok, report.violations
    assert report.inputs == ("f32[4]",)
    rows = [(c.path, c.module, c.depth, c.inputs, c.output, c.status) for c in report.calls]
    assert rows == [
        ("", "Net", 0, ("f32[4]",), "f32[2]", "ok"),
        (".blocks[0]", "Block", 1, ("f32[4]",), "f32[4]", "ok"),
        (".blocks[0].linear", "Linear", 2, ("f32[4]",), "f32[4]", "ok"),
        (".blocks[1]", "Block", 1, ("f32[4]",), "f32[4]", "ok"),
        (".blocks[1].linear", "Linear", 2, ("f32[4]",), "f32[4]", "ok"),
        (".head", "Linear", 1, ("f32[4]",), "f32[2]", "ok"),
    ]
    # The same output shape as JAX computes.
    expected = jax.eval_shape(model, jax.ShapeDtypeStruct((4,), jnp.float32))
    assert report.calls[0].output == f"f32[{expected.shape[0]}]"
    # Classes are restored after the audit.
    assert "recording" not in repr(type(model).__call__)
    assert model(jnp.ones(4)).shape == (2,)


def test_inputs_as_structs_arrays_and_lists() -> None:
    for inputs in (jax.ShapeDtypeStruct((4,), jnp.float32), jnp.ones(4), ["f32[4]"], ("f32[4]",)):
        report = eqx.audit(_net(), inputs=inputs)
        assert report.ok and report.inputs == ("f32[4]",)


def test_first_failing_layer_is_named_with_its_annotation() -> None:
    # Block 1 maps 4 -> 3, so Block 1's own return annotation (" d", bound to 4 by its
    # input) is the first thing to fail, after its Linear succeeded.
    report = eqx.audit(_net(width_of_last_block=3), inputs="f32[4]")
    (violation,) = report.violations
    assert (violation.kind, violation.path) == ("call", ".blocks[1]")
    for fragment in (
        "first fails in the call of Block at `.blocks[1]`",
        "Block.__call__: return value `return` does not match its annotation.",
        "expected: Float[Array, 'd']",
        "got:      f32[3]",
        "bindings: d=4",
    ):
        assert fragment in violation.message
    statuses = [(c.path, c.status) for c in report.calls]
    assert statuses == [
        ("", "aborted"),
        (".blocks[0]", "ok"),
        (".blocks[0].linear", "ok"),
        (".blocks[1]", "failed"),
        (".blocks[1].linear", "ok"),
    ]


def test_wrong_input_fails_at_the_first_layer() -> None:
    report = eqx.audit(_net(), inputs="f32[5]")
    (violation,) = report.violations
    assert violation.path == ".blocks[0].linear"
    assert "Net.__call__: argument `x`" not in violation.message  # ' d' accepts any size
    assert "Block.__call__" not in violation.message
    assert "Linear.__call__: argument `x` does not match its annotation." in violation.message
    assert report.calls[-1].path == ".blocks[0].linear"
    assert report.calls[-1].status == "failed"
    assert "`.blocks[0].linear`" in violation.message


class Broken(eqx.Module):
    def __call__(self, x: jax.Array) -> jax.Array:
        return x @ jnp.ones((7, 2))


class Outer(eqx.Module):
    inner: Broken

    def __call__(self, x: jax.Array) -> jax.Array:
        return self.inner(x)


def test_exceptions_other_than_checks_are_attributed_to_the_layer() -> None:
    (violation,) = eqx.audit(Outer(Broken()), inputs="f32[3]").violations
    assert violation.path == ".inner"
    assert "TypeError: dot_general requires contracting dimensions" in violation.message


def test_inputs_need_a_callable_module_and_valid_specs() -> None:
    with pytest.raises(TypeError, match="inputs= needs a callable Module to trace, but the audited tree is a tuple"):
        eqx.audit((_net(), _net()), inputs="f32[4]")
    with pytest.raises(ValueError, match=r"input spec 'f32\[4,x\]': size 'x' is not"):
        eqx.audit(_net(), inputs="f32[4,x]")


# ---------------------------------------------------------------------------------------
# Checkpoints.


def _linear(out_features: int = 4, *, use_bias: bool = True, dtype: object = None) -> eqx.nn.Linear:
    return eqx.nn.Linear(3, out_features, use_bias=use_bias, dtype=dtype, key=jax.random.key(0))


def _reference_loads(path: Path, like: eqx.nn.Linear) -> bool:
    """Whether Equinox loads the file into the same layer (made concrete)."""
    reference = reference_eqx.nn.Linear(
        3, like.out_features, use_bias=like.use_bias, dtype=like.weight.dtype, key=jax.random.key(0)
    )
    try:
        reference_eqx.tree_deserialise_leaves(path, reference)
    except RuntimeError:
        return False
    return True


def test_matching_checkpoint_is_ok_abstract_or_concrete(tmp_path: Path) -> None:
    path = tmp_path / "model.eqx"
    eqx.tree_serialise_leaves(path, _mlp())
    for tree in (_mlp, _mlp()):
        report = eqx.audit(tree, checkpoint=path)
        assert report.ok, report.violations
        assert report.checkpoint == str(path)
    # A path without a suffix names the `.eqx` file, as for tree_deserialise_leaves.
    assert eqx.audit(_mlp, checkpoint=tmp_path / "model").checkpoint == str(path)
    text = str(eqx.audit(_mlp, checkpoint=path))
    assert f"Checkpoint: {path} (compared leaf by leaf)" in text
    assert text.splitlines()[-1] == "OK: no violations (6 arrays, checkpoint checked)"


@pytest.mark.parametrize(
    ("saved", "audited", "expected"),
    [
        (
            {},
            {"out_features": 5},
            [
                (".weight", "shape differs: expected f32[5,3], got f32[4,3]"),
                (".bias", "shape differs: expected f32[5], got f32[4]"),
            ],
        ),
        (
            {},
            {"dtype": jnp.float16},
            [
                (".weight", "dtype differs: expected f16[4,3], got f32[4,3]"),
                (".bias", "dtype differs: expected f16[4], got f32[4]"),
            ],
        ),
        (
            {"use_bias": False},
            {},
            [(".bias", "leaf missing from the checkpoint: expected f32[4], got the end of the file")],
        ),
        (
            {},
            {"use_bias": False},
            [
                (
                    "<end>",
                    "checkpoint has more leaves than `like`: expected the end of "
                    "the file after 1 records, got 1 more: f32[4]",
                )
            ],
        ),
    ],
    ids=["shape", "dtype", "missing", "extra"],
)
def test_checkpoint_differences_are_violations_at_their_key_paths(
    tmp_path: Path, saved: dict[str, Any], audited: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    path = tmp_path / "model.eqx"
    eqx.tree_serialise_leaves(path, _linear(**saved))
    report = eqx.audit(lambda: _linear(**audited), checkpoint=path)
    assert [(v.kind, v.path, v.message) for v in report.violations] == [
        ("checkpoint", where, message) for where, message in expected
    ]
    # The fields themselves are fine: only the checkpoint disagrees.
    assert {row.status for row in report.rows} == {"ok"}
    # Equinox refuses the same files (extra records it ignores: it reads what it needs).
    assert _reference_loads(path, _linear(**audited)) == (expected[0][0] == "<end>")


def test_checkpoint_violations_follow_field_and_call_violations(tmp_path: Path) -> None:
    path = tmp_path / "net.eqx"
    eqx.tree_serialise_leaves(path, _net())
    with eqx.checks("off"):
        bad = eqx.tree_at(lambda m: m.head.bias, _net(), jnp.zeros(3))
    report = eqx.audit(bad, inputs="f32[4]", checkpoint=path)
    assert [(v.kind, v.path) for v in report.violations] == [
        ("field", ".head.bias"),
        ("call", ".head"),
        ("checkpoint", ".head.bias"),
    ]
    document = json.loads(report.to_json())
    assert document["checkpoint"] == str(path)
    assert document["violations"][2] == {
        "kind": "checkpoint",
        "path": ".head.bias",
        "message": "shape differs: expected f32[3], got f32[2]",
    }


def test_a_file_that_is_no_checkpoint_fails_at_the_first_leaf(tmp_path: Path) -> None:
    path = tmp_path / "notes.eqx"
    path.write_bytes(b"not a checkpoint")
    (violation,) = eqx.audit(_linear, checkpoint=path).violations
    assert (violation.kind, violation.path) == ("checkpoint", ".weight")
    assert violation.message == (
        "record is truncated or corrupt: expected a .npy record, got bytes b'not a ' "
        "(not the .npy magic)"
    )


def test_checkpoint_as_a_file_object_and_unreadable_files(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    eqx.tree_serialise_leaves(buffer, _linear())
    buffer.seek(0)
    report = eqx.audit(_linear, checkpoint=buffer)
    assert report.ok and report.checkpoint == "(file object)"
    with pytest.raises(FileNotFoundError, match="nothing.eqx"):
        eqx.audit(_linear, checkpoint=tmp_path / "nothing")


# ---------------------------------------------------------------------------------------
# Specs, JSON and text.


@pytest.mark.parametrize(
    ("text", "shape", "dtype"),
    [
        ("f32[32,784]", (32, 784), jnp.float32),
        ("bf16[ 8 , 2 ]", (8, 2), jnp.bfloat16),
        ("int32[]", (), jnp.int32),
        ("u8[3]", (3,), jnp.uint8),
        ("bool[2,2]", (2, 2), jnp.bool_),
        ("c64[1]", (1,), jnp.complex64),
    ],
)
def test_shape_specs(text: str, shape: tuple[int, ...], dtype: object) -> None:
    spec = parse_shape_spec(text)
    assert spec.shape == shape and spec.dtype == np.dtype(dtype)


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("f32", "is not of the form DTYPE[SIZE,...]"),
        ("q32[3]", "unknown dtype 'q32'"),
        ("f32[-1]", "size '-1' is not a non-negative integer"),
        ("f32[3]x", "is not of the form"),
    ],
)
def test_bad_shape_specs(text: str, fragment: str) -> None:
    with pytest.raises(ValueError, match=re.escape(fragment)):
        parse_shape_spec(text)


def test_json_schema() -> None:
    with eqx.checks("off"):
        bad = eqx.tree_at(lambda m: m.head.bias, _net(), jnp.zeros(3))
    document = json.loads(eqx.audit(bad, inputs="f32[4]").to_json())
    assert set(document) == {
        "schema", "ok", "inputs", "checkpoint", "rows", "calls", "violations", "totals"
    }
    assert document["schema"] == "equinox_typed.audit/2"
    assert document["ok"] is False and document["inputs"] == ["f32[4]"]
    assert document["checkpoint"] is None
    row = document["rows"][0]
    assert set(row) == {
        "path", "module", "field", "annotation", "dtype", "shape", "bindings", "status", "stack"
    }
    assert row["shape"] == [4, 4] and row["dtype"] == "float32" and row["stack"] == []
    assert set(document["calls"][0]) == {"path", "module", "depth", "inputs", "output", "status"}
    kinds = [v["kind"] for v in document["violations"]]
    assert kinds == ["field", "call"]
    assert set(document["violations"][0]) == {"kind", "path", "message"}
    totals = document["totals"]
    assert set(totals) == {"parameters", "bytes", "arrays", "modules", "static_leaves", "by_dtype"}
    assert totals["by_dtype"]["float32"]["parameters"] == totals["parameters"]
    assert totals["parameters"] == 4 * 4 + 4 + 4 * 4 + 4 + 2 * 4 + 3


def test_text_is_aligned_and_coloured_only_on_request() -> None:
    report = eqx.audit(_net(), inputs="f32[4]")
    text = str(report)
    assert "\x1b[" not in text
    lines = text.splitlines()
    header = lines[1]
    status_column = header.index("status")
    for line in lines[2 : 2 + len(report.rows)]:
        assert line[status_column:] == "ok"
    assert lines[-1] == f"OK: no violations ({len(report.rows)} arrays, 6 calls checked)"
    parameters = report.totals.parameters
    assert f"Totals: {parameters:,} parameters" in text
    coloured = render_report(report, colour=True)
    assert "\x1b[32mok\x1b[0m" in coloured


def test_rich_tables_when_installed() -> None:
    pytest.importorskip("rich")
    with eqx.checks("off"):
        bad = eqx.tree_at(lambda m: m.head.bias, _net(), jnp.zeros(3))
    out = io.StringIO()
    print_report_rich(eqx.audit(bad), out, title="== net")
    text = out.getvalue()
    assert text.startswith("== net")
    assert ".head.bias" in text and "mismatch" in text
    assert "FAILED: 1 violation" in text.splitlines()[-1]


def test_byte_counts_per_dtype() -> None:
    tree = {"a": jnp.zeros((2, 3), jnp.bfloat16), "b": jnp.zeros(5, jnp.int8), "c": np.zeros(4)}
    totals = eqx.audit(tree).totals
    by_dtype = {t.dtype: (t.arrays, t.parameters, t.bytes) for t in totals.by_dtype}
    assert by_dtype == {"bfloat16": (1, 6, 12), "int8": (1, 5, 5), "float64": (1, 4, 32)}
    assert totals.bytes == 12 + 5 + 32 and totals.parameters == 15
    assert [t.dtype for t in totals.by_dtype] == ["float64", "bfloat16", "int8"]
