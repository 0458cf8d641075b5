"""Switching the checking mode or backend never recompiles a `filter_jit` function, and
never lets a call through unchecked: a signature compiled while checks were off (or
under another backend, or inside another trace) is checked at the boundary on its first
call under the current setting, and refused if it is invalid."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float

import equinox_typed as eqx
import equinox_typed._checking as _checking


def _counting() -> tuple[list[tuple[int, ...]], Callable[..., Any]]:
    """A jitted function of `x: Float[Array, "n"]` returning `Float[Array, "n"]`, and the
    list of shapes it was traced for."""
    traces: list[tuple[int, ...]] = []

    @eqx.filter_jit
    def double(x: Float[Array, " n"], y: Float[Array, " n"]) -> Float[Array, " n"]:
        traces.append(x.shape)
        return x * 2 + y

    return traces, double


def test_on_off_on_traces_once() -> None:
    traces, f = _counting()
    x = jnp.ones(3)
    f(x, x)
    with eqx.checks("off"):
        f(x, x)
    f(x, x)
    with eqx.checks("warn"):
        f(x, x)
    with eqx.checks("always"):
        f(x, x)
    assert traces == [(3,)]


def test_backend_switches_trace_once(typechecker: str) -> None:
    traces, f = _counting()
    x = jnp.ones(3)
    f(x, x)
    other = "typeguard" if typechecker == "beartype" else "beartype"
    with eqx.checks(typechecker=other):
        f(x, x)
    previous = eqx.set_typechecker(other)
    try:
        f(x, x)
    finally:
        eqx.set_typechecker(previous)
    f(x, x)
    assert traces == [(3,)]


def test_invalid_input_compiled_while_off_is_refused_once_checks_are_on(
    typechecker: str,
) -> None:
    traces, f = _counting()
    good, bad = jnp.ones(3), jnp.ones(3, dtype=jnp.int32)
    with eqx.checks("off"):
        assert f(good, bad).dtype == jnp.float32
    for _ in range(2):  # refused every time: a failed check is not remembered as passed
        with pytest.raises(eqx.TypeCheckError, match="`y`") as info:
            f(good, bad)
        assert "i32[3]" in str(info.value)
    assert len(traces) == 1
    # The valid signature compiled while off passes, and still compiles nothing anew.
    with eqx.checks("off"):
        f(good, good)
    np.testing.assert_allclose(f(good, good), 3 * np.ones(3))
    assert len(traces) == 2


def test_dimension_mismatch_compiled_while_off_is_refused() -> None:
    traces, f = _counting()
    a, b = jnp.ones(3), jnp.ones(1)  # broadcasting runs, but "n" is 3 and 1
    with eqx.checks("off"):
        f(a, b)
    with pytest.raises(eqx.TypeCheckError, match="`y`"):
        f(a, b)
    assert len(traces) == 1


def test_wrong_return_compiled_while_off_is_refused() -> None:
    traces: list[int] = []

    @eqx.filter_jit
    def head(x: Float[Array, " n"]) -> Float[Array, " n"]:
        traces.append(1)
        return x[:2]

    with eqx.checks("off"):
        head(jnp.ones(3))
    with pytest.raises(eqx.TypeCheckError, match="return") as info:
        head(jnp.ones(3))
    assert "f32[2]" in str(info.value)
    assert traces == [1]


def test_compiled_under_one_backend_is_checked_by_the_other(typechecker: str) -> None:
    traces, f = _counting()
    good, bad = jnp.ones(3), jnp.ones(3, dtype=jnp.int32)
    f(good, good)
    with eqx.checks("off"):
        f(good, bad)
    other = "typeguard" if typechecker == "beartype" else "beartype"
    with eqx.checks(typechecker=other), pytest.raises(eqx.TypeCheckError, match="`y`"):
        f(good, bad)
    with eqx.checks(typechecker=other):
        f(good, good)
    assert len(traces) == 2


def test_signature_checked_after_a_switch_is_not_checked_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    traces, f = _counting()
    x = jnp.ones(3)
    with eqx.checks("off"):
        f(x, x)
    calls: list[int] = []
    check_items = _checking.check_items

    def counting(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        return check_items(*args, **kwargs)

    monkeypatch.setattr(_checking, "check_items", counting)
    f(x, x)
    checked_once = len(calls)
    assert checked_once == 2  # arguments, then the return value
    f(x, x)
    f(x, x)
    assert len(calls) == checked_once
    assert traces == [(3,)]


def test_warned_violation_is_not_a_pass_in_eager_mode() -> None:
    traces, f = _counting()
    good, bad = jnp.ones(3), jnp.ones(3, dtype=jnp.int32)
    with eqx.checks("warn"), pytest.warns(eqx.TypeCheckWarning, match="`y`"):
        f(good, bad)
    with pytest.raises(eqx.TypeCheckError, match="`y`"):
        f(good, bad)
    assert len(traces) == 1


def test_signature_traced_inside_another_trace_is_checked_at_top_level() -> None:
    # In eager mode a filter_jit call inside a trace is not checked; JAX keeps that
    # trace and reuses it for a top-level call of the same signature, which must
    # still be checked.
    traces, f = _counting()
    good, bad = jnp.ones(3), jnp.ones(3, dtype=jnp.int32)
    jax.jit(lambda a, b: f(a, b))(good, bad)
    with pytest.raises(eqx.TypeCheckError, match="`y`"):
        f(good, bad)
    assert len(traces) == 1


def test_no_check_runs_inside_traces_in_the_default_mode() -> None:
    seen: list[bool] = []

    @eqx.filter_jit
    def outer(x: Float[Array, " n"]) -> Float[Array, " n"]:
        seen.append(_checking.checks_active())
        return x + 1

    x = jnp.ones(3)
    with eqx.checks("off"):
        outer(x)
    outer(x)  # checked after the switch: at the boundary, outside any trace
    assert seen == [False]


def test_lower_after_a_switch_checks_the_call() -> None:
    traces, f = _counting()
    good, bad = jnp.ones(3), jnp.ones(3, dtype=jnp.int32)
    with eqx.checks("off"):
        f(good, bad)
        f.lower(good, good)
    with pytest.raises(eqx.TypeCheckError, match="`y`"):
        f.lower(good, bad)
    compiled = f.lower(good, good).compile()
    np.testing.assert_allclose(compiled(good, good), 3 * np.ones(3))


def test_donating_variants_check_after_a_switch_too() -> None:
    for donate in ("all", "all-except-first"):
        traces: list[int] = []

        def step(x: Float[Array, " n"], y: Float[Array, " n"]) -> Float[Array, " n"]:
            traces.append(1)
            return x + y

        f = eqx.filter_jit(step, donate=donate)
        with eqx.checks("off"):
            f(jnp.ones(3), jnp.ones(3, dtype=jnp.int32))
        with pytest.raises(eqx.TypeCheckError, match="`y`"):
            f(jnp.ones(3), jnp.ones(3, dtype=jnp.int32))
        f(jnp.ones(3), jnp.ones(3))
        with eqx.checks("off"):
            f(jnp.ones(3), jnp.ones(3))
        f(jnp.ones(3), jnp.ones(3))
        assert len(traces) == 2, donate


def test_a_thread_compiling_while_off_does_not_unlock_another_thread() -> None:
    traces, f = _counting()
    good, bad = jnp.ones(3), jnp.ones(3, dtype=jnp.int32)
    compiled = threading.Event()

    def off_thread() -> None:
        with eqx.checks("off"):
            f(good, bad)
        compiled.set()

    thread = threading.Thread(target=off_thread)
    thread.start()
    assert compiled.wait(timeout=60)
    thread.join()
    with pytest.raises(eqx.TypeCheckError, match="`y`"):
        f(good, bad)
    assert len(traces) == 1
