"""BatchNorm with ``State``: train with batch statistics, then predict in inference mode.

Run with ``python examples/stateful.py`` (a few seconds). The inputs are badly scaled
(features in the hundreds, offset far from zero), which a ``BatchNorm`` after the first
layer absorbs. The running statistics live in an ``eqx.nn.State`` that is threaded
through every call: ``make_with_state`` builds the model and its initial state together,
and each training step returns the updated state beside the updated model.

Afterwards ``eqx.nn.inference_mode`` switches BatchNorm to its running statistics, so a
prediction no longer depends on the rest of the batch: one example alone gets exactly
the prediction it gets inside a batch.
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float, Int, PRNGKeyArray

import equinox_typed as eqx

IN_SIZE, HIDDEN = 8, 32


class Classifier(eqx.Module, strict=True):
    """Linear -> BatchNorm -> ReLU -> Linear, over one example; ``state`` goes in and out."""

    first: eqx.nn.Linear
    norm: eqx.nn.BatchNorm
    last: eqx.nn.Linear

    def __init__(self, *, key: PRNGKeyArray):
        first_key, last_key = jax.random.split(key)
        self.first = eqx.nn.Linear(IN_SIZE, HIDDEN, key=first_key)
        # axis_name: the batch statistics are taken over the vmap axis of this name.
        self.norm = eqx.nn.BatchNorm(HIDDEN, axis_name="batch")
        self.last = eqx.nn.Linear(HIDDEN, 2, key=last_key)

    def __call__(self, x: Float[Array, " 8"], state: eqx.nn.State) -> tuple[Float[Array, " 2"], eqx.nn.State]:
        h, state = self.norm(self.first(x), state)
        return self.last(jax.nn.relu(h)), state


def make_data(key: PRNGKeyArray, n: int) -> tuple[Float[Array, "n 8"], Int[Array, " n"]]:
    """Two Gaussian classes separated along a random direction, then scaled by 100 and
    shifted by 500: hard for plain SGD on the raw inputs, easy after normalisation."""
    dir_key, x_key = jax.random.split(key)
    direction = jax.random.normal(dir_key, (IN_SIZE,))
    direction = direction / jnp.linalg.norm(direction)
    labels = jnp.arange(n) % 2
    # Class means 4 standard deviations apart: the best possible accuracy is about 97.7%.
    x = jax.random.normal(x_key, (n, IN_SIZE)) + jnp.where(labels[:, None] == 1, 2.0, -2.0) * direction
    return 100.0 * x + 500.0, labels


def loss_fn(
    model: Classifier, state: eqx.nn.State, x: Float[Array, "n 8"], y: Int[Array, " n"]
) -> tuple[Float[Array, ""], eqx.nn.State]:
    # in_axes=(0, None): examples are batched, the state is shared; out_axes=(0, None):
    # the state comes back once (BatchNorm makes it the same for every example).
    logits, state = jax.vmap(model, axis_name="batch", in_axes=(0, None), out_axes=(0, None))(x, state)
    return optax.softmax_cross_entropy_with_integer_labels(logits, y).mean(), state


def predict(model: Classifier, state: eqx.nn.State, x: Float[Array, "n 8"]) -> Int[Array, " n"]:
    """Predictions of a model in inference mode (no axis name needed any more)."""
    logits, _ = jax.vmap(model, in_axes=(0, None), out_axes=(0, None))(x, state)
    return jnp.argmax(logits, axis=-1)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--steps", type=int, default=None, help="training steps (default 300, 100 with --quick)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="a short run for CI")
    args = parser.parse_args(argv)
    steps = args.steps or (100 if args.quick else 300)

    model_key, data_key = jax.random.split(jax.random.key(args.seed))
    model, state = eqx.nn.make_with_state(Classifier)(key=model_key)
    x, y = make_data(data_key, 1024)
    x_train, y_train, x_test, y_test = x[:768], y[:768], x[768:], y[768:]
    optimiser = optax.adam(1e-2)
    opt_state = optimiser.init(eqx.filter(model, eqx.is_array))

    @eqx.filter_jit
    def step(
        model: Classifier, state: eqx.nn.State, opt_state: optax.OptState, key: PRNGKeyArray
    ) -> tuple[Classifier, eqx.nn.State, optax.OptState, Float[Array, ""]]:
        idx = jax.random.choice(key, x_train.shape[0], (64,), replace=False)
        (loss, state), grads = eqx.filter_value_and_grad(loss_fn, has_aux=True)(model, state, x_train[idx], y_train[idx])
        updates, opt_state = optimiser.update(grads, opt_state, eqx.filter(model, eqx.is_array))
        return eqx.apply_updates(model, updates), state, opt_state, loss

    for i, key in enumerate(jax.random.split(jax.random.key(args.seed + 1), steps)):
        model, state, opt_state, loss = step(model, state, opt_state, key)
        if i % max(1, steps // 5) == 0 or i == steps - 1:
            print(f"step {i:4d}  loss {float(loss):.4f}")

    inference_model = eqx.nn.inference_mode(model)
    predictions = eqx.filter_jit(predict)(inference_model, state, x_test)
    print(f"inference-mode test accuracy {float(jnp.mean(predictions == y_test)):.4f}")
    # In inference mode each prediction depends on its own example only.
    alone = jnp.stack([predict(inference_model, state, x_test[i : i + 1])[0] for i in range(8)])
    print(f"single examples predicted as in the batch: {bool(jnp.all(alone == predictions[:8]))}")
    # The state updated in training holds the running statistics now used.
    print(f"state after training: {state}")


if __name__ == "__main__":
    main()
