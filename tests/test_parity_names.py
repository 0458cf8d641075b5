"""Every public name of Equinox 0.13.8's top-level namespace exists here, and the
deprecated aliases behave as documented."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import pytest

import equinox_typed

equinox = pytest.importorskip("equinox")

# Names another piece of work provides (the utilities issue: serialisation, runtime
# errors, Enumeration, debug tools, caches). Until they land they may be missing; once
# present they are checked like every other name below.
PROVIDED_ELSEWHERE = frozenset(
    {
        "tree_serialise_leaves",
        "tree_deserialise_leaves",
        "default_serialise_filter_spec",
        "default_deserialise_filter_spec",
        "error_if",
        "branched_error_if",
        "EquinoxRuntimeError",
        "EquinoxTracetimeError",
        "Enumeration",
        "debug",
        "clear_caches",
    }
)
# Not API: a stdlib module Equinox's namespace happens to import, and its explicitly
# unstable `equinox.internal` subpackage.
NOT_API = frozenset({"importlib", "internal"})


def test_every_public_equinox_name_exists() -> None:
    public = {n for n in dir(equinox) if not n.startswith("_")} - NOT_API
    missing = sorted(n for n in public - PROVIDED_ELSEWHERE if not hasattr(equinox_typed, n))
    assert missing == []
    # The rest are checked once they exist, and none is listed here needlessly.
    assert PROVIDED_ELSEWHERE <= public
    for name in PROVIDED_ELSEWHERE:
        if hasattr(equinox_typed, name):
            assert name in equinox_typed.__all__


def test_static_field_is_field_static_with_a_deprecation_warning() -> None:
    with pytest.warns(DeprecationWarning, match=r"field\(static=True"):

        class Layer(equinox_typed.Module):
            w: jax.Array
            size: int = equinox_typed.static_field(default=3)

    layer = Layer(jnp.ones(2))
    leaves, treedef = jax.tree_util.tree_flatten(layer)
    assert len(leaves) == 1 and layer.size == 3  # the int is in the treedef


def test_dropout_deterministic_is_inference_with_a_deprecation_warning() -> None:
    with pytest.warns(DeprecationWarning, match="inference"):
        ours = equinox_typed.nn.Dropout(0.5, deterministic=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = equinox.nn.Dropout(0.5, deterministic=True)
    assert ours.inference is True and theirs.inference is True
    x = jnp.arange(4.0)
    assert (ours(x) == theirs(x)).all()


def test_strict_config_gives_what_equinox_gives_and_is_accepted_by_module() -> None:
    for kwargs in ({}, {"force_abstact": True}, {"force_abstract": True}):
        if "force_abstract" not in kwargs:
            assert equinox_typed.StrictConfig(**kwargs) == equinox.StrictConfig(**kwargs)

    class Model(equinox_typed.Module, strict=equinox_typed.StrictConfig()):
        w: jax.Array  # a bare Array: fine, since our own strict mode stays off

    assert Model(jnp.ones(2)).w.shape == (2,)


def test_tree_inference_is_inference_mode() -> None:
    model = {"a": equinox_typed.nn.Dropout(0.5), "b": [equinox_typed.nn.Dropout(0.1)]}
    switched = equinox_typed.tree_inference(model, value=True)
    assert switched["a"].inference and switched["b"][0].inference
    theirs = equinox.tree_inference(equinox.nn.Dropout(0.5), True)
    assert theirs.inference == equinox_typed.tree_inference(equinox_typed.nn.Dropout(0.5), True).inference


def test_module_update_wrapper_like_equinox() -> None:
    def loss(x: float) -> float:
        """A loss."""
        return x

    results = []
    for lib in (equinox_typed, equinox):

        class Wrapper(lib.Module):  # type: ignore[name-defined,misc]
            fn: object

            def __call__(self, *args: object) -> object:
                return self.fn(*args)  # type: ignore[operator]

            @property
            def __wrapped__(self) -> object:
                return self.fn

        original = Wrapper(loss)
        updated = lib.module_update_wrapper(original)
        assert updated(2.0) == 2.0
        assert not hasattr(original, "__name__") or original.__name__ != "loss"
        results.append((updated.__name__, updated.__qualname__, updated.__doc__, updated.__annotations__))
    assert results[0] == results[1]
    with pytest.raises(TypeError, match="__wrapped__"):

        class Plain(equinox_typed.Module):
            x: int

        equinox_typed.module_update_wrapper(Plain(1))
