"""The early Equinox API: ``jitf``, ``gradf``, ``value_and_grad_f``.

Each takes exactly one of ``filter_fn`` (a predicate on leaves) or ``filter_tree`` (a
PyTree of bools matched leaf by leaf against the positional arguments); leaves where the
filter is True are traced (``jitf``) or differentiated (``gradf``), the rest are static
(``jitf``) or held constant (``gradf``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, cast

import jax.tree_util as jtu

from ._filters import combine, partition
from ._jax_typed import TreeDef, jit, tree_flatten, value_and_grad

__all__ = ["gradf", "jitf", "value_and_grad_f"]


def _masks(
    args: tuple[Any, ...], filter_fn: Callable[[Any], bool] | None, filter_tree: Any
) -> Any:
    """A tree of bools shaped like ``args``: which leaves the filter selects."""
    if filter_fn is not None:
        select = filter_fn

        def selected(x: Any) -> bool:
            return bool(select(x))

        return jtu.tree_map(selected, args)
    # (cast: pyright narrows `Any` by isinstance to a tuple of unknown items)
    if isinstance(filter_tree, tuple):
        tree = cast("tuple[object, ...]", filter_tree)
    else:
        tree = (filter_tree,)

    def given(_: Any, m: Any) -> bool:
        return bool(m)

    try:
        # Leaf by leaf: every leaf of the arguments needs its own bool.
        return jtu.tree_map(given, args, tree)
    except ValueError as e:
        raise ValueError(
            f"filter_tree must have the structure of the positional arguments: {e}"
        ) from None


def _require_one(name: str, filter_fn: Any, filter_tree: Any) -> None:
    if (filter_fn is None) == (filter_tree is None):
        raise ValueError(f"{name} needs exactly one of `filter_fn` or `filter_tree`")


class _Hashable:
    """Static half of a partition, compared by its flattened contents."""

    __slots__ = ("tree", "_key")

    def __init__(self, tree: Any) -> None:
        leaves, treedef = tree_flatten(tree)
        self.tree = tree
        self._key: tuple[TreeDef, tuple[Any, ...]] = (treedef, tuple(leaves))

    def __hash__(self) -> int:
        return hash(self._key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Hashable) and self._key == other._key


def jitf(
    fun: Callable[..., Any],
    *,
    filter_fn: Callable[[Any], bool] | None = None,
    filter_tree: Any = None,
    **jit_kwargs: Any,
) -> Callable[..., Any]:
    """``jax.jit`` where the leaves selected by the filter are traced and the others
    static. Prefer :func:`~equinox_typed.filter_jit`.

    **Arguments:**

    - ``fun``: the function to compile (positional arguments only).
    - ``filter_fn``: ``leaf -> bool``; True means traced. E.g. ``eqx.is_array``.
    - ``filter_tree``: alternatively, a PyTree of bools with the structure of the
      positional arguments (a tuple, or the single argument itself).
    - ``**jit_kwargs``: passed to ``jax.jit``.

    ```python
    f = eqx.jitf(loss, filter_fn=eqx.is_array)
    ```
    """
    _require_one("jitf", filter_fn, filter_tree)

    @functools.partial(jit, static_argnums=1, **jit_kwargs)
    def compiled(dynamic: Any, static: _Hashable) -> Any:
        return fun(*combine(dynamic, static.tree))

    @functools.wraps(fun)
    def wrapper(*args: Any) -> Any:
        dynamic, static = partition(args, _masks(args, filter_fn, filter_tree))
        return compiled(dynamic, _Hashable(static))

    return wrapper


def value_and_grad_f(
    fun: Callable[..., Any],
    *,
    filter_fn: Callable[[Any], bool] | None = None,
    filter_tree: Any = None,
    has_aux: bool = False,
    **gradkwargs: Any,
) -> Callable[..., Any]:
    """``jax.value_and_grad`` with respect to the leaves of the *first* argument that the
    filter selects. Prefer :func:`~equinox_typed.filter_value_and_grad`.

    **Arguments:** as for :func:`gradf`.

    **Returns:** a function returning ``(value, grad)`` (``((value, aux), grad)`` with
    ``has_aux``); ``grad`` has the first argument's structure, None where not selected.
    """
    _require_one("value_and_grad_f", filter_fn, filter_tree)
    if "argnums" in gradkwargs:
        raise ValueError("value_and_grad_f differentiates the first argument only")

    @functools.wraps(fun)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        first, rest = args[0], args[1:]
        tree = filter_tree
        if tree is not None and not isinstance(tree, tuple):
            tree = (tree,) + (False,) * len(rest)
        masks = _masks(args, filter_fn, tree)
        diff, nondiff = partition(first, masks[0])

        def inner(d: Any) -> Any:
            return fun(combine(d, nondiff), *rest, **kwargs)

        return value_and_grad(inner, has_aux=has_aux, **gradkwargs)(diff)

    return wrapper


def gradf(
    fun: Callable[..., Any],
    *,
    filter_fn: Callable[[Any], bool] | None = None,
    filter_tree: Any = None,
    has_aux: bool = False,
    **gradkwargs: Any,
) -> Callable[..., Any]:
    """``jax.grad`` with respect to the leaves of the *first* argument that the filter
    selects. Prefer :func:`~equinox_typed.filter_grad`.

    **Arguments:**

    - ``fun``: scalar function (``(scalar, aux)`` with ``has_aux``).
    - ``filter_fn``: ``leaf -> bool``; True means differentiated. E.g.
      ``eqx.is_inexact_array``.
    - ``filter_tree``: alternatively, a PyTree of bools with the structure of the first
      argument (or of the tuple of all positional arguments).
    - ``has_aux``, ``**gradkwargs``: passed to ``jax.grad``.

    ```python
    grads = eqx.gradf(loss, filter_fn=eqx.is_inexact_array)(model, x, y)
    ```
    """
    _require_one("gradf", filter_fn, filter_tree)
    value_and_grad = value_and_grad_f(
        fun, filter_fn=filter_fn, filter_tree=filter_tree, has_aux=has_aux, **gradkwargs
    )

    @functools.wraps(fun)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        value, grad = value_and_grad(*args, **kwargs)
        return (grad, value[1]) if has_aux else grad

    return wrapper
