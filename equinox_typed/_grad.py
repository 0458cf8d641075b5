"""``filter_grad`` and ``filter_value_and_grad``: gradients with respect to every inexact
array in the first argument, whatever PyTree (Module, dict, ...) holds them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

# Absolute: pyright reports `from . import _checking` as private usage, since the
# package's __init__ imports names from it.
import equinox_typed._checking as _checking
from ._boundary import Items
from ._filters import is_inexact_array
from ._jax_typed import tree_flatten, value_and_grad
from ._missing import MISSING
from ._module import field
from ._trace_attempts import trace_attempt
from ._wrapper import FunctionWrapper

__all__ = ["filter_grad", "filter_value_and_grad"]




def _differentiate(
    wrapper: _GradWrapper, owner: str, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> tuple[Any, Any]:
    """``(out, grad)`` of one call: ``out`` is the wrapped function's own return value."""
    fun = wrapper.fun
    boundary = wrapper.boundary()
    if not args:
        raise TypeError(
            f"{owner}({boundary.owner}) differentiates with respect to the first "
            f"positional argument, but was called without positional arguments"
        )
    first, rest = args[0], args[1:]
    leaves, treedef = tree_flatten(first)
    mask = [is_inexact_array(x) for x in leaves]
    diff = [x for x, m in zip(leaves, mask, strict=True) if m]

    def differentiated(diff_leaves: list[Any]) -> Any:
        it = iter(diff_leaves)
        x = treedef.unflatten([next(it) if m else y for y, m in zip(leaves, mask, strict=True)])
        return fun(x, *rest, **kwargs)

    checking = _checking.checks_active()
    key: Any = None
    items: Items | None = None
    if checking:
        key = (_checking.get_typechecker(), _checking.abstract_signature((args, kwargs)))
        items = None if key in boundary.memo else boundary.check_arguments(args, kwargs)
    # A refused return value fails the call: what `fun` recorded as traced
    # (eqx.debug.assert_max_traces) is taken back.
    with trace_attempt():
        (value, aux), diff_grads = _value_and_grad(
            differentiated, wrapper.has_aux, diff, dict(wrapper.gradkwargs)
        )
        out = (value, aux) if wrapper.has_aux else value
        if checking:
            out_key = (key, _checking.abstract_signature(out))
            if out_key not in boundary.memo:
                if items is None:  # arguments known good, but the result is new
                    items = boundary.check_arguments(args, kwargs)
                boundary.check_return(items, out)
                boundary.memo.add(out_key)
            boundary.memo.add(key)
    it = iter(diff_grads)
    grad = treedef.unflatten([next(it) if m else None for m in mask])
    return out, grad


class _GradWrapper(FunctionWrapper):
    """Shared settings of :func:`filter_grad` and :func:`filter_value_and_grad`."""

    keeps_annotations = "arguments"  # same arguments, but gradients are returned
    has_aux: bool = field(static=True)
    # `**gradkwargs` as sorted items, so that equal settings give equal treedefs.
    gradkwargs: tuple[tuple[str, Any], ...] = field(static=True)


class _ValueAndGrad(_GradWrapper):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return _differentiate(self, "filter_value_and_grad", args, kwargs)


class _Grad(_GradWrapper):
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        out, grad = _differentiate(self, "filter_grad", args, kwargs)
        return (grad, out[1]) if self.has_aux else grad


def _grad_options(owner: str, gradkwargs: dict[str, Any]) -> tuple[tuple[str, Any], ...]:
    """``**gradkwargs`` checked and frozen: JAX's options, less the ones decided here."""
    if "argnums" in gradkwargs:
        raise ValueError(
            f"{owner} does not take argnums: it differentiates with respect to the "
            f"first positional argument (move what you differentiate into it)"
        )
    return tuple(sorted(gradkwargs.items()))


def _value_and_grad(
    f: Callable[[list[Any]], Any], has_aux: bool, diff: list[Any], options: dict[str, Any]
) -> tuple[tuple[Any, Any], list[Any]]:
    """``((value, aux_or_None), grads)`` of ``f`` at ``diff``."""
    if has_aux:
        (value, aux), grads = value_and_grad(f, has_aux=True, **options)(diff)
        return (value, aux), grads
    value, grads = value_and_grad(f, **options)(diff)
    return (value, None), grads


def filter_value_and_grad(
    fun: Any = MISSING, *, has_aux: bool = False, **gradkwargs: Any
) -> Any:
    """Like :func:`filter_grad`, also returning the value.

    **Arguments:** as for :func:`filter_grad`.

    **Returns:** a function returning ``(value, grad)``, or ``((value, aux), grad)`` when
    ``has_aux=True``.

    ```python
    loss, grads = eqx.filter_value_and_grad(loss_fn)(model, x, y)
    ```
    """
    options = _grad_options("filter_value_and_grad", gradkwargs)
    if fun is MISSING:

        def decorator(f: Callable[..., Any]) -> Any:
            return filter_value_and_grad(f, has_aux=has_aux, **gradkwargs)

        return decorator
    return _ValueAndGrad(fun, has_aux=has_aux, gradkwargs=options)


def filter_grad(fun: Any = MISSING, *, has_aux: bool = False, **gradkwargs: Any) -> Any:
    """Gradient of a scalar function with respect to the inexact arrays of its first
    argument.

    The first positional argument may be any PyTree (a Module, a dict of arrays, ...).
    Every floating/complex array in it is differentiated; its other leaves, and all
    other arguments, are held constant. In checking mode ``"eager"`` the call is checked
    at the boundary like :func:`filter_jit`'s.

    **Arguments:**

    - ``fun``: returns a scalar (or ``(scalar, aux)`` with ``has_aux``). Usable as
      ``@filter_grad`` or ``@filter_grad(has_aux=True)``.
    - ``has_aux``: whether ``fun`` returns auxiliary data alongside the scalar.
    - ``**gradkwargs``: further options for ``jax.grad`` (``allow_int``,
      ``holomorphic``...); not ``argnums``.

    **Returns:** a function returning the gradient: a PyTree like the first argument,
    with ``None`` at leaves that were not differentiated; ``(grad, aux)`` with
    ``has_aux=True``.

    ```python
    grads = eqx.filter_grad(loss_fn)(model, x, y)   # grads.layers[0].weight, ...
    ```
    """
    options = _grad_options("filter_grad", gradkwargs)
    if fun is MISSING:

        def decorator(f: Callable[..., Any]) -> Any:
            return filter_grad(f, has_aux=has_aux, **gradkwargs)

        return decorator
    return _Grad(fun, has_aux=has_aux, gradkwargs=options)
