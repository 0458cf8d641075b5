"""Debugging aids (runtime: equinox_typed/debug/)."""

from collections.abc import Callable
from typing import Any, ParamSpec, TypeVar, overload

from jax.typing import ArrayLike

__all__ = [
    "assert_max_traces",
    "breakpoint_if",
    "get_num_traces",
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
