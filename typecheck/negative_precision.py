"""String options outside their Literal type are errors in both checkers (see negative.py)."""

from jaxtyping import PRNGKeyArray

import equinox_typed.nn as nn


def string_option_mistakes(key: PRNGKeyArray) -> None:
    nn.Conv2d(3, 4, 3, padding_mode="zero", key=key)  # type: ignore[arg-type]
    nn.Conv2d(3, 4, 3, padding="full", key=key)  # type: ignore[arg-type]
    # ConvTranspose supports only ZEROS and CIRCULAR padding.
    nn.ConvTranspose1d(3, 4, 3, padding_mode="REFLECT", key=key)  # type: ignore[arg-type]
    nn.BatchNorm(3, "batch", mode="running")  # type: ignore[arg-type]
