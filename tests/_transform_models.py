"""A small Linear-like Module shared by the transformation tests (the nn library is
built separately; these tests must not depend on it)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

import equinox_typed as eqx


class Linear(eqx.Module):
    weight: Float[Array, "out_features in_features"]
    bias: Float[Array, " out_features"]
    in_features: int = eqx.field(static=True)
    out_features: int = eqx.field(static=True)

    def __init__(self, in_features: int, out_features: int, *, key: jax.Array) -> None:
        wkey, bkey = jax.random.split(key)
        self.weight = jax.random.normal(wkey, (out_features, in_features))
        self.bias = jax.random.normal(bkey, (out_features,))
        self.in_features = in_features
        self.out_features = out_features

    def __call__(self, x: Float[Array, " in_features"]) -> Float[Array, " out_features"]:
        return self.weight @ x + self.bias


class MLP(eqx.Module):
    layers: tuple[Linear, ...]
    activation: object = eqx.field(static=True)

    def __init__(self, sizes: tuple[int, ...], *, key: jax.Array) -> None:
        keys = jax.random.split(key, len(sizes) - 1)
        self.layers = tuple(
            Linear(a, b, key=k) for a, b, k in zip(sizes[:-1], sizes[1:], keys)
        )
        self.activation = jax.nn.relu

    def __call__(self, x: Float[Array, " in"]) -> Float[Array, " out"]:
        for layer in self.layers[:-1]:
            x = self.activation(layer(x))  # type: ignore[operator]
        return self.layers[-1](x)


def plain_mlp(params: list[tuple[jax.Array, jax.Array]], x: jax.Array) -> jax.Array:
    """The same network as MLP, written with plain arrays (the reference)."""
    for w, b in params[:-1]:
        x = jax.nn.relu(w @ x + b)
    w, b = params[-1]
    return w @ x + b


def params_of(model: MLP) -> list[tuple[jax.Array, jax.Array]]:
    return [(layer.weight, layer.bias) for layer in model.layers]


def with_bad_weight(model: Linear, shape: tuple[int, ...]) -> Linear:
    """A copy of ``model`` whose weight was replaced by a wrongly shaped array with
    ``tree_at`` (which rebuilds the tree without running ``__init__`` checks)."""
    return eqx.tree_at(lambda m: m.weight, model, jnp.ones(shape))
