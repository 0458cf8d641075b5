"""Predicates on leaves, and splitting/merging PyTrees by such predicates.

A *filter specification* says, per leaf, whether the leaf is kept. It is either a
``bool``, a callable ``leaf -> bool``, or a PyTree of those that is a prefix of the
tree being filtered (each spec applies to the whole subtree below it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import jax
import jax.tree_util as jtu
import numpy as np

from ._jax_typed import tree_flatten

__all__ = [
    "combine",
    "filter",
    "if_array",
    "is_array",
    "is_array_like",
    "is_inexact_array",
    "is_inexact_array_like",
    "partition",
]

_T = TypeVar("_T")

# What `is_array` accepts; shared by the modules that classify leaves the same way.
ARRAY_TYPES: tuple[type[Any], ...] = (jax.Array, np.ndarray, np.generic)
_SCALAR_TYPES: tuple[type, ...] = (bool, int, float, complex)
_INEXACT_SCALAR_TYPES: tuple[type, ...] = (float, complex)


def is_array(element: Any) -> bool:
    """True for JAX arrays and NumPy arrays/scalars (the things a transformation traces).

    Python scalars are *not* arrays: ``is_array(1.0)`` is False, so filters built on it
    keep Python numbers static.
    """
    return isinstance(element, ARRAY_TYPES)


def is_array_like(element: Any) -> bool:
    """True for arrays, Python scalars (``bool``/``int``/``float``/``complex``) and
    objects exposing ``__jax_array__``: anything ``jnp.asarray`` accepts cheaply."""
    return isinstance(element, ARRAY_TYPES + _SCALAR_TYPES) or callable(
        getattr(element, "__jax_array__", None)
    )


def _is_inexact_dtype(dtype: Any) -> bool:
    return bool(np.issubdtype(dtype, np.inexact))


def is_inexact_array(element: Any) -> bool:
    """True for arrays of floating or complex dtype (the leaves gradients are taken of)."""
    return isinstance(element, ARRAY_TYPES) and _is_inexact_dtype(element.dtype)


def is_inexact_array_like(element: Any) -> bool:
    """Like :func:`is_inexact_array`, also accepting Python ``float``/``complex``."""
    if isinstance(element, _INEXACT_SCALAR_TYPES) or is_inexact_array(element):
        return True
    # Tracers define `__jax_array__ = None`, hence the callable() test.
    to_array = getattr(element, "__jax_array__", None)
    return callable(to_array) and is_inexact_array(to_array())


class if_array:
    """``if_array(axis)(x)`` is ``axis`` when ``x`` is an array and ``None`` otherwise.

    Used as the default ``in_axes``/``out_axes`` of :func:`filter_vmap`: map arrays over
    ``axis`` and broadcast everything else.

    **Arguments:**

    - ``axis``: the axis to return for array leaves.

    ```python
    eqx.filter_vmap(f, in_axes=eqx.if_array(1))
    ```
    """

    __slots__ = ("axis",)

    def __init__(self, axis: int) -> None:
        self.axis = axis

    def __call__(self, x: Any) -> int | None:
        """``axis`` if the leaf ``x`` is an array, else ``None`` (not mapped)."""
        return self.axis if is_array(x) else None

    def __repr__(self) -> str:
        return f"if_array({self.axis})"

    def __eq__(self, other: object) -> bool:
        return type(other) is if_array and other.axis == self.axis

    def __hash__(self) -> int:
        return hash((if_array, self.axis))


def _is_tree_leaf(x: Any) -> bool:
    leaves = tree_flatten(x)[0]
    return len(leaves) == 1 and leaves[0] is x


def _leaf_mask(
    filter_spec: Any, pytree: Any, is_leaf: Callable[[Any], bool] | None
) -> list[bool]:
    """One bool per leaf of ``pytree``, in flattening order."""
    if isinstance(filter_spec, bool):
        n = len(jtu.tree_leaves(pytree, is_leaf=is_leaf))
        return [filter_spec] * n
    # A callable that is itself a PyTree node (a Module-shaped spec: Modules are
    # callable) is a prefix tree of specs, as in Equinox, not a predicate.
    if callable(filter_spec) and _is_tree_leaf(filter_spec):
        return [bool(filter_spec(x)) for x in jtu.tree_leaves(pytree, is_leaf=is_leaf)]

    # A prefix tree of specs: broadcast each spec over the subtree it sits above. The
    # per-subtree masks are wrapped in a private type so that flattening the result
    # cannot confuse them with the user's own lists.
    def _expand(spec: Any, subtree: Any) -> _Mask:
        return _Mask(_leaf_mask(spec, subtree, is_leaf))

    try:
        nested = jtu.tree_map(_expand, filter_spec, pytree, is_leaf=is_leaf)
    except ValueError as e:
        raise ValueError(
            "filter_spec must be a bool, a callable, or a PyTree of those that is a "
            f"prefix of the tree being filtered: {e}"
        ) from None
    masks = jtu.tree_leaves(nested, is_leaf=lambda x: isinstance(x, _Mask))
    return [flag for mask in masks for flag in mask.flags]


class _Mask:
    """The keep/drop flags of one subtree's leaves (an opaque leaf to JAX)."""

    __slots__ = ("flags",)

    def __init__(self, flags: list[bool]) -> None:
        self.flags = flags


def filter(
    pytree: _T,
    filter_spec: Any,
    inverse: bool = False,
    replace: Any = None,
    is_leaf: Callable[[Any], bool] | None = None,
) -> _T:
    """Keep the leaves selected by ``filter_spec``; put ``replace`` in place of the others.

    **Arguments:**

    - ``pytree``: the tree to filter.
    - ``filter_spec``: a bool, a callable ``leaf -> bool``, or a prefix tree of those.
    - ``inverse``: keep the leaves that are *not* selected instead.
    - ``replace``: what unselected leaves become (default ``None``, an empty subtree).
    - ``is_leaf``: passed to the flattening, to stop at custom nodes.

    **Returns:** a tree of the same structure and type as ``pytree``.

    ```python
    params = eqx.filter(model, eqx.is_inexact_array)
    ```
    """
    leaves, treedef = tree_flatten(pytree, is_leaf=is_leaf)
    mask = _leaf_mask(filter_spec, pytree, is_leaf)
    if inverse:
        kept = [replace if m else x for x, m in zip(leaves, mask, strict=True)]
    else:
        kept = [x if m else replace for x, m in zip(leaves, mask, strict=True)]
    filtered: _T = treedef.unflatten(kept)
    return filtered


def partition(
    pytree: _T,
    filter_spec: Any,
    replace: Any = None,
    is_leaf: Callable[[Any], bool] | None = None,
) -> tuple[_T, _T]:
    """Split a tree in two: the selected leaves, and the rest.

    Equivalent to ``(filter(pytree, spec), filter(pytree, spec, inverse=True))`` with one
    pass over the tree. :func:`combine` puts the two halves back together.

    **Arguments:** as for :func:`filter`.

    **Returns:** ``(selected, rest)``, both with the structure and type of ``pytree``.

    ```python
    params, static = eqx.partition(model, eqx.is_array)
    model = eqx.combine(params, static)
    ```
    """
    leaves, treedef = tree_flatten(pytree, is_leaf=is_leaf)
    mask = _leaf_mask(filter_spec, pytree, is_leaf)
    left = [x if m else replace for x, m in zip(leaves, mask, strict=True)]
    right = [replace if m else x for x, m in zip(leaves, mask, strict=True)]
    return treedef.unflatten(left), treedef.unflatten(right)


def _is_none(x: Any) -> bool:
    return x is None


def _none_or(is_leaf: Callable[[Any], bool]) -> Callable[[Any], bool]:
    def none_or_leaf(x: Any) -> bool:
        return x is None or is_leaf(x)

    return none_or_leaf


def combine(*pytrees: _T, is_leaf: Callable[[Any], bool] | None = None) -> _T:
    """Merge trees of one structure, taking at each leaf the first value that is not None.

    The inverse of :func:`partition`.

    **Arguments:**

    - ``*pytrees``: trees with the same structure, where ``None`` marks a missing leaf.
    - ``is_leaf``: passed to the flattening.

    **Returns:** the merged tree, of the same type as the inputs.
    """
    if not pytrees:
        raise TypeError("combine() needs at least one PyTree")
    leaf_fn = _is_none if is_leaf is None else _none_or(is_leaf)

    first, *rest = pytrees
    leaves, treedef = tree_flatten(first, is_leaf=leaf_fn)
    others = [treedef.flatten_up_to(t) for t in rest]
    merged: list[Any] = []
    for i, x in enumerate(leaves):
        if x is None:
            for other in others:
                if other[i] is not None:
                    x = other[i]
                    break
        merged.append(x)
    combined: _T = treedef.unflatten(merged)
    return combined
