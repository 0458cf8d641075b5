"""Run-time introspection: inspect.signature / help() of a Module class show its
constructor's parameters (as they do for Equinox), not the metaclass's (*args, **kwargs)."""

import inspect
import pydoc

import equinox
import jax
import jax.numpy as jnp
from jax import Array

import equinox_typed as eqx


def _names(sig: inspect.Signature) -> list[str]:
    return list(sig.parameters)


def test_builtin_layer_signatures_match_equinox():
    for name in ["Linear", "Conv2d", "MLP", "LayerNorm", "BatchNorm", "Dropout", "Embedding"]:
        ours = inspect.signature(getattr(eqx.nn, name))
        theirs = inspect.signature(getattr(equinox.nn, name))
        assert "args" not in ours.parameters, (name, ours)
        # Equinox's own parameter names are a prefix-compatible subset of ours (we may
        # accept extra keyword-only options, never fewer or reordered positional ones).
        positional = [p for p in theirs.parameters.values() if p.kind is p.POSITIONAL_OR_KEYWORD]
        assert _names(ours)[: len(positional)] == [p.name for p in positional], name


def test_linear_signature_details():
    sig = inspect.signature(eqx.nn.Linear)
    assert _names(sig) == ["in_features", "out_features", "use_bias", "dtype", "key"]
    assert sig.parameters["key"].kind is inspect.Parameter.KEYWORD_ONLY
    assert sig.parameters["use_bias"].default is True
    assert sig.bind(3, 4, key=jax.random.key(0))  # binds like the real constructor


def test_generated_init_signature_follows_runtime_field_order():
    class Base(eqx.Module):
        size: eqx.AbstractVar[int]
        weight: Array

    class Child(Base):
        size: int
        scale: float = 2.0

    sig = inspect.signature(Child)
    assert _names(sig) == ["weight", "size", "scale"]
    assert sig.parameters["scale"].default == 2.0
    child = Child(*sig.bind(jnp.ones(2), 3).args)
    assert child.size == 3 and child.scale == 2.0


def test_hand_written_init_signature():
    class WithInit(eqx.Module):
        w: Array

        def __init__(self, n: int, *, scale: float = 1.0):
            self.w = jnp.ones(n) * scale

    assert str(inspect.signature(WithInit)) == "(n: int, *, scale: float = 1.0)"


def test_instance_signature_is_still_its_call():
    linear = eqx.nn.Linear(2, 3, key=jax.random.key(0))
    assert _names(inspect.signature(linear)) == ["x", "key"]
    assert _names(inspect.signature(linear.__call__)) == ["x", "key"]


def test_help_shows_the_constructor():
    text = pydoc.render_doc(eqx.nn.Linear, renderer=pydoc.plaintext)
    head = text.split("Method resolution order")[0]
    # Python 3.13 wraps a long signature over lines, each behind pydoc's " |" margin.
    assert "Linear(in_features" in "".join(head.replace("|", " ").split())
    assert "*args" not in head
