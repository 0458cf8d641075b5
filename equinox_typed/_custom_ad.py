"""Custom derivative rules for functions of arbitrary PyTrees: ``filter_custom_jvp`` and
``filter_custom_vjp``.

Each call splits the arguments into floating-point arrays (differentiable), other arrays
(passed through JAX but never differentiated) and everything else (closed over as
constants), then defines a fresh ``jax.custom_jvp``/``jax.custom_vjp`` over the arrays.
Symbolic zeros are enabled so that the user's rules can be told which inputs are actually
perturbed (a ``None`` tangent, a ``False`` in ``perturbed``).
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any, cast

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
from jax.custom_derivatives import SymbolicZero

from ._ad import OutputStash, flatten_up_to, is_inexact_jax_value, is_jax_value
from ._filters import combine
from ._jax_typed import asarray, custom_vjp, tree_flatten, zeros


__all__ = ["filter_custom_jvp", "filter_custom_vjp"]


class _ArraySlots:
    """Where the array leaves of a tree sit, so they can be swapped for other values."""

    def __init__(self, tree: Any) -> None:
        self.leaves, self.treedef = tree_flatten(tree)
        self.positions = [i for i, x in enumerate(self.leaves) if is_jax_value(x)]

    def forget_arrays(self) -> None:
        """Drop the references to the array leaves (e.g. tracers of a finished trace)."""
        for i in self.positions:
            self.leaves[i] = None

    def arrays(self) -> list[Any]:
        return [self.leaves[i] for i in self.positions]

    def rebuild(self, arrays: Any, others: Any = ...) -> Any:
        """The tree with its arrays replaced by ``arrays``; the other leaves are kept
        (or all replaced by ``others`` when given)."""
        full = list(self.leaves) if others is ... else [others] * len(self.leaves)
        for i, x in zip(self.positions, arrays, strict=True):
            full[i] = _as_array(x)
        return self.treedef.unflatten(full)


def _as_array(x: Any) -> Any:
    """Typed scalar literals (see :func:`is_jax_value`) become arrays, so that user code
    computing with them produces arrays rather than plain Python numbers."""
    if isinstance(x, (bool, int, float, complex)) and is_jax_value(x):
        return asarray(x)
    return x


def _materialise_tangent(primal: Any, tangent: Any) -> Any:
    """A JAX-acceptable output tangent: zeros for ``None``, float0 for integer outputs."""
    if not is_inexact_jax_value(primal):
        return np.zeros(jnp.shape(primal), dtype=jax.dtypes.float0)
    if tangent is None or isinstance(tangent, SymbolicZero):
        return zeros(jnp.shape(primal), jnp.result_type(primal))
    return tangent


def _output_tangents(out_arrays: Any, tangent_out: Any, who: str) -> Any:
    leaves, treedef = tree_flatten(out_arrays)
    tangent_leaves = flatten_up_to(
        treedef,
        tangent_out,
        who,
        "the tangent output must have the structure of the primal output, with None "
        "for non-floating or zero tangents",
    )
    return treedef.unflatten(
        [_materialise_tangent(p, t) for p, t in zip(leaves, tangent_leaves, strict=True)]
    )


class filter_custom_jvp:
    """A function with a custom JVP rule, for arbitrary PyTree arguments.

    Floating-point arrays in the positional arguments are differentiable; everything else
    is not, and neither are keyword arguments. The rule receives ``None`` as the tangent
    of every input that is not differentiated.

    **Arguments:**

    - ``fn``: the function, ``fn(*args, **kwargs)``. Its outputs should be arrays
      (other leaves are allowed and passed through).

    Define the rule with ``.def_jvp(jvp_fn)``, where
    ``jvp_fn(primals, tangents, **kwargs) -> (out, tangent_out)``: ``primals`` is the
    tuple of positional arguments, ``tangents`` has its structure (``None`` at
    non-differentiated leaves), and ``tangent_out`` has the structure of ``out`` with
    tangents at floating-point outputs (``None`` means zero).

    ```python
    @eqx.filter_custom_jvp
    def clip_grad(x, limit):
        return x

    @clip_grad.def_jvp
    def _(primals, tangents):
        (x, limit), (tx, _) = primals, tangents
        return x, jnp.clip(tx, -limit, limit)
    ```
    """

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.jvp: Callable[..., Any] | None = None
        self.__name__: str = getattr(fn, "__name__", type(self).__name__)
        functools.update_wrapper(self, fn)

    def def_jvp(self, jvp: Callable[..., Any]) -> Callable[..., Any]:
        """Register the JVP rule; returns it unchanged, so it works as a decorator."""
        self.jvp = jvp
        return jvp

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call ``fn(*args, **kwargs)``; differentiating the call uses the JVP rule
        (define it with ``.def_jvp`` first, else ``RuntimeError``)."""
        if self.jvp is None:
            raise RuntimeError(f"{self.__name__}: define a JVP rule with .def_jvp first")
        jvp_rule = self.jvp
        fn = self.fn
        arg_slots = _ArraySlots(args)
        kwarg_slots = _ArraySlots(kwargs)
        n_args = len(arg_slots.positions)
        differentiable = [is_inexact_jax_value(x) for x in arg_slots.arrays()]
        stash: OutputStash[Any] = OutputStash()

        def _primal(*arrays: Any) -> Any:
            args_ = arg_slots.rebuild(arrays[:n_args])
            kwargs_ = kwarg_slots.rebuild(arrays[n_args:])
            return stash.split(fn(*args_, **kwargs_))

        def _rule(primals: Any, tangents: Any) -> tuple[Any, Any]:
            args_ = arg_slots.rebuild(primals[:n_args])
            kwargs_ = kwarg_slots.rebuild(primals[n_args:])
            arg_tangents = [
                None if not d or isinstance(t, SymbolicZero) else t
                for d, t in zip(differentiable, tangents[:n_args], strict=True)
            ]
            tangents_ = arg_slots.rebuild(arg_tangents, others=None)
            out, tangent_out = jvp_rule(args_, tangents_, **kwargs_)
            out_arrays = stash.split(out)
            return out_arrays, _output_tangents(out_arrays, tangent_out, self.__name__)

        custom = jax.custom_jvp(_primal)
        custom.defjvp(_rule, symbolic_zeros=True)
        out_arrays = custom(*arg_slots.arrays(), *kwarg_slots.arrays())
        return combine(out_arrays, stash.get())


class filter_custom_vjp:
    """A function with a custom VJP rule, differentiable in its first argument only.

    **Arguments:**

    - ``fn``: the function, ``fn(vjp_arg, *args, **kwargs)``. ``vjp_arg`` may be any
      PyTree; its floating-point arrays are what gradients are computed for. ``args``
      and ``kwargs`` are never differentiated.

    Define the rule with two decorators:

    - ``.def_fwd(fwd)``: ``fwd(perturbed, vjp_arg, *args, **kwargs) -> (out, residuals)``
      where ``perturbed`` has the structure of ``vjp_arg`` with ``True`` at the leaves
      being differentiated and ``False`` elsewhere, and ``residuals`` is any PyTree
      (its arrays are kept for the backward pass).
    - ``.def_bwd(bwd)``: ``bwd(residuals, grad_obj, perturbed, vjp_arg, *args, **kwargs)``
      returning the gradient for ``vjp_arg``: its structure, with ``None`` allowed for
      zero gradients. ``grad_obj`` has the structure of ``out``, with ``None`` at leaves
      that receive no cotangent.

    ```python
    @eqx.filter_custom_vjp
    def scale(model, factor):
        return model.w * factor

    @scale.def_fwd
    def _(perturbed, model, factor):
        return model.w * factor, None

    @scale.def_bwd
    def _(residuals, grad_obj, perturbed, model, factor):
        return eqx.tree_at(lambda m: m.w, model, grad_obj * factor)
    ```
    """

    def __init__(self, fn: Callable[..., Any]) -> None:
        self.fn = fn
        self.fwd: Callable[..., Any] | None = None
        self.bwd: Callable[..., Any] | None = None
        self.__name__: str = getattr(fn, "__name__", type(self).__name__)
        functools.update_wrapper(self, fn)

    def def_fwd(self, fwd: Callable[..., Any]) -> Callable[..., Any]:
        """Register the forward pass; returns it unchanged."""
        self.fwd = fwd
        return fwd

    def def_bwd(self, bwd: Callable[..., Any]) -> Callable[..., Any]:
        """Register the backward pass; returns it unchanged."""
        self.bwd = bwd
        return bwd

    def defvjp(self, fwd: Callable[..., Any], bwd: Callable[..., Any]) -> None:
        """Register both passes in the older form (deprecated: use ``def_fwd`` and
        ``def_bwd``, whose rules are told which inputs are perturbed).

        - ``fwd(vjp_arg, *args, **kwargs) -> (out, residuals)``;
        - ``bwd(residuals, grad_obj, vjp_arg, *args, **kwargs) -> grad``, where
          ``grad_obj`` holds an array (zeros rather than ``None`` when no cotangent
          arrives) at every floating-point output.

        ```python
        scale.defvjp(lambda m, f: (m.w * f, None), lambda res, g, m, f: ...)
        ```
        """
        warnings.warn(
            f"{self.__name__}: filter_custom_vjp.defvjp is deprecated; register the "
            "rules with .def_fwd and .def_bwd instead (they take a `perturbed` argument "
            "first, and the backward rule receives None for zero cotangents)",
            DeprecationWarning,
            stacklevel=2,
        )

        def fwd_rule(perturbed: Any, vjp_arg: Any, *args: Any, **kwargs: Any) -> Any:
            out, residuals = fwd(vjp_arg, *args, **kwargs)
            return out, (out, residuals)  # the old rule needs the outputs' shapes

        def bwd_rule(
            saved: Any, grad_obj: Any, perturbed: Any, vjp_arg: Any, *args: Any, **kwargs: Any
        ) -> Any:
            out, residuals = saved
            grad_obj = jtu.tree_map(_zeros_for_none, grad_obj, out, is_leaf=_is_none)
            return bwd(residuals, grad_obj, vjp_arg, *args, **kwargs)

        self.def_fwd(fwd_rule)
        self.def_bwd(bwd_rule)

    def __call__(self, vjp_arg: Any, /, *args: Any, **kwargs: Any) -> Any:
        """Call ``fn(vjp_arg, *args, **kwargs)``; reverse-mode differentiation with respect
        to ``vjp_arg`` uses the rules (define both ``.def_fwd`` and ``.def_bwd`` first,
        else ``RuntimeError``)."""
        if self.fwd is None or self.bwd is None:
            raise RuntimeError(
                f"{self.__name__}: define both .def_fwd and .def_bwd before calling"
            )
        fn, fwd_rule, bwd_rule, name = self.fn, self.fwd, self.bwd, self.__name__
        vjp_slots = _ArraySlots(vjp_arg)
        rest_slots = _ArraySlots((args, kwargs))
        vjp_arrays = vjp_slots.arrays()
        differentiable = [is_inexact_jax_value(x) for x in vjp_arrays]
        out_stash: OutputStash[Any] = OutputStash()
        res_stash: OutputStash[Any] = OutputStash()

        def _split(arrays: list[Any], rest: list[Any]) -> tuple[Any, Any, Any]:
            vjp_arg_ = vjp_slots.rebuild(arrays)
            args_, kwargs_ = rest_slots.rebuild(rest)
            return vjp_arg_, args_, kwargs_

        def _primal(arrays: list[Any], rest: list[Any]) -> Any:
            vjp_arg_, args_, kwargs_ = _split(arrays, rest)
            return out_stash.split(fn(vjp_arg_, *args_, **kwargs_))

        def _fwd(arrays: list[Any], rest: list[Any]) -> tuple[Any, Any]:
            flags = [d and p.perturbed for d, p in zip(differentiable, arrays, strict=True)]
            values = [p.value for p in arrays]
            rest_values = [p.value for p in rest]
            perturbed = vjp_slots.rebuild(flags, others=False)
            vjp_arg_, args_, kwargs_ = _split(values, rest_values)
            out, residuals = fwd_rule(perturbed, vjp_arg_, *args_, **kwargs_)
            res_slots = _ArraySlots(residuals)
            saved = (res_slots.arrays(), values, rest_values)
            res_slots.forget_arrays()  # only the static part outlives the trace
            res_stash.put((res_slots, flags))
            return out_stash.split(out), saved

        def _bwd(saved: Any, cotangent: Any) -> tuple[list[Any], list[None]]:
            res_arrays, values, rest_values = saved
            res_slots, flags = res_stash.get()
            residuals = res_slots.rebuild(res_arrays)
            perturbed = vjp_slots.rebuild(flags, others=False)
            vjp_arg_, args_, kwargs_ = _split(values, rest_values)
            grad_obj = jtu.tree_map(_cotangent_or_none, cotangent)
            grad = bwd_rule(residuals, grad_obj, perturbed, vjp_arg_, *args_, **kwargs_)
            grad_leaves = flatten_up_to(
                vjp_slots.treedef,
                grad,
                name,
                "the backward pass must return a gradient with the structure of the "
                "first argument (None for zero)",
            )
            grads = [
                grad_leaves[i] if d else None
                for i, d in zip(vjp_slots.positions, differentiable, strict=True)
            ]
            return grads, [None] * len(rest_values)

        custom = custom_vjp(_primal)
        custom.defvjp(_fwd, _bwd, symbolic_zeros=True)
        rest_arrays = rest_slots.arrays()
        if rest_arrays:
            rest_arrays = _nondifferentiable_typed(
                f"{name}: only the first argument of a filter_custom_vjp function can be "
                "differentiated, but a tangent reached its other arguments (*args and "
                "**kwargs); pass what must be differentiated inside the first argument",
                rest_arrays,
            )
        out_arrays: Any = custom(vjp_arrays, rest_arrays)
        return combine(out_arrays, out_stash.get())


def _cotangent_or_none(ct: Any) -> Any:
    """``None`` for symbolic-zero and integer (float0) cotangents, else the array."""
    if isinstance(ct, SymbolicZero):
        return None
    if getattr(ct, "dtype", None) == jax.dtypes.float0:
        return None
    return ct


def _is_none(x: Any) -> bool:
    return x is None


def _zeros_for_none(ct: Any, out: Any) -> Any:
    """The old ``defvjp`` contract: zeros, never ``None``, at floating-point outputs."""
    if ct is None and is_inexact_jax_value(out):
        return zeros(jnp.shape(out), jnp.result_type(out))
    return ct


@functools.partial(jax.custom_jvp, nondiff_argnums=(0,))
def _nondifferentiable(message: str, arrays: list[Any]) -> list[Any]:
    """The identity on ``arrays``, raising ``RuntimeError(message)`` if differentiated
    (forward or reverse mode: reverse mode linearises through the JVP rule)."""
    return arrays


@_nondifferentiable.defjvp
def _nondifferentiable_jvp(message: str, primals: Any, tangents: Any) -> Any:
    raise RuntimeError(message)


# jax.custom_jvp objects are unannotated: the identity's type, for the checkers.
_nondifferentiable_typed = cast("Callable[[str, list[Any]], list[Any]]", _nondifferentiable)
