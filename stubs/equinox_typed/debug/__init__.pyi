"""Debugging aids (runtime: equinox_typed/debug/)."""

from collections.abc import Callable, Hashable
from typing import Any, ParamSpec, TypeVar, overload

from jax.typing import ArrayLike

__all__ = [
    "announce_transform",
    "assert_max_traces",
    "backward_nan",
    "breakpoint_if",
    "get_num_traces",
    "inspect_dce",
    "store_dce",
]

_T = TypeVar("_T")
_P = ParamSpec("_P")

@overload
def assert_max_traces(fn: Callable[_P, _T], *, max_traces: int | None) -> Callable[_P, _T]:
    """Raise ``RuntimeError`` when ``fn`` is traced more than ``max_traces`` times.

    ```python
    @eqx.filter_jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def step(model, x): ...
    ```
    """

@overload
def assert_max_traces(
    fn: None = None, *, max_traces: int | None
) -> Callable[[Callable[_P, _T]], Callable[_P, _T]]: ...
def get_num_traces(fn: Callable[..., Any]) -> int:
    """How many times the ``assert_max_traces`` wrapper in ``fn`` has been traced."""

def breakpoint_if(pred: ArrayLike, **kwargs: Any) -> Any:
    """``jax.debug.breakpoint(**kwargs)``, taken only where ``pred`` is true."""

def backward_nan(x: _T, name: str | None = None, terminate: bool = True) -> _T:
    """The identity on ``x``; on the backward pass, print ``x`` and its cotangent and
    raise ``EquinoxRuntimeError`` if the cotangent holds a NaN (``terminate=True``)."""

def store_dce(x: _T, name: Hashable = None) -> _T:
    """The identity on ``x`` (inside ``jit``), recording which of its arrays survive
    dead-code elimination; see :func:`inspect_dce`."""

def inspect_dce(name: Hashable = None) -> None:
    """Print what :func:`store_dce` recorded under ``name`` (outside ``jit``)."""

def announce_transform(
    x: _T,
    name: object = None,
    intermediates: bool = False,
    announce: Callable[[str], object] = ...,
) -> _T:
    """The identity on ``x``, announcing each JAX transformation and lowering step its
    arrays go through (``vmap:abstract``, ``jvp_t:transpose:mlir``...)."""
