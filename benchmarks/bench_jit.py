"""Dispatch overhead of ``filter_jit`` and the cost of checked Module construction.

Run ``python benchmarks/bench_jit.py``. Prints two tables:

1. a cached call of the same small MLP through equinox_typed's ``filter_jit``, through
   ``jax.jit`` on parameters partitioned beforehand (the floor: no filtering at all), and
   through ``equinox.filter_jit``, with the ratios;
2. constructing a Linear-like Module: ours with checks on ("eager") and off, against
   equinox Modules without checks and with jaxtyping's ``jaxtyped(typechecker=beartype)``.

Timings are the best of several repeats of many calls (microseconds per call), which
measures overhead rather than noise from the machine being shared.
"""

from __future__ import annotations

import timeit
from collections.abc import Callable
from typing import Any

import equinox
import jax
import jax.numpy as jnp
from beartype import beartype
from jaxtyping import Array, Float, jaxtyped

import equinox_typed as eqx

WIDTH, DEPTH, IN, OUT = 32, 3, 8, 4


def best_us(fn: Callable[[], Any], number: int = 2000, repeat: int = 7) -> float:
    """Best per-call time in microseconds."""
    fn()
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


# --- the same MLP in both libraries ----------------------------------------------------


class Linear(eqx.Module):
    weight: Float[Array, "out_features in_features"]
    bias: Float[Array, " out_features"]
    in_features: int = eqx.field(static=True)
    out_features: int = eqx.field(static=True)

    def __init__(self, in_features: int, out_features: int, key: Any) -> None:
        wkey, bkey = jax.random.split(key)
        lim = 1 / in_features**0.5
        self.weight = jax.random.uniform(wkey, (out_features, in_features), minval=-lim, maxval=lim)
        self.bias = jax.random.uniform(bkey, (out_features,), minval=-lim, maxval=lim)
        self.in_features = in_features
        self.out_features = out_features

    def __call__(self, x: Float[Array, " in_features"]) -> Float[Array, " out_features"]:
        return self.weight @ x + self.bias


class MLP(eqx.Module):
    layers: tuple[Linear, ...]

    def __init__(self, key: Any) -> None:
        sizes = [IN] + [WIDTH] * (DEPTH - 1) + [OUT]
        keys = jax.random.split(key, DEPTH)
        self.layers = tuple(Linear(a, b, k) for a, b, k in zip(sizes[:-1], sizes[1:], keys))

    def __call__(self, x: Float[Array, " in"]) -> Float[Array, " out"]:
        for layer in self.layers[:-1]:
            x = jax.nn.relu(layer(x))
        return self.layers[-1](x)


class EqxLinear(equinox.Module):
    weight: Float[Array, "out_features in_features"]
    bias: Float[Array, " out_features"]
    in_features: int = equinox.field(static=True)
    out_features: int = equinox.field(static=True)

    def __init__(self, in_features: int, out_features: int, key: Any) -> None:
        wkey, bkey = jax.random.split(key)
        lim = 1 / in_features**0.5
        self.weight = jax.random.uniform(wkey, (out_features, in_features), minval=-lim, maxval=lim)
        self.bias = jax.random.uniform(bkey, (out_features,), minval=-lim, maxval=lim)
        self.in_features = in_features
        self.out_features = out_features

    def __call__(self, x: Array) -> Array:
        return self.weight @ x + self.bias


@jaxtyped(typechecker=beartype)
class CheckedEqxLinear(EqxLinear):
    pass


def eqx_mlp(key: Any) -> tuple[EqxLinear, ...]:
    sizes = [IN] + [WIDTH] * (DEPTH - 1) + [OUT]
    keys = jax.random.split(key, DEPTH)
    return tuple(EqxLinear(a, b, k) for a, b, k in zip(sizes[:-1], sizes[1:], keys))


def run_mlp(layers: Any, x: Any) -> Any:
    for layer in layers[:-1]:
        x = jax.nn.relu(layer.weight @ x + layer.bias)
    return layers[-1].weight @ x + layers[-1].bias


def dispatch_table() -> None:
    key = jax.random.PRNGKey(0)
    x = jnp.ones(IN)
    model = MLP(key)
    theirs = eqx_mlp(key)

    ours_fn = eqx.filter_jit(lambda m, x: m(x))
    eqx_fn = equinox.filter_jit(run_mlp)
    params, static = eqx.partition(model, eqx.is_array)
    jax_fn = jax.jit(lambda p, x: eqx.combine(p, static)(x))

    rows = {
        "equinox_typed.filter_jit (checks eager)": best_us(lambda: ours_fn(model, x)),
        "jax.jit on pre-partitioned params": best_us(lambda: jax_fn(params, x)),
        "equinox.filter_jit": best_us(lambda: eqx_fn(theirs, x)),
    }
    with eqx.checks("off"):
        rows["equinox_typed.filter_jit (checks off)"] = best_us(lambda: ours_fn(model, x))
    ours, floor, peer = (
        rows["equinox_typed.filter_jit (checks eager)"],
        rows["jax.jit on pre-partitioned params"],
        rows["equinox.filter_jit"],
    )
    print(f"Cached call, MLP of {DEPTH} Linear layers (width {WIDTH}), us per call")
    for name, t in rows.items():
        print(f"  {name:<44} {t:8.2f}")
    print(f"  ratio ours / jax.jit            {ours / floor:6.2f}   (target <= 1.3)")
    print(f"  ratio ours / equinox.filter_jit {ours / peer:6.2f}   (target <= 0.6)")


def construction_table() -> None:
    key = jax.random.PRNGKey(0)
    # Construction cost without the random init: build from existing arrays.
    w, b = jnp.ones((WIDTH, IN)), jnp.ones(WIDTH)

    class FromArrays(eqx.Module):
        weight: Float[Array, "out_features in_features"]
        bias: Float[Array, " out_features"]
        in_features: int = eqx.field(static=True)
        out_features: int = eqx.field(static=True)

    class EqxFromArrays(equinox.Module):
        weight: Float[Array, "out_features in_features"]
        bias: Float[Array, " out_features"]
        in_features: int = equinox.field(static=True)
        out_features: int = equinox.field(static=True)

    checked_eqx = jaxtyped(typechecker=beartype)(EqxFromArrays)
    del key

    rows = {
        "equinox_typed.Module (checks eager)": best_us(lambda: FromArrays(w, b, IN, WIDTH)),
        "equinox.Module (no checks)": best_us(lambda: EqxFromArrays(w, b, IN, WIDTH)),
        "equinox.Module + jaxtyped(beartype)": best_us(lambda: checked_eqx(w, b, IN, WIDTH)),
    }
    with eqx.checks("off"):
        rows["equinox_typed.Module (checks off)"] = best_us(lambda: FromArrays(w, b, IN, WIDTH))
    print("Module construction (Linear-like, from existing arrays), us per instance")
    for name, t in rows.items():
        print(f"  {name:<44} {t:8.2f}")


if __name__ == "__main__":
    print(f"jax {jax.__version__}, equinox {equinox.__version__}, backend {jax.default_backend()}")
    dispatch_table()
    construction_table()
