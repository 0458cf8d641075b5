"""The run-time checking engine: modes, backends, and checked groups of values.

A *check* takes a list of ``(label, value, hint)`` items and verifies every value against
its hint with the selected backend (beartype or typeguard), inside one jaxtyping memo so
that named dimensions bind consistently across the whole group.

Checks are cheap on the hot path because successful results are memoised by *abstract
signature*: the structure of the values plus, per leaf, its type and (for arrays) shape
and dtype, (for numbers and strings) its value, (for nested Modules) nothing more, and
(for other objects) its identity, held weakly. A repeated check of same-shaped data is a
few C calls and one dict lookup. Checks against hints whose validators look at values
(``Annotated[..., Is[...]]``) are never memoised.
"""

from __future__ import annotations

import collections.abc
import contextlib
import operator
import os
import re
import reprlib
import types
import warnings
import weakref
from contextvars import ContextVar
from collections.abc import Callable, Generator, Iterator, Sequence, Sized
from typing import (
    Annotated,
    Any,
    Final,
    Literal,
    TypeAlias,
    Union,
    cast,
    get_args,
    get_origin,
)

import jax
import jaxtyping
import numpy as np
import typeguard
from beartype.door import is_bearable

from ._accept import Accepting, accepted_hint
from ._jax_internals import ARRAY_IMPL, trace_state_clean, x64_enabled
from ._jax_typed import jaxtyped, tree_flatten
from ._pretty import array_summary

__all__ = [
    "CheckMode",
    "TypeCheckError",
    "TypeCheckWarning",
    "TypeCheckerName",
    "checks",
    "checks_active",
    "get_checks",
    "get_typechecker",
    "set_checks",
    "set_typechecker",
]

CheckMode: TypeAlias = Literal["off", "eager", "warn", "always"]
TypeCheckerName: TypeAlias = Literal["beartype", "typeguard"]

_MODES: Final = ("off", "eager", "warn", "always")
_TYPECHECKERS: Final = ("beartype", "typeguard")


class TypeCheckError(jaxtyping.TypeCheckError):
    """Raised when a value does not match its shape/dtype/type annotation.

    A subclass of both :class:`TypeError` and :class:`jaxtyping.TypeCheckError`, so
    existing ``except`` clauses for either keep working.
    """


class TypeCheckWarning(UserWarning):
    """Issued instead of raising :class:`TypeCheckError` in checking mode ``"warn"``,
    once per distinct violation, with the same message.

    ```python
    with eqx.checks("warn"):
        model = build_model()   # a wrong annotation warns instead of raising
    ```
    """


def _from_env(var: str, allowed: tuple[str, ...], default: str) -> str:
    value = os.environ.get(var, default).strip().lower()
    if value not in allowed:
        raise ValueError(f"{var}={value!r} is not one of {', '.join(allowed)}")
    return value


# The process-wide defaults (`_from_env` has checked that the values are allowed
# literals): what every thread and task sees unless it is inside `checks(...)`.
_default_mode: CheckMode = cast(CheckMode, _from_env("EQUINOX_TYPED_CHECKS", _MODES, "eager"))
_default_typechecker: TypeCheckerName = cast(
    TypeCheckerName, _from_env("EQUINOX_TYPED_TYPECHECKER", _TYPECHECKERS, "beartype")
)

# What `checks(...)` overrides in the current context (thread or asyncio task), as
# `(mode, typechecker)` with None for "the process default". A ContextVar, like JAX's
# own config contexts: a `with checks("off")` in one thread leaves the others checked,
# and a task created inside it inherits it, as tasks inherit every context variable.
_override: ContextVar[tuple[CheckMode | None, TypeCheckerName | None] | None] = ContextVar(
    "equinox_typed.checks", default=None
)


def get_checks() -> CheckMode:
    """The checking mode in force here: ``"off"``, ``"eager"`` (default), ``"warn"`` or
    ``"always"``.

    That is the mode of the innermost :func:`checks` block of the current thread or
    task, else the process default set by :func:`set_checks`.
    """
    override = _override.get()
    if override is None or override[0] is None:
        return _default_mode
    return override[0]


def _validated_mode(mode: CheckMode) -> CheckMode:
    if mode not in _MODES:
        raise ValueError(f"checking mode must be one of {_MODES}, got {mode!r}")
    return mode


def _validated_typechecker(name: TypeCheckerName) -> TypeCheckerName:
    if name not in _TYPECHECKERS:
        raise ValueError(f"typechecker must be one of {_TYPECHECKERS}, got {name!r}")
    return name


def set_checks(mode: CheckMode) -> CheckMode:
    """Set the process-wide default checking mode and return the previous default.

    - ``"off"``: nothing is checked.
    - ``"eager"``: checks run only when no JAX trace is active, so traced code is
      exactly what it would be without checks.
    - ``"warn"``: the checks of ``"eager"``, each violation issued once as a
      :class:`TypeCheckWarning` instead of raised (a first step when migrating code).
    - ``"always"``: checks also run while tracing, against abstract shapes.

    The default applies in every thread and task outside a :func:`checks` block; the
    initial default comes from the ``EQUINOX_TYPED_CHECKS`` environment variable.

    ```python
    eqx.set_checks("off")   # e.g. in a benchmark script
    ```
    """
    global _default_mode
    previous, _default_mode = _default_mode, _validated_mode(mode)
    return previous


@contextlib.contextmanager
def checks(
    mode: CheckMode | None = None, *, typechecker: TypeCheckerName | None = None
) -> Generator[None, None, None]:
    """Use a checking mode and/or backend inside a ``with`` block, in this context only.

    **Arguments:**

    - ``mode``: the mode inside the block (see :func:`set_checks`); None keeps the
      current one.
    - ``typechecker``: the backend inside the block (see :func:`set_typechecker`);
      None keeps the current one.

    The setting is local to the current thread or asyncio task (a ``contextvars``
    context): other threads keep their own mode while the block runs, and tasks
    created inside the block inherit it.

    ```python
    with eqx.checks("off"):
        model = build_model_fast()
    with eqx.checks(typechecker="typeguard"):
        model(x)
    ```
    """
    outer = _override.get()
    outer_mode, outer_checker = (None, None) if outer is None else outer
    token = _override.set(
        (
            outer_mode if mode is None else _validated_mode(mode),
            outer_checker if typechecker is None else _validated_typechecker(typechecker),
        )
    )
    try:
        yield
    finally:
        _override.reset(token)


def get_typechecker() -> TypeCheckerName:
    """The backend in force here: ``"beartype"`` (default) or ``"typeguard"``.

    That is the backend of the innermost :func:`checks` block of the current thread or
    task that names one, else the process default set by :func:`set_typechecker`.
    """
    override = _override.get()
    if override is None or override[1] is None:
        return _default_typechecker
    return override[1]


def set_typechecker(name: TypeCheckerName) -> TypeCheckerName:
    """Set the process-wide default checking backend and return the previous default.

    The initial default comes from the ``EQUINOX_TYPED_TYPECHECKER`` environment
    variable; ``with eqx.checks(typechecker=...)`` overrides it in one context.

    ```python
    eqx.set_typechecker("typeguard")
    ```
    """
    global _default_typechecker
    previous, _default_typechecker = _default_typechecker, _validated_typechecker(name)
    return previous


def check_token() -> str:
    """What a compiled signature's checks depended on: the backend, and whether
    violations were only warned about (a signature compiled in mode ``"warn"`` has not
    passed the checks of ``"eager"``)."""
    typechecker = get_typechecker()
    return typechecker + "+warn" if get_checks() == "warn" else typechecker


def checks_active() -> bool:
    """Whether a check should run here and now, given the mode and the trace state."""
    override = _override.get()
    mode = _default_mode if override is None or override[0] is None else override[0]
    if mode == "eager" or mode == "warn":
        return trace_state_clean()
    return mode == "always"


# ---------------------------------------------------------------------------------------
# Backends: each answers "does value match hint?" inside the caller's jaxtyping memo.


# beartype checks one random element of a container (its linear-time strategy is not
# implemented for every container), so a wrong element would pass most of the time and
# then be memoised as passing: the elements are walked here, each checked in turn.
_SEQUENCE_ORIGINS: Final = frozenset(
    {
        list,
        set,
        frozenset,
        collections.abc.Sequence,
        collections.abc.MutableSequence,
        collections.abc.Set,
        collections.abc.MutableSet,
        collections.abc.Collection,
        collections.abc.Iterable,
    }
)
_MAPPING_ORIGINS: Final = frozenset(
    {dict, collections.abc.Mapping, collections.abc.MutableMapping}
)
_WALKED: Final = (list, tuple, set, frozenset, dict)


def _beartype_matches(value: Any, hint: Any) -> bool:
    if not is_bearable(value, hint):
        return False
    if not isinstance(value, _WALKED):
        return True
    return _elements_match(value, hint)


def _elements_match(value: Any, hint: Any) -> bool:
    """Whether every element of the container ``value`` matches its part of ``hint``
    (``value`` as a whole already does, as far as beartype looked)."""
    origin = get_origin(hint)
    args = get_args(hint)
    if origin is Annotated:
        return _elements_match(value, args[0])
    if origin is Union or origin is types.UnionType:
        return any(_beartype_matches(value, member) for member in args)
    if not args:
        return True
    if origin is tuple:
        items = cast("tuple[Any, ...]", value)
        if len(args) == 2 and args[1] is Ellipsis:
            return all(_beartype_matches(item, args[0]) for item in items)
        return all(map(_beartype_matches, items, args))
    if origin in _MAPPING_ORIGINS and isinstance(value, dict) and len(args) == 2:
        mapping = cast("dict[Any, Any]", cast(object, value))
        entries = mapping.items()
        key_hint, value_hint = args
        return all(
            _beartype_matches(k, key_hint) and _beartype_matches(v, value_hint)
            for k, v in entries
        )
    if origin in _SEQUENCE_ORIGINS and not isinstance(value, dict):
        return all(_beartype_matches(item, args[0]) for item in cast("list[Any]", value))
    return True


def _typeguard_matches(value: Any, hint: Any) -> bool:
    try:
        typeguard.check_type(
            value,
            hint,
            collection_check_strategy=typeguard.CollectionCheckStrategy.ALL_ITEMS,
        )
    except typeguard.TypeCheckError:
        return False
    return True


_BACKENDS: Final[dict[str, Callable[[Any, Any], bool]]] = {
    "beartype": _beartype_matches,
    "typeguard": _typeguard_matches,
}


def _matcher() -> Callable[[Any, Any], bool]:
    """``match(value, hint)`` for the current backend and x64 state (read once per
    check, not once per item)."""
    matches = _BACKENDS[get_typechecker()]
    x64 = x64_enabled()
    return lambda value, hint: matches(value, accepted_hint(hint, x64))


@jaxtyped(typechecker=None)
def _first_mismatch(items: Sequence[tuple[str, Any, Any]], start: int = 0) -> int:
    """Index of the first item from ``start`` on whose value does not match its hint,
    or -1.

    Runs in one jaxtyping memo: dimension names bind across all items, in order (the
    items before ``start`` only bind).
    """
    match = _matcher()
    for i, (_, value, hint) in enumerate(items):
        if not match(value, hint) and i >= start:
            return i
    return -1


# ---------------------------------------------------------------------------------------
# Memoisation by abstract signature.


# Immutable values whose type and value are all a check can look at.
_ATOMS: Final = frozenset(
    {int, float, bool, complex, str, bytes, type(None), type(Ellipsis), np.bool_}
)
# Classes whose instances a check of an enclosing value can only tell apart by type (a
# field annotated ``Linear`` is an isinstance check): Module registers itself. Their own
# fields are checked by their own class, with their own memo.
_TYPE_KEYED: list[type] = []


def key_by_type(cls: type) -> None:
    """Declare that a value of class ``cls`` inside a checked value is memoised by its type.

    Only sound for classes whose instances no annotation can look inside (Modules: their
    fields are checked by their own class); keeps memo keys of nested models small and
    free of references to them.
    """
    _TYPE_KEYED.append(cls)


class _Identity:
    """Stands for an opaque object (a function, a closure, a configuration object) in a
    memo key: equal only to a stand-in for the very same *live* object, and holding it
    by a weak reference, so a memo never keeps a user's object (or what a closure
    captured) alive. Once the object is gone, its keys match nothing."""

    __slots__ = ("_ref", "_id")

    def __init__(self, obj: object) -> None:
        self._ref = weakref.ref(obj)
        self._id = id(obj)

    def __hash__(self) -> int:
        return self._id

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, _Identity) or other._id != self._id:
            return False
        obj = self._ref()
        return obj is not None and obj is other._ref()


class _NotMemoised:
    """In a key for a value that cannot be weakly referenced: makes the key unhashable,
    so the check is simply not memoised."""

    __hash__ = None  # type: ignore[assignment]


_NOT_MEMOISED: Final = _NotMemoised()
# Containers longer than this are not memoised.
_MAX_KEYED: Final = 1000


def value_key(value: Any) -> Any:
    """A memo key for one value: equal for values that no check can tell apart.

    Atoms (numbers, strings, None) by type and value; containers by their type and the
    keys of their elements (so ``(1, 2)``, ``(1.0, 2)`` and ``(np.int64(1), 2)`` differ);
    arrays and array-likes by type, shape and dtype; Modules by type; any other object
    by identity, weakly held. Unhashable when some part cannot be keyed.
    """
    kind: type = type(cast(object, value))
    if kind in _ATOMS:
        return (kind, value)
    if isinstance(value, _WALKED) and len(cast("Sized", value)) > _MAX_KEYED:
        return (kind, _NOT_MEMOISED)  # a check is linear anyway; a key would double it
    if isinstance(value, (tuple, list)):
        return (kind, tuple(map(value_key, cast("Sequence[Any]", value))))
    if isinstance(value, dict):
        mapping = cast("dict[Any, Any]", cast(object, value))
        return (kind, tuple([(value_key(k), value_key(v)) for k, v in mapping.items()]))
    if isinstance(value, (set, frozenset)):
        return (kind, frozenset(map(value_key, cast("set[Any]", value))))
    if isinstance(value, np.generic):
        # A NumPy scalar may stand for a Python number (`in_features=np.int64(3)` binds
        # a dimension), so its value is part of the key.
        return (kind, value)
    shape = getattr(value, "shape", None)
    if shape is not None and hasattr(value, "dtype"):
        return (kind, tuple(shape), value.dtype)
    if _TYPE_KEYED and isinstance(value, tuple(_TYPE_KEYED)):
        return (kind,)
    try:
        return (kind, _Identity(value))
    except TypeError:  # not weakly referenceable
        return (kind, _NOT_MEMOISED)


def _leaf_signature(leaf: Any) -> Any:
    as_object: object = leaf  # pyright infers type(<Any>) as type[Unknown]
    kind = type(as_object)
    if kind is ARRAY_IMPL or kind is np.ndarray:  # the common case, without getattr
        return (kind, leaf.shape, leaf.dtype)
    return value_key(leaf)


def abstract_signature(tree: Any) -> Any:
    """A key that is equal for trees a check cannot tell apart.

    Two trees with equal signatures have the same structure (static parts included),
    the same array shapes/dtypes/types, and non-array leaves equal by
    :func:`value_key`. The key is unhashable when some part of the tree is;
    :class:`SignatureMemo` then simply does not memoise.
    """
    leaves, treedef = tree_flatten(tree)
    # Hashability is found out by the memo's lookup, which hashes anyway. The 64-bit
    # mode decides which dtypes NumPy leaves are accepted as (see `_accept`).
    signature = tuple(map(_leaf_signature, leaves))
    return (get_typechecker(), x64_enabled(), treedef, signature)


# A JAX value's abstract value (shape, dtype, weak type) is one cached attribute, much
# cheaper to read than `.shape` and `.dtype` separately.
_CLASS_AVAL: Final = operator.attrgetter("__class__", "aval")


def fields_signature(arrays: tuple[Any, ...], others: tuple[Any, ...]) -> Any:
    """The memo key of a check of a Module's fields, computed at C speed when it can be.

    **Arguments:**

    - ``arrays``: the values of the fields annotated as arrays: each contributes its
      class and abstract value (shape, dtype, weak type).
    - ``others``: the values of the other checked fields and of every field that binds
      a dimension: each contributes itself and its class (so ``1`` and ``True`` differ)
      when all are atoms (numbers, strings, None), else its :func:`value_key`.

    Falls back to :func:`value_key` of every value when an array field holds something
    that is not a JAX value (``None`` for an optional bias, a NumPy array). The three
    key shapes have different lengths, so they never collide; those that may hold NumPy
    values include the 64-bit mode, which decides the dtypes they are accepted as.
    """
    checker = get_typechecker()
    kinds = tuple(map(type, others))
    try:
        abstract = tuple(map(_CLASS_AVAL, arrays))
    except AttributeError:
        keys = (tuple(map(value_key, arrays)), tuple(map(value_key, others)))
        return (checker, x64_enabled(), *keys, None, None)
    if _ATOMS.issuperset(kinds):
        return (checker, abstract, others, kinds)
    return (checker, x64_enabled(), abstract, tuple(map(value_key, others)), None)


def values_signature(values: tuple[Any, ...]) -> Any:
    """The memo key of a check of a tuple of values (a call's arguments), computed at C
    speed when every value is a JAX value, else by :func:`value_key` (a key of another
    length, so the two never collide)."""
    try:
        return (get_typechecker(), tuple(map(_CLASS_AVAL, values)))
    except AttributeError:
        return (get_typechecker(), x64_enabled(), tuple(map(value_key, values)))


def is_value_dependent(hint: Any) -> bool:
    """Whether checking ``hint`` may depend on more than the memo key captures: an
    ``Annotated[...]`` hint carries validators (beartype's ``Is[...]``) that look at
    values, so checks against it are never memoised."""
    if get_origin(hint) is Annotated:
        return True
    if get_origin(hint) is Literal:
        return False
    return any(map(is_value_dependent, get_args(hint)))


_LIVE_MEMOS: weakref.WeakSet[SignatureMemo] = weakref.WeakSet()


def clear_memos() -> None:
    """Empty every memo of passed checks (``eqx.clear_caches``), including those held
    by live wrappers such as ``filter_grad`` boundaries."""
    for memo in list(_LIVE_MEMOS):
        memo.clear()


class SignatureMemo:
    """A bounded set of signatures already known to pass.

    Keys hold no strong reference to user objects (see :func:`value_key`); the bound
    (``limit`` keys, the oldest half dropped when full) keeps memory flat however many
    signatures a program goes through. A memo built with ``enabled=False`` (or
    :meth:`disable`) remembers nothing: for checks against value-dependent hints.
    """

    __slots__ = ("_seen", "_limit", "__weakref__")

    def __init__(self, limit: int = 4096, *, enabled: bool = True) -> None:
        self._seen: dict[Any, None] = {}
        self._limit = limit if enabled else 0
        _LIVE_MEMOS.add(self)

    def disable(self) -> None:
        """Forget everything and remember nothing from now on."""
        self._seen.clear()
        self._limit = 0

    def clear(self) -> None:
        self._seen.clear()

    def __contains__(self, key: Any) -> bool:
        try:
            return key in self._seen
        except TypeError:  # an unhashable part: such signatures are not memoised
            return False

    def lookup(self, key: Any) -> tuple[bool, Any]:
        """``(seen, key)``: whether ``key`` is known to pass, and the key to give
        :meth:`add` after a passing check."""
        return key in self, key

    def add(self, key: Any) -> None:
        if not self._limit:
            return
        if get_checks() == "warn":
            return  # a warned violation did not pass: mode "warn" memoises nothing
        try:
            hash(key)
        except TypeError:
            return
        if len(self._seen) >= self._limit:
            # Old signatures are the least likely to recur; drop the oldest half.
            for old in list(self._seen)[: self._limit // 2]:
                del self._seen[old]
        self._seen[key] = None


# ---------------------------------------------------------------------------------------
# Describing what went wrong.

# Bounded reprs: describing a 5-million-element list must not format all of it.
_SHORT_REPR: Final = reprlib.Repr()
_SHORT_REPR.maxstring = _SHORT_REPR.maxother = 60
_SHORT_REPR.maxlist = _SHORT_REPR.maxtuple = _SHORT_REPR.maxdict = _SHORT_REPR.maxset = 6


def _kind_of_array(value: Any) -> str:
    """What sort of array-like ``value`` is, when not a JAX array: a same shape and
    dtype must not read as a match."""
    if isinstance(value, np.ndarray):
        return "(numpy)"
    if isinstance(value, np.generic):
        kind: type = type(cast(object, value))
        return f" (a NumPy scalar, np.{kind.__name__}, not an array)"
    if isinstance(value, jax.Array):  # concrete or traced
        return ""
    return f" (a {type(value).__qualname__}, not an array)"


def describe_value(value: Any) -> str:
    """A short description of what arrived: ``f32[5,5]`` for JAX arrays, with what kind
    of value it is otherwise (``f32[](numpy)``, ``f32[] (a ShapeDtypeStruct, ...)``);
    for anything else its type and a bounded repr (``list of 5000000: [0, 1, ...]``)."""
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return array_summary(value, numpy=False) + _kind_of_array(value)
    text = _SHORT_REPR.repr(value)
    if len(text) > 60:
        text = text[:57] + "..."
    if isinstance(value, (list, tuple, dict, set, frozenset)):
        size = len(cast("Sized", cast(object, value)))
        return f"{type(cast(object, value)).__name__} of {size}: {text}"
    return f"{type(value).__name__} {text}"


def _is_array_annotation(hint: Any) -> bool:
    return isinstance(hint, type) and hasattr(hint, "dim_str") and hasattr(
        hint, "dtypes"
    )


def format_hint(hint: Any) -> str:
    """A readable annotation: ``Float[Array, 'out in']``, ``int``, ``tuple[Linear, ...]``."""
    if _is_array_annotation(hint):
        name = hint.__name__
        return re.sub(r"jaxlib\._jax\.Array|jax\.Array|numpy\.ndarray", _short_array_name, name)
    if hint is type(None):
        return "None"
    if hint is Ellipsis:
        return "..."
    origin = get_origin(hint)
    if origin is Union or origin is types.UnionType:  # Union[A, B] and A | B
        return " | ".join(format_hint(a) for a in get_args(hint))
    if origin is not None:
        args = get_args(hint)
        origin_name = getattr(origin, "__qualname__", repr(origin))
        if not args:
            return origin_name
        return f"{origin_name}[{', '.join(format_hint(a) for a in args)}]"
    if isinstance(hint, type):
        return hint.__qualname__
    return repr(hint)


def _short_array_name(match: re.Match[str]) -> str:
    return "np.ndarray" if "numpy" in match.group(0) else "Array"


# jaxtyping's PyTree, read through getattr: its class is untyped for pyright.
_PYTREE: Final[type] = getattr(jaxtyping, "PyTree")


def array_hints_in(hint: Any) -> Iterator[Any]:
    """Every jaxtyping array annotation nested anywhere inside ``hint``."""
    if _is_array_annotation(hint):
        yield hint
        return
    # jaxtyping's `PyTree[X]` keeps its leaf annotation out of `get_args`.
    leaftype: object = getattr(hint, "leaftype", None)
    if leaftype is not None and isinstance(hint, type) and issubclass(hint, _PYTREE):
        yield from array_hints_in(leaftype)
        return
    for arg in get_args(hint):
        yield from array_hints_in(arg)


_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def dimension_names(hint: Any) -> set[str]:
    """Every identifier used in the dimension strings of the array annotations in ``hint``."""
    return {
        name
        for array_hint in array_hints_in(hint)
        for name in _IDENTIFIER.findall(array_hint.dim_str)
    }


def written_hint(hint: Any) -> Any:
    """The annotation of an item as the user wrote it (an :class:`Accepting` unwrapped)."""
    return hint.written if isinstance(hint, Accepting) else hint


def _bindings_from(hint: Any, value: Any, into: dict[str, int]) -> None:
    """Record the sizes a passing value gave to the named dimensions of its annotation."""
    hint = written_hint(hint)
    if not _is_array_annotation(hint) or hint.index_variadic is not None:
        return
    shape = getattr(value, "shape", None)
    if shape is None or len(shape) != len(hint.dims):
        return
    for dim, size in zip(hint.dims, shape, strict=True):
        name = getattr(dim, "name", None)
        if isinstance(name, str) and not getattr(dim, "broadcastable", False):
            into.setdefault(name, int(size))


def _failure_message(
    owner: str, items: Sequence[tuple[str, Any, Any]], index: int, what: str
) -> str:
    label, value, hint = items[index]
    bindings: dict[str, int] = {}
    for _, passed_value, passed_hint in items[:index]:
        _bindings_from(passed_hint, passed_value, bindings)
    bound = ", ".join(f"{k}={v}" for k, v in bindings.items()) or "(none)"
    element = _locate_mismatch(items, index)
    if element is None:
        return (
            f"{owner}: {what} `{label}` does not match its annotation.\n"
            f"  expected: {format_hint(written_hint(hint))}\n"
            f"  got:      {describe_value(value)}\n"
            f"  bindings: {bound}"
        )
    path, element_value, element_hint = element
    return (
        f"{owner}: {what} `{label}{path}` does not match its annotation.\n"
        f"  expected: {format_hint(element_hint)}\n"
        f"  got:      {describe_value(element_value)}\n"
        f"  within:   `{label}`, annotated {format_hint(written_hint(hint))}\n"
        f"  bindings: {bound}"
    )


@jaxtyped(typechecker=None)
def _locate_mismatch(
    items: Sequence[tuple[str, Any, Any]], index: int
) -> tuple[str, Any, Any] | None:
    """The key path, value and written annotation of the innermost element of
    ``items[index]`` that fails its part of the annotation (``[3]``, ``['key']``), or
    None when the value is not a container or fails as a whole. Replays the items
    before it, so that dimension names are bound as in the check; elements are matched
    as generously as their container (see ``_accept``)."""
    backend = _BACKENDS[get_typechecker()]
    x64 = x64_enabled()
    for _, value, hint in items[:index]:
        backend(value, accepted_hint(hint, x64))
    _, value, hint = items[index]
    flags = (
        {"scalar_arrays": hint.scalar_arrays, "holes": hint.holes}
        if isinstance(hint, Accepting)
        else {}
    )

    def matches(item: Any, item_hint: Any) -> bool:
        return backend(item, accepted_hint(Accepting(item_hint, **flags), x64))

    return _innermost_mismatch(matches, value, written_hint(hint))


def _innermost_mismatch(
    matches: Callable[[Any, Any], bool], value: Any, hint: Any
) -> tuple[str, Any, Any] | None:
    for path, item, item_hint in _element_hints(value, hint):
        if not matches(item, item_hint):
            inner = _innermost_mismatch(matches, item, item_hint)
            if inner is None:
                return path, item, item_hint
            return path + inner[0], inner[1], inner[2]
    return None


def _element_hints(value: Any, hint: Any) -> Iterator[tuple[str, Any, Any]]:
    """``(key path, element, element annotation)`` for each element of a container
    ``value`` that ``hint`` annotates element-wise."""
    origin, args = get_origin(hint), get_args(hint)
    if origin is Annotated:
        yield from _element_hints(value, args[0])
    elif origin is Union or origin is types.UnionType:
        # The member that describes this kind of container, if exactly one does.
        members = [m for m in args if isinstance(get_origin(m), type)]
        fitting = [m for m in members if isinstance(value, cast(type, get_origin(m)))]
        if len(fitting) == 1:
            yield from _element_hints(value, fitting[0])
    elif not args or not isinstance(value, _WALKED):
        return
    elif origin is tuple and isinstance(value, tuple):
        items = cast("tuple[Any, ...]", cast(object, value))
        if len(args) == 2 and args[1] is Ellipsis:
            element_hints: Sequence[Any] = [args[0]] * len(items)
        elif len(args) == len(items):
            element_hints = args
        else:
            return
        for i, (item, item_hint) in enumerate(zip(items, element_hints)):
            yield f"[{i}]", item, item_hint
    elif origin in _MAPPING_ORIGINS and isinstance(value, dict) and len(args) == 2:
        mapping = cast("dict[Any, Any]", cast(object, value))
        for key, item in mapping.items():
            yield f"[{key!r}]", item, args[1]
    elif origin in _SEQUENCE_ORIGINS and isinstance(value, (list, tuple)):
        for i, item in enumerate(cast("list[Any]", value)):
            yield f"[{i}]", item, args[0]


# ---------------------------------------------------------------------------------------
# The public entry point of the engine.

_DIMENSION_CARRIERS: dict[str, Any] = {}


def shape_item(dims: str, shape: tuple[int, ...]) -> tuple[str, Any, Any]:
    """An item that binds the dimensions ``dims`` (``"n"``, ``"*shape"``) to ``shape``
    when checked first. The carrier array is a zero-strided broadcast, so it allocates
    nothing; its annotation is made once per ``dims``."""
    hint = _DIMENSION_CARRIERS.get(dims)
    if hint is None:
        hint = _DIMENSION_CARRIERS[dims] = jaxtyping.Shaped[np.ndarray, dims]
    return (dims, np.broadcast_to(np.False_, shape), hint)


def is_size(value: Any) -> bool:
    """Whether ``value`` can be a dimension size: an ``int`` or a NumPy integer scalar,
    never a ``bool``."""
    return type(value) is int or isinstance(value, np.integer)


def dimension_item(name: str, size: int) -> tuple[str, Any, Any]:
    """An item that binds dimension ``name`` to ``size`` when checked first.

    Used to tie a Module's ``int`` fields (``in_features``) to the dimension names of its
    array fields (``Float[Array, "out_features in_features"]``).
    """
    return shape_item(name, (size,))


def check_items(
    owner: str, items: Sequence[tuple[str, Any, Any]], what: str = "field", start: int = 0
) -> None:
    """Check every ``(label, value, hint)`` item in one dimension memo.

    **Arguments:**

    - ``owner``: who the values belong to, for the error (``"Linear"``, ``"f"``).
    - ``items``: the values, each with the label used in errors (a field's key path,
      an argument's name) and its annotation. Items made by :func:`dimension_item` bind
      dimension sizes for the items after them.
    - ``what``: the noun used for a label in errors (``"field"``, ``"argument"``).
    - ``start``: the items before this index were checked (and reported) already and
      only bind dimensions here: a return value is checked after its arguments.

    **Raises:** :class:`TypeCheckError` naming the owner, the label, the expected
    annotation, what arrived and the dimension sizes bound so far.
    """
    index = _first_mismatch(items, start)
    if index >= 0:
        report(TypeCheckError(_failure_message(owner, items, index, what)))


@jaxtyped(typechecker=None)
def _each_match(items: Sequence[tuple[str, Any, Any]]) -> list[bool]:
    """Whether each item matches, all in one jaxtyping memo. A failed item binds no
    dimension (jaxtyping rolls its memo back), so later items are judged only against
    the sizes bound by the items that passed."""
    match = _matcher()
    return [match(value, hint) for _, value, hint in items]


def check_each(
    owner: str, items: Sequence[tuple[str, Any, Any]], what: str = "field"
) -> tuple[list[str | None], dict[str, int]]:
    """Check every item in one dimension memo without stopping at the first failure.

    The entry point of audits (``eqx.audit``): unlike :func:`check_items` it runs
    whatever the checking mode, consults no memo, and reports every failure.

    **Arguments:** as for :func:`check_items`.

    **Returns:** ``(messages, bindings)``: per item ``None`` when it passed, else the
    message :func:`check_items` would raise for it; and the sizes the passing items
    bound to named dimensions.

    ```python
    messages, bindings = check_each("Linear", items)
    failed = [label for (label, _, _), m in zip(items, messages) if m is not None]
    ```
    """
    results = _each_match(items)
    passed: list[tuple[str, Any, Any]] = []
    messages: list[str | None] = []
    for item, ok in zip(items, results, strict=True):
        if ok:
            passed.append(item)
            messages.append(None)
        else:
            messages.append(_failure_message(owner, [*passed, item], len(passed), what))
    bindings: dict[str, int] = {}
    for _, value, hint in passed:
        _bindings_from(hint, value, bindings)
    return messages, bindings


# ---------------------------------------------------------------------------------------
# Reporting: raise, or in mode "warn" warn once per violation.

# Above zero while a caller tries a check whose failure it handles itself (a stack is
# tried after its plain check fails; a layer adds its sizes to the message).
_raising_depth: ContextVar[int] = ContextVar("equinox_typed.raising", default=0)
_WARNED: set[str] = set()


@contextlib.contextmanager
def raising() -> Generator[None, None, None]:
    """Inside this block, violations raise :class:`TypeCheckError` even in mode
    ``"warn"``; the caller then hands the error it settles on to :func:`report`."""
    token = _raising_depth.set(_raising_depth.get() + 1)
    try:
        yield
    finally:
        _raising_depth.reset(token)


def report(error: TypeCheckError) -> None:
    """Raise ``error``; in mode ``"warn"`` (outside :func:`raising`), issue it as a
    :class:`TypeCheckWarning` instead, once per distinct message."""
    if _raising_depth.get() or get_checks() != "warn":
        raise error
    message = str(error)
    if message not in _WARNED:
        _WARNED.add(message)
        warnings.warn(TypeCheckWarning(message), stacklevel=3)
