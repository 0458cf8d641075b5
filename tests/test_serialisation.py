"""Checkpoints: Equinox's file format both ways, atomic saves, strict loading, diffs."""

from __future__ import annotations

import io
import os
import pathlib
import pickle
import signal
import subprocess
import sys
import textwrap
import time
from typing import Any

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import ml_dtypes
import numpy as np
import pytest

import equinox_typed as eqx
from equinox_typed._serialisation import (
    CheckpointDifference,
    CheckpointError,
    diff_checkpoint,
)

equinox = pytest.importorskip("equinox")

KEY = jax.random.key(0)


def _bytes_of(save: Any, tree: Any, **kwargs: Any) -> bytes:
    buffer = io.BytesIO()
    save(buffer, tree, **kwargs)
    return buffer.getvalue()


def _array_leaves(tree: Any) -> list[np.ndarray[Any, Any]]:
    return [np.asarray(x) for x in jtu.tree_leaves(tree) if eqx.is_array(x)]


def _assert_same_arrays(a: Any, b: Any) -> None:
    left, right = _array_leaves(a), _array_leaves(b)
    assert len(left) == len(right) > 0
    for x, y in zip(left, right, strict=True):
        assert x.dtype == y.dtype and x.shape == y.shape
        np.testing.assert_array_equal(x, y)


def _models(width: int = 4) -> tuple[Any, Any]:
    """The same MLP (same weights) from each library."""
    return (
        equinox.nn.MLP(2, 3, width, 2, key=KEY),
        eqx.nn.MLP(2, 3, width, 2, key=KEY),
    )


# --------------------------------------------------------------------------------------
# Format parity with Equinox
# --------------------------------------------------------------------------------------


def test_mlp_bytes_identical_to_equinox() -> None:
    theirs, ours = _models()
    _assert_same_arrays(theirs, ours)
    assert _bytes_of(eqx.tree_serialise_leaves, ours) == _bytes_of(
        equinox.tree_serialise_leaves, theirs
    )


def test_equinox_file_loads_here_and_ours_loads_in_equinox(tmp_path: pathlib.Path) -> None:
    theirs = equinox.nn.MLP(2, 3, 4, 2, key=jax.random.key(1))
    ours_like = eqx.nn.MLP(2, 3, 4, 2, key=jax.random.key(2))
    equinox.tree_serialise_leaves(tmp_path / "a.eqx", theirs)
    loaded = eqx.tree_deserialise_leaves(tmp_path / "a.eqx", ours_like)
    assert type(loaded) is eqx.nn.MLP
    _assert_same_arrays(loaded, theirs)

    ours = eqx.nn.MLP(2, 3, 4, 2, key=jax.random.key(3))
    eqx.tree_serialise_leaves(tmp_path / "b", ours)  # no suffix: ".eqx" is added
    assert (tmp_path / "b.eqx").exists()
    back = equinox.tree_deserialise_leaves(tmp_path / "b", theirs)
    _assert_same_arrays(back, ours)


def test_stateful_layer_state_round_trips_both_ways() -> None:
    with pytest.warns(UserWarning):  # Equinox's BatchNorm mode default warning
        theirs, their_state = equinox.nn.make_with_state(equinox.nn.BatchNorm)(3, "batch")
    ours, our_state = eqx.nn.make_with_state(eqx.nn.BatchNorm)(3, "batch", mode="ema")
    # Give the state non-trivial values so the round trip proves something.
    batch = jax.random.normal(KEY, (8, 3))
    run = jax.vmap(theirs, axis_name="batch", in_axes=(0, None), out_axes=(0, None))
    _, their_state = run(batch, their_state)
    their_bytes = _bytes_of(equinox.tree_serialise_leaves, (theirs, their_state))

    loaded, loaded_state = eqx.tree_deserialise_leaves(io.BytesIO(their_bytes), (ours, our_state))
    assert type(loaded_state) is eqx.nn.State
    _assert_same_arrays(loaded_state, their_state)
    assert _bytes_of(eqx.tree_serialise_leaves, (loaded, loaded_state)) == their_bytes
    again = equinox.tree_deserialise_leaves(io.BytesIO(their_bytes), (theirs, their_state))
    _assert_same_arrays(again, (loaded, loaded_state))


MIXED = {
    "jax": jnp.arange(6.0).reshape(2, 3),
    "int": jnp.arange(3, dtype=jnp.int32),
    "bf16": jnp.array([1.5, -2.0], dtype=jnp.bfloat16),
    "np": np.arange(4, dtype=np.int16),
    "np_bf16": np.array([0.5], dtype=ml_dtypes.bfloat16),
    "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
    "np_scalar": np.float32(2.5),
    "py": (True, 3, 1.5, 2 + 1j),
    "none": None,
    "fn": jax.nn.relu,
    "text": "kept from like",
}


def test_mixed_leaves_bytes_match_equinox_and_round_trip() -> None:
    data = _bytes_of(eqx.tree_serialise_leaves, MIXED)
    assert data == _bytes_of(equinox.tree_serialise_leaves, MIXED)
    like = jtu.tree_map(lambda x: x * 0 if eqx.is_array(x) else x, MIXED)
    like["py"] = (False, 0, 0.0, 0j)
    like["text"] = "from like"
    out = eqx.tree_deserialise_leaves(io.BytesIO(data), like)
    assert out["text"] == "from like" and out["fn"] is jax.nn.relu and out["none"] is None
    assert out["py"] == (True, 3, 1.5, 2 + 1j)
    assert [type(v) for v in out["py"]] == [bool, int, float, complex]
    assert isinstance(out["jax"], jax.Array) and isinstance(out["np"], np.ndarray)
    assert type(out["np_scalar"]) is np.float32 and out["np_scalar"] == 2.5
    assert out["bf16"].dtype == jnp.bfloat16 and out["np_bf16"].dtype == ml_dtypes.bfloat16
    for name in ("jax", "int", "bf16", "np", "np_bf16", "fortran"):
        np.testing.assert_array_equal(np.asarray(out[name]), np.asarray(MIXED[name]))
    # Equinox reads the same bytes to the same values (its NumPy bfloat16 aside: it
    # cannot read that one back, so it is left out of its comparison).
    theirs = equinox.tree_deserialise_leaves(
        io.BytesIO(data), like, filter_spec={**{k: equinox.default_deserialise_filter_spec for k in like}, "np_bf16": lambda f, x: (np.load(f), x)[1]}
    )
    for name in ("jax", "int", "bf16", "np", "fortran"):
        np.testing.assert_array_equal(np.asarray(theirs[name]), np.asarray(out[name]))


def test_abstract_like_from_filter_eval_shape(tmp_path: pathlib.Path) -> None:
    model = eqx.nn.MLP(2, 3, 4, 2, key=KEY)
    eqx.tree_serialise_leaves(tmp_path / "m.eqx", model)
    skeleton = eqx.filter_eval_shape(eqx.nn.MLP, 2, 3, 4, 2, key=KEY)
    assert isinstance(skeleton.layers[0].weight, jax.ShapeDtypeStruct)
    loaded = eqx.tree_deserialise_leaves(tmp_path / "m.eqx", skeleton)
    assert isinstance(loaded.layers[0].weight, jax.Array)
    _assert_same_arrays(loaded, model)
    x = jnp.ones(2)
    np.testing.assert_array_equal(loaded(x), model(x))


def test_custom_filter_specs_match_equinox() -> None:
    tree = (jnp.arange(3.0), np.arange(2.0), 7)

    def skip_numpy(f: Any, x: Any) -> None:
        if not isinstance(x, np.ndarray):
            eqx.default_serialise_filter_spec(f, x)

    def skip_numpy_eqx(f: Any, x: Any) -> None:
        if not isinstance(x, np.ndarray):
            equinox.default_serialise_filter_spec(f, x)

    ours = _bytes_of(eqx.tree_serialise_leaves, tree, filter_spec=skip_numpy)
    assert ours == _bytes_of(equinox.tree_serialise_leaves, tree, filter_spec=skip_numpy_eqx)
    like = (jnp.zeros(3), np.full(2, 5.0), 0)

    def keep_numpy(f: Any, x: Any) -> Any:
        return x if isinstance(x, np.ndarray) else eqx.default_deserialise_filter_spec(f, x)

    out = eqx.tree_deserialise_leaves(io.BytesIO(ours), like, filter_spec=keep_numpy)
    np.testing.assert_array_equal(out[0], tree[0])
    np.testing.assert_array_equal(out[1], like[1])
    assert out[2] == 7

    # A PyTree prefix of specs: the middle element is handled by its own function.
    prefix = (
        eqx.default_serialise_filter_spec,
        lambda f, x: None,
        eqx.default_serialise_filter_spec,
    )
    assert _bytes_of(eqx.tree_serialise_leaves, tree, filter_spec=prefix) == ours
    load_prefix = (
        eqx.default_deserialise_filter_spec,
        lambda f, x: x,
        eqx.default_deserialise_filter_spec,
    )
    out2 = eqx.tree_deserialise_leaves(io.BytesIO(ours), like, filter_spec=load_prefix)
    assert out2[2] == 7


def test_custom_spec_returning_wrong_shape_is_reported() -> None:
    data = _bytes_of(eqx.tree_serialise_leaves, {"w": jnp.zeros(3)})
    with pytest.raises(CheckpointError, match=r"\['w'\]: shape differs: expected f32\[3\], got f32\[4\]"):
        eqx.tree_deserialise_leaves(
            io.BytesIO(data), {"w": jnp.zeros(3)}, filter_spec=lambda f, x: jnp.zeros(4)
        )


def test_int64_record_into_int32_leaf_without_x64_as_equinox() -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.arange(3, dtype=np.int64))
    like = jnp.zeros(3, dtype=jnp.int32)
    ours = eqx.tree_deserialise_leaves(io.BytesIO(buffer.getvalue()), like)
    theirs = equinox.tree_deserialise_leaves(io.BytesIO(buffer.getvalue()), like)
    assert ours.dtype == theirs.dtype == jnp.int32
    np.testing.assert_array_equal(ours, theirs)


def test_python_scalars_accept_widening_refuse_narrowing() -> None:
    as_int = _bytes_of(eqx.tree_serialise_leaves, 3)
    assert eqx.tree_deserialise_leaves(io.BytesIO(as_int), 0.0) == 3.0
    as_float = _bytes_of(eqx.tree_serialise_leaves, 2.5)
    with pytest.raises(CheckpointError, match=r"<root>: dtype differs: expected a Python int, got f64\[\]"):
        eqx.tree_deserialise_leaves(io.BytesIO(as_float), 0)
    as_vector = _bytes_of(eqx.tree_serialise_leaves, np.zeros(2))
    with pytest.raises(CheckpointError, match=r"expected a Python float, got f64\[2\] \(not a scalar\)"):
        eqx.tree_deserialise_leaves(io.BytesIO(as_vector), 0.0)


# --------------------------------------------------------------------------------------
# Mismatches: errors naming the leaf and what differs
# --------------------------------------------------------------------------------------


def _saved_mlp(tmp_path: pathlib.Path, width: int = 4) -> pathlib.Path:
    path = tmp_path / "model.eqx"
    eqx.tree_serialise_leaves(path, eqx.nn.MLP(2, 3, width, 2, key=KEY))
    return path


def test_shape_mismatch_names_first_leaf(tmp_path: pathlib.Path) -> None:
    path = _saved_mlp(tmp_path)
    like = eqx.nn.MLP(2, 3, 5, 2, key=KEY)
    with pytest.raises(CheckpointError) as info:
        eqx.tree_deserialise_leaves(path, like)
    assert info.value.difference == CheckpointDifference(
        ".layers[0].weight", "shape", "f32[5,2]", "f32[4,2]"
    )
    assert str(path) in str(info.value)
    assert ".layers[0].weight: shape differs: expected f32[5,2], got f32[4,2]" in str(info.value)
    assert isinstance(info.value, RuntimeError)  # as Equinox's mismatch errors


def test_dtype_mismatch(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "t.eqx"
    eqx.tree_serialise_leaves(path, {"a": jnp.zeros(2), "b": jnp.zeros(3)})
    with pytest.raises(CheckpointError, match=r"\['b'\]: dtype differs: expected i32\[3\], got f32\[3\]"):
        eqx.tree_deserialise_leaves(path, {"a": jnp.zeros(2), "b": jnp.zeros(3, jnp.int32)})
    with pytest.raises(CheckpointError, match=r"expected f16\[2\]\(numpy\), got f32\[2\]"):
        eqx.tree_deserialise_leaves(path, {"a": np.zeros(2, np.float16), "b": jnp.zeros(3)})


def test_missing_leaf_when_like_is_longer(tmp_path: pathlib.Path) -> None:
    path = _saved_mlp(tmp_path)
    like = eqx.nn.MLP(2, 3, 4, 3, key=KEY)  # one more layer
    with pytest.raises(CheckpointError) as info:
        eqx.tree_deserialise_leaves(path, like)
    # The second layer is already 4x4 where the file has 3x4, so shapes differ first.
    assert info.value.difference.path == ".layers[2].weight"
    assert info.value.difference.kind == "shape"

    short = tmp_path / "short.eqx"
    eqx.tree_serialise_leaves(short, (jnp.zeros(2),))
    with pytest.raises(CheckpointError) as info2:
        eqx.tree_deserialise_leaves(short, (jnp.zeros(2), jnp.ones(3)))
    assert info2.value.difference == CheckpointDifference(
        "[1]", "missing", "f32[3]", "the end of the file"
    )
    assert "[1]: leaf missing from the checkpoint" in str(info2.value)


def test_extra_records_in_a_path_are_refused_but_a_file_object_may_hold_more(
    tmp_path: pathlib.Path,
) -> None:
    path = tmp_path / "t.eqx"
    eqx.tree_serialise_leaves(path, (jnp.zeros(2), jnp.ones(3), np.int8(1)))
    with pytest.raises(CheckpointError) as info:
        eqx.tree_deserialise_leaves(path, (jnp.zeros(2),))
    assert info.value.difference == CheckpointDifference(
        "<end>", "extra", "the end of the file after 1 records", "2 more: f32[3], i8[]"
    )
    # A file object: the caller may keep other data after the tree (Equinox's pattern).
    with open(path, "rb") as f:
        first = eqx.tree_deserialise_leaves(f, (jnp.ones(2),))
        second = eqx.tree_deserialise_leaves(f, (jnp.zeros(3),))
    np.testing.assert_array_equal(first[0], np.zeros(2))
    np.testing.assert_array_equal(second[0], np.ones(3))


def test_truncated_data_is_corrupt(tmp_path: pathlib.Path) -> None:
    path = _saved_mlp(tmp_path)
    data = path.read_bytes()
    path.write_bytes(data[:-5])
    with pytest.raises(CheckpointError) as info:
        eqx.tree_deserialise_leaves(path, eqx.nn.MLP(2, 3, 4, 2, key=KEY))
    d = info.value.difference
    assert (d.path, d.kind) == (".layers[2].bias", "corrupt")
    assert d.expected == "f32[3] (12 bytes)" and d.got == "7 bytes before the end of the file"


def test_garbage_is_corrupt_and_header_damage_is_named(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "junk.eqx"
    path.write_bytes(b"not a checkpoint at all")
    with pytest.raises(CheckpointError, match=r"<root>: record is truncated or corrupt: expected a .npy record, got bytes b'not a '"):
        eqx.tree_deserialise_leaves(path, jnp.zeros(2))
    good = _bytes_of(eqx.tree_serialise_leaves, jnp.zeros(2))
    header_end = good.index(b"}")
    broken = good[:12] + good[12:header_end].replace(b"'shape'", b"'shap!'") + good[header_end:]
    path.write_bytes(broken)
    with pytest.raises(CheckpointError, match="an unreadable header"):
        eqx.tree_deserialise_leaves(path, jnp.zeros(2))


class _Boom:
    """Unpickling this object would create the marker file."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> Any:
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def test_pickled_records_are_never_unpickled(tmp_path: pathlib.Path) -> None:
    marker = tmp_path / "unpickled"
    payload = np.array([_Boom(str(marker))], dtype=object)
    path = tmp_path / "evil.eqx"
    with open(path, "wb") as f:
        np.save(f, payload, allow_pickle=True)
    pickle.loads(pickle.dumps(_Boom(str(tmp_path / "control"))))  # the bomb is live
    assert (tmp_path / "control").exists()
    for like in (jnp.zeros(1), np.zeros(1), 0.0):
        with pytest.raises(CheckpointError, match="pickled Python objects"):
            eqx.tree_deserialise_leaves(path, like)
    assert [d.kind for d in diff_checkpoint(path, jnp.zeros(1))] == ["corrupt"]
    assert not marker.exists()


def test_saving_object_arrays_is_refused_naming_the_leaf() -> None:
    with pytest.raises(TypeError, match="object dtype") as info:
        eqx.tree_serialise_leaves(io.BytesIO(), {"w": np.array([object()])})
    assert any("['w']" in note for note in info.value.__notes__)


def test_failed_load_returns_nothing_and_leaves_like_untouched(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "t.eqx"
    eqx.tree_serialise_leaves(path, (np.ones(2), np.ones(3)))
    like = (np.zeros(2), np.zeros(4))
    with pytest.raises(CheckpointError, match=r"\[1\]: shape differs"):
        eqx.tree_deserialise_leaves(path, like)
    np.testing.assert_array_equal(like[0], np.zeros(2))


# --------------------------------------------------------------------------------------
# diff_checkpoint
# --------------------------------------------------------------------------------------


class _CountingReader(io.BytesIO):
    bytes_read = 0

    def read(self, size: int | None = -1, /) -> bytes:
        data = super().read(size)
        self.bytes_read += len(data)
        return data


def test_diff_reads_headers_only_and_lists_every_difference() -> None:
    big = {"a": jnp.zeros((512, 512)), "b": jnp.zeros((256,)), "c": jnp.zeros(3)}
    data = _bytes_of(eqx.tree_serialise_leaves, big)
    like = {"a": jax.ShapeDtypeStruct((512, 512), jnp.float32), "b": jnp.zeros(255), "c": jnp.zeros(3, jnp.int32)}
    f = _CountingReader(data)
    diffs = diff_checkpoint(f, like)
    assert diffs == [
        CheckpointDifference("['b']", "shape", "f32[255]", "f32[256]"),
        CheckpointDifference("['c']", "dtype", "i32[3]", "f32[3]"),
    ]
    assert f.bytes_read < 1024 < len(data)  # three headers, no data
    assert diff_checkpoint(io.BytesIO(data), big) == []
    assert diffs[0].message == "['b']: shape differs: expected f32[255], got f32[256]"


def test_diff_missing_lists_the_rest_and_extra_summarises(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "t.eqx"
    eqx.tree_serialise_leaves(path, [jnp.zeros(1)])
    assert diff_checkpoint(path, [jnp.zeros(1), jnp.zeros(2), "static", np.float32(0)]) == [
        CheckpointDifference("[1]", "missing", "f32[2]", "the end of the file"),
        CheckpointDifference("[3]", "missing", "f32[] (numpy scalar)", "the end of the file"),
    ]
    assert [d.kind for d in diff_checkpoint(path, [])] == ["extra"]
    path.write_bytes(path.read_bytes()[:-1])
    (only,) = diff_checkpoint(path, [jnp.zeros(1)])
    assert (only.kind, only.got) == ("corrupt", "3 bytes before the end of the file")


def test_diff_agrees_with_loading_on_which_leaf_fails_first(tmp_path: pathlib.Path) -> None:
    path = _saved_mlp(tmp_path)
    for width, depth in [(4, 2), (5, 2), (4, 3), (4, 1)]:
        like = eqx.filter_eval_shape(eqx.nn.MLP, 2, 3, width, depth, key=KEY)
        diffs = diff_checkpoint(path, like)
        if not diffs:
            eqx.tree_deserialise_leaves(path, like)
            continue
        with pytest.raises(CheckpointError) as info:
            eqx.tree_deserialise_leaves(path, like)
        assert info.value.difference == diffs[0]


# --------------------------------------------------------------------------------------
# Atomic saves
# --------------------------------------------------------------------------------------


def test_exception_mid_save_keeps_old_file_and_cleans_up(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "model.eqx"
    eqx.tree_serialise_leaves(path, jnp.arange(3.0))
    before = path.read_bytes()

    def fails_on_second(f: Any, x: Any) -> None:
        if isinstance(x, str):
            raise OSError("disk full")
        eqx.default_serialise_filter_spec(f, x)

    with pytest.raises(OSError, match="disk full"):
        eqx.tree_serialise_leaves(path, (jnp.zeros(5), "boom"), filter_spec=fails_on_second)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.eqx"]


def test_saved_file_gets_ordinary_permissions(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "p.eqx"
    eqx.tree_serialise_leaves(path, jnp.zeros(1))
    with open(tmp_path / "plain", "wb"):
        pass
    assert path.stat().st_mode & 0o777 == (tmp_path / "plain").stat().st_mode & 0o777


_KILLED_SAVE = textwrap.dedent(
    """
    import pathlib, sys, time
    import jax.numpy as jnp
    import equinox_typed as eqx

    target = pathlib.Path(sys.argv[1])

    def slow(f, x):
        eqx.default_serialise_filter_spec(f, x)
        f.flush()
        pathlib.Path(sys.argv[2]).touch()  # half written: tell the parent to kill us
        time.sleep(60)

    eqx.tree_serialise_leaves(target, [jnp.ones(1000), jnp.ones(1000)], filter_spec=slow)
    """
)


def test_killed_mid_save_leaves_the_old_checkpoint(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "model.eqx"
    old = (jnp.arange(4.0),)
    eqx.tree_serialise_leaves(path, old)
    before = path.read_bytes()
    ready = tmp_path / "ready"
    proc = subprocess.Popen([sys.executable, "-c", _KILLED_SAVE, str(path), str(ready)])
    try:
        deadline = time.monotonic() + 120
        while not ready.exists():
            assert proc.poll() is None, "the saving process exited early"
            assert time.monotonic() < deadline, "the saving process never started writing"
            time.sleep(0.05)
        temps = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
        assert len(temps) == 1 and temps[0].stat().st_size > 0  # really mid-save
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    assert path.read_bytes() == before
    loaded = eqx.tree_deserialise_leaves(path, (jnp.zeros(4),))
    np.testing.assert_array_equal(loaded[0], old[0])
