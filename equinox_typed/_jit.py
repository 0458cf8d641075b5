"""``filter_jit``: compile a function of arbitrary PyTrees; arrays are traced, the rest static.

How a call is dispatched (the hot path, kept short on purpose):

1. one C-level flatten of ``(fun, args, kwargs)``;
2. the array leaves become the dynamic inputs; everything else, together with the
   treedef, forms a hashable tuple passed to an inner ``jax.jit`` function as a static
   argument, so JAX's C++ dispatch does the cache lookup. Nothing about checking is in
   that key: switching the checking mode or backend never compiles anything anew;
3. boundary checks (eager mode) are memoised per compiled signature: the first trace
   of a signature checks the caller's *concrete* arguments at its start (before the
   wrapped function runs or anything executes) and the return value abstractly at its
   end, in the same dimension memo, and records the checking token it passed under in
   a :class:`_TraceRecord` returned with the output. JAX stores that record with the
   compiled code, so every call gets back the record of the signature it ran: a
   repeated call whose record holds the current token pays no check. A signature
   traced while checks were off (or under another backend) is checked on its first
   call under the current token, at the boundary, before the result is returned.

Non-array outputs are carried back in the same record (the output *treedef*), so they
survive cache hits without re-tracing.
"""

from __future__ import annotations

import dataclasses
import threading
import warnings
from itertools import compress
from operator import not_
from collections.abc import Callable, Iterator
from typing import Any, Final, Generic, Literal, ParamSpec, Protocol, TypeAlias, TypeVar, overload

import jax.tree_util as jtu
from jax import ensure_compile_time_eval
from jax.core import Tracer

# Absolute: pyright reports `from . import _checking` as private usage, since the
# package's __init__ imports names from it.
import equinox_typed._checking as _checking
from ._boundary import Boundary, copy_function_metadata
from ._errors import JaxRuntimeError, raise_if_error_if
from ._filters import ARRAY_TYPES
from ._jax_typed import (
    TreeDef,
    eval_shape,
    jit,
    keystr,
    register_pytree_node,
    tree_flatten,
    tree_flatten_with_path,
)
from ._missing import MISSING
from ._trace_attempts import trace_attempt
from ._module import Module

__all__ = ["DONATE_MODES", "Donate", "filter_jit"]

_P = ParamSpec("_P")
_R = TypeVar("_R")

Donate: TypeAlias = Literal["none", "all", "all-except-first", "warn", "warn-except-first"]
DONATE_MODES: Final = ("none", "all", "all-except-first", "warn", "warn-except-first")


class _ArrayKinds(dict[type, bool]):
    """Whether leaves of a given type are traced, cached per type.

    ``map(kinds.__getitem__, map(type, leaves))`` classifies a whole flattened call at C
    speed: the Python-level ``__missing__`` runs once per new type. Being an array is a
    property of the type, except for tracers, which ``jax.Array``'s metaclass recognises
    per instance; every tracer is a traced value, so each tracer type counts as an array.
    """

    def __missing__(self, kind: type) -> bool:
        is_array = issubclass(kind, ARRAY_TYPES) or issubclass(kind, Tracer)
        self[kind] = is_array
        return is_array


_ARRAY_KINDS: Final = _ArrayKinds()


def clear_array_kinds() -> None:
    """Forget the classified leaf types (``eqx.clear_caches``), releasing the types."""
    _ARRAY_KINDS.clear()


# The static argument of the inner `jax.jit` function: (treedef of (fun, args, kwargs),
# one flag per leaf saying whether it is an array, the non-array leaves). A plain tuple,
# so that JAX's C++ dispatch hashes and compares it without calling back into Python.
# No checking state is part of it: compiled code does not depend on checks.
_Static: TypeAlias = tuple[TreeDef, tuple[bool, ...], tuple[Any, ...]]


def _split_leaves(leaves: list[Any], treedef: TreeDef) -> tuple[_Static, list[Any]]:
    """``(static, arrays)`` for the leaves of a flattened call, without a Python loop."""
    flags = tuple(map(_ARRAY_KINDS.__getitem__, map(type, leaves)))
    return (treedef, flags, tuple(compress(leaves, map(not_, flags)))), list(
        compress(leaves, flags)
    )


class _StaticOutput:
    """Non-array parts of an output, carried as auxiliary data of an empty PyTree node.

    JAX stores a compiled function's output treedef, so these come back on every cache
    hit without tracing again.
    """

    __slots__ = ("treedef", "leaves")

    def __init__(self, treedef: TreeDef, leaves: tuple[Any, ...]) -> None:
        self.treedef = treedef
        self.leaves = leaves

    def rebuild(self, dynamic: list[Any]) -> Any:
        it = iter(dynamic)
        return self.treedef.unflatten([next(it) if x is None else x for x in self.leaves])


register_pytree_node(_StaticOutput, lambda s: ((), s), lambda aux, _: aux)


def split_output(out: Any) -> tuple[Any, _StaticOutput | None]:
    """Split a traced output into what JAX can return and what it cannot.

    **Returns:** ``(out, None)`` when every leaf is an array (the common case, no copy),
    else ``(array_leaves, static)`` with ``static.rebuild(array_leaves)`` the original.
    Shared with ``filter_pmap``.
    """
    leaves, treedef = tree_flatten(out)
    if all(isinstance(x, ARRAY_TYPES) for x in leaves):
        return out, None
    dynamic = [x for x in leaves if isinstance(x, ARRAY_TYPES)]
    static = tuple([None if isinstance(x, ARRAY_TYPES) else x for x in leaves])
    return dynamic, _StaticOutput(treedef, static)


def join_output(out: Any, static: _StaticOutput | None) -> Any:
    """Inverse of :func:`split_output`."""
    return out if static is None else static.rebuild(out)


class _TraceRecord:
    """What one trace of a signature returns besides its arrays: the non-array parts of
    the output, and the checking tokens (:func:`~equinox_typed._checking.check_token`)
    under which the signature's checks have passed.

    The record is the auxiliary data of an empty PyTree node in the output, so JAX
    stores it with the compiled code and hands the same object back on every call of
    that signature: the memo of passed checks lives with what it vouches for, and the
    compilation cache key stays free of checking state.
    """

    __slots__ = ("static", "passed")

    def __init__(self, static: _StaticOutput | None, passed: set[str]) -> None:
        self.static = static
        self.passed = passed

    def rebuild(self, out: Any) -> Any:
        return out if self.static is None else self.static.rebuild(out)


register_pytree_node(_TraceRecord, lambda r: ((), r), lambda aux, _: aux)


def _rebuild_inputs(static: _Static, dynamic: list[Any]) -> Any:
    treedef, flags, others = static
    arrays, rest = iter(dynamic), iter(others)
    return treedef.unflatten([next(arrays) if flag else next(rest) for flag in flags])


# ---------------------------------------------------------------------------------------
# Errors for unhashable static parts.


def _unhashable_parts(tree: Any, path: str) -> Iterator[tuple[str, Any]]:
    """Key paths (and values) of the non-array parts of ``tree`` that cannot be hashed:
    leaves, and static fields of the Modules inside it."""

    def stop(x: Any) -> bool:
        return x is not tree and isinstance(x, Module)

    for key_path, node in tree_flatten_with_path(tree, is_leaf=stop)[0]:
        where = path + keystr(key_path)
        if isinstance(node, Module):
            for f in dataclasses.fields(node):
                if f.metadata.get("static", False):
                    value = node.__dict__[f.name]
                    try:
                        hash(value)
                    except TypeError:
                        yield f"{where}.{f.name}", value
            yield from _unhashable_parts(node, where)
        elif not isinstance(node, ARRAY_TYPES):
            try:
                hash(node)
            except TypeError:
                yield where, node


def _raise_if_unhashable(
    static: Any, fun: Any, args: tuple[Any, ...], kwargs: dict[str, Any], boundary: Boundary
) -> None:
    """Turn JAX's complaint about an unhashable static argument into a clear error."""
    try:
        hash(static)
    except TypeError:
        raise _unhashable_error(fun, args, kwargs, boundary) from None


def _unhashable_error(
    fun: Any, args: tuple[Any, ...], kwargs: dict[str, Any], boundary: Boundary
) -> TypeError:
    named = boundary.label_arguments(args, kwargs) or [
        *((f"args[{i}]", a) for i, a in enumerate(args)),
        *((f"kwargs[{k!r}]", v) for k, v in kwargs.items()),
    ]
    for label, value in [*named, ("fun", fun)]:
        for where, leaf in _unhashable_parts(value, label):
            return TypeError(
                f"filter_jit({boundary.owner}): the non-array value at `{where}` "
                f"(of type {type(leaf).__qualname__}) is unhashable. Non-array leaves "
                f"are static, i.e. part of the compilation cache key, so they must be "
                f"hashable; pass arrays instead, or make the value hashable."
            )
    return TypeError(
        f"filter_jit({boundary.owner}): some static (non-array) part of the arguments "
        f"is unhashable"
    )


# ---------------------------------------------------------------------------------------
# The wrapper.


# A call this thread is dispatching with checks on: the wrapper's boundary, the
# arguments as the caller passed them, and the checking token they are checked under.
_Call: TypeAlias = tuple[Boundary, tuple[Any, ...], dict[str, Any], str]


class _PendingCall(threading.local):
    """The checked call this thread is dispatching (see :data:`_Call`).

    The compiled inner function is shared by every wrapper of an equal function (see
    :func:`_shared_inner`), so the trace learns *whose* call it checks from here. JAX
    traces on the calling thread, so a per-thread slot hands every trace its own call,
    never another thread's; the trace takes it (clearing the slot), and the call clears
    it when it returns or raises, so nothing keeps the arguments alive. An empty slot
    when a trace starts means the call is not checked.
    """

    call: _Call | None = None


_PENDING: Final = _PendingCall()


class Lowered(Generic[_R]):
    """Ahead-of-time lowering of a :func:`filter_jit` function for given arguments.

    ``.compile()`` gives a :class:`Compiled`, callable with arguments of the same
    structure, shapes and static values; ``.as_text()`` shows the lowered program.
    """

    def __init__(self, lowered: Any, static: _Static, split: Callable[..., Any]) -> None:
        self.lowered = lowered
        self._static = static
        self._split = split

    def as_text(self) -> str:
        return str(self.lowered.as_text())

    def compile(self, compiler_options: dict[str, Any] | None = None) -> Compiled[_R]:
        """Compile the lowered program.

        **Arguments:**

        - ``compiler_options``: XLA options for this compilation only, e.g.
          ``{"xla_embed_ir_in_executable": True}`` (as for ``jax.stages.Lowered.compile``).
        """
        return Compiled(self.lowered.compile(compiler_options), self._static, self._split)


class Compiled(Generic[_R]):
    """A compiled :func:`filter_jit` function (see :class:`Lowered`)."""

    def __init__(self, compiled: Any, static: _Static, split: Callable[..., Any]) -> None:
        self.compiled = compiled
        self._static = static
        self._split = split

    def __call__(self, *args: Any, **kwargs: Any) -> _R:
        static, *dynamic = self._split(args, kwargs)
        if static != self._static:
            raise TypeError(
                "this compiled function was lowered for arguments with different "
                "structure or static (non-array) values"
            )
        try:
            out, record = self.compiled(*dynamic)
        except (JaxRuntimeError, ValueError) as e:
            raise_if_error_if(e)
            raise
        result: _R = record.rebuild(out)
        return result


class _Jitted(Protocol[_P, _R]):
    """The type of what :func:`filter_jit` returns (a plain function at run time)."""

    def __call__(self, *args: _P.args, **kwargs: _P.kwargs) -> _R: ...

    def lower(self, *args: _P.args, **kwargs: _P.kwargs) -> Lowered[_R]: ...


def _checked_call(call: _Call, f: Any, a: tuple[Any, ...], k: dict[str, Any]) -> Any:
    """Run ``f(*a, **k)`` inside a trace, checking the caller's arguments first and the
    (abstract) return value after, in one dimension memo."""
    boundary, args, kwargs, _ = call
    # Concrete values stay concrete in the check (value validators such as
    # `Is[lambda x: x > 0]` compute with them), whatever trace is running.
    with ensure_compile_time_eval():
        items = boundary.check_arguments(args, kwargs)
    # A refused return value fails the trace after `f` ran: what `f` recorded as traced
    # (eqx.debug.assert_max_traces) is taken back, as JAX caches nothing.
    with trace_attempt():
        out = f(*a, **k)
        with ensure_compile_time_eval():
            boundary.check_return(items, out)
    return out


def _merged(static: _Static, groups: tuple[list[Any], ...]) -> list[Any]:
    """The dynamic inputs in flattening order. With ``donate="*-except-first"`` they
    arrive in two groups: args[0]'s arrays (kept) and the others (donated: ``fun``'s,
    then the rest)."""
    if len(groups) == 1:
        return groups[0]
    kept, donated = groups
    n_fun_arrays = sum(static[1][: static[0].children()[0].num_leaves])
    return donated[:n_fun_arrays] + kept + donated[n_fun_arrays:]


def _run(static: _Static, *groups: list[Any]) -> Any:
    """The traced body shared by every wrapper: rebuild the call, check it if asked, run it.

    Nothing here depends on the wrapper: the wrapped function is part of ``static``
    and the dynamic inputs like the arguments, so JAX's cache is keyed by what is wrapped.
    A signature reaches here only when JAX has not traced it before, so a checked call
    is checked here once per signature, and the token it passed under goes into the
    returned :class:`_TraceRecord` (see the module docstring).
    """
    f, a, k = _rebuild_inputs(static, _merged(static, groups))
    call, _PENDING.call = _PENDING.call, None
    if call is None:
        out, passed = f(*a, **k), set[str]()
    else:
        out, passed = _checked_call(call, f, a, k), {call[3]}
    arrays, static_out = split_output(out)
    return arrays, _TraceRecord(static_out, passed)


def _check_again(call: _Call, record: _TraceRecord, result: Any) -> None:
    """Check a call whose signature was compiled without passing the checks of its
    token (traced while checks were off, or under another backend): its concrete
    arguments and result, at the boundary, before the result is returned. Once passed,
    the record remembers the token, so the next call of that signature pays nothing."""
    boundary, args, kwargs, token = call
    items = boundary.check_arguments(args, kwargs)
    boundary.check_return(items, result)
    record.passed.add(token)


def _check_lowered(call: _Call, static: _Static, parts: tuple[Any, ...], lowered: Any) -> None:
    """:func:`_check_again` for ``.lower``, which runs nothing: the return value is
    checked abstractly, in a trace of its own (a shape evaluation, not a compilation)."""
    record = getattr(lowered, "out_info", (None, None))[1]
    if isinstance(record, _TraceRecord) and call[3] in record.passed:
        return

    def check(*groups: list[Any]) -> None:
        f, a, k = _rebuild_inputs(static, _merged(static, groups))
        _checked_call(call, f, a, k)

    eval_shape(check, *parts)
    if isinstance(record, _TraceRecord):
        record.passed.add(call[3])


# JAX-jitted inner functions, one per (name, qualname, donate, jitkwargs): every
# `filter_jit` wrapper of an equal function (re-wrapped each step, rebuilt around a new
# `filter_grad`, bound to an equal instance...) finds the compiled code of the others,
# since the function itself is in the static argument. Bounded by the distinct names.
_INNER: Final[dict[Any, Callable[..., Any]]] = {}


def _shared_inner(
    name: str, qualname: str, donate: Donate, jitkwargs: dict[str, Any]
) -> Callable[..., Any]:
    """The JAX-jitted inner function for wrappers with these settings."""
    key = (name, qualname, donate, tuple(sorted(jitkwargs.items())))
    try:
        return _INNER[key]
    except TypeError:  # an unhashable jit option: this wrapper gets its own
        return _build_inner(name, qualname, donate, jitkwargs)
    except KeyError:
        inner = _INNER[key] = _build_inner(name, qualname, donate, jitkwargs)
        return inner


def _build_inner(
    name: str, qualname: str, donate: Donate, jitkwargs: dict[str, Any]
) -> Callable[..., Any]:
    except_first = donate in ("all-except-first", "warn-except-first")

    # A fresh function per inner jit, so that profiles and HLO dumps show the user's name.
    def traced(static: _Static, *dynamic: list[Any]) -> Any:
        return _run(static, *dynamic)

    traced.__name__, traced.__qualname__ = name, qualname
    donate_argnums: tuple[int, ...] = (
        () if donate == "none" else (2,) if except_first else (1,)
    )
    inner: Callable[..., Any] = jit(
        traced, static_argnums=0, donate_argnums=donate_argnums, **jitkwargs
    )
    return inner


def _make_jitted(fun: Callable[..., Any], donate: Donate, jitkwargs: dict[str, Any]) -> Any:
    """Build the filter-jitted function for ``fun`` (see the module docstring)."""
    boundary = Boundary(fun)
    except_first = donate in ("all-except-first", "warn-except-first")
    silence = donate in ("all", "all-except-first")
    # `fun` is fixed, so the number of its leaves is too: args[0]'s leaves follow them
    # in the flattening of (fun, args, kwargs).
    n_fun_leaves = len(jtu.tree_leaves(fun))
    is_array_kind = _ARRAY_KINDS
    flatten = tree_flatten
    checks_active, get_token = _checking.checks_active, _checking.check_token
    pending = _PENDING
    name = str(getattr(fun, "__name__", "fun"))
    inner = _shared_inner(name, str(getattr(fun, "__qualname__", name)), donate, jitkwargs)

    def split(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple[Any, ...]:
        """``(static, *dynamic_groups)`` for a call: one flatten, one pass over leaves."""
        leaves, treedef = flatten((fun, args, kwargs))
        static, arrays = _split_leaves(leaves, treedef)
        if not except_first:
            return static, arrays
        end = n_fun_leaves + (len(jtu.tree_leaves(args[0])) if args else 0)
        first = [x for x in leaves[n_fun_leaves:end] if is_array_kind[type(x)]]
        rest = [x for x in leaves[:n_fun_leaves] + leaves[end:] if is_array_kind[type(x)]]
        return static, first, rest

    def checked_call(args: tuple[Any, ...], kwargs: dict[str, Any]) -> _Call | None:
        """The call to check, when checks are active here; value-dependent annotations
        (``Is[...]``) are checked now, since a trace checks once per signature."""
        if not checks_active():
            return None
        if boundary.value_dependent:
            boundary.check_arguments(args, kwargs)
        return (boundary, args, kwargs, get_token())

    def dispatch(parts: tuple[Any, ...], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        try:
            if silence:
                with warnings.catch_warnings():
                    warnings.filterwarnings("ignore", "Some donated buffers were not usable")
                    return inner(*parts)
            return inner(*parts)
        except (TypeError, ValueError) as e:
            raise_if_error_if(e)  # an eqx.error_if failed: raise it as itself
            _raise_if_unhashable(parts[0], fun, args, kwargs, boundary)
            raise
        except JaxRuntimeError as e:
            raise_if_error_if(e)
            raise

    def jitted(*args: Any, **kwargs: Any) -> Any:
        call = checked_call(args, kwargs)
        parts = split(args, kwargs)
        pending.call = call
        try:
            out, record = dispatch(parts, args, kwargs)
        finally:
            pending.call = None
        result = record.rebuild(out)
        if call is not None and call[3] not in record.passed:
            _check_again(call, record, result)
        return result

    def jitted_fast(*args: Any, **kwargs: Any) -> Any:
        # `jitted` for the common case (no donation of a subset, no warning filter),
        # inlined: this is the per-call overhead that matters.
        call: _Call | None = None
        if checks_active():
            if boundary.value_dependent:  # a trace checks once per signature: not enough
                boundary.check_arguments(args, kwargs)
            call = (boundary, args, kwargs, get_token())
        leaves, treedef = flatten((fun, args, kwargs))
        static, arrays = _split_leaves(leaves, treedef)
        pending.call = call  # set once nothing can fail before `try`
        try:
            out, record = inner(static, arrays)
        except (TypeError, ValueError) as e:
            raise_if_error_if(e)  # an eqx.error_if failed: raise it as itself
            _raise_if_unhashable(static, fun, args, kwargs, boundary)
            raise
        except JaxRuntimeError as e:
            raise_if_error_if(e)
            raise
        finally:
            pending.call = None
        result = out if record.static is None else record.static.rebuild(out)
        if call is not None and call[3] not in record.passed:
            _check_again(call, record, result)
        return result

    def lower(*args: Any, **kwargs: Any) -> Lowered[Any]:
        call = checked_call(args, kwargs)
        parts = split(args, kwargs)
        pending.call = call
        try:
            lowered = inner.lower(*parts)  # type: ignore[attr-defined]
        finally:
            pending.call = None
        if call is not None:
            _check_lowered(call, parts[0], parts[1:], lowered)
        return Lowered(lowered, parts[0], split)

    wrapper = jitted if except_first or silence else jitted_fast
    copy_function_metadata(wrapper, fun)
    setattr(wrapper, "lower", lower)  # a function attribute (see `_Jitted`)
    return wrapper


# `jax.jit` options that `filter_jit` decides itself.
_OWN_JIT_OPTIONS: Final = frozenset(
    {"static_argnums", "static_argnames", "donate_argnums", "donate_argnames"}
)


@overload
def filter_jit(
    *, donate: Donate = "none", **jitkwargs: Any
) -> Callable[[Callable[_P, _R]], _Jitted[_P, _R]]: ...


@overload
def filter_jit(
    fun: Callable[_P, _R], *, donate: Donate = "none", **jitkwargs: Any
) -> _Jitted[_P, _R]: ...


def filter_jit(fun: Any = MISSING, *, donate: Donate = "none", **jitkwargs: Any) -> Any:
    """Compile ``fun`` with XLA; array leaves of its inputs are traced, all else is static.

    Every JAX/NumPy array anywhere in the arguments (positional and keyword) and in
    ``fun`` itself (when it is a PyTree, e.g. ``model.__call__``) is traced. Every other
    leaf (Python numbers, strings, functions, static Module fields) is part of the
    compilation cache key: a new value compiles anew. Outputs may contain non-array
    leaves; they are returned as they were produced while tracing.

    In checking mode ``"eager"`` (default), the arguments are checked against ``fun``'s
    jaxtyping annotations and every Module inside them against its field annotations
    before dispatch, and the result against the return annotation after; passed checks
    are memoised by signature.

    **Arguments:**

    - ``fun``: the function to compile. Usable as ``@filter_jit`` or
      ``@filter_jit(donate=...)``.
    - ``donate``: which input buffers XLA may reuse for outputs: ``"none"`` (default),
      ``"all"``, ``"all-except-first"`` (all but the first positional argument's arrays),
      or ``"warn"``/``"warn-except-first"`` (the same, without silencing JAX's warning
      when a buffer could not be used).
    - ``**jitkwargs``: further options for the underlying ``jax.jit`` (``inline=True``,
      ``keep_unused=True``, ``device=...``...); which arguments are static or donated is
      decided as above, so ``static_argnums``/``donate_argnums`` and their ``*names``
      variants are refused.

    **Returns:** a function with the signature of ``fun``; ``.lower(*args, **kwargs)``
    lowers it ahead of time (``.lower(...).compile()`` compiles it).

    ```python
    @eqx.filter_jit
    def loss(model, x, y):
        return jnp.mean((jax.vmap(model)(x) - y) ** 2)
    ```
    """
    if donate not in DONATE_MODES:
        raise ValueError(f"donate must be one of {DONATE_MODES}, got {donate!r}")
    refused = sorted(_OWN_JIT_OPTIONS.intersection(jitkwargs))
    if refused:
        raise ValueError(
            f"filter_jit does not take {', '.join(refused)}: array leaves are traced "
            f"and everything else is static, and `donate=` chooses what is donated"
        )
    if fun is MISSING:

        def decorator(f: Callable[..., Any]) -> Any:
            return filter_jit(f, donate=donate, **jitkwargs)

        return decorator
    if not callable(fun):
        raise TypeError(f"filter_jit needs a callable, got {type(fun).__qualname__}")
    return _make_jitted(fun, donate, jitkwargs)
