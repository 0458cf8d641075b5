"""``filter_pure_callback``: call host Python code from traced code, with arbitrary
PyTree arguments and results."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from ._ad import flatten_up_to
from ._filters import combine, is_array, partition
from ._jax_typed import shape_dtype_struct, tree_flatten
from ._make_jaxpr import is_shaped


__all__ = ["filter_pure_callback"]


def _static_equal(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        return bool(a == b)
    except Exception:  # e.g. an ambiguous truth value: treat as different
        return False


def filter_pure_callback(
    callback: Callable[..., Any],
    *args: Any,
    result_shape_dtypes: Any,
    sharding: Any = None,
    vmap_method: str | None = None,
    **kwargs: Any,
) -> Any:
    """Like ``jax.pure_callback``, for arbitrary PyTree arguments and results.

    Arrays in ``args``/``kwargs`` (and in ``callback``, if it is a PyTree) are passed to
    the host as NumPy arrays; every other leaf is passed to ``callback`` unchanged.

    **Arguments:**

    - ``callback``: a pure Python function, called as ``callback(*args, **kwargs)``.
    - ``*args``, ``**kwargs``: its arguments.
    - ``result_shape_dtypes``: a PyTree describing the result: ``jax.ShapeDtypeStruct``
      (or an example array) where the result has an array, and the exact value
      elsewhere (returned as is; the callback must return the same).
    - ``sharding``, ``vmap_method``: as for ``jax.pure_callback``.

    **Returns:** the callback's result, its arrays as JAX arrays (or tracers).

    ```python
    def host_fn(x, mode):
        return {"y": np.sort(x) if mode == "sort" else x, "mode": mode}

    out = eqx.filter_pure_callback(
        host_fn, x, "sort",
        result_shape_dtypes={"y": jax.ShapeDtypeStruct(x.shape, x.dtype), "mode": "sort"},
    )
    ```
    """
    dynamic, static = partition((callback, args, kwargs), is_array)
    in_leaves, in_treedef = tree_flatten(dynamic)
    result_dynamic, result_static = partition(result_shape_dtypes, is_shaped)
    result_leaves, result_treedef = tree_flatten(result_shape_dtypes)
    struct_positions = [i for i, x in enumerate(result_leaves) if is_shaped(x)]
    structs = [
        shape_dtype_struct(result_leaves[i].shape, result_leaves[i].dtype)
        for i in struct_positions
    ]

    def _host(*leaves: Any) -> list[np.ndarray[Any, Any]]:
        callback_, args_, kwargs_ = combine(in_treedef.unflatten(leaves), static)
        out = callback_(*args_, **kwargs_)
        out_leaves = flatten_up_to(
            result_treedef,
            out,
            "filter_pure_callback",
            "the callback's result does not have the structure of result_shape_dtypes",
        )
        for i, (got, expected) in enumerate(zip(out_leaves, result_leaves, strict=True)):
            if not is_shaped(expected) and not _static_equal(got, expected):
                raise ValueError(
                    f"filter_pure_callback: leaf {i} of the result is {got!r} but "
                    f"result_shape_dtypes says {expected!r}"
                )
        arrays: list[np.ndarray[Any, Any]] = []
        for i, struct in zip(struct_positions, structs, strict=True):
            array = np.asarray(out_leaves[i], dtype=struct.dtype)
            if array.shape != struct.shape:
                raise ValueError(
                    f"filter_pure_callback: leaf {i} of the result has shape "
                    f"{array.shape}, expected {struct.shape}"
                )
            arrays.append(array)
        return arrays

    out_arrays = jax.pure_callback(
        _host, structs, *in_leaves, sharding=sharding, vmap_method=vmap_method
    )
    result_treedef_dynamic = tree_flatten(result_dynamic)[1]
    return combine(result_treedef_dynamic.unflatten(out_arrays), result_static)
