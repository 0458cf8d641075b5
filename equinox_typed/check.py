"""``python -m equinox_typed.check``: audit models from the command line (and in CI).

```
python -m equinox_typed.check TARGET [TARGET ...] [--input SPEC ...] [--checkpoint FILE]
                              [--strict] [--concrete] [--format text|json] [--traceback]
```

Each TARGET is a file path or dotted module name, optionally with ``:NAME`` (see
:mod:`equinox_typed._audit_targets`); each Module found is audited with
:func:`equinox_typed.audit`. Exit status: 0 when everything holds, 1 when a violation is
found, 2 for a usage error (an unreadable ``--checkpoint`` file included) or a target
that cannot be imported or built (one line on standard error naming the target and the
cause; the traceback with ``--traceback``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import traceback
from collections.abc import Sequence
from typing import IO, Any, Final

from ._audit import audit, build_tree, is_factory
from ._audit_report import AuditReport
from ._audit_targets import Candidate, TargetError, resolve_target
from ._audit_text import print_report_rich, render_report
from ._serialisation import checkpoint_path
from ._shape_spec import parse_shape_spec

__all__ = ["CLI_SCHEMA", "main"]

CLI_SCHEMA: Final = "equinox_typed.check/1"
_EXIT_OK: Final = 0
_EXIT_VIOLATIONS: Final = 1
_EXIT_ERROR: Final = 2


def _spec(text: str) -> Any:
    try:
        return parse_shape_spec(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m equinox_typed.check",
        description="Audit equinox_typed models: every field against its annotation, "
        "and optionally a forward pass, without allocating the model.",
        epilog="Exit status: 0 all holds, 1 violations found, 2 usage error or a "
        "target that cannot be imported or built.",
    )
    parser.add_argument(
        "targets",
        nargs="+",
        metavar="TARGET",
        help="a file path or dotted module name, optionally with :NAME (a Module, or a "
        "zero-argument callable returning one); without :NAME, every module-level "
        "Module and zero-argument function annotated to return a Module",
    )
    parser.add_argument(
        "--input",
        dest="inputs",
        action="append",
        type=_spec,
        metavar="SPEC",
        help="an input of a forward pass, e.g. f32[32,784]; repeat for each positional "
        "argument of __call__",
    )
    parser.add_argument(
        "--checkpoint",
        metavar="FILE",
        help="a file written by tree_serialise_leaves, compared leaf by leaf with each "
        "audited model (by the records' headers: nothing is loaded)",
    )
    parser.add_argument(
        "--strict", action="store_true", help="report array fields without shape/dtype"
    )
    parser.add_argument(
        "--concrete", action="store_true", help="build factories for real, not abstractly"
    )
    parser.add_argument("--format", choices=("text", "json"), default="text")
    parser.add_argument(
        "--traceback", action="store_true", help="show tracebacks of import/build failures"
    )
    return parser


class _Run:
    """The audits of one command line, and what to print for them."""

    def __init__(self, args: argparse.Namespace, out: IO[str], err: IO[str]) -> None:
        self.args = args
        self.out, self.err = out, err
        self.results: list[dict[str, Any]] = []
        self.reports: list[tuple[str, AuditReport]] = []
        self.failed = False

    def error(self, label: str, message: str, error: BaseException) -> None:
        """Record a target that could not be audited: one line, or the traceback."""
        self.failed = True
        line = f"{label}: {message}"
        self.results.append({"target": label, "error": line})
        if self.args.traceback:
            traceback.print_exception(error, file=self.err)
        print(f"error: {line}", file=self.err)

    def target(self, target: str) -> None:
        try:
            candidates = resolve_target(target)
        except TargetError as error:
            cause = error.__cause__ if error.__cause__ is not None else error
            self.error(target, str(error), cause)
            return
        for candidate in candidates:
            self.candidate(candidate)

    def candidate(self, candidate: Candidate) -> None:
        abstract = not self.args.concrete
        try:
            tree = build_tree(candidate.value, abstract)
        except Exception as error:
            how = " (built abstractly; --concrete builds it for real)" if abstract else ""
            self.error(
                candidate.label,
                f"cannot build: {type(error).__name__}: {_first_line(error)}{how}",
                error,
            )
            return
        try:
            report = audit(
                tree,
                inputs=self.args.inputs,
                checkpoint=self.args.checkpoint,
                strict=self.args.strict,
            )
        except Exception as error:
            self.error(
                candidate.label, f"cannot audit: {type(error).__name__}: {_first_line(error)}", error
            )
            return
        built = " (built abstractly)" if abstract and is_factory(candidate.value) else ""
        self.reports.append((candidate.label + built, report))
        self.results.append({"target": candidate.label, "report": report.to_dict()})

    def exit_status(self) -> int:
        if self.failed:
            return _EXIT_ERROR
        return _EXIT_OK if all(r.ok for _, r in self.reports) else _EXIT_VIOLATIONS

    def print(self) -> None:
        if self.args.format == "json":
            document = {
                "schema": CLI_SCHEMA,
                "ok": self.exit_status() == _EXIT_OK,
                "exit_status": self.exit_status(),
                "results": self.results,
            }
            print(json.dumps(document, indent=2), file=self.out)
            return
        fancy = _is_terminal(self.out)
        for index, (label, report) in enumerate(self.reports):
            if index:
                print(file=self.out)
            title = f"== {label}"
            if fancy and _print_rich(report, self.out, title):
                continue
            print(render_report(report, colour=fancy, title=title), file=self.out)


def _unreadable(checkpoint: str) -> str | None:
    """Why the checkpoint file cannot be read (one line), or None when it can."""
    path = checkpoint_path(checkpoint)
    try:
        with open(path, "rb"):
            pass
    except OSError as error:
        return f"--checkpoint {path}: cannot read it: {error.strerror or error}"
    return None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else "(no message)"


def _is_terminal(stream: IO[str]) -> bool:
    # https://no-color.org: a set NO_COLOR turns colour off.
    return stream.isatty() and not os.environ.get("NO_COLOR")


def _print_rich(report: AuditReport, out: IO[str], title: str) -> bool:
    """Print with ``rich`` tables when it is installed (the ``cli`` extra)."""
    try:
        print_report_rich(report, out, title=title)
    except ImportError:
        return False
    return True


def main(argv: Sequence[str] | None = None, out: IO[str] | None = None, err: IO[str] | None = None) -> int:
    """Run the command; return its exit status.

    **Arguments:**

    - ``argv``: the arguments (default ``sys.argv[1:]``).
    - ``out``, ``err``: where reports and errors go (default standard output/error).

    ```python
    status = main(["models.py:make_model", "--input", "f32[784]", "--format", "json"])
    ```
    """
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exit_:  # argparse: usage errors (2) and --help (0)
        return exit_.code if isinstance(exit_.code, int) else _EXIT_ERROR
    errors = sys.stderr if err is None else err
    # Checked once, before any target is imported: the same file serves every target.
    problem = None if args.checkpoint is None else _unreadable(args.checkpoint)
    if problem is not None:
        print(f"error: {problem}", file=errors)
        return _EXIT_ERROR
    run = _Run(args, sys.stdout if out is None else out, errors)
    for target in args.targets:
        run.target(target)
    run.print()
    return run.exit_status()


if __name__ == "__main__":
    sys.exit(main())
