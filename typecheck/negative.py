"""Mistakes that both checkers must report.

Each flagged line carries ``# type: ignore[<mypy code>]``; pyright honours it as a
blanket ignore. With mypy's ``warn_unused_ignores`` and pyright's
``reportUnnecessaryTypeIgnoreComment`` an error that is NOT reported fails the check.
"""

import jax.numpy as jnp
from jax import Array
from jaxtyping import Float, PRNGKeyArray

import equinox_typed as eqx
import equinox_typed.nn as nn


class MLP(eqx.Module):
    weight: Float[Array, "out in"]
    bias: Float[Array, "out"]
    depth: int = eqx.field(static=True, default=1)

    def __call__(self, x: Array) -> Array:
        return self.weight @ x + self.bias


class Options(eqx.Module, kw_only=True):
    rate: float


class Frozen(eqx.Module, frozen=True):
    weight: Float[Array, "n"]
    scale: float = 1.0


def loss(model: MLP, x: Array, y: Array) -> Array:
    return jnp.mean((model(x) - y) ** 2)


def loss_aux(model: MLP, x: Array) -> tuple[Array, int]:
    return jnp.sum(model(x)), 1


def jit_mistakes(model: MLP, x: Array) -> None:
    jitted = eqx.filter_jit(loss)
    jitted(model, x, "y")  # type: ignore[arg-type]
    jitted(model, x)  # type: ignore[call-arg]
    jitted.lower(x, x, x)  # type: ignore[arg-type]
    eqx.filter_jit(donate="some")  # type: ignore[call-overload]
    result: MLP = jitted(model, x, x)  # type: ignore[assignment]


def grad_mistakes(model: MLP, x: Array) -> None:
    grads = eqx.filter_grad(loss)(model, x, x)
    grads.weights  # type: ignore[attr-defined]
    # A function returning (loss, aux) needs has_aux=True.
    eqx.filter_grad(loss_aux)  # type: ignore[arg-type]
    eqx.filter_grad(loss)(x, x, x)  # type: ignore[arg-type]
    _, aux = eqx.filter_grad(loss_aux, has_aux=True)(model, x)
    aux.upper()  # type: ignore[attr-defined]
    _, grads2 = eqx.filter_value_and_grad(loss_aux, has_aux=True)(model, x)
    grads2.bias.missing  # type: ignore[attr-defined]


def module_mistakes(w: Array, key: PRNGKeyArray) -> None:
    MLP(w)  # type: ignore[call-arg]
    MLP(w, w, 1, 2)  # type: ignore[call-arg]
    MLP(w, w, depth="deep")  # type: ignore[arg-type]
    Options(0.1)  # type: ignore[call-arg]
    params, _ = eqx.partition(MLP(w, w), eqx.is_array)
    params.nonexistent  # type: ignore[attr-defined]
    eqx.tree_at(lambda m: m.nope, MLP(w, w), w)  # type: ignore[attr-defined]
    linear = nn.Linear(3, 4, key=key)
    linear.weight = w  # type: ignore[misc]
    frozen = Frozen(w)
    frozen.scale = 2.0  # type: ignore[misc]
    frozen.weight = w  # type: ignore[misc]
    nn.Linear(3, 4)  # type: ignore[call-arg]
    nn.Linear(3, 4, bias=False, key=key)  # type: ignore[call-arg]


def nn_mistakes(x: Array, key: PRNGKeyArray) -> None:
    cell = nn.LSTMCell(3, 4, key=key)
    cell(x, x)  # type: ignore[arg-type]
    h: Array = cell(x, (x, x))  # type: ignore[assignment]
    bn, state = nn.make_with_state(nn.BatchNorm)(4, "batch")
    bn(x)  # type: ignore[call-arg]
    y: Array = bn(x, state)  # type: ignore[assignment]
    nn.make_with_state(nn.BatchNorm)("four", "batch")  # type: ignore[arg-type]
    out: Array = nn.Sequential([bn])(x, state)  # type: ignore[assignment]
    nn.Conv2d(3, 4, key=key)  # type: ignore[call-arg]


def _identity(y: Array) -> Array:
    return y


def debug_misuse(x: Array) -> None:
    counted = eqx.debug.assert_max_traces(_identity, max_traces=1)
    counted(x, x)  # type: ignore[call-arg]
    counted("x")  # type: ignore[arg-type]
    eqx.debug.assert_max_traces(_identity)  # type: ignore[call-overload]
    eqx.debug.assert_max_traces(_identity, max_traces="1")  # type: ignore[call-overload]
    eqx.debug.inspect_dce(name=[1])  # type: ignore[arg-type]
    eqx.debug.announce_transform(x, announce=hex)  # type: ignore[arg-type]


def closure_mistakes(model: MLP, x: Array, y: Array) -> None:
    # The gradient function of a closure still has the closure's arity.
    eqx.filter_grad(lambda m: loss(m, x, y))(model, x)  # type: ignore[call-overload]
    grads = eqx.filter_grad(lambda m: loss(m, x, y))(model)
    grads.weights  # type: ignore[attr-defined]
    # A named function's first parameter still types the argument.
    eqx.filter_value_and_grad(loss)(x, x, y)  # type: ignore[arg-type]


def iteration_mistakes(model: MLP) -> None:
    # A Module is declared iterable only so that optax accepts it; the declaration is
    # deprecated so that checkers flag an explicit use (iter() raises TypeError).
    model.__iter__()  # pyright: ignore[reportDeprecated]
