"""``Shared``: tie parts of a PyTree together (e.g. an embedding and an output layer)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax

from .._eval_shape import filter_eval_shape
from .._jax_typed import tree_flatten
from .._module import Module
from .._shared_node import SharedNode
from .._tree import tree_at

__all__ = ["Shared"]


def _describe(struct: Any) -> str:
    """``PyTreeDef(...) with leaves [f32[3,5], ...]``: what one side of a tie picks."""
    leaves, treedef = tree_flatten(struct)
    return f"{treedef} with leaves [{', '.join(map(_describe_leaf, leaves))}]"


def _describe_leaf(leaf: Any) -> str:
    if isinstance(leaf, jax.ShapeDtypeStruct):
        return f"{leaf.dtype}{list(leaf.shape)}"
    return repr(leaf)


def _same_kind(a: Any, b: Any) -> bool:
    """Same tree structure, same shapes and dtypes, equal non-array leaves."""
    a_leaves, a_def = tree_flatten(a)
    b_leaves, b_def = tree_flatten(b)
    return a_def == b_def and all(map(_same_leaf, a_leaves, b_leaves))


def _same_leaf(x: Any, y: Any) -> bool:
    if isinstance(x, jax.ShapeDtypeStruct) or isinstance(y, jax.ShapeDtypeStruct):
        return _describe_leaf(x) == _describe_leaf(y)
    try:
        return bool(x == y)
    except Exception:  # an `==` that is not a truth value: not provably the same
        return x is y


class Shared(Module, strict=True):
    """Tie nodes of a PyTree together, so that they are one parameter.

    A Module appearing twice in a model is two independent copies once the model is
    updated. ``Shared`` instead stores the tree once and, whenever it is unwrapped
    (``shared()``), writes the nodes picked by ``get`` into the places picked by
    ``where``. Gradients therefore flow only into the ``get`` nodes: they accumulate
    the contributions of every place the value is used.

    **Arguments:**

    - ``pytree``: the PyTree holding the nodes to tie, e.g. ``(embedding, linear)``.
    - ``where``: a function from ``pytree`` to the node(s) to be replaced (the tied
      copies), as in ``eqx.tree_at``.
    - ``get``: a function from ``pytree`` to the node(s) whose value is used; same
      tree structure, shapes and dtypes as ``where``'s.

    The nodes at ``where`` are removed: a :class:`SharedNode` placeholder (a leaf)
    stands in their place, so leaves, optimiser states and checkpoints line up with
    Equinox's, and no second copy of a weight is stored.

    ```python
    where = lambda pair: pair[1].weight     # the output layer's weight...
    get = lambda pair: pair[0].weight       # ...is the embedding's weight
    shared = eqx.nn.Shared((embedding, linear), where, get)
    embedding, linear = shared()
    ```
    """

    pytree: Any
    # Leaves, not static (as in Equinox), so the flattened Module lines up leaf for
    # leaf with Equinox's; filtered transformations hold them static all the same.
    where: Callable[[Any], Any]
    get: Callable[[Any], Any]

    def __init__(
        self, pytree: Any, where: Callable[[Any], Any], get: Callable[[Any], Any]
    ) -> None:
        # Abstractly: `get` may compute (a transpose), and nothing need be allocated.
        source, target = filter_eval_shape(get, pytree), filter_eval_shape(where, pytree)
        if not _same_kind(source, target):
            raise ValueError(
                "Shared: `get` and `where` must pick nodes of the same tree structure, "
                f"shapes and dtypes.\n  get(pytree) gives:   {_describe(source)}\n"
                f"  where(pytree) picks: {_describe(target)}"
            )
        self.pytree = tree_at(where, pytree, replace_fn=lambda _: SharedNode())
        self.where = where
        self.get = get

    def __call__(self) -> Any:
        """The tree with the ties applied: ``where``'s nodes replaced by ``get``'s."""
        return tree_at(self.where, self.pytree, self.get(self.pytree))
