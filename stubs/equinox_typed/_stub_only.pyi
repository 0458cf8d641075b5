"""Stub-only helper module (absent at run time): re-exports a typing special form under
the name ``AbstractClassVar``, which a stub cannot do by assignment."""

from typing import ClassVar as AbstractClassVar

__all__ = ["AbstractClassVar"]
