"""``MLP``: a stack of ``Linear`` layers with an activation between them."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, Literal

import jax
import jax.numpy as jnp
import jax.random as jr
import jax.tree_util as jtu
from jaxtyping import Array, Inexact, Num, PRNGKeyArray

from .._call_checks import checked_call
from .._checking import TypeCheckError, get_checks, report
from .._filters import combine, is_array, partition
from .._module import Module, field
from .._vmap_pmap import filter_vmap
from ._linear import Linear
from ._sizes import check_size

__all__ = ["MLP"]

# Some jax.numpy signatures are partially unknown to pyright strict: called through
# `Any` (results are annotated where they are used).
_jnp: Any = jnp


def _identity(x: Any) -> Any:
    return x


def _relu(x: Any) -> Any:
    # A module-level function rather than jax.nn.relu itself, which pickle cannot find
    # by name, so that MLPs with the default activation pickle.
    return jax.nn.relu(x)


def _per_neuron(activation: Callable[..., Any], *sizes: int) -> Callable[..., Any]:
    """``activation`` with one copy of its arrays per neuron (leading axes ``sizes``):
    a learnt activation (``PReLU``) learns one slope per layer and neuron. A plain
    function has no arrays and is returned as is."""
    if not any(map(is_array, jtu.tree_leaves(activation))):
        return activation  # nothing to copy: skip tracing a vmap on every construction
    for size in reversed(sizes):
        activation = filter_vmap(functools.partial(_same, activation), axis_size=size)()
    return activation


def _same(value: Any) -> Any:
    return value


def _copy_at(activation: Callable[..., Any], i: Any) -> Callable[..., Any]:
    """Copy ``i`` (an int, or a traced index inside a scan) of a per-layer activation."""
    def at_i(a: Any) -> Any:
        return a[i] if is_array(a) else a

    copy: Callable[..., Any] = jtu.tree_map(at_i, activation)
    return copy


def _elementwise(activation: Callable[..., Any], x: Array) -> Array:
    """``activation`` applied neuron by neuron, each neuron with its own copy of the
    activation's arrays (leading axis of the arrays and of ``x``)."""
    arrays, static = partition(activation, is_array)

    def one(arrays_i: Any, x_i: Array) -> Array:
        out: Array = combine(arrays_i, static)(x_i)
        return out

    result: Array = jax.vmap(one)(arrays, x)
    return result


class MLP(Module, strict=True):
    """A multi-layer perceptron: ``depth`` hidden layers of ``width_size`` units.

    **Arguments:**

    - ``in_size``: the input size, or ``"scalar"`` for inputs of shape ``()``.
    - ``out_size``: the output size, or ``"scalar"`` for outputs of shape ``()``.
    - ``width_size``: the size of each hidden layer.
    - ``depth``: the number of hidden layers (``depth + 1`` ``Linear`` layers in all;
      ``depth=0`` is a single ``Linear``).
    - ``activation``: applied elementwise after every layer but the last (default
      ReLU). A learnt activation (e.g. ``PReLU``) gets its own parameters for every
      hidden layer and neuron: its arrays gain leading axes ``(depth, width_size)``.
    - ``final_activation``: applied elementwise after the last layer (default
      identity); learnt ones get one copy per output (none when ``out_size`` is
      ``"scalar"``).
    - ``use_bias``: whether the hidden layers have biases.
    - ``use_final_bias``: whether the last layer has a bias.
    - ``dtype``: the parameters' dtype (default float32, or float64 in x64 mode).
    - ``scan``: store the ``depth - 1`` identical hidden-to-hidden layers as one
      stacked ``Linear`` (its arrays have a leading axis of that length; ``layers``
      is then ``(first, stacked, last)``) applied with ``jax.lax.scan``: the same
      outputs, and compile time that no longer grows with ``depth``.
    - ``key``: a PRNG key for the initialisation (keyword-only).

    ```python
    mlp = eqx.nn.MLP(2, "scalar", width_size=32, depth=2, key=jax.random.key(0))
    mlp(jnp.array([0.5, -1.0]))   # shape ()
    deep = eqx.nn.MLP(2, 2, width_size=32, depth=64, scan=True, key=jax.random.key(0))
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
    scan: bool = field(static=True, default=False)

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
        scan: bool = False,
        key: PRNGKeyArray,
    ) -> None:
        check_size("MLP", "in_size", in_size, scalar=True)
        check_size("MLP", "out_size", out_size, scalar=True)
        check_size("MLP", "width_size", width_size)
        check_size("MLP", "depth", depth)
        keys = jr.split(key, depth + 1)

        def linear(i: int, n_in: int | Literal["scalar"], n_out: int | Literal["scalar"], k: Any) -> Linear:
            bias = use_bias if i < depth else use_final_bias
            return Linear(n_in, n_out, use_bias=bias, dtype=dtype, key=k)

        if depth == 0:
            self.layers = (linear(0, in_size, out_size, keys[0]),)
        else:
            hidden_keys = keys[1:depth]
            hidden: tuple[Linear, ...]
            if scan:  # one Linear whose arrays are stacked along a leading axis
                hidden = (jax.vmap(functools.partial(linear, 1, width_size, width_size))(hidden_keys),)
            else:
                hidden = tuple(linear(1, width_size, width_size, k) for k in hidden_keys)
            first = linear(0, in_size, width_size, keys[0])
            last = linear(depth, width_size, out_size, keys[depth])
            self.layers = (first, *hidden, last)
        self.activation = _per_neuron(activation, depth, width_size)
        self.final_activation = (
            final_activation if out_size == "scalar" else _per_neuron(final_activation, out_size)
        )
        self.use_bias = use_bias
        self.use_final_bias = use_final_bias
        self.in_size = in_size
        self.out_size = out_size
        self.width_size = width_size
        self.depth = depth
        self.scan = scan

    def __check_init__(self) -> None:
        if get_checks() != "off":
            self.check_layer_chain()

    def _chain(self) -> list[tuple[str, Linear]]:
        """Each layer with its label in errors; the stacked layer of a scanned MLP
        stands for ``depth - 1`` hidden layers."""
        if self.scan and self.depth > 0:
            return [
                (f".layers[{i}]" + (" (stacked)" if i == 1 else ""), layer)
                for i, layer in enumerate(self.layers)
            ]
        return [(f".layers[{i}]", layer) for i, layer in enumerate(self.layers)]

    def check_layer_chain(self) -> None:
        """Raise :class:`~equinox_typed.TypeCheckError` unless the layers fit together:
        ``depth + 1`` of them (with ``scan=True``: first, one stack of ``depth - 1``,
        last), the first taking ``in_size``, each taking what the one before gives,
        and the last giving ``out_size``. In checking mode ``"warn"`` the error is
        issued as a :class:`~equinox_typed.TypeCheckWarning` instead.

        Run at construction and by every call (unless checks are ``"off"``), where it
        costs a few integer comparisons at trace time and nothing in the compiled
        program: this catches a layer swapped in with ``eqx.tree_at`` by a wrongly
        sized one.
        """
        error = self._layer_chain_error()
        if error is not None:
            report(error)

    def _layer_chain_error(self) -> TypeCheckError | None:
        """The first way in which the layers do not fit together, if any."""
        stacked = self.scan and self.depth > 0
        wanted = 3 if stacked else self.depth + 1
        if len(self.layers) != wanted:
            how = " (scan=True: first, stacked hidden, last)" if stacked else ""
            return TypeCheckError(
                f"MLP: field `.layers` holds {len(self.layers)} layers, but depth="
                f"{self.depth} needs {wanted}{how}"
            )
        if stacked:
            error = self._stack_error(self.layers[1])
            if error is not None:
                return error
        expected_in: int | str = self.in_size
        source = "in_size"
        for label, layer in self._chain():
            if layer.in_features != expected_in:
                return TypeCheckError(
                    f"MLP: field `{label}` does not fit the layer before it.\n"
                    f"  expected: Linear with in_features={expected_in!r} ({source})\n"
                    f"  got:      Linear with in_features={layer.in_features!r}, "
                    f"out_features={layer.out_features!r}"
                )
            expected_in = layer.out_features
            source = f"the out_features of {label}"
        if expected_in != self.out_size:
            return TypeCheckError(
                f"MLP: field `.layers[{len(self.layers) - 1}]` does not give out_size.\n"
                f"  expected: Linear with out_features={self.out_size!r} (out_size)\n"
                f"  got:      Linear with out_features={expected_in!r}"
            )
        return None

    def _stack_error(self, stack: Linear) -> TypeCheckError | None:
        """The stacked hidden layer holds ``depth - 1`` layers: its weight has that
        leading axis (``None`` fields, in partial Modules, are not read)."""
        weight: Any = stack.weight
        if not hasattr(weight, "shape"):
            return None
        if weight.ndim != 3 or weight.shape[0] != self.depth - 1:
            return TypeCheckError(
                f"MLP: field `.layers[1].weight` (the stacked hidden layers of a scan=True "
                f"MLP) should have shape ({self.depth - 1}, out_features, in_features) "
                f"for depth={self.depth}, got {tuple(weight.shape)}"
            )
        return None

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
        if self.depth > 0:
            x = _elementwise(_copy_at(self.activation, 0), self.layers[0](x))
            if self.scan:
                x = self._scan_hidden(x)
            else:
                for i, layer in enumerate(self.layers[1:-1], start=1):
                    x = _elementwise(_copy_at(self.activation, i), layer(x))
        y: Array = self.layers[-1](x)
        if self.out_size == "scalar":
            out: Array = self.final_activation(y)
            return out
        return _elementwise(self.final_activation, y)

    def _scan_hidden(self, x: Array) -> Array:
        """The stacked hidden layers, one ``jax.lax.scan`` step each."""

        def step(h: Array, layer_and_index: tuple[Linear, Array]) -> tuple[Array, None]:
            layer, i = layer_and_index
            return _elementwise(_copy_at(self.activation, i), layer(h)), None

        indices = _jnp.arange(1, self.depth)
        out, _ = jax.lax.scan(step, x, (self.layers[1], indices))
        return out
