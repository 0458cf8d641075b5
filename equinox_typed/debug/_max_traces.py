"""``assert_max_traces`` and ``get_num_traces``: guard a function against retracing."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any

import jax

from .._jax_typed import TreeDef, shape_dtype_struct, tree_flatten
from .._module import field
from .._pretty import tree_pformat
from .._trace_attempts import on_failure, trace_attempt
from .._tree import Partial
from .._wrapper import FunctionWrapper

__all__ = ["assert_max_traces", "get_num_traces"]

# One argument as a trace sees it: its tree structure, with each array replaced by its
# shape and dtype (what a retrace depends on) and every other leaf kept as it is.
_Structure = tuple[TreeDef, tuple[Any, ...]]


class _TraceLog:
    """The traces of one ``assert_max_traces`` wrapper: shared by every copy of it (it is
    a static field, so ``jax.tree.map``/``filter_jit`` rebuilds keep the same log)."""

    __slots__ = ("traces",)

    def __init__(self) -> None:
        # One entry per successful trace: each argument's name and structure.
        self.traces: list[dict[str, _Structure]] = []


def _leaf_structure(leaf: Any) -> Any:
    if isinstance(leaf, jax.Array) or (hasattr(leaf, "shape") and hasattr(leaf, "dtype")):
        return shape_dtype_struct(leaf.shape, leaf.dtype)
    return leaf


def _structure(value: Any) -> _Structure:
    leaves, treedef = tree_flatten(value)
    return treedef, tuple(map(_leaf_structure, leaves))


def _same(a: _Structure, b: _Structure) -> bool:
    if a[0] != b[0] or len(a[1]) != len(b[1]):
        return False
    for x, y in zip(a[1], b[1], strict=True):
        try:
            if not bool(x == y):
                return False
        except Exception:  # an `==` without a truth value: only identity is certain
            if x is not y:
                return False
    return True


def _show(structure: _Structure) -> str:
    treedef, leaves = structure
    return tree_pformat(treedef.unflatten(leaves), struct_as_array=True)


def _named_arguments(fun: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
    """Each argument under its parameter name (positional labels where none can be had)."""
    try:
        return dict(inspect.signature(fun).bind(*args, **kwargs).arguments)
    except (TypeError, ValueError):  # no signature, or a call `fun` itself will refuse
        return {**{f"args[{i}]": a for i, a in enumerate(args)}, **kwargs}


def _too_many(owner: str, max_traces: int, log: _TraceLog, now: dict[str, _Structure]) -> str:
    done = len(log.traces)
    head = (
        f"`{owner}` may be traced at most {max_traces} time{'s' * (max_traces != 1)} "
        f"(eqx.debug.assert_max_traces), but it has been traced {done} "
        f"time{'s' * (done != 1)} already and is being traced again. "
    )
    for name, structure in now.items():
        earlier = [t[name] for t in log.traces if name in t]
        if not any(_same(structure, e) for e in earlier):
            shown = "\n".join(f"  {_show(e)}" for e in earlier) or "  (none)"
            return (
                f"{head}The argument '{name}' differs from every earlier trace: it is "
                f"now\n  {_show(structure)}\nand was before\n{shown}"
            )
    return (
        f"{head}No argument differs from an earlier trace in structure, shapes, dtypes "
        f"or static values, so the retrace comes from elsewhere (a new jit wrapper, a "
        f"changed closure, a cleared cache...)."
    )


class _AssertMaxTraces(FunctionWrapper):
    """``fun``, counting the times it is called (traced, when placed inside ``jit``)."""

    max_traces: int | None = field(static=True)
    log: _TraceLog = field(static=True)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        log = self.log
        now = {
            name: _structure(value)
            for name, value in _named_arguments(self.fun, args, kwargs).items()
        }
        if self.max_traces is not None and len(log.traces) >= self.max_traces:
            owner = str(getattr(self, "__qualname__", type(self.fun).__qualname__))
            raise RuntimeError(_too_many(owner, self.max_traces, log, now))
        log.traces.append(now)
        with trace_attempt():
            # A failed trace is not cached by JAX: take it back (see `_trace_attempts`).
            on_failure(lambda: log.traces.remove(now))
            return self.fun(*args, **kwargs)


def _check_max_traces(max_traces: object) -> int | None:
    if max_traces is None:
        return None
    if not isinstance(max_traces, int) or isinstance(max_traces, bool):
        raise TypeError(
            f"assert_max_traces: max_traces must be an int or None, got "
            f"{type(max_traces).__qualname__}"
        )
    if max_traces < 0:
        raise ValueError(f"assert_max_traces: max_traces must be >= 0, got {max_traces}")
    return max_traces


def assert_max_traces(fn: Callable[..., Any] | None = None, *, max_traces: int | None) -> Any:
    """Raise if ``fn`` is called -- traced, when the wrapper sits inside a ``jit`` --
    more than ``max_traces`` times: a guard against accidental recompilation.

    **Arguments:**

    - ``fn``: the callable to guard (a function, a callable Module, ...). Omit it to
      use ``assert_max_traces(max_traces=N)`` as a decorator.
    - ``max_traces``: keyword only: the most traces allowed; ``None`` for no limit (the
      count is still available through :func:`get_num_traces`).

    **Returns:** ``fn`` wrapped (same signature, name and annotations). A call beyond
    the limit raises ``RuntimeError`` naming ``fn`` and the first argument whose
    structure, shape, dtype or static value differs from every earlier trace.

    Only traces that succeed count: one that raises -- ``fn`` failed, or the boundary
    of ``filter_jit``/``filter_vmap``/``filter_grad`` refused the arguments or the return
    value -- is not cached by JAX and is not counted. The count belongs to the wrapper
    (and its copies), so two separate wrappers of one function are counted apart.

    ```python
    @eqx.filter_jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def step(model, x):
        return model(x)
    ```
    """
    limit = _check_max_traces(max_traces)
    if fn is None:
        return functools.partial(assert_max_traces, max_traces=limit)
    if not callable(fn):
        raise TypeError(f"assert_max_traces needs a callable, got {type(fn).__qualname__}")
    return _AssertMaxTraces(fn, max_traces=limit, log=_TraceLog())


def _find_log(fn: Any) -> _TraceLog | None:
    seen: set[int] = set()
    while id(fn) not in seen:
        seen.add(id(fn))
        if isinstance(fn, _AssertMaxTraces):
            return fn.log
        if isinstance(fn, (Partial, functools.partial)):  # a bound or partial call
            fn = fn.func
        elif hasattr(fn, "__wrapped__"):  # a transformation or decorator around it
            fn = fn.__wrapped__
        else:
            return None
    return None


def get_num_traces(fn: Callable[..., Any]) -> int:
    """How many times the :func:`assert_max_traces` wrapper inside ``fn`` has been
    traced (successfully) so far.

    ``fn`` is the wrapper itself or anything wrapping it (``filter_jit``, ``jax.jit``,
    ``functools.wraps`` decorators, a bound method). Raises ``ValueError`` if there is no
    such wrapper.

    ```python
    step(model, x)
    assert eqx.debug.get_num_traces(step) == 1
    ```
    """
    log = _find_log(fn)
    if log is None:
        raise ValueError(
            f"get_num_traces: {fn!r} is not (and does not wrap) a function wrapped in "
            f"eqx.debug.assert_max_traces"
        )
    return len(log.traces)
