"""Type stubs for ``python -m equinox_typed.check`` (the audit command)."""

from collections.abc import Sequence
from typing import IO, Final

__all__ = ["CLI_SCHEMA", "main"]

CLI_SCHEMA: Final[str]

def main(
    argv: Sequence[str] | None = None, out: IO[str] | None = None, err: IO[str] | None = None
) -> int:
    """Run the command; return its exit status.

    **Arguments:**

    - ``argv``: the arguments (default ``sys.argv[1:]``).
    - ``out``, ``err``: where reports and errors go (default standard output/error).

    ```python
    status = main(["models.py:make_model", "--input", "f32[784]", "--format", "json"])
    ```
    """
