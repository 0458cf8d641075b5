"""Runtime errors from inside compiled code: ``error_if`` and ``branched_error_if``.

How a check reaches the user:

- a predicate that is a Python ``bool`` is decided while tracing
  (:class:`EquinoxTracetimeError`);
- concrete arrays outside any trace are decided at once, in Python;
- otherwise the check is staged into the program: ``lax.cond`` on the predicate (reduced
  over any ``vmap`` axes first, so it stays a real branch) whose error branch is a host
  callback. The callback records the message and the user's call site under a fresh id
  and raises; JAX surfaces that as a ``JaxRuntimeError`` whose text carries the id, and
  :func:`raise_if_error_if` (called by ``filter_jit`` and by eager calls here) turns it
  back into an :class:`EquinoxRuntimeError` naming the call site.
"""

from __future__ import annotations

import logging
import os
import pathlib
import re
import secrets
import sys
import threading
import traceback
import types
import warnings
from collections.abc import Callable, Sequence
from typing import Any, Final, Literal, TypeAlias, cast

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
from jax import lax
from jax.custom_batching import custom_vmap
from jax.core import Tracer

from ._filters import combine, is_array, partition
from ._jax_typed import (
    JaxRuntimeError,
    asarray,
    cond,
    debug_breakpoint,
    eval_shape,
    full,
    iinfo,
    pure_callback,
    tree_flatten,
)

__all__ = [
    "EquinoxRuntimeError",
    "EquinoxTracetimeError",
    "JaxRuntimeError",
    "OnError",
    "any_over_batch",
    "call_site",
    "branched_error_if",
    "error_if",
    "raise_if_error_if",
]

OnError: TypeAlias = Literal["default", "raise", "breakpoint", "nan", "off"]
_MODES: Final = ("raise", "breakpoint", "nan", "off")

# Read once, as Equinox does: the mode is baked into programs when they are traced.
_ENV_ON_ERROR: Final = os.environ.get("EQX_ON_ERROR", "raise")
_ENV_BREAKPOINT_FRAMES: Final = os.environ.get("EQX_ON_ERROR_BREAKPOINT_FRAMES", "1")


class EquinoxRuntimeError(RuntimeError):
    """Raised when the predicate of :func:`error_if` is true while the program runs.

    The message is the one given to ``error_if``, followed by the place in your code
    where that ``error_if`` was called.
    """


class EquinoxTracetimeError(RuntimeError):
    """Raised by :func:`error_if` when its predicate is a Python ``bool`` that is
    already ``True`` while tracing (no need to wait for run time)."""


# --------------------------------------------------------------------------------------
# Where the check was written, and how a runtime failure finds its way back.
# --------------------------------------------------------------------------------------

_PACKAGE_DIR: Final = str(pathlib.Path(__file__).parent)
_JAX_DIR: Final = str(pathlib.Path(jax.__file__).parent)


def call_site() -> str:
    """The innermost frame outside this package and JAX, formatted as in a traceback:
    the user's line that called into this package (``error_if``, ``backward_nan``...)."""
    frame: types.FrameType | None = sys._getframe(1)  # pyright: ignore[reportPrivateUsage]
    while frame is not None:
        name = frame.f_code.co_filename
        if not (name.startswith(_PACKAGE_DIR) or name.startswith(_JAX_DIR)):
            break
        frame = frame.f_back
    if frame is None:
        return "  (unknown location)\n"
    summary = traceback.extract_stack(frame, limit=1)
    return "".join(traceback.format_list(summary))


_ERROR_ID: Final = re.compile(r"\[equinox_typed error ([0-9a-f]{16})\]")
_FAILURES: dict[str, tuple[str, str]] = {}  # id -> (message, call site), until re-raised
_FAILURES_LOCK: Final = threading.Lock()


def _runtime_error(message: str, site: str) -> EquinoxRuntimeError:
    return EquinoxRuntimeError(f"{message}\n\nRaised by the error_if at\n{site.rstrip()}")


class _CallbackFailure(RuntimeError):
    """What the host callback raises; JAX wraps it, keeping this text."""


class _HideCallbackFailures(logging.Filter):
    """JAX logs every failing callback with its traceback before raising; ours are
    expected failures, reported by the exception itself, so their log line is dropped."""

    def filter(self, record: logging.LogRecord) -> bool:
        failure = record.exc_info[1] if record.exc_info else None
        return not isinstance(failure, _CallbackFailure)


logging.getLogger("jax._src.callback").addFilter(_HideCallbackFailures())


def _fail(message: str, site: str) -> None:
    ident = secrets.token_hex(8)
    with _FAILURES_LOCK:
        if len(_FAILURES) > 64:  # failures raised under plain jax.jit are never claimed
            _FAILURES.clear()
        _FAILURES[ident] = (message, site)
    raise _CallbackFailure(
        f"[equinox_typed error {ident}] EquinoxRuntimeError: {message}\n"
        f"Raised by the error_if at\n{site}"
        "(Call the program through eqx.filter_jit to get this as an EquinoxRuntimeError.)"
    )


def raise_if_error_if(error: BaseException) -> None:
    """Re-raise ``error`` (a ``JaxRuntimeError``, or the ``ValueError`` JAX raises for
    some failed callbacks) as the :class:`EquinoxRuntimeError`
    it carries, if it came from an ``error_if``; otherwise return."""
    found = _ERROR_ID.search(str(error))
    if found is None:
        return
    with _FAILURES_LOCK:
        failure = _FAILURES.pop(found.group(1), None)
    if failure is not None:
        raise _runtime_error(*failure) from None


# --------------------------------------------------------------------------------------
# The staged check.
# --------------------------------------------------------------------------------------


def _reduce_over_batch(reduce: Callable[..., jax.Array]) -> Any:
    """``reduce`` over the whole value, vmap axes included, with an unbatched result:
    under ``vmap`` the error branch then stays a branch instead of becoming a select
    that runs the callback for every batch."""

    @custom_vmap
    def reduced(x: jax.Array) -> jax.Array:
        return reduce(x)

    @reduced.def_vmap
    def _batched(axis_size: int, in_batched: list[bool], x: jax.Array) -> tuple[jax.Array, bool]:
        del axis_size, in_batched
        return reduced(reduce(x, axis=0)), False

    return reduced


any_over_batch: Final = _reduce_over_batch(jnp.any)
_max_over_batch: Final = _reduce_over_batch(jnp.max)


def _fill_value(dtype: Any) -> Any:
    """What ``EQX_ON_ERROR=nan`` puts in place of values of ``dtype``: NaN, the largest
    integer, ``True``; ``None`` for other dtypes (left as they are)."""
    if jnp.issubdtype(dtype, jnp.inexact):
        return jnp.nan
    if jnp.issubdtype(dtype, jnp.integer):
        return iinfo(dtype).max
    if dtype == jnp.bool_:
        return True
    return None


def _nan_like(x: jax.Array) -> jax.Array:
    fill = _fill_value(x.dtype)
    return x if fill is None else full(x.shape, fill, x.dtype)


def _nan_tree(tree: Any) -> Any:
    return jtu.tree_map(_nan_like, tree)


def _identity(tree: Any) -> Any:
    return tree


def _host_nan(struct: jax.ShapeDtypeStruct) -> np.ndarray[Any, Any]:
    return np.full(struct.shape, _fill_value(struct.dtype), struct.dtype)


def _staged(x: Any, pred: jax.Array, index: jax.Array, msgs: tuple[str, ...], site: str, on_error: str) -> Any:
    if on_error == "nan":
        return cond(pred, _nan_tree, _identity, x)
    struct = eval_shape(lambda: x)

    def host_fail(i: np.ndarray[Any, Any]) -> Any:
        _fail(msgs[int(i)], site)

    def show(i: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
        print(f"EquinoxRuntimeError: {msgs[int(i)]}\nRaised by the error_if at\n{site}")
        return i

    def host_nan(token: Any) -> Any:
        del token
        return jtu.tree_map(_host_nan, struct)

    def on_true(y: Any) -> Any:
        if on_error == "raise":
            return pure_callback(host_fail, struct, index)
        # Each step feeds the next, so none of them is removed as dead code.
        shown = pure_callback(show, eval_shape(lambda: index), index)
        token = debug_breakpoint(token=shown, num_frames=int(_ENV_BREAKPOINT_FRAMES))
        return pure_callback(host_nan, struct, token)

    return cond(pred, on_true, _identity, x)


def _checked_impl(x: Any, pred: jax.Array, index: jax.Array, static: tuple[tuple[str, ...], str, str]) -> Any:
    return _staged(x, pred, index, *static)


_checked: Final = jax.custom_jvp(_checked_impl, nondiff_argnums=(3,))


@_checked.defjvp
def _checked_jvp(static: Any, primals: Any, tangents: Any) -> Any:
    # The check passes tangents through untouched: `error_if` is the identity on `x`.
    x, pred, index = primals
    return _checked(x, pred, index, static), tangents[0]


# --------------------------------------------------------------------------------------
# The public functions.
# --------------------------------------------------------------------------------------


def _resolve(on_error: str) -> str:
    if on_error == "default":
        on_error = _ENV_ON_ERROR
        if on_error not in _MODES:
            raise ValueError(
                f"EQX_ON_ERROR={on_error!r} is not one of {', '.join(_MODES)}"
            )
    elif on_error not in _MODES:
        raise ValueError(f"on_error must be 'default' or one of {_MODES}, got {on_error!r}")
    return on_error


def _has_tracer(tree: Any) -> bool:
    leaves, _ = tree_flatten(tree)
    return any(isinstance(leaf, Tracer) for leaf in leaves)


def _decide_now(x: Any, pred: bool, index: int, msgs: Sequence[str], on_error: str, error: type[RuntimeError], site: str) -> Any:
    """The predicate is known: act on it here, in Python."""
    if not pred or on_error == "off":
        return x
    message = msgs[index]
    if on_error == "nan":
        if error is EquinoxTracetimeError:
            warnings.warn(
                "error_if: the predicate is True at trace time; returning NaN-filled "
                "values (on_error='nan')",
                stacklevel=3,
            )
        dynamic, static = partition(x, is_array)
        return combine(_nan_tree(dynamic), static)
    if on_error == "breakpoint":
        print(f"{error.__name__}: {message}\nRaised by the error_if at\n{site}")
        breakpoint()
        return x
    if error is EquinoxRuntimeError:
        raise _runtime_error(message, site)
    raise error(message)


def branched_error_if(
    x: Any,
    pred: Any,
    index: Any,
    msgs: Sequence[str],
    *,
    on_error: OnError = "default",
) -> Any:
    """As :func:`error_if`, choosing the message ``msgs[index]``.

    - ``x``, ``pred``, ``on_error``: as for :func:`error_if`.
    - ``index``: an integer (array) selecting the message. Under ``vmap`` the largest
      index across the batch is used.
    - ``msgs``: the messages.

    ```python
    x = eqx.branched_error_if(x, x < 0, jnp.where(x < -10, 1, 0), ["negative", "very negative"])
    ```
    """
    on_error = cast(OnError, _resolve(on_error))
    msgs = tuple(msgs)
    site = call_site()
    if type(pred) is bool and not _has_tracer(index):
        # Decided while tracing, as in Equinox: no program is built for it.
        return _decide_now(x, pred, int(np.max(np.asarray(index))), msgs, on_error, EquinoxTracetimeError, site)
    dynamic, static = partition(x, is_array)
    if not tree_flatten(dynamic)[0]:
        raise ValueError("error_if needs at least one array in `x` to attach the check to")
    if not _has_tracer((dynamic, pred, index)):
        hit = bool(np.any(np.asarray(pred)))
        return _decide_now(x, hit, int(np.max(np.asarray(index))), msgs, on_error, EquinoxRuntimeError, site)
    if on_error == "off":
        return x
    pred_ = any_over_batch(lax.stop_gradient(asarray(pred, dtype=bool)))
    index_ = _max_over_batch(lax.stop_gradient(asarray(index, dtype=jnp.int32)))
    try:
        checked = _checked(dynamic, pred_, index_, (msgs, site, on_error))
    except (JaxRuntimeError, ValueError) as e:
        # Executed op by op (vmap/grad outside jit): the callback failed right here.
        raise_if_error_if(e)
        raise
    return combine(checked, static)


def error_if(x: Any, pred: Any, msg: str, *, on_error: OnError = "default") -> Any:
    """Return ``x``, raising ``msg`` when ``pred`` is true -- checked while the program
    runs, so it works inside ``jit``, ``filter_jit``, ``vmap``, ``grad``, ``jvp`` and
    ``scan``.

    - ``x``: any PyTree containing at least one array; returned unchanged. The check is
      tied to it: it runs after ``x`` is computed, and only if the returned value is
      used (an unused result is removed as dead code, check included).
    - ``pred``: a boolean (array): the error is raised if any element is ``True``
      (under ``vmap``, if it is ``True`` for any batch element).
    - ``msg``: the error message.
    - ``on_error``: ``"default"`` follows the environment variable ``EQX_ON_ERROR``
      (read at import): ``raise`` (default) raises :class:`EquinoxRuntimeError`,
      ``breakpoint`` opens a debugger (``EQX_ON_ERROR_BREAKPOINT_FRAMES`` frames),
      ``nan`` returns ``x`` filled with NaN (largest integer, ``True``) and carries on,
      ``off`` skips the check.

    The error names the line that called ``error_if``. Through ``filter_jit`` (or
    outside ``jit``) it is an :class:`EquinoxRuntimeError`; under a bare ``jax.jit``,
    JAX's own runtime error carrying the same text. A predicate that is a Python
    ``bool`` is decided while tracing and raises :class:`EquinoxTracetimeError`.

    ```python
    @eqx.filter_jit
    def safe_log(x):
        x = eqx.error_if(x, x <= 0, "log of a non-positive number")
        return jnp.log(x)
    ```
    """
    return branched_error_if(x, pred, 0, [msg], on_error=on_error)
