"""Wrapped parameters: a Module standing in an array field at a transformation boundary.

A documented Equinox idiom re-parametrises one weight by wrapping it in a small Module,

```python
model = eqx.tree_at(lambda m: m.weight, model, replace_fn=Symmetric)
```

and passes the model across ``filter_jit``/``filter_grad``, resolving the wrappers
inside. The field is annotated as an array (``Float[Array, "out in"]``) but holds a
Module. At a boundary such a wrapper is accepted in place of the array:

- the wrapper's own fields are checked against its own annotations (as every Module
  found at a boundary is);
- when the wrapper says which array it stands for (``__jax_array__``), that array's shape
  and dtype are checked against the field's annotation, evaluated abstractly with
  ``jax.eval_shape`` (nothing is computed), in the same dimension memo as the other
  fields.

``__init__`` never takes this path: a Module given to an array field at construction is
still an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

# Absolute: pyright reports `from . import _checking` as private usage, since the
# package's __init__ imports names from it.
import equinox_typed._checking as _checking
from ._filters import combine, is_array, partition
from ._jax_typed import eval_shape
from ._module import Module, check_tree_modules

__all__ = ["check_with_wrappers"]

Item = tuple[str, Any, Any]


def _stands_in_for_array(value: Any, hint: Any) -> bool:
    return isinstance(value, Module) and any(
        _checking.array_hints_in(_checking.written_hint(hint))
    )


def check_with_wrappers(owner: str, items: Sequence[Item]) -> None:
    """:func:`~equinox_typed._checking.check_items`, with Modules in array fields taken
    as wrapped parameters (see the module docstring).

    **Arguments:**

    - ``owner``, ``items``: as for ``check_items``.

    **Raises:** :class:`~equinox_typed.TypeCheckError`; a wrapper's array is labelled
    ``field.__jax_array__()``.
    """
    plain: list[Item] = []
    wrapped: list[tuple[int, Item]] = []
    for label, value, hint in items:
        if not _stands_in_for_array(value, hint):
            plain.append((label, value, hint))
            continue
        # The wrapper's own fields first: its `__jax_array__` may rely on them.
        check_tree_modules(value, path=label)
        if hasattr(value, "__jax_array__"):
            wrapped.append((len(plain), (f"{label}.__jax_array__()", value, hint)))
            plain.append((label, None, hint))  # a placeholder, replaced below
    if not wrapped:
        _checking.check_items(owner, plain)
        return
    arrays, rest = partition([item[1] for _, item in wrapped], is_array)

    def check_resolved(wrapper_arrays: Any) -> None:
        resolved = list(plain)
        wrappers = combine(wrapper_arrays, rest)
        for (index, (label, _, hint)), wrapper in zip(wrapped, wrappers, strict=True):
            resolved[index] = (label, wrapper.__jax_array__(), hint)
        _checking.check_items(owner, resolved)

    eval_shape(check_resolved, arrays)
