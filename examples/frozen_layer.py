"""Fine-tune only part of a model: freeze the rest with a Module-shaped filter spec.

Run with ``python examples/frozen_layer.py`` (a few seconds). A small MLP plays the part
of a pretrained network. We keep its hidden layers frozen and fit only its last layer to
a new regression target (one that the frozen features can express exactly), then check
that the frozen parameters came back bit for bit unchanged.

The filter spec is a PyTree of the model's own shape, with ``True`` on the leaves to
train and ``False`` elsewhere; ``eqx.partition`` splits the model with it, and only the
trainable half is differentiated and given to the optimiser.
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import optax
from jaxtyping import Array, Float, PRNGKeyArray

import equinox_typed as eqx

IN_SIZE, WIDTH, DEPTH = 4, 32, 3


def trainable_spec(model: eqx.nn.MLP) -> eqx.nn.MLP:
    """A Module-shaped filter spec: ``True`` for the last layer's weight and bias only."""
    spec = jtu.tree_map(lambda _: False, model)
    return eqx.tree_at(lambda m: (m.layers[-1].weight, m.layers[-1].bias), spec, replace=(True, True))


def make_task(
    body: eqx.nn.MLP, key: PRNGKeyArray, n: int
) -> tuple[Float[Array, "n 4"], Float[Array, " n"]]:
    """Inputs from a normal distribution; targets a fixed random readout of the frozen
    network's last hidden features, so a perfect fit exists with the body frozen."""
    xkey, rkey = jax.random.split(key)
    x = jax.random.normal(xkey, (n, IN_SIZE))
    readout = jax.random.normal(rkey, (WIDTH,)) / jnp.sqrt(WIDTH)
    features = jax.vmap(lambda xi: _hidden_features(body, xi))(x)
    return x, features @ readout + 0.5


def _hidden_features(model: eqx.nn.MLP, x: Float[Array, " 4"]) -> Float[Array, " 32"]:
    for layer in model.layers[:-1]:
        x = model.activation(layer(x))
    return x


def loss_fn(
    trainable: eqx.nn.MLP, frozen: eqx.nn.MLP, x: Float[Array, "n 4"], y: Float[Array, " n"]
) -> Float[Array, ""]:
    model = eqx.combine(trainable, frozen)
    return jnp.mean((jax.vmap(model)(x) - y) ** 2)


def train(model: eqx.nn.MLP, x: Float[Array, "n 4"], y: Float[Array, " n"], steps: int) -> eqx.nn.MLP:
    trainable, frozen = eqx.partition(model, trainable_spec(model))
    optimiser = optax.adam(3e-2)
    opt_state = optimiser.init(trainable)

    @eqx.filter_jit
    def step(
        trainable: eqx.nn.MLP, opt_state: optax.OptState
    ) -> tuple[eqx.nn.MLP, optax.OptState, Float[Array, ""]]:
        # Gradients are taken with respect to the first argument only: the frozen half is
        # a plain input, so no gradient is ever computed for it.
        loss, grads = eqx.filter_value_and_grad(loss_fn)(trainable, frozen, x, y)
        updates, opt_state = optimiser.update(grads, opt_state)
        return eqx.apply_updates(trainable, updates), opt_state, loss

    for i in range(steps):
        trainable, opt_state, loss = step(trainable, opt_state)
        if i % max(1, steps // 5) == 0 or i == steps - 1:
            print(f"step {i:4d}  loss {float(loss):.6f}")
    return eqx.combine(trainable, frozen)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--steps", type=int, default=None, help="training steps (default 500, 200 with --quick)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="a short run for CI")
    args = parser.parse_args(argv)
    steps = args.steps or (200 if args.quick else 500)

    model_key, data_key = jax.random.split(jax.random.key(args.seed))
    pretrained = eqx.nn.MLP(IN_SIZE, "scalar", WIDTH, DEPTH, key=model_key)
    x, y = make_task(pretrained, data_key, 256)

    initial = float(loss_fn(*eqx.partition(pretrained, trainable_spec(pretrained)), x, y))
    print(f"initial loss {initial:.6f}")
    tuned = train(pretrained, x, y, steps)
    final = float(loss_fn(*eqx.partition(tuned, trainable_spec(tuned)), x, y))
    print(f"final loss {final:.6f}")

    def frozen_part(m: eqx.nn.MLP) -> eqx.nn.MLP:
        return eqx.filter(m, trainable_spec(m), inverse=True)

    unchanged = bool(eqx.tree_equal(frozen_part(pretrained), frozen_part(tuned)))
    changed = not bool(jnp.array_equal(pretrained.layers[-1].weight, tuned.layers[-1].weight))
    print(f"frozen layers unchanged: {unchanged}")
    print(f"last layer changed: {changed}")
    n_train = sum(a.size for a in jtu.tree_leaves(eqx.filter(tuned, trainable_spec(tuned))))
    n_all = sum(a.size for a in jtu.tree_leaves(eqx.filter(tuned, eqx.is_array)))
    print(f"trained {n_train} of {n_all} parameters")


if __name__ == "__main__":
    main()
