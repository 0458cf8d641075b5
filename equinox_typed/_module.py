"""``Module``: a frozen dataclass that is a PyTree, checked against its annotations.

Subclassing :class:`Module` turns the class into a dataclass whose fields are declared as
class annotations. Instances are immutable after ``__init__``, registered with JAX as
PyTrees (dynamic fields are children, ``static=True`` fields are part of the treedef), and
every annotated field is checked after construction by the engine in ``_checking.py``.
"""

from __future__ import annotations

import abc
import dataclasses
import functools
import inspect
import operator
import re
import sys
import types
import warnings
from collections.abc import Callable, Iterator
from typing import (
    TYPE_CHECKING,
    Any,
    ClassVar,
    Final,
    Generic,
    Literal,
    TypeVar,
    cast,
    get_origin,
    get_type_hints,
)

import jax
import jax.tree_util as jtu
import numpy as np

# Absolute: pyright reports `from . import _checking` as private usage, since the
# package's __init__ imports names from it.
import equinox_typed._checking as _checking
from ._accept import Accepting
from ._checking import TypeCheckError
from ._shared_node import is_hole
from ._hints import resolve_each
from ._shapeless import has_shapeless_position, shapeless_array_path, stop_at
from ._jax_typed import (
    KeyEntry,
    keystr,
    register_pytree_with_keys,
    tree_flatten,
    tree_flatten_with_path,
)

__all__ = [
    "AbstractClassVar",
    "AbstractVar",
    "BoundMethod",
    "Module",
    "StrictConfig",
    "field",
    "module_fields",
    "static_field",
]

_T = TypeVar("_T")

# ids of Modules whose __init__ is running: the only time their attributes may be set.
_INITIALISING: set[int] = set()


class AbstractVar(Generic[_T]):
    """Annotate ``x: AbstractVar[T]`` to require every concrete subclass to provide ``x``.

    A subclass provides it as a field (``x: T``), a class attribute or a property.
    Instantiating a class that leaves it unprovided raises a ``TypeError`` naming it.
    """


class AbstractClassVar(Generic[_T]):
    """Annotate ``x: AbstractClassVar[T]`` to require subclasses to set class attribute ``x``."""


def field(
    *,
    converter: Callable[[Any], Any] | None = None,
    static: bool = False,
    default: Any = dataclasses.MISSING,
    default_factory: Any = dataclasses.MISSING,
    init: bool = True,
    repr: bool = True,
    hash: bool | None = None,
    compare: bool = True,
    metadata: dict[str, Any] | None = None,
    kw_only: Any = dataclasses.MISSING,
) -> Any:
    """Declare a Module field with options (like :func:`dataclasses.field`).

    **Arguments:**

    - ``converter``: called on the field's value at the end of ``__init__`` (before
      ``__check_init__`` and type checks), e.g. ``converter=jnp.asarray``.
    - ``static``: store the value in the tree structure (treedef) rather than as a leaf.
      Transformations then treat it as a compile-time constant; it must be hashable.
    - ``default``, ``default_factory``, ``init``, ``repr``, ``hash``, ``compare``,
      ``metadata``, ``kw_only``: as for :func:`dataclasses.field`.

    ```python
    class Linear(eqx.Module):
        weight: Float[Array, "out in"]
        in_features: int = eqx.field(static=True)
    ```
    """
    extra = dict(metadata or {})
    if converter is not None:
        extra["converter"] = converter
    if static:
        extra["static"] = True
    return dataclasses.field(
        default=default,
        default_factory=default_factory,
        init=init,
        repr=repr,
        hash=hash,
        compare=compare,
        metadata=extra,
        kw_only=kw_only,
    )


def static_field(**kwargs: Any) -> Any:
    """The old spelling of ``field(static=True, ...)``; warns ``DeprecationWarning``.

    **Arguments:** as for :func:`field`, less ``static``.

    ```python
    in_features: int = eqx.static_field()   # now: eqx.field(static=True)
    ```
    """
    warnings.warn(
        "eqx.static_field(...) is deprecated: write eqx.field(static=True, ...)",
        DeprecationWarning,
        stacklevel=2,
    )
    return field(static=True, **kwargs)


def StrictConfig(force_abstract: bool = False, **kwargs: Any) -> Literal[False] | None:
    """Equinox's old configuration object for ``class M(eqx.Module, strict=...)``.

    Accepted so that code written for Equinox keeps working; it leaves this library's
    own ``strict=`` option (array fields must say shape and dtype) off, as Equinox's
    strict mode is not ours. Any keyword argument is accepted and ignored.

    **Arguments:**

    - ``force_abstract``: Equinox's flag (also accepted as ``force_abstact``, its
      spelling); it changes nothing here.

    ```python
    class Model(eqx.Module, strict=eqx.StrictConfig()):
        ...
    ```
    """
    return None if (force_abstract or kwargs.get("force_abstact", False)) else False


# ---------------------------------------------------------------------------------------
# Methods looked up on instances are PyTrees (BoundMethod), so they can be transformed.


# `_instance_dict_note`: pyright types `instance.__dict__` of a class with a custom
# metaclass as the metaclass's (a read-only mappingproxy); where a Module instance's
# `__dict__` is written, it is held in an `Any` variable (free, unlike `vars(obj)`).


class _wrap_method:
    """Class-attribute descriptor that binds a method as a :class:`BoundMethod` Module."""

    def __init__(self, method: types.FunctionType) -> None:
        self.method = method
        self.__isabstractmethod__ = getattr(method, "__isabstractmethod__", False)
        # Copies the method's name, docstring... onto this descriptor; typeshed types the
        # wrapper as a callable, which a descriptor need not be.
        functools.update_wrapper(cast(Any, self), method)

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self.method
        bound: Any = object.__new__(BoundMethod)  # Any: see `_instance_dict_note`
        bound.__dict__.update(__func__=self.method, __self__=instance)
        return bound


def _should_wrap(name: str, value: Any) -> bool:
    if not isinstance(value, types.FunctionType):
        return False
    return name == "__call__" or not (name.startswith("__") and name.endswith("__"))


# ---------------------------------------------------------------------------------------
# Abstract attributes.

_ABSTRACT_STRING = re.compile(r"^\s*(?:[\w.]+\.)?(AbstractVar|AbstractClassVar)\[")


def _abstract_kind(annotation: Any) -> str | None:
    """'AbstractVar', 'AbstractClassVar' or None for a (possibly string) annotation."""
    if isinstance(annotation, str):
        match = _ABSTRACT_STRING.match(annotation)
        return match.group(1) if match else None
    origin = getattr(annotation, "__origin__", None)
    if origin is AbstractVar:
        return "AbstractVar"
    if origin is AbstractClassVar:
        return "AbstractClassVar"
    return None


def _unimplemented(cls: type) -> list[str]:
    """Descriptions of the abstract methods and attributes ``cls`` leaves unprovided."""
    abstract_methods: frozenset[str] = getattr(cls, "__abstractmethods__")  # set by ABCMeta
    missing = [f"abstract method {name!r}" for name in sorted(abstract_methods)]
    field_names = {f.name for f in dataclasses.fields(cls)}
    for kind in ("AbstractVar", "AbstractClassVar"):
        declared: set[str] = set()
        for klass in cls.__mro__:
            declared |= klass.__dict__.get("_eqx_abstract", {}).get(kind, set())
        for name in sorted(declared):
            provided = hasattr(cls, name) or (
                kind == "AbstractVar" and name in field_names
            )
            if not provided:
                missing.append(f"{kind} {name!r}")
    return missing


# ---------------------------------------------------------------------------------------
# Strict classes: array fields must say their shape and dtype.

_BARE_ARRAY_TYPES: tuple[type, ...] = (jax.Array, np.ndarray)
_BARE_ARRAY_STRING = re.compile(
    r"(?<![\w.\[])(?:jax\.|jnp\.|np\.|numpy\.)?(?:Array|ndarray)\b(?!\s*,)"
)


_CALLABLE_ORIGIN: Final = get_origin(Callable[..., Any])  # collections.abc.Callable


def _is_bare_array_hint(hint: Any) -> bool:
    if isinstance(hint, str):
        return bool(_BARE_ARRAY_STRING.search(hint))
    if hint in _BARE_ARRAY_TYPES:
        return True
    if get_origin(hint) in (_CALLABLE_ORIGIN, type):
        return False  # a function of arrays, or a class, is not an array-valued field
    return any(_is_bare_array_hint(arg) for arg in getattr(hint, "__args__", ()))


def _check_strict_class(
    cls: type, own_annotations: dict[str, Any], defining_locals: dict[str, Any]
) -> dict[str, Any]:
    """Refuse what a strict class may not declare; return its resolved annotations.

    ``defining_locals`` are the local names of the scope the class statement runs in
    (classes defined in a function refer to each other through them).
    """
    module = sys.modules.get(cls.__module__)
    localns = {**defining_locals, **vars(cls), cls.__name__: cls}
    resolved, unresolved = resolve_each(
        own_annotations, dict(vars(module)) if module is not None else {}, localns
    )
    for name, annotation in unresolved.items():
        # A strict class is checked in full or refused: a hint that does not resolve
        # would otherwise switch its field's check off.
        raise TypeError(
            f"strict Module {cls.__qualname__}: the annotation {annotation!r} of field "
            f"{name!r} cannot be resolved here, so the field could not be checked; "
            f"define or import the name before the class (not only under "
            f"`if TYPE_CHECKING:`)"
        )
    for name, annotation in own_annotations.items():
        if _is_bare_array_hint(resolved.get(name, annotation)):
            raise TypeError(
                f"strict Module {cls.__qualname__}: field {name!r} is annotated "
                f"{annotation!r} without shape and dtype; annotate it with jaxtyping, "
                f"e.g. Float[Array, 'dim1 dim2']"
            )
    for name, value in vars(cls).items():
        if name not in own_annotations and isinstance(value, _BARE_ARRAY_TYPES):
            raise TypeError(
                f"strict Module {cls.__qualname__}: class attribute {name!r} holds an "
                f"array but is not declared as a field; declare it with an annotation"
            )
    return resolved


# ---------------------------------------------------------------------------------------
# The metaclass.


def _has_user_init(namespace: dict[str, Any], bases: tuple[type, ...]) -> bool:
    if "__init__" in namespace:
        return True
    for base in bases:
        for klass in base.__mro__:
            init = klass.__dict__.get("__init__")
            if init is not None and isinstance(klass, _ModuleMeta):
                if not getattr(init, "_eqx_generated", False):
                    return True
                break
    return False


def _describe_generated_init(cls: Any) -> None:
    """Docstring and annotations of a dataclass-generated ``__init__``: the nearest base's
    ``__init__`` docstring, and for a field with a converter, what the converter takes."""
    init = cls.__init__
    for base in cls.__mro__[1:]:
        doc = getattr(base.__dict__.get("__init__"), "__doc__", None)
        if doc is not None:
            init.__doc__ = doc
            break
    for f in dataclasses.fields(cls):
        converter = f.metadata.get("converter")
        if converter is not None and f.name in init.__annotations__:
            init.__annotations__[f.name] = _first_parameter_annotation(converter)


def _first_parameter_annotation(fn: Callable[..., Any]) -> Any:
    """The annotation of ``fn``'s first parameter, ``Any`` when it has none."""
    try:
        parameters = list(inspect.signature(fn).parameters.values())
    except (TypeError, ValueError):  # builtins such as `int`
        return Any
    if not parameters or parameters[0].annotation is inspect.Parameter.empty:
        return Any
    return parameters[0].annotation


def _tuple_getter(names: tuple[str, ...]) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A fast ``d -> tuple(d[n] for n in names)``."""
    if len(names) >= 2:
        return operator.itemgetter(*names)
    if len(names) == 1:
        (name,) = names
        return lambda d: (d[name],)
    return lambda d: ()


def _register_pytree(cls: type[Module]) -> None:
    fields = dataclasses.fields(cls)
    dynamic = tuple(f.name for f in fields if not f.metadata.get("static", False))
    static = tuple(f.name for f in fields if f.metadata.get("static", False))
    keys: tuple[KeyEntry, ...] = tuple(jtu.GetAttrKey(name) for name in dynamic)
    get_dynamic, get_static = _tuple_getter(dynamic), _tuple_getter(static)

    # Flattening is on the hot path of every transformation call: keep it to two C calls.
    def flatten(obj: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        d = obj.__dict__
        return get_dynamic(d), get_static(d)

    def flatten_with_keys(obj: Any) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        children, aux = flatten(obj)
        return tuple(zip(keys, children)), aux

    def unflatten(aux: tuple[Any, ...], children: Any) -> Any:
        obj: Any = object.__new__(cls)  # Any: see `_instance_dict_note`
        d = obj.__dict__
        d.update(zip(dynamic, children))
        d.update(zip(static, aux))
        return obj

    built: Callable[[Any], None] | None = getattr(cls, "_eqx_built", None)
    if built is not None:
        # The class derives non-field attributes from its fields (see `_eqx_built`).
        plain_unflatten = unflatten

        def unflatten(aux: tuple[Any, ...], children: Any) -> Any:
            obj = plain_unflatten(aux, children)
            built(obj)
            return obj

    register_pytree_with_keys(cls, flatten_with_keys, unflatten, flatten)


class _ModuleMeta(abc.ABCMeta):
    def __new__(
        mcs,
        name: str,
        bases: tuple[type, ...],
        namespace: dict[str, Any],
        /,
        strict: bool = False,
        kw_only: bool = False,
        frozen: bool = True,
        **kwargs: Any,
    ) -> _ModuleMeta:
        if not frozen:
            raise TypeError(
                f"{name}: Modules are always frozen; `frozen=True` may be written (it "
                f"makes static checkers treat the class as frozen) but not `frozen=False`"
            )
        annotations: dict[str, Any] = dict(namespace.get("__annotations__", {}))
        abstract: dict[str, set[str]] = {"AbstractVar": set(), "AbstractClassVar": set()}
        for attr, annotation in list(annotations.items()):
            kind = _abstract_kind(annotation)
            if kind is not None:
                abstract[kind].add(attr)
                del annotations[attr]
        namespace["__annotations__"] = annotations
        namespace["_eqx_abstract"] = abstract
        # `_eqx_no_wrap` (inherited): methods stay plain functions, for classes whose
        # instances are themselves the callables (bound methods, transformation wrappers).
        no_wrap = namespace.get("_eqx_no_wrap", any(getattr(b, "_eqx_no_wrap", False) for b in bases))
        for attr, value in list(namespace.items()):
            if _should_wrap(attr, value) and not no_wrap:
                namespace[attr] = _wrap_method(value)
        user_init = _has_user_init(namespace, bases)

        new_cls = super().__new__(mcs, name, bases, namespace, **kwargs)
        cls: Any = new_cls  # its `_eqx_*` attributes are set dynamically below
        dataclasses.dataclass(
            cls, init=not user_init, repr=False, eq=False, kw_only=kw_only
        )
        if not user_init:
            cls.__init__._eqx_generated = True
            _describe_generated_init(cls)
        elif "__init__" in namespace and hasattr(cls, "__post_init__"):
            warnings.warn(
                f"{cls.__qualname__} defines __init__ and has a __post_init__ method: "
                f"__post_init__ will not run, since only the __init__ generated for a "
                f"dataclass calls it. Move its code into __init__, or into "
                f"__check_init__ if it only checks the fields.",
                UserWarning,
                stacklevel=2,
            )
        if strict:
            # Resolved now, while the defining scope's names exist (the caller's frame:
            # class creation runs no Python frame of its own in between).
            defining_locals = sys._getframe(1).f_locals  # pyright: ignore[reportPrivateUsage]
            cls._eqx_strict_hints = _check_strict_class(cls, annotations, dict(defining_locals))

        fields = dataclasses.fields(cls)
        cls._eqx_fields = fields
        cls._eqx_field_names = frozenset(f.name for f in fields)
        cls._eqx_static_names = tuple(f.name for f in fields if f.metadata.get("static", False))
        cls._eqx_converters = tuple(
            (f.name, f.metadata["converter"]) for f in fields if "converter" in f.metadata
        )
        cls._eqx_check_inits = tuple(
            klass.__dict__["__check_init__"]
            for klass in cls.__mro__
            if "__check_init__" in klass.__dict__
        )
        cls._eqx_strict = strict
        cls._eqx_plan = None  # built on first check
        _register_pytree(cls)
        return new_cls

    # Without this, inspect.signature(cls) (so help(), IPython, Jedi) would report the
    # `(*args, **kwargs)` of `__call__` below. A metaclass property is seen on the class
    # only: `inspect.signature(instance)` still describes the instance's own `__call__`.
    @property
    def __signature__(cls) -> inspect.Signature:
        """The constructor's signature: ``__init__``'s, without ``self``."""
        klass: Any = cls  # mypy types cls.__init__ as the metaclass's own
        init = inspect.signature(klass.__init__)
        return init.replace(parameters=tuple(init.parameters.values())[1:])

    def __call__(cls: Any, *args: Any, **kwargs: Any) -> Any:  # cls: see `__new__`
        missing = cls.__dict__.get("_eqx_unimplemented")
        if missing is None:
            missing = cls._eqx_unimplemented = _unimplemented(cls)
        if missing:
            raise TypeError(
                f"Can't instantiate abstract class {cls.__qualname__}: it does not "
                f"implement {', '.join(missing)}"
            )
        self = object.__new__(cls)
        key = id(self)
        _INITIALISING.add(key)
        try:
            cls.__init__(self, *args, **kwargs)
            _finish_fields(cls, self)
        finally:
            _INITIALISING.discard(key)
        if _checking.checks_active():
            check_module(self)
        for check_init in cls._eqx_check_inits:
            check_init(self)
        if cls._eqx_built is not None:
            cls._eqx_built(self)
        return self


def _check_callable_field(module: Any, name: str, value: Any) -> None:
    """Refuse, or warn about, callables assigned to fields that would misbehave."""
    if isinstance(value, BoundMethod) and value.__self__ is module:
        # `self.f = self.method` makes the instance contain itself: its tree is infinite.
        raise ValueError(
            f"{type(module).__qualname__}.__init__ assigns `self.{name} = "
            f"self.{value.__func__.__name__}`, a method of the instance being built. A "
            f"Module cannot contain itself; call the method where it is needed, or store "
            f"the function `type(self).{value.__func__.__name__}` instead."
        )
    if isinstance(value, Module):
        return
    wrapped = getattr(value, "__wrapped__", None)
    while wrapped is not None and not isinstance(wrapped, Module):
        wrapped = getattr(wrapped, "__wrapped__", None)
    if wrapped is not None and any(isinstance(x, jax.Array) for x in jtu.tree_leaves(wrapped)):
        warnings.warn(
            f"{type(module).__qualname__}: field {name!r} is assigned a callable made by a "
            f"JAX transformation (jax.jit, jax.grad, jax.vmap...) of a Module with arrays. "
            f"Those arrays are hidden inside the function: they are not leaves of "
            f"{type(module).__qualname__}, so they are not trained, filtered or updated. "
            f"Store the Module itself, and apply the transformation when calling it (or "
            f"use eqx.filter_jit/filter_grad/filter_vmap, whose results are Modules).",
            UserWarning,
            stacklevel=3,
        )


def _finish_fields(cls: Any, self: Any) -> None:
    """Fill defaults a custom ``__init__`` left out, run converters, refuse gaps."""
    d = self.__dict__
    unset: list[str] = []
    for f in cls._eqx_fields:
        if f.name in d:
            continue
        if f.default is not dataclasses.MISSING:
            d[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            d[f.name] = f.default_factory()
        else:
            unset.append(f.name)
    if unset:
        # TypeError, as for a dataclass called without a required argument.
        raise TypeError(
            f"{cls.__qualname__}.__init__ did not assign the field(s) "
            f"{', '.join(repr(n) for n in unset)}"
        )
    for name, converter in cls._eqx_converters:
        d[name] = converter(d[name])
    for name in cls._eqx_static_names:
        if isinstance(d[name], jax.Array):
            warnings.warn(
                f"{cls.__qualname__}: the static field {name!r} holds a JAX array. Static "
                f"fields are part of the tree structure: the array is never traced or "
                f"differentiated, and it must be hashable to be used under filter_jit. "
                f"Make the field non-static, or store a NumPy array or a tuple.",
                UserWarning,
                stacklevel=3,
            )


# ---------------------------------------------------------------------------------------
# Checking a Module's fields.


class _FieldPlan:
    """What to check on instances of one class, worked out once."""

    __slots__ = (
        "owner",
        "labels",
        "names",
        "get_values",
        "get_arrays",
        "get_others",
        "hints",
        "accepting",
        "accepting_holes",
        "int_dims",
        "strict",
        "shapeless",
        "memo",
        "partial_memo",
    )

    def __init__(self, cls: type) -> None:
        self.owner = cls.__qualname__
        all_hints = _resolve_field_hints(cls)
        hints = {n: h for n, h in all_hints.items() if h is not Any and h is not object}
        self.names = tuple(hints)
        self.get_values = _tuple_getter(self.names)
        # The memo key is built from two groups of fields (see `fields_signature`).
        array_fields = tuple(n for n, h in hints.items() if any(_checking.array_hints_in(h)))
        self.labels = tuple(f".{name}" for name in hints)
        self.hints = tuple(hints.values())
        # How generously each field is read (see `_accept`): non-static fields hold what
        # transformations made of their values (0-d arrays for Python scalars).
        static = {f.name for f in dataclasses.fields(cls) if f.metadata.get("static", False)}
        self.accepting = tuple(
            Accepting(h, scalar_arrays=n not in static) for n, h in hints.items()
        )
        self.accepting_holes = tuple(
            Accepting(h, scalar_arrays=n not in static, holes=True) for n, h in hints.items()
        )
        used: set[str] = set()
        used = used.union(*map(_checking.dimension_names, self.hints))
        self.int_dims = tuple(f.name for f in dataclasses.fields(cls) if f.name in used)
        self.get_arrays = _tuple_getter(array_fields)
        # Every value the check depends on is in the key: the non-array checked fields,
        # and the fields that bind a dimension whatever their annotation (even `Any`).
        others = [n for n in hints if n not in array_fields]
        others += [n for n in self.int_dims if n not in others and n not in array_fields]
        self.strict = bool(getattr(cls, "_eqx_strict", False))
        # Strict classes refuse arrays where the annotation gives no shape: the fields
        # that may hold one, with their values in the key (arrays differ from the rest).
        self.shapeless: tuple[tuple[str, Any], ...] = ()
        if self.strict:
            self.shapeless = tuple(
                (n, h) for n, h in all_hints.items() if has_shapeless_position(h)
            )
            others += [n for n, _ in self.shapeless if n not in others]
        self.get_others = _tuple_getter(tuple(others))
        memoise = not any(map(_checking.is_value_dependent, self.hints))
        self.memo = _checking.SignatureMemo(enabled=memoise)
        self.partial_memo = _checking.SignatureMemo(enabled=memoise)


def _class_annotations(cls: type) -> list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]]:
    """``(annotations, globalns, localns)`` of ``cls`` and each base, base first: where
    each class's string annotations are evaluated (its name resolves to itself)."""
    namespaces: list[tuple[dict[str, Any], dict[str, Any], dict[str, Any]]] = []
    for klass in reversed(cls.__mro__):
        module = sys.modules.get(klass.__module__)
        globalns = dict(vars(module)) if module is not None else {}
        localns = dict(vars(klass))
        localns[klass.__name__] = klass
        namespaces.append((klass.__dict__.get("__annotations__", {}), globalns, localns))
    return namespaces


def _unresolved_field_hints(cls: type) -> tuple[dict[str, Any], dict[str, Any]]:
    """``(resolved, unresolved)`` annotations of ``cls``'s fields, resolved one by one."""
    resolved: dict[str, Any] = {}
    unresolved: dict[str, Any] = {}
    for annotations, globalns, localns in _class_annotations(cls):
        # Strict classes resolved theirs at creation, where local names were in scope.
        strict_hints: Any = localns.get("_eqx_strict_hints")
        done: dict[str, Any]
        failed: dict[str, Any] = {}
        if isinstance(strict_hints, dict):
            done = cast("dict[str, Any]", cast(object, strict_hints))
        else:
            done, failed = resolve_each(annotations, globalns, localns)
        for name in done:
            unresolved.pop(name, None)
        resolved.update(done)
        unresolved.update(failed)
    return resolved, unresolved


def _resolve_field_hints(cls: type) -> dict[str, Any]:
    """The annotation of every field (``Any`` where there is none).

    An annotation that does not resolve (a name local to a function, or imported only
    under ``TYPE_CHECKING``) is skipped with a warning naming it; the others are checked.
    """
    try:
        resolved = get_type_hints(cls, include_extras=True)
        unresolved: dict[str, Any] = {}
    except Exception:
        resolved, unresolved = _unresolved_field_hints(cls)
    fields = dataclasses.fields(cls)
    field_names = {f.name for f in fields}
    for name, annotation in unresolved.items():
        if name in field_names:
            warnings.warn(
                f"{cls.__qualname__}: cannot resolve the annotation {annotation!r} of "
                f"field {name!r}; it will not be checked",
                stacklevel=5,
            )
    return {f.name: resolved.get(f.name, Any) for f in fields}


def _plan(cls: Any) -> _FieldPlan:
    plan: _FieldPlan | None = cls.__dict__.get("_eqx_plan")
    if plan is None:
        plan = _FieldPlan(cls)
        cls._eqx_plan = plan
    return plan


def check_module(module: Any, path: str = "", *, holes: bool = False) -> None:
    """Check a Module's fields against their annotations (memoised by signature).

    **Arguments:**

    - ``module``: the instance to check.
    - ``path``: key path of ``module`` inside a larger tree, prefixed to field labels in
      errors (``"model.layers[0]"`` gives ``model.layers[0].weight``).
    - ``holes``: whether ``module`` may be a *partial* Module, with ``None`` in the
      fields that were filtered out (``eqx.filter(model, eqx.is_array)``, gradients,
      optimiser states): those fields are then not checked. Such Modules are built by
      unflattening, never by ``__init__``, so this is for checks at transformation
      boundaries only.

    **Raises:** :class:`TypeCheckError`.
    """
    plan = _plan(type(module))
    if not plan.hints and not plan.shapeless:
        return
    d = module.__dict__
    arrays, others = plan.get_arrays(d), plan.get_others(d)
    # Partial Modules pass checks that whole ones fail (`fn=None`): separate memos.
    memo = plan.partial_memo if holes else plan.memo
    seen, key = memo.lookup(_checking.fields_signature(arrays, others))
    if seen:
        return
    items = _field_items(plan, d, path, holes)
    if holes and any(isinstance(v, Module) for v in arrays):
        from ._wrapped import check_with_wrappers  # imported here: it builds on Module

        check_with_wrappers(plan.owner, items)
    else:
        _checking.check_items(plan.owner, items)
    if plan.strict:
        _refuse_unannotated_arrays(plan, path, module)
    memo.add(key)


def _field_items(
    plan: _FieldPlan, d: dict[str, Any], path: str, holes: bool
) -> list[tuple[str, Any, Any]]:
    """The size bindings of a Module's ``int`` fields, then each annotated field (its
    annotation as the acceptance rules read it)."""
    hints = plan.accepting_holes if holes else plan.accepting
    return _size_items(plan, d) + [
        (path + label, value, hint)
        for label, value, hint in zip(plan.labels, plan.get_values(d), hints, strict=True)
        if not (holes and is_hole(value))
    ]


def _size_items(plan: _FieldPlan, d: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    return [
        _checking.dimension_item(name, int(d[name]))
        for name in plan.int_dims
        if _checking.is_size(d[name])
    ]


def module_check_items(module: Module, path: str = "") -> tuple[str, int, list[tuple[str, Any, Any]]]:
    """What :func:`check_module` checks for ``module``, for checks made outside it.

    **Arguments:**

    - ``module``: a whole (not partial) Module instance.
    - ``path``: its key path inside a larger tree, prefixed to the field labels.

    **Returns:** ``(owner, sizes, items)``: the name used in errors (the class), how
    many leading items bind the ``int`` size fields, and all the ``(label, value,
    hint)`` items, each annotated field labelled ``path + ".name"`` after the sizes.
    For :func:`~equinox_typed._checking.check_each`, which audits use (every field,
    whatever the checking mode, no memo).

    ```python
    owner, sizes, items = module_check_items(model.layers[0], ".layers[0]")
    messages, bindings = _checking.check_each(owner, items)
    ```
    """
    plan = _plan(type(module))
    d: Any = module.__dict__  # Any: see `_instance_dict_note`
    return plan.owner, len(_size_items(plan, d)), _field_items(plan, d, path, holes=False)


def _refuse_unannotated_arrays(plan: _FieldPlan, path: str, module: Any) -> None:
    """Strict Modules: every array must sit under an annotation with shape and dtype."""
    d = module.__dict__
    for name, hint in zip(plan.names, plan.hints, strict=True):
        value = d[name]
        if isinstance(value, jax.Array) and not any(_checking.array_hints_in(hint)):
            _refuse_array(plan, f"{path}.{name}", value, hint)
    for name, hint in plan.shapeless:
        found = shapeless_array_path(hint, d[name], f"{path}.{name}")
        if found is not None:
            _refuse_array(plan, *found, hint)


def _refuse_array(plan: _FieldPlan, where: str, array: Any, hint: Any) -> None:
    _checking.report(TypeCheckError(
        f"{plan.owner}: `{where}` holds an array ({_checking.describe_value(array)}) "
        f"under the annotation {_checking.format_hint(hint)}, which gives it no "
        f"shape/dtype; a strict Module needs a shaped annotation there, e.g. "
        f"Float[Array, 'dim1 dim2']"
    ))


def _is_module(x: Any) -> bool:
    return isinstance(x, Module)


def check_tree_modules(tree: Any, path: str = "") -> None:
    """Check every Module found anywhere inside ``tree`` (nested Modules included).

    Meant for the boundaries of transformations, whose arguments often hold partial
    Modules (gradients, ``eqx.filter`` outputs, optimiser states): fields holding
    ``None`` are taken as filtered out, not checked (see :func:`check_module`).

    **Arguments:**

    - ``tree``: any PyTree.
    - ``path``: the name of ``tree`` in errors (``"model"``), prefixed to key paths.
    """
    for key_path, node in tree_flatten_with_path(tree, is_leaf=_is_module)[0]:
        if isinstance(node, Module):
            _check_module_and_children(node, path + keystr(key_path))


def _check_module_and_children(module: Module, path: str) -> None:
    try:
        with _checking.raising():  # a failure may still be a stack: decided below
            check_module(module, path, holes=True)
    except TypeCheckError as error:
        try:
            with _checking.raising():
                if _check_as_stack(module, path):
                    return
        except TypeCheckError as member_error:
            _checking.report(member_error)
            return
        _checking.report(error)
        return

    def is_child_module(x: Any) -> bool:
        return x is not module and isinstance(x, Module)

    for key_path, child in tree_flatten_with_path(module, is_leaf=is_child_module)[0]:
        if isinstance(child, Module):
            _check_module_and_children(child, path + keystr(key_path))


def module_field_hints(module: Any) -> Iterator[tuple[Any, Any]]:
    """Each annotated field of ``module``: its value and its annotation as written (what
    :func:`equinox_typed._stack.stack_prefix` reads a stack's leading axes from)."""
    plan = _plan(type(module))
    return zip(plan.get_values(module.__dict__), plan.hints)


def _check_as_stack(module: Module, path: str) -> bool:
    """Check ``module`` as a stack of Modules (see ``_stack``) when it is one.

    **Returns:** False when ``module`` is not a stack (its own error stands).

    **Raises:** :class:`TypeCheckError` when a member of the stack fails its check.
    """
    from . import _stack  # imported here: _stack builds on this module

    prefix = _stack.stack_prefix(module, module_field_hints)
    if prefix is None:
        return False

    def check_member(member: Any) -> None:
        _check_module_and_children(member, path)

    _stack.check_stack_member(module, prefix, check_member, type(module).__qualname__)
    return True


# ---------------------------------------------------------------------------------------
# The Module base class.


class Module(metaclass=_ModuleMeta):
    """Base class for models: a frozen dataclass that is also a JAX PyTree.

    Declare fields as class annotations. Array fields should carry jaxtyping annotations,
    which are checked (shape, dtype, and named dimensions bound across fields and to
    ``int`` fields of the same name) at the end of construction.

    Class options: ``strict=True`` refuses array fields without a shape/dtype annotation;
    ``kw_only=True`` makes every field keyword-only.

    ```python
    class Linear(eqx.Module):
        weight: Float[Array, "out_features in_features"]
        bias: Float[Array, "out_features"]
        in_features: int = eqx.field(static=True)
        out_features: int = eqx.field(static=True)

        def __call__(self, x: Float[Array, "in_features"]) -> Float[Array, "out_features"]:
            return self.weight @ x + self.bias
    ```
    """

    if TYPE_CHECKING:
        # For the checkers only (no field is created): what the metaclass sets up.
        __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]
        _eqx_field_names: ClassVar[frozenset[str]]

    # A hook for subclasses: `_eqx_built(self)` runs on every instance once it is built,
    # by `__init__` or by unflattening, to set attributes derived from the fields (a
    # transformation wrapper's `__name__`...). Being no field, they are not in the tree.
    _eqx_built: ClassVar[Callable[[Any], None] | None] = None

    def __setattr__(self, name: str, value: Any) -> None:
        if id(self) in _INITIALISING:
            if name not in type(self)._eqx_field_names:
                raise AttributeError(
                    f"{type(self).__qualname__} has no field {name!r}: declare it with "
                    f"an annotation in the class body before assigning it in __init__"
                )
            if callable(value):
                _check_callable_field(self, name, value)
            d: Any = self.__dict__  # Any: see `_instance_dict_note`
            d[name] = value
            return
        if name == "__orig_class__":
            # Set by `typing` on instances of subscripted generics (`Box[int](x)`); not a
            # field, so not part of the tree.
            d = self.__dict__
            d[name] = value
            return
        raise dataclasses.FrozenInstanceError(
            f"cannot assign to field {name!r} of {type(self).__qualname__}: Modules are "
            f"immutable after __init__; use eqx.tree_at to make an updated copy"
        )

    def __delattr__(self, name: str) -> None:
        raise dataclasses.FrozenInstanceError(
            f"cannot delete field {name!r} of {type(self).__qualname__}: Modules are immutable"
        )

    def __repr__(self) -> str:
        from ._pretty import tree_pformat

        return tree_pformat(self)

    def __eq__(self, other: object) -> Any:  # bool eagerly, a bool array under jit
        from ._tree import tree_equal

        return tree_equal(self, other)

    def __hash__(self) -> int:
        leaves, treedef = tree_flatten(self)
        return hash((treedef, tuple(leaves)))


_checking.key_by_type(Module)
stop_at(Module)


class BoundMethod(Module):
    """A method bound to a Module instance; itself a Module, so transformations see the
    instance's arrays as inputs."""

    _eqx_no_wrap = True

    __func__: types.FunctionType = field(static=True)
    __self__: Module

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the method on its instance: ``__func__(__self__, *args, **kwargs)``."""
        return self.__func__(self.__self__, *args, **kwargs)

    # Equal when they bind the same function to equal instances (as Modules compare: a
    # bool, or a bool array when arrays are compared). The hash is by identity so that
    # `jax.jit(model.method)`, which hashes the function, works: it only ever means that
    # equal methods of different instances do not share JAX's cache entries.
    def __eq__(self, other: object) -> Any:
        if type(other) is not BoundMethod or other.__func__ is not self.__func__:
            return False
        if other.__self__ is self.__self__:
            return True
        return self.__self__ == other.__self__

    def __hash__(self) -> int:
        return hash((self.__func__, id(self.__self__)))

    @property
    def __wrapped__(self) -> Any:
        return self.__func__

    # pyright mistakes this for an override of `type.__name__` (for subclasses of a class
    # with a custom metaclass it looks names up on `type`): a false positive.
    @property
    def __name__(self) -> str:  # pyright: ignore[reportIncompatibleVariableOverride]
        return self.__func__.__name__

    @property
    def __signature__(self) -> inspect.Signature:
        signature = inspect.signature(self.__func__)
        return signature.replace(parameters=list(signature.parameters.values())[1:])


def module_fields(module: Module | type[Module]) -> tuple[dataclasses.Field[Any], ...]:
    """The dataclass fields of a Module class or instance."""
    return dataclasses.fields(module)
