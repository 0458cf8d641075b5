"""``Shared``: tie parts of a PyTree together (e.g. an embedding and an output layer)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import jax.numpy as jnp

from .._module import Module, field
from .._jax_typed import tree_flatten
from .._tree import tree_at

__all__ = ["Shared"]


def _describe_tree(tree: Any) -> str:
    leaves, treedef = tree_flatten(tree)
    shapes = ", ".join(f"{jnp.result_type(x)}{list(jnp.shape(x))}" for x in leaves)
    return f"{treedef} with leaves [{shapes}]"


def _same_kind(a: Any, b: Any) -> bool:
    a_leaves, a_def = tree_flatten(a)
    b_leaves, b_def = tree_flatten(b)
    return a_def == b_def and all(
        jnp.shape(x) == jnp.shape(y) and jnp.result_type(x) == jnp.result_type(y)
        for x, y in zip(a_leaves, b_leaves, strict=True)
    )


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

    The nodes at ``where`` are kept in the tree (referencing the very same arrays as
    ``get``'s at construction, so without extra memory) but are never read: every
    unwrapping overwrites them.

    ```python
    where = lambda pair: pair[1].weight     # the output layer's weight...
    get = lambda pair: pair[0].weight       # ...is the embedding's weight
    shared = eqx.nn.Shared((embedding, linear), where, get)
    embedding, linear = shared()
    ```
    """

    pytree: Any
    where: Callable[[Any], Any] = field(static=True)
    get: Callable[[Any], Any] = field(static=True)

    def __init__(
        self, pytree: Any, where: Callable[[Any], Any], get: Callable[[Any], Any]
    ) -> None:
        source, target = get(pytree), where(pytree)
        if not _same_kind(source, target):
            raise ValueError(
                "Shared: `get` and `where` must pick nodes of the same tree structure, "
                f"shapes and dtypes; get(pytree) is {_describe_tree(source)} but "
                f"where(pytree) is {_describe_tree(target)}"
            )
        self.pytree = tree_at(where, pytree, source)
        self.where = where
        self.get = get

    def __call__(self) -> Any:
        """The tree with the ties applied: ``where``'s nodes replaced by ``get``'s."""
        return tree_at(self.where, self.pytree, self.get(self.pytree))
