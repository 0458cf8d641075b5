"""Bookkeeping that a failed trace takes back.

A trace that raises leaves nothing in JAX's compilation cache, so the next call traces
again. Anything that counts traces (``eqx.debug.assert_max_traces``) must therefore
not count a failed one -- least of all one refused by this library's own return check at
a ``filter_jit`` boundary, which fails *after* the function ran. Code that records
something while tracing registers how to undo it with :func:`on_failure`; the innermost
enclosing :func:`trace_attempt` undoes it if the attempt raises, and otherwise hands it
on to the attempt around it (whose failure must undo it too).

```python
with trace_attempt():
    on_failure(lambda: counter.pop())
    ...  # raises: the lambda runs, then the exception propagates
```
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Generator
from contextlib import contextmanager

__all__ = ["on_failure", "trace_attempt"]


class _Attempts(threading.local):
    """Per thread (traces run on the calling thread): the undo lists of the open attempts."""

    def __init__(self) -> None:
        self.open: list[list[Callable[[], None]]] = []


_ATTEMPTS = _Attempts()


@contextmanager
def trace_attempt() -> Generator[None]:
    """Run the body as one attempt: if it raises, undo what it registered, newest first."""
    open_attempts = _ATTEMPTS.open
    undos: list[Callable[[], None]] = []
    open_attempts.append(undos)
    try:
        yield
    except BaseException:
        open_attempts.pop()
        for undo in reversed(undos):
            undo()
        raise
    open_attempts.pop()
    if open_attempts:
        open_attempts[-1].extend(undos)


def on_failure(undo: Callable[[], None]) -> None:
    """Call ``undo`` if the innermost open :func:`trace_attempt` fails (no-op outside one)."""
    if _ATTEMPTS.open:
        _ATTEMPTS.open[-1].append(undo)
