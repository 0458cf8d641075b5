"""Conv / ConvTranspose: parity with PyTorch (outputs and gradients), with Equinox where
PyTorch has no equivalent, shape checks, and transformations."""

from __future__ import annotations

import pickle
from typing import Any

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
import pytest
import torch

import equinox_typed as eqx
import equinox_typed.nn as nn
from equinox_typed._module import check_module

from ._helpers import raises_check_error

KEY = jax.random.PRNGKey(0)
SPATIAL = {1: (9,), 2: (7, 6), 3: (5, 4, 5)}
TORCH_MODES = {"ZEROS": "zeros", "REFLECT": "reflect", "REPLICATE": "replicate", "CIRCULAR": "circular"}


def _np(a: Any) -> np.ndarray:
    return np.asarray(a.detach().numpy() if isinstance(a, torch.Tensor) else a)


@jax.jit
def _jax_out_and_grads(layer: Any, x: jax.Array, cotangent: jax.Array) -> tuple[Any, Any, Any]:
    """Output, d<out, cotangent>/d(layer) and d<out, cotangent>/dx, with plain JAX.

    Jitted: one compilation per case is cheaper than compiling every primitive of the
    eager forward and backward passes separately."""
    out = layer(x)
    grad_layer, grad_x = jax.grad(lambda m, x: jnp.sum(m(x) * cotangent), argnums=(0, 1))(
        layer, x
    )
    return out, grad_layer, grad_x


def _output_shape(layer: Any, x: Any) -> tuple[int, ...]:
    return tuple(jax.eval_shape(layer, jnp.asarray(x)).shape)


def _torch_out_and_grads(
    module: torch.nn.Module, x: np.ndarray, cotangent: np.ndarray, pre_pad: Any = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Output and input gradient of a torch module (weight/bias gradients are left in
    ``module``); ``pre_pad`` optionally pads the (batched) input first."""
    tx = torch.tensor(x)[None].requires_grad_(True)
    padded = tx if pre_pad is None else pre_pad(tx)
    out = module(padded)[0]
    (out * torch.tensor(cotangent)).sum().backward()
    assert tx.grad is not None
    return out, tx.grad[0]


def _assert_close(a: Any, b: Any, what: str) -> None:
    a, b = _np(a), _np(b)
    assert a.shape == b.shape, f"{what}: shape {a.shape} != {b.shape}"
    np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4, err_msg=what)


def _torch_pad(padding: Any, mode: str) -> Any:
    """F.pad for explicit (lo, hi) pairs, which torch's conv modules do not accept."""
    flat = [p for pair in reversed(padding) for p in pair]  # torch: last dim first
    torch_mode = "constant" if mode == "ZEROS" else TORCH_MODES[mode]
    return lambda t: torch.nn.functional.pad(t, flat, mode=torch_mode)


# ---------------------------------------------------------------------------------------
# Conv vs torch.nn.ConvNd

CONV_CASES = [
    (1, dict(kernel_size=3, stride=2, padding=1)),
    (1, dict(kernel_size=3, dilation=2, padding=2, padding_mode="REFLECT")),
    (1, dict(kernel_size=2, groups=2, padding=1, padding_mode="REPLICATE", use_bias=False)),
    (1, dict(kernel_size=3, padding="SAME", padding_mode="CIRCULAR")),
    (2, dict(kernel_size=(3, 2), stride=(2, 1), padding=(1, 0), dilation=(1, 2))),
    (2, dict(kernel_size=3, stride=2, padding=1, padding_mode="CIRCULAR")),
    (2, dict(kernel_size=3, padding=((1, 0), (0, 2)), padding_mode="REFLECT")),
    (2, dict(kernel_size=3, padding=((2, 1), (0, 1)), groups=2)),
    (2, dict(kernel_size=3, padding="SAME", dilation=2)),
    (2, dict(kernel_size=2, padding="VALID", stride=2, groups=2)),
    (3, dict(kernel_size=(2, 3, 2), padding=1, stride=(1, 2, 1), padding_mode="CIRCULAR", groups=2)),
    (3, dict(kernel_size=3, padding="SAME", padding_mode="REPLICATE", use_bias=False)),
]


def _case_id(case: tuple[int, dict[str, Any]]) -> str:
    n, kwargs = case
    return f"{n}d-" + "-".join(f"{k}={v}" for k, v in kwargs.items()).replace(" ", "")


@pytest.mark.parametrize("case", CONV_CASES, ids=_case_id)
def test_conv_matches_torch(case: tuple[int, dict[str, Any]]) -> None:
    n, kwargs = case
    cin, cout = 4, 6
    layer = nn.Conv(n, cin, cout, key=KEY, **kwargs)
    padding, mode = kwargs.get("padding", 0), kwargs.get("padding_mode", "ZEROS")
    pairs = isinstance(padding, tuple) and isinstance(padding[0], tuple)
    torch_conv = getattr(torch.nn, f"Conv{n}d")(
        cin,
        cout,
        kwargs["kernel_size"],
        stride=kwargs.get("stride", 1),
        padding=0 if pairs else (padding.lower() if isinstance(padding, str) else padding),
        dilation=kwargs.get("dilation", 1),
        groups=kwargs.get("groups", 1),
        bias=kwargs.get("use_bias", True),
        padding_mode="zeros" if pairs else TORCH_MODES[mode],
    )
    with torch.no_grad():
        torch_conv.weight.copy_(torch.tensor(_np(layer.weight)))
        if layer.bias is not None:
            torch_conv.bias.copy_(torch.tensor(_np(layer.bias).reshape(-1)))

    rng = np.random.default_rng(n)
    x = rng.standard_normal((cin, *SPATIAL[n])).astype(np.float32)
    cotangent = rng.standard_normal(_output_shape(layer, x)).astype(np.float32)
    out, grad_layer, grad_x = _jax_out_and_grads(layer, jnp.asarray(x), jnp.asarray(cotangent))
    torch_out, torch_grad_x = _torch_out_and_grads(
        torch_conv, x, cotangent, _torch_pad(padding, mode) if pairs else None
    )

    _assert_close(out, torch_out, "output")
    _assert_close(grad_x, torch_grad_x, "input gradient")
    _assert_close(grad_layer.weight, torch_conv.weight.grad, "weight gradient")
    if layer.bias is not None:
        _assert_close(grad_layer.bias.reshape(-1), torch_conv.bias.grad, "bias gradient")


# ---------------------------------------------------------------------------------------
# ConvTranspose vs torch.nn.ConvTransposeNd

TRANSPOSE_CASES = [
    (1, dict(kernel_size=3, stride=2, padding=1, output_padding=1)),
    (1, dict(kernel_size=4, dilation=2, padding=2, groups=2)),
    (2, dict(kernel_size=(3, 2), stride=(2, 3), padding=(1, 0), output_padding=(1, 2))),
    (2, dict(kernel_size=3, groups=2, use_bias=False)),
    (2, dict(kernel_size=3, stride=2, dilation=2, padding=2, output_padding=1, groups=2)),
    (3, dict(kernel_size=2, stride=2, output_padding=1)),
]


def _torch_to_ours(weight: np.ndarray, groups: int) -> np.ndarray:
    """PyTorch's transposed weight ``(in, out // g, *k)`` in our (Equinox's) layout
    ``(out, in // g, *k)``: transposed within each group and flipped spatially."""
    cin, out_g, *kernel = weight.shape
    grouped = weight.reshape(groups, cin // groups, out_g, *kernel).swapaxes(1, 2)
    ours = grouped.reshape(groups * out_g, cin // groups, *kernel)
    return np.flip(ours, axis=tuple(range(2, ours.ndim))).copy()


@pytest.mark.parametrize("case", TRANSPOSE_CASES, ids=_case_id)
def test_conv_transpose_matches_torch(case: tuple[int, dict[str, Any]]) -> None:
    n, kwargs = case
    cin, cout, groups = 4, 6, kwargs.get("groups", 1)
    layer = nn.ConvTranspose(n, cin, cout, key=KEY, **kwargs)
    torch_conv = getattr(torch.nn, f"ConvTranspose{n}d")(
        cin,
        cout,
        kwargs["kernel_size"],
        stride=kwargs.get("stride", 1),
        padding=kwargs.get("padding", 0),
        output_padding=kwargs.get("output_padding", 0),
        dilation=kwargs.get("dilation", 1),
        groups=groups,
        bias=kwargs.get("use_bias", True),
    )
    layer = eqx.tree_at(
        lambda m: m.weight, layer, jnp.asarray(_torch_to_ours(_np(torch_conv.weight), groups))
    )
    if layer.bias is not None:
        with torch.no_grad():
            torch_conv.bias.copy_(torch.tensor(_np(layer.bias).reshape(-1)))

    rng = np.random.default_rng(n)
    x = rng.standard_normal((cin, *SPATIAL[n])).astype(np.float32)
    cotangent = rng.standard_normal(_output_shape(layer, x)).astype(np.float32)
    out, grad_layer, grad_x = _jax_out_and_grads(layer, jnp.asarray(x), jnp.asarray(cotangent))
    torch_out, torch_grad_x = _torch_out_and_grads(torch_conv, x, cotangent)

    _assert_close(out, torch_out, "output")
    _assert_close(grad_x, torch_grad_x, "input gradient")
    assert torch_conv.weight.grad is not None
    _assert_close(
        grad_layer.weight, _torch_to_ours(_np(torch_conv.weight.grad), groups), "weight gradient"
    )
    if layer.bias is not None:
        _assert_close(grad_layer.bias.reshape(-1), torch_conv.bias.grad, "bias gradient")


@pytest.mark.parametrize("padding, pads", [("SAME", (0, 1)), ("SAME_LOWER", (1, 0))])
def test_circular_conv_transpose_is_the_adjoint_of_torchs_circular_conv(
    padding: str, pads: tuple[int, int]
) -> None:
    # A stride-2, kernel-3 convolution of a length-2m input with SAME(_LOWER) padding
    # pads one unit in total: at the end for SAME, at the start for SAME_LOWER (`pads`).
    # Its transpose, with circular padding, is what torch's autograd computes for the
    # input gradient of the circularly padded convolution.
    cin, cout, m = 4, 2, (3, 4)
    layer = nn.ConvTranspose2d(
        cin, cout, 3, stride=2, padding=padding, padding_mode="CIRCULAR", use_bias=False, key=KEY
    )
    forward_weight = torch.randn(cin, cout, 3, 3)
    # The forward conv maps cout -> cin channels; our kernel is its channel-transposed,
    # spatially flipped weight (see _torch_to_ours with groups=1).
    layer = eqx.tree_at(
        lambda l: l.weight, layer, jnp.asarray(_torch_to_ours(_np(forward_weight), 1))
    )
    rng = np.random.default_rng(0)
    x = rng.standard_normal((cin, *m)).astype(np.float32)

    u = torch.zeros(1, cout, 2 * m[0], 2 * m[1], requires_grad=True)
    padded = torch.nn.functional.pad(u, [*pads, *pads], mode="circular")
    forward = torch.nn.functional.conv2d(padded, forward_weight, stride=2)
    assert forward.shape[2:] == m
    (forward[0] * torch.tensor(x)).sum().backward()

    _assert_close(layer(jnp.asarray(x)), u.grad[0], "circular transposed convolution")


# ---------------------------------------------------------------------------------------
# Where PyTorch has no equivalent (SAME with stride > 1, SAME_LOWER, asymmetric transposed
# padding, SAME transposes with output_padding): the same numbers as Equinox.

EQUINOX_CASES = [
    ("Conv", 2, dict(kernel_size=3, stride=2, padding="SAME")),
    ("Conv", 2, dict(kernel_size=4, stride=3, padding="SAME_LOWER", dilation=(1, 2))),
    ("Conv", 1, dict(kernel_size=4, padding="SAME_LOWER", padding_mode="REFLECT")),
    ("ConvTranspose", 1, dict(kernel_size=4, stride=2, padding="SAME", output_padding=1)),
    ("ConvTranspose", 2, dict(kernel_size=3, stride=3, padding="SAME_LOWER", groups=2)),
    ("ConvTranspose", 1, dict(kernel_size=3, stride=2, padding=((2, 0),), output_padding=1)),
    ("ConvTranspose", 2, dict(kernel_size=4, stride=2, padding="SAME", padding_mode="CIRCULAR")),
    ("ConvTranspose", 1, dict(kernel_size=4, stride=3, padding="SAME_LOWER", padding_mode="CIRCULAR")),
]


@pytest.mark.parametrize(
    "case", EQUINOX_CASES, ids=lambda c: c[0] + "-" + _case_id((c[1], c[2]))
)
def test_matches_equinox(case: tuple[str, int, dict[str, Any]]) -> None:
    equinox = pytest.importorskip("equinox")
    name, n, kwargs = case
    ours = getattr(nn, name)(n, 4, 6, key=KEY, **kwargs)
    theirs = getattr(equinox.nn, name)(n, 4, 6, key=jax.random.PRNGKey(1), **kwargs)
    theirs = equinox.tree_at(lambda m: (m.weight, m.bias), theirs, (ours.weight, ours.bias))
    x = jnp.asarray(np.random.default_rng(0).standard_normal((4, *SPATIAL[n]), np.float32))
    _assert_close(ours(x), theirs(x), f"{name} vs Equinox")


# ---------------------------------------------------------------------------------------
# Construction


def test_hyperparameters_normalised_and_init_range() -> None:
    conv = nn.Conv2d(4, 6, (3, 2), stride=2, padding=1, groups=2, key=KEY)
    assert conv.num_spatial_dims == 2
    assert (conv.kernel_size, conv.stride, conv.dilation) == ((3, 2), (2, 2), (1, 1))
    assert conv.padding == ((1, 1), (1, 1))
    assert conv.weight.shape == (6, 2, 3, 2) and conv.bias is not None
    assert conv.bias.shape == (6, 1, 1)
    lim = 1 / np.sqrt(2 * 3 * 2)  # fan_in = in_channels // groups * prod(kernel_size)
    assert float(jnp.abs(conv.weight).max()) <= lim
    assert float(jnp.abs(conv.weight).max()) > 0.8 * lim
    assert nn.Conv1d(2, 3, 3, padding="same", key=KEY).padding == "SAME"
    assert nn.Conv2d(2, 6, 3, dtype=jnp.float16, key=KEY).weight.dtype == jnp.float16
    t = nn.ConvTranspose2d(4, 6, (3, 2), 2, 1, 0, groups=2, key=KEY)  # Equinox order: stride, output_padding, padding
    assert (t.stride, t.output_padding, t.padding) == ((2, 2), (1, 1), ((0, 0), (0, 0)))
    assert t.weight.shape == conv.weight.shape  # same fan-in, same layout
    assert nn.Conv2d(4, 6, (3, 2), use_bias=False, key=KEY).bias is None


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: nn.Conv2d(3, 4, 3, groups=2, key=KEY), "groups"),
        (lambda: nn.Conv2d(4, 3, 3, groups=2, key=KEY), "groups"),
        (lambda: nn.Conv2d(3, 4, (3, 3, 3), key=KEY), "kernel_size"),
        (lambda: nn.Conv2d(3, 4, 3, padding="FULL", key=KEY), "padding"),
        (lambda: nn.Conv2d(3, 4, 3, padding=((1, 1),), key=KEY), "padding"),
        (lambda: nn.Conv2d(3, 4, 3, padding_mode="MIRROR", key=KEY), "padding_mode"),
    ],
)
def test_bad_hyperparameters_are_refused(make: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make()


def test_conv_transpose_refuses_unsupported_padding_modes() -> None:
    with pytest.raises(NotImplementedError, match="REFLECT"):
        nn.ConvTranspose2d(2, 2, 3, padding_mode="REFLECT", key=KEY)
    with pytest.raises(NotImplementedError, match="SAME"):
        nn.ConvTranspose2d(2, 2, 3, padding=1, padding_mode="CIRCULAR", key=KEY)


# ---------------------------------------------------------------------------------------
# Shape checks


def test_channels_last_input_names_layer_argument_and_sizes(typechecker: str) -> None:
    conv = nn.Conv2d(3, 8, 3, key=KEY)
    with raises_check_error(
        "Conv2d",
        "`x`",
        "Inexact[Array, 'in_channels *spatial']",
        "in_channels=3",
        "f32[32,32,3]",
    ):
        conv(jnp.zeros((32, 32, 3)))
    # The right layout passes.
    assert conv(jnp.zeros((3, 32, 32))).shape == (8, 30, 30)


def test_conv_transpose_checks_input_channels(typechecker: str) -> None:
    up = nn.ConvTranspose1d(4, 2, 3, key=KEY)
    with pytest.raises(eqx.TypeCheckError, match=r"(?s)ConvTranspose1d.*f32\[5,4\].*in_channels=4"):
        up(jnp.zeros((5, 4)))


def test_checks_are_skipped_inside_traces_and_when_off() -> None:
    conv = nn.Conv1d(3, 2, 1, key=KEY)
    bad = jnp.zeros((4, 5))  # 4 channels, conv expects 3: lax itself refuses it
    with pytest.raises(eqx.TypeCheckError):
        conv(bad)
    with eqx.checks("off"), pytest.raises(Exception) as info:
        conv(bad)
    assert not isinstance(info.value, eqx.TypeCheckError)
    with pytest.raises(Exception) as info:
        jax.jit(conv.__call__)(bad)
    assert not isinstance(info.value, eqx.TypeCheckError)
    # "always" also checks while tracing, against the abstract shape.
    with eqx.checks("always"), pytest.raises(eqx.TypeCheckError, match=r"f32\[4,5\]"):
        jax.jit(conv.__call__)(bad)


def test_wrong_rank_is_a_clear_value_error() -> None:
    # (Layer sizes shared with other tests: initialising a new shape costs a compile.)
    with pytest.raises(ValueError, match=r"Conv2d: the input must have shape .* \(2, 8\)"):
        nn.Conv2d(2, 4, 2, groups=2, key=KEY)(jnp.zeros((2, 8)))
    with pytest.raises(ValueError, match="ConvTranspose3d"):
        nn.ConvTranspose3d(2, 2, 2, key=KEY)(jnp.zeros((2, 8, 8)))


def test_field_annotations_catch_replaced_parameters(typechecker: str) -> None:
    conv = nn.Conv2d(4, 6, 3, groups=2, key=KEY)
    # A full (ungrouped) weight is a real mistake: in_channels // groups = 2, not 4.
    wrong = eqx.tree_at(lambda m: m.weight, conv, jnp.zeros((6, 4, 3, 3)))
    with raises_check_error(".weight", "in_channels//groups", "f32[6,4,3,3]", "groups=2"):
        check_module(wrong)
    wrong_bias = eqx.tree_at(lambda m: m.bias, conv, jnp.zeros((5, 1, 1)))
    with pytest.raises(eqx.TypeCheckError, match=r"(?s)\.bias.*out_channels=6"):
        check_module(wrong_bias)
    check_module(conv)


# ---------------------------------------------------------------------------------------
# Transformations, PyTree round trips, pickling


def _conv_layers() -> list[tuple[Any, tuple[int, ...]]]:
    return [
        (nn.Conv(2, 2, 3, 3, padding="SAME", key=KEY), (2, 5, 4)),
        (nn.Conv1d(2, 3, 3, padding_mode="REFLECT", padding=1, key=KEY), (2, 6)),
        (nn.Conv2d(2, 4, 2, groups=2, key=KEY), (2, 5, 4)),
        (nn.Conv3d(2, 3, 2, stride=2, use_bias=False, key=KEY), (2, 4, 4, 4)),
        (nn.ConvTranspose(1, 2, 3, 3, stride=2, key=KEY), (2, 5)),
        (nn.ConvTranspose1d(2, 3, 3, 2, 1, key=KEY), (2, 5)),
        (nn.ConvTranspose2d(2, 3, 3, padding="SAME", padding_mode="CIRCULAR", key=KEY), (2, 4, 4)),
        (nn.ConvTranspose3d(2, 2, 2, key=KEY), (2, 3, 3, 3)),
    ]


@pytest.mark.parametrize(
    "layer, shape", _conv_layers(), ids=[type(layer).__name__ for layer, _ in _conv_layers()]
)
def test_transformations_and_serialisation(layer: Any, shape: tuple[int, ...]) -> None:
    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.standard_normal(shape, np.float32))
    expected = layer(x)  # eager, checked
    close = dict(rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(jax.jit(lambda m, x: m(x))(layer, x), expected, **close)

    # filter_jit, vmap and filter_grad together: one compilation.
    def loss(m: Any, x: jax.Array) -> jax.Array:
        return jnp.sum(m(x) ** 2)

    @eqx.filter_jit
    def batched_and_grad(m: Any, xs: jax.Array) -> tuple[jax.Array, Any]:
        return jax.vmap(m)(xs), eqx.filter_grad(loss)(m, xs[1])

    ys, grads = batched_and_grad(layer, jnp.stack([2 * x, x]))
    np.testing.assert_allclose(ys[1], expected, **close)
    np.testing.assert_allclose(ys[0], layer(2 * x), **close)
    assert jtu.tree_structure(grads) == jtu.tree_structure(layer)
    # The output is linear in the parameters (w, b), so <grad, params> = 2 * sum(y^2).
    params_dot = sum(
        jnp.vdot(g, p) for g, p in zip(jtu.tree_leaves(grads), jtu.tree_leaves(layer), strict=True)
    )
    np.testing.assert_allclose(params_dot, 2 * loss(layer, x), rtol=1e-4)

    leaves, treedef = jtu.tree_flatten(layer)
    rebuilt = jtu.tree_unflatten(treedef, leaves)
    assert type(rebuilt) is type(layer) and rebuilt.padding == layer.padding
    np.testing.assert_array_equal(rebuilt(x), expected)

    restored = pickle.loads(pickle.dumps(layer))
    assert type(restored) is type(layer)
    np.testing.assert_array_equal(restored(x), expected)
