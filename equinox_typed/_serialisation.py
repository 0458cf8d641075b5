"""Checkpoints: the leaves of a PyTree saved as consecutive ``.npy`` records.

The format is Equinox's (one ``numpy.save`` record per saved leaf, depth-first, no
header of its own), so files move freely between the two libraries. What this module
adds: saving to a path is atomic, loading reads ``.npy`` records with its own parser
(no pickle, ever; a truncated or corrupt record is named as such), and a mismatch
between the file and ``like`` is reported as a :class:`CheckpointDifference` naming the
key path of the leaf. :func:`diff_checkpoint` lists those differences without loading
any array data.
"""

from __future__ import annotations

import ast
import dataclasses
import math
import os
import pathlib
import secrets
import struct
from collections.abc import Callable, Generator
from contextlib import contextmanager
from typing import IO, Any, Final, Literal, NamedTuple, Protocol, TypeAlias, cast

import jax
import numpy as np

from ._jax_typed import TreeDef, asarray, keystr, tree_flatten_with_path
from ._pretty import array_summary, dtype_code

__all__ = [
    "CheckpointDifference",
    "CheckpointError",
    "checkpoint_path",
    "default_deserialise_filter_spec",
    "default_serialise_filter_spec",
    "diff_checkpoint",
    "tree_deserialise_leaves",
    "tree_serialise_leaves",
]


class SupportsWrite(Protocol):
    def write(self, data: bytes, /) -> object: ...


class SupportsReadSeek(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...

    def seek(self, offset: int, whence: int = ..., /) -> object: ...


PathOrFile: TypeAlias = "str | os.PathLike[str] | SupportsReadSeek"
Kind: TypeAlias = Literal["missing", "extra", "shape", "dtype", "corrupt"]

_KIND_TEXT: Final[dict[str, str]] = {
    "missing": "leaf missing from the checkpoint",
    "extra": "checkpoint has more leaves than `like`",
    "shape": "shape differs",
    "dtype": "dtype differs",
    "corrupt": "record is truncated or corrupt",
}


@dataclasses.dataclass(frozen=True)
class CheckpointDifference:
    """One way in which a checkpoint file differs from the tree it is loaded into.

    - ``path``: key path of the leaf in ``like`` (``".layers[0].weight"``; ``""`` is the
      root, and ``"<end>"`` the place after the last leaf, for extra records).
    - ``kind``: ``"missing"`` (the file ends first), ``"extra"`` (records left after the
      last leaf), ``"shape"``, ``"dtype"`` or ``"corrupt"`` (not a readable ``.npy``
      record: bad magic or header, truncated data, pickled objects).
    - ``expected``: what ``like`` asks for, e.g. ``"f32[3,4]"``.
    - ``got``: what the file holds there, e.g. ``"f32[4,3]"``.

    ```python
    diffs = diff_checkpoint("model.eqx", model)
    print("\\n".join(d.message for d in diffs))
    ```
    """

    path: str
    kind: Kind
    expected: str
    got: str

    @property
    def detail(self) -> str:
        """One line without the key path: what kind of difference, expected and got."""
        return f"{_KIND_TEXT[self.kind]}: expected {self.expected}, got {self.got}"

    @property
    def message(self) -> str:
        """One line: where, what kind of difference, expected and got."""
        return f"{self.path or '<root>'}: {self.detail}"


class CheckpointError(RuntimeError):
    """A checkpoint does not match the tree it is loaded into, or is unreadable.

    ``difference`` holds the first :class:`CheckpointDifference` found.
    """

    def __init__(self, difference: CheckpointDifference, source: str) -> None:
        super().__init__(f"Cannot load checkpoint {source}: {difference.message}")
        self.difference = difference


class _Mismatch(Exception):
    """Raised by the default loader for one leaf; the walker adds the key path."""

    def __init__(self, kind: Kind, expected: str, got: str) -> None:
        super().__init__(kind, expected, got)
        self.kind: Kind = kind
        self.expected = expected
        self.got = got


# --------------------------------------------------------------------------------------
# .npy records, parsed here so that nothing is ever unpickled and headers can be read
# without the data (numpy.lib.format's header readers are private API).
# --------------------------------------------------------------------------------------

_MAGIC: Final = b"\x93NUMPY"
_HEADER_LENGTH_FORMAT: Final = {1: "<H", 2: "<I", 3: "<I"}


class _Record(NamedTuple):
    shape: tuple[int, ...]
    dtype: np.dtype[Any]
    fortran_order: bool

    @property
    def nbytes(self) -> int:
        return math.prod(self.shape) * self.dtype.itemsize

    def summary(self) -> str:
        return f"{dtype_code(self.dtype)}[{','.join(map(str, self.shape))}]"


def _read_exactly(f: SupportsReadSeek, size: int, what: str) -> bytes:
    data = f.read(size)
    if len(data) != size:
        raise _Mismatch("corrupt", what, f"{len(data)} bytes before the end of the file")
    return data


def _read_header(f: SupportsReadSeek) -> _Record | None:
    """The header of the next record, the file positioned at its data; ``None`` at the
    end of the file."""
    magic = f.read(len(_MAGIC))
    if len(magic) == 0:
        return None
    if magic != _MAGIC:
        raise _Mismatch("corrupt", "a .npy record", f"bytes {magic[:6]!r} (not the .npy magic)")
    major = _read_exactly(f, 2, "a .npy version")[0]
    length_format = _HEADER_LENGTH_FORMAT.get(major)
    if length_format is None:
        raise _Mismatch("corrupt", "a .npy record of version 1, 2 or 3", f"version {major}")
    size_bytes = _read_exactly(f, struct.calcsize(length_format), "a .npy header length")
    (length,) = struct.unpack(length_format, size_bytes)
    raw = _read_exactly(f, length, f"a .npy header of {length} bytes")
    try:
        header = ast.literal_eval(raw.decode("utf8" if major == 3 else "latin1"))
        shape = tuple(int(n) for n in header["shape"])
        dtype = np.lib.format.descr_to_dtype(header["descr"])
        fortran = bool(header["fortran_order"])
    except (ValueError, SyntaxError, TypeError, KeyError) as e:
        raise _Mismatch("corrupt", "a .npy header", f"an unreadable header ({e})") from None
    if dtype.hasobject:
        raise _Mismatch(
            "corrupt", "numeric data", "pickled Python objects (refused: loading never unpickles)"
        )
    if any(n < 0 for n in shape):
        raise _Mismatch("corrupt", "a .npy header", f"negative shape {shape}")
    return _Record(shape, dtype, fortran)


def _read_data(f: SupportsReadSeek, record: _Record) -> np.ndarray[Any, Any]:
    buffer = bytearray(_read_exactly(f, record.nbytes, f"{record.summary()} ({record.nbytes} bytes)"))
    flat = np.frombuffer(buffer, dtype=record.dtype)
    return flat.reshape(record.shape, order="F" if record.fortran_order else "C")


def _skip_data(f: SupportsReadSeek, record: _Record, end: int) -> None:
    here = _tell(f)
    if here + record.nbytes > end:
        raise _Mismatch(
            "corrupt",
            f"{record.summary()} ({record.nbytes} bytes)",
            f"{end - here} bytes before the end of the file",
        )
    f.seek(record.nbytes, os.SEEK_CUR)


# --------------------------------------------------------------------------------------
# Which leaves are saved, and how a record is matched against a leaf of `like`.
# --------------------------------------------------------------------------------------

_PY_SCALAR_DTYPES: Final[dict[type, np.dtype[Any]]] = {
    bool: np.dtype(bool),
    int: np.dtype(np.int64),
    float: np.dtype(np.float64),
    complex: np.dtype(np.complex128),
}


def _scalar_dtype(x: object) -> np.dtype[Any] | None:
    """The dtype NumPy stores a Python scalar (or a subclass, e.g. an ``IntEnum``) as."""
    for kind in (bool, int, float, complex):  # bool first: it subclasses int
        if isinstance(x, kind):
            return _PY_SCALAR_DTYPES[kind]
    return None


def _is_saved(x: object) -> bool:
    if isinstance(x, (jax.Array, np.ndarray, np.generic)):
        return True
    return _scalar_dtype(x) is not None


def _is_loaded(x: object) -> bool:
    return _is_saved(x) or isinstance(x, jax.ShapeDtypeStruct)


def _describe_leaf(x: Any) -> str:
    if isinstance(x, np.generic):
        scalar = cast(Any, x)  # NumPy's stubs leave a generic scalar's dtype partly unknown
        return f"{dtype_code(scalar.dtype)}[] (numpy scalar)"
    if _scalar_dtype(x) is not None:
        return f"a Python {type(x).__name__}"
    return array_summary(x, numpy=isinstance(x, np.ndarray))


def _stored_dtype(record: _Record, wanted: np.dtype[Any]) -> np.dtype[Any]:
    """NumPy writes dtypes it does not know (bfloat16, float8...) as raw bytes (``V2``);
    read them back as the leaf's dtype when the widths agree, as ``jnp.load`` does."""
    raw_bytes = record.dtype.kind == "V" and record.dtype.names is None
    if raw_bytes and record.dtype.itemsize == wanted.itemsize:
        return wanted
    return record.dtype


def _match(record: _Record, leaf: Any) -> np.dtype[Any]:
    """Raise :class:`_Mismatch` unless ``record`` can become ``leaf``; returns the dtype
    to read the record's bytes as."""
    target = _scalar_dtype(leaf)
    if target is not None:
        got = record.dtype
        if record.shape != ():
            raise _Mismatch("shape", _describe_leaf(leaf), f"{record.summary()} (not a scalar)")
        if not np.can_cast(got, target, "same_kind"):
            raise _Mismatch("dtype", _describe_leaf(leaf), f"{dtype_code(got)}[]")
        return got
    wanted = np.dtype(leaf.dtype)
    got = _stored_dtype(record, wanted)
    if isinstance(leaf, (jax.Array, jax.ShapeDtypeStruct)):
        # What jnp.asarray makes of the stored dtype (int64 -> int32 without x64).
        got_in_jax = np.dtype(jax.dtypes.canonicalize_dtype(got))
    else:
        got_in_jax = got
    if tuple(record.shape) != tuple(leaf.shape):
        raise _Mismatch("shape", _describe_leaf(leaf), record.summary())
    if got_in_jax != wanted:
        raise _Mismatch("dtype", _describe_leaf(leaf), f"{dtype_code(got)}[{','.join(map(str, record.shape))}]")
    return got


def _convert(data: np.ndarray[Any, Any], leaf: Any) -> Any:
    if _scalar_dtype(leaf) is not None:
        return type(leaf)(data.item())
    if isinstance(leaf, np.generic):
        return data.reshape(())[()]
    if isinstance(leaf, np.ndarray):
        return data
    if not data.dtype.isnative:
        data = data.astype(data.dtype.newbyteorder("="))
    return asarray(data, dtype=leaf.dtype)


def default_serialise_filter_spec(f: SupportsWrite, x: Any) -> None:
    """Write leaf ``x`` to ``f`` if it is an array: JAX arrays, NumPy arrays and scalars,
    and Python ``bool``/``int``/``float``/``complex`` become one ``.npy`` record each;
    anything else (functions, strings, ``ShapeDtypeStruct``...) is not saved.

    - ``f``: the open binary file.
    - ``x``: the leaf.

    Build your own spec on top of it, e.g. to skip one kind of leaf:

    ```python
    def skip_numpy(f, x):
        if not isinstance(x, np.ndarray):
            eqx.default_serialise_filter_spec(f, x)
    ```
    """
    if not _is_saved(x):
        if callable(getattr(x, "__jax_array__", None)):
            # Equinox would pickle these; a record nobody can load safely is refused.
            raise TypeError(
                f"cannot save a {type(x).__name__} (an object with __jax_array__) "
                "without pickling it; pass a filter_spec that saves what it holds"
            )
        return
    array = np.asarray(x)
    if array.dtype.hasobject:
        raise TypeError(f"cannot save {type(x).__name__} of object dtype without pickling it")
    np.save(f, array, allow_pickle=False)


def default_deserialise_filter_spec(f: SupportsReadSeek, x: Any) -> Any:
    """Read the record for leaf ``x`` of ``like`` from ``f`` and return the loaded leaf.

    JAX arrays and ``jax.ShapeDtypeStruct`` become JAX arrays, NumPy arrays and scalars
    stay NumPy, Python scalars keep their type; other leaves read nothing and are
    returned as they are. The record must have the leaf's shape and dtype (Python
    scalars accept any dtype that casts to theirs within its kind, e.g. ``int`` into
    ``float``); otherwise :class:`CheckpointError` names the leaf. Nothing is unpickled.

    - ``f``: the open binary file, positioned at the record.
    - ``x``: the leaf of ``like``.

    ```python
    def keep_numpy(f, x):  # NumPy leaves keep their value from `like`
        return x if isinstance(x, np.ndarray) else eqx.default_deserialise_filter_spec(f, x)
    ```
    """
    if not _is_loaded(x):
        return x
    record = _read_header(f)
    if record is None:
        raise _Mismatch("missing", _describe_leaf(x), "the end of the file")
    dtype = _match(record, x)
    data = _read_data(f, record._replace(dtype=dtype))
    return _convert(data, x)


# --------------------------------------------------------------------------------------
# Walking a tree in file order, with key paths.
# --------------------------------------------------------------------------------------


class _Leaf(NamedTuple):
    path: str
    spec: Callable[..., Any]
    value: Any


class _Walk(NamedTuple):
    leaves: list[_Leaf]
    rebuild: Callable[[list[Any]], Any]


def _walk(filter_spec: Any, tree: Any, is_leaf: Callable[[Any], bool] | None) -> _Walk:
    """The leaves of ``tree`` depth-first (the order of the records), each with the spec
    that handles it: ``filter_spec`` is a function or a PyTree prefix of functions."""
    spec_leaves, spec_def = tree_flatten_with_path(filter_spec)
    try:
        subtrees = spec_def.flatten_up_to(tree)
    except (ValueError, TypeError) as e:
        raise ValueError(f"`filter_spec` must be a function or a PyTree prefix of the tree: {e}") from None
    leaves: list[_Leaf] = []
    defs: list[tuple[TreeDef, int]] = []
    for (spec_path, spec), subtree in zip(spec_leaves, subtrees, strict=True):
        sub_leaves, sub_def = tree_flatten_with_path(subtree, is_leaf=is_leaf)
        defs.append((sub_def, len(sub_leaves)))
        for path, leaf in sub_leaves:
            leaves.append(_Leaf(keystr((*spec_path, *path)), spec, leaf))

    def rebuild(values: list[Any]) -> Any:
        parts: list[Any] = []
        start = 0
        for sub_def, count in defs:
            parts.append(sub_def.unflatten(values[start : start + count]))
            start += count
        return spec_def.unflatten(parts)

    return _Walk(leaves, rebuild)


# --------------------------------------------------------------------------------------
# Files: atomic writes to paths, reads that own the whole file.
# --------------------------------------------------------------------------------------


def checkpoint_path(path: str | os.PathLike[str]) -> pathlib.Path:
    """The file a checkpoint path names: as in Equinox, a path without a suffix gets
    ``.eqx`` (``checkpoint_path("model")`` is ``Path("model.eqx")``)."""
    p = pathlib.Path(path)
    return p.with_suffix(".eqx") if p.suffix == "" else p


def _is_path(x: object) -> bool:
    return isinstance(x, (str, os.PathLike))


@contextmanager
def _atomic_writer(path: pathlib.Path) -> Generator[IO[bytes]]:
    """A temporary file beside ``path`` that replaces it only once fully written and
    synced, so a crash mid-save leaves the previous checkpoint in place."""
    temp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    # os.open with 0o666 lets the umask decide the permissions, as open() would.
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    _fsync_directory(path.parent)


def _fsync_directory(directory: pathlib.Path) -> None:
    # Makes the rename itself durable; not possible on every platform (Windows).
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def tree_serialise_leaves(
    path_or_file: str | os.PathLike[str] | SupportsWrite,
    pytree: Any,
    filter_spec: Any = default_serialise_filter_spec,
    is_leaf: Callable[[Any], bool] | None = None,
) -> None:
    """Save the leaves of ``pytree`` (a model, an optimiser state...) to a file.

    - ``path_or_file``: a path (``".eqx"`` is appended when it has no suffix) or a
      binary file object open for writing. A path is written atomically: to a temporary
      file in the same directory, flushed and synced, then renamed over the target, so
      an interrupted save never replaces a good checkpoint with a partial one.
    - ``pytree``: the PyTree whose leaves are saved, depth-first.
    - ``filter_spec``: how each leaf is saved, a function ``(file, leaf) -> None``
      (default :func:`default_serialise_filter_spec`: arrays and Python scalars), or a
      PyTree prefix of ``pytree`` holding such functions.
    - ``is_leaf``: optional; nodes for which it returns ``True`` are treated as leaves.

    ```python
    model = eqx.nn.MLP(2, 2, 8, 2, key=jax.random.key(0))
    eqx.tree_serialise_leaves("model.eqx", model)
    ```
    """
    walk = _walk(filter_spec, pytree, is_leaf)

    def write_all(f: Any) -> None:
        for leaf in walk.leaves:
            try:
                leaf.spec(f, leaf.value)
            except Exception as e:
                e.add_note(f"(while saving the leaf at {leaf.path or '<root>'})")
                raise

    if _is_path(path_or_file):
        with _atomic_writer(checkpoint_path(path_or_file)) as f:  # type: ignore[arg-type]
            write_all(f)
    else:
        write_all(path_or_file)


@contextmanager
def _reader(path_or_file: PathOrFile) -> Generator[tuple[SupportsReadSeek, str, bool]]:
    """The file, a name for messages, and whether the tree owns the whole file (a
    path: trailing records are extra; a file object may hold more after the tree)."""
    if _is_path(path_or_file):
        path = checkpoint_path(path_or_file)  # type: ignore[arg-type]
        with open(path, "rb") as f:
            yield f, f"'{path}'", True
    else:
        yield path_or_file, "(file object)", False  # type: ignore[misc]


def _difference(leaf_path: str, e: _Mismatch) -> CheckpointDifference:
    return CheckpointDifference(leaf_path, e.kind, e.expected, e.got)


def _extra_records(f: SupportsReadSeek, count: int, end: int) -> CheckpointDifference | None:
    """What follows the last leaf in a file the tree owns, without reading the data."""
    summaries: list[str] = []
    try:
        while (record := _read_header(f)) is not None:
            summaries.append(record.summary())
            _skip_data(f, record, end)
    except _Mismatch:
        summaries.append("unreadable bytes")
    if not summaries:
        return None
    shown = ", ".join(summaries[:5]) + (", ..." if len(summaries) > 5 else "")
    return CheckpointDifference(
        "<end>", "extra", f"the end of the file after {count} records", f"{len(summaries)} more: {shown}"
    )


def _tell(f: SupportsReadSeek) -> int:
    # `seek` returns the new position for every io class (the protocol says object).
    position = f.seek(0, os.SEEK_CUR)
    assert isinstance(position, int)
    return position


def _file_end(f: SupportsReadSeek) -> int:
    here = _tell(f)
    f.seek(0, os.SEEK_END)
    end = _tell(f)
    f.seek(here, os.SEEK_SET)
    return end


def _loaded_difference(path: str, new: Any, old: Any) -> CheckpointDifference | None:
    """A custom spec's result against the leaf of ``like`` (the default spec has
    already matched its record)."""
    if isinstance(old, jax.ShapeDtypeStruct):
        if not isinstance(new, jax.Array):
            return CheckpointDifference(path, "dtype", _describe_leaf(old), f"a {type(new).__name__}")
    elif type(new) is not type(old):
        return CheckpointDifference(
            path, "dtype", f"a {type(old).__name__}", f"a {type(new).__name__}"
        )
    if isinstance(old, (np.ndarray, jax.Array, jax.ShapeDtypeStruct)):
        expected = cast(Any, old)  # the union's members disagree on the type of .shape
        if tuple(new.shape) != tuple(expected.shape):
            return CheckpointDifference(path, "shape", _describe_leaf(old), _describe_leaf(new))
        if new.dtype != expected.dtype:
            return CheckpointDifference(path, "dtype", _describe_leaf(old), _describe_leaf(new))
    return None


def tree_deserialise_leaves(
    path_or_file: PathOrFile,
    like: Any,
    filter_spec: Any = default_deserialise_filter_spec,
    is_leaf: Callable[[Any], bool] | None = None,
) -> Any:
    """Load a PyTree saved by :func:`tree_serialise_leaves` (or by Equinox's).

    - ``path_or_file``: a path (``".eqx"`` is appended when it has no suffix) or a
      binary file object open for reading, positioned at the first record.
    - ``like``: a PyTree of the same structure; its array leaves are replaced by the
      loaded ones, which must match their shape and dtype. It may be abstract, e.g.
      ``eqx.filter_eval_shape(Model, ...)``, so that no memory is spent on throwaway
      parameters.
    - ``filter_spec``: how each leaf is loaded, a function ``(file, leaf) -> new_leaf``
      (default :func:`default_deserialise_filter_spec`), or a PyTree prefix of ``like``
      holding such functions.
    - ``is_leaf``: optional; nodes for which it returns ``True`` are treated as leaves.

    Returns the loaded tree, or raises :class:`CheckpointError` naming the first leaf
    that differs (missing, shape, dtype, corrupt; for a path, also records left over
    after the last leaf); nothing partially loaded is ever returned.

    ```python
    skeleton = eqx.filter_eval_shape(eqx.nn.MLP, 2, 2, 8, 2, key=jax.random.key(0))
    model = eqx.tree_deserialise_leaves("model.eqx", skeleton)
    ```
    """
    walk = _walk(filter_spec, like, is_leaf)
    with _reader(path_or_file) as (f, source, owns_file):
        loaded: list[Any] = []
        for leaf in walk.leaves:
            try:
                new = leaf.spec(f, leaf.value)
            except _Mismatch as e:
                raise CheckpointError(_difference(leaf.path, e), source) from None
            except Exception as e:
                e.add_note(f"(while loading the leaf at {leaf.path or '<root>'} from {source})")
                raise
            difference = _loaded_difference(leaf.path, new, leaf.value)
            if difference is not None:
                raise CheckpointError(difference, source)
            loaded.append(new)
        if owns_file:
            extra = _extra_records(f, len(walk.leaves), _file_end(f))
            if extra is not None:
                raise CheckpointError(extra, source)
    return walk.rebuild(loaded)


def diff_checkpoint(
    path_or_file: PathOrFile,
    like: Any,
    *,
    filter_spec: Any = default_deserialise_filter_spec,
    is_leaf: Callable[[Any], bool] | None = None,
) -> list[CheckpointDifference]:
    """Every difference between a checkpoint and ``like``, without loading array data.

    Leaves handled by :func:`default_deserialise_filter_spec` are compared through
    their ``.npy`` headers alone, the data skipped over; leaves with another spec are
    loaded by it and compared. Shape and dtype differences do not stop the comparison;
    a missing leaf means every later leaf is missing too, and a corrupt record ends it
    (nothing after it can be located). An empty list means
    :func:`tree_deserialise_leaves` would succeed.

    - ``path_or_file``, ``like``, ``filter_spec``, ``is_leaf``: as for
      :func:`tree_deserialise_leaves`.

    ```python
    for d in diff_checkpoint("model.eqx", eqx.filter_eval_shape(make_model)):
        print(d.message)  # e.g. ".layers[0].weight: shape differs: expected f32[8,2], got f32[4,2]"
    ```
    """
    walk = _walk(filter_spec, like, is_leaf)
    differences: list[CheckpointDifference] = []
    with _reader(path_or_file) as (f, _, owns_file):
        end = _file_end(f)
        for index, leaf in enumerate(walk.leaves):
            try:
                difference = _probe(f, leaf, end)
            except _Mismatch as e:
                difference = _difference(leaf.path, e)
            if difference is None:
                continue
            differences.append(difference)
            if difference.kind == "missing":
                differences.extend(_all_missing(walk.leaves[index + 1 :]))
            if difference.kind in ("missing", "corrupt"):
                return differences
        if owns_file:
            extra = _extra_records(f, len(walk.leaves), end)
            if extra is not None:
                differences.append(extra)
    return differences


def _probe(f: SupportsReadSeek, leaf: _Leaf, end: int) -> CheckpointDifference | None:
    """Check one leaf's record, leaving the file after it. The default spec's leaves
    are checked by header (raising :class:`_Mismatch`); others are loaded by their spec."""
    if leaf.spec is not default_deserialise_filter_spec:
        return _loaded_difference(leaf.path, leaf.spec(f, leaf.value), leaf.value)
    if not _is_loaded(leaf.value):
        return None
    record = _read_header(f)
    if record is None:
        raise _Mismatch("missing", _describe_leaf(leaf.value), "the end of the file")
    # Skip the data even when the header does not match, so later leaves still line up.
    try:
        _match(record, leaf.value)
    finally:
        _skip_data(f, record, end)
    return None


def _all_missing(leaves: list[_Leaf]) -> list[CheckpointDifference]:
    return [
        CheckpointDifference(leaf.path, "missing", _describe_leaf(leaf.value), "the end of the file")
        for leaf in leaves
        # Leaves of custom specs are left out: whether they read anything is unknown.
        if leaf.spec is default_deserialise_filter_spec and _is_loaded(leaf.value)
    ]
