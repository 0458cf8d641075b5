"""Resolving annotations one by one, so that one unresolvable hint costs only itself.

``typing.get_type_hints`` is all or nothing: a single name that does not resolve (imported
only under ``TYPE_CHECKING``, local to a function that has returned) makes it raise, and
every other annotation of the function or class with it. The checks must still check what
they can, and say what they cannot.
"""

from __future__ import annotations

import types
import typing
from typing import Any, ForwardRef, Literal, get_origin

__all__ = ["has_forward_reference", "resolve_each"]


def has_forward_reference(hint: Any) -> bool:
    """Whether an annotation still contains names that did not resolve."""
    if isinstance(hint, (str, ForwardRef)):
        return True
    if get_origin(hint) is Literal:  # its arguments are values, not annotations
        return False
    return any(has_forward_reference(arg) for arg in getattr(hint, "__args__", ()))


def resolve_each(
    annotations: dict[str, Any], globalns: dict[str, Any], localns: dict[str, Any] | None
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Resolve each annotation on its own.

    **Arguments:**

    - ``annotations``: name to annotation (an object or a string), as in ``__annotations__``.
    - ``globalns``, ``localns``: the namespaces the strings are evaluated in.

    **Returns:** ``(resolved, unresolved)``: the annotations that resolved, as objects
    (``Annotated`` kept), and the others as they were written.

    ```python
    resolved, unresolved = resolve_each({"x": "Float[Array, 'n']", "y": "Missing"}, g, None)
    ```
    """
    resolved: dict[str, Any] = {}
    unresolved: dict[str, Any] = {}
    for name, annotation in annotations.items():
        # get_type_hints on a one-annotation stand-in resolves strings nested inside
        # objects too (`list["Layer"]`), the same way as for the whole function.
        holder = types.SimpleNamespace(__annotations__={name: annotation})
        try:
            hint = typing.get_type_hints(holder, globalns, localns, include_extras=True)[name]
        except Exception:  # NameError, SyntaxError, whatever evaluating the text raised
            unresolved[name] = annotation
            continue
        if has_forward_reference(hint):
            unresolved[name] = annotation
        else:
            resolved[name] = hint
    return resolved, unresolved
