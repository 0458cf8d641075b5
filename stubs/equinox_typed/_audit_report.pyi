"""Type stubs for the audit report (``eqx.AuditReport`` and its rows)."""

import dataclasses
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

SCHEMA: Final[str]

LeafStatus: TypeAlias = Literal["ok", "mismatch", "unshaped", "unannotated"]
CallStatus: TypeAlias = Literal["ok", "failed", "aborted"]
ViolationKind: TypeAlias = Literal["field", "unshaped", "call", "checkpoint"]

@dataclasses.dataclass(frozen=True)
class LeafRow:
    """One array leaf of the audited tree (see ``AuditReport``)."""

    path: str
    module: str | None
    field: str | None
    annotation: str | None
    dtype: str
    shape: tuple[int, ...]
    bindings: dict[str, int]
    status: LeafStatus
    stack: tuple[int, ...] = ()
    def to_dict(self) -> dict[str, Any]: ...

@dataclasses.dataclass(frozen=True)
class CallRow:
    """One Module call of the abstract forward pass, in call order."""

    path: str | None
    module: str
    depth: int
    inputs: tuple[str, ...]
    output: str | None
    status: CallStatus
    def to_dict(self) -> dict[str, Any]: ...

@dataclasses.dataclass(frozen=True)
class Violation:
    """One thing that does not hold: its kind, key path and message."""

    kind: ViolationKind
    path: str
    message: str
    def to_dict(self) -> dict[str, Any]: ...

@dataclasses.dataclass(frozen=True)
class DtypeTotal:
    """The arrays of one dtype: how many, their elements and their bytes."""

    dtype: str
    arrays: int
    parameters: int
    bytes: int

@dataclasses.dataclass(frozen=True)
class Totals:
    """Sizes of the audited tree."""

    parameters: int
    bytes: int
    by_dtype: tuple[DtypeTotal, ...]
    arrays: int
    modules: int
    static_leaves: int
    def to_dict(self) -> dict[str, Any]: ...

@dataclasses.dataclass(frozen=True)
class AuditReport:
    """What ``eqx.audit`` found: ``ok``, ``rows``, ``calls``, ``violations``, ``totals``."""

    rows: tuple[LeafRow, ...]
    calls: tuple[CallRow, ...]
    violations: tuple[Violation, ...]
    totals: Totals
    inputs: tuple[str, ...] | None = None
    checkpoint: str | None = None
    @property
    def ok(self) -> bool: ...
    def to_dict(self) -> dict[str, Any]: ...
    def to_json(self, indent: int | None = 2) -> str: ...
