"""The text form of an ``AuditReport``: aligned tables, totals and a one-line verdict.

Each section is built once as plain cells (:func:`report_sections`), then laid out either
as aligned plain text (:func:`render_report`, what ``str(report)`` and piped command
output use) or, when the optional ``rich`` package is installed and the output is a
terminal, as ``rich`` tables (:func:`print_report_rich`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import IO, Any, Final

from ._audit_report import AuditReport, LeafRow, Totals
from ._pretty import dtype_code

__all__ = ["Section", "print_report_rich", "render_report", "report_sections", "verdict"]

# ANSI colours per status word; used only when the caller asks (a terminal).
_COLOURS: Final = {
    "ok": "32",
    "mismatch": "31",
    "failed": "31",
    "aborted": "33",
    "unshaped": "33",
    "unannotated": "33",
}
_RICH_STYLES: Final = {"32": "green", "31": "red", "33": "yellow"}
_ROOT: Final = "(root)"


@dataclasses.dataclass(frozen=True)
class Section:
    """A titled table: header cells, rows of cells, and the column holding a status."""

    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    status_column: int | None = None


def _path(path: str | None) -> str:
    if path is None:
        return "(not in tree)"
    return path or _ROOT


def _value(row: LeafRow) -> str:
    """``f32[5,4,3]``; for a leaf of a stack also its leading axes: ``f32[5,4,3] stack[5]``."""
    text = f"{dtype_code(row.dtype)}[{','.join(map(str, row.shape))}]"
    return text + (f" stack[{','.join(map(str, row.stack))}]" if row.stack else "")


def _bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{n} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def report_sections(report: AuditReport) -> list[Section]:
    """The report's tables as plain cells: parameters, forward pass, violations."""
    sections = [
        Section(
            f"Parameters ({_count(len(report.rows), 'array')})",
            ("path", "module", "annotation", "value", "bindings", "status"),
            tuple(
                (
                    _path(r.path),
                    r.module or "-",
                    r.annotation or "-",
                    _value(r),
                    ", ".join(f"{k}={v}" for k, v in r.bindings.items()) or "-",
                    r.status,
                )
                for r in report.rows
            ),
            status_column=5,
        )
    ]
    if report.inputs is not None:
        sections.append(
            Section(
                f"Forward pass (inputs: {', '.join(report.inputs) or 'none'})",
                ("call", "module", "inputs", "output", "status"),
                tuple(
                    (
                        "  " * c.depth + _path(c.path),
                        c.module,
                        ", ".join(c.inputs) or "-",
                        c.output or "-",
                        c.status,
                    )
                    for c in report.calls
                ),
                status_column=4,
            )
        )
    return sections


def _count(n: int, one: str, many: str | None = None) -> str:
    return f"{n:,} {one if n == 1 else many or one + 's'}"


def _totals_line(totals: Totals) -> str:
    per_dtype = "; ".join(
        f"{t.dtype}: {t.parameters:,} in {_count(t.arrays, 'array')}, {_bytes(t.bytes)}"
        for t in totals.by_dtype
    )
    return (
        f"Totals: {totals.parameters:,} parameters, {_bytes(totals.bytes)}"
        + (f" ({per_dtype})" if per_dtype else "")
        + f"; {_count(totals.modules, 'module')}; {_count(totals.static_leaves, 'static leaf', 'static leaves')}"
    )


def verdict(report: AuditReport) -> str:
    """The one-line verdict: ``OK: ...`` or ``FAILED: N violation(s)``."""
    checked = _count(len(report.rows), "array")
    if report.inputs is not None:
        checked += ", " + _count(len(report.calls), "call")
    if report.checkpoint is not None:
        checked += ", checkpoint"
    if report.ok:
        return f"OK: no violations ({checked} checked)"
    n = len(report.violations)
    return f"FAILED: {n} violation{'s' if n != 1 else ''} ({checked} checked)"


def _violation_lines(report: AuditReport) -> list[str]:
    lines = [f"Violations ({len(report.violations)})"]
    for v in report.violations:
        lines.append(f"  [{v.kind}] {_path(v.path)}")
        lines += ["    " + line for line in v.message.splitlines()]
    return lines


def _paint(text: str, code: str | None, colour: bool) -> str:
    return f"\x1b[{code}m{text}\x1b[0m" if colour and code else text


def _aligned(section: Section, colour: bool) -> list[str]:
    """The section as left-aligned columns two spaces apart, under its title."""
    table = [section.headers, *section.rows]
    widths = [max(len(row[i]) for row in table) for i in range(len(section.headers))]
    lines = [section.title]
    for index, row in enumerate(table):
        cells: list[str] = []
        for column, (cell, width) in enumerate(zip(row, widths, strict=True)):
            padded = cell.ljust(width) if column < len(row) - 1 else cell
            if index > 0 and column == section.status_column:
                padded = _paint(padded, _COLOURS.get(cell), colour)
            cells.append(padded)
        lines.append(("  " + "  ".join(cells)).rstrip())
    return lines


def _tail_lines(report: AuditReport) -> list[str]:
    """What follows the tables: the checkpoint compared, the violations, the totals."""
    lines: list[str] = []
    if report.checkpoint is not None:
        lines += [f"Checkpoint: {report.checkpoint} (compared leaf by leaf)", ""]
    if report.violations:
        lines += [*_violation_lines(report), ""]
    lines.append(_totals_line(report.totals))
    return lines


def render_report(report: AuditReport, *, colour: bool = False, title: str | None = None) -> str:
    """The report as aligned plain text (ANSI colours only when ``colour``).

    **Arguments:**

    - ``report``: what to render.
    - ``colour``: colour the status cells and the verdict (for terminals).
    - ``title``: a first line naming what was audited.

    ```python
    print(render_report(eqx.audit(model), title="model.py:model"))
    ```
    """
    lines: list[str] = [title] if title else []
    for section in report_sections(report):
        lines += [*_aligned(section, colour), ""]
    lines += _tail_lines(report)
    lines.append(_paint(verdict(report), "32" if report.ok else "31", colour))
    return "\n".join(lines)


def print_report_rich(report: AuditReport, file: IO[str], *, title: str | None = None) -> None:
    """Print the report with ``rich`` tables (the optional ``cli`` extra) to ``file``.

    **Raises:** ``ImportError`` when ``rich`` is not installed.
    """
    from rich.console import Console
    from rich.table import Table

    console = Console(file=file)
    if title:
        console.print(title, style="bold", markup=False, highlight=False)
    for section in report_sections(report):
        table = Table(title=section.title, title_justify="left", show_edge=False)
        for header in section.headers:
            table.add_column(header, overflow="fold")
        for row in section.rows:
            table.add_row(*_rich_cells(row, section.status_column))
        console.print(table)
    console.print("\n".join(_tail_lines(report)), markup=False, highlight=False)
    console.print(
        verdict(report), style="green" if report.ok else "red", markup=False, highlight=False
    )


def _rich_cells(row: Sequence[str], status_column: int | None) -> list[Any]:
    from rich.text import Text

    cells: list[Any] = []
    for column, cell in enumerate(row):
        style = _RICH_STYLES.get(_COLOURS.get(cell, ""), "") if column == status_column else ""
        cells.append(Text(cell, style=style))
    return cells
