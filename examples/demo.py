"""A short tour: a shape-typed Module, a checked mistake, and a few training steps.

Run with ``python examples/demo.py``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

import equinox_typed as eqx


class Affine(eqx.Module, strict=True):
    weight: Float[Array, "out_features in_features"]
    bias: Float[Array, " out_features"]
    in_features: int = eqx.field(static=True)
    out_features: int = eqx.field(static=True)

    def __init__(self, in_features: int, out_features: int, *, key: jax.Array) -> None:
        lim = in_features**-0.5
        self.weight = jax.random.uniform(key, (out_features, in_features), minval=-lim, maxval=lim)
        self.bias = jnp.zeros(out_features)
        self.in_features = in_features
        self.out_features = out_features

    def __call__(self, x: Float[Array, " in_features"]) -> Float[Array, " out_features"]:
        return self.weight @ x + self.bias


class Scaled(eqx.Module):
    scale: Float[Array, " n"]
    shift: Float[Array, " n"]


def main() -> None:
    key_model, key_data = jax.random.split(jax.random.key(0))
    model = Affine(3, 1, key=key_model)
    print("model:", model)

    # A shape mistake is caught where it is made, naming the field and the sizes in force.
    try:
        Scaled(jnp.ones(3), jnp.ones(4))
    except eqx.TypeCheckError as error:
        print("caught:\n" + str(error))

    true_w = jnp.array([[1.0, -2.0, 0.5]])
    xs = jax.random.normal(key_data, (64, 3))
    ys = xs @ true_w.T + 0.3

    @jax.jit
    def step(model: Affine) -> tuple[Affine, jax.Array]:
        def loss_fn(m: Affine) -> jax.Array:
            return jnp.mean((jax.vmap(m)(xs) - ys) ** 2)

        loss, grads = jax.value_and_grad(loss_fn)(model)
        return jax.tree_util.tree_map(lambda p, g: p - 0.1 * g, model, grads), loss

    for i in range(200):
        model, loss = step(model)
        if i % 50 == 0:
            print(f"step {i:3d}  loss {float(loss):.5f}")
    print("learned weight:", model.weight.round(3).tolist(), "bias:", float(model.bias[0]))


if __name__ == "__main__":
    main()
