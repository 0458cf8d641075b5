"""``filter_closure_convert``: make a function's closed-over arrays explicit leaves."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax
import jax.tree_util as jtu

from ._filters import combine, partition
from ._jax_internals import jaxpr_with_inputs
from ._jax_typed import eval_jaxpr, shape_dtype_struct, tree_flatten
from ._make_jaxpr import filter_make_jaxpr, is_shaped
from ._module import Module, field

__all__ = ["filter_closure_convert"]


def _signature(leaves: list[Any]) -> tuple[tuple[tuple[int, ...], Any], ...]:
    return tuple((tuple(x.shape), jax.numpy.dtype(x.dtype)) for x in leaves)


class _ClosureConverted(Module):
    """A traced function whose captured arrays (``consts``) are PyTree leaves.

    ``in_struct`` is the ``(args, kwargs)`` it was converted for and ``out_struct`` its
    output, each with ``jax.ShapeDtypeStruct`` in place of the arrays."""

    jaxpr: Any = field(static=True)
    consts: list[Any]
    in_treedef: Any = field(static=True)
    in_signature: Any = field(static=True)
    out_treedef: Any = field(static=True)
    out_static: Any = field(static=True)
    in_struct: Any = field(static=True)
    out_struct: Any = field(static=True)

    def __init__(
        self,
        jaxpr: Any,
        consts: list[Any],
        in_treedef: Any,
        in_signature: Any,
        out_treedef: Any,
        out_static: Any,
        in_struct: Any,
        out_struct: Any,
    ) -> None:
        self.jaxpr = jaxpr
        self.consts = consts
        self.in_treedef = in_treedef
        self.in_signature = in_signature
        self.out_treedef = out_treedef
        self.out_static = out_static
        self.in_struct = in_struct
        self.out_struct = out_struct

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        dynamic, _ = partition((args, kwargs), is_shaped)
        leaves, treedef = tree_flatten(dynamic)
        if treedef != self.in_treedef or _signature(leaves) != self.in_signature:
            raise ValueError(
                "filter_closure_convert: the function was converted for arguments with "
                f"array structure {self.in_treedef} and shapes/dtypes "
                f"{self.in_signature}; got {treedef} with {_signature(leaves)}"
            )
        out = eval_jaxpr(self.jaxpr, self.consts, *leaves)
        return combine(self.out_treedef.unflatten(out), self.out_static)


def filter_closure_convert(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Trace ``fn`` once and return it as a PyTree whose leaves include every array
    ``fn`` closes over.

    Closed-over tracers (from an enclosing ``jit``/``grad``/``vmap``) become explicit
    leaves, so the result can be passed across a boundary (``jax.custom_vjp``,
    ``filter_grad``, ...) that would otherwise not see them.

    **Arguments:**

    - ``fn``: the function, called as ``fn(*args, **kwargs)``.
    - ``*args``, ``**kwargs``: example arguments. Arrays (and ``jax.ShapeDtypeStruct``)
      only give shapes and dtypes; everything else (Python numbers included) is baked
      into the result as a constant.

    **Returns:** a callable Module taking arguments of the same structure, shapes and
    dtypes; its ``consts`` field lists the captured arrays, and ``in_struct``/
    ``out_struct`` describe its ``(args, kwargs)`` and its output (arrays as
    ``jax.ShapeDtypeStruct``, other leaves as they are).

    ```python
    def loss(x, y):
        z = x * y
        g = eqx.filter_closure_convert(lambda a: z + a, x)
        return g.consts  # [z]
    ```
    """
    closed, out_shapes, out_static = filter_make_jaxpr(fn)(*args, **kwargs)
    in_dynamic, _ = partition((args, kwargs), is_shaped)
    in_leaves, in_treedef = tree_flatten(in_dynamic)
    out_treedef = tree_flatten(out_shapes)[1]
    fn_leaves = tree_flatten(fn)[0]
    if any(is_shaped(x) for x in fn_leaves):
        # Arrays inside `fn` (a PyTree callable) were jaxpr inputs: make them constants.
        n_fn = sum(1 for x in fn_leaves if is_shaped(x))
        fn_arrays = [x for x in fn_leaves if is_shaped(x)]
        jaxpr = _inputs_to_consts(closed.jaxpr, n_fn)
        consts = fn_arrays + list(closed.consts)
    else:
        jaxpr, consts = closed.jaxpr, list(closed.consts)
    in_struct = jtu.tree_map(_struct_of, (args, kwargs))
    out_struct = combine(out_shapes, out_static)
    return _ClosureConverted(
        jaxpr,
        consts,
        in_treedef,
        _signature(in_leaves),
        out_treedef,
        out_static,
        in_struct,
        out_struct,
    )


def _struct_of(x: Any) -> Any:
    """A ``jax.ShapeDtypeStruct`` (shape and dtype) for an array, else ``x`` itself."""
    return shape_dtype_struct(x.shape, x.dtype) if is_shaped(x) else x


def _inputs_to_consts(jaxpr: Any, n: int) -> Any:
    """Move the first ``n`` inputs of ``jaxpr`` in front of its constants."""
    invars = list(jaxpr.invars)
    return jaxpr_with_inputs(
        jaxpr, constvars=invars[:n] + list(jaxpr.constvars), invars=invars[n:]
    )
