"""Dispatch overhead of ``filter_jit`` and the cost of checked Module construction.

Run ``python benchmarks/bench_jit.py``. Prints two tables:

1. a cached call of the same small MLP through equinox_typed's ``filter_jit``, through
   ``jax.jit`` on parameters partitioned beforehand (the floor: no filtering at all), and
   through ``equinox.filter_jit``, with the ratios;
2. constructing a Linear-like Module: ours with checks on ("eager") and off, against
   equinox Modules without checks and with jaxtyping's ``jaxtyped(typechecker=beartype)``.

Timings are the best of interleaved rounds of many calls (microseconds per call), which
measures overhead rather than noise from the machine being shared.
"""

from __future__ import annotations

import sys
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

import equinox
import jax
import jax.numpy as jnp
from beartype import beartype
from jaxtyping import Array, Float, jaxtyped

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout
import equinox_typed as eqx  # noqa: E402

WIDTH, DEPTH, IN, OUT = 32, 3, 8, 4


def best_of(fns: dict[str, Callable[[], Any]], rounds: int = 30, number: int = 300) -> dict[str, float]:
    """Best per-call time of each function in microseconds, measured in interleaved
    rounds so that load from other processes hits all of them alike."""
    for fn in fns.values():
        fn()
    best = {name: float("inf") for name in fns}
    for _ in range(rounds):
        for name, fn in fns.items():
            best[name] = min(best[name], timeit.timeit(fn, number=number) / number * 1e6)
    return best


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

    rows = best_of(
        {
            "equinox_typed.filter_jit (checks eager)": lambda: ours_fn(model, x),
            "jax.jit on pre-partitioned params": lambda: jax_fn(params, x),
            "equinox.filter_jit": lambda: eqx_fn(theirs, x),
        }
    )
    with eqx.checks("off"):
        rows.update(best_of({"equinox_typed.filter_jit (checks off)": lambda: ours_fn(model, x)}, rounds=10))
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

    rows = best_of(
        {
            "equinox_typed.Module (checks eager)": lambda: FromArrays(w, b, IN, WIDTH),
            "equinox.Module (no checks)": lambda: EqxFromArrays(w, b, IN, WIDTH),
            "equinox.Module + jaxtyped(beartype)": lambda: checked_eqx(w, b, IN, WIDTH),
        },
        rounds=10,
    )
    with eqx.checks("off"):
        rows.update(best_of({"equinox_typed.Module (checks off)": lambda: FromArrays(w, b, IN, WIDTH)}, rounds=10))
    print("Module construction (Linear-like, from existing arrays), us per instance")
    for name, t in rows.items():
        print(f"  {name:<44} {t:8.2f}")


if __name__ == "__main__":
    print(f"jax {jax.__version__}, equinox {equinox.__version__}, backend {jax.default_backend()}")
    dispatch_table()
    construction_table()
