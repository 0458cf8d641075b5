"""Pools: parity with PyTorch (outputs and input gradients) and Equinox, construction,
errors, and transformations."""

from __future__ import annotations

import math
import pickle
from typing import Any

import jax
import jax.lax as lax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
import pytest
import torch

import equinox_typed as eqx
import equinox_typed.nn as nn

from ._helpers import raises_check_error

F = torch.nn.functional


@jax.jit
def _out_and_input_grad(layer: Any, x: jax.Array, cotangent: jax.Array) -> tuple[Any, Any]:
    # Jitted: one compilation per case instead of one per eager primitive.
    out = layer(x)
    return out, jax.grad(lambda x: jnp.sum(layer(x) * cotangent))(x)


def _torch_out_and_input_grad(
    fn: Any, x: np.ndarray, cotangent: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    tx = torch.tensor(x).requires_grad_(True)
    out = fn(tx)
    (out * torch.tensor(cotangent)).sum().backward()
    assert tx.grad is not None
    return out.detach().numpy(), tx.grad.numpy()


def _check_against(layer: Any, torch_fn: Any, x: np.ndarray) -> None:
    out_shape = jax.eval_shape(layer, jnp.asarray(x)).shape
    cotangent = np.random.default_rng(1).standard_normal(out_shape).astype(np.float32)
    out, grad = _out_and_input_grad(layer, jnp.asarray(x), jnp.asarray(cotangent))
    torch_out, torch_grad = _torch_out_and_input_grad(torch_fn, x, cotangent)
    assert out.shape == torch_out.shape
    np.testing.assert_allclose(out, torch_out, rtol=1e-5, atol=1e-5, err_msg="output")
    np.testing.assert_allclose(grad, torch_grad, rtol=1e-5, atol=1e-5, err_msg="input grad")


def _x(*shape: int) -> np.ndarray:
    # Distinct values: max pooling has a unique argmax, so gradients are well defined.
    rng = np.random.default_rng(0)
    return rng.permutation(math.prod(shape)).reshape(shape).astype(np.float32) / 10


# (spatial shape, kernel_size, stride, padding, use_ceil); the use_ceil cases include
# windows that hang over the end of the input.
WINDOW_CASES = [
    ((9,), 3, 2, 1, False),
    ((9,), 2, 2, 0, True),
    ((8,), 3, 3, 1, True),
    ((7, 6), (3, 2), (2, 1), (1, 0), False),
    ((7, 6), 3, 2, 1, True),
    ((5, 4), 2, 1, 0, False),
    ((5, 4, 5), 2, 2, (1, 0, 1), True),
]


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("case", WINDOW_CASES, ids=str)
def test_window_pools_match_torch(kind: str, case: tuple[Any, ...]) -> None:
    spatial, kernel, stride, padding, use_ceil = case
    n = len(spatial)
    layer = getattr(nn, f"{kind.capitalize()}Pool{n}d")(kernel, stride, padding, use_ceil)
    torch_pool = getattr(F, f"{kind}_pool{n}d")
    if kind == "max":

        def torch_fn(t: torch.Tensor) -> torch.Tensor:
            return torch_pool(t, kernel, stride, padding, ceil_mode=use_ceil)

    else:
        # Equinox's (and our) average always divides by the window volume, counting
        # padding, which in PyTorch terms is `divisor_override=prod(kernel)`.
        volume = math.prod(layer.kernel_size)

        def torch_fn(t: torch.Tensor) -> torch.Tensor:
            if n == 1:  # avg_pool1d has no divisor_override: pool a (1, length) image
                return F.avg_pool2d(
                    t[:, None],
                    (1, kernel),
                    (1, stride),
                    (0, padding),
                    ceil_mode=use_ceil,
                    divisor_override=volume,
                )[:, 0]
            return torch_pool(
                t, kernel, stride, padding, ceil_mode=use_ceil, divisor_override=volume
            )

    _check_against(layer, torch_fn, _x(3, *spatial))


@pytest.mark.parametrize("use_ceil", [False, True])
def test_avg_pool_counts_padding_like_torch_count_include_pad(use_ceil: bool) -> None:
    # Without an overhanging last window, this is exactly PyTorch's default average.
    x = _x(2, 7, 7)
    layer = nn.AvgPool2d(3, 2, 1, use_ceil)
    expected = F.avg_pool2d(torch.tensor(x), 3, 2, 1, ceil_mode=use_ceil, count_include_pad=True)
    np.testing.assert_allclose(layer(jnp.asarray(x)), expected.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize(
    "name, args",
    [
        ("AvgPool1d", (2, 2, 0, True)),  # the last window hangs over the end
        ("AvgPool2d", (3, 2, 1, True)),
        ("MaxPool2d", ((3, 2), (2, 1), (1, 0), True)),
        ("MaxPool3d", (2, 1, 1, False)),
    ],
)
def test_window_pools_match_equinox(name: str, args: tuple[Any, ...]) -> None:
    equinox = pytest.importorskip("equinox")
    ours, theirs = getattr(nn, name)(*args), getattr(equinox.nn, name)(*args)
    n = ours.num_spatial_dims
    x = jnp.asarray(_x(2, *(7, 6, 5)[:n]))
    np.testing.assert_allclose(ours(x), theirs(x), rtol=1e-6)


# ---------------------------------------------------------------------------------------
# Adaptive pools


@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize(
    "spatial, target", [((9,), 3), ((8, 6), (4, 3)), ((4, 6, 4), (2, 3, 1))], ids=str
)
def test_adaptive_pools_match_torch_when_target_divides_input(
    kind: str, spatial: tuple[int, ...], target: Any
) -> None:
    n = len(spatial)
    layer = getattr(nn, f"Adaptive{kind.capitalize()}Pool{n}d")(target)
    torch_pool = getattr(F, f"adaptive_{kind}_pool{n}d")
    _check_against(layer, lambda t: torch_pool(t, target), _x(2, *spatial))


def test_adaptive_blocks_are_contiguous_and_longest_first() -> None:
    # 7 -> 3 is cut into blocks of lengths 3, 2, 2 (PyTorch would use overlapping
    # windows [0:3], [2:5], [4:7]).
    x = _x(2, 7)
    blocks = [slice(0, 3), slice(3, 5), slice(5, 7)]
    out = nn.AdaptiveAvgPool1d(3)(jnp.asarray(x))
    np.testing.assert_allclose(out, np.stack([x[:, b].mean(1) for b in blocks], 1), rtol=1e-6)
    out = nn.AdaptiveMaxPool1d(3)(jnp.asarray(x))
    np.testing.assert_array_equal(out, np.stack([x[:, b].max(1) for b in blocks], 1))


@pytest.mark.parametrize("name", ["AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d"])
def test_adaptive_pools_match_equinox(name: str) -> None:
    equinox = pytest.importorskip("equinox")
    n = int(name[-2])
    target = (3, 4, 2)[:n]
    x = jnp.asarray(_x(2, *(7, 9, 5)[:n]))
    ours, theirs = getattr(nn, name)(target), getattr(equinox.nn, name)(target)
    np.testing.assert_allclose(ours(x), theirs(x), rtol=1e-6)


def test_adaptive_pool_with_custom_operation() -> None:
    pool = nn.AdaptivePool((2, 3), 2, jnp.min)
    x = _x(3, 4, 6)
    expected = x.reshape(3, 2, 2, 3, 2).min(axis=(2, 4))
    np.testing.assert_array_equal(pool(jnp.asarray(x)), expected)
    assert pool.target_shape == (2, 3)


# ---------------------------------------------------------------------------------------
# Construction and errors


def test_defaults_and_normal_form() -> None:
    pool = nn.MaxPool2d(3)
    # Equinox's default stride is 1 (not kernel_size as in PyTorch).
    assert (pool.kernel_size, pool.stride, pool.padding) == ((3, 3), (1, 1), ((0, 0), (0, 0)))
    assert pool(jnp.zeros((1, 5, 5))).shape == (1, 3, 3)
    assert nn.AvgPool3d(2, padding=[(1, 0), (0, 1), (1, 1)]).padding == ((1, 0), (0, 1), (1, 1))
    assert nn.AdaptiveAvgPool3d(2).target_shape == (2, 2, 2)


def test_generic_pool_with_array_init() -> None:
    # init may be given as an array; it is stored as a Python scalar (a static field).
    pool = nn.Pool(jnp.asarray(0.0), lax.add, 1, kernel_size=3, stride=2, padding=1)
    assert pool.init == 0.0 and isinstance(pool.init, float)
    x = _x(2, 9)
    expected = 3 * F.avg_pool1d(torch.tensor(x), 3, 2, 1).numpy()
    np.testing.assert_allclose(pool(jnp.asarray(x)), expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(jax.jit(pool.__call__)(jnp.asarray(x)), expected, rtol=1e-5, atol=1e-6)


def test_max_pool_of_integers() -> None:
    x = (_x(2, 9) * 10).astype(np.int32)
    pool = nn.MaxPool1d(3, 2, 1, use_ceil=True)
    out = pool(jnp.asarray(x))
    assert out.dtype == jnp.int32
    np.testing.assert_array_equal(out, pool(jnp.asarray(x, jnp.float32)).astype(jnp.int32))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: nn.MaxPool2d(2, padding=2), "padding"),
        (lambda: nn.MaxPool1d(2, padding="SAME"), "padding"),
        (lambda: nn.AvgPool2d((2, 2, 2)), "kernel_size"),
        (lambda: nn.AdaptiveMaxPool2d((2, 0)), "target_shape"),
        (lambda: nn.Pool(jnp.zeros(2), lax.add, 1, 2), "scalar"),
    ],
)
def test_bad_hyperparameters_are_refused(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_wrong_inputs_are_refused(typechecker: str) -> None:
    with pytest.raises(ValueError, match=r"MaxPool2d: the input must have shape .*\(5, 5\)"):
        nn.MaxPool2d(2)(jnp.zeros((5, 5)))
    with pytest.raises(ValueError, match=r"AdaptiveAvgPool1d: target_shape \(6,\) is larger"):
        nn.AdaptiveAvgPool1d(6)(jnp.zeros((2, 5)))
    with raises_check_error("AvgPool1d.__call__", "`x`", "f32[]", "channels *spatial"):
        nn.AvgPool1d(2)(jnp.float32(1.0))


# ---------------------------------------------------------------------------------------
# Transformations, PyTree round trips, pickling


def _pools() -> list[tuple[Any, tuple[int, ...]]]:
    return [
        (nn.Pool(-jnp.inf, lax.max, 1, 2, stride=2, use_ceil=True), (2, 7)),
        (nn.MaxPool1d(3, 2, 1), (2, 8)),
        (nn.MaxPool2d(2, 2), (2, 4, 6)),
        (nn.MaxPool3d(2, 1, (1, 0, 0)), (2, 3, 3, 3)),
        (nn.AvgPool1d(2, 2, 0, True), (2, 7)),
        (nn.AvgPool2d((2, 3), 1, (1, 1)), (2, 4, 5)),
        (nn.AvgPool3d(2, 2), (2, 4, 4, 4)),
        (nn.AdaptivePool(2, 1, jnp.max), (2, 5)),
        (nn.AdaptiveAvgPool1d(3), (2, 7)),
        (nn.AdaptiveAvgPool2d((2, 3)), (2, 5, 7)),
        (nn.AdaptiveAvgPool3d(2), (2, 4, 5, 3)),
        (nn.AdaptiveMaxPool1d(2), (2, 5)),
        (nn.AdaptiveMaxPool2d(2), (2, 5, 4)),
        (nn.AdaptiveMaxPool3d((1, 2, 2)), (2, 3, 4, 4)),
    ]


@pytest.mark.parametrize("layer, shape", _pools(), ids=[type(p).__name__ for p, _ in _pools()])
def test_transformations_and_serialisation(layer: Any, shape: tuple[int, ...]) -> None:
    x = jnp.asarray(_x(*shape))
    expected = layer(x)  # eager, checked
    # rtol: compiled and eager averages may round differently (seen on JAX 0.4.38).
    np.testing.assert_allclose(jax.jit(lambda m, x: m(x))(layer, x), expected, rtol=1e-6)

    # filter_jit, vmap and filter_grad together: one compilation.
    @eqx.filter_jit
    def batched_and_grad(xs: jax.Array, m: Any) -> tuple[jax.Array, jax.Array]:
        return jax.vmap(m)(xs), eqx.filter_grad(lambda x, m: jnp.sum(m(x)))(xs[1], m)

    ys, dx = batched_and_grad(jnp.stack([-x, x]), layer)
    np.testing.assert_allclose(ys[1], expected, rtol=1e-6)
    np.testing.assert_allclose(ys[0], layer(-x), rtol=1e-6)
    # Every pool here is positively homogeneous of degree 1 (max and mean are), so by
    # Euler's theorem <dx, x> = sum(out).
    np.testing.assert_allclose(jnp.vdot(dx, x), jnp.sum(expected), rtol=1e-5)

    leaves, treedef = jtu.tree_flatten(layer)
    assert leaves == []  # every field is static: nothing for transformations to trace
    rebuilt = jtu.tree_unflatten(treedef, leaves)
    assert type(rebuilt) is type(layer)
    np.testing.assert_array_equal(rebuilt(x), expected)

    restored = pickle.loads(pickle.dumps(layer))
    assert type(restored) is type(layer)
    np.testing.assert_array_equal(restored(x), expected)
