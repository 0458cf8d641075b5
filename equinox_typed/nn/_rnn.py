"""Recurrent cells: ``GRUCell`` and ``LSTMCell`` (one time step each)."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Inexact, Num, PRNGKeyArray

from .._module import Module, field
from .._call_checks import checked_call
from ._init import fan_in_limit, resolve_dtype, uniform_init
from ._sizes import check_size

__all__ = ["GRUCell", "LSTMCell"]



def _check_cell_sizes(cell: object, input_size: int, hidden_size: int) -> None:
    owner = type(cell).__qualname__
    check_size(owner, "input_size", input_size)
    check_size(owner, "hidden_size", hidden_size)

class GRUCell(Module, strict=True):
    """One step of a gated recurrent unit, with PyTorch's ``nn.GRUCell`` equations.

    With gates ``r`` (reset), ``z`` (update) and candidate ``n``::

        r = sigmoid(W_ir x + W_hr h + b_r)
        z = sigmoid(W_iz x + W_hz h + b_z)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        h' = (1 - z) * n + z * h

    ``bias`` holds ``b_r, b_z, b_in`` (PyTorch's two biases summed where they are only
    ever added together) and ``bias_n`` holds ``b_hn``.

    **Arguments:**

    - ``input_size``, ``hidden_size``: the sizes of the input and the hidden state.
    - ``use_bias``: whether to use biases.
    - ``dtype``: the parameters' dtype (default float32, or float64 in x64 mode).
    - ``key``: a PRNG key for the initialisation (keyword-only); every parameter is
      uniform on ``[-1/sqrt(hidden_size), 1/sqrt(hidden_size))``.

    ```python
    cell = eqx.nn.GRUCell(3, 5, key=jax.random.key(0))
    h = jnp.zeros(5)
    for x in xs:             # or jax.lax.scan
        h = cell(x, h)
    ```
    """

    weight_ih: Inexact[Array, "3*hidden_size input_size"]
    weight_hh: Inexact[Array, "3*hidden_size hidden_size"]
    bias: Inexact[Array, " 3*hidden_size"] | None
    bias_n: Inexact[Array, " hidden_size"] | None
    input_size: int = field(static=True)
    hidden_size: int = field(static=True)
    use_bias: bool = field(static=True)

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        use_bias: bool = True,
        dtype: Any = None,
        *,
        key: PRNGKeyArray,
    ) -> None:
        _check_cell_sizes(self, input_size, hidden_size)
        dtype = resolve_dtype(dtype)
        ikey, hkey, bkey, nkey = jr.split(key, 4)
        lim = fan_in_limit(hidden_size)
        self.weight_ih = uniform_init(ikey, (3 * hidden_size, input_size), dtype, lim)
        self.weight_hh = uniform_init(hkey, (3 * hidden_size, hidden_size), dtype, lim)
        if use_bias:
            self.bias = uniform_init(bkey, (3 * hidden_size,), dtype, lim)
            self.bias_n = uniform_init(nkey, (hidden_size,), dtype, lim)
        else:
            self.bias = self.bias_n = None
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.use_bias = use_bias

    @checked_call
    def __call__(
        self,
        input: Num[Array, " input_size"],
        hidden: Inexact[Array, " hidden_size"],
        *,
        key: PRNGKeyArray | None = None,
    ) -> Inexact[Array, " hidden_size"]:
        """**Arguments:** ``input`` (``(input_size,)``), the previous ``hidden`` state
        (``(hidden_size,)``); ``key`` is ignored. **Returns:** the next hidden state."""
        n = self.hidden_size
        from_input = self.weight_ih @ input
        if self.bias is not None:
            from_input = from_input + self.bias
        from_hidden = self.weight_hh @ hidden
        rz = jax.nn.sigmoid(from_input[: 2 * n] + from_hidden[: 2 * n])
        r, z = rz[:n], rz[n:]
        candidate_hidden = from_hidden[2 * n :]
        if self.bias_n is not None:
            candidate_hidden = candidate_hidden + self.bias_n
        candidate = jnp.tanh(from_input[2 * n :] + r * candidate_hidden)
        return (1 - z) * candidate + z * hidden


class LSTMCell(Module, strict=True):
    """One step of a long short-term memory cell, with PyTorch's ``nn.LSTMCell``
    equations (gates in PyTorch's order: input, forget, cell, output)::

        i, f, g, o = split(W_ih x + W_hh h + b, 4)
        c' = sigmoid(f) * c + sigmoid(i) * tanh(g)
        h' = sigmoid(o) * tanh(c')

    ``bias`` is PyTorch's ``bias_ih + bias_hh`` (they are only ever added together).

    **Arguments:**

    - ``input_size``, ``hidden_size``: the sizes of the input and the hidden state.
    - ``use_bias``: whether to use a bias.
    - ``dtype``: the parameters' dtype (default float32, or float64 in x64 mode).
    - ``key``: a PRNG key for the initialisation (keyword-only); every parameter is
      uniform on ``[-1/sqrt(hidden_size), 1/sqrt(hidden_size))``.

    ```python
    cell = eqx.nn.LSTMCell(3, 5, key=jax.random.key(0))
    h, c = cell(x, (jnp.zeros(5), jnp.zeros(5)))
    ```
    """

    weight_ih: Inexact[Array, "4*hidden_size input_size"]
    weight_hh: Inexact[Array, "4*hidden_size hidden_size"]
    bias: Inexact[Array, " 4*hidden_size"] | None
    input_size: int = field(static=True)
    hidden_size: int = field(static=True)
    use_bias: bool = field(static=True)

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        use_bias: bool = True,
        dtype: Any = None,
        *,
        key: PRNGKeyArray,
    ) -> None:
        _check_cell_sizes(self, input_size, hidden_size)
        dtype = resolve_dtype(dtype)
        ikey, hkey, bkey = jr.split(key, 3)
        lim = fan_in_limit(hidden_size)
        self.weight_ih = uniform_init(ikey, (4 * hidden_size, input_size), dtype, lim)
        self.weight_hh = uniform_init(hkey, (4 * hidden_size, hidden_size), dtype, lim)
        self.bias = uniform_init(bkey, (4 * hidden_size,), dtype, lim) if use_bias else None
        self.input_size = input_size
        self.hidden_size = hidden_size
        self.use_bias = use_bias

    @checked_call
    def __call__(
        self,
        input: Num[Array, " input_size"],
        hidden: tuple[Inexact[Array, " hidden_size"], Inexact[Array, " hidden_size"]],
        *,
        key: PRNGKeyArray | None = None,
    ) -> tuple[Inexact[Array, " hidden_size"], Inexact[Array, " hidden_size"]]:
        """**Arguments:** ``input`` (``(input_size,)``) and the previous state ``(h, c)``,
        each ``(hidden_size,)``; ``key`` is ignored. **Returns:** the next ``(h, c)``."""
        h, c = hidden
        n = self.hidden_size
        gates = self.weight_ih @ input + self.weight_hh @ h
        if self.bias is not None:
            gates = gates + self.bias
        i = jax.nn.sigmoid(gates[:n])
        f = jax.nn.sigmoid(gates[n : 2 * n])
        g = jnp.tanh(gates[2 * n : 3 * n])
        o = jax.nn.sigmoid(gates[3 * n :])
        c = f * c + i * g
        return o * jnp.tanh(c), c
