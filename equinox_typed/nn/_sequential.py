"""``Sequential``: a chain of layers, threading a State through the stateful ones."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, Generic, TypeVar, overload

import jax.random as jr
from jaxtyping import PRNGKeyArray

from ._stateful import NO_STATE, State, StatefulLayer

__all__ = ["Sequential"]

# The layers' type, for static checkers (see the stubs); generic at run time too, so that
# an annotation such as `Sequential[Linear]` evaluates.
_Layer = TypeVar("_Layer")



def _is_stateful(layer: Any) -> bool:
    return isinstance(layer, StatefulLayer) and layer.is_stateful()


class Sequential(StatefulLayer, Generic[_Layer], strict=True):
    """Call layers one after another: ``layers[-1](...layers[1](layers[0](x)))``.

    **Arguments:**

    - ``layers``: the layers, each called as ``layer(x, key=key)``; stateful layers
      (:class:`~equinox_typed.nn.StatefulLayer`, e.g. BatchNorm) are called as
      ``layer(x, state, key=key)`` and return ``(x, state)``. Wrap plain functions in
      :class:`~equinox_typed.nn.Lambda`.

    Calling with a ``key`` splits it into one key per layer. Calling with a ``state``
    returns ``(output, state)``; without one, just the output.

    ```python
    mlp = eqx.nn.Sequential([
        eqx.nn.Linear(2, 8, key=k1),
        eqx.nn.Lambda(jax.nn.relu),
        eqx.nn.Linear(8, 1, key=k2),
    ])
    y = mlp(x)
    head = mlp[1:]     # a Sequential of the last two layers
    ```
    """

    layers: tuple[Callable[..., Any], ...]

    def __init__(self, layers: Sequence[Callable[..., Any]]) -> None:
        self.layers = tuple(layers)

    def __call__(
        self, x: Any, state: State = NO_STATE, *, key: PRNGKeyArray | None = None
    ) -> Any:
        """**Arguments:**

        - ``x``: the input of the first layer.
        - ``state``: the model's :class:`~equinox_typed.nn.State`; required when some
          layer is stateful.
        - ``key``: optional PRNG key, split between the layers (e.g. for Dropout).

        **Returns:** the last layer's output, or ``(output, state)`` if ``state`` was
        given.
        """
        keys: Sequence[PRNGKeyArray | None]
        if key is None:
            keys = [None] * len(self.layers)
        else:
            keys = list(jr.split(key, len(self.layers)))
        for i, (layer, layer_key) in enumerate(zip(self.layers, keys, strict=True)):
            if _is_stateful(layer):
                if state is NO_STATE:
                    raise ValueError(
                        f"Sequential: layer {i} ({type(layer).__name__}) is stateful; "
                        f"call as `y, state = model(x, state)`"
                    )
                x, state = layer(x, state=state, key=layer_key)
            else:
                x = layer(x, key=layer_key)
        return x if state is NO_STATE else (x, state)

    def is_stateful(self) -> bool:
        """True when some layer is stateful (so a State must be passed)."""
        return any(map(_is_stateful, self.layers))

    @overload
    def __getitem__(self, i: int) -> Callable[..., Any]: ...

    @overload
    def __getitem__(self, i: slice) -> Sequential[Any]: ...

    def __getitem__(self, i: int | slice) -> Callable[..., Any] | Sequential[Any]:
        if isinstance(i, slice):
            return Sequential(self.layers[i])
        return self.layers[i]

    def __iter__(self) -> Iterator[Callable[..., Any]]:
        return iter(self.layers)

    def __len__(self) -> int:
        return len(self.layers)

