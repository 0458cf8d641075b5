"""``Lambda``: wrap a function as a layer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from jaxtyping import PRNGKeyArray

from .._module import Module

__all__ = ["Lambda"]


class Lambda(Module, strict=True):
    """Wrap a one-argument function so it can sit among layers (e.g. in ``Sequential``).

    **Arguments:**

    - ``fn``: the function, called as ``fn(x)``. It is a field, not static: if it is
      itself a PyTree (a Module, an ``eqx.Partial``) its arrays are the layer's leaves.

    ```python
    act = eqx.nn.Lambda(jax.nn.gelu)
    act(jnp.array([-1.0, 1.0]))
    ```
    """

    fn: Callable[..., Any]

    def __call__(self, x: Any, *, key: PRNGKeyArray | None = None) -> Any:
        """Return ``fn(x)``; ``key`` is ignored."""
        return self.fn(x)
