"""nn layers: precise constructors, Array-typed calls, State threading."""

from typing import Literal, assert_type

import jax
from jax import Array
from jaxtyping import PRNGKeyArray

import equinox_typed as eqx
import equinox_typed.nn as nn


def check_layers(key: PRNGKeyArray, x: Array, h: Array) -> None:
    linear = nn.Linear(3, 4, key=key)
    assert_type(linear(x), Array)
    assert_type(linear.weight, Array)
    assert_type(linear.bias, Array | None)
    assert_type(nn.Linear("scalar", 2, use_bias=False, key=key).in_features, int | Literal["scalar"])
    assert_type(nn.Identity(1, a=2)(x), Array)
    assert_type(nn.Lambda(jax.nn.relu)(x), Array)
    assert_type(nn.Dropout(0.1)(x, key=key, inference=False), Array)
    mlp = nn.MLP(2, 3, width_size=8, depth=2, activation=jax.nn.tanh, key=key)
    assert_type(mlp(x), Array)
    assert_type(mlp.layers, tuple[nn.Linear, ...])
    assert_type(nn.PReLU()(x), Array)
    assert_type(nn.GRUCell(3, 4, key=key)(x, h), Array)
    assert_type(nn.LSTMCell(3, 4, key=key)(x, (h, h)), tuple[Array, Array])
    assert_type(nn.Embedding(10, 4, key=key)(3), Array)
    assert_type(nn.Embedding(weight=h)(x), Array)
    mha = nn.MultiheadAttention(2, 8, key=key)
    assert_type(mha(x, x, x), Array)
    assert_type(mha(x, x, x, mask=None, key=key, inference=True), Array)
    assert_type(nn.RotaryPositionalEmbedding(8)(x), Array)
    cos, sin = nn.RotaryPositionalEmbedding.precompute_freqs_cis(8, 16, 10_000.0, jax.numpy.float32)
    assert_type(cos, Array)
    assert_type(sin, Array)


def check_conv_pool(key: PRNGKeyArray, x: Array) -> None:
    assert_type(nn.Conv(2, 3, 4, kernel_size=3, key=key)(x), Array)
    assert_type(nn.Conv1d(3, 4, 3, stride=2, padding="SAME", key=key)(x), Array)
    assert_type(nn.Conv2d(3, 4, (3, 3), padding=((1, 1), (0, 0)), key=key)(x), Array)
    assert_type(nn.Conv3d(3, 4, 3, groups=1, key=key)(x), Array)
    assert_type(nn.ConvTranspose2d(3, 4, 3, output_padding=1, stride=2, key=key)(x), Array)
    assert_type(nn.ConvTranspose1d(3, 4, 3, key=key)(x), Array)
    assert_type(nn.ConvTranspose3d(3, 4, 3, key=key)(x), Array)
    assert_type(nn.MaxPool2d(2, stride=2)(x), Array)
    assert_type(nn.AvgPool1d(3, padding=1, use_ceil=True)(x), Array)
    assert_type(nn.MaxPool1d(2)(x), Array)
    assert_type(nn.AvgPool3d(2)(x), Array)
    assert_type(nn.AdaptiveAvgPool2d((4, 4))(x), Array)
    assert_type(nn.AdaptiveMaxPool1d(4)(x), Array)
    assert_type(nn.Pool(0.0, jax.lax.add, 1, 2)(x), Array)


def check_norms_and_state(key: PRNGKeyArray, x: Array) -> None:
    ln = nn.LayerNorm(4)
    assert_type(ln(x), Array)
    state0 = nn.State(ln)
    assert_type(ln(x, state0), tuple[Array, nn.State])
    assert_type(nn.RMSNorm((2, 4), use_bias=False)(x), Array)
    assert_type(nn.GroupNorm(2, 4)(x), Array)

    bn, state = nn.make_with_state(nn.BatchNorm)(4, "batch", momentum=0.9)
    assert_type(bn, nn.BatchNorm)
    assert_type(state, nn.State)
    y, state = bn(x, state, inference=True)
    assert_type(y, Array)
    assert_type(state, nn.State)

    index = nn.StateIndex(x)
    assert_type(index, nn.StateIndex[Array])
    assert_type(state.get(index), Array)
    assert_type(state.set(index, x), nn.State)

    seq = nn.Sequential([nn.Linear(4, 4, key=key), nn.Lambda(jax.nn.relu), bn])
    assert_type(seq(x), Array)
    assert_type(seq(x, state), tuple[Array, nn.State])
    assert_type(seq[1:](x), Array)  # element types: see positive_precision.py

    spectral, state2 = nn.make_with_state(nn.SpectralNorm)(nn.Linear(3, 4, key=key), "weight", key=key)
    assert_type(spectral, nn.SpectralNorm[nn.Linear])
    assert_type(spectral(x, state2), tuple[Array, nn.State])
    assert_type(spectral.layer, nn.Linear)
    weight_norm = nn.WeightNorm(nn.Linear(3, 4, key=key))
    assert_type(weight_norm.layer.weight, Array)
    assert_type(weight_norm(x), Array)

    keeps_the_type(nn.inference_mode(seq))


def keeps_the_type(model: nn.Sequential) -> None:
    assert_type(nn.inference_mode(model, value=False), nn.Sequential)
    assert_type(nn.delete_init_state(model), nn.Sequential)


class Counter(nn.StatefulLayer):
    index: nn.StateIndex[Array]

    def __init__(self, init: Array) -> None:
        self.index = nn.StateIndex(init)

    def __call__(
        self, x: Array, state: nn.State, *, key: PRNGKeyArray | None = None
    ) -> tuple[Array, nn.State]:
        count = state.get(self.index)
        return x + count, state.set(self.index, count + 1)


class Shared(eqx.Module):
    shared: nn.Shared[tuple[nn.Embedding, nn.Linear]]

    def __init__(self, key: PRNGKeyArray) -> None:
        embedding = nn.Embedding(10, 4, key=key)
        linear = nn.Linear(4, 10, key=key)
        self.shared = nn.Shared(
            (embedding, linear), lambda pair: pair[1].weight, lambda pair: pair[0].weight
        )


def check_user_stateful(x: Array, key: PRNGKeyArray) -> None:
    counter, state = nn.make_with_state(Counter)(x)
    assert_type(counter, Counter)
    assert_type(counter(x, state), tuple[Array, nn.State])
    batched = eqx.filter_vmap(counter, in_axes=(0, None), out_axes=(0, None))
    assert_type(batched(x, state), tuple[Array, nn.State])
    assert_type(Shared(key).shared(), tuple[nn.Embedding, nn.Linear])
