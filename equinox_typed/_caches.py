"""``clear_caches``: release everything this library and JAX keep between calls."""

from __future__ import annotations

import equinox_typed._call_checks as _call_checks
import equinox_typed._checking as _checking
import equinox_typed._jit as _jit
from ._accept import clear_accepted_hints
from ._jax_typed import clear_caches as clear_jax_caches
from ._module import Module

__all__ = ["clear_caches"]


def _module_classes() -> list[type]:
    """Every Module subclass defined so far (each may hold a per-class check plan)."""
    found: list[type] = []
    stack: list[type] = [Module]
    while stack:
        cls = stack.pop()
        found.append(cls)
        stack.extend(cls.__subclasses__())
    return found


def clear_caches() -> None:
    """Empty every cache: compiled programs (``filter_jit`` and all of JAX's, through
    ``jax.clear_caches``), memos of passed checks, the per-class and per-method check
    plans and the annotations as rewritten for matching, which are rebuilt on next use. Useful in long-running sessions
    (notebooks) to release memory; the next call of each function compiles and checks
    afresh.

    ```python
    eqx.clear_caches()
    ```
    """
    clear_jax_caches()
    # Every memo registers itself, so those held by live wrappers (filter_grad's
    # boundaries, ...) are emptied too, not only the per-class ones below.
    _checking.clear_memos()
    for cls in _module_classes():
        if cls.__dict__.get("_eqx_plan") is not None:
            type.__setattr__(cls, "_eqx_plan", None)
    _call_checks.clear_plans()
    clear_accepted_hints()  # the annotations as rewritten for matching, per annotation
    _jit.clear_array_kinds()
