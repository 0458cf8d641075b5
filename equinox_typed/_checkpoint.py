"""``filter_checkpoint``: gradient checkpointing (rematerialisation) for any PyTrees."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, overload

from ._ad import OutputStash, is_jax_value
from ._filters import combine, partition
from ._jax_typed import checkpoint
from ._module import Module, field
from ._tree import Partial

__all__ = ["filter_checkpoint"]

_sentinel: Any = object()



class _Checkpointed(Module):
    """A function whose intermediate values are recomputed, not stored, for the
    backward pass. A PyTree: arrays inside the wrapped callable are leaves."""

    fun: Callable[..., Any]
    prevent_cse: bool = field(static=True)
    policy: Callable[..., bool] | None = field(static=True)

    def __init__(
        self,
        fun: Callable[..., Any],
        prevent_cse: bool,
        policy: Callable[..., bool] | None,
    ) -> None:
        self.fun = fun
        self.prevent_cse = prevent_cse
        self.policy = policy

    @property
    def __wrapped__(self) -> Callable[..., Any]:
        return self.fun

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        dynamic, static = partition((self.fun, args, kwargs), is_jax_value)
        stash: OutputStash[Any] = OutputStash()

        def _arrays_only(d: Any) -> Any:
            fun, args_, kwargs_ = combine(d, static)
            return stash.split(fun(*args_, **kwargs_))

        remat = checkpoint(_arrays_only, prevent_cse=self.prevent_cse, policy=self.policy)
        out_arrays = remat(dynamic)
        return combine(out_arrays, stash.get())

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        # Used as a method decorator: bind the instance as the first argument, keeping
        # the result a PyTree (the Module's arrays stay visible to transformations).
        if instance is None:
            return self
        return Partial(_call, self, instance)


def _call(wrapper: _Checkpointed, *args: Any, **kwargs: Any) -> Any:
    return wrapper(*args, **kwargs)


@overload
def filter_checkpoint(
    *, prevent_cse: bool = True, policy: Callable[..., bool] | None = None
) -> Callable[[Callable[..., Any]], Callable[..., Any]]: ...


@overload
def filter_checkpoint(
    fun: Callable[..., Any],
    *,
    prevent_cse: bool = True,
    policy: Callable[..., bool] | None = None,
) -> Callable[..., Any]: ...


def filter_checkpoint(
    fun: Any = _sentinel,
    *,
    prevent_cse: bool = True,
    policy: Callable[..., bool] | None = None,
) -> Any:
    """Like ``jax.checkpoint``, for functions of arbitrary PyTrees.

    Arrays in the arguments (and in ``fun`` itself, if it is a PyTree) are traced;
    everything else is static. The output may be any PyTree. Under reverse-mode AD the
    intermediate values of ``fun`` are recomputed on the backward pass instead of
    stored.

    **Arguments:**

    - ``fun``: the function. Omit it to get a decorator with the options below.
    - ``prevent_cse``: stop XLA from merging the recomputation with the forward pass
      (as in ``jax.checkpoint``; usually keep ``True`` outside ``scan``).
    - ``policy``: which intermediates may be saved after all, e.g.
      ``jax.checkpoint_policies.dots_saveable``.

    ```python
    @eqx.filter_checkpoint(policy=jax.checkpoint_policies.nothing_saveable)
    def block(model, x):
        return model(x)
    ```
    """
    if fun is _sentinel:

        def decorator(f: Callable[..., Any]) -> Callable[..., Any]:
            return _Checkpointed(f, prevent_cse, policy)

        return decorator
    return _Checkpointed(fun, prevent_cse, policy)
