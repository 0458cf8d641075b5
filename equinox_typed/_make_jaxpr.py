"""``filter_make_jaxpr``: the jaxpr of a function of arbitrary PyTrees."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from ._ad import OutputStash
from ._filters import combine, partition
from ._jax_typed import make_jaxpr, tree_flatten

__all__ = ["filter_make_jaxpr", "is_shaped"]



def is_shaped(x: Any) -> bool:
    """True for anything with ``.shape`` and ``.dtype`` (arrays, tracers,
    ``jax.ShapeDtypeStruct``): the inputs that abstract tracing treats as arrays."""
    return hasattr(x, "shape") and hasattr(x, "dtype")


def filter_make_jaxpr(
    fun: Callable[..., Any],
) -> Callable[..., tuple[Any, Any, Any]]:
    """Like ``jax.make_jaxpr``, for arbitrary PyTree inputs and outputs.

    Arguments with ``.shape`` and ``.dtype`` (arrays, ``jax.ShapeDtypeStruct``) become
    inputs of the jaxpr, in flattening order; everything else, Python numbers
    included, is static. ``fun`` itself may be a PyTree (e.g. a Module).

    **Arguments:**

    - ``fun``: the function to trace.

    **Returns:** a function that, called with example ``*args, **kwargs``, returns
    ``(closed_jaxpr, out_shapes, out_static)``: the jaxpr, the output with its arrays
    replaced by ``jax.ShapeDtypeStruct`` (``None`` elsewhere), and the output's
    non-array part (``None`` at the arrays).

    ```python
    jaxpr, shapes, static = eqx.filter_make_jaxpr(model)(jnp.zeros(3))
    ```
    """

    @functools.wraps(fun)
    def jaxpr_of(*args: Any, **kwargs: Any) -> tuple[Any, Any, Any]:
        dynamic, static = partition((fun, args, kwargs), is_shaped)
        leaves, treedef = tree_flatten(dynamic)
        stash: OutputStash[Any] = OutputStash()

        def _flat(*flat: Any) -> Any:
            fun_, args_, kwargs_ = combine(treedef.unflatten(flat), static)
            return stash.split(fun_(*args_, **kwargs_))

        closed, out_shapes = make_jaxpr(_flat, return_shape=True)(*leaves)
        return closed, out_shapes, stash.get()

    return jaxpr_of
