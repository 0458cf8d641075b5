"""Annotations that cannot be resolved are reported (and refused by strict Modules), never
a silent off switch; strict Modules refuse arrays held under annotations without shape."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float

import equinox_typed as eqx

if TYPE_CHECKING:
    from collections import OrderedDict as OnlyForCheckers  # absent at run time


def scale(x: Float[Array, " 3"], extra: OnlyForCheckers) -> Float[Array, " 3"]:
    return x * 2


def test_unresolvable_argument_hint_warns_once_and_the_rest_is_checked() -> None:
    f = eqx.filter_jit(scale)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert f(jnp.ones(3), None).tolist() == [2.0, 2.0, 2.0]
        with pytest.raises(eqx.TypeCheckError, match="`x`"):
            f(jnp.ones(4), None)
        f(jnp.ones(3), 1)  # a new signature: traced again, no second warning
    messages = [str(w.message) for w in caught if "cannot resolve" in str(w.message)]
    assert len(messages) == 1
    assert "scale" in messages[0]
    assert "OnlyForCheckers" in messages[0] and "'extra'" in messages[0]


def test_unresolvable_hint_at_a_grad_boundary_still_checks_the_rest() -> None:
    def loss(x: Float[Array, " 3"], extra: OnlyForCheckers) -> Float[Array, ""]:
        return (x**2).sum()

    grad = eqx.filter_grad(loss)
    with pytest.warns(UserWarning, match="OnlyForCheckers"):
        assert grad(jnp.ones(3), None).tolist() == [2.0, 2.0, 2.0]
    with pytest.raises(eqx.TypeCheckError, match="`x`"):
        grad(jnp.ones(4), None)


def test_strict_module_refuses_unresolvable_annotation_at_class_creation() -> None:
    with pytest.raises(TypeError, match=r"strict Module .*Config: .*'OnlyForCheckers'.*'table'"):

        class Config(eqx.Module, strict=True):
            table: OnlyForCheckers
            w: Float[Array, " n"]


def test_non_strict_module_warns_and_checks_the_other_fields() -> None:
    class Loose(eqx.Module):
        table: OnlyForCheckers
        w: Float[Array, " 3"]

    with pytest.warns(UserWarning, match="Loose.*OnlyForCheckers.*'table'"):
        Loose(None, jnp.zeros(3))  # type: ignore[arg-type]
    with pytest.raises(eqx.TypeCheckError, match="`.w`"):
        Loose(None, jnp.zeros(4))  # type: ignore[arg-type]


def test_strict_module_may_refer_to_itself_and_earlier_classes() -> None:
    class Leaf(eqx.Module, strict=True):
        w: Float[Array, " n"]

    class Tree(eqx.Module, strict=True):
        children: tuple[Tree, ...]
        leaf: Leaf | None

    Tree((Tree((), Leaf(jnp.zeros(2))),), None)


class Sub(eqx.Module, strict=True):
    w: Float[Array, " n"]


class Holder(eqx.Module, strict=True):
    extra: Any = None
    anything: object = None
    config: dict[str, Any] = eqx.field(default_factory=dict)
    items: tuple = ()  # type: ignore[type-arg]
    layers: tuple[Sub, ...] = ()
    shaped: tuple[Float[Array, " n"], ...] = ()


class LooseHolder(eqx.Module):
    extra: Any = None
    config: dict[str, Any] = eqx.field(default_factory=dict)


def test_strict_module_accepts_shaped_arrays_and_non_arrays_anywhere() -> None:
    Holder(
        extra=1,
        anything="text",
        config={"lr": 0.1, "sizes": [1, 2]},
        items=(1, "a"),
        layers=(Sub(jnp.zeros(2)), Sub(jnp.zeros(3))),  # arrays inside Modules: checked there
        shaped=(jnp.zeros(2), jnp.ones(2)),
    )


@pytest.mark.parametrize(
    ("field", "value", "where"),
    [
        ("extra", jnp.zeros(3), "`.extra`"),
        ("anything", np.zeros(3, dtype=np.float32), "`.anything`"),
        ("config", {"lr": 0.1, "w": jnp.zeros(2)}, "`.config['w']`"),
        ("items", (1, [jnp.zeros(2)]), "`.items[1][0]`"),
    ],
)
def test_strict_module_refuses_arrays_without_shape(field: str, value: Any, where: str) -> None:
    valid = {"extra": 1, "anything": 2, "config": {"lr": 0.1, "w": 1}, "items": (1, [2])}
    Holder(**{field: valid[field]})  # memoise a passing signature
    with pytest.raises(eqx.TypeCheckError) as info:
        Holder(**{field: value})
    message = str(info.value)
    assert where in message
    assert "shaped annotation" in message
    assert "f32[3]" in message or "f32[2]" in message
    LooseHolder(extra=value)  # not strict: allowed



def test_strict_accepts_arrays_under_a_shaped_pytree_annotation() -> None:
    """`PyTree[Shaped[Array, "..."]]` says "arrays" (jaxtyping keeps the leaf annotation
    out of `get_args`), so a strict Module may hold arrays there; `Any` still may not."""
    from jaxtyping import PyTree, Shaped

    class Holder(eqx.Module, strict=True):
        tree: PyTree[Shaped[Array, "..."]]

    Holder({"a": jnp.zeros(2), "b": [jnp.ones((3, 1))]})

    class Loose(eqx.Module, strict=True):
        tree: Any

    with pytest.raises(eqx.TypeCheckError, match="gives it no shape/dtype"):
        Loose(jnp.zeros(2))


def test_transformations_of_a_module_resolve_its_call_annotations() -> None:
    # A transformation wrapping a Module instance (filter_vmap(model),
    # assert_max_traces(model)) shows the annotations of type(model).__call__, written
    # (here, as strings) in that method's module: they resolve there, with no warning.
    import jax

    from equinox_typed.nn import Linear

    layer = Linear(3, 2, key=jax.random.key(0))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert eqx.filter_jit(eqx.filter_vmap(layer))(jnp.ones((5, 3))).shape == (5, 2)
        counted = eqx.debug.assert_max_traces(layer, max_traces=1)
        assert eqx.filter_jit(counted)(jnp.ones(3)).shape == (2,)
    # And they are checked at the boundary, not skipped as unresolvable.
    class Shapes(eqx.Module):
        w: Float[Array, "3 3"]

        def __call__(self, x: Float[Array, " 3"]) -> Float[Array, " 3"]:
            return self.w @ x

    model = Shapes(jnp.eye(3))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        run = eqx.filter_jit(eqx.debug.assert_max_traces(model, max_traces=None))
        assert run(jnp.ones(3)).tolist() == [1.0, 1.0, 1.0]
        with pytest.raises(eqx.TypeCheckError, match="`x`"):
            run(jnp.ones(4))
