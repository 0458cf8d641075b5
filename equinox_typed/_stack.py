"""Stacked Modules: many Modules of one structure held as one, with extra leading axes.

``filter_vmap(make_model)(keys)`` builds an ensemble: a single Module whose every array
carries the same extra leading axes (``weight: f32[4,2,2]`` where the annotation says
``"out in"``). Scanning over identical layers stores them the same way. Such a *stack*
fails the field checks of its class, yet each *member* (one index into the leading axes)
is a valid Module.

At a transformation boundary, a Module that fails its check is tried as a stack: when
every array in it shares one leading shape prefix in front of what its annotation
describes, one member is checked instead, with its own dimension bindings. All members
have the same shapes, dtypes and non-array fields, so one stands for all; it is checked
*abstractly* (``jax.eval_shape`` of ``jax.vmap`` over the prefix), never sliced. A
member's mismatch is reported with the usual message plus a line naming the stack.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from typing import Any

import jax

# Absolute: pyright reports `from . import _checking` as private usage, since the
# package's __init__ imports names from it.
import equinox_typed._checking as _checking
from ._checking import TypeCheckError
from ._filters import combine, is_array, partition
from ._jax_typed import eval_shape, tree_flatten
from ._module import Module

__all__ = ["check_stack_member", "on_each_member", "stack_prefix"]


def _annotated_arrays(
    module: Any, field_hints: Callable[[Any], Iterator[tuple[Any, Any]]]
) -> Iterator[tuple[tuple[int, ...], Any]]:
    """``(shape, array annotation)`` of every array field of ``module`` and of the
    Modules nested in its fields, in field order."""
    for value, hint in field_hints(module):
        annotations = list(_checking.array_hints_in(hint))
        if len(annotations) == 1 and is_array(value):
            yield tuple(value.shape), annotations[0]
            continue
        for leaf in tree_flatten(value, is_leaf=_is_module)[0]:
            if _is_module(leaf):
                yield from _annotated_arrays(leaf, field_hints)


def _is_module(x: Any) -> bool:
    return isinstance(x, Module)


def stack_prefix(
    module: Any, field_hints: Callable[[Any], Iterator[tuple[Any, Any]]]
) -> tuple[int, ...] | None:
    """The leading axes ``module`` is stacked over, or None when it is not a stack.

    **Arguments:**

    - ``module``: a Module that failed its check.
    - ``field_hints``: gives a Module's ``(field value, annotation)`` pairs.

    The prefix is read from the first array field whose annotation has a fixed rank;
    every array in ``module`` (nested Modules included) must start with it.
    """
    prefix: tuple[int, ...] | None = None
    for shape, hint in _annotated_arrays(module, field_hints):
        if hint.index_variadic is None:
            extra = len(shape) - len(hint.dims)
            prefix = shape[:extra] if extra > 0 else None
            break
    if not prefix:
        return None
    depth = len(prefix)
    for leaf in tree_flatten(module)[0]:
        if is_array(leaf) and tuple(leaf.shape[:depth]) != prefix:
            return None
    return prefix


def check_stack_member(
    module: Any, prefix: tuple[int, ...], check: Callable[[Any], None], owner: str
) -> None:
    """Check one member of a stack, abstractly.

    **Arguments:**

    - ``module``: the stack.
    - ``prefix``: its leading axes (from :func:`stack_prefix`).
    - ``check``: checks a (member) Module, raising :class:`TypeCheckError`.
    - ``owner``: the stack's class name, for the error.

    **Raises:** the member's :class:`TypeCheckError`, with a line saying it is a stack.
    """
    try:
        on_each_member(module, prefix, check)
    except TypeCheckError as error:
        raise TypeCheckError(
            f"{error}\n  stacked:  {owner} holds {math.prod(prefix)} members (leading axes "
            f"{prefix} on every array); the first mismatch of a member is shown"
        ) from None


def on_each_member(module: Any, prefix: tuple[int, ...], fn: Callable[[Any], None]) -> None:
    """Call ``fn`` on the members of a stack, all at once and abstractly.

    **Arguments:**

    - ``module``: the stack (its arrays concrete, abstract or tracers).
    - ``prefix``: its leading axes (from :func:`stack_prefix`).
    - ``fn``: called once, under ``jax.eval_shape`` of ``jax.vmap`` over ``prefix``,
      with a Module whose arrays are a member's (tracers of the member's shapes): what
      ``fn`` finds holds for every member, since they share shapes and dtypes. Its
      exceptions propagate.

    ```python
    on_each_member(ensemble, (8,), lambda member: print(member.weight.shape))
    ```
    """
    arrays, rest = partition(module, is_array)

    def member(member_arrays: Any) -> None:
        fn(combine(member_arrays, rest))

    mapped: Callable[[Any], Any] = member
    for _ in prefix:
        mapped = jax.vmap(mapped)
    eval_shape(mapped, arrays)

