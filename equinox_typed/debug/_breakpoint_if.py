"""``breakpoint_if``: a debugger breakpoint, inside compiled code, taken only when needed."""

from __future__ import annotations

from typing import Any

from jax import lax

from .._errors import any_over_batch
from .._jax_typed import asarray, cond, debug_breakpoint

__all__ = ["breakpoint_if"]


def breakpoint_if(pred: Any, **kwargs: Any) -> Any:
    """``jax.debug.breakpoint(**kwargs)``, taken only where ``pred`` is true; works
    inside ``jit``, ``vmap``, ``grad``...

    **Arguments:**

    - ``pred``: a boolean (array). The breakpoint triggers if any element is ``True``,
      under ``vmap`` if it is for any batch element (JAX's breakpoint then stops once
      per batch element, each showing that element's values).
    - ``**kwargs``: passed on to ``jax.debug.breakpoint`` (``backend``, ``num_frames``,
      ``token``, ...).

    **Returns:** what ``jax.debug.breakpoint`` returns: ``token`` when one is given
    (on both branches), else ``None``.

    ```python
    @jax.jit
    def f(x):
        y = jnp.log(x)
        eqx.debug.breakpoint_if(jnp.isnan(y).any())
        return y
    ```
    """
    # Reduced over vmap axes too, so that the condition stays a real branch: a batched
    # predicate would turn `cond` into a select that runs both sides.
    hit = any_over_batch(lax.stop_gradient(asarray(pred, dtype=bool)))
    token = kwargs.get("token")

    def stop() -> Any:
        return debug_breakpoint(**kwargs)

    def carry_on() -> Any:
        return token

    return cond(hit, stop, carry_on)
