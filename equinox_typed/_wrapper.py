"""``FunctionWrapper``: what the filtered transformations return, a callable Module.

``filter_grad(loss)``, ``filter_vmap(model)``... return instances of subclasses of
:class:`FunctionWrapper`. Being Modules makes them PyTrees, which is what lets a wrapper
rebuilt every step be the *same* static value to ``filter_jit``: two wrappers of equal
functions with equal settings flatten to equal treedefs and leaves, so
``filter_jit(filter_grad(loss))`` built anew each step finds the code compiled the
first time, and the arrays of a wrapped Module stay inputs instead of constants.

A wrapper shows the name, qualified name, docstring and annotations of what it wraps,
and ``__wrapped__`` is that; they are derived from the ``fun`` field whenever a wrapper
is built, by its class or by unflattening, so they survive ``jax.tree.map`` and
``filter_jit`` boundaries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, TypeVar, cast

from ._boundary import Annotations, Boundary, function_metadata
from ._jax_typed import tree_flatten
from ._module import Module
from ._tree import Partial

__all__ = ["FunctionWrapper", "module_update_wrapper"]


def _show_metadata(wrapper: FunctionWrapper) -> None:
    """Give ``wrapper`` the name, docstring... of its function (see the module docstring)."""
    d: Any = wrapper.__dict__  # Any: a Module's `__dict__` (see `_module`)
    d.update(function_metadata(wrapper.fun, type(wrapper).keeps_annotations))


class FunctionWrapper(Module):
    """Base class of the callables returned by the filtered transformations.

    Subclasses declare their settings as static fields and define ``__call__``; the
    wrapped callable is the ``fun`` field (a child, so a wrapped Module's arrays are
    leaves of the wrapper). ``keeps_annotations`` says which of ``fun``'s annotations
    still describe the wrapper (see :func:`~equinox_typed._boundary.function_metadata`).

    ```python
    class _Twice(FunctionWrapper):
        def __call__(self, *args):
            return 2 * self.fun(*args)
    ```
    """

    _eqx_no_wrap = True  # `__call__` stays a plain function: no bound method per call
    keeps_annotations: ClassVar[Annotations] = "all"
    _eqx_built = _show_metadata

    fun: Callable[..., Any]

    def __init__(self, fun: Callable[..., Any], **settings: Any) -> None:
        """``settings``: a value for every field of the subclass, by name."""
        self.fun = fun
        for name, value in settings.items():
            setattr(self, name, value)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__qualname__} must define __call__")

    def boundary(self) -> Boundary:
        """The boundary checks of ``fun``, made on first use and kept by this wrapper."""
        d: Any = self.__dict__
        found: Boundary | None = d.get("_boundary")
        if found is None:
            found = d["_boundary"] = Boundary(self.fun)
        return found

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        # A wrapper written as a decorator in a class body binds like a function.
        if instance is None:
            return self
        return Partial(self, instance)


_M = TypeVar("_M", bound=Module)


def module_update_wrapper(wrapper: _M, wrapped: Callable[..., Any] | None = None) -> _M:
    """``functools.update_wrapper`` for a Module that wraps a function: a copy of
    ``wrapper`` showing the name, qualified name, docstring and annotations of
    ``wrapped`` (by default, ``wrapper.__wrapped__``). ``wrapper`` is not modified.

    **Arguments:**

    - ``wrapper``: a Module instance, typically with a ``__wrapped__`` property.
    - ``wrapped``: what it wraps, when not ``wrapper.__wrapped__``.

    **Returns:** the updated copy. The metadata is kept on the instance, so a copy
    rebuilt by ``jax.tree.map`` or ``filter_jit`` shows its class's again: for that, derive
    from the transformations' results instead (they keep it).

    ```python
    class Logged(eqx.Module):
        fn: Callable
        def __call__(self, *args):
            return self.fn(*args)
        @property
        def __wrapped__(self):
            return self.fn

    logged = eqx.module_update_wrapper(Logged(loss))   # logged.__name__ == "loss"
    ```
    """
    if wrapped is None:
        wrapped = getattr(wrapper, "__wrapped__", None)
        if wrapped is None:
            raise TypeError(
                f"module_update_wrapper: {type(wrapper).__qualname__} has no "
                f"`__wrapped__`; pass `wrapped=` or define a `__wrapped__` property"
            )
    leaves, treedef = tree_flatten(wrapper)
    copy: Any = treedef.unflatten(leaves)
    metadata = function_metadata(wrapped)
    del metadata["keeps_annotations"]
    if isinstance(getattr(type(wrapper), "__wrapped__", None), property):
        del metadata["__wrapped__"]  # the class computes it
    copy.__dict__.update(metadata)
    return cast(_M, copy)
