"""Modules are dataclasses for the checkers; filters and tree utilities keep the tree type."""

import dataclasses
from typing import Any, Literal, assert_type

import jax
from jax import Array
from jaxtyping import Float, PRNGKeyArray

import equinox_typed as eqx


class Linear(eqx.Module):
    weight: Float[Array, "out in"]
    bias: Float[Array, "out"] | None
    in_features: int = eqx.field(static=True)
    name: str = eqx.field(static=True, default="linear")
    tags: list[str] = eqx.field(default_factory=list[str])

    def __call__(self, x: Float[Array, "in"]) -> Float[Array, "out"]:
        out = self.weight @ x
        return out if self.bias is None else out + self.bias


class Options(eqx.Module, kw_only=True):
    rate: float
    depth: int = 2


class WithInit(eqx.Module):
    """A hand-written __init__ assigning fields: accepted (see README: mutability)."""

    weight: Float[Array, "n n"]
    size: int = eqx.field(static=True)

    def __init__(self, size: int, *, key: PRNGKeyArray) -> None:
        self.weight = jax.random.normal(key, (size, size))
        self.size = size


class Frozen(eqx.Module, frozen=True):
    """Opted into static immutability: same run-time behaviour, generated __init__."""

    weight: Float[Array, "n"]
    scale: float = 1.0


class Abstract(eqx.Module, strict=True):
    size: eqx.AbstractVar[int]


class Concrete(Abstract, strict=True):
    size: int


class WithClassVar(eqx.Module):
    kind: eqx.AbstractClassVar[str]
    x: Array


class ConcreteClassVar(WithClassVar):
    kind = "concrete"


def check_construction(w: Array, key: PRNGKeyArray) -> None:
    lin = Linear(w, None, 3)
    assert_type(lin, Linear)
    assert_type(lin.weight, Array)
    assert_type(lin.bias, Array | None)
    assert_type(lin.in_features, int)
    assert_type(lin.name, str)
    assert_type(lin.tags, list[str])
    assert_type(Linear(w, w, in_features=3, name="a", tags=["t"]), Linear)
    assert_type(lin(w), Array)
    assert_type(Options(rate=0.1), Options)
    frozen = Frozen(w, scale=2.0)
    assert_type(frozen, Frozen)
    assert_type(frozen.weight, Array)
    assert_type(frozen.scale, float)
    assert_type(eqx.tree_at(lambda m: m.scale, frozen, 3.0), Frozen)
    assert_type(WithInit(3, key=key).weight, Array)
    assert_type(Concrete(3).size, int)
    assert_type(ConcreteClassVar.kind, str)
    assert_type(hash(lin), int)
    assert_type(eqx.module_fields(lin), tuple[dataclasses.Field[Any], ...])


def check_filters(lin: Linear) -> None:
    params, static = eqx.partition(lin, eqx.is_array)
    assert_type(params, Linear)
    assert_type(static, Linear)
    assert_type(eqx.combine(params, static), Linear)
    assert_type(eqx.filter(lin, eqx.is_inexact_array), Linear)
    assert_type(eqx.filter(lin, eqx.is_array, inverse=True, replace=0), Linear)
    spec = eqx.tree_at(lambda m: m.weight, eqx.filter(lin, False), replace=True)
    assert_type(eqx.partition(lin, spec)[0], Linear)
    assert_type(eqx.if_array(1)(lin.weight), int | None)


def check_tree(lin: Linear, new_weight: Array) -> None:
    assert_type(eqx.tree_at(lambda m: m.weight, lin, new_weight), Linear)
    assert_type(eqx.tree_at(lambda m: (m.weight, m.bias), lin, (new_weight, None)), Linear)
    assert_type(eqx.tree_at(lambda m: m.weight, lin, replace_fn=lambda w: w * 2), Linear)
    assert_type(eqx.tree_equal(lin, lin), bool | Array)
    assert_type(eqx.apply_updates(lin, lin), Linear)
    pytree = {"a": [lin]}
    assert_type(eqx.apply_updates(pytree, pytree), dict[str, list[Linear]])
    assert_type(eqx.tree_pformat(lin, width=40), str)
    children, treedef = eqx.tree_flatten_one_level(lin)
    assert_type(children, list[Any])
    assert_type(treedef.num_leaves, int)
    partial = eqx.Partial(lin, new_weight)
    assert_type(partial(), Array)


def check_settings() -> None:
    assert_type(eqx.get_checks(), Literal["off", "eager", "warn", "always"])
    with eqx.checks("off"):
        pass
    previous = eqx.set_checks("always")
    eqx.set_checks(previous)
    assert_type(eqx.set_typechecker("typeguard"), Literal["beartype", "typeguard"])
    try:
        pass
    except eqx.TypeCheckError as e:
        assert_type(e, eqx.TypeCheckError)
