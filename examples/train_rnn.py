"""A GRU, run with ``jax.lax.scan``, tells clockwise spirals from anticlockwise ones.

Run with ``python examples/train_rnn.py`` (a few seconds). Each example is a sequence of
2-d points tracing a noisy spiral from a random starting angle, turning one way or the
other; the label is the direction. ``eqx.nn.GRUCell`` consumes one point per step inside
``jax.lax.scan`` and a linear layer reads the final hidden state.
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import optax
from jaxtyping import Array, Float, Int, PRNGKeyArray

import equinox_typed as eqx

SEQ_LEN, HIDDEN = 16, 16


class SpiralClassifier(eqx.Module, strict=True):
    """A GRU over the sequence, then a linear readout of its last state to one logit."""

    cell: eqx.nn.GRUCell
    readout: eqx.nn.Linear

    def __init__(self, *, key: PRNGKeyArray):
        cell_key, readout_key = jax.random.split(key)
        self.cell = eqx.nn.GRUCell(2, HIDDEN, key=cell_key)
        self.readout = eqx.nn.Linear(HIDDEN, "scalar", key=readout_key)

    def __call__(self, points: Float[Array, "time 2"]) -> Float[Array, ""]:
        def step(hidden: Float[Array, " hidden"], point: Float[Array, " 2"]) -> tuple[Float[Array, " hidden"], None]:
            return self.cell(point, hidden), None

        hidden, _ = jax.lax.scan(step, jnp.zeros(HIDDEN), points)
        return self.readout(hidden)


def make_spirals(key: PRNGKeyArray, n: int) -> tuple[Float[Array, "n time 2"], Int[Array, " n"]]:
    """``n`` spirals, half clockwise (label 1) and half anticlockwise (label 0)."""
    angle_key, noise_key, speed_key = jax.random.split(key, 3)
    labels = jnp.arange(n) % 2
    direction = jnp.where(labels == 1, -1.0, 1.0)[:, None]  # clockwise turns negative
    start = jax.random.uniform(angle_key, (n, 1), maxval=2 * jnp.pi)
    speed = jax.random.uniform(speed_key, (n, 1), minval=0.2, maxval=0.5)
    t = jnp.arange(SEQ_LEN)[None, :]
    theta = start + direction * speed * t
    radius = 0.2 + t / SEQ_LEN
    points = jnp.stack([radius * jnp.cos(theta), radius * jnp.sin(theta)], axis=-1)
    points = points + 0.05 * jax.random.normal(noise_key, points.shape)
    return points, labels


def loss_and_accuracy(
    model: SpiralClassifier, points: Float[Array, "n time 2"], labels: Int[Array, " n"]
) -> tuple[Float[Array, ""], Float[Array, ""]]:
    logits = jax.vmap(model)(points)
    loss = optax.sigmoid_binary_cross_entropy(logits, labels.astype(logits.dtype)).mean()
    accuracy = jnp.mean((logits > 0) == (labels == 1))
    return loss, accuracy


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--steps", type=int, default=None, help="training steps (default 400, 150 with --quick)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="a short run for CI")
    args = parser.parse_args(argv)
    steps = args.steps or (150 if args.quick else 400)

    model_key, train_key, test_key = jax.random.split(jax.random.key(args.seed), 3)
    model = SpiralClassifier(key=model_key)
    x_test, y_test = make_spirals(test_key, 512)
    optimiser = optax.adam(1e-2)
    opt_state = optimiser.init(eqx.filter(model, eqx.is_array))

    @eqx.filter_jit
    def step(
        model: SpiralClassifier, opt_state: optax.OptState, key: PRNGKeyArray
    ) -> tuple[SpiralClassifier, optax.OptState, Float[Array, ""]]:
        points, labels = make_spirals(key, 64)  # fresh data every step
        (loss, _), grads = eqx.filter_value_and_grad(loss_and_accuracy, has_aux=True)(model, points, labels)
        updates, opt_state = optimiser.update(grads, opt_state, eqx.filter(model, eqx.is_array))
        return eqx.apply_updates(model, updates), opt_state, loss

    evaluate = eqx.filter_jit(loss_and_accuracy)
    print(f"initial test accuracy {float(evaluate(model, x_test, y_test)[1]):.4f}")
    for i, key in enumerate(jax.random.split(train_key, steps)):
        model, opt_state, loss = step(model, opt_state, key)
        if i % max(1, steps // 5) == 0 or i == steps - 1:
            print(f"step {i:4d}  loss {float(loss):.4f}")
    test_loss, test_accuracy = evaluate(model, x_test, y_test)
    print(f"final test loss {float(test_loss):.4f}")
    print(f"final test accuracy {float(test_accuracy):.4f}")


if __name__ == "__main__":
    main()
