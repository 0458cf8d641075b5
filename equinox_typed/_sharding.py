"""``filter_shard``: place the arrays of a PyTree on a device or sharding."""

from __future__ import annotations

import functools
from typing import Any, TypeVar, cast

import jax
import jax.tree_util as jtu
from jax.core import Tracer
from jax.sharding import SingleDeviceSharding

from ._filters import is_array
from ._jax_typed import Device, device_put, with_sharding_constraint

__all__ = ["filter_shard"]

_T = TypeVar("_T")



def _is_spec(x: Any) -> bool:
    return x is None or isinstance(x, (jax.sharding.Sharding, Device))


def _place(x: Any, sharding: Any) -> Any:
    if sharding is None or not is_array(x):
        return x
    if isinstance(sharding, Device):
        sharding = SingleDeviceSharding(sharding)
    if isinstance(x, Tracer):
        # Inside a trace a placement is a constraint for the compiler.
        return with_sharding_constraint(x, sharding)
    return device_put(x, sharding)


def filter_shard(x: _T, device_or_shardings: Any) -> _T:
    """Put the arrays of ``x`` on a device or sharding; leave every other leaf alone.

    Outside ``jit`` this moves the data (``jax.device_put``); inside it constrains how
    the traced values are laid out (``jax.lax.with_sharding_constraint``).

    **Arguments:**

    - ``x``: any PyTree.
    - ``device_or_shardings``: a ``jax.Device``, a ``jax.sharding.Sharding``, or a
      PyTree of those that is a prefix of ``x`` (each applies to the whole subtree under
      it; ``None`` leaves a subtree as it is).

    **Returns:** ``x`` with its arrays placed accordingly.

    ```python
    mesh = jax.make_mesh((8,), ("batch",))
    batch = eqx.filter_shard(batch, NamedSharding(mesh, P("batch")))
    model = eqx.filter_shard(model, NamedSharding(mesh, P()))  # replicated
    ```
    """

    def _place_subtree(spec: Any, subtree: Any) -> Any:
        return jtu.tree_map(functools.partial(_place, sharding=spec), subtree)

    try:
        placed = jtu.tree_map(_place_subtree, device_or_shardings, x, is_leaf=_is_spec)
    except ValueError as e:
        raise ValueError(
            "filter_shard: device_or_shardings must be a device, a sharding, or a PyTree "
            f"of those that is a prefix of x: {e}"
        ) from None
    return cast(_T, placed)
