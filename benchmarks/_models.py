"""The benchmark models, built the same way with either library (``lib`` is
``equinox_typed`` or ``equinox``: the public APIs agree)."""

from __future__ import annotations

from functools import cache
from types import ModuleType
from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

IN, OUT, TINY = 4, 4, 8  # tiny widths: dispatch, not arithmetic, dominates


def mlp(lib: ModuleType, depth: int, width: int = TINY) -> Any:
    """An MLP of ``depth`` hidden layers (``2 * (depth + 1)`` array leaves)."""
    return lib.nn.MLP(IN, OUT, width, depth, key=jax.random.key(0))


def cnn(lib: ModuleType) -> Any:
    """A small CNN for 1x8x8 images (the size of scikit-learn's digits), 10 classes."""
    keys = jax.random.split(jax.random.key(0), 3)
    return lib.nn.Sequential(
        [
            lib.nn.Conv2d(1, 8, 3, padding=1, key=keys[0]),
            lib.nn.Lambda(jax.nn.relu),
            lib.nn.Conv2d(8, 8, 3, padding=1, key=keys[1]),
            lib.nn.Lambda(jax.nn.relu),
            lib.nn.Lambda(jnp.ravel),
            lib.nn.Linear(8 * 8 * 8, 10, key=keys[2]),
        ]
    )


@cache
def block_class(lib: ModuleType) -> type:
    """A residual block ``x + Linear(LayerNorm(relu(Linear(x))))``, shape-annotated."""

    class Block(lib.Module):  # type: ignore[misc, name-defined]
        up: Any
        norm: Any
        down: Any

        def __init__(self, width: int, key: Any) -> None:
            k1, k2 = jax.random.split(key)
            self.up = lib.nn.Linear(width, 2 * width, key=k1)
            self.norm = lib.nn.LayerNorm(2 * width)
            self.down = lib.nn.Linear(2 * width, width, key=k2)

        def __call__(self, x: Float[Array, " width"]) -> Float[Array, " width"]:
            return x + self.down(self.norm(jax.nn.relu(self.up(x))))

    return Block


@cache
def residual_class(lib: ModuleType) -> type:
    """``blocks`` residual blocks applied in turn (unrolled when traced)."""
    block = block_class(lib)

    class Residual(lib.Module):  # type: ignore[misc, name-defined]
        blocks: list[Any]

        def __init__(self, depth: int, width: int, key: Any) -> None:
            self.blocks = [block(width, k) for k in jax.random.split(key, depth)]

        def __call__(self, x: Float[Array, " width"]) -> Float[Array, " width"]:
            for b in self.blocks:
                x = b(x)
            return x

    return Residual


@cache
def scanned_residual_class(lib: ModuleType) -> type:
    """The same blocks stored as one stacked Module (every array has a leading ``depth``
    axis, built with ``filter_vmap``) and applied with ``jax.lax.scan``: the body is
    traced and compiled once instead of ``depth`` times."""
    block = block_class(lib)

    class ScannedResidual(lib.Module):  # type: ignore[misc, name-defined]
        stacked: Any

        def __init__(self, depth: int, width: int, key: Any) -> None:
            keys = jax.random.split(key, depth)
            self.stacked = lib.filter_vmap(lambda k: block(width, k))(keys)

        def __call__(self, x: Float[Array, " width"]) -> Float[Array, " width"]:
            params, static = lib.partition(self.stacked, lib.is_array)

            def body(h: Any, p: Any) -> tuple[Any, None]:
                return lib.combine(p, static)(h), None

            return jax.lax.scan(body, x, params)[0]

    return ScannedResidual


def residual(lib: ModuleType, depth: int, width: int = 32, scanned: bool = False) -> Any:
    cls = scanned_residual_class(lib) if scanned else residual_class(lib)
    return cls(depth, width, jax.random.key(0))


def leaf_count(tree: Any) -> int:
    return len(jax.tree_util.tree_leaves(tree))
