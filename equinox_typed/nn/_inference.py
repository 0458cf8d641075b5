"""``inference_mode``: switch every layer of a model between training and inference."""

from __future__ import annotations

from typing import Any, TypeVar

import jax.tree_util as jtu

from .._module import Module, module_fields

__all__ = ["inference_mode"]

_T = TypeVar("_T")


def _is_module(x: Any) -> bool:
    return isinstance(x, Module)


def _switch_all(tree: Any, value: bool) -> Any:
    """``tree`` with every Module in it switched by :func:`_switch`."""

    def switch(node: Any) -> Any:
        return _switch(node, value)

    return jtu.tree_map(switch, tree, is_leaf=_is_module)


def _switch(node: Any, value: bool) -> Any:
    """A copy of Module ``node`` (and of the Modules inside it) with ``inference=value``."""
    if not isinstance(node, Module):
        return node
    fields = {f.name: f for f in module_fields(node)}
    copy = object.__new__(type(node))
    for name, current in vars(node).items():
        f = fields.get(name)
        if name == "inference" and f is not None:
            new = value
        elif f is not None and not f.metadata.get("static", False):
            new = _switch_all(current, value)
        else:
            new = current
        # Rebuild without running __init__ (a copy, as jax's unflatten makes).
        object.__setattr__(copy, name, new)
    return copy


def inference_mode(pytree: _T, value: bool = True) -> _T:
    """A copy of ``pytree`` in which every layer's ``inference`` field is ``value``.

    **Arguments:**

    - ``pytree``: a model (any PyTree containing Modules).
    - ``value``: ``True`` for inference (Dropout off, BatchNorm using its running
      statistics, ...), ``False`` to return to training behaviour.

    Every Module with a field named ``inference`` is switched, however deeply nested
    and whether the field is static or not; nothing else changes.

    ```python
    eval_model = eqx.nn.inference_mode(model)
    train_model = eqx.nn.inference_mode(eval_model, value=False)
    ```
    """
    result: _T = _switch_all(pytree, value)
    return result
