"""Eager shape checks for the ``__call__`` of a layer, tied to the layer's sizes.

A layer's call is annotated with the layer's size fields as dimension names::

    class Linear(eqx.Module, strict=True):
        in_features: int | Literal["scalar"] = eqx.field(static=True)
        out_features: int | Literal["scalar"] = eqx.field(static=True)
        ...

        @checked_call
        def __call__(self, x: Float[Array, "*in_features"]) -> Float[Array, "*out_features"]:
            ...

:func:`checked_call` checks the arguments (before the call) and the return value (after
it) whenever :func:`equinox_typed._checking.checks_active` says so: by default only on
eager calls, never while JAX traces (``jax.jit``, ``jax.vmap``, ``eqx.filter_grad``), so
the traced program is exactly the unchecked one.

Which layer fields take part: every field whose name appears as a dimension in the call's
annotations and whose value is an ``int`` or the string ``"scalar"``.

- Used as a plain dimension (``"seq in_features"``, ``"3*hidden_size"``) an ``int``
  field binds that dimension.
- Used as a variadic dimension (``"*in_features"``) the field stands for a shape: ``(n,)``
  for ``n`` and ``()`` for ``"scalar"``. This is how layers that accept
  ``in_features="scalar"`` annotate their input.

Passed checks are memoised by the abstract signature of (layer sizes, arguments), so a
repeated eager call with same-shaped inputs costs one tree flatten and a dict lookup.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
from collections.abc import Callable
from typing import Any, Final, ParamSpec, TypeVar, cast, get_args, get_origin, get_type_hints

# Absolute: pyright reports `from . import _checking` as private usage, since the
# package's __init__ imports names from it.
import equinox_typed._checking as _checking

__all__ = ["checked_call", "layer_size_items"]

_P = ParamSpec("_P")
_R = TypeVar("_R")

# The size value that stands for "no axis": the variadic dimension binds to ``()``.
_SCALAR: Final = "scalar"


class _CallPlan:
    """What to check for one (layer class, method) pair, worked out on first use."""

    __slots__ = (
        "owner",
        "signature",
        "parameters",
        "return_hint",
        "single",
        "variadic",
        "sizes",
        "argument_memo",
        "return_memo",
    )

    def __init__(self, cls: type, method: Callable[..., Any]) -> None:
        self.owner = f"{cls.__qualname__}.{method.__name__}"
        self.signature = inspect.signature(method)
        hints = get_type_hints(method, include_extras=True)
        checkable = (
            inspect.Parameter.POSITIONAL_ONLY,
            inspect.Parameter.POSITIONAL_OR_KEYWORD,
            inspect.Parameter.KEYWORD_ONLY,
        )
        self.parameters = tuple(
            (name, hints[name])
            for name, p in self.signature.parameters.items()
            if p.kind in checkable and name in hints and hints[name] is not Any
        )
        self.return_hint = hints.get("return", Any)
        all_hints = [hint for _, hint in self.parameters] + [self.return_hint]
        named: set[str] = set()
        for hint in all_hints:
            named |= _checking.dimension_names(hint)
        variadic = {
            array_hint.dims[array_hint.index_variadic].name
            for hint in all_hints
            for array_hint in _checking.array_hints_in(hint)
            if array_hint.index_variadic is not None
        }
        field_names = [f.name for f in dataclasses.fields(cls)]
        # Field order, so the bindings in error messages read like the constructor.
        self.sizes = tuple(name for name in field_names if name in named)
        self.variadic = frozenset(variadic)
        self.single = frozenset(named)
        memoise = not any(map(_checking.is_value_dependent, all_hints))
        self.argument_memo = _checking.SignatureMemo(enabled=memoise)
        self.return_memo = _checking.SignatureMemo(enabled=memoise)


def _variadic_item(name: str, size: int | tuple[int, ...] | None) -> tuple[str, Any, Any]:
    """An item binding variadic dimension ``*name`` to ``(size,)``, ``()`` for None, or
    to ``size`` itself for a tuple (a ``shape`` field, as in LayerNorm)."""
    shape: tuple[int, ...] = (
        () if size is None else size if isinstance(size, tuple) else (size,)
    )
    return _checking.shape_item(f"*{name}", shape)


def _size_items(plan: _CallPlan, sizes: tuple[Any, ...]) -> list[tuple[str, Any, Any]]:
    items: list[tuple[str, Any, Any]] = []
    for name, size in zip(plan.sizes, sizes, strict=True):
        is_int = _checking.is_size(size)
        if is_int and name in plan.single:
            items.append(_checking.dimension_item(name, int(size)))
        if name in plan.variadic and (is_int or size == _SCALAR):
            items.append(_variadic_item(name, int(size) if is_int else None))
        elif name in plan.variadic and _is_shape(size):
            items.append(_variadic_item(name, size))
    return items


def _is_shape(size: Any) -> bool:
    """A tuple of ints: a field such as LayerNorm's ``shape`` standing for ``*shape``."""
    if type(size) is not tuple:
        return False
    entries = cast("tuple[object, ...]", size)
    return all(map(_checking.is_size, entries))


def _raise_with_sizes(
    plan: _CallPlan,
    sizes: tuple[Any, ...],
    items: list[tuple[str, Any, Any]],
    what: str,
    start: int = 0,
) -> None:
    """Run the check; on failure add the layer's sizes to the message (they explain the
    variadic dimensions, which the engine's ``bindings`` line does not list)."""
    if not plan.variadic:  # the engine's `bindings` line already shows every size
        _checking.check_items(plan.owner, items, what, start)
        return
    try:
        with _checking.raising():  # reported below, with the sizes added
            _checking.check_items(plan.owner, items, what, start)
    except _checking.TypeCheckError as error:
        layer = ", ".join(f"{n}={s!r}" for n, s in zip(plan.sizes, sizes, strict=True))
        if f"bindings: {layer}" in str(error):  # nothing the message does not say yet
            _checking.report(error)
        else:
            _checking.report(_checking.TypeCheckError(f"{error}\n  layer:    {layer}"))


def _plan_for(
    plans: dict[type, _CallPlan], cls: type, method: Callable[..., Any]
) -> _CallPlan:
    plan = plans.get(cls)
    if plan is None:
        plan = plans[cls] = _CallPlan(cls, method)
    return plan


_PLANS_BY_METHOD: dict[Callable[..., Any], dict[type, _CallPlan]] = {}


# The plan tables of methods decorated with `checked_call` (one per method).
_DECORATED_PLANS: list[dict[type, _CallPlan]] = []


def clear_plans() -> None:
    """Forget every layer-call plan (``eqx.clear_caches``); rebuilt on next use."""
    for plans in [*_PLANS_BY_METHOD.values(), *_DECORATED_PLANS]:
        plans.clear()


def layer_size_items(layer: object, method: Callable[..., Any]) -> list[tuple[str, Any, Any]]:
    """The items that bind ``layer``'s size fields for the annotations of ``method``.

    For checks made outside :func:`checked_call` (e.g. at the boundary of a filtered
    transformation wrapping ``layer.__call__``): put these items first in the group
    passed to ``check_items`` so that ``"in_features"`` / ``"*in_features"`` in the
    method's annotations mean the layer's sizes.

    **Arguments:**

    - ``layer``: the Module instance (``self``).
    - ``method``: the plain function, e.g. ``type(layer).__call__``.

    ```python
    items = layer_size_items(linear, type(linear).__call__)
    items.append(("x", x, x_hint))
    _checking.check_items("Linear.__call__", items, what="argument")
    ```
    """
    plans = _PLANS_BY_METHOD.setdefault(inspect.unwrap(method), {})
    plan = _plan_for(plans, type(layer), method)
    d = layer.__dict__
    return _size_items(plan, tuple(d[name] for name in plan.sizes))


def checked_call(method: Callable[_P, _R]) -> Callable[_P, _R]:
    """Decorate a layer's ``__call__`` so eager calls check arguments and result.

    **Arguments:**

    - ``method``: the method; its parameters and return value carry jaxtyping
      annotations whose dimension names may be the layer's ``int`` (or ``"scalar"``)
      fields, see the module docstring.

    **Raises** (from the decorated method): :class:`equinox_typed.TypeCheckError` naming
    ``Layer.__call__``, the argument (or ``return``), the expected annotation, what
    arrived, the bound dimension sizes and the layer's sizes.

    ```python
    class Scale(eqx.Module, strict=True):
        size: int = eqx.field(static=True)
        weight: Float[Array, "size"]

        @checked_call
        def __call__(self, x: Float[Array, "size"]) -> Float[Array, "size"]:
            return self.weight * x
    ```
    """
    plans: dict[type, _CallPlan] = {}
    _DECORATED_PLANS.append(plans)

    @functools.wraps(method)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        if not _checking.checks_active():
            return method(*args, **kwargs)
        self = args[0]
        plan = _plan_for(plans, type(self), method)
        d = self.__dict__
        sizes = tuple(d[name] for name in plan.sizes)
        call_key = (
            sizes,
            _checking.values_signature(args[1:]),
            tuple(kwargs),
            _checking.values_signature(tuple(kwargs.values())),
        )
        if call_key not in plan.argument_memo:
            items = _argument_items(plan, sizes, args, kwargs)
            if items is None:  # the arguments don't fit the signature: let Python say so
                return method(*args, **kwargs)
            _raise_with_sizes(plan, sizes, items, "argument")
            plan.argument_memo.add(call_key)
        out = method(*args, **kwargs)
        if plan.return_hint is Any:
            return out
        return_key = (call_key, _checking.values_signature((out,)))
        if return_key not in plan.return_memo:
            items = _argument_items(plan, sizes, args, kwargs) or []
            start = len(items)
            items += _expand_tuple("return", out, plan.return_hint)
            _raise_with_sizes(plan, sizes, items, "return value", start)
            plan.return_memo.add(return_key)
        return out

    return wrapper


def _argument_items(
    plan: _CallPlan, sizes: tuple[Any, ...], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> list[tuple[str, Any, Any]] | None:
    try:
        bound = plan.signature.bind(*args, **kwargs).arguments
    except TypeError:
        return None
    items = _size_items(plan, sizes)
    for name, hint in plan.parameters:
        if name in bound:
            items += _expand_tuple(name, bound[name], hint)
    return items


def _expand_tuple(label: str, value: Any, hint: Any) -> list[tuple[str, Any, Any]]:
    """One item per element when a fixed-length tuple annotation meets a tuple of that
    length, so an error names ``hidden[1]`` and shows its shape, not the whole tuple."""
    args = get_args(hint)
    if (
        get_origin(hint) is tuple
        and isinstance(value, tuple)
        and Ellipsis not in args
        and len(args) == len(value)  # pyright: ignore[reportUnknownArgumentType]
    ):
        return [
            (f"{label}[{i}]", v, a)
            for i, (v, a) in enumerate(zip(value, args))  # pyright: ignore[reportUnknownArgumentType,reportUnknownVariableType]
        ]
    return [(label, value, hint)]
