"""What a check accepts: JAX's value model, written as rewrites of annotations.

An annotation says what a value *is*; JAX is generous about what counts. Before the
engine matches a value against its annotation, it matches it against the *accepted*
form of that annotation, built once per annotation by :func:`accepted_hint`:

- **NumPy is an array.** A jaxtyping annotation of a JAX array (``Float[Array, "n"]``)
  also accepts a NumPy array or NumPy scalar of the same shape whose dtype JAX would
  turn into one the annotation allows (with 64-bit mode off, ``float64`` NumPy data is
  ``float32`` data to JAX). Bare ``jax.Array`` accepts NumPy values too. This is what
  ``filter_jit`` does anyway (a NumPy and a JAX argument of the same shape share one
  compiled signature), so a check's answer does not depend on which came first.
- **The numeric tower** (PEP 484, NumPy included): ``int`` accepts NumPy integer
  scalars; ``float`` accepts ``int`` and NumPy integer and floating scalars; ``complex``
  accepts every number.
- **Scalars after transformation** (``scalar_arrays=True``, for non-static Module
  fields): ``bool``/``int``/``float`` also accept a 0-d JAX or NumPy array of a matching
  kind (``jax.tree.map(jnp.asarray, model)`` turns ``1.0`` into ``f32[]``).
- **None holes** (``holes=True``, for partial Modules at transformation boundaries):
  ``None`` is accepted at every position inside containers (``[Linear, None]`` in a
  ``list[Linear]``), where ``eqx.filter`` or a gradient left a hole.

Error messages always show the annotation as written, never its accepted form.
"""

from __future__ import annotations

import abc
import collections.abc
import functools
import types
from typing import Annotated, Any, Final, Union, cast, get_args, get_origin

import jax
import jax.numpy as jnp
import jaxtyping
import numpy as np

__all__ = ["Accepting", "accepted_hint", "clear_accepted_hints"]


class _NumPyValue(abc.ABC):
    """The array type of the NumPy half of an accepted annotation: NumPy arrays and
    NumPy scalars (both carry ``shape`` and ``dtype``)."""


_NumPyValue.register(np.ndarray)
_NumPyValue.register(cast(type, np.generic))  # cast: mypy wants concrete classes here

# Every dtype a NumPy value can carry into JAX, by the name jaxtyping matches.
_NUMPY_DTYPES: Final = tuple(
    np.dtype(d)
    for d in (
        np.bool_, np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32,
        np.uint64, jnp.bfloat16, np.float16, np.float32, np.float64, np.complex64,
        np.complex128,
    )
)  # fmt: skip


class Accepting:
    """An annotation together with how generously it is read (see the module docstring).

    Put in the hint position of an item given to ``check_items``; errors show
    ``written``.

    **Arguments:**

    - ``written``: the annotation as the user wrote it.
    - ``scalar_arrays``: whether ``bool``/``int``/``float`` accept 0-d arrays.
    - ``holes``: whether ``None`` is accepted inside containers.
    """

    __slots__ = ("written", "scalar_arrays", "holes", "key")

    def __init__(self, written: Any, *, scalar_arrays: bool = False, holes: bool = False) -> None:
        self.written = written
        self.scalar_arrays = scalar_arrays
        self.holes = holes
        self.key = (written, scalar_arrays, holes)

    def __repr__(self) -> str:
        return f"Accepting({self.written!r}, scalar_arrays={self.scalar_arrays}, holes={self.holes})"


_CACHE: dict[Any, Any] = {}


def accepted_hint(hint: Any, x64: bool) -> Any:
    """The annotation a value is matched against in place of ``hint``.

    **Arguments:**

    - ``hint``: an annotation, or an :class:`Accepting` to widen it further.
    - ``x64``: ``_jax_internals.x64_enabled()`` now (NumPy dtypes are read as JAX would convert them).

    ```python
    accepted_hint(Float[Array, "n"], False)
    # Float[Array, 'n'] | <Float32/64 NumPy values of shape (n,)>
    ```
    """
    if isinstance(hint, Accepting):
        key: Any = (hint.key, x64)
        written, scalar_arrays, holes = hint.written, hint.scalar_arrays, hint.holes
    else:
        key, written, scalar_arrays, holes = (hint, x64), hint, False, False
    try:
        return _CACHE[key]
    except KeyError:
        pass
    except TypeError:  # an unhashable annotation (e.g. Annotated with a dict): no cache
        return _Rewriter(scalar_arrays, holes, x64).rewrite(written)
    accepted = _CACHE[key] = _Rewriter(scalar_arrays, holes, x64).rewrite(written)
    return accepted


def clear_accepted_hints() -> None:
    """Forget every rewritten annotation (``eqx.clear_caches``); rebuilt on next use."""
    _CACHE.clear()
    _numpy_dtype_class.cache_clear()


def _is_array_annotation(hint: Any) -> bool:
    return isinstance(hint, type) and hasattr(hint, "dim_str") and hasattr(hint, "dtypes")


@functools.cache
def _numpy_dtype_class(written: tuple[Any, ...] | None, x64: bool) -> Any:
    """A jaxtyping dtype class matching the NumPy dtypes JAX converts into one of
    ``written`` (``None``: any dtype)."""
    if written is None:
        return jaxtyping.Shaped
    names: list[str] = []
    for dtype in _NUMPY_DTYPES:
        converted = dtype if x64 else jax.dtypes.canonicalize_dtype(dtype)
        if any(_dtype_matches(converted.type.__name__, w) for w in written):
            names.append(dtype.type.__name__)
    if not names:
        return None
    return type("NumPyAccepted", (jaxtyping.AbstractDtype,), {"dtypes": names})


def _dtype_matches(name: str, pattern: Any) -> bool:
    if isinstance(pattern, str):
        return name == pattern
    return bool(pattern.match(name))


# The containers whose arguments describe their elements (rewritten element-wise).
_CONTAINERS: Final = frozenset(
    {
        list, tuple, dict, set, frozenset,
        collections.abc.Sequence, collections.abc.MutableSequence,
        collections.abc.Mapping, collections.abc.MutableMapping,
        collections.abc.Set, collections.abc.Iterable, collections.abc.Collection,
    }
)  # fmt: skip


class _Rewriter:
    def __init__(self, scalar_arrays: bool, holes: bool, x64: bool) -> None:
        self.scalar_arrays = scalar_arrays
        self.holes = holes
        self.x64 = x64

    def rewrite(self, hint: Any) -> Any:
        return self._element(hint, top=True)

    def _element(self, hint: Any, top: bool = False) -> Any:
        accepted = self._widen(hint)
        if self.holes and not top:
            return Union[accepted, None]
        return accepted

    def _widen(self, hint: Any) -> Any:
        if _is_array_annotation(hint):
            return self._array(hint)
        if hint is jax.Array:
            return Union[jax.Array, np.ndarray, np.generic]
        if hint is bool or hint is int or hint is float or hint is complex:
            return self._number(hint)
        origin = get_origin(hint)
        if origin is Union or origin is types.UnionType:
            return Union[tuple(self._widen(arg) for arg in get_args(hint))]
        if origin is Annotated:
            inner, *metadata = get_args(hint)
            return Annotated[(self._widen(inner), *metadata)]
        if origin in _CONTAINERS:
            return self._container(hint, origin)
        return hint  # classes, Literal, Callable, type[...], TypeVars: as written

    def _container(self, hint: Any, origin: Any) -> Any:
        args = get_args(hint)
        if not args:
            return hint
        if origin is dict or origin in (collections.abc.Mapping, collections.abc.MutableMapping):
            key, value = args
            new_args: tuple[Any, ...] = (key, self._element(value))
        else:
            new_args = tuple(a if a is Ellipsis or a == () else self._element(a) for a in args)
        if isinstance(hint, types.GenericAlias):
            return types.GenericAlias(origin, new_args)
        return hint.copy_with(new_args)

    def _array(self, hint: Any) -> Any:
        if hint.array_type is not jax.Array:
            return hint  # NumPy-only, framework-agnostic (Any) or user array types
        dtypes = hint.dtypes
        written = None if dtypes is getattr(jaxtyping.Shaped, "dtypes") else tuple(dtypes)
        dtype_class = _numpy_dtype_class(written, self.x64)
        if dtype_class is None:
            return hint
        return Union[hint, dtype_class[_NumPyValue, hint.dim_str]]

    def _number(self, hint: type) -> Any:
        tower: dict[type, tuple[Any, ...]] = {
            bool: (bool, np.bool_),
            int: (int, np.integer),
            float: (float, int, np.integer, np.floating),
            complex: (complex, float, int, np.number),
        }
        accepted = tower[hint]
        if self.scalar_arrays and hint is not complex:
            kind: Any = {bool: jaxtyping.Bool, int: jaxtyping.Integer, float: jaxtyping.Real}[hint]
            accepted += (self._array(kind[jax.Array, ""]),)
        return Union[accepted]

