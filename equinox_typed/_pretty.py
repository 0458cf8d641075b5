"""Readable, width-aware rendering of PyTrees (``tree_pformat`` and ``tree_pprint``).

Rendering happens in two steps. First the object is converted into a small document
tree (:class:`_Text`, :class:`_Prefixed`, :class:`_Bracketed`). Then the document is
laid out: a bracketed group goes on one line if it fits in the remaining width,
otherwise it is broken into one item per line, indented one level deeper — the
"fits or breaks" strategy of Wadler-style pretty printers, with each group decided
from the outside in.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import types
from collections.abc import Callable
from typing import Any

import jax
import numpy as np

from ._filters import ARRAY_TYPES
from ._tree import is_tracer

__all__ = ["tree_pformat", "tree_pprint"]


# --------------------------------------------------------------------------------------
# Documents
# --------------------------------------------------------------------------------------


# Each document's one-line form is computed when it is built, from its parts' (built
# before it): no recursion, so deep trees (Modules nested hundreds deep) render.


@dataclasses.dataclass(frozen=True)
class _Text:
    """Literal text; may contain newlines (then it can never be part of a flat line)."""

    text: str

    @property
    def flat(self) -> str:
        return self.text


@dataclasses.dataclass(frozen=True)
class _Prefixed:
    """``prefix`` glued to the front of ``body``, e.g. ``weight=`` and a value."""

    prefix: str
    body: _Doc
    flat: str = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "flat", self.prefix + self.body.flat)


@dataclasses.dataclass(frozen=True)
class _Bracketed:
    """A comma-separated sequence between ``opening`` and ``closing``.

    ``single_comma`` asks for a comma after a lone item, as a 1-tuple needs.
    """

    opening: str
    items: tuple[_Doc, ...]
    closing: str
    single_comma: bool = False
    flat: str = dataclasses.field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        inner = ", ".join([item.flat for item in self.items])
        if self.single_comma and len(self.items) == 1:
            inner += ","
        object.__setattr__(self, "flat", self.opening + inner + self.closing)


_Doc = _Text | _Prefixed | _Bracketed


# --------------------------------------------------------------------------------------
# Layout
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Layout:
    width: int
    indent: int

    def render(self, doc: _Doc, level: int, column: int, trailing: int) -> str:
        """Render ``doc`` starting at ``column`` in a block indented ``level`` times.

        ``trailing`` is the number of characters that will follow the document on its
        last line (a comma, say), which must also fit within the width.
        """
        prefix = ""
        while isinstance(doc, _Prefixed):  # a loop, not a call: one frame fewer per level
            prefix += doc.prefix
            doc = doc.body
        column += len(prefix)
        if isinstance(doc, _Text):
            # Shift continuation lines of multi-line text (a full array repr, say) to
            # the starting column, keeping their alignment relative to the first line.
            return prefix + doc.text.replace("\n", "\n" + " " * column)
        return prefix + self._render_bracketed(doc, level, column, trailing)

    def _render_bracketed(
        self, doc: _Bracketed, level: int, column: int, trailing: int
    ) -> str:
        flat = doc.flat
        fits = column + len(flat) + trailing <= self.width
        if not doc.items or (fits and "\n" not in flat):
            return flat
        inner_level = level + 1
        inner_column = inner_level * self.indent
        lines: list[str] = []
        for position, item in enumerate(doc.items):
            is_last = position == len(doc.items) - 1
            comma = "" if is_last and not (doc.single_comma and len(doc.items) == 1) else ","
            text = self.render(item, inner_level, inner_column, len(comma))
            lines.append(" " * inner_column + text + comma)
        closing_line = " " * (level * self.indent) + doc.closing
        return "\n".join([doc.opening, *lines, closing_line])


# --------------------------------------------------------------------------------------
# Converting objects to documents
# --------------------------------------------------------------------------------------

_SIZED_DTYPE = re.compile(r"(float|int|uint|complex)(\d+)")
_DTYPE_PREFIX = {"float": "f", "int": "i", "uint": "u", "complex": "c"}


def dtype_code(dtype: Any) -> str:
    """Short dtype name: ``f32``, ``bf16``, ``i64``, ``u8``, ``c64``, ``bool``..."""
    name = str(getattr(dtype, "name", dtype))
    if name == "bfloat16":
        return "bf16"
    sized = _SIZED_DTYPE.fullmatch(name)
    if sized is None:
        return name  # bool, float8 variants, PRNG key types, ...
    return _DTYPE_PREFIX[sized.group(1)] + sized.group(2)


def array_summary(x: Any, *, numpy: bool, weak: bool = False) -> str:
    """``f32[3,2]``: dtype code and shape, with ``(numpy)`` for NumPy arrays and a
    ``weak_`` prefix (``weak_f32[]``) for weakly typed ones when ``weak``."""
    shape = ",".join(str(size) for size in x.shape)
    suffix = "(numpy)" if numpy else ""
    prefix = "weak_" if weak else ""
    return f"{prefix}{dtype_code(x.dtype)}[{shape}]{suffix}"


def _is_namedtuple(x: object) -> bool:
    return hasattr(type(x), "_fields") and isinstance(x, tuple)


def _function_text(x: object) -> str | None:
    """``<function qualified.name>`` for Python functions, ``<wrapped function ...>``
    for wrappers of one (``functools.wraps``, ``jax.jit``, the filtered
    transformations); None for anything else, which is shown by its ``repr``."""
    if isinstance(x, type) or not callable(x):
        return None
    wrapped = hasattr(x, "__wrapped__")
    if not (isinstance(x, types.FunctionType) or wrapped):
        return None  # builtins, bound methods, other callables: their repr
    name = getattr(x, "__qualname__", None) or getattr(x, "__name__", None)
    if not isinstance(name, str):
        return None
    return f"<{'wrapped function' if wrapped else 'function'} {name}>"


def _never(_: Any) -> bool:
    return False


@dataclasses.dataclass
class _Converter:
    short_arrays: bool
    struct_as_array: bool
    truncate_leaf: Callable[[Any], bool]
    # ids of the containers currently being converted, to detect cycles.
    _open: set[int] = dataclasses.field(default_factory=set[int])

    def convert(self, obj: Any) -> _Doc:
        if self.truncate_leaf(obj):
            return _Text(f"{type(obj).__name__}(...)")
        array_text = self._array_text(obj)
        if array_text is not None:
            return _Text(array_text)
        function_text = _function_text(obj)
        if function_text is not None:
            return _Text(function_text)
        if not self._is_container(obj):
            return _Text(repr(obj))
        if id(obj) in self._open:
            return _Text("<cycle>")
        self._open.add(id(obj))
        try:
            return self._container(obj)
        finally:
            self._open.remove(id(obj))

    def _array_text(self, obj: Any) -> str | None:
        weak = bool(getattr(obj, "weak_type", False))
        if self.struct_as_array and isinstance(obj, jax.ShapeDtypeStruct):
            return array_summary(obj, numpy=False, weak=weak)
        # NumPy scalars show as themselves (`np.float32(1.0)`), as in Equinox.
        if not isinstance(obj, ARRAY_TYPES) or isinstance(obj, np.generic):
            return None
        # Tracers have no values to show.
        if self.short_arrays or is_tracer(obj):
            return array_summary(obj, numpy=not isinstance(obj, jax.Array), weak=weak)
        return repr(obj)

    @staticmethod
    def _is_container(obj: object) -> bool:
        is_dataclass_instance = dataclasses.is_dataclass(obj) and not isinstance(obj, type)
        return is_dataclass_instance or isinstance(
            obj, (list, tuple, dict, functools.partial)
        )

    def _container(self, obj: Any) -> _Doc:
        if dataclasses.is_dataclass(obj):
            fields = [
                (f.name, getattr(obj, f.name))
                for f in dataclasses.fields(obj)
                if f.repr and hasattr(obj, f.name)
            ]
            # The qualified name (`make.<locals>.Model`), as Equinox prints it.
            return self._named_items(type(obj).__qualname__, fields)
        if _is_namedtuple(obj):
            return self._named_items(type(obj).__name__, list(obj._asdict().items()))
        if isinstance(obj, functools.partial):
            return self._partial(obj)  # pyright: ignore[reportUnknownArgumentType]
        if isinstance(obj, dict):
            items = tuple(
                _Prefixed(f"{key!r}: ", self.convert(value))
                for key, value in obj.items()  # pyright: ignore[reportUnknownVariableType]
            )
            return _Bracketed("{", items, "}")
        if isinstance(obj, list):
            return _Bracketed("[", self._convert_all(obj), "]")  # pyright: ignore[reportUnknownArgumentType]
        return _Bracketed("(", self._convert_all(obj), ")", single_comma=True)

    def _convert_all(self, values: list[Any] | tuple[Any, ...]) -> tuple[_Doc, ...]:
        return tuple(self.convert(value) for value in values)

    def _named_items(self, name: str, items: list[tuple[str, Any]]) -> _Bracketed:
        docs: list[_Doc] = []
        for key, value in items:  # a loop, not a generator: one frame fewer per level
            docs.append(_Prefixed(f"{key}=", self.convert(value)))
        return _Bracketed(f"{name}(", tuple(docs), ")")

    def _partial(self, obj: functools.partial[Any]) -> _Bracketed:
        docs: list[_Doc] = [self.convert(obj.func), *self._convert_all(obj.args)]
        docs.extend(_Prefixed(f"{k}=", self.convert(v)) for k, v in obj.keywords.items())
        return _Bracketed("partial(", tuple(docs), ")")


# --------------------------------------------------------------------------------------
# Public API
# --------------------------------------------------------------------------------------


def tree_pformat(
    pytree: Any,
    *,
    width: int = 80,
    indent: int = 2,
    short_arrays: bool = True,
    struct_as_array: bool = False,
    truncate_leaf: Callable[[Any], bool] = _never,
) -> str:
    """Format a PyTree (or any object) as a readable string.

    Arrays are summarised by dtype and shape (``f32[3,2]``; weakly typed JAX arrays,
    such as ``jnp.asarray(1.0)``, read ``weak_f32[]``; NumPy arrays get a ``(numpy)``
    suffix); dataclasses — Modules included — appear as ``Name(field=value, ...)``
    (``Name`` qualified: ``Outer.Inner``) with their ``repr=True`` fields; containers, namedtuples and ``functools.partial``
    objects have compact forms; Python functions show their qualified name
    (``<function Model.loss>``) and wrappers of one (``functools.wraps``,
    ``jax.jit``, the filtered transformations) ``<wrapped function name>``.
    Anything else, NumPy scalars, builtins and bound methods included, uses its
    ``repr``. A container that contains itself prints as
    ``<cycle>`` where it reappears.

    Arguments:
        pytree: the object to format.
        width: the maximum line length aimed for. A group that does not fit on the
            remaining line is broken into one item per line.
        indent: spaces added per nesting level in broken groups.
        short_arrays: summarise arrays by dtype and shape; if False, print their
            values in full (traced arrays have no values and are always summarised).
        struct_as_array: summarise ``jax.ShapeDtypeStruct`` objects as arrays.
        truncate_leaf: a predicate; any object for which it is True is printed only as
            ``TypeName(...)``.

    Returns:
        The formatted string (possibly spanning several lines).

    Example:
        >>> import jax.numpy as jnp
        >>> tree_pformat({"w": jnp.zeros((3, 2)), "n": 3})
        "{'w': f32[3,2], 'n': 3}"
        >>> print(tree_pformat([1, 2, 3], width=5))
        [
          1,
          2,
          3
        ]
    """
    if width < 1 or indent < 0:
        raise ValueError(f"need width >= 1 and indent >= 0; got {width=}, {indent=}")
    converter = _Converter(short_arrays, struct_as_array, truncate_leaf)
    doc = converter.convert(pytree)
    return _Layout(width, indent).render(doc, level=0, column=0, trailing=0)


def tree_pprint(
    pytree: Any,
    *,
    width: int = 80,
    indent: int = 2,
    short_arrays: bool = True,
    struct_as_array: bool = False,
    truncate_leaf: Callable[[Any], bool] = _never,
) -> None:
    """Print ``tree_pformat(pytree, ...)``; the arguments are those of :func:`tree_pformat`.

    Example:
        >>> tree_pprint({"a": (1, 2)})
        {'a': (1, 2)}
    """
    text = tree_pformat(
        pytree,
        width=width,
        indent=indent,
        short_arrays=short_arrays,
        struct_as_array=struct_as_array,
        truncate_leaf=truncate_leaf,
    )
    print(text)
