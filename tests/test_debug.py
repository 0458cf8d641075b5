"""eqx.debug, side by side with Equinox's: trace counts, breakpoints, NaN cotangents,
dead-code inspection and transformation announcements."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
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


@pytest.mark.parametrize("transform", ["filter_jit", "filter_vmap", "filter_value_and_grad"])
def test_return_check_failure_under_each_transformation_is_not_counted(transform: str) -> None:
    def total(x: Float[Array, "3"]) -> Float[Array, "3"]:  # returns a scalar
        return jnp.sum(x)

    counted = eqx.debug.assert_max_traces(total, max_traces=1)
    run = getattr(eqx, transform)(counted)
    x = jnp.ones((2, 3)) if transform == "filter_vmap" else jnp.ones(3)
    for _ in range(2):  # the same error each time, never "traced too often"
        with pytest.raises(eqx.TypeCheckError, match="return value"):
            run(x)
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
    readme = (Path(__file__).parents[1] / "README.md").read_text()
    assert "`eqx.debug.assert_max_traces` counts successful traces only" in readme  # listed


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


# --------------------------------------------------------------------------------------
# backward_nan
# --------------------------------------------------------------------------------------


def _guarded_sqrt_loss(lib: Any, **kwargs: Any) -> Callable[[Any], Any]:
    # sqrt's derivative at a negative input is NaN, which `where` multiplies by zero --
    # except that 0 * NaN is NaN: the classic NaN that appears on the backward pass only.
    # lib=None: the same loss without backward_nan, the reference.
    def loss(x: Any) -> Any:
        y = x if lib is None else lib.debug.backward_nan(x, **kwargs)
        return jnp.sum(jnp.where(y["a"] > 0, jnp.sqrt(y["a"]), 0.0)) + 2 * y["b"]

    return loss


GOOD = {"a": jnp.array([1.0, 4.0]), "b": jnp.array(3.0)}
BAD = {"a": jnp.array([-1.0, 4.0]), "b": jnp.array(3.0)}


def test_backward_nan_is_the_identity_forward_and_backward(capsys: pytest.CaptureFixture[str]) -> None:
    plain = _guarded_sqrt_loss(None)
    ours = _guarded_sqrt_loss(eqx, name="x")
    assert float(ours(GOOD)) == float(plain(GOOD))
    assert capsys.readouterr().out == ""  # nothing on the forward pass
    for jit in (False, True):
        run = jax.jit(jax.grad(ours)) if jit else jax.grad(ours)
        grads = run(GOOD)
        expected = jax.grad(plain)(GOOD)
        assert jax.tree.map(lambda a, b: bool((a == b).all()), grads, expected) == {"a": True, "b": True}
        jax.effects_barrier()
        printed = capsys.readouterr().out
        assert printed.startswith("x:\n   primals={")
        assert "'a': Array([1., 4.], dtype=float32)" in printed
        assert "cotangents={" in printed and "'a': Array([0.5 , 0.25], dtype=float32)" in printed
        if jit:  # values come back from the device: no weak types, one line each
            assert printed == (
                "x:\n"
                "   primals={'a': Array([1., 4.], dtype=float32), 'b': Array(3., dtype=float32)}\n"
                "cotangents={'a': Array([0.5 , 0.25], dtype=float32), 'b': Array(2., dtype=float32)}\n"
            )


@pytest.mark.parametrize("where", ["eager", "filter_jit"])
def test_backward_nan_raises_on_nan_cotangent_like_equinox(where: str, capsys: pytest.CaptureFixture[str]) -> None:
    for lib in (eqx, equinox):
        grad = jax.grad(_guarded_sqrt_loss(lib, name="x"))
        run = grad if where == "eager" else lib.filter_jit(grad)
        with pytest.raises(Exception) as info:
            run(BAD)
        assert type(info.value).__name__ == "EquinoxRuntimeError"
        assert "Encountered NaN" in str(info.value)
        jax.effects_barrier()
        printed = capsys.readouterr().out
        if lib is equinox:  # its print is independent of its check: on older JAX the
            continue  # check may run, and stop the program, before the print
        # The primal and the NaN cotangent are printed before stopping.
        assert printed.startswith("x:\n   primals={") and "cotangents={" in printed
        assert "'a': Array([ nan, 0.25], dtype=float32)" in printed
    message = str(_raise_ours(where))
    # Ours names the backward_nan call in the user's code (this file), and its name.
    assert "backward_nan (name='x') at" in message and "test_debug.py" in message
    assert "y = x if lib is None else lib.debug.backward_nan(x, **kwargs)" in message


def _raise_ours(where: str) -> BaseException:
    grad = jax.grad(_guarded_sqrt_loss(eqx, name="x"))
    run = grad if where == "eager" else eqx.filter_jit(grad)
    with pytest.raises(eqx.EquinoxRuntimeError) as info:
        run(BAD)
    return info.value


def test_backward_nan_without_terminate_only_prints(capsys: pytest.CaptureFixture[str]) -> None:
    grads = jax.jit(jax.grad(_guarded_sqrt_loss(eqx, terminate=False)))(BAD)
    assert bool(jnp.isnan(grads["a"][0])) and float(grads["b"]) == 2.0
    jax.effects_barrier()
    printed = capsys.readouterr().out
    assert printed.startswith("   primals=")  # no name: no header line
    assert "cotangents={'a': Array([ nan, 0.25], dtype=float32)" in printed


def test_backward_nan_non_array_leaves_and_vmap(capsys: pytest.CaptureFixture[str]) -> None:
    def loss(x: Any) -> Any:
        y = eqx.debug.backward_nan(x, name="v")
        return jnp.sum(y["w"] * y["n"])

    grads = eqx.filter_vmap(eqx.filter_grad(loss))({"w": jnp.ones((2, 3)), "n": 3})
    assert grads["w"].tolist() == [[3.0] * 3] * 2 and grads["n"] is None
    jax.effects_barrier()
    printed = capsys.readouterr().out
    assert printed.count("v:\n") == 2  # once per batch element, as jax.debug prints
    assert "'n': 3" in printed


# --------------------------------------------------------------------------------------
# store_dce / inspect_dce
# --------------------------------------------------------------------------------------


def _dce_report(lib: Any, name: str) -> str:
    @jax.jit
    def f(x: Any) -> Any:
        a, _ = lib.debug.store_dce((x**2, x + 1), name=name)
        return a

    f(1)
    import contextlib
    import io

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        lib.debug.inspect_dce(name=name)
    return out.getvalue()


def test_inspect_dce_prints_what_equinox_prints() -> None:
    ours = _dce_report(eqx, "parity")
    theirs = _dce_report(equinox, "parity")
    assert ours == theirs.replace("`equinox.debug", "`equinox_typed.debug")
    assert ours == "Found 1 call to `equinox_typed.debug.store_dce`.\nEntry 0:\n(i32[], <DCE'd>)\n"


def test_store_dce_records_each_trace_with_static_leaves(capsys: pytest.CaptureFixture[str]) -> None:
    @jax.jit
    def f(x: Any) -> Any:
        tree = eqx.debug.store_dce({"w": x * 3, "k": "static", "v": jnp.ones((2, 3))}, name="tree")
        return tree["w"]

    eqx.debug.inspect_dce(name="tree")
    assert capsys.readouterr().out == "Found 0 calls to `equinox_typed.debug.store_dce`.\n"
    f(jnp.ones(2, dtype=jnp.int32))
    jax.jit(jax.vmap(f))(jnp.ones((4, 5)))  # a second trace: a second entry
    eqx.debug.inspect_dce(name="tree")
    assert capsys.readouterr().out == (
        "Found 2 calls to `equinox_typed.debug.store_dce`.\n"
        "Entry 0:\n{'k': 'static', 'v': <DCE'd>, 'w': i32[2]}\n"
        "Entry 1:\n{'k': 'static', 'v': <DCE'd>, 'w': f32[4,5]}\n"
    )


@LIBS
def test_dce_misuse(lib: Any) -> None:
    with pytest.raises(RuntimeError, match="inside (of )?JIT|inside jit"):
        lib.debug.store_dce(jnp.ones(2))
    with pytest.raises(RuntimeError, match="inside (of )?JIT|inside jit"):
        jax.vmap(lib.debug.store_dce)(jnp.ones(2))
    with pytest.raises(RuntimeError, match="outside (of )?JIT|outside jit"):
        jax.jit(lambda: lib.debug.inspect_dce())()


def test_dce_name_must_be_hashable() -> None:
    with pytest.raises(TypeError, match="store_dce: name must be hashable, got list"):
        jax.jit(lambda x: eqx.debug.store_dce(x, name=["a"]))(1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="inspect_dce: name must be hashable, got dict"):
        eqx.debug.inspect_dce(name={})  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------
# announce_transform
# --------------------------------------------------------------------------------------


def _announcements(lib: Any, wrap: str, intermediates: bool, leaves: int) -> list[str]:
    said: list[str] = []

    def f(x: Any) -> Any:
        y = lib.debug.announce_transform(x, name="n", intermediates=intermediates, announce=said.append)
        return jnp.sum(jnp.sin(y[0]) * y[-1])

    x = (jnp.arange(3.0), jnp.ones(3))[:leaves]
    {
        "eager": lambda: f(x),
        "jit": lambda: jax.jit(f)(x),
        "vmap": lambda: jax.vmap(f)(x),
        "grad": lambda: jax.grad(f)(x),
        "jvp": lambda: jax.jvp(f, (x,), (x,)),
        "jit_vmap": lambda: jax.jit(jax.vmap(f))(x),
        "jit_grad": lambda: jax.jit(jax.grad(f))(x),
        "vmap_grad": lambda: jax.vmap(jax.grad(f))(x),
        "grad_grad": lambda: jax.grad(lambda x: jnp.sum(jax.grad(f)(x)[0]))(x),
        "linearize": lambda: jax.linearize(f, x)[1](x),
    }[wrap]()
    return said


ANNOUNCED = ["eager", "jit", "vmap", "grad", "jvp", "jit_vmap", "jit_grad", "vmap_grad", "grad_grad", "linearize"]


@pytest.mark.parametrize("intermediates", [False, True])
@pytest.mark.parametrize("wrap", ANNOUNCED)
def test_announce_transform_matches_equinox(wrap: str, intermediates: bool) -> None:
    ours = _announcements(eqx, wrap, intermediates, leaves=1)
    assert ours == _announcements(equinox, wrap, intermediates, leaves=1)
    assert ours and all(line.startswith("(n) ") for line in ours)


@pytest.mark.parametrize("wrap", ANNOUNCED)
def test_announce_transform_several_leaves(wrap: str) -> None:
    # Equinox 0.13.8's transposition fails for more than one array; the announcements
    # are those of a single array.
    assert _announcements(eqx, wrap, True, leaves=2) == _announcements(eqx, wrap, True, leaves=1)


def test_announce_transform_known_paths_and_identity(capsys: pytest.CaptureFixture[str]) -> None:
    assert _announcements(eqx, "jit_vmap", False, 1) == ["(n) vmap:abstract", "(n) vmap:mlir"]
    assert _announcements(eqx, "jit_vmap", True, 1) == ["(n) vmap", "(n) vmap:abstract", "(n) vmap:mlir"]
    # How often JAX traces the tangent abstractly differs across JAX versions.
    jit_grad = _announcements(eqx, "jit_grad", False, 1)
    assert jit_grad[0] == "(n) jvp_p:abstract" and "(n) jvp_t:abstract" in jit_grad
    assert jit_grad[-3:] == ["(n) jvp_t:transpose:abstract", "(n) jvp_p:mlir", "(n) jvp_t:transpose:mlir"]
    x = {"a": jnp.arange(3.0), "s": "static"}
    out = eqx.debug.announce_transform(x)  # default: printed, without a name
    assert out["s"] == "static" and out["a"].tolist() == [0.0, 1.0, 2.0]
    assert capsys.readouterr().out == "impl\n"
    grads = jax.grad(lambda x: jnp.sum(eqx.debug.announce_transform(x, announce=lambda _: None) ** 2))(jnp.arange(3.0))
    assert grads.tolist() == [0.0, 2.0, 4.0]


def test_every_equinox_debug_name_exists() -> None:
    theirs = {name for name in dir(equinox.debug) if not name.startswith("_")}
    assert theirs <= set(eqx.debug.__all__)
    assert eqx.debug.__all__ == sorted(eqx.debug.__all__)
    assert "debug" in eqx.__all__
