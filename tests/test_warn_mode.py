"""Checking mode "warn": the same checks, each violation issued once as a warning."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from collections.abc import Callable

import jax.numpy as jnp
import jax.random as jr
import pytest
from jaxtyping import Array, Float

import equinox_typed as eqx
from equinox_typed import _checking


@pytest.fixture(autouse=True)
def _forget_issued_warnings() -> None:
    # Each distinct violation warns once per process; each test starts afresh.
    _checking._WARNED.clear()  # pyright: ignore[reportPrivateUsage]


class Dense(eqx.Module):
    weight: Float[Array, "out in"]
    bias: Float[Array, " out"]


def _raised(call: Callable[[], object]) -> str:
    with eqx.checks("eager"), pytest.raises(eqx.TypeCheckError) as info:
        call()
    return str(info.value)


def _warned(call: Callable[[], object]) -> list[str]:
    with eqx.checks("warn"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    return [str(w.message) for w in caught if issubclass(w.category, eqx.TypeCheckWarning)]


def test_warning_class() -> None:
    assert issubclass(eqx.TypeCheckWarning, UserWarning)
    assert "TypeCheckWarning" in eqx.__all__


def test_construction_warns_once_with_the_same_message(typechecker: str) -> None:
    def build() -> None:
        for _ in range(3):
            Dense(jnp.zeros((2, 3)), jnp.zeros(5))

    expected = _raised(build)
    assert _warned(build) == [expected]
    assert "`.bias`" in expected and "f32[5]" in expected


def test_valid_code_gives_no_warning(typechecker: str) -> None:
    keys = jr.split(jr.PRNGKey(0), 3)
    ensemble = eqx.filter_vmap(lambda k: eqx.nn.Linear(2, 2, key=k))(keys)

    def run() -> None:
        Dense(jnp.zeros((2, 3)), jnp.zeros(2))
        eqx.filter_jit(lambda m: m.weight.sum())(ensemble)  # a stack: tried, accepted
        eqx.nn.Linear(2, 2, key=keys[0])(jnp.ones(2))

    assert _warned(run) == []


def test_boundary_and_layer_violations_warn_and_the_code_runs(typechecker: str) -> None:
    linear = eqx.nn.Linear(3, 2, key=jr.PRNGKey(0))

    @eqx.filter_jit
    def total(x: Float[Array, " 3"]) -> Float[Array, ""]:
        return x.sum()

    expected = _raised(lambda: total(jnp.ones(4)))
    assert _warned(lambda: total(jnp.ones(4))) == [expected]
    keys = jr.split(jr.PRNGKey(0), 3)
    ensemble = eqx.filter_vmap(lambda k: eqx.nn.Linear(2, 2, key=k))(keys)
    bad = eqx.tree_at(lambda m: m.bias, ensemble, jnp.zeros((3, 5)))
    expected = _raised(lambda: eqx.filter_jit(lambda m: 0)(bad))
    assert "stacked:" in expected
    assert _warned(lambda: eqx.filter_jit(lambda m: 1)(bad)) == [expected]
    expected = _raised(lambda: linear(jnp.ones(4)))
    assert "Linear.__call__" in expected
    with pytest.raises(TypeError):  # the warned call then fails in the matrix product
        assert _warned(lambda: linear(jnp.ones(4))) == [expected]


def test_a_signature_warned_about_is_checked_again_in_eager_mode(typechecker: str) -> None:
    @eqx.filter_jit
    def total(x: Float[Array, " 3"]) -> Float[Array, ""]:
        return x.sum()

    assert len(_warned(lambda: total(jnp.ones(4)))) == 1
    assert "argument `x`" in _raised(lambda: total(jnp.ones(4)))


def test_environment_variable_selects_warn_mode() -> None:
    code = (
        "import warnings, jax.numpy as jnp; from jaxtyping import Array, Float\n"
        "import equinox_typed as eqx\n"
        "assert eqx.get_checks() == 'warn'\n"
        "class D(eqx.Module):\n    w: Float[Array, ' n']\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    warnings.simplefilter('always')\n"
        "    D(jnp.zeros((2, 2)))\n"
        "assert [w.category.__name__ for w in caught] == ['TypeCheckWarning'], caught\n"
        "print(caught[0].message)\n"
    )
    env = {**os.environ, "EQUINOX_TYPED_CHECKS": "warn", "JAX_PLATFORMS": "cpu"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert "D: field `.w` does not match its annotation." in out.stdout


def test_layer_chain_and_scalar_linear_violations_warn() -> None:
    # The built-in layers' own consistency checks (the MLP layer chain, a "scalar"
    # Linear's weight) report like every other check: raised in "eager", warned in
    # "warn", skipped in "off".
    key = jr.PRNGKey(0)
    mlp = eqx.nn.MLP(2, 3, 8, 1, key=key)
    wrong_end = eqx.tree_at(lambda m: m.layers[1], mlp, eqx.nn.Linear(8, 4, key=key))
    expected = _raised(wrong_end.__check_init__)
    assert "does not give out_size" in expected and "out_features=4" in expected
    assert _warned(wrong_end.__check_init__) == [expected]
    with pytest.raises(TypeError):  # warned, then the call fails in JAX (4 != 3 outputs)
        _warned(lambda: eqx.filter_jit(lambda m, x: m(x) + jnp.ones(3))(wrong_end, jnp.ones(2)))
    scalar = eqx.nn.Linear("scalar", 2, key=key)
    bad = eqx.tree_at(lambda m: m.weight, scalar, jnp.ones((2, 3)))
    expected = _raised(bad.__check_init__)
    assert "in_features='scalar' needs size 1 along axis 1" in expected
    assert _warned(bad.__check_init__) == [expected]
    with eqx.checks("off"):
        wrong_end.__check_init__()
        bad.__check_init__()
