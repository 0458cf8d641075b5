"""Filtered transformations keep precise types (checked with assert_type)."""

from collections.abc import Callable
from typing import Any, assert_type

import jax
import jax.numpy as jnp
from jax import Array
from jax.extend.core import ClosedJaxpr
from jaxtyping import Float, PRNGKeyArray

import equinox_typed as eqx


class MLP(eqx.Module):
    weight: Float[Array, "out in"]
    bias: Float[Array, "out"]
    activation_name: str = eqx.field(static=True, default="relu")

    def __call__(self, x: Float[Array, "in"]) -> Float[Array, "out"]:
        return self.weight @ x + self.bias


def loss(model: MLP, x: Array, y: Array) -> Float[Array, ""]:
    return jnp.mean((model(x) - y) ** 2)


def loss_aux(model: MLP, x: Array, y: Array) -> tuple[Float[Array, ""], dict[str, Array]]:
    pred = model(x)
    return jnp.mean((pred - y) ** 2), {"pred": pred}


def check_jit(model: MLP, x: Array, y: Array) -> None:
    jitted = eqx.filter_jit(loss)
    assert_type(jitted(model, x, y), Array)
    assert_type(jitted.lower(model, x, y).as_text(), str)
    assert_type(jitted.lower(model, x, y).compile()(model, x, y), Array)

    donating = eqx.filter_jit(donate="all")(loss_aux)
    assert_type(donating(model, x, y), tuple[Array, dict[str, Array]])

    @eqx.filter_jit
    def step(model: MLP, n: int) -> MLP:
        return model

    assert_type(step(model, 3), MLP)

    @eqx.filter_jit(donate="all-except-first")
    def step2(model: MLP, *, scale: float = 1.0) -> list[MLP]:
        return [model]

    assert_type(step2(model, scale=2.0), list[MLP])


def check_grad(model: MLP, x: Array, y: Array) -> None:
    grads = eqx.filter_grad(loss)(model, x, y)
    assert_type(grads, MLP)
    assert_type(grads.weight, Array)

    grads2, aux = eqx.filter_grad(loss_aux, has_aux=True)(model, x, y)
    assert_type(grads2, MLP)
    assert_type(aux, dict[str, Array])

    value, grads3 = eqx.filter_value_and_grad(loss)(model, x, y)
    assert_type(value, Array)
    assert_type(grads3, MLP)

    (value2, aux2), grads4 = eqx.filter_value_and_grad(loss_aux, has_aux=True)(model, x, y)
    assert_type(value2, Array)
    assert_type(aux2, dict[str, Array])
    assert_type(grads4, MLP)

    @eqx.filter_grad
    def g(model: MLP, x: Array) -> Array:
        return jnp.sum(model(x))

    assert_type(g(model, x), MLP)

    @eqx.filter_value_and_grad(has_aux=True)
    def vg(model: MLP, x: Array) -> tuple[Array, int]:
        return jnp.sum(model(x)), 1

    assert_type(vg(model, x), tuple[tuple[Array, int], MLP])

    @eqx.filter_grad(has_aux=True)
    def ga(model: MLP, x: Array) -> tuple[Array, str]:
        return jnp.sum(model(x)), "aux"

    assert_type(ga(model, x), tuple[MLP, str])

    # A float-valued loss of a plain array works too.
    def f(x: Array) -> float:
        return 1.0

    assert_type(eqx.filter_grad(f)(x), Array)

    # Transformations compose, keeping the types.
    step = eqx.filter_jit(eqx.filter_value_and_grad(loss))
    assert_type(step(model, x, y), tuple[Array, MLP])


def check_vmap_pmap(model: MLP, xs: Array) -> None:
    assert_type(eqx.filter_vmap(model)(xs), Array)
    assert_type(eqx.filter_vmap(model, in_axes=0, out_axes=0)(xs), Array)
    batched = eqx.filter_vmap(in_axes=(None, 0))(loss)
    assert_type(batched(model, xs, xs), Array)

    @eqx.filter_vmap(in_axes=eqx.if_array(0), axis_name="batch")
    def make(key: PRNGKeyArray) -> MLP:
        return MLP(jax.random.normal(key, (2, 2)), jax.random.normal(key, (2,)))

    assert_type(make(jax.random.split(jax.random.key(0), 4)), MLP)
    assert_type(eqx.filter_pmap(model)(xs), Array)
    assert_type(eqx.filter_pmap(axis_name="i")(loss)(model, xs, xs), Array)


def check_checkpoint_custom(model: MLP, x: Array, y: Array) -> None:
    assert_type(eqx.filter_checkpoint(loss)(model, x, y), Array)
    assert_type(eqx.filter_checkpoint(prevent_cse=False)(loss)(model, x, y), Array)

    @eqx.filter_custom_jvp
    def double(x: Array, n: int) -> Array:
        return 2 * x

    assert_type(double(x, 1), Array)

    @eqx.filter_custom_vjp
    def scale(vjp_arg: MLP, x: Array) -> Array:
        return vjp_arg(x)

    assert_type(scale(model, x), Array)


def check_ad(model: MLP, x: Array, y: Array) -> None:
    out, tangent = eqx.filter_jvp(model, (x,), (x,))
    assert_type(out, Array)
    assert_type(tangent, Array)

    out2, vjp_fn = eqx.filter_vjp(model, x)
    assert_type(out2, Array)
    assert_type(vjp_fn(out2), tuple[Array])

    out3, vjp_fn3 = eqx.filter_vjp(loss, model, x, y)
    assert_type(out3, Array)
    assert_type(vjp_fn3(out3), tuple[MLP, Array, Array])

    def with_aux(x: Array) -> tuple[Array, str]:
        return x, "a"

    out4, vjp_fn4, aux4 = eqx.filter_vjp(with_aux, x, has_aux=True)
    assert_type(out4, Array)
    assert_type(vjp_fn4, Callable[[Array], tuple[Array]])
    assert_type(aux4, str)

    def h(x: Array, scale: float) -> Array:
        return scale * x

    assert_type(eqx.filter_jacfwd(h)(x, 2.0), Array)
    assert_type(eqx.filter_jacrev(h)(x, 2.0), Array)
    assert_type(eqx.filter_jacrev(with_aux, has_aux=True)(x), tuple[Array, str])
    assert_type(eqx.filter_hessian(loss_scalar)(x), Array)


def loss_scalar(x: Array) -> Array:
    return jnp.sum(x**2)


def check_program_transforms(
    model: MLP, x: Array, y: Array, sharding: jax.sharding.Sharding
) -> None:
    shape = eqx.filter_eval_shape(loss, model, x, y)
    assert_type(shape, Array)
    assert_type(eqx.filter_eval_shape(MLP, model.weight, model.bias), MLP)

    converted = eqx.filter_closure_convert(loss, model, x, y)
    assert_type(converted(model, x, y), Array)
    assert_type(converted.in_struct, tuple[tuple[Any, ...], dict[str, Any]])
    assert_type(converted.out_struct, Any)

    jaxpr, out_shapes, out_static = eqx.filter_make_jaxpr(loss)(model, x, y)
    assert_type(jaxpr, ClosedJaxpr)
    assert_type(out_shapes, Any)
    assert_type(out_static, Any)
    assert_type(eqx.filter_shard(model, sharding), MLP)


