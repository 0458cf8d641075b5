"""A field with ``converter=`` accepts the converter's input type in the generated
``__init__`` (pyright natively; mypy with the ``equinox_typed.mypy_plugin`` plugin), and
the field keeps its declared type."""

from typing import assert_type

import jax.numpy as jnp
from jax import Array

import equinox_typed as eqx


def to_array(x: list[float]) -> Array:
    # jnp.asarray's signature is partially unknown to pyright; stack typed scalars instead.
    return jnp.stack([jnp.float32(v) for v in x])


class Scaled(eqx.Module):
    weight: Array = eqx.field(converter=to_array)
    name: str = eqx.field(static=True, default="scaled")


class Named(Scaled):
    tag: str = eqx.field(converter=str, default="t")


def check_converters() -> None:
    assert_type(Scaled([1.0]).weight, Array)
    assert_type(Scaled([1.0, 2.0], name="s"), Scaled)
    assert_type(Named([1.0], "n", 3).tag, str)
