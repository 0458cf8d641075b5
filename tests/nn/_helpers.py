"""Helpers shared by the nn tests."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import jax
import numpy as np
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


def assert_same_leaves(ours: Any, theirs: Any, rtol: float = 1e-6, atol: float = 1e-7) -> None:
    """``ours`` and ``theirs`` (usually the Equinox reference) flatten to as many
    leaves, with the same shapes and dtypes, and values equal up to float rounding.

    ```python
    assert_same_leaves((y, state), (ref_y, ref_state))
    ```
    """
    ours_leaves, theirs_leaves = jax.tree.leaves(ours), jax.tree.leaves(theirs)
    assert len(ours_leaves) == len(theirs_leaves), (len(ours_leaves), len(theirs_leaves))
    for a, b in zip(ours_leaves, theirs_leaves, strict=True):
        assert (a.shape, a.dtype) == (b.shape, b.dtype)
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)
