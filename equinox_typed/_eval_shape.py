"""``filter_eval_shape``: the output shapes of a function of arbitrary PyTrees, computed
without doing any work."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._ad import OutputStash
from ._filters import combine, partition
from ._jax_typed import eval_shape
from ._make_jaxpr import is_shaped

__all__ = ["filter_eval_shape"]



def filter_eval_shape(fun: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Like ``jax.eval_shape``, for arbitrary PyTree inputs and outputs.

    Runs ``fun(*args, **kwargs)`` abstractly: arrays (and ``jax.ShapeDtypeStruct``) are
    traced, so no array is computed or allocated; everything else is passed as is.

    **Arguments:**

    - ``fun``: the function (or Module class, or any PyTree callable).
    - ``*args``, ``**kwargs``: its arguments.

    **Returns:** the output of ``fun`` with every array replaced by a
    ``jax.ShapeDtypeStruct``; non-array leaves are returned unchanged.

    ```python
    # The parameter shapes of a model, without allocating its parameters.
    shapes = eqx.filter_eval_shape(eqx.nn.Linear, 3, 4, key=jax.random.key(0))
    ```
    """
    dynamic, static = partition((fun, args, kwargs), is_shaped)
    stash: OutputStash[Any] = OutputStash()

    def _arrays_only(d: Any) -> Any:
        fun_, args_, kwargs_ = combine(d, static)
        return stash.split(fun_(*args_, **kwargs_))

    shapes = eval_shape(_arrays_only, dynamic)
    return combine(shapes, stash.get())
