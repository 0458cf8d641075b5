"""No silent ``Any``: string options are ``Literal`` types (checked with assert_type)."""

from typing import Literal, assert_type

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
    assert_type(nn.BatchNorm(3, "batch", mode="ema").mode, Literal["ema", "batch", "legacy"])
