"""Shape specs: ``"f32[32,784]"`` as text, and back.

The audit (``eqx.audit``, ``python -m equinox_typed.check``) takes example inputs as
short strings and prints shapes in the same notation, the one errors and ``repr`` use:
a dtype code (``f32``, ``bf16``, ``i64``, ``u8``, ``c64``, ``bool``, or any NumPy dtype
name such as ``float32``) followed by the shape in brackets (``[]`` for a scalar).
"""

from __future__ import annotations

import re
from typing import Any, Final

import jax
import numpy as np

from ._jax_typed import shape_dtype_struct
from ._pretty import array_summary

__all__ = ["parse_shape_spec", "summarise"]

_SPEC: Final = re.compile(r"\s*([A-Za-z][A-Za-z0-9_]*)\s*\[([^\]]*)\]\s*")
_CODE_PREFIX: Final = {"f": "float", "i": "int", "u": "uint", "c": "complex"}
_CODE: Final = re.compile(r"(bf|[fiuc])(\d+)")


def _dtype(code: str) -> np.dtype[Any]:
    sized = _CODE.fullmatch(code)
    name = code
    if sized is not None:
        prefix, bits = sized.groups()
        name = "bfloat16" if prefix == "bf" and bits == "16" else _CODE_PREFIX.get(prefix, "") + bits
    try:
        # jax.numpy knows bfloat16 and the float8 types, which NumPy alone does not.
        return jax.numpy.dtype(name)
    except TypeError:
        raise ValueError(f"unknown dtype {code!r}") from None


def parse_shape_spec(text: str) -> jax.ShapeDtypeStruct:
    """Read ``"f32[32,784]"`` as ``jax.ShapeDtypeStruct((32, 784), jnp.float32)``.

    **Arguments:**

    - ``text``: a dtype code or NumPy dtype name, then the sizes in brackets separated
      by commas: ``"f32[32,784]"``, ``"bf16[8, 128]"``, ``"int32[]"``, ``"bool[4,4]"``.

    **Raises:** ``ValueError`` saying what part of ``text`` is wrong.

    ```python
    x = parse_shape_spec("f32[32,784]")   # ShapeDtypeStruct(shape=(32, 784), dtype=float32)
    ```
    """
    match = _SPEC.fullmatch(text)
    if match is None:
        raise ValueError(
            f"input spec {text!r} is not of the form DTYPE[SIZE,...], e.g. 'f32[32,784]'"
        )
    code, sizes = match.groups()
    try:
        dtype = _dtype(code)
    except ValueError as error:
        raise ValueError(f"input spec {text!r}: {error}") from None
    shape: list[int] = []
    for size in (s.strip() for s in sizes.split(",") if sizes.strip()):
        if not size.isdigit():
            raise ValueError(
                f"input spec {text!r}: size {size!r} is not a non-negative integer"
            )
        shape.append(int(size))
    return shape_dtype_struct(tuple(shape), dtype)


def summarise(value: Any, limit: int = 120) -> str:
    """A short description of a value in spec notation, for tables.

    Arrays (and tracers, ``ShapeDtypeStruct``) read ``f32[3,4]``; tuples, lists and
    dicts are shown with their structure; other values by their type name.

    ```python
    summarise((jnp.zeros(3), None))   # '(f32[3], None)'
    ```
    """
    text = _summary(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _summary(value: Any) -> str:
    if hasattr(value, "shape") and hasattr(value, "dtype"):
        return array_summary(value, numpy=isinstance(value, (np.ndarray, np.generic)))
    if value is None:
        return "None"
    if isinstance(value, (bool, int, float, complex, str)):
        return repr(value)
    if isinstance(value, tuple | list):
        items = [_summary(v) for v in value]  # pyright: ignore[reportUnknownVariableType]
        if isinstance(value, list):
            return "[" + ", ".join(items) + "]"
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(value, dict):
        pairs = [f"{k!r}: {_summary(v)}" for k, v in value.items()]  # pyright: ignore[reportUnknownVariableType]
        return "{" + ", ".join(pairs) + "}"
    return type(value).__qualname__
