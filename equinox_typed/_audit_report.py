"""``AuditReport``: what ``eqx.audit`` found, as data, JSON and text.

The JSON form (:meth:`AuditReport.to_dict` / :meth:`AuditReport.to_json`) is a stable,
versioned schema, documented in README.md ("Auditing models") and checked by the tests:
a change to it bumps :data:`SCHEMA`.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Final, Literal, TypeAlias

__all__ = [
    "SCHEMA",
    "AuditReport",
    "CallRow",
    "DtypeTotal",
    "LeafRow",
    "LeafStatus",
    "Totals",
    "Violation",
    "ViolationKind",
]

SCHEMA: Final = "equinox_typed.audit/2"

LeafStatus: TypeAlias = Literal["ok", "mismatch", "unshaped", "unannotated"]
CallStatus: TypeAlias = Literal["ok", "failed", "aborted"]
ViolationKind: TypeAlias = Literal["field", "unshaped", "call", "checkpoint"]


@dataclasses.dataclass(frozen=True)
class LeafRow:
    """One array leaf of the audited tree.

    - ``path``: its key path (``.layers[0].weight``; ``""`` is the tree itself).
    - ``module``, ``field``: the class and field holding it (``None`` for an array
      outside any Module).
    - ``annotation``: the field's annotation as text (``None`` when it has none).
    - ``dtype``, ``shape``: what the leaf is.
    - ``bindings``: the sizes of the named dimensions of ``annotation``, as bound across
      the Module's fields.
    - ``status``: ``"ok"``; ``"mismatch"`` (the field contradicts its annotation);
      ``"unshaped"`` (the annotation gives no shape or dtype, e.g. ``jax.Array``; a
      violation only with ``strict=True``); ``"unannotated"`` (no annotation at all).
    - ``stack``: ``()``, or the leading axes of the stack the leaf is part of (an
      ensemble, scanned layers: ``(5,)`` for 5 members): ``shape`` includes them, while
      ``annotation``, ``bindings`` and ``status`` are each member's (members share
      shapes and dtypes, so one status holds for all of them).
    """

    path: str
    module: str | None
    field: str | None
    annotation: str | None
    dtype: str
    shape: tuple[int, ...]
    bindings: dict[str, int]
    status: LeafStatus
    stack: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """This row as JSON-ready data (see :meth:`AuditReport.to_dict`)."""
        return {**dataclasses.asdict(self), "shape": list(self.shape), "stack": list(self.stack)}


@dataclasses.dataclass(frozen=True)
class CallRow:
    """One Module call during the abstract forward pass, in call order.

    - ``path``: the called Module's key path in the tree (``""`` for the tree itself),
      or ``None`` for a Module that is not part of the tree (made during the call, or
      rebuilt inside a transformation such as ``jax.lax.scan``).
    - ``module``: its class. ``depth``: how many calls enclose this one.
    - ``inputs``: each argument in spec notation (``f32[32,784]``; keyword arguments
      as ``name=...``). ``output``: the result, ``None`` unless the call finished.
    - ``status``: ``"ok"``; ``"failed"`` (the first failure of the pass happened in
      this call itself); ``"aborted"`` (a call inside this one failed).
    """

    path: str | None
    module: str
    depth: int
    inputs: tuple[str, ...]
    output: str | None
    status: CallStatus

    def to_dict(self) -> dict[str, Any]:
        """This row as JSON-ready data (see :meth:`AuditReport.to_dict`)."""
        return {**dataclasses.asdict(self), "inputs": list(self.inputs)}


@dataclasses.dataclass(frozen=True)
class Violation:
    """One thing that does not hold.

    - ``kind``: ``"field"`` (a Module field against its annotation), ``"unshaped"``
      (an array field whose annotation gives no shape/dtype, under ``strict=True``),
      ``"call"`` (the forward pass: the first failing call), ``"checkpoint"`` (the
      checkpoint file against the model).
    - ``path``: where (a key path).
    - ``message``: what, in the words of the checking engine's errors.
    """

    kind: ViolationKind
    path: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        """This violation as JSON-ready data."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class DtypeTotal:
    """The arrays of one dtype: how many, their elements and their bytes."""

    dtype: str
    arrays: int
    parameters: int
    bytes: int


@dataclasses.dataclass(frozen=True)
class Totals:
    """Sizes of the audited tree.

    - ``parameters``, ``bytes``: elements and bytes of all array leaves.
    - ``by_dtype``: the same per dtype, largest first.
    - ``arrays``: number of array leaves. ``modules``: number of Modules.
    - ``static_leaves``: leaves that are not arrays (Python numbers, functions...),
      which filtered transformations hold static. (``field(static=True)`` values are
      part of the tree's structure, not leaves.)
    """

    parameters: int
    bytes: int
    by_dtype: tuple[DtypeTotal, ...]
    arrays: int
    modules: int
    static_leaves: int

    def to_dict(self) -> dict[str, Any]:
        """These totals as JSON-ready data."""
        return {
            "parameters": self.parameters,
            "bytes": self.bytes,
            "arrays": self.arrays,
            "modules": self.modules,
            "static_leaves": self.static_leaves,
            "by_dtype": {
                t.dtype: {"arrays": t.arrays, "parameters": t.parameters, "bytes": t.bytes}
                for t in self.by_dtype
            },
        }


@dataclasses.dataclass(frozen=True)
class AuditReport:
    """What :func:`equinox_typed.audit` found.

    - ``ok``: no violation.
    - ``rows``: one :class:`LeafRow` per array leaf, in tree order.
    - ``calls``: one :class:`CallRow` per Module call of the forward pass (empty
      without ``inputs``).
    - ``violations``: every :class:`Violation`: the fields', then the forward pass's,
      then the checkpoint's.
    - ``totals``: :class:`Totals`.
    - ``inputs``: the input specs of the forward pass (``None`` when none ran).
    - ``checkpoint``: the checkpoint compared (``None`` when none was).

    ``str(report)`` is a readable table; :meth:`to_json` is for programs.

    ```python
    report = eqx.audit(make_model, inputs=["f32[784]"])
    if not report.ok:
        print(report)
    ```
    """

    rows: tuple[LeafRow, ...]
    calls: tuple[CallRow, ...]
    violations: tuple[Violation, ...]
    totals: Totals
    inputs: tuple[str, ...] | None = None
    checkpoint: str | None = None

    @property
    def ok(self) -> bool:
        """Whether nothing was violated."""
        return not self.violations

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data, in the schema :data:`SCHEMA`.

        Keys: ``schema``, ``ok``, ``inputs`` (list of specs, or null), ``checkpoint``
        (text or null), ``rows``, ``calls``, ``violations`` (lists of objects with the
        fields of :class:`LeafRow`, :class:`CallRow`, :class:`Violation`), ``totals``
        (the fields of :class:`Totals`, ``by_dtype`` as an object keyed by dtype).
        """
        return {
            "schema": SCHEMA,
            "ok": self.ok,
            "inputs": None if self.inputs is None else list(self.inputs),
            "checkpoint": self.checkpoint,
            "rows": [row.to_dict() for row in self.rows],
            "calls": [call.to_dict() for call in self.calls],
            "violations": [v.to_dict() for v in self.violations],
            "totals": self.totals.to_dict(),
        }

    def to_json(self, indent: int | None = 2) -> str:
        """The report as a JSON document (see :meth:`to_dict` for the schema)."""
        return json.dumps(self.to_dict(), indent=indent)

    def __str__(self) -> str:
        from ._audit_text import render_report

        return render_report(self)
