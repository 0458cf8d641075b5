"""Helpers shared by the nn tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import pytest

import equinox_typed as eqx


@contextlib.contextmanager
def raises_check_error(*fragments: str) -> Iterator[None]:
    """Expect the block to raise ``eqx.TypeCheckError`` with every one of ``fragments``
    in its message (the layer, the argument or field, the annotation, what arrived, the
    sizes bound). On failure, says which fragments are missing and shows the message.

    ```python
    with raises_check_error("Linear.__call__", "argument `x`", "f32[5]", "in_features=3"):
        linear(jnp.ones(5))
    ```
    """
    with pytest.raises(eqx.TypeCheckError) as info:
        yield
    message = str(info.value)
    missing = [fragment for fragment in fragments if fragment not in message]
    assert not missing, f"{missing} not in the message:\n{message}"
