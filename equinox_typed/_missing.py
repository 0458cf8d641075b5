"""``MISSING``: the "argument not given" marker, for arguments where ``None`` is a
legitimate value (``tree_at(..., replace=None)``) or where a decorator is used both bare
and with arguments (``@filter_jit`` and ``@filter_jit(donate="all")``)."""

from __future__ import annotations

import enum
from typing import Final

__all__ = ["MISSING", "Missing"]


class Missing(enum.Enum):
    """The type of :data:`MISSING` (an enum, so checkers can narrow on it)."""

    MISSING = enum.auto()

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Final = Missing.MISSING
