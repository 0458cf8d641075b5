"""Train a small MLP, then see what the shape typing buys you.

Run with ``python examples/demo.py`` (about ten seconds on a laptop CPU). It:

1. fits ``eqx.nn.MLP`` to a synthetic regression task, y = sin(x0) * cos(x1) + noise,
   with a jitted training step built from ``eqx.filter_jit``,
   ``eqx.filter_value_and_grad`` and ``eqx.apply_updates`` (plain SGD, no optimiser
   library needed), printing the loss as it goes down;
2. swaps a wrongly shaped weight into the trained model with ``eqx.tree_at`` and calls
   the same jitted step: the mistake is caught at the ``filter_jit`` boundary, before
   anything is traced, and the error names the field and the sizes in force;
3. builds a large model abstractly with ``eqx.filter_eval_shape``: shapes and dtypes,
   no memory allocated, no random numbers drawn.
"""

from __future__ import annotations

import time

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float, PRNGKeyArray

import equinox_typed as eqx

IN_SIZE, WIDTH, DEPTH = 2, 32, 2
STEPS, LEARNING_RATE, BATCH = 400, 0.1, 128


def make_data(key: PRNGKeyArray, n: int) -> tuple[Float[Array, "n 2"], Float[Array, " n"]]:
    """Inputs uniform on [-2, 2]^2; targets sin(x0) * cos(x1) with a little noise."""
    xkey, nkey = jax.random.split(key)
    x = jax.random.uniform(xkey, (n, IN_SIZE), minval=-2.0, maxval=2.0)
    y = jnp.sin(x[:, 0]) * jnp.cos(x[:, 1]) + 0.05 * jax.random.normal(nkey, (n,))
    return x, y


def loss_fn(model: eqx.nn.MLP, x: Float[Array, "n 2"], y: Float[Array, " n"]) -> Float[Array, ""]:
    # The MLP maps one example (shape (2,)) to a scalar; vmap maps it over the batch.
    pred = jax.vmap(model)(x)
    return jnp.mean((pred - y) ** 2)


@eqx.filter_jit
def train_step(
    model: eqx.nn.MLP, x: Float[Array, "n 2"], y: Float[Array, " n"]
) -> tuple[eqx.nn.MLP, Float[Array, ""]]:
    # filter_value_and_grad differentiates the model's floating-point arrays only: its
    # activation functions and integer sizes are held static, their gradients are None.
    loss, grads = eqx.filter_value_and_grad(loss_fn)(model, x, y)
    updates = jax.tree_util.tree_map(lambda g: -LEARNING_RATE * g, grads)
    return eqx.apply_updates(model, updates), loss


def train(model: eqx.nn.MLP, key: PRNGKeyArray) -> eqx.nn.MLP:
    data_key, test_key = jax.random.split(key)
    x_test, y_test = make_data(test_key, 512)
    print(f"initial test loss {float(loss_fn(model, x_test, y_test)):.4f}")
    start = time.perf_counter()
    for step, batch_key in enumerate(jax.random.split(data_key, STEPS)):
        x, y = make_data(batch_key, BATCH)
        model, loss = train_step(model, x, y)
        if step % 100 == 0 or step == STEPS - 1:
            print(f"step {step:4d}  train loss {float(loss):.4f}")
    elapsed = time.perf_counter() - start
    print(f"final test loss {float(loss_fn(model, x_test, y_test)):.4f}")
    print(f"trained {STEPS} steps in {elapsed:.1f}s")
    return model


def caught_shape_mistake(model: eqx.nn.MLP) -> None:
    # tree_at edits a copy of the model out of place, without running __init__, so the
    # wrong shape gets through here...
    bad = eqx.tree_at(lambda m: m.layers[0].weight, model, jnp.zeros((5, 5)))
    x, y = make_data(jax.random.key(1), BATCH)
    try:
        # ...and is caught when it reaches the jitted step, before any tracing.
        train_step(bad, x, y)
    except eqx.TypeCheckError as error:
        print("caught at the filter_jit boundary:")
        print("  " + str(error).replace("\n", "\n  "))
    else:
        raise AssertionError("the wrongly shaped weight was not caught")


def abstract_model() -> None:
    # Build a model too large to bother allocating, to inspect its parameter count.
    big = eqx.filter_eval_shape(
        eqx.nn.MLP, 1024, 1024, width_size=4096, depth=8, key=jax.random.key(0)
    )
    # Its array fields are jax.ShapeDtypeStructs: shape and dtype, no data.
    leaves = jax.tree_util.tree_leaves(big)
    count = sum(leaf.size for leaf in leaves if isinstance(leaf, jax.ShapeDtypeStruct))
    first = big.layers[0].weight
    print(
        f"abstract MLP: {len(big.layers)} layers, first weight {first.dtype}{list(first.shape)}, "
        f"{count:,} parameters (none allocated)"
    )


def main() -> None:
    model_key, train_key = jax.random.split(jax.random.key(0))
    model = eqx.nn.MLP(IN_SIZE, "scalar", width_size=WIDTH, depth=DEPTH, key=model_key)
    print(model)
    model = train(model, train_key)
    caught_shape_mistake(model)
    abstract_model()


if __name__ == "__main__":
    main()
