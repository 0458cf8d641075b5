"""``MLP``: a stack of ``Linear`` layers with an activation between them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import jax
import jax.random as jr
from jaxtyping import Array, Inexact, Num, PRNGKeyArray

from .._checking import TypeCheckError, get_checks
from .._module import Module, field
from .._call_checks import checked_call
from ._linear import Linear

__all__ = ["MLP"]


def _identity(x: Any) -> Any:
    return x


def _relu(x: Any) -> Any:
    # A module-level function rather than jax.nn.relu itself, which pickle cannot find
    # by name, so that MLPs with the default activation pickle.
    return jax.nn.relu(x)


class MLP(Module, strict=True):
    """A multi-layer perceptron: ``depth`` hidden layers of ``width_size`` units.

    **Arguments:**

    - ``in_size``: the input size, or ``"scalar"`` for inputs of shape ``()``.
    - ``out_size``: the output size, or ``"scalar"`` for outputs of shape ``()``.
    - ``width_size``: the size of each hidden layer.
    - ``depth``: the number of hidden layers (``depth + 1`` ``Linear`` layers in all;
      ``depth=0`` is a single ``Linear``).
    - ``activation``: applied after every layer but the last (default ReLU).
    - ``final_activation``: applied after the last layer (default identity).
    - ``use_bias``: whether the hidden layers have biases.
    - ``use_final_bias``: whether the last layer has a bias.
    - ``dtype``: the parameters' dtype (default float32, or float64 in x64 mode).
    - ``key``: a PRNG key for the initialisation (keyword-only).

    ```python
    mlp = eqx.nn.MLP(2, "scalar", width_size=32, depth=2, key=jax.random.key(0))
    mlp(jnp.array([0.5, -1.0]))   # shape ()
    ```
    """

    layers: tuple[Linear, ...]
    activation: Callable[..., Any]
    final_activation: Callable[..., Any]
    use_bias: bool = field(static=True)
    use_final_bias: bool = field(static=True)
    in_size: int | Literal["scalar"] = field(static=True)
    out_size: int | Literal["scalar"] = field(static=True)
    width_size: int = field(static=True)
    depth: int = field(static=True)

    def __init__(
        self,
        in_size: int | Literal["scalar"],
        out_size: int | Literal["scalar"],
        width_size: int,
        depth: int,
        activation: Callable[..., Any] = _relu,
        final_activation: Callable[..., Any] = _identity,
        use_bias: bool = True,
        use_final_bias: bool = True,
        dtype: Any = None,
        *,
        key: PRNGKeyArray,
    ) -> None:
        keys = jr.split(key, depth + 1)
        sizes: list[int | Literal["scalar"]] = [in_size, *([width_size] * depth), out_size]
        self.layers = tuple(
            Linear(
                sizes[i],
                sizes[i + 1],
                use_bias=use_bias if i < depth else use_final_bias,
                dtype=dtype,
                key=keys[i],
            )
            for i in range(depth + 1)
        )
        self.activation = activation
        self.final_activation = final_activation
        self.use_bias = use_bias
        self.use_final_bias = use_final_bias
        self.in_size = in_size
        self.out_size = out_size
        self.width_size = width_size
        self.depth = depth

    def __check_init__(self) -> None:
        self.check_layer_chain()

    def check_layer_chain(self) -> None:
        """Raise :class:`~equinox_typed.TypeCheckError` unless the layers fit together:
        ``depth + 1`` of them, the first taking ``in_size``, each taking what the one
        before gives, and the last giving ``out_size``.

        Also run by every call (unless checks are ``"off"``), where it costs a few
        integer comparisons at trace time and nothing in the compiled program: this
        catches a layer swapped in with ``eqx.tree_at`` by a wrongly sized one.
        """
        if len(self.layers) != self.depth + 1:
            raise TypeCheckError(
                f"MLP: field `.layers` holds {len(self.layers)} layers, but depth="
                f"{self.depth} needs {self.depth + 1}"
            )
        expected_in: int | str = self.in_size
        source = "in_size"
        for i, layer in enumerate(self.layers):
            if layer.in_features != expected_in:
                raise TypeCheckError(
                    f"MLP: field `.layers[{i}]` does not fit the layer before it.\n"
                    f"  expected: Linear with in_features={expected_in!r} ({source})\n"
                    f"  got:      Linear with in_features={layer.in_features!r}, "
                    f"out_features={layer.out_features!r}"
                )
            expected_in = layer.out_features
            source = f"the out_features of .layers[{i}]"
        if expected_in != self.out_size:
            raise TypeCheckError(
                f"MLP: field `.layers[{self.depth}]` does not give out_size.\n"
                f"  expected: Linear with out_features={self.out_size!r} (out_size)\n"
                f"  got:      Linear with out_features={expected_in!r}"
            )

    @checked_call
    def __call__(
        self, x: Num[Array, "*in_size"], *, key: PRNGKeyArray | None = None
    ) -> Inexact[Array, "*out_size"]:
        """**Arguments:**

        - ``x``: shape ``(in_size,)``, or ``()`` when ``in_size="scalar"``.
        - ``key``: ignored.

        **Returns:** shape ``(out_size,)``, or ``()`` when ``out_size="scalar"``.
        """
        if get_checks() != "off":
            self.check_layer_chain()
        for layer in self.layers[:-1]:
            x = self.activation(layer(x))
        y: Array = self.final_activation(self.layers[-1](x))
        return y
