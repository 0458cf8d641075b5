"""No silent ``Any``: string options are ``Literal`` types (checked with assert_type)."""

from typing import Literal, assert_type

import jax
from jax import Array

from jaxtyping import PRNGKeyArray

import equinox_typed.nn as nn


def check_string_options(key: PRNGKeyArray) -> None:
    conv = nn.Conv2d(3, 4, 3, padding="same", padding_mode="reflect", key=key)
    assert_type(conv.padding_mode, Literal["ZEROS", "REFLECT", "REPLICATE", "CIRCULAR"])
    assert_type(conv.padding, Literal["SAME", "SAME_LOWER", "VALID"] | tuple[tuple[int, int], ...])
    nn.Conv1d(3, 4, 3, padding="VALID", padding_mode="CIRCULAR", key=key)
    nn.Conv1d(3, 4, 3, padding=[(1, 0)], key=key)
    up = nn.ConvTranspose2d(3, 4, 3, padding="SAME", padding_mode="circular", key=key)
    assert_type(up.padding_mode, Literal["ZEROS", "CIRCULAR"])
    assert_type(nn.BatchNorm(3, "batch", mode="ema").mode, Literal["ema", "batch"])


def check_sequential(x: Array, key: PRNGKeyArray) -> None:
    same = nn.Sequential([nn.Linear(3, 3, key=key), nn.Linear(3, 3, key=key)])
    assert_type(same, nn.Sequential[nn.Linear])
    assert_type(same[0], nn.Linear)
    assert_type(same[0].weight, Array)
    assert_type(same.layers, tuple[nn.Linear, ...])
    assert_type(same[1:], nn.Sequential[nn.Linear])
    for layer in same:
        assert_type(layer, nn.Linear)
    assert_type(same(x), Array)
    mixed = nn.Sequential([nn.Linear(3, 3, key=key), nn.Lambda(jax.nn.relu)])
    mixed[0](x)  # callable in both checkers, whatever the join of the layer types
    assert_type(len(mixed), int)
    assert_type(takes_any_sequential(same, x), Array)  # Sequential[Linear] is a Sequential


def takes_any_sequential(model: nn.Sequential, x: Array) -> Array:
    """A bare ``Sequential`` annotation stays valid (the type argument has a default)."""
    return model(x)
