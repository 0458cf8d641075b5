"""Refusing layer sizes no layer can be built with, before any array is made.

A negative ``in_features`` or a zero ``kernel_size`` otherwise fails deep inside NumPy,
JAX or XLA ("invalid tensor dimension size", "math domain error", a division by zero)
or, worse, builds a layer that fails only when called. Every ``eqx.nn`` constructor
checks its sizes here first, so the error names the layer and the argument.

Zero is a valid size wherever JAX takes it (a ``Linear`` with no input features, an
``MLP`` of depth 0), so sizes are refused only below their ``at_least``.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

__all__ = ["check_probability", "check_size", "check_sizes"]


def _as_int(owner: str, name: str, value: Any, scalar: bool) -> int:
    """``value`` as an int, or a TypeError naming the argument."""
    if not isinstance(value, str):  # "3" has no __index__, but say so plainly
        try:
            return operator.index(value)
        except TypeError:
            pass
    kinds = "an int or 'scalar'" if scalar else "an int"
    raise TypeError(f"{owner}: `{name}` must be {kinds}, got {value!r}")


def check_size(
    owner: str, name: str, value: Any, *, at_least: int = 0, scalar: bool = False
) -> None:
    """Refuse a size argument that is not an int of at least ``at_least``.

    **Arguments:**

    - ``owner``: the layer's name, for the message (``"Linear"``).
    - ``name``: the argument's name, for the message (``"in_features"``).
    - ``value``: what was passed; a Python or NumPy integer.
    - ``at_least``: the smallest valid value (0 for sizes, 1 for counts that divide).
    - ``scalar``: whether the string ``"scalar"`` is also valid (a size of shape ``()``).

    **Raises:** ``TypeError`` for a value that is not an integer, ``ValueError`` for one
    below ``at_least``.

    ```python
    check_size("Linear", "in_features", -3)   # ValueError: Linear: `in_features` ...
    ```
    """
    if scalar and isinstance(value, str) and value == "scalar":
        return
    if _as_int(owner, name, value, scalar) < at_least:
        bound = "non-negative" if at_least == 0 else f"at least {at_least}"
        extra = " (or 'scalar')" if scalar else ""
        raise ValueError(f"{owner}: `{name}` must be {bound}{extra}, got {value!r}")


def check_sizes(owner: str, name: str, values: int | Sequence[int], *, at_least: int = 0) -> None:
    """:func:`check_size` for an int or a sequence of ints (one per dimension), e.g.
    ``kernel_size=(3, 0)`` is refused with ``at_least=1``.

    ```python
    check_sizes("Conv2d", "kernel_size", (3, 3), at_least=1)   # fine
    ```
    """
    if isinstance(values, Sequence) and not isinstance(values, str):
        for value in values:
            check_size(owner, name, value, at_least=at_least)
    else:
        check_size(owner, name, values, at_least=at_least)


def check_probability(owner: str, name: str, value: Any) -> None:
    """Refuse a probability outside ``[0, 1]``. Only plain numbers are checked: an
    array (possibly traced) is left to the computation.

    ```python
    check_probability("Dropout", "p", 1.5)   # ValueError: Dropout: `p` must be in [0, 1] ...
    ```
    """
    if isinstance(value, (int, float)) and not 0.0 <= value <= 1.0:
        raise ValueError(f"{owner}: `{name}` must be in [0, 1], got {value!r}")
