"""Every layer under the settings many research codebases use,
``jax_numpy_dtype_promotion="strict"`` and ``jax_numpy_rank_promotion="raise"``, for
each dtype Equinox supports: float16, bfloat16, float32, float64 and (for the layers
where Equinox allows it) complex64/complex128. Outputs and output dtypes are compared
with Equinox 0.13.8's, built from the same key."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Callable, Iterator
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import equinox as eqxr
import equinox_typed as eqx

KEY = jax.random.key(0)
FLOATS = ["float16", "bfloat16", "float32", "float64"]
COMPLEX = ["complex64", "complex128"]
TOLERANCE = {"float16": 1e-2, "bfloat16": 5e-2, "float32": 1e-5, "float64": 1e-10}
TOLERANCE.update(complex64=1e-5, complex128=1e-10)


@contextlib.contextmanager
def strict_config(dtype: str) -> Iterator[None]:
    """Strict dtype promotion, rank promotion raising, 64-bit mode for the 64-bit
    dtypes; all restored on exit."""
    x64 = dtype in ("float64", "complex128")
    with contextlib.ExitStack() as stack:
        stack.enter_context(jax.enable_x64(x64))
        stack.enter_context(jax.numpy_dtype_promotion("strict"))
        stack.enter_context(jax.numpy_rank_promotion("raise"))
        yield


def _input(shape: tuple[int, ...], dtype: str, seed: int = 1) -> jax.Array:
    key = jax.random.key(seed)
    if dtype.startswith("complex"):
        real_dtype = np.finfo(dtype).dtype
        re, im = jax.random.normal(key, (2, *shape), real_dtype)
        return jax.lax.complex(re, im).astype(dtype)
    return jax.random.normal(key, shape, jnp.float32).astype(dtype)


def _batched_bn(layer: Any, x: jax.Array, state: Any) -> Any:
    return jax.vmap(layer, axis_name="batch", in_axes=(0, None), out_axes=(0, None))(x, state)


# name -> (build(lib, dtype), call(layer, dtype), dtypes)
Case = tuple[Callable[[Any, str], Any], Callable[[Any, str], Any], list[str]]
CASES: dict[str, Case] = {
    "Linear": (
        lambda lib, d: lib.nn.Linear(4, 3, key=KEY, dtype=d),
        lambda m, d: m(_input((4,), d)),
        FLOATS + COMPLEX,
    ),
    "Linear-scalar": (
        lambda lib, d: lib.nn.Linear("scalar", "scalar", key=KEY, dtype=d),
        lambda m, d: m(_input((), d)),
        FLOATS + COMPLEX,
    ),
    "Conv1d": (
        lambda lib, d: lib.nn.Conv1d(2, 3, 3, padding=1, key=KEY, dtype=d),
        lambda m, d: m(_input((2, 6), d)),
        FLOATS + COMPLEX,
    ),
    "Conv2d": (
        lambda lib, d: lib.nn.Conv2d(2, 3, 3, stride=2, key=KEY, dtype=d),
        lambda m, d: m(_input((2, 5, 5), d)),
        FLOATS + COMPLEX,
    ),
    "ConvTranspose2d": (
        lambda lib, d: lib.nn.ConvTranspose2d(2, 3, 3, key=KEY, dtype=d),
        lambda m, d: m(_input((2, 4, 4), d)),
        FLOATS + COMPLEX,
    ),
    "MultiheadAttention": (
        lambda lib, d: lib.nn.MultiheadAttention(2, 4, use_query_bias=True, key=KEY, dtype=d),
        lambda m, d: m(_input((3, 4), d), _input((5, 4), d, 2), _input((5, 4), d, 3)),
        FLOATS + COMPLEX,
    ),
    "MLP": (
        lambda lib, d: lib.nn.MLP(4, 3, 5, 2, key=KEY, dtype=d),
        lambda m, d: m(_input((4,), d)),
        FLOATS,
    ),
    "GRUCell": (
        lambda lib, d: lib.nn.GRUCell(4, 3, key=KEY, dtype=d),
        lambda m, d: m(_input((4,), d), _input((3,), d, 2)),
        FLOATS + COMPLEX,
    ),
    "LSTMCell": (
        lambda lib, d: lib.nn.LSTMCell(4, 3, key=KEY, dtype=d),
        lambda m, d: m(_input((4,), d), (_input((3,), d, 2), _input((3,), d, 3))),
        FLOATS,
    ),
    "Embedding": (
        lambda lib, d: lib.nn.Embedding(5, 3, key=KEY, dtype=d),
        lambda m, d: m(jnp.array(2)),
        FLOATS + COMPLEX,
    ),
    "LayerNorm": (
        lambda lib, d: lib.nn.LayerNorm((2, 3), dtype=d),
        lambda m, d: m(_input((2, 3), d)),
        FLOATS,
    ),
    "RMSNorm": (
        lambda lib, d: lib.nn.RMSNorm(4, dtype=d),
        lambda m, d: m(_input((4,), d)),
        FLOATS,
    ),
    "GroupNorm": (
        lambda lib, d: lib.nn.GroupNorm(2, 4, dtype=d),
        lambda m, d: m(_input((4, 3), d)),
        FLOATS,
    ),
    "BatchNorm": (
        lambda lib, d: lib.nn.make_with_state(lib.nn.BatchNorm)(3, "batch", mode="batch", dtype=d),
        lambda ms, d: _batched_bn(ms[0], _input((4, 3, 2), d), ms[1])[0],
        FLOATS,
    ),
    "SpectralNorm": (
        lambda lib, d: lib.nn.make_with_state(lib.nn.SpectralNorm)(
            lib.nn.Linear(4, 3, key=KEY, dtype=d), "weight", key=KEY
        ),
        lambda ms, d: ms[0](_input((4,), d), ms[1])[0],
        ["float32", "float64"],
    ),
    "PReLU": (lambda lib, d: lib.nn.PReLU(), lambda m, d: m(_input((4,), d)), FLOATS),
    "Dropout": (
        lambda lib, d: lib.nn.Dropout(0.3),
        lambda m, d: m(_input((6,), d), key=KEY),
        FLOATS + COMPLEX,
    ),
    "RotaryPositionalEmbedding": (
        lambda lib, d: lib.nn.RotaryPositionalEmbedding(4, dtype=d),
        lambda m, d: m(_input((3, 4), d)),
        FLOATS,
    ),
    "AvgPool2d": (lambda lib, d: lib.nn.AvgPool2d(2), lambda m, d: m(_input((2, 4, 4), d)), FLOATS),
    "MaxPool2d": (lambda lib, d: lib.nn.MaxPool2d(2), lambda m, d: m(_input((2, 4, 4), d)), FLOATS),
    "AdaptiveAvgPool2d": (
        lambda lib, d: lib.nn.AdaptiveAvgPool2d(2),
        lambda m, d: m(_input((2, 5, 5), d)),
        FLOATS,
    ),
}
PARAMS = [
    pytest.param(name, dtype, id=f"{name}-{dtype}")
    for name, (_, _, dtypes) in CASES.items()
    for dtype in dtypes
]


@pytest.mark.parametrize(("name", "dtype"), PARAMS)
def test_layer_matches_equinox_under_strict_promotion(name: str, dtype: str) -> None:
    build, call, _ = CASES[name]
    with strict_config(dtype), warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Equinox's own notices
        ours = jax.tree.leaves(call(build(eqx, dtype), dtype))
        theirs = jax.tree.leaves(call(build(eqxr, dtype), dtype))
    assert [x.dtype for x in ours] == [x.dtype for x in theirs]
    assert [x.shape for x in ours] == [x.shape for x in theirs]
    tol = TOLERANCE[dtype]
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(
            np.asarray(a, np.complex128 if "complex" in dtype else np.float64),
            np.asarray(b, np.complex128 if "complex" in dtype else np.float64),
            rtol=tol,
            atol=tol,
        )


def test_strict_config_is_restored() -> None:
    with strict_config("float64"):
        assert jnp.ones(1).dtype == jnp.float64
        with pytest.raises(jax.dtypes.TypePromotionError, match="promotion"):
            jnp.ones(1, jnp.float16) + jnp.ones(1, jnp.float32)
    assert jnp.ones(1).dtype == jnp.float32
    assert (jnp.ones(1, jnp.float16) + jnp.ones(1, jnp.float32)).dtype == jnp.float32


# Complex inputs to the per-example norms. Equinox computes them under standard
# promotion, but its LayerNorm and GroupNorm mix a real variance with complex values
# implicitly, which strict promotion refuses; so the reference runs under standard
# promotion and ours under strict (the same code runs under standard). Parameters are complex (dtype=...) or
# left at the default real dtype.
COMPLEX_NORMS: dict[str, tuple[Callable[[Any, Any], Any], tuple[int, ...]]] = {
    "LayerNorm": (lambda lib, d: lib.nn.LayerNorm((2, 3), dtype=d), (2, 3)),
    "LayerNorm-no-affine": (
        lambda lib, d: lib.nn.LayerNorm(4, use_weight=False, use_bias=False, dtype=d),
        (4,),
    ),
    "RMSNorm": (lambda lib, d: lib.nn.RMSNorm(4, dtype=d), (4,)),
    "GroupNorm": (lambda lib, d: lib.nn.GroupNorm(2, 4, dtype=d), (4, 3)),
    "GroupNorm-no-affine": (
        lambda lib, d: lib.nn.GroupNorm(2, 4, channelwise_affine=False, dtype=d),
        (4, 3),
    ),
}


@pytest.mark.parametrize("params", ["complex", "real"])
@pytest.mark.parametrize("dtype", COMPLEX)
@pytest.mark.parametrize("name", list(COMPLEX_NORMS))
def test_norm_of_complex_input_matches_equinox(name: str, dtype: str, params: str) -> None:
    build, shape = COMPLEX_NORMS[name]
    x64 = dtype == "complex128"
    param_dtype = dtype if params == "complex" else None
    with jax.enable_x64(x64):
        x = _input(shape, dtype)
        theirs = build(eqxr, param_dtype)(x)
        with strict_config(dtype):
            ours = build(eqx, param_dtype)(x)
    assert ours.dtype == theirs.dtype == jnp.dtype(dtype)
    tol = 1e-5 if dtype == "complex64" else 1e-10
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=tol, atol=tol)


def test_complex_layer_norm_uses_the_mean_squared_modulus() -> None:
    # The variance of complex values is real (E|x - mean|^2), as jnp.var defines it; the
    # mean of the complex squares would give a different (complex) scale.
    x = jnp.array([1 + 2j, -1j, 3 + 0j, 0.5 - 1j], jnp.complex64)
    with strict_config("complex64"):
        out = eqx.nn.LayerNorm(4, use_weight=False, use_bias=False)(x)
    centred = np.asarray(x) - np.asarray(x).mean()
    expected = centred / np.sqrt(np.mean(np.abs(centred) ** 2) + 1e-5)
    np.testing.assert_allclose(np.asarray(out), expected, rtol=1e-5)
    wrong = centred / np.sqrt(np.mean(centred**2) + 1e-5)
    assert not np.allclose(np.asarray(out), wrong, rtol=1e-3)


@pytest.mark.parametrize("name", ["LayerNorm", "RMSNorm", "GroupNorm"])
def test_norm_fields_and_arguments_accept_complex_but_not_integers(name: str) -> None:
    build, shape = COMPLEX_NORMS[name]
    layer = build(eqx, "complex64")
    assert layer.weight.dtype == jnp.complex64
    if name == "LayerNorm":
        return  # LayerNorm takes integer inputs too (as Equinox's does)
    with pytest.raises(eqx.TypeCheckError, match="argument `x`"):
        build(eqx, None)(jnp.ones(shape, jnp.int32))
