"""An ensemble of MLPs built with ``filter_vmap`` and trained together as one stacked Module.

Run with ``python examples/ensemble.py`` (a few seconds). ``eqx.filter_vmap`` over a
batch of PRNG keys builds ``ENSEMBLE_SIZE`` MLPs at once: the result is one ``MLP``
whose arrays have an extra leading axis (one slice per member), a *stacked* Module. It
passes through ``filter_jit`` and ``filter_grad`` like any model (the checks know that
its fields carry a leading ensemble axis), and one optimiser step updates every member.

The members fit the same noisy 1-d regression from different initialisations; the
script then checks that training them stacked gives what training member 0 on its own
gives, and that the ensemble's mean prediction beats the average member.
"""

from __future__ import annotations

import argparse

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import optax
from jaxtyping import Array, Float, PRNGKeyArray

import equinox_typed as eqx

ENSEMBLE_SIZE, WIDTH, DEPTH = 8, 32, 2


def make_member(key: PRNGKeyArray) -> eqx.nn.MLP:
    return eqx.nn.MLP("scalar", "scalar", WIDTH, DEPTH, activation=jax.nn.tanh, key=key)


def make_data(key: PRNGKeyArray, n: int) -> tuple[Float[Array, " n"], Float[Array, " n"]]:
    xkey, nkey = jax.random.split(key)
    x = jax.random.uniform(xkey, (n,), minval=-3.0, maxval=3.0)
    return x, jnp.sin(2 * x) + 0.3 * x + 0.1 * jax.random.normal(nkey, (n,))


def member_loss(model: eqx.nn.MLP, x: Float[Array, " n"], y: Float[Array, " n"]) -> Float[Array, ""]:
    return jnp.mean((jax.vmap(model)(x) - y) ** 2)


def ensemble_losses(ensemble: eqx.nn.MLP, x: Float[Array, " n"], y: Float[Array, " n"]) -> Float[Array, " members"]:
    # in_axes: the ensemble's arrays are split along axis 0; the data is shared (None).
    return eqx.filter_vmap(member_loss, in_axes=(eqx.if_array(0), None, None))(ensemble, x, y)


def total_loss(ensemble: eqx.nn.MLP, x: Float[Array, " n"], y: Float[Array, " n"]) -> Float[Array, ""]:
    # The members are independent, so the gradient of the sum is each member's own.
    return jnp.sum(ensemble_losses(ensemble, x, y))


OPTIMISER = optax.adam(1e-2)


def train(
    models: eqx.nn.MLP,
    loss: object,
    x: Float[Array, " n"],
    y: Float[Array, " n"],
    steps: int,
    opt_state: optax.OptState | None = None,
) -> tuple[eqx.nn.MLP, optax.OptState, list[float]]:
    """Adam on ``loss`` (a function of ``models``, ``x``, ``y``), from ``opt_state`` if
    given; works for one model or a stacked ensemble alike, since Adam acts elementwise."""
    optimiser = OPTIMISER
    if opt_state is None:
        opt_state = optimiser.init(eqx.filter(models, eqx.is_array))

    @eqx.filter_jit
    def step(models: eqx.nn.MLP, opt_state: optax.OptState) -> tuple[eqx.nn.MLP, optax.OptState, Float[Array, ""]]:
        value, grads = eqx.filter_value_and_grad(loss)(models, x, y)  # type: ignore[arg-type]
        updates, opt_state = optimiser.update(grads, opt_state)
        return eqx.apply_updates(models, updates), opt_state, value

    history = []
    for _ in range(steps):
        models, opt_state, value = step(models, opt_state)
        history.append(float(value))
    return models, opt_state, history


def member(ensemble: eqx.nn.MLP, i: int) -> eqx.nn.MLP:
    """Member ``i`` of a stacked ensemble, as an ordinary MLP."""
    return jtu.tree_map(lambda a: a[i] if eqx.is_array(a) else a, ensemble)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--steps", type=int, default=None, help="training steps (default 1000, 200 with --quick)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="a short run for CI")
    args = parser.parse_args(argv)
    steps = args.steps or (200 if args.quick else 1000)

    init_key, train_key, test_key = jax.random.split(jax.random.key(args.seed), 3)
    keys = jax.random.split(init_key, ENSEMBLE_SIZE)
    ensemble = eqx.filter_vmap(make_member)(keys)
    print(f"stacked ensemble: first weight {eqx.tree_pformat(ensemble.layers[0].weight)}, "
          f"{ENSEMBLE_SIZE} members")
    x, y = make_data(train_key, 256)
    x_test, y_test = make_data(test_key, 512)

    # Member 0 trained alone from the same initialisation follows the same path. (Compared
    # after at most 100 steps: batched and single computations round differently, and
    # over a long run those last-bit differences grow, as any two float runs' would.)
    compare = min(steps, 100)
    ensemble, opt_state, history = train(ensemble, total_loss, x, y, compare)
    alone, _, _ = train(make_member(keys[0]), member_loss, x, y, compare)
    difference = max(
        float(jnp.max(jnp.abs(a - b)))
        for a, b in zip(jtu.tree_leaves(eqx.filter(member(ensemble, 0), eqx.is_array)),
                        jtu.tree_leaves(eqx.filter(alone, eqx.is_array)), strict=True)
    )
    print(f"member 0 after {compare} steps, stacked vs alone: max parameter difference {difference:.2e}")
    ensemble, _, more = train(ensemble, total_loss, x, y, steps - compare, opt_state)
    history += more
    print(f"summed loss: step 0 {history[0]:.4f}, step {steps - 1} {history[-1]:.4f}")

    member_test = ensemble_losses(ensemble, x_test, y_test)
    mean_prediction = jnp.mean(eqx.filter_vmap(lambda m: jax.vmap(m)(x_test))(ensemble), axis=0)
    ensemble_test = float(jnp.mean((mean_prediction - y_test) ** 2))
    print("member test losses " + " ".join(f"{float(v):.4f}" for v in member_test))
    print(f"average member test loss {float(jnp.mean(member_test)):.4f}")
    print(f"ensemble-mean test loss {ensemble_test:.4f}")


if __name__ == "__main__":
    main()
