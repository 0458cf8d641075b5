"""error_if / branched_error_if / Enumeration under every transformation, against Equinox."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import equinox_typed as eqx

equinox = pytest.importorskip("equinox")

NEG = "x must be non-negative"


def _checked(lib: Any) -> Callable[[jax.Array], jax.Array]:
    # Unannotated: jax.value_and_grad(f) keeps f's annotations (functools.wraps), which
    # the boundary check would then apply to the (value, grad) pair.
    def f(x):  # type: ignore[no-untyped-def]
        x = lib.error_if(x, x < 0, NEG)  # THE-CALL-SITE
        return x * 2

    return f


def _scan_sum(f: Callable[[jax.Array], jax.Array]) -> Callable[[jax.Array], jax.Array]:
    def run(xs: jax.Array) -> jax.Array:
        return jax.lax.scan(lambda c, x: (c + f(x), None), jnp.zeros(()), xs)[0]

    return run


# Each entry: how to apply a transformation to the checked function, and the inputs
# whose predicate is true (bad) and false (good).
TRANSFORMS: dict[str, tuple[Callable[[Any, Callable[..., Any]], Callable[..., Any]], Any, Any]] = {
    "eager": (lambda lib, f: f, jnp.array(-1.0), jnp.array(2.0)),
    "filter_jit": (lambda lib, f: lib.filter_jit(f), jnp.array(-1.0), jnp.array(2.0)),
    "vmap": (lambda lib, f: lib.filter_jit(jax.vmap(f)), jnp.array([1.0, -1.0]), jnp.array([1.0, 3.0])),
    "eager_vmap": (lambda lib, f: jax.vmap(f), jnp.array([1.0, -1.0]), jnp.array([1.0, 3.0])),
    "grad": (lambda lib, f: lib.filter_jit(jax.value_and_grad(f)), jnp.array(-1.0), jnp.array(2.0)),
    "eager_grad": (lambda lib, f: jax.grad(f), jnp.array(-1.0), jnp.array(2.0)),
    "jvp": (
        lambda lib, f: lib.filter_jit(lambda x: jax.jvp(f, (x,), (jnp.ones_like(x),))),
        jnp.array(-1.0),
        jnp.array(2.0),
    ),
    "scan": (lambda lib, f: lib.filter_jit(_scan_sum(f)), jnp.array([1.0, -1.0]), jnp.array([1.0, 3.0])),
    "vmap_of_jit": (lambda lib, f: lib.filter_jit(jax.vmap(lib.filter_jit(f))), jnp.array([-1.0, 1.0]), jnp.array([0.0, 1.0])),
}


@pytest.mark.parametrize("name", sorted(TRANSFORMS))
def test_raises_under_each_transformation_like_equinox(name: str) -> None:
    transform, bad, good = TRANSFORMS[name]
    ours, theirs = transform(eqx, _checked(eqx)), transform(equinox, _checked(equinox))
    # The valid side: same values as Equinox (and as the unchecked function).
    out = ours(good)
    plain = transform(eqx, lambda x: x * 2)(good)
    for a, b, c in zip(jax.tree.leaves(out), jax.tree.leaves(theirs(good)), jax.tree.leaves(plain)):
        np.testing.assert_allclose(a, b)
        np.testing.assert_allclose(a, c)
    # The invalid side: an EquinoxRuntimeError naming the message and the user's line.
    with pytest.raises(equinox.EquinoxRuntimeError):
        theirs(bad)
    with pytest.raises(eqx.EquinoxRuntimeError) as info:
        ours(bad)
    message = str(info.value)
    assert message.startswith(NEG)
    assert __file__ in message and "THE-CALL-SITE" in message
    # JAX's long runtime error is not chained on for display.
    error = info.value
    assert error.__cause__ is None and (error.__context__ is None or error.__suppress_context__)


def test_bare_jax_jit_raises_jax_error_carrying_the_message() -> None:
    with pytest.raises(jax.errors.JaxRuntimeError) as info:
        jax.jit(_checked(eqx))(jnp.array(-1.0))
    assert NEG in str(info.value) and "THE-CALL-SITE" in str(info.value)
    assert "eqx.filter_jit" in str(info.value)


def test_unused_result_is_dead_code_as_in_equinox() -> None:
    def only_grad(lib: Any) -> Callable[[jax.Array], jax.Array]:
        return lib.filter_jit(jax.grad(_checked(lib)))  # primal output unused

    np.testing.assert_allclose(only_grad(eqx)(jnp.array(-1.0)), only_grad(equinox)(jnp.array(-1.0)))


def test_trace_time_predicate() -> None:
    @eqx.filter_jit
    def f(x: jax.Array, flag: bool) -> jax.Array:
        return eqx.error_if(x, flag, "flag was set")

    np.testing.assert_array_equal(f(jnp.arange(3), False), jnp.arange(3))
    with pytest.raises(eqx.EquinoxTracetimeError, match="^flag was set"):
        f(jnp.arange(3), True)
    with pytest.raises(equinox.EquinoxTracetimeError, match="^flag was set"):
        equinox.filter_jit(lambda x: equinox.error_if(x, True, "flag was set"))(jnp.arange(3))


def test_branched_error_if_picks_the_message() -> None:
    msgs = ["negative", "very negative"]

    @eqx.filter_jit
    def f(x: jax.Array) -> jax.Array:
        return eqx.branched_error_if(x, x < 0, jnp.where(x < -10, 1, 0), msgs)

    assert f(jnp.array(1.0)) == 1.0
    with pytest.raises(eqx.EquinoxRuntimeError, match="^negative\n"):
        f(jnp.array(-1.0))
    with pytest.raises(eqx.EquinoxRuntimeError, match="^very negative\n"):
        f(jnp.array(-11.0))
    # Under vmap, the largest index across the batch wins (as in Equinox).
    with pytest.raises(eqx.EquinoxRuntimeError, match="^very negative\n"):
        eqx.filter_jit(jax.vmap(f.__wrapped__))(jnp.array([-1.0, 5.0, -20.0]))


def test_pytree_with_static_parts_is_returned_whole() -> None:
    tree = {"w": jnp.ones(2), "name": "kept", "n": 3}
    out = eqx.filter_jit(lambda t: eqx.error_if(t, t["w"] < 0, "bad"))(tree)
    assert out["name"] == "kept" and out["n"] == 3
    np.testing.assert_array_equal(out["w"], tree["w"])
    with pytest.raises(ValueError, match="at least one array"):
        eqx.error_if({"name": "no arrays"}, jnp.array(True), "bad")


def test_on_error_nan_and_off() -> None:
    f = jax.jit(lambda x, i: (eqx.error_if(x, x < 0, "m", on_error="nan"), eqx.error_if(i, x < 0, "m", on_error="nan")))
    x, i = f(jnp.array([-1.0, 2.0]), jnp.array([1, 2], dtype=jnp.int32))
    assert np.isnan(x).all()
    assert (np.asarray(i) == np.iinfo(np.int32).max).all()
    ok_x, ok_i = f(jnp.array([1.0, 2.0]), jnp.array([1, 2], dtype=jnp.int32))
    np.testing.assert_array_equal(ok_x, [1.0, 2.0])
    np.testing.assert_array_equal(ok_i, [1, 2])
    off = jax.jit(lambda x: eqx.error_if(x, x < 0, "m", on_error="off"))
    np.testing.assert_array_equal(off(jnp.array([-1.0])), [-1.0])
    with pytest.raises(ValueError, match="on_error must be"):
        eqx.error_if(jnp.ones(1), jnp.array(False), "m", on_error="loud")  # type: ignore[arg-type]


def _run(code: str, env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={**os.environ, **env},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_eqx_on_error_environment_variable() -> None:
    code = """
        import jax.numpy as jnp, equinox_typed as eqx
        f = eqx.filter_jit(lambda x: eqx.error_if(x, x < 0, "m"))
        print(f(jnp.array(-1.0)))
    """
    assert _run(code, {"EQX_ON_ERROR": "nan"}).stdout.strip() == "nan"
    assert _run(code, {"EQX_ON_ERROR": "off"}).stdout.strip() == "-1.0"
    raised = _run(code, {"EQX_ON_ERROR": "raise"})
    assert raised.returncode != 0 and "EquinoxRuntimeError: m" in raised.stderr
    invalid = _run(code, {"EQX_ON_ERROR": "loud"})
    assert "EQX_ON_ERROR='loud' is not one of raise, breakpoint, nan, off" in invalid.stderr


def test_eqx_on_error_breakpoint_opens_the_debugger() -> None:
    code = """
        import jax.numpy as jnp, equinox_typed as eqx
        f = eqx.filter_jit(lambda x: eqx.error_if(x, x < 0, "look here"))
        print("result", f(jnp.array(-1.0)))
    """
    out = _run(code, {"EQX_ON_ERROR": "breakpoint"}, stdin="c\n")
    assert out.returncode == 0, out.stderr
    assert "EquinoxRuntimeError: look here" in out.stdout
    assert "(jdb)" in out.stdout  # JAX's debugger prompt
    assert "result nan" in out.stdout


# --------------------------------------------------------------------------------------
# Enumeration
# --------------------------------------------------------------------------------------


class RESULTS(eqx.Enumeration):
    success = ""
    diverged = "the solver diverged"


class MORE(RESULTS):
    exploded = "it exploded"


def test_enumeration_items_messages_and_equality() -> None:
    assert len(RESULTS) == 2 and len(MORE) == 3
    assert RESULTS[RESULTS.diverged] == "the solver diverged"
    assert repr(RESULTS.diverged) == f"{__name__}.RESULTS<the solver diverged>"
    assert bool(RESULTS.success == RESULTS.success) and bool(RESULTS.success != RESULTS.diverged)
    assert isinstance(RESULTS.success, RESULTS) and not isinstance(RESULTS.success, MORE)
    with pytest.raises(ValueError, match="same Enumeration"):
        _ = RESULTS.success == MORE.success
    with pytest.raises(ValueError, match="same Enumeration"):
        _ = RESULTS.success == 0
    assert bool(MORE.promote(RESULTS.diverged) == MORE.diverged)
    with pytest.raises(ValueError, match="inherits from"):
        RESULTS.promote(MORE.exploded)
    with pytest.raises(AttributeError, match="no item `missing`"):
        _ = RESULTS.missing
    with pytest.raises(ValueError, match="classmethod"):

        class Clash(eqx.Enumeration):
            where = "no"


def test_enumeration_through_jit_vmap_and_error_if() -> None:
    @eqx.filter_jit
    def solve(x: jax.Array) -> tuple[jax.Array, Any]:
        result = RESULTS.where(x > 0, RESULTS.success, RESULTS.diverged)
        return x, result

    x, result = solve(jnp.array(1.0))
    assert bool(result == RESULTS.success)
    _, batched = jax.vmap(solve)(jnp.array([1.0, -1.0]))
    assert RESULTS[batched] == "['' 'the solver diverged']"

    check = eqx.filter_jit(lambda x, r: r.error_if(x, r != RESULTS.success))
    np.testing.assert_array_equal(check(jnp.array(1.0), RESULTS.success), 1.0)
    with pytest.raises(eqx.EquinoxRuntimeError, match="^the solver diverged\n"):
        check(jnp.array(1.0), RESULTS.diverged)
    with pytest.raises(ValueError, match="scalar boolean"):
        RESULTS.where(jnp.array([True]), RESULTS.success, RESULTS.diverged)


def test_enumeration_parity_with_equinox() -> None:
    class Theirs(equinox.Enumeration):
        success = ""
        diverged = "the solver diverged"

    for name in ("success", "diverged"):
        ours, theirs = getattr(RESULTS, name), getattr(Theirs, name)
        assert RESULTS[ours] == Theirs[theirs]
        assert int(ours._value) == int(theirs._value)
    assert len(jax.tree.leaves(RESULTS.success)) == len(jax.tree.leaves(Theirs.success)) == 1


# The library's own transformations, called eagerly (outside any jit), and JAX's control
# flow, which compiles its body even when called eagerly.
EAGER_FILTERED: dict[str, Callable[[Any, Callable[..., Any]], Callable[[jax.Array], Any]]] = {
    "filter_vmap": lambda lib, f: lambda x: lib.filter_vmap(f)(jnp.stack([x, x + 1])),
    "filter_grad": lambda lib, f: lib.filter_grad(lambda x: jnp.sum(f(x))),
    "filter_value_and_grad": lambda lib, f: lib.filter_value_and_grad(lambda x: jnp.sum(f(x))),
    "filter_jvp": lambda lib, f: lambda x: lib.filter_jvp(f, (x,), (jnp.ones_like(x),)),
    "filter_vjp": lambda lib, f: lambda x: lib.filter_vjp(f, x)[1](jnp.ones_like(x)),
}


@pytest.mark.parametrize("name", sorted(EAGER_FILTERED))
def test_raises_under_eager_filtered_transformations_like_equinox(name: str) -> None:
    make = EAGER_FILTERED[name]
    ours, theirs = make(eqx, _checked(eqx)), make(equinox, _checked(equinox))
    for a, b in zip(jax.tree.leaves(ours(jnp.array(2.0))), jax.tree.leaves(theirs(jnp.array(2.0)))):
        np.testing.assert_allclose(a, b)
    with pytest.raises(equinox.EquinoxRuntimeError):
        theirs(jnp.array(-1.0))
    with pytest.raises(eqx.EquinoxRuntimeError) as info:
        ours(jnp.array(-1.0))
    assert str(info.value).startswith(NEG) and "THE-CALL-SITE" in str(info.value)


def test_eager_scan_raises_jax_error_carrying_the_message_like_equinox() -> None:
    # An eager `lax.scan` compiles and runs its body itself, outside any filter_jit:
    # as with Equinox, the failure arrives as JAX's runtime error, carrying the message
    # and the call site; wrapping the program in filter_jit gives EquinoxRuntimeError.
    for lib in (eqx, equinox):
        with pytest.raises(jax.errors.JaxRuntimeError) as info:
            _scan_sum(_checked(lib))(jnp.array([1.0, -1.0]))
        assert NEG in str(info.value)
        if lib is eqx:
            assert "THE-CALL-SITE" in str(info.value) and "eqx.filter_jit" in str(info.value)
