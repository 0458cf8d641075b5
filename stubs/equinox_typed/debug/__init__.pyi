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
) -> Callable[[Callable[_P, _T]], Callable[_P, _T]]:
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

def breakpoint_if(pred: ArrayLike, **kwargs: Any) -> Any:
    """``jax.debug.breakpoint(**kwargs)``, taken only where ``pred`` is true; works
    inside ``jit``, ``vmap``, ``grad``...

    **Arguments:**

    - ``pred``: a boolean (array). The breakpoint triggers if any element is ``True``,
      under ``vmap`` if it is for any batch element (JAX's breakpoint then stops once
      per batch element, each showing that element's values).
    - ``**kwargs``: passed on to ``jax.debug.breakpoint`` (``backend``, ``num_frames``,
      ``token``, ...).

    **Returns:** what ``jax.debug.breakpoint`` returns: ``token`` when one is given
    (on both branches), else ``None``.

    ```python
    @jax.jit
    def f(x):
        y = jnp.log(x)
        eqx.debug.breakpoint_if(jnp.isnan(y).any())
        return y
    ```
    """

def backward_nan(x: _T, name: str | None = None, terminate: bool = True) -> _T:
    """The identity on ``x``; on the backward pass, print ``x`` and its cotangent, and
    stop if the cotangent holds a NaN.

    **Arguments:**

    - ``x``: any PyTree (its floating-point arrays are the ones differentiated).
    - ``name``: a label printed above the values, to tell several calls apart.
    - ``terminate``: if ``True``, a NaN anywhere in the cotangent raises
      :class:`~equinox_typed.EquinoxRuntimeError` through :func:`~equinox_typed.error_if`
      (so ``EQX_ON_ERROR=breakpoint`` opens a debugger there instead); if ``False``, the
      values are only printed.

    **Returns:** ``x``, unchanged.

    The printout (on each backward pass, from inside compiled code too) is::

        name:
           primals=<x, arrays in full>
        cotangents=<its cotangent; None where there is none>

    ```python
    def loss(x):
        y = eqx.debug.backward_nan(jnp.sqrt(x), name="sqrt")
        return jnp.sum(jnp.where(x > 0, y, 0.0))

    jax.grad(loss)(jnp.array([-1.0, 4.0]))  # prints, then raises: NaN in the cotangent
    ```
    """

def store_dce(x: _T, name: Hashable = None) -> _T:
    """The identity on ``x``, recording whether each of its arrays is still computed
    once the compiler has removed dead code; see the record with :func:`inspect_dce`.

    Must be called inside ``jit`` (``filter_jit``...). Each trace of the call adds one
    record; running the compiled program fills it in.

    **Arguments:**

    - ``x``: any PyTree; its arrays are watched, other leaves are shown as they are.
    - ``name``: any hashable label, to inspect this call site apart from others.

    **Returns:** ``x``, unchanged.

    ```python
    @jax.jit
    def f(x):
        a, _ = eqx.debug.store_dce((x**2, x + 1))
        return a

    f(1)
    eqx.debug.inspect_dce()
    # Found 1 call to `equinox_typed.debug.store_dce`.
    # Entry 0:
    # (i32[], <DCE'd>)
    ```
    """

def inspect_dce(name: Hashable = None) -> None:
    """Print what :func:`store_dce` recorded under ``name``: for each traced call, its
    PyTree with each array shown as dtype and shape if it was computed and as
    ``<DCE'd>`` if the compiler removed it. Must be called outside ``jit``.

    **Arguments:**

    - ``name``: the label given to ``store_dce`` (default: unlabelled calls).

    **Returns:** nothing; the report goes to standard output.

    ```python
    eqx.debug.inspect_dce(name="encoder")
    ```
    """

def announce_transform(
    x: _T,
    name: object = None,
    intermediates: bool = False,
    announce: Callable[[str], object] = ...,
) -> _T:
    """The identity on ``x``, announcing each JAX transformation and processing step
    its arrays go through: a one-off debugging aid (what exactly gets batched,
    differentiated, transposed, lowered...).

    Each announcement is a path of steps, outermost first, joined by ``:``: ``vmap``,
    ``jvp_p``/``jvp_t`` (the primal and tangent parts of a JVP), ``transpose``, ending in
    ``impl`` (evaluated eagerly), ``abstract`` (traced, e.g. under ``jit``) or ``mlir``
    (lowered for compilation). ``jit(vmap(f))`` announces ``vmap:abstract`` and
    ``vmap:mlir``.

    **Arguments:**

    - ``x``: any PyTree; its arrays are followed, other leaves returned as they are.
    - ``name``: a label, shown as ``(name)`` before each announcement.
    - ``intermediates``: also announce the transformations themselves as they are
      applied (``vmap``, ``jvp``, ``transpose``), not only the steps that end a path.
    - ``announce``: called with each announcement (default: ``print``).

    **Returns:** ``x``, unchanged.

    ```python
    def f(x):
        return eqx.debug.announce_transform(x, name="x") ** 2

    jax.jit(jax.vmap(f))(jnp.arange(3.0))
    # (x) vmap:abstract
    # (x) vmap:mlir
    ```
    """
