"""Type stubs for ``python -m equinox_typed.check`` (the audit command)."""

from collections.abc import Sequence
from typing import IO, Final

__all__ = ["CLI_SCHEMA", "main"]

CLI_SCHEMA: Final[str]

def main(
    argv: Sequence[str] | None = None, out: IO[str] | None = None, err: IO[str] | None = None
) -> int:
    """Run the command with ``argv`` (default ``sys.argv[1:]``); return its exit status:
    0 all holds, 1 violations found, 2 usage error or a target that cannot be built."""
