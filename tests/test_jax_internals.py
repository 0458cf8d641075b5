"""The private JAX names the package relies on (``_jax_internals``) still mean what the
checking engine assumes. If a JAX upgrade moves or changes one, these fail loudly
instead of the checks being skipped without a word."""

from __future__ import annotations

import ast
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import equinox_typed as eqx
from equinox_typed import _jax_internals


def test_array_impl_is_the_class_of_concrete_arrays_only() -> None:
    assert type(jnp.zeros(3)) is _jax_internals.ARRAY_IMPL
    seen: list[bool] = []

    @jax.jit
    def f(x: jax.Array) -> jax.Array:
        seen.append(type(x) is _jax_internals.ARRAY_IMPL)
        return x

    f(jnp.zeros(3))
    assert seen == [False]


def test_trace_state_clean_tells_tracing_from_eager() -> None:
    assert _jax_internals.trace_state_clean()
    inside: list[bool] = []

    def record(x: jax.Array) -> jax.Array:
        inside.append(_jax_internals.trace_state_clean())
        return x

    # A fresh function each time: some transformations share a trace cache.
    jax.jit(lambda x: record(x))(1.0)
    jax.grad(lambda x: record(x))(1.0)
    jax.vmap(lambda x: record(x))(jnp.zeros(2))
    jax.eval_shape(lambda x: record(x), 1.0)
    assert inside == [False, False, False, False]


def test_checks_really_run_eagerly_and_not_in_traces() -> None:
    """End to end: the mode test above is what decides whether a check runs."""

    class Pair(eqx.Module):
        a: jax.Array  # unannotated shape on purpose: only the check path matters
        n: int = eqx.field(static=True)

        def __check_init__(self) -> None:
            calls.append(_jax_internals.trace_state_clean())

    calls: list[bool] = []
    Pair(jnp.zeros(2), 2)
    assert calls == [True]


def test_jaxpr_with_inputs_moves_inputs_to_constants() -> None:
    # `a - b` tells the two inputs apart, whichever way a JAX version stores constants.
    closed = jax.make_jaxpr(lambda a, b: 2.0 * a - b)(np.float32(5.0), np.float32(3.0))
    jaxpr = closed.jaxpr
    moved = _jax_internals.jaxpr_with_inputs(
        jaxpr, constvars=list(jaxpr.invars[:1]), invars=list(jaxpr.invars[1:])
    )
    (out,) = jax.core.eval_jaxpr(moved, [np.float32(5.0)], np.float32(3.0))
    assert out == pytest.approx(7.0)


def test_no_other_module_imports_jax_private_modules() -> None:
    """Every reach into ``jax._src`` goes through ``_jax_internals``."""
    package = pathlib.Path(eqx.__file__).parent
    offenders = []
    for path in package.rglob("*.py"):
        if path.name == "_jax_internals.py":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [f"{path.name}: {n}" for n in names if n.startswith("jax._src")]
    assert offenders == []


def test_x64_enabled_follows_the_flag_and_its_contexts() -> None:
    import jax.experimental

    # The context manager moved from jax.experimental to jax (JAX 0.5+).
    enable_x64 = jax.enable_x64 if hasattr(jax, "enable_x64") else jax.experimental.enable_x64
    assert _jax_internals.x64_enabled() == bool(jax.config.jax_enable_x64)
    with enable_x64(True):
        assert _jax_internals.x64_enabled()
        assert jnp.asarray(np.float64(1.0)).dtype == np.float64
    with enable_x64(False):
        assert not _jax_internals.x64_enabled()
        assert jnp.asarray(np.float64(1.0)).dtype == np.float32
