"""``SharedNode``: the placeholder ``nn.Shared`` leaves where a tied node was, and the
rule that boundary checks treat it (like ``None``) as a hole rather than a wrong value."""

from __future__ import annotations

from typing import Any

__all__ = ["SharedNode", "is_hole"]


class SharedNode:
    """Placeholder for a node removed by :class:`~equinox_typed.nn.Shared`.

    It is a (non-array) leaf, so a Module holding a ``Shared`` flattens to the same
    number of leaves as in Equinox, and its optimiser state and checkpoints line up.
    All placeholders are equal, so copies (pickles, tree rebuilds) are interchangeable
    static values for ``filter_jit``'s cache.

    ```python
    shared = eqx.nn.Shared((embedding, linear), where, get)
    repr(shared.pytree[1].weight)  # "SharedNode"
    ```
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return "SharedNode"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SharedNode)

    def __hash__(self) -> int:
        return hash(SharedNode)


def is_hole(value: Any) -> bool:
    """Whether a field of a partial Module holds nothing to check: ``None`` (filtered
    out by ``eqx.filter``, a gradient, an optimiser state) or a :class:`SharedNode`."""
    return value is None or isinstance(value, SharedNode)
