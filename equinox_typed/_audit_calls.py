"""The shape flow of a forward pass: one row per Module call, found by tracing abstractly.

:func:`trace_calls` runs ``model(*inputs)`` under ``filter_eval_shape`` (nothing is
computed or allocated) in the ``"always"`` checking mode. For the duration, the
``__call__`` of every Module class in the model is replaced by a recording version that

- notes the call (the Module's key path in the model, its inputs) before it runs and
  its output after;
- checks the call's arguments and result against the method's annotations, with the
  layer's size fields bound (as :func:`~equinox_typed._call_checks.checked_call` does
  for the built-in layers), so user Modules are checked too;
- attributes the first failure to the innermost call running when it happened: the
  first layer where the shapes stop fitting.

Replacing a class attribute is visible to every thread, so the recording version
defers to the original unless *this* context is recording (a context variable), and
the replacement is reference-counted across concurrent audits.
"""

from __future__ import annotations

import contextlib
import contextvars
import dataclasses
import functools
import threading
import typing
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import Any, Final

from ._audit_report import CallRow, CallStatus, Violation
from ._call_checks import checked_call
from ._checking import TypeCheckError, checks
from ._eval_shape import filter_eval_shape
from ._jax_typed import keystr, tree_flatten_with_path
from ._module import Module
from ._shape_spec import summarise

__all__ = ["module_paths", "trace_calls"]


def _is_module(x: Any) -> bool:
    return isinstance(x, Module)


def module_paths(tree: Any, path: str = "") -> Iterator[tuple[str, Module]]:
    """Every Module inside ``tree`` (``tree`` itself included), parents before their
    children, each with its key path (``""`` for ``tree``)."""
    for key_path, node in tree_flatten_with_path(tree, is_leaf=_is_module)[0]:
        if isinstance(node, Module):
            node_path = path + keystr(key_path)
            yield node_path, node

            def is_child(x: Any, parent: Module = node) -> bool:
                return x is not parent and isinstance(x, Module)

            for child_key, child in tree_flatten_with_path(node, is_leaf=is_child)[0]:
                if isinstance(child, Module):
                    yield from module_paths(child, node_path + keystr(child_key))


@dataclasses.dataclass
class _OpenCall:
    """A call row while the pass runs (frozen into a :class:`CallRow` at the end)."""

    path: str | None
    module: str
    depth: int
    inputs: tuple[str, ...]
    output: str | None = None
    status: CallStatus = "aborted"


class _Recorder:
    """The calls of one forward pass, and where it first failed."""

    def __init__(self) -> None:
        self.paths: dict[int, str] = {}
        self.calls: list[_OpenCall] = []
        self._running: list[int] = []  # ids of the Modules whose call is running
        self.failure: tuple[int, Exception] | None = None

    def call(
        self, method: Callable[..., Any], module: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        if self._running and self._running[-1] == id(module):
            # `super().__call__(x)` inside an overriding `__call__`: the same call.
            return method(module, *args, **kwargs)
        # Keyword arguments left at None (`key=None`, passed along by containers) are
        # noise in a table of shapes.
        inputs = tuple(summarise(a) for a in args) + tuple(
            f"{k}={summarise(v)}" for k, v in kwargs.items() if v is not None
        )
        row = _OpenCall(self.paths.get(id(module)), type(module).__qualname__, len(self._running), inputs)
        index = len(self.calls)
        self.calls.append(row)
        self._running.append(id(module))
        try:
            out = method(module, *args, **kwargs)
        except Exception as error:
            if self.failure is None:  # the innermost running call sees it first
                self.failure = (index, error)
            row.status = "failed" if self.failure[0] == index else "aborted"
            raise
        finally:
            self._running.pop()
        row.output, row.status = summarise(out), "ok"
        return out


_RECORDER: Final[contextvars.ContextVar[_Recorder | None]] = contextvars.ContextVar(
    "equinox_typed_audit_recorder", default=None
)


def _checked(method: Callable[..., Any]) -> Callable[..., Any]:
    """``method`` checking its annotations on each call, or ``method`` itself when its
    annotations cannot be resolved (they are then unchecked, as everywhere else)."""
    try:
        hints = typing.get_type_hints(method, include_extras=True)
    except Exception:
        return method
    if all(hint is Any for hint in hints.values()):
        return method
    return checked_call(method)


def _recording(method: Callable[..., Any]) -> Callable[..., Any]:
    checked = _checked(method)

    @functools.wraps(method)
    def recording(module: Any, *args: Any, **kwargs: Any) -> Any:
        recorder = _RECORDER.get()
        if recorder is None:  # another thread or context, not auditing
            return method(module, *args, **kwargs)
        return recorder.call(checked, module, args, kwargs)

    return recording


_PATCH_LOCK: Final = threading.Lock()
# class -> (its own `__call__` attribute before patching, number of audits patching it)
_PATCHED: dict[type, tuple[Any, int]] = {}


def _call_owners(modules: Iterable[Module]) -> set[type]:
    """The classes whose own ``__call__`` the given Modules run."""
    owners: set[type] = set()
    for module in modules:
        for klass in type(module).__mro__:
            if "__call__" in vars(klass):
                if issubclass(klass, Module) and klass is not Module:
                    owners.add(klass)
                break
    return owners


@contextlib.contextmanager
def _recording_classes(classes: set[type]) -> Generator[None, None, None]:
    with _PATCH_LOCK:
        for klass in classes:
            original, users = _PATCHED.get(klass, (vars(klass)["__call__"], 0))
            if users == 0:
                # The plain function: a Module class binds methods through a descriptor.
                method = original.__get__(None, klass)
                setattr(klass, "__call__", _recording(method))
            _PATCHED[klass] = (original, users + 1)
    try:
        yield
    finally:
        with _PATCH_LOCK:
            for klass in classes:
                original, users = _PATCHED.pop(klass)
                if users == 1:
                    setattr(klass, "__call__", original)
                else:
                    _PATCHED[klass] = (original, users - 1)


def _describe_error(error: Exception) -> str:
    text = str(error)
    # The engine's messages say what kind of failure they are; others get their type.
    return text if isinstance(error, TypeCheckError) else f"{type(error).__name__}: {text}"


def trace_calls(
    model: Any, inputs: tuple[Any, ...]
) -> tuple[tuple[CallRow, ...], Violation | None]:
    """Trace ``model(*inputs)`` abstractly, recording every Module call.

    **Arguments:**

    - ``model``: a callable Module.
    - ``inputs``: its positional arguments: arrays or ``jax.ShapeDtypeStruct`` (both
      traced abstractly), or other values passed as they are.

    **Returns:** ``(calls, failure)``: the calls in the order they started, and ``None``
    or the :class:`Violation` of the first failure, at the innermost call running when
    it happened.

    ```python
    calls, failure = trace_calls(mlp, (jax.ShapeDtypeStruct((3,), jnp.float32),))
    ```
    """
    recorder = _Recorder()

    def forward(model_: Any, inputs_: tuple[Any, ...]) -> Any:
        recorder.paths = {id(m): p for p, m in module_paths(model_)}
        token = _RECORDER.set(recorder)
        try:
            return model_(*inputs_)
        finally:
            _RECORDER.reset(token)

    failure: Violation | None = None
    with _recording_classes(_call_owners(m for _, m in module_paths(model))), checks("always"):
        try:
            filter_eval_shape(forward, model, inputs)
        except Exception as error:
            failure = _failure(recorder, error)
    calls = tuple(
        CallRow(c.path, c.module, c.depth, c.inputs, c.output, c.status) for c in recorder.calls
    )
    return calls, failure


def _failure(recorder: _Recorder, error: Exception) -> Violation:
    if recorder.failure is None:  # raised outside every Module call
        return Violation("call", "", f"the forward pass failed: {_describe_error(error)}")
    index, first = recorder.failure
    call = recorder.calls[index]
    where = "a Module outside the tree" if call.path is None else f"`{call.path or '(root)'}`"
    return Violation(
        "call",
        call.path or "",
        f"the forward pass first fails in the call of {call.module} at {where}:\n"
        + _describe_error(first),
    )
