"""``store_dce`` and ``inspect_dce``: which arrays survive dead-code elimination."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, Final

import numpy as np
from jax.core import Tracer

from .._filters import combine, is_array, partition
from .._jax_typed import TreeDef, pure_callback, shape_dtype_struct, tree_flatten, zeros
from .._pretty import array_summary, tree_pprint

__all__ = ["inspect_dce", "store_dce"]


class _Record:
    """One traced call of ``store_dce``: the layout of its arrays and, once the compiled
    program has run, a summary of each array that was computed (absent: DCE'd)."""

    __slots__ = ("treedef", "static", "alive")

    def __init__(self, treedef: TreeDef, static: Any) -> None:
        self.treedef = treedef
        self.static = static
        self.alive: dict[int, str] = {}


# name -> the records of every traced `store_dce(..., name=name)`, in trace order.
_RECORDS: Final[dict[Hashable, list[_Record]]] = {}
_LOCK: Final = threading.Lock()


class _Shown:
    """A leaf that prints as the given text."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _inside_jit() -> bool:
    """Whether new computations are staged into a compiled program right now (under
    ``jit``, but not under a lone ``vmap``/``grad``, which evaluate op by op)."""
    return isinstance(zeros((), np.int32) + 1, Tracer)


def _check_name(name: object, owner: str) -> None:
    try:
        hash(name)
    except TypeError:
        raise TypeError(
            f"eqx.debug.{owner}: name must be hashable, got {type(name).__qualname__}"
        ) from None


def _mark_alive(record: _Record, index: int) -> Callable[[Any], Any]:
    def alive(value: Any) -> Any:
        record.alive[index] = array_summary(np.asarray(value), numpy=False)
        return value

    return alive


def store_dce(x: Any, name: Hashable = None) -> Any:
    """The identity on ``x``, recording whether each of its arrays is still computed
    once the compiler has removed dead code; see the record with :func:`inspect_dce`.

    Must be called inside ``jit`` (``filter_jit``...). Each trace of the call adds one
    record; running the compiled program fills it in.

    **Arguments:**

    - ``x``: any PyTree; its arrays are watched, other leaves are shown as they are.
    - ``name``: any hashable label, to inspect this call site apart from others.

    **Returns:** ``x``, unchanged.

    ```python
    @jax.jit
    def f(x):
        a, _ = eqx.debug.store_dce((x**2, x + 1))
        return a

    f(1)
    eqx.debug.inspect_dce()
    # Found 1 call to `equinox_typed.debug.store_dce`.
    # Entry 0:
    # (i32[], <DCE'd>)
    ```
    """
    _check_name(name, "store_dce")
    if not _inside_jit():
        raise RuntimeError(
            "eqx.debug.store_dce must be called inside jit: it records which arrays "
            "the compiler keeps, and only compiled code has dead code removed"
        )
    dynamic, static = partition(x, is_array)
    leaves, treedef = tree_flatten(dynamic)
    record = _Record(treedef, static)
    with _LOCK:
        _RECORDS.setdefault(name, []).append(record)
    # A pure callback is dead code exactly when its output is: it runs (and marks its
    # array alive) only if the compiler kept the array.
    watched = [
        pure_callback(
            _mark_alive(record, i),
            shape_dtype_struct(leaf.shape, leaf.dtype),
            leaf,
            vmap_method="expand_dims",
        )
        for i, leaf in enumerate(leaves)
    ]
    return combine(treedef.unflatten(watched), static)


def inspect_dce(name: Hashable = None) -> None:
    """Print what :func:`store_dce` recorded under ``name``: for each traced call, its
    PyTree with each array shown as dtype and shape if it was computed and as
    ``<DCE'd>`` if the compiler removed it. Must be called outside ``jit``.

    **Arguments:**

    - ``name``: the label given to ``store_dce`` (default: unlabelled calls).

    **Returns:** nothing; the report goes to standard output.

    ```python
    eqx.debug.inspect_dce(name="encoder")
    ```
    """
    _check_name(name, "inspect_dce")
    if _inside_jit():
        raise RuntimeError(
            "eqx.debug.inspect_dce must be called outside jit, after running the "
            "compiled function that calls eqx.debug.store_dce"
        )
    with _LOCK:
        records = list(_RECORDS.get(name, ()))
    plural = "" if len(records) == 1 else "s"
    print(f"Found {len(records)} call{plural} to `equinox_typed.debug.store_dce`.")
    for i, record in enumerate(records):
        shown = [
            _Shown(record.alive.get(j, "<DCE'd>")) for j in range(record.treedef.num_leaves)
        ]
        print(f"Entry {i}:")
        tree_pprint(combine(record.treedef.unflatten(shown), record.static))
