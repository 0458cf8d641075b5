"""Checks at the boundary of a filtered transformation.

A transformation (``filter_jit``, ``filter_grad``, ``filter_vmap``, ...) wraps a function
``fun``. Before dispatching a call it asks a :class:`Boundary` for ``fun`` to check

- every argument against ``fun``'s jaxtyping annotations, all in one dimension memo, so
  a name such as ``"batch"`` must have one size across all arguments;
- every Module found inside the arguments against its own field annotations;

and after the call, the return value against the return annotation, in the same memo as
the arguments (sizes bound by the arguments constrain the result).

The API is small:

```python
boundary = Boundary(fun)
items = boundary.check_arguments(args, kwargs)   # raises TypeCheckError
out = ...                                        # run the transformation
boundary.check_return(items, out)                # raises TypeCheckError
```

Callers decide *when* to check (``_checking.checks_active()``) and memoise passed calls by
signature (``boundary.memo``); this module only knows *what* to check.
"""

from __future__ import annotations

import inspect
import typing
import warnings
from collections.abc import Callable
from typing import Any, Final, Literal, ParamSpecArgs, ParamSpecKwargs, cast

# Absolute: pyright reports `from . import _checking` as private usage, since the
# package's __init__ imports names from it.
import equinox_typed._checking as _checking
from ._call_checks import layer_size_items
from ._hints import resolve_each
from ._module import BoundMethod, Module, check_tree_modules

__all__ = ["Annotations", "Boundary", "Items", "copy_function_metadata", "function_metadata"]

# A checked group: (label, value, hint) triples as taken by `_checking.check_items`.
Items = list[tuple[str, Any, Any]]

_RETURN_LABEL: Final = "return"


def _unwrap_callable(
    fun: Any,
) -> tuple[Callable[..., Any], tuple[Any, ...], dict[str, Any]]:
    """Find the plain function that ``fun`` ends up calling.

    **Returns:** ``(target, prefix_args, prefix_kwargs)``: calling ``fun(*a,
    **k)`` is calling ``target(*prefix_args, *a, **prefix_kwargs, **k)``. Bound methods
    contribute their instance, partials their stored arguments, callable Modules
    themselves (as ``self``).
    """
    if isinstance(fun, BoundMethod):
        return fun.__func__, (fun.__self__,), {}
    if "__wrapped__" in getattr(fun, "__dict__", ()):
        # A wrapper showing its function's metadata (a transformation's result, a
        # `functools.wraps` decorator): its signature and annotations are that function's.
        return fun, (), {}
    func = getattr(fun, "func", None)
    stored_args = getattr(fun, "args", None)
    stored_kwargs = getattr(fun, "keywords", None)
    if (
        callable(func)
        and isinstance(stored_args, tuple)
        and isinstance(stored_kwargs, dict)
        and not inspect.isfunction(fun)
    ):
        # functools.partial, jax.tree_util.Partial, eqx.Partial.
        inner, args, kwargs = _unwrap_callable(func)
        return inner, args + stored_args, {**kwargs, **stored_kwargs}
    if isinstance(fun, Module):
        return type(fun).__call__, (fun,), {}
    return fun, (), {}


def _defining_function(target: Any) -> Any:
    """The function whose module ``target``'s annotations were written in: through
    wrappers (``__wrapped__``), to a callable Module's ``__call__`` -- a transformation
    of a Module (``filter_vmap(model)``) shows the annotations of ``type(model).__call__``."""
    source = inspect.unwrap(target)
    if not inspect.isfunction(source):
        source = inspect.unwrap(_unwrap_callable(source)[0])
    return source


def _resolve_hints(target: Callable[..., Any], owner: str) -> dict[str, Any]:
    """``target``'s annotations as objects, leaving out ``Any`` and ``object``.

    An annotation that cannot be resolved (a name imported only under ``TYPE_CHECKING``)
    is left out with a warning naming it; the others are still checked.
    """
    try:
        hints = typing.get_type_hints(target, include_extras=True)
    except Exception:
        annotations = getattr(target, "__annotations__", None)
        if not isinstance(annotations, dict):  # builtins, C functions: nothing to check
            return {}
        globalns = getattr(_defining_function(target), "__globals__", {})
        hints, unresolved = resolve_each(
            cast("dict[str, Any]", annotations), globalns, None
        )
        for name, annotation in unresolved.items():
            what = "the return annotation" if name == _RETURN_LABEL else f"argument {name!r}"
            warnings.warn(
                f"{owner}: cannot resolve the annotation {annotation!r} of {what}, so it "
                f"is not checked (the other annotations are); make the name available "
                f"at run time, e.g. import it outside `if TYPE_CHECKING:`",
                UserWarning,
                stacklevel=5,
            )
    return {k: v for k, v in hints.items() if v is not Any and v is not object}


class Boundary:
    """What to check when calling one function across a transformation boundary.

    **Arguments:**

    - ``fun``: the wrapped callable: a function, a bound method of a Module, a callable
      Module, or a partial application of one of those.

    The analysis (signature, annotations) happens once, on first use. ``memo`` is a
    :class:`~equinox_typed._checking.SignatureMemo` for the caller to record the
    signatures of calls that passed; once analysed, ``value_dependent`` says whether
    the argument annotations validate values (``Is[...]``), so that calls with the
    same signature must still be checked each time (``memo`` is then disabled).

    ```python
    boundary = Boundary(fun)
    items = boundary.check_arguments((model, x), {})
    boundary.check_return(items, fun(model, x))
    ```
    """

    __slots__ = (
        "fun",
        "owner",
        "memo",
        "_ready",
        "_target",
        "_prefix_args",
        "_prefix_kwargs",
        "_signature",
        "_hints",
        "_return_hint",
        "value_dependent",
    )

    def __init__(self, fun: Callable[..., Any]) -> None:
        self.fun = fun
        self.owner: str = str(
            getattr(fun, "__qualname__", None) or getattr(fun, "__name__", type(fun).__qualname__)
        )
        self.memo = _checking.SignatureMemo()
        self._ready = False
        self._target: Callable[..., Any] = fun
        self._prefix_args: tuple[Any, ...] = ()
        self._prefix_kwargs: dict[str, Any] = {}
        self._signature: inspect.Signature | None = None
        self._hints: dict[str, Any] = {}
        self._return_hint: Any = None
        self.value_dependent = False

    def _prepare(self) -> None:
        target, args, kwargs = _unwrap_callable(self.fun)
        self._target = target
        self._prefix_args, self._prefix_kwargs = args, kwargs
        self.owner = str(getattr(target, "__qualname__", self.owner))
        try:
            self._signature = inspect.signature(target)
        except (TypeError, ValueError):  # builtins without a signature
            self._signature = None
        hints = _resolve_hints(target, self.owner)
        # A transformation's result may take or return something else than the function
        # it shows the annotations of (gradients, batched arguments).
        keeps: Annotations = getattr(target, "keeps_annotations", "all")
        if keeps == "none":
            hints = {}
        self._return_hint = None if keeps == "arguments" else hints.pop("return", None)
        hints.pop("return", None)
        # `*args: P.args, **kwargs: P.kwargs` (ParamSpec) tie a signature to another
        # callable's: nothing to check per value (beartype refuses them outright).
        self._hints = {
            name: hint
            for name, hint in hints.items()
            if not isinstance(hint, (ParamSpecArgs, ParamSpecKwargs))
        }
        # Checks against validators of values (`Is[...]`) must run on every call.
        self.value_dependent = any(map(_checking.is_value_dependent, self._hints.values()))
        if self.value_dependent:
            self.memo.disable()
        self._ready = True

    def label_arguments(
        self, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> list[tuple[str, Any]]:
        """Each argument of a call with the name used for it in errors (``[]`` when the
        arguments do not fit the signature)."""
        if not self._ready:
            self._prepare()
        all_args = self._prefix_args + args
        all_kwargs = {**self._prefix_kwargs, **kwargs}
        if self._signature is None:
            return [(f"args[{i}]", a) for i, a in enumerate(all_args)] + [
                (f"kwargs[{k!r}]", v) for k, v in all_kwargs.items()
            ]
        try:
            bound = self._signature.bind(*all_args, **all_kwargs)
        except TypeError:
            # The call itself is malformed; let it fail with Python's own message.
            return []
        labelled: list[tuple[str, Any]] = []
        for name, value in bound.arguments.items():
            kind = self._signature.parameters[name].kind
            if kind is inspect.Parameter.VAR_POSITIONAL:
                labelled += [(f"{name}[{i}]", v) for i, v in enumerate(value)]
            elif kind is inspect.Parameter.VAR_KEYWORD:
                labelled += [(f"{name}[{k!r}]", v) for k, v in value.items()]
            else:
                labelled.append((name, value))
        return labelled

    def _hint_for(self, label: str) -> Any:
        return self._hints.get(label.split("[", 1)[0])

    def check_arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Items:
        """Check a call's arguments (annotations, then Modules inside them).

        **Arguments:**

        - ``args``, ``kwargs``: the call's arguments as the *wrapped function* sees them
          (for ``filter_vmap``: per-example stand-ins).

        **Returns:** the checked items, to pass to :meth:`check_return`.

        **Raises:** :class:`~equinox_typed.TypeCheckError` naming the argument, or the
        key path of a Module field inside it (``model.layers[0].weight``).
        """
        if not self._ready:
            self._prepare()
        labelled = self.label_arguments(args, kwargs)
        items: Items = self._size_items(labelled)
        for label, value in labelled:
            hint = self._hint_for(label)
            if hint is not None:
                items.append((label, value, hint))
        if items:
            _checking.check_items(self.owner, items, what="argument")
        for label, value in labelled:
            check_tree_modules(value, path=label)
        return items

    def _size_items(self, labelled: list[tuple[str, Any]]) -> Items:
        """When ``fun`` is a method of a Module, the items binding the Module's size
        fields (``in_features``) to the dimension names of the method's annotations."""
        if not labelled or labelled[0][0] != "self" or not isinstance(labelled[0][1], Module):
            return []
        return layer_size_items(labelled[0][1], self._target)

    @property
    def checks_return(self) -> bool:
        """Whether the wrapped function has a return annotation to check."""
        if not self._ready:
            self._prepare()
        return self._return_hint is not None

    def check_return(self, items: Items, out: Any) -> None:
        """Check a return value, with the argument bindings from ``items`` in force.

        **Arguments:**

        - ``items``: what :meth:`check_arguments` returned for this call.
        - ``out``: the return value (for ``filter_vmap``: a per-example stand-in).
        """
        if not self._ready:
            self._prepare()
        if self._return_hint is None:
            return
        _checking.check_items(
            self.owner,
            [*items, (_RETURN_LABEL, out, self._return_hint)],
            what="return value",
            start=len(items),
        )


Annotations = Literal["all", "arguments", "none"]

_METADATA: Final = ("__module__", "__name__", "__qualname__", "__doc__")
_STRICTNESS: Final[dict[str, int]] = {"all": 0, "arguments": 1, "none": 2}


def function_metadata(fun: Any, annotations: Annotations = "all") -> dict[str, Any]:
    """The name, docstring, annotations... that a wrapper of ``fun`` should show.

    Taken from the function ``fun`` ends up calling (for bound methods, partials and
    callable Modules), never from their class; ``__wrapped__`` is ``fun`` itself. The
    annotations are ``fun``'s, whole, as ``functools.wraps`` would copy them;
    ``keeps_annotations`` says which of them boundary checks may still use for the
    wrapper (see :class:`Boundary`).

    **Arguments:**

    - ``fun``: the wrapped callable.
    - ``annotations``: which of ``fun``'s annotations still describe the wrapper:
      ``"all"`` when it takes and returns what ``fun`` does (``filter_jit``);
      ``"arguments"`` when only the return changes (``filter_grad`` returns
      gradients); ``"none"`` when the arguments change too (``filter_vmap`` takes
      batched arguments). A wrapper of a wrapper keeps the stricter of the two.

    ```python
    function_metadata(loss, "arguments")["__name__"]   # "loss"
    ```
    """
    source = fun if inspect.isfunction(fun) else _unwrap_callable(fun)[0]
    metadata = {name: getattr(source, name) for name in _METADATA if hasattr(source, name)}
    metadata["__annotations__"] = dict(getattr(source, "__annotations__", {}))
    metadata["__wrapped__"] = fun
    inner: Annotations = getattr(source, "keeps_annotations", "all")
    metadata["keeps_annotations"] = max(annotations, inner, key=_STRICTNESS.__getitem__)
    return metadata


def copy_function_metadata(wrapper: Any, fun: Any, annotations: Annotations = "all") -> None:
    """Give the function ``wrapper`` the metadata of ``fun`` (see :func:`function_metadata`).

    Like :func:`functools.update_wrapper`, but safe for PyTree callables (bound methods,
    partials, callable Modules): their instance ``__dict__`` is not copied.
    """
    for name, value in function_metadata(fun, annotations).items():
        setattr(wrapper, name, value)
