"""eqx.debug, side by side with Equinox's: trace counts, breakpoints, NaN cotangents,
dead-code inspection and transformation announcements."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import jax
import jax.numpy as jnp
import pytest
from jaxtyping import Array, Float

import equinox_typed as eqx

equinox = pytest.importorskip("equinox")

LIBS = pytest.mark.parametrize("lib", [eqx, equinox], ids=["ours", "equinox"])


# --------------------------------------------------------------------------------------
# assert_max_traces / get_num_traces
# --------------------------------------------------------------------------------------


def _add(x: Any, y: Any) -> Any:
    return x + y


# How each transformation is applied around the counted function, and a call sequence:
# JAX retraces a jitted function for a new shape only, a vmapped or differentiated one
# on every call.
TRANSFORMS: dict[str, Callable[[Any, Callable[..., Any]], Callable[..., Any]]] = {
    "filter_jit": lambda lib, f: lib.filter_jit(f),
    "jax.jit": lambda lib, f: jax.jit(f),
    "filter_vmap": lambda lib, f: lib.filter_vmap(f),
    "filter_grad": lambda lib, f: lib.filter_grad(lambda x, y: jnp.sum(f(x, y))),
    "filter_jit(filter_vmap)": lambda lib, f: lib.filter_jit(lib.filter_vmap(f)),
}
CALLS = [(2,), (2,), (3,), (2,), (3,), (4,)]


def _trace_counts(lib: Any, transform: str) -> list[int]:
    counted = lib.debug.assert_max_traces(_add, max_traces=None)
    run = TRANSFORMS[transform](lib, counted)
    counts = []
    for shape in CALLS:
        run(jnp.ones(shape), jnp.ones(shape))
        counts.append(lib.debug.get_num_traces(counted))
    return counts


@pytest.mark.parametrize("transform", sorted(TRANSFORMS))
def test_trace_counts_match_equinox(transform: str) -> None:
    ours = _trace_counts(eqx, transform)
    assert ours == _trace_counts(equinox, transform)
    # Not vacuous: jitted functions retrace per shape, the others on every call.
    expected = [1, 1, 2, 2, 2, 3] if transform.startswith(("filter_jit", "jax.jit")) else [1, 2, 3, 4, 5, 6]
    if transform == "filter_jit(filter_vmap)":
        expected = [1, 1, 2, 2, 2, 3]
    assert ours == expected


@LIBS
def test_exceeding_raises_runtime_error_naming_function_and_argument(lib: Any) -> None:
    @lib.filter_jit
    @lib.debug.assert_max_traces(max_traces=1)
    def scale(x: Any, factor: Any) -> Any:
        return x * factor

    scale(jnp.ones(3), jnp.ones(3))
    scale(jnp.zeros(3), jnp.zeros(3))  # same shapes: no retrace
    with pytest.raises(RuntimeError) as info:
        scale(jnp.ones(3), jnp.ones(4))
    message = str(info.value)
    assert "scale" in message and "'factor'" in message and "1 time" in message
    if lib is eqx:
        assert "f32[4]" in message and "f32[3]" in message and "'x'" not in message


def test_exceeding_without_a_responsible_argument() -> None:
    counted = eqx.debug.assert_max_traces(_add, max_traces=1)
    jax.jit(counted)(1.0, 2.0)
    jax.clear_caches()  # the same call traces again
    with pytest.raises(RuntimeError, match="No argument differs from an earlier trace"):
        jax.jit(counted)(1.0, 2.0)
    with pytest.raises(RuntimeError):  # Equinox agrees that this is a retrace too
        counted_eqx = equinox.debug.assert_max_traces(_add, max_traces=1)
        jax.jit(counted_eqx)(1.0, 2.0)
        jax.clear_caches()
        jax.jit(counted_eqx)(1.0, 2.0)


def test_static_argument_change_is_named() -> None:
    @eqx.filter_jit
    @eqx.debug.assert_max_traces(max_traces=1)
    def power(x: Any, n: int) -> Any:
        return x**n

    power(jnp.ones(2), 2)
    with pytest.raises(RuntimeError, match=r"(?s)'n' differs.*now\n  3\nand was before\n  2"):
        power(jnp.ones(2), 3)


def _annotated(x: Float[Array, "3"]) -> Float[Array, "3"]:
    return 2 * x


def test_shape_check_failure_at_filter_jit_is_not_a_trace() -> None:
    counted = eqx.debug.assert_max_traces(_annotated, max_traces=1)
    step = eqx.filter_jit(counted)
    for _ in range(2):  # refused each time, never mistaken for a retrace
        with pytest.raises(eqx.TypeCheckError, match="argument `x`"):
            step(jnp.ones(4))
    assert eqx.debug.get_num_traces(step) == 0
    assert step(jnp.ones(3)).tolist() == [2.0, 2.0, 2.0]
    assert eqx.debug.get_num_traces(step) == 1


def test_return_check_failure_at_filter_jit_is_not_a_trace() -> None:
    def widen(x: Float[Array, "3"]) -> Float[Array, "3"]:
        return jnp.concatenate([x, x])

    counted = eqx.debug.assert_max_traces(widen, max_traces=1)
    step = eqx.filter_jit(counted)
    for _ in range(2):  # the body ran, but the trace failed: not counted
        with pytest.raises(eqx.TypeCheckError, match="return value"):
            step(jnp.ones(3))
    assert eqx.debug.get_num_traces(counted) == 0


def test_failed_trace_is_not_counted() -> None:
    # Equinox counts a trace that raises; JAX caches nothing from it, so here it is not
    # counted, and the next attempt shows the function's own error again.
    def broken(x: Any) -> Any:
        raise ZeroDivisionError("boom")

    for lib, expected in ((eqx, [0, 0]), (equinox, [1, 2])):
        counted = lib.debug.assert_max_traces(broken, max_traces=None)
        counts = []
        for _ in range(2):
            with pytest.raises(ZeroDivisionError, match="boom"):
                jax.jit(counted)(1.0)
            counts.append(lib.debug.get_num_traces(counted))
        assert counts == expected


def test_shape_check_under_filter_grad_and_filter_vmap_is_not_a_trace() -> None:
    def loss(x: Float[Array, "3"]) -> Float[Array, ""]:
        return jnp.sum(x**2)

    counted = eqx.debug.assert_max_traces(loss, max_traces=1)
    with pytest.raises(eqx.TypeCheckError, match="argument `x`"):
        eqx.filter_grad(counted)(jnp.ones(4))
    assert eqx.debug.get_num_traces(counted) == 0
    assert eqx.filter_grad(counted)(jnp.ones(3)).tolist() == [2.0, 2.0, 2.0]
    assert eqx.debug.get_num_traces(counted) == 1

    def row(x: Float[Array, "3"]) -> Float[Array, "3"]:
        return x + 1

    counted_row = eqx.debug.assert_max_traces(row, max_traces=1)
    with pytest.raises(eqx.TypeCheckError):
        eqx.filter_vmap(counted_row, in_axes=0)(jnp.ones((2, 4)))
    assert eqx.debug.get_num_traces(counted_row) == 0


@LIBS
def test_decorator_forms_and_metadata(lib: Any) -> None:
    @lib.debug.assert_max_traces(max_traces=2)
    def f(x: Float[Array, "3"]) -> Float[Array, "3"]:
        """Doubles."""
        return 2 * x

    g = lib.debug.assert_max_traces(_add, max_traces=None)
    assert f.__name__ == "f" and f.__doc__ == "Doubles." and g.__name__ == "_add"
    assert set(f.__annotations__) == {"x", "return"}
    assert lib.debug.get_num_traces(f) == 0
    assert f(jnp.ones(3)).tolist() == [2.0, 2.0, 2.0]  # a plain call counts as a trace
    assert lib.debug.get_num_traces(f) == 1
    # Copies made by flattening share the count.
    copy = jax.tree.map(lambda x: x, f)
    copy(jnp.ones(3))
    assert lib.debug.get_num_traces(f) == 2
    with pytest.raises(RuntimeError):
        copy(jnp.ones(3))


def test_method_of_a_module() -> None:
    class Scale(eqx.Module):
        factor: Float[Array, ""]

        @eqx.debug.assert_max_traces(max_traces=1)
        def __call__(self, x: Float[Array, "n"]) -> Float[Array, "n"]:
            return self.factor * x

    model = Scale(jnp.array(2.0))
    run = eqx.filter_jit(model)
    run(jnp.ones(3))
    run(jnp.ones(3))
    assert eqx.debug.get_num_traces(model.__call__) == 1
    assert eqx.debug.get_num_traces(Scale.__call__) == 1
    with pytest.raises(RuntimeError, match=r"(?s)Scale.__call__` may be traced.*'x' differs"):
        run(jnp.ones(5))


@LIBS
def test_get_num_traces_of_unwrapped_function(lib: Any) -> None:
    with pytest.raises(ValueError, match="assert_max_traces"):
        lib.debug.get_num_traces(_add)
    with pytest.raises(ValueError, match="assert_max_traces"):
        lib.debug.get_num_traces(lib.filter_jit(_add))


def test_bad_arguments() -> None:
    with pytest.raises(TypeError, match="max_traces must be an int or None, got str"):
        eqx.debug.assert_max_traces(_add, max_traces="1")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="max_traces must be an int or None, got bool"):
        eqx.debug.assert_max_traces(max_traces=True)
    with pytest.raises(ValueError, match="max_traces must be >= 0, got -1"):
        eqx.debug.assert_max_traces(_add, max_traces=-1)
    with pytest.raises(TypeError, match="needs a callable, got int"):
        eqx.debug.assert_max_traces(3, max_traces=1)  # type: ignore[call-overload]
    with pytest.raises(TypeError, match="required keyword-only argument"):
        eqx.debug.assert_max_traces(_add)  # type: ignore[call-overload]
    # max_traces=0: every trace is one too many.
    never = eqx.debug.assert_max_traces(_add, max_traces=0)
    with pytest.raises(RuntimeError, match="at most 0 times"):
        never(1, 2)


# --------------------------------------------------------------------------------------
# breakpoint_if
# --------------------------------------------------------------------------------------


# JAX flattens the stack frames' locals for the debugger, warning about generators there.
FRAMES_WARNING = pytest.mark.filterwarnings("ignore:Python iterable type 'generator':DeprecationWarning")


@pytest.fixture
def breakpoints() -> Iterator[list[dict[str, Any]]]:
    """A non-interactive debugger backend, ``backend="record"``: each breakpoint taken
    appends the source line of each frame on its stack with that frame's local names."""
    from jax._src.debugger import core as debugger_core

    taken: list[dict[str, Any]] = []

    def record(frames: Any, thread_id: Any, **kwargs: Any) -> None:
        del thread_id, kwargs
        taken.append({"".join(frame.code_context or ()).strip(): set(frame.locals) for frame in frames})

    debugger_core.register_debugger("record", record, -1000)
    yield taken
    debugger_core._debugger_registry.pop("record", None)  # noqa: SLF001


def _maybe_stop(lib: Any) -> Callable[[jax.Array], jax.Array]:
    def f(x: jax.Array) -> jax.Array:
        y = x * 2
        lib.debug.breakpoint_if(jnp.any(y > 3), backend="record")
        return y

    return f


@FRAMES_WARNING
@LIBS
@pytest.mark.parametrize("wrap", ["eager", "jit", "vmap", "grad"])
def test_breakpoint_if(lib: Any, wrap: str, breakpoints: list[dict[str, Any]]) -> None:
    f = _maybe_stop(lib)
    run = {
        "eager": f,
        "jit": jax.jit(f),
        "vmap": jax.jit(jax.vmap(f)),
        "grad": jax.jit(jax.grad(lambda x: jnp.sum(f(x)))),
    }[wrap]
    quiet = jnp.array([0.5, 1.0])
    loud = jnp.array([0.5, 2.0])
    jax.block_until_ready(run(quiet))
    jax.effects_barrier()
    assert breakpoints == []
    jax.block_until_ready(run(loud))
    jax.effects_barrier()
    # Once per call; under vmap the predicate is reduced over the batch, and JAX then
    # stops once per batch element, with that element's values (as for Equinox).
    assert len(breakpoints) == (2 if wrap == "vmap" else 1)
    # The user's frame is on the stack, with its locals.
    assert any("breakpoint_if" in line and "y" in names for line, names in breakpoints[0].items())


@FRAMES_WARNING
def test_breakpoint_if_token(breakpoints: list[dict[str, Any]]) -> None:
    token = jnp.array(7.0)
    assert eqx.debug.breakpoint_if(False, backend="record") is None
    out = jax.jit(lambda t: eqx.debug.breakpoint_if(jnp.array(True), backend="record", token=t))(token)
    assert float(out) == 7.0 and len(breakpoints) == 1
