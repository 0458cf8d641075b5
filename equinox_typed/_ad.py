"""Filtered forward- and reverse-mode differentiation: ``filter_jvp``, ``filter_vjp``,
``filter_jacfwd``, ``filter_jacrev`` and ``filter_hessian``.

The inputs may be arbitrary PyTrees: floating-point arrays are differentiated and every
other leaf is held fixed (closed over as a constant). Outputs may be arbitrary too:
array outputs go through JAX, the rest is carried out of the trace by an
:class:`OutputStash`, which the other filtered transformations of this package reuse.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar, cast

import jax
import jax.tree_util as jtu
import numpy as np
from jax.core import Tracer

from ._checking import checks_active
from ._filters import combine, is_array, is_inexact_array, is_inexact_array_like, partition
from ._jax_typed import TreeDef, jacfwd, jacrev, jvp, tree_flatten, vjp, zeros
from ._module import Module, check_tree_modules

__all__ = [
    "OutputStash",
    "flatten_up_to",
    "is_inexact_jax_value",
    "is_jax_value",
    "filter_hessian",
    "filter_jacfwd",
    "filter_jacrev",
    "filter_jvp",
    "filter_vjp",
]

_T = TypeVar("_T")



def _to_none(_: Any) -> None:
    return None


def flatten_up_to(treedef: TreeDef, tree: Any, who: str, what: str) -> list[Any]:
    """The subtrees of ``tree`` at the leaf positions of ``treedef`` (``None`` allowed at a
    leaf position); a ``ValueError`` naming ``who`` and ``what`` if the structures differ.
    """
    try:
        return treedef.flatten_up_to(tree)
    except (ValueError, TypeError) as e:
        raise ValueError(f"{who}: {what}: {e}") from None


def is_jax_value(x: Any) -> bool:
    """True for arrays, and for the typed scalars JAX itself may hand to a rule.

    Besides arrays, JAX can pass concrete primal values to custom rules as *typed
    literals*: Python ``float``/``int``/``complex`` subclasses carrying a ``dtype``.
    They stand for arrays and must be treated as such; plain Python numbers stay static.
    """
    return is_array(x) or (
        isinstance(x, (bool, int, float, complex)) and hasattr(x, "dtype")
    )


def is_inexact_jax_value(x: Any) -> bool:
    """:func:`is_jax_value` with a floating or complex dtype."""
    return is_jax_value(x) and bool(np.issubdtype(x.dtype, np.inexact))


class OutputStash(Generic[_T]):
    """Carries the non-array part of a traced function's output out of the trace.

    JAX transformations only let arrays out of the functions they trace. A filtered
    transformation therefore splits each output into arrays (returned through JAX) and
    everything else (put here during tracing, picked up afterwards).

    ```python
    stash = OutputStash[Any]()
    def traced(x):
        return stash.split(f(x))  # the arrays of f(x); the rest goes into the stash
    arrays = jax.eval_shape(traced, x)
    out = eqx.combine(arrays, stash.get())
    ```
    """

    __slots__ = ("_value", "_filled")

    def __init__(self) -> None:
        self._value: Any = None
        self._filled = False

    def put(self, value: _T) -> None:
        """Store ``value`` (a later ``put`` replaces an earlier one)."""
        self._value = value
        self._filled = True

    def get(self) -> _T:
        """The stored value; raises if the traced function never ran."""
        if not self._filled:
            raise RuntimeError(
                "internal error: the transformed function did not run, so its "
                "non-array outputs are unknown"
            )
        return cast(_T, self._value)

    def split(self, tree: Any) -> Any:
        """Stash the non-array leaves of ``tree`` and return its array leaves (the rest
        replaced by ``None``)."""
        dynamic, static = partition(tree, is_jax_value)
        self.put(static)
        return dynamic


def _check_boundary(tree: Any, name: str) -> None:
    """Check the Modules inside ``tree`` against their annotations (cheap: memoised)."""
    if checks_active():
        check_tree_modules(tree, name)


# ---------------------------------------------------------------------------------------
# filter_jvp


def _trace_of(x: Any) -> Any:
    # Tracer's attributes are private and unannotated; only identity is compared.
    return getattr(cast(Any, x), "_trace", None) if isinstance(x, Tracer) else None


def _expand_none_tangents(tangents: Any, primals: Any) -> Any:
    """Let a single ``None`` stand for the tangents of a whole subtree of ``primals``."""

    def expand(t: Any, p: Any) -> Any:
        return jtu.tree_map(_to_none, p) if t is None else t

    try:
        return jtu.tree_map(expand, tangents, primals, is_leaf=_is_none)
    except ValueError:
        return tangents  # reported by flatten_up_to below, with a clear message


def _is_none(x: Any) -> bool:
    return x is None


def filter_jvp(
    fn: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any], **kwargs: Any
) -> tuple[Any, Any]:
    """Jacobian-vector product of ``fn`` for arbitrary PyTree inputs and outputs.

    **Arguments:**

    - ``fn``: the function; called as ``fn(*primals, **kwargs)``. It may return anything.
    - ``primals``: a sequence of positional arguments (any PyTrees).
    - ``tangents``: the same structure as ``primals``; at each leaf either a tangent (for
      floating-point arrays and Python floats/complexes) or ``None``, meaning a zero
      tangent. Every other kind of leaf must have ``None``. A ``None`` in place of a
      whole subtree (e.g. a Module) means zero tangents for all of it.
    - ``**kwargs``: keyword arguments for ``fn``; never differentiated.

    **Returns:** ``(out, tangent_out)`` where ``out = fn(*primals, **kwargs)`` and
    ``tangent_out`` has the structure of ``out`` with ``None`` wherever the tangent is
    zero by construction (non-floating leaves, or leaves independent of the tangents).

    ```python
    out, t_out = eqx.filter_jvp(lambda m, x: m(x), (model, x), (dmodel, None))
    ```
    """
    primals = tuple(primals)
    flat_primals, treedef = tree_flatten(primals)
    flat_tangents = flatten_up_to(
        treedef,
        _expand_none_tangents(tuple(tangents), primals),
        "filter_jvp",
        "tangents must have the structure of primals (with None for zero tangents)",
    )
    for i, (p, t) in enumerate(zip(flat_primals, flat_tangents, strict=True)):
        # (is_inexact_array first: it is exact for tracers, which is_inexact_array_like
        # mishandles.)
        if t is not None and not (is_inexact_array(p) or is_inexact_array_like(p)):
            # A TypeError, as JAX (and so Equinox) raises for such a tangent.
            raise TypeError(
                f"filter_jvp: leaf {i} of primals is {type(p).__name__}, which is not "
                f"differentiable; its tangent must be None"
            )
    _check_boundary(primals, "primals")
    perturbed = [i for i, t in enumerate(flat_tangents) if t is not None]
    if not perturbed:
        out = fn(*primals, **kwargs)
        return out, jtu.tree_map(_to_none, out)

    stash: OutputStash[tuple[TreeDef, list[Any], list[bool]]] = OutputStash()

    def _perturbed_fn(*leaves: Any) -> list[Any]:
        full = list(flat_primals)
        for i, leaf in zip(perturbed, leaves, strict=True):
            full[i] = leaf
        out = fn(*treedef.unflatten(full), **kwargs)
        # Only outputs carried by *this* JVP trace depend on the tangents; anything
        # else (constants, values built from unperturbed inputs) has a zero tangent.
        trace = _trace_of(leaves[0])
        out_leaves, out_def = tree_flatten(out)
        carried = [_trace_of(x) is trace for x in out_leaves]
        kept = [None if c else x for x, c in zip(out_leaves, carried, strict=True)]
        stash.put((out_def, kept, carried))
        return [x for x, c in zip(out_leaves, carried, strict=True) if c]

    dyn_out: list[Any]
    dyn_tangents: list[Any]
    dyn_out, dyn_tangents = jvp(
        _perturbed_fn,
        [flat_primals[i] for i in perturbed],
        [flat_tangents[i] for i in perturbed],
    )
    out_def, kept, carried = stash.get()
    out_leaves: list[Any] = list(kept)
    tangent_leaves: list[Any] = [None] * len(kept)
    pairs = iter(zip(dyn_out, dyn_tangents, strict=True))
    for i, c in enumerate(carried):
        if c:
            value, tangent = next(pairs)
            out_leaves[i] = value
            tangent_leaves[i] = tangent if is_inexact_array(value) else None
    return out_def.unflatten(out_leaves), out_def.unflatten(tangent_leaves)


# ---------------------------------------------------------------------------------------
# filter_vjp


def _zero_cotangent(x: Any) -> Any:
    if is_inexact_array(x):
        return zeros(x.shape, x.dtype)
    return np.zeros(x.shape, dtype=jax.dtypes.float0)


class _VJPFn(Module):
    """The pullback returned by :func:`filter_vjp`; a PyTree, so it can leave a jit."""

    pullback: Any
    out_arrays: Any  # the array outputs (for their shapes/dtypes), None elsewhere

    def __init__(self, pullback: Any, out_arrays: Any) -> None:
        self.pullback = pullback
        self.out_arrays = out_arrays

    def __call__(self, cotangent: Any) -> tuple[Any, ...]:
        leaves, treedef = tree_flatten(self.out_arrays)
        ct_leaves = flatten_up_to(
            treedef,
            cotangent,
            "filter_vjp",
            "the cotangent must have the structure of the output, with arrays for "
            "floating-point outputs and None elsewhere",
        )
        cts = [
            ct if ct is not None and is_inexact_array(x) else _zero_cotangent(x)
            for x, ct in zip(leaves, ct_leaves, strict=True)
        ]
        (primal_cts,) = self.pullback(treedef.unflatten(cts))
        return tuple(primal_cts)


def filter_vjp(fun: Callable[..., Any], *primals: Any, has_aux: bool = False) -> Any:
    """Vector-Jacobian product of ``fun`` for arbitrary PyTree inputs and outputs.

    **Arguments:**

    - ``fun``: the function; called as ``fun(*primals)``; may return anything.
    - ``*primals``: the inputs. Floating-point arrays are differentiated; every other
      leaf is held fixed.
    - ``has_aux``: ``fun`` returns ``(out, aux)`` and only ``out`` is differentiated.

    **Returns:** ``(out, vjp_fn)``, or ``(out, vjp_fn, aux)`` with ``has_aux``.
    ``vjp_fn(cotangent)`` takes a tree shaped like ``out`` (arrays at floating-point
    outputs, ``None`` elsewhere) and returns a tuple shaped like ``primals`` with the
    cotangents at floating-point arrays and ``None`` at every other leaf.

    ```python
    out, vjp_fn = eqx.filter_vjp(lambda m, x: m(x), model, x)
    (dmodel, dx) = vjp_fn(jnp.ones_like(out))
    ```
    """
    _check_boundary(primals, "primals")
    diff, fixed = partition(primals, is_inexact_array)
    stash: OutputStash[tuple[Any, Any]] = OutputStash()

    def _diff_fn(d: Any) -> tuple[Any, Any]:
        result = fun(*combine(d, fixed))
        out, aux = result if has_aux else (result, None)
        out_dyn, out_static = partition(out, is_array)
        aux_dyn, aux_static = partition(aux, is_array)
        stash.put((out_static, aux_static))
        return out_dyn, aux_dyn

    out_dyn, pullback, aux_dyn = vjp(_diff_fn, diff, has_aux=True)
    out_static, aux_static = stash.get()
    vjp_fn = _VJPFn(pullback, out_dyn)
    out = combine(out_dyn, out_static)
    if has_aux:
        return out, vjp_fn, combine(aux_dyn, aux_static)
    return out, vjp_fn


# ---------------------------------------------------------------------------------------
# Jacobians and Hessians


def _jacobian(fun: Callable[..., Any], has_aux: bool, reverse: bool) -> Callable[..., Any]:
    transform = jacrev if reverse else jacfwd

    @functools.wraps(fun)
    def jacobian_fn(x: Any, /, *args: Any, **kwargs: Any) -> Any:
        _check_boundary((x, args, kwargs), "arguments")
        diff_x, fixed_x = partition(x, is_inexact_array)
        stash: OutputStash[Any] = OutputStash()

        def _diff_fn(d: Any) -> tuple[Any, Any]:
            result = fun(combine(d, fixed_x), *args, **kwargs)
            out, aux = result if has_aux else (result, None)
            return out, stash.split(aux)

        jac, aux_dyn = transform(_diff_fn, has_aux=True)(diff_x)
        if has_aux:
            return jac, combine(aux_dyn, stash.get())
        return jac

    return jacobian_fn


def filter_jacfwd(fun: Callable[..., Any], has_aux: bool = False) -> Callable[..., Any]:
    """Jacobian of ``fun`` with respect to the floating-point arrays of its first
    argument, by forward-mode AD.

    **Arguments:**

    - ``fun``: the function. Its first argument may be any PyTree (non-floating leaves
      are held fixed); its other arguments are not differentiated. Its output must be
      a PyTree of floating-point arrays.
    - ``has_aux``: ``fun`` returns ``(out, aux)``; ``aux`` may hold anything.

    **Returns:** a function with the arguments of ``fun`` returning the Jacobian (or
    ``(jacobian, aux)``). For each output leaf it holds a tree shaped like the first
    argument, with ``None`` at non-differentiated leaves.

    ```python
    jac = eqx.filter_jacfwd(lambda m, x: m(x))(model, x)
    jac.weight.shape  # out_shape + weight.shape
    ```
    """
    return _jacobian(fun, has_aux, reverse=False)


def filter_jacrev(fun: Callable[..., Any], has_aux: bool = False) -> Callable[..., Any]:
    """As :func:`filter_jacfwd`, computed by reverse-mode AD (cheaper for few outputs).

    ```python
    jac = eqx.filter_jacrev(loss)(model, x, y)
    ```
    """
    return _jacobian(fun, has_aux, reverse=True)


def filter_hessian(fun: Callable[..., Any], has_aux: bool = False) -> Callable[..., Any]:
    """Hessian of ``fun`` with respect to the floating-point arrays of its first argument
    (forward-over-reverse).

    **Arguments:** as for :func:`filter_jacfwd`.

    ```python
    h = eqx.filter_hessian(lambda x, c: jnp.sum(c * x**3))(x, c)
    ```
    """
    return filter_jacfwd(filter_jacrev(fun, has_aux=has_aux), has_aux=has_aux)

