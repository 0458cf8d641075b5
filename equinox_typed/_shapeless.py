"""Finding arrays held where an annotation says nothing about shape or dtype.

A strict Module promises that every array it holds is checked against a shape and dtype.
An array under ``Any``, ``object`` or a bare container annotation (``tuple``,
``dict[str, Any]``, ``list[Any]``) passes its field's check without either, so strict
Modules refuse it and ask for a shaped annotation instead.
"""

from __future__ import annotations

import collections.abc
import types
from typing import Any, Final, Union, cast, get_args, get_origin

import jax
import numpy as np

# Absolute: pyright reports `from . import _checking` as private usage, since the
# package's __init__ imports names from it.
import equinox_typed._checking as _checking

__all__ = ["has_shapeless_position", "shapeless_array_path"]

_ARRAYS: Final = (jax.Array, np.ndarray)
_SEQUENCES: Final = frozenset(
    {tuple, list, collections.abc.Sequence, collections.abc.MutableSequence}
)
_MAPPINGS: Final = frozenset({dict, collections.abc.Mapping, collections.abc.MutableMapping})
_SETS: Final = frozenset({set, frozenset, collections.abc.Set, collections.abc.MutableSet})
_CONTAINERS: Final = _SEQUENCES | _MAPPINGS | _SETS
# Nodes an array search does not enter: a Module's fields have annotations of their own.
_OPAQUE: list[type] = []


def stop_at(cls: type) -> None:
    """Do not look for arrays inside instances of ``cls`` (registered by Module)."""
    _OPAQUE.append(cls)


def _is_anything(hint: Any) -> bool:
    return hint is Any or hint is object


def has_shapeless_position(hint: Any) -> bool:
    """Whether a value matching ``hint`` may hold an array with no shape annotation."""
    if _is_anything(hint) or hint in _CONTAINERS:
        return True
    origin = get_origin(hint)
    if origin is Union or origin is types.UnionType:
        return not any(_checking.array_hints_in(hint)) and any(
            map(has_shapeless_position, get_args(hint))
        )
    if origin in _CONTAINERS:
        return any(map(has_shapeless_position, get_args(hint)))
    return False


def _first_array(value: Any, path: str) -> tuple[str, Any] | None:
    """Key path and value of the first array inside ``value`` (through containers only)."""
    if _OPAQUE and isinstance(value, tuple(_OPAQUE)):
        return None
    if isinstance(value, _ARRAYS):
        return path, cast(object, value)
    if isinstance(value, (tuple, list)):
        for i, item in enumerate(cast("list[Any]", value)):
            found = _first_array(item, f"{path}[{i}]")
            if found is not None:
                return found
    elif isinstance(value, dict):
        mapping = cast("dict[Any, Any]", cast(object, value))
        for key, item in mapping.items():
            found = _first_array(item, f"{path}[{key!r}]")
            if found is not None:
                return found
    return None


def shapeless_array_path(hint: Any, value: Any, path: str = "") -> tuple[str, Any] | None:
    """The key path (from ``path``) and value of an array in ``value`` held at a
    position where ``hint`` gives no shape (``Any``, ``object``, a bare container), or
    None.

    ```python
    shapeless_array_path(dict[str, Any], {"w": jnp.zeros(3)})   # ("['w']", array)
    shapeless_array_path(tuple[Float[Array, "n"], ...], (jnp.zeros(3),))   # None
    ```
    """
    if _OPAQUE and isinstance(value, tuple(_OPAQUE)):
        return None
    if _is_anything(hint) or hint in _CONTAINERS:
        return _first_array(value, path)
    origin = get_origin(hint)
    args = get_args(hint)
    if origin is Union or origin is types.UnionType:
        if any(_checking.array_hints_in(hint)) or not any(map(_is_anything, args)):
            return None
        return _first_array(value, path)
    if origin in _SEQUENCES and isinstance(value, (tuple, list)) and args:
        items = cast("list[Any]", value)
        if len(args) == 2 and args[1] is Ellipsis or origin is not tuple:
            hints = [args[0]] * len(items)
        elif len(args) == len(items):
            hints = list(args)
        else:
            return None  # the check itself refuses a tuple of the wrong length
        for i, (item_hint, item) in enumerate(zip(hints, items)):
            found = shapeless_array_path(item_hint, item, f"{path}[{i}]")
            if found is not None:
                return found
    elif origin in _MAPPINGS and isinstance(value, dict) and len(args) == 2:
        mapping = cast("dict[Any, Any]", cast(object, value))
        for key, item in mapping.items():
            found = shapeless_array_path(args[1], item, f"{path}[{key!r}]")
            if found is not None:
                return found
    return None
