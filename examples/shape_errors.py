"""Three realistic shape bugs: what equinox_typed says, next to what plain JAX says.

Run with ``python examples/shape_errors.py`` (a few seconds). Each bug is made once with
equinox_typed and once in plain JAX (the same computation on a dict of arrays):

1. a transposed weight: a checkpoint that stores weights as (in, out) loaded into a
   layer that keeps them as (out, in);
2. a wrong ``in_features`` after surgery: an MLP's head replaced by a layer sized for a
   different network;
3. a batch passed to a layer that takes one example (forgetting ``jax.vmap``), with a
   batch size that happens to equal the layer's width.

equinox_typed names the field or argument, the annotation and the sizes in force, before
anything is traced. Plain JAX reports an XLA shape error from deep inside the forward
pass for the first two, and for the third returns a wrong answer without complaint.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import jax
import jax.numpy as jnp
from jaxtyping import Array, Float

import equinox_typed as eqx

Params = dict[str, Array]


def plain_linear(params: Params, x: Array) -> Array:
    """What ``eqx.nn.Linear`` computes, written in plain JAX."""
    return params["weight"] @ x + params["bias"]


def plain_mlp(layers: list[Params], x: Array) -> Array:
    for params in layers[:-1]:
        x = jax.nn.relu(plain_linear(params, x))
    return plain_linear(layers[-1], x)


def as_params(layer: eqx.nn.Linear) -> Params:
    assert layer.bias is not None
    return {"weight": layer.weight, "bias": layer.bias}


@eqx.filter_jit
def forward(model: Callable[[Float[Array, " n"]], Array], x: Float[Array, " n"]) -> Array:
    return model(x)


def show(title: str, ours: Callable[[], Any], plain: Callable[[], Any]) -> None:
    print(f"=== {title} ===")
    for who, thunk in (("equinox_typed", ours), ("plain JAX", plain)):
        try:
            result = thunk()
        except Exception as error:  # noqa: BLE001 - the point is to show any error
            text = f"{type(error).__name__}: {error}"
            if who == "plain JAX":
                # JAX appends advice about tracebacks; the first line is its diagnosis.
                text = text.splitlines()[0]
            print(f"{who}:\n  " + text.replace("\n", "\n  "))
        else:
            print(f"{who}:\n  no error; returned {eqx.tree_pformat(result)}")
    print()


def transposed_weight(key: Any) -> None:
    layer = eqx.nn.Linear(3, 4, key=key)
    stored = layer.weight.T  # a checkpoint in (in, out) layout: shape (3, 4)
    loaded = eqx.tree_at(lambda l: l.weight, layer, stored)  # tree_at runs no __init__
    params = dict(as_params(layer), weight=stored)
    x = jnp.ones(3)
    show(
        "1. a transposed weight loaded from a checkpoint",
        lambda: forward(loaded, x),
        lambda: jax.jit(plain_linear)(params, x),
    )


def wrong_in_features_after_surgery(key: Any) -> None:
    k1, k2 = jax.random.split(key)
    model = eqx.nn.MLP(3, 2, width_size=8, depth=2, key=k1)
    # A new 5-class head, but sized for a network 16 wide instead of 8.
    head = eqx.nn.Linear(16, 5, key=k2)
    patched = eqx.tree_at(lambda m: m.layers[-1], model, head)
    layers = [as_params(layer) for layer in model.layers[:-1]] + [as_params(head)]
    x = jnp.ones(3)
    show(
        "2. a wrong in_features after replacing a layer",
        lambda: forward(patched, x),
        lambda: jax.jit(plain_mlp)(layers, x),
    )


def batch_to_unbatched_layer(key: Any) -> None:
    layer = eqx.nn.Linear(16, 16, key=key)
    batch = jnp.ones((16, 16))  # 16 examples of 16 features: should be jax.vmap(layer)(batch)
    show(
        "3. a batch passed to a layer that takes one example",
        lambda: layer(batch),
        lambda: plain_linear(as_params(layer), batch),
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="accepted for symmetry with the other examples")
    parser.parse_args(argv)
    k1, k2, k3 = jax.random.split(jax.random.key(0), 3)
    transposed_weight(k1)
    wrong_in_features_after_surgery(k2)
    batch_to_unbatched_layer(k3)


if __name__ == "__main__":
    main()
