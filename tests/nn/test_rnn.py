"""GRUCell and LSTMCell: PyTorch parity (outputs and gradients w.r.t. inputs, state and
weights), use inside lax.scan, and shape-check messages."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import torch

import equinox_typed as eqx
import equinox_typed.nn as nn

from ._helpers import raises_check_error

KEY = jax.random.key(0)
INPUT, HIDDEN, BATCH = 3, 4, 5
TOL = {"rtol": 1e-5, "atol": 1e-5}


def _t(a: Any, grad: bool = False) -> torch.Tensor:
    return torch.tensor(np.asarray(a), requires_grad=grad)


def _inputs() -> tuple[jax.Array, jax.Array, jax.Array, jax.Array]:
    keys = jax.random.split(jax.random.key(1), 4)
    x = jax.random.normal(keys[0], (BATCH, INPUT))
    h = jax.random.normal(keys[1], (BATCH, HIDDEN))
    c = jax.random.normal(keys[2], (BATCH, HIDDEN))
    cotangent = jax.random.normal(keys[3], (BATCH, HIDDEN))
    return x, h, c, cotangent


def test_gru_matches_torch() -> None:
    cell = nn.GRUCell(INPUT, HIDDEN, key=KEY)
    x, h, _, cotangent = _inputs()
    # PyTorch keeps two biases; ours sums them where they are only added together.
    torch_cell = torch.nn.GRUCell(INPUT, HIDDEN)
    b_hh = np.asarray(torch_cell.bias_hh.detach())
    with torch.no_grad():
        torch_cell.weight_ih.copy_(_t(cell.weight_ih))
        torch_cell.weight_hh.copy_(_t(cell.weight_hh))
    assert cell.bias is not None and cell.bias_n is not None
    b_ih = np.asarray(cell.bias) - np.concatenate([b_hh[: 2 * HIDDEN], np.zeros(HIDDEN, np.float32)])
    cell = eqx.tree_at(lambda m: m.bias_n, cell, jnp.asarray(b_hh[2 * HIDDEN :]))
    with torch.no_grad():
        torch_cell.bias_ih.copy_(_t(b_ih))

    def loss(cell: nn.GRUCell, x: jax.Array, h: jax.Array) -> jax.Array:
        return jnp.sum(jax.vmap(cell)(x, h) * cotangent)

    out = jax.vmap(cell)(x, h)
    grad_cell, grad_x, grad_h = jax.jit(jax.grad(loss, argnums=(0, 1, 2)))(cell, x, h)

    tx, th = _t(x, True), _t(h, True)
    tout = torch_cell(tx, th)
    (tout * _t(cotangent)).sum().backward()
    np.testing.assert_allclose(out, tout.detach().numpy(), **TOL)
    np.testing.assert_allclose(grad_x, tx.grad.numpy(), **TOL)
    np.testing.assert_allclose(grad_h, th.grad.numpy(), **TOL)
    np.testing.assert_allclose(grad_cell.weight_ih, torch_cell.weight_ih.grad.numpy(), **TOL)
    np.testing.assert_allclose(grad_cell.weight_hh, torch_cell.weight_hh.grad.numpy(), **TOL)
    np.testing.assert_allclose(grad_cell.bias_n, torch_cell.bias_hh.grad.numpy()[2 * HIDDEN :], **TOL)
    # Our `bias` feeds the r/z gates as both of PyTorch's biases do, and the input side
    # of the candidate as bias_ih does.
    np.testing.assert_allclose(grad_cell.bias, torch_cell.bias_ih.grad.numpy(), **TOL)


def test_lstm_matches_torch() -> None:
    cell = nn.LSTMCell(INPUT, HIDDEN, key=KEY)
    x, h, c, cotangent = _inputs()
    torch_cell = torch.nn.LSTMCell(INPUT, HIDDEN)
    assert cell.bias is not None
    with torch.no_grad():
        torch_cell.weight_ih.copy_(_t(cell.weight_ih))
        torch_cell.weight_hh.copy_(_t(cell.weight_hh))
        torch_cell.bias_ih.copy_(_t(cell.bias) - torch_cell.bias_hh)

    def run(cell: nn.LSTMCell, x: jax.Array, h: jax.Array, c: jax.Array) -> Any:
        return jax.vmap(cell)(x, (h, c))

    def loss(cell: nn.LSTMCell, x: jax.Array, h: jax.Array, c: jax.Array) -> jax.Array:
        h2, c2 = run(cell, x, h, c)
        return jnp.sum(h2 * cotangent) + jnp.sum(c2 * cotangent**2)

    h2, c2 = run(cell, x, h, c)
    grad_cell, grad_x, grad_h, grad_c = jax.jit(jax.grad(loss, argnums=(0, 1, 2, 3)))(cell, x, h, c)

    tx, th, tc = _t(x, True), _t(h, True), _t(c, True)
    th2, tc2 = torch_cell(tx, (th, tc))
    ((th2 * _t(cotangent)).sum() + (tc2 * _t(cotangent) ** 2).sum()).backward()
    np.testing.assert_allclose(h2, th2.detach().numpy(), **TOL)
    np.testing.assert_allclose(c2, tc2.detach().numpy(), **TOL)
    for ours, theirs in [(grad_x, tx), (grad_h, th), (grad_c, tc)]:
        np.testing.assert_allclose(ours, theirs.grad.numpy(), **TOL)
    np.testing.assert_allclose(grad_cell.weight_ih, torch_cell.weight_ih.grad.numpy(), **TOL)
    np.testing.assert_allclose(grad_cell.weight_hh, torch_cell.weight_hh.grad.numpy(), **TOL)
    np.testing.assert_allclose(grad_cell.bias, torch_cell.bias_ih.grad.numpy(), **TOL)


@pytest.mark.parametrize("cls", [nn.GRUCell, nn.LSTMCell])
def test_cells_initialise_like_torch_and_drop_biases(cls: Any) -> None:
    cell = cls(INPUT, 64, key=KEY)
    lim = 1 / np.sqrt(64)
    gates = 3 if cls is nn.GRUCell else 4
    assert cell.weight_ih.shape == (gates * 64, INPUT)
    assert cell.weight_hh.shape == (gates * 64, 64)
    assert np.abs(cell.weight_hh).max() <= lim
    assert np.abs(cell.weight_hh).max() > 0.95 * lim
    no_bias = cls(INPUT, HIDDEN, use_bias=False, key=KEY)
    assert no_bias.bias is None
    x, h, c, _ = _inputs()
    state = h[0] if cls is nn.GRUCell else (h[0], c[0])
    no_bias(x[0], state)  # runs without biases


def test_lstm_in_scan_matches_python_loop() -> None:
    cell = nn.LSTMCell(INPUT, HIDDEN, key=KEY)
    xs = jax.random.normal(jax.random.key(3), (6, INPUT))
    state = (jnp.zeros(HIDDEN), jnp.zeros(HIDDEN))

    def step(state: Any, x: jax.Array) -> Any:
        state = cell(x, state)
        return state, state[0]

    _, hs = jax.lax.scan(step, state, xs)
    loop_hs = []
    for x in xs:
        state = cell(x, state)
        loop_hs.append(state[0])
    np.testing.assert_allclose(hs, jnp.stack(loop_hs), rtol=1e-5, atol=1e-6)


def test_lstm_hidden_state_of_wrong_size(typechecker: str) -> None:
    cell = nn.LSTMCell(INPUT, HIDDEN, key=KEY)
    with raises_check_error(
        "LSTMCell.__call__",
        "argument `hidden[1]`",
        "Inexact[Array, 'hidden_size']",
        "f32[5]",
        "hidden_size=4",
        "input_size=3",
    ):
        cell(jnp.ones(INPUT), (jnp.zeros(HIDDEN), jnp.zeros(HIDDEN + 1)))


def test_gru_input_of_wrong_size(typechecker: str) -> None:
    cell = nn.GRUCell(INPUT, HIDDEN, key=KEY)
    with pytest.raises(
        eqx.TypeCheckError, match=r"(?s)GRUCell.__call__: argument `input`.*'input_size'.*f32\[2\].*input_size=3"
    ):
        cell(jnp.ones(2), jnp.zeros(HIDDEN))


def test_gru_weight_of_wrong_shape_caught_at_construction_check(typechecker: str) -> None:
    from equinox_typed._module import check_module

    cell = nn.GRUCell(INPUT, HIDDEN, key=KEY)
    bad = eqx.tree_at(lambda m: m.weight_hh, cell, jnp.ones((3 * HIDDEN, HIDDEN + 1)))
    with raises_check_error("GRUCell", ".weight_hh", "3*hidden_size hidden_size", "f32[12,5]"):
        check_module(bad)
