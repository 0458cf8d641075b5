"""Negative or absurd sizes are refused when a layer is built, naming the layer and the
argument, before NumPy, JAX or XLA meets them; sizes Equinox and JAX accept (zero
features, depth 0, "scalar", negative padding) still build the same layers."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import equinox
import jax
import jax.numpy as jnp
import numpy as np
import pytest

import equinox_typed as eqx
from equinox_typed.nn._sizes import check_probability, check_size, check_sizes

KEY = jax.random.PRNGKey(0)

# (what is built, error type, the message) for each refused construction.
REFUSED: list[tuple[str, Callable[[Any], Any], type[Exception], str]] = [
    ("Linear in<0", lambda nn: nn.Linear(-3, 2, key=KEY), ValueError,
     "Linear: `in_features` must be non-negative (or 'scalar'), got -3"),
    ("Linear out<0", lambda nn: nn.Linear(3, -1, key=KEY), ValueError,
     "Linear: `out_features` must be non-negative (or 'scalar'), got -1"),
    ("Linear float", lambda nn: nn.Linear(2.5, 2, key=KEY), TypeError,
     "Linear: `in_features` must be an int or 'scalar', got 2.5"),
    ("Linear string", lambda nn: nn.Linear("vector", 2, key=KEY), TypeError,
     "Linear: `in_features` must be an int or 'scalar', got 'vector'"),
    ("Conv2d kernel 0", lambda nn: nn.Conv2d(1, 1, kernel_size=0, key=KEY), ValueError,
     "Conv2d: `kernel_size` must be at least 1, got 0"),
    ("Conv2d kernel (3, 0)", lambda nn: nn.Conv2d(1, 1, (3, 0), key=KEY), ValueError,
     "Conv2d: `kernel_size` must be at least 1, got 0"),
    ("Conv1d stride 0", lambda nn: nn.Conv1d(1, 1, 3, stride=0, key=KEY), ValueError,
     "Conv1d: `stride` must be at least 1, got 0"),
    ("Conv3d dilation 0", lambda nn: nn.Conv3d(1, 1, 3, dilation=0, key=KEY), ValueError,
     "Conv3d: `dilation` must be at least 1, got 0"),
    ("Conv2d channels<0", lambda nn: nn.Conv2d(-1, 1, 3, key=KEY), ValueError,
     "Conv2d: `in_channels` must be non-negative, got -1"),
    ("ConvTranspose2d stride 0", lambda nn: nn.ConvTranspose2d(1, 1, 3, stride=0, key=KEY),
     ValueError, "ConvTranspose2d: `stride` must be at least 1, got 0"),
    ("MLP depth<0", lambda nn: nn.MLP(2, 2, 4, depth=-1, key=KEY), ValueError,
     "MLP: `depth` must be non-negative, got -1"),
    ("MLP width<0", lambda nn: nn.MLP(2, 2, -4, depth=2, key=KEY), ValueError,
     "MLP: `width_size` must be non-negative, got -4"),
    ("Embedding count<0", lambda nn: nn.Embedding(-1, 3, key=KEY), ValueError,
     "Embedding: `num_embeddings` must be non-negative, got -1"),
    ("Embedding size<0", lambda nn: nn.Embedding(4, -3, key=KEY), ValueError,
     "Embedding: `embedding_size` must be non-negative, got -3"),
    ("MHA heads 0", lambda nn: nn.MultiheadAttention(0, 4, key=KEY), ValueError,
     "MultiheadAttention: `num_heads` must be at least 1, got 0"),
    ("MHA heads<0", lambda nn: nn.MultiheadAttention(-2, 4, key=KEY), ValueError,
     "MultiheadAttention: `num_heads` must be at least 1, got -2"),
    ("MHA qk<0", lambda nn: nn.MultiheadAttention(2, 4, qk_size=-1, key=KEY), ValueError,
     "MultiheadAttention: `qk_size` must be non-negative, got -1"),
    ("GroupNorm groups 0", lambda nn: nn.GroupNorm(0, 4), ValueError,
     "GroupNorm: `groups` must be at least 1, got 0"),
    ("GroupNorm groups<0", lambda nn: nn.GroupNorm(-1, 4), ValueError,
     "GroupNorm: `groups` must be at least 1, got -1"),
    ("GroupNorm not dividing", lambda nn: nn.GroupNorm(3, 4), ValueError,
     "GroupNorm: channels=4 is not divisible by groups=3"),
    ("LayerNorm shape<0", lambda nn: nn.LayerNorm((2, -1)), ValueError,
     "LayerNorm: `shape` must be non-negative, got -1"),
    ("RMSNorm shape<0", lambda nn: nn.RMSNorm(-3), ValueError,
     "RMSNorm: `shape` must be non-negative, got -3"),
    ("BatchNorm size<0", lambda nn: nn.BatchNorm(-3, "batch"), ValueError,
     "BatchNorm: `input_size` must be non-negative, got -3"),
    ("GRUCell hidden<0", lambda nn: nn.GRUCell(3, -2, key=KEY), ValueError,
     "GRUCell: `hidden_size` must be non-negative, got -2"),
    ("LSTMCell input<0", lambda nn: nn.LSTMCell(-1, 2, key=KEY), ValueError,
     "LSTMCell: `input_size` must be non-negative, got -1"),
    ("MaxPool2d kernel 0", lambda nn: nn.MaxPool2d(0), ValueError,
     "MaxPool2d: `kernel_size` must be at least 1, got 0"),
    ("AvgPool1d stride 0", lambda nn: nn.AvgPool1d(2, stride=0), ValueError,
     "AvgPool1d: `stride` must be at least 1, got 0"),
    ("AdaptiveAvgPool2d 0", lambda nn: nn.AdaptiveAvgPool2d(0), ValueError,
     "AdaptiveAvgPool2d: `target_shape` must be at least 1, got 0"),
    ("Dropout p>1", lambda nn: nn.Dropout(1.5), ValueError,
     "Dropout: `p` must be in [0, 1], got 1.5"),
    ("Dropout p<0", lambda nn: nn.Dropout(-0.1), ValueError,
     "Dropout: `p` must be in [0, 1], got -0.1"),
]


@pytest.mark.parametrize(
    ("build", "error", "message"),
    [case[1:] for case in REFUSED],
    ids=[case[0] for case in REFUSED],
)
def test_absurd_size_is_refused_naming_the_argument(
    build: Callable[[Any], Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=re.escape(message)):
        build(eqx.nn)


# Equinox either refuses these too, or builds a layer that fails when called: none of
# them is valid code. The calls below show the failure for those it builds.
EQUINOX_CALLS: dict[str, Callable[[Any], Any]] = {
    "Conv1d stride 0": lambda layer: layer(jnp.ones((1, 5))),
    "Conv3d dilation 0": lambda layer: layer(jnp.ones((1, 5, 5, 5))),
    "MHA heads<0": lambda layer: layer(*[jnp.ones((3, 4))] * 3),
    "GroupNorm groups<0": lambda layer: layer(jnp.ones((4, 5))),
    "MaxPool2d kernel 0": lambda layer: layer(jnp.ones((1, 5, 5))),
    "AvgPool1d stride 0": lambda layer: layer(jnp.ones((1, 5))),
}


@pytest.mark.parametrize(
    "build", [case[1] for case in REFUSED if case[0] in EQUINOX_CALLS],
    ids=[case[0] for case in REFUSED if case[0] in EQUINOX_CALLS],
)
def test_equinox_has_no_working_layer_for_those_either(
    build: Callable[[Any], Any], request: pytest.FixtureRequest
) -> None:
    name = request.node.callspec.id
    with pytest.raises(Exception):  # XLA's or NumPy's error, whichever comes first
        EQUINOX_CALLS[name](build(equinox.nn))


# Sizes at the edge that Equinox and JAX accept: built here too, with the same shapes.
VALID: list[tuple[str, Callable[[Any], Any], Callable[[Any], Any]]] = [
    ("Linear 0 in", lambda nn: nn.Linear(0, 2, key=KEY), lambda m: m(jnp.ones(0))),
    ("Linear 0 out", lambda nn: nn.Linear(3, 0, key=KEY), lambda m: m(jnp.ones(3))),
    ("Linear scalar", lambda nn: nn.Linear("scalar", "scalar", key=KEY), lambda m: m(jnp.ones(()))),
    ("Linear numpy int", lambda nn: nn.Linear(np.int64(3), 2, key=KEY), lambda m: m(jnp.ones(3))),
    ("MLP depth 0", lambda nn: nn.MLP(3, 2, 4, depth=0, key=KEY), lambda m: m(jnp.ones(3))),
    ("MLP width 0", lambda nn: nn.MLP(3, 2, 0, depth=2, key=KEY), lambda m: m(jnp.ones(3))),
    ("Embedding 0 rows", lambda nn: nn.Embedding(0, 3, key=KEY), lambda m: m.weight),
    ("Conv2d padding<0", lambda nn: nn.Conv2d(1, 1, 3, padding=-1, key=KEY),
     lambda m: m(jnp.ones((1, 5, 5)))),
    ("ConvTranspose2d output_padding<0",
     lambda nn: nn.ConvTranspose2d(1, 1, 3, stride=2, output_padding=-1, key=KEY),
     lambda m: m(jnp.ones((1, 5, 5)))),
    ("Conv2d 0 out channels", lambda nn: nn.Conv2d(1, 0, 3, key=KEY),
     lambda m: m(jnp.ones((1, 5, 5)))),
    ("MHA qk 0", lambda nn: nn.MultiheadAttention(2, 4, qk_size=0, key=KEY),
     lambda m: m.query_proj.weight),
    ("Dropout p=1", lambda nn: nn.Dropout(1.0), lambda m: m(jnp.ones(3), key=KEY)),
    ("LayerNorm ()", lambda nn: nn.LayerNorm(()), lambda m: m(jnp.ones(()))),
]


@pytest.mark.parametrize(
    ("build", "use"), [case[1:] for case in VALID], ids=[case[0] for case in VALID]
)
def test_edge_sizes_equinox_accepts_still_build(
    build: Callable[[Any], Any], use: Callable[[Any], Any]
) -> None:
    ours, theirs = use(build(eqx.nn)), use(build(equinox.nn))
    assert ours.shape == theirs.shape
    assert ours.dtype == theirs.dtype


def test_helpers_name_owner_argument_and_bound() -> None:
    check_size("Layer", "n", 0)
    check_size("Layer", "n", "scalar", scalar=True)
    check_sizes("Layer", "kernel", (1, 2), at_least=1)
    check_probability("Layer", "p", 0.0)
    check_probability("Layer", "p", jnp.asarray(2.0))  # arrays are left to the computation
    with pytest.raises(ValueError, match=r"^Layer: `n` must be at least 2, got 1$"):
        check_size("Layer", "n", 1, at_least=2)
    with pytest.raises(TypeError, match=r"^Layer: `n` must be an int, got 'scalar'$"):
        check_size("Layer", "n", "scalar")
    with pytest.raises(TypeError, match=r"^Layer: `n` must be an int, got None$"):
        check_size("Layer", "n", None)
    with pytest.raises(ValueError, match=r"^Layer: `kernel` must be at least 1, got 0$"):
        check_sizes("Layer", "kernel", [2, 0], at_least=1)
    with pytest.raises(ValueError, match=r"^Layer: `p` must be in \[0, 1\], got nan$"):
        check_probability("Layer", "p", float("nan"))
