"""``Enumeration``: enums whose items are PyTrees (an integer array), so they can be
returned from compiled code, selected with ``where`` and raised with ``error_if``."""

# The items' fields keep Equinox's private names (`_value`, `_enumeration`); the
# enumeration class and its metaclass, defined here, read them.
# pyright: reportPrivateUsage=false

from __future__ import annotations

import warnings
from typing import Any, ClassVar, Final

import jax
import jax.numpy as jnp
import numpy as np
from jax.core import Tracer
from jaxtyping import Array, Int

from ._errors import branched_error_if
from ._jax_typed import asarray
from ._module import Module, field

__all__ = ["Enumeration", "EnumerationItem"]

_CLASSMETHODS: Final = ("promote", "where")


def _is_magic(name: str) -> bool:
    return name.startswith("__") and name.endswith("__")


class EnumerationItem(Module):
    """One item of an :class:`Enumeration` (``RESULTS.success``): an integer index into
    the enumeration's messages, which may be traced or batched."""

    _value: Int[Array | np.ndarray[Any, Any], "*batch"]
    _enumeration: Any = field(static=True)

    def __init__(self, value: Int[Array | np.ndarray[Any, Any], "*batch"], enumeration: Any) -> None:
        self._value = value
        self._enumeration = enumeration

    # Both return a boolean array (`object`'s signature says bool, hence Any).
    def __eq__(self, other: object) -> Any:
        return asarray(self._value == self._same(other, "==")._value)

    def __ne__(self, other: object) -> Any:
        return asarray(self._value != self._same(other, "!=")._value)

    __hash__ = Module.__hash__

    def _same(self, other: object, op: str) -> EnumerationItem:
        if isinstance(other, EnumerationItem) and other._enumeration is self._enumeration:
            return other
        raise ValueError(
            f"{op} compares items of the same Enumeration; got {_name(self._enumeration)} "
            f"and {type(other).__qualname__ if not isinstance(other, EnumerationItem) else _name(other._enumeration)}"
        )

    def __repr__(self) -> str:
        return f"{_name(self._enumeration)}<{self._enumeration[self]}>"

    def error_if(self, token: Any, pred: Any) -> Any:
        """``eqx.error_if(token, pred, message of this item)``: return ``token``,
        raising this item's message at run time where ``pred`` is true.

        - ``token``: a PyTree with at least one array, to attach the check to.
        - ``pred``: boolean (array); the error is raised if any element is true.

        ```python
        x = result.error_if(x, result != RESULTS.success)
        ```
        """
        return branched_error_if(token, pred, self._value, self._enumeration._messages)

    def is_traced(self) -> bool:
        """Whether the item's value is only known at run time."""
        return isinstance(self._value, Tracer)


def _name(enumeration: type) -> str:
    return f"{enumeration.__module__}.{enumeration.__qualname__}"


class _EnumerationMeta(type):
    """Turns the string attributes of an ``Enumeration`` subclass into items."""

    _messages: list[str]
    _items: dict[str, EnumerationItem]
    _base_offsets: dict[_EnumerationMeta, np.ndarray[Any, Any]]

    def __new__(mcs, name: str, bases: tuple[type, ...], namespace: dict[str, Any]) -> Any:
        entries = {k: v for k, v in namespace.items() if not _is_magic(k)}
        is_root = not bases
        if is_root:
            entries = {}
        else:
            for clash in set(entries) & set(_CLASSMETHODS):
                raise ValueError(f"an Enumeration item cannot be named `{clash}` (a classmethod)")
            for value_name, message in entries.items():
                if not isinstance(message, str):
                    raise TypeError(
                        f"Enumeration {name}.{value_name} must be a message string, "
                        f"got {type(message).__qualname__}"
                    )
        kept = {k: v for k, v in namespace.items() if is_root or _is_magic(k)}
        cls = super().__new__(mcs, name, bases, kept)
        cls._messages, cls._items, cls._base_offsets = [], {}, {}
        for base in bases:
            for ancestor in base.__mro__:
                if ancestor is object or ancestor is cls._root():
                    continue
                if not isinstance(ancestor, _EnumerationMeta):
                    raise ValueError("an Enumeration can only inherit from Enumerations")
                if ancestor not in cls._base_offsets:
                    cls._base_offsets[ancestor] = cls._inherit(ancestor)
        for value_name, message in entries.items():
            cls._add(value_name, message)
        if cls.__doc__ is None:
            lines = [f"- `{k}`: {cls._messages[cls._index(k)]}" for k in cls._items]
            cls.__doc__ = "An Enumeration with items:\n\n" + "\n".join(lines)
        return cls

    def _root(cls) -> type:
        return Enumeration

    def _index(cls, name: str) -> int:
        return int(np.asarray(cls._items[name]._value))

    def _add(cls, name: str, message: str) -> int:
        if name in cls._items:
            index = cls._index(name)
            if cls._messages[index] != message:
                warnings.warn(
                    f"Enumeration {cls.__qualname__}: `{name}` is given two different "
                    f"messages; using the later one, {message!r}",
                    stacklevel=4,
                )
            cls._messages[index] = message
            return index
        index = len(cls._messages)
        cls._messages.append(message)
        cls._items[name] = EnumerationItem(np.array(index, dtype=np.int32), cls)
        return index

    def _inherit(cls, base: _EnumerationMeta) -> np.ndarray[Any, Any]:
        """Add ``base``'s items; the result maps ``base``'s indices to ours."""
        offsets = np.zeros(len(base._messages), dtype=np.int32)
        for item_name in base._items:
            base_index = base._index(item_name)
            offsets[base_index] = cls._add(item_name, base._messages[base_index])
        return offsets

    def __getattr__(cls, name: str) -> EnumerationItem:
        # Only the class's own items (looked up without recursing into __getattr__).
        items: dict[str, EnumerationItem] = type.__getattribute__(cls, "__dict__").get("_items", {})
        try:
            return items[name]
        except KeyError:
            raise AttributeError(f"{cls.__qualname__} has no item `{name}`") from None

    def __getitem__(cls, item: object) -> str:
        """The message of ``item`` (``"traced"`` while tracing)."""
        if not isinstance(item, EnumerationItem):
            raise ValueError(f"{cls.__qualname__}[...] takes an item, got {type(item).__qualname__}")
        if item._enumeration is not cls:
            raise ValueError(f"{item!r} is not an item of {_name(cls)}")
        value = item._value
        if isinstance(value, Tracer):
            return "traced"
        array = np.asarray(value)
        if array.ndim == 0:
            message: str = cls._messages[int(array)]
            return message
        return str(np.vectorize(cls._messages.__getitem__)(array))

    def __len__(cls) -> int:
        return len(cls._items)

    def __instancecheck__(cls, value: object) -> bool:
        return isinstance(value, EnumerationItem) and value._enumeration is cls


class Enumeration(metaclass=_EnumerationMeta):
    """Enums for JAX: each item is a PyTree holding an integer array, so it can cross
    ``jit``, be chosen with :meth:`where` and be raised with ``item.error_if``.

    Declare items as class attributes holding their messages; look them up on the class:

    ```python
    class RESULTS(eqx.Enumeration):
        success = ""
        diverged = "the solver diverged"

    result = RESULTS.where(residual < tol, RESULTS.success, RESULTS.diverged)
    x = result.error_if(x, result != RESULTS.success)
    RESULTS[result]           # the message, e.g. "the solver diverged"
    ```

    Items compare (``==``, ``!=``, giving a boolean array) only with items of the same
    enumeration. A subclass holds its parents' items plus its own; convert a parent's
    item with :meth:`promote`.
    """

    _messages: ClassVar[list[str]]

    @classmethod
    def promote(cls, item: object) -> EnumerationItem:
        """``item``, from an ancestor enumeration, as the same item of this one.

        - ``item``: an item of a class this enumeration inherits from.
        """
        if not isinstance(item, EnumerationItem):
            raise ValueError(f"promote takes an Enumeration item, got {type(item).__qualname__}")
        offsets = cls._base_offsets.get(item._enumeration)
        if offsets is None:
            raise ValueError(
                f"{_name(cls)}.promote: {_name(item._enumeration)} is not an enumeration "
                f"{cls.__qualname__} inherits from"
            )
        with jax.ensure_compile_time_eval():
            value = asarray(offsets)[item._value]
        return EnumerationItem(value, cls)

    @classmethod
    def where(cls, pred: Any, a: EnumerationItem, b: EnumerationItem) -> EnumerationItem:
        """``a`` where the scalar boolean ``pred`` is true, else ``b`` (as ``jnp.where``).

        - ``pred``: a scalar boolean (array).
        - ``a``, ``b``: items of this enumeration.
        """
        if jnp.shape(pred) != () or jnp.result_type(pred) != jnp.bool_:
            raise ValueError(f"{cls.__qualname__}.where needs a scalar boolean predicate")
        for item in (a, b):
            if not isinstance(item, cls):
                raise ValueError(f"{_name(cls)}.where takes items of {_name(cls)}, got {item!r}")
        if a._value is b._value:
            return a
        with jax.ensure_compile_time_eval():
            value = jnp.where(pred, a._value, b._value)
        return EnumerationItem(value, cls)
