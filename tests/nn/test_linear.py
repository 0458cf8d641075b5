"""Linear and Identity: PyTorch parity (outputs and gradients), "scalar" sizes,
initialisation, and shape checks with their messages."""

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


def _torch_param(a: Any) -> torch.nn.Parameter:
    return torch.nn.Parameter(torch.tensor(np.asarray(a)))


@pytest.mark.parametrize("use_bias", [True, False])
def test_linear_matches_torch_outputs_and_gradients(use_bias: bool) -> None:
    linear = nn.Linear(5, 3, use_bias=use_bias, key=KEY)
    x = jax.random.normal(jax.random.key(1), (4, 5))
    cotangent = jax.random.normal(jax.random.key(2), (4, 3))

    def loss(layer: nn.Linear, x: jax.Array) -> jax.Array:
        return jnp.sum(jax.vmap(layer)(x) * cotangent)

    out = jax.vmap(linear)(x)
    grad_layer, grad_x = jax.jit(jax.grad(loss, argnums=(0, 1)))(linear, x)

    torch_linear = torch.nn.Linear(5, 3, bias=use_bias)
    torch_linear.weight = _torch_param(linear.weight)
    if use_bias:
        torch_linear.bias = _torch_param(linear.bias)
    tx = torch.tensor(np.asarray(x), requires_grad=True)
    tout = torch_linear(tx)
    (tout * torch.tensor(np.asarray(cotangent))).sum().backward()

    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(grad_x, tx.grad.numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(
        grad_layer.weight, torch_linear.weight.grad.numpy(), rtol=1e-5, atol=1e-5
    )
    if use_bias:
        np.testing.assert_allclose(
            grad_layer.bias, torch_linear.bias.grad.numpy(), rtol=1e-5, atol=1e-5
        )
    else:
        assert linear.bias is None


def test_linear_initialisation_is_pytorch_uniform() -> None:
    linear = nn.Linear(16, 400, key=KEY)
    lim = 1 / np.sqrt(16)
    assert linear.weight.shape == (400, 16) and linear.bias is not None
    assert linear.weight.dtype == jnp.float32
    for param in (linear.weight, linear.bias):
        assert np.abs(param).max() <= lim
        # Spread over the whole interval, not concentrated (as e.g. a normal would be).
        assert np.abs(param).max() > 0.95 * lim
    assert abs(float(jnp.mean(linear.weight))) < 0.02
    # Uniform on [-lim, lim] has variance lim**2 / 3.
    np.testing.assert_allclose(jnp.var(linear.weight), lim**2 / 3, rtol=0.1)


def test_linear_dtype_argument() -> None:
    linear = nn.Linear(3, 2, dtype=jnp.bfloat16, key=KEY)
    assert linear.weight.dtype == jnp.bfloat16 and linear.bias is not None
    assert linear.bias.dtype == jnp.bfloat16
    assert linear(jnp.ones(3, jnp.bfloat16)).dtype == jnp.bfloat16
    complex_linear = nn.Linear(3, 2, dtype=jnp.complex64, key=KEY)
    assert complex_linear.weight.dtype == jnp.complex64
    assert jnp.any(jnp.imag(complex_linear.weight) != 0)


@pytest.mark.parametrize(
    ("in_features", "out_features", "x_shape", "out_shape"),
    [("scalar", 3, (), (3,)), (3, "scalar", (3,), ()), ("scalar", "scalar", (), ())],
)
def test_linear_scalar_sizes(
    in_features: Any, out_features: Any, x_shape: tuple[int, ...], out_shape: tuple[int, ...]
) -> None:
    linear = nn.Linear(in_features, out_features, key=KEY)
    x = jax.random.normal(jax.random.key(1), x_shape)
    y = linear(x)
    assert y.shape == out_shape
    assert linear.bias is not None
    expected = linear.weight @ jnp.reshape(x, (-1,)) + linear.bias
    np.testing.assert_allclose(y, expected.reshape(out_shape), rtol=1e-6)


def test_linear_wrong_input_size_names_layer_argument_annotation_and_sizes(
    typechecker: str,
) -> None:
    linear = nn.Linear(3, 4, key=KEY)
    with raises_check_error(
        "Linear.__call__",
        "argument `x`",
        "Num[Array, '*in_features']",
        "f32[5]",
        "in_features=3",
        "out_features=4",
    ):
        linear(jnp.ones(5))


def test_linear_scalar_layer_refuses_a_vector(typechecker: str) -> None:
    linear = nn.Linear("scalar", 2, key=KEY)
    with pytest.raises(eqx.TypeCheckError, match=r"(?s)argument `x`.*f32\[1\].*in_features='scalar'"):
        linear(jnp.ones(1))


def test_linear_no_check_under_jit_or_with_checks_off() -> None:
    linear = nn.Linear(3, 4, key=KEY)
    # Inside a trace the eager check does not run: JAX's own shape error surfaces.
    with pytest.raises(TypeError) as info:
        jax.jit(lambda m, x: m(x))(linear, jnp.ones(5))
    assert not isinstance(info.value, eqx.TypeCheckError)
    with eqx.checks("off"), pytest.raises(TypeError) as info:
        linear(jnp.ones(5))
    assert not isinstance(info.value, eqx.TypeCheckError)


def test_linear_checked_at_trace_time_in_always_mode(typechecker: str) -> None:
    linear = nn.Linear(3, 4, key=KEY)
    eqx.set_checks("always")
    with pytest.raises(eqx.TypeCheckError, match=r"(?s)Linear.__call__.*f32\[5\]"):
        jax.jit(lambda m, x: m(x))(linear, jnp.ones(5))


def test_linear_wrong_weight_caught_at_filter_jit_boundary(typechecker: str) -> None:
    linear = nn.Linear(3, 4, key=KEY)
    bad = eqx.tree_at(lambda m: m.weight, linear, jnp.ones((4, 5)))
    with raises_check_error(
        "Linear",
        ".weight",
        "out_features in_features",
        "f32[4,5]",
        "in_features=3",
    ):
        eqx.filter_jit(lambda m, x: m(x))(bad, jnp.ones(3))


def test_linear_scalar_weight_shape_check() -> None:
    # A "scalar" size leaves its weight axis unbound by the annotations; __check_init__
    # (run at the end of construction) requires that axis to be 1.
    linear = nn.Linear("scalar", 2, key=KEY)
    bad = eqx.tree_at(lambda m: m.weight, linear, jnp.ones((2, 3)))
    with pytest.raises(eqx.TypeCheckError, match="in_features='scalar' needs size 1"):
        bad.__check_init__()


def test_identity_returns_input_and_ignores_arguments() -> None:
    identity = nn.Identity(3, "anything", key=KEY)
    x = jnp.arange(4.0)
    assert identity(x) is x
    assert identity(x, key=KEY) is x
    assert jax.tree_util.tree_leaves(identity) == []


def test_checked_call_is_memoised_by_signature(monkeypatch: pytest.MonkeyPatch) -> None:
    from equinox_typed import _checking

    calls: list[str] = []
    original = _checking.check_items

    def counting(owner: str, items: Any, what: str = "field", *rest: Any) -> None:
        if owner == "Linear.__call__":  # not the construction checks
            calls.append(what)
        original(owner, items, what, *rest)

    monkeypatch.setattr(_checking, "check_items", counting)
    eqx.clear_caches()  # another test may have checked this signature already
    linear = nn.Linear(3, 4, key=KEY)
    calls.clear()
    linear(jnp.ones(3))
    assert calls == ["argument", "return value"]
    linear(jnp.zeros(3))  # same shapes: nothing re-checked
    assert calls == ["argument", "return value"]
    nn.Linear(3, 4, key=jax.random.key(5))(jnp.ones(3))  # same sizes, same signature
    assert len(calls) == 2
    nn.Linear(3, 2, key=KEY)(jnp.ones(3))  # other sizes: checked again
    assert len(calls) == 4


def test_layer_size_items_bind_sizes_for_outside_checks(typechecker: str) -> None:
    import typing

    from equinox_typed import _checking
    from equinox_typed._call_checks import layer_size_items

    linear = nn.Linear(3, 4, key=KEY)
    hint = typing.get_type_hints(nn.Linear.__call__, include_extras=True)["x"]
    items = layer_size_items(linear, nn.Linear.__call__)
    _checking.check_items("Linear.__call__", [*items, ("x", jnp.ones(3), hint)], "argument")
    with pytest.raises(eqx.TypeCheckError, match=r"(?s)argument `x`.*f32\[5\].*in_features=3"):
        _checking.check_items("Linear.__call__", [*items, ("x", jnp.ones(5), hint)], "argument")
