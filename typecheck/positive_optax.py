# optax ships no py.typed: mypy follows its sources (follow_untyped_imports for optax in
# the mypy configuration), and pyright reads them without stubs.
# pyright: reportMissingTypeStubs=false
"""The canonical optax training step: the model keeps its type through every call, and
a Module is accepted where optax expects its parameters/updates PyTree."""

from typing import assert_type

import jax.numpy as jnp
import optax
from jax import Array
from jaxtyping import Float

import equinox_typed as eqx
import equinox_typed.nn as nn


class Model(eqx.Module):
    linear: nn.Linear
    scale: Float[Array, ""]

    def __call__(self, x: Float[Array, "in"]) -> Float[Array, "out"]:
        return self.scale * self.linear(x)


def loss(model: Model, x: Array, y: Array) -> Float[Array, ""]:
    return jnp.mean((model(x) - y) ** 2)


def train_step(
    model: Model, opt_state: optax.OptState, optim: optax.GradientTransformation, x: Array, y: Array
) -> tuple[Model, optax.OptState]:
    grads = eqx.filter_grad(loss)(model, x, y)
    assert_type(grads, Model)
    updates, opt_state = optim.update(grads, opt_state, eqx.filter(model, eqx.is_inexact_array))
    model = eqx.apply_updates(model, updates)
    assert_type(model, Model)
    return model, opt_state


def train(model: Model, x: Array, y: Array) -> Model:
    optim = optax.adamw(1e-3)
    opt_state = optim.init(eqx.filter(model, eqx.is_inexact_array))
    for _ in range(3):
        model, opt_state = eqx.filter_jit(train_step)(model, opt_state, optim, x, y)
    assert_type(model, Model)
    # The closure form of the same step.
    value, grads = eqx.filter_value_and_grad(lambda m: loss(m, x, y))(model)
    updates, opt_state = optim.update(grads, opt_state, eqx.filter(model, eqx.is_inexact_array))
    assert_type(value, Array)
    assert_type(eqx.apply_updates(model, updates), Model)
    return model
