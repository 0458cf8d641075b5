"""The closure idiom: a lambda closing over the batch is differentiated with respect to
its one unannotated parameter; the gradient takes the type of the model passed in."""

from typing import assert_type

import jax.numpy as jnp
from jax import Array
from jaxtyping import Float

import equinox_typed as eqx


class MLP(eqx.Module):
    weight: Float[Array, "out in"]
    bias: Float[Array, "out"]

    def __call__(self, x: Float[Array, "in"]) -> Float[Array, "out"]:
        return self.weight @ x + self.bias


def loss(model: MLP, x: Array, y: Array) -> Float[Array, ""]:
    return jnp.mean((model(x) - y) ** 2)


def check_closures(model: MLP, x: Array, y: Array) -> None:
    assert_type(eqx.filter_grad(lambda m: loss(m, x, y))(model), MLP)
    grad_fn = eqx.filter_grad(lambda m: loss(m, x, y))
    assert_type(grad_fn(model).weight, Array)

    value, grads = eqx.filter_value_and_grad(lambda m: loss(m, x, y))(model)
    assert_type(value, Array)
    assert_type(grads, MLP)

    # A second lambda parameter: mypy types it from the call; pyright reads the parameters
    # after the first as unknown (a ParamSpec cannot type a lambda), which strict mode
    # reports. The result types hold in both.
    value2, grads2 = eqx.filter_value_and_grad(
        lambda m, xb: loss(m, xb, y)  # pyright: ignore[reportUnknownLambdaType, reportUnknownArgumentType]
    )(model, x)
    assert_type(value2, Array)
    assert_type(grads2, MLP)

    grads3, aux = eqx.filter_grad(lambda m: (loss(m, x, y), 1), has_aux=True)(model)
    assert_type(grads3, MLP)
    assert_type(aux, int)

    (value4, aux4), grads4 = eqx.filter_value_and_grad(
        lambda m: (loss(m, x, y), "aux"), has_aux=True
    )(model)
    assert_type(value4, Array)
    assert_type(aux4, str)
    assert_type(grads4, MLP)

    # Closures compose with filter_jit like named functions.
    step = eqx.filter_jit(eqx.filter_value_and_grad(lambda m: loss(m, x, y)))
    assert_type(step(model)[1], MLP)


def check_named_functions_stay_checked(model: MLP, x: Array, y: Array) -> None:
    """A named function's first parameter type still types (and checks) the gradient."""
    assert_type(eqx.filter_grad(loss)(model, x, y), MLP)
    assert_type(eqx.filter_grad(loss)(model, x=x, y=y), MLP)
