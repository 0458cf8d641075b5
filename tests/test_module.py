"""Module: dataclass semantics, immutability, PyTree registration, methods, abstracts."""

from __future__ import annotations

import abc
import dataclasses
import pickle
from collections.abc import Callable
from typing import Generic, TypeVar

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
import pytest
from jaxtyping import Array, Float

import equinox_typed as eqx

_T = TypeVar("_T")


class Point(eqx.Module):
    x: Float[Array, ""]
    y: Float[Array, ""]
    label: str = eqx.field(static=True, default="p")


class Affine(eqx.Module):
    weight: Float[Array, "out_features in_features"]
    bias: Float[Array, " out_features"]
    in_features: int = eqx.field(static=True)
    out_features: int = eqx.field(static=True)

    def __init__(self, in_features: int, out_features: int, *, key: jax.Array) -> None:
        self.weight = jax.random.normal(key, (out_features, in_features))
        self.bias = jnp.zeros(out_features)
        self.in_features = in_features
        self.out_features = out_features

    def __call__(self, x: Float[Array, " in_features"]) -> Float[Array, " out_features"]:
        return self.weight @ x + self.bias

    def double(self, x: Float[Array, " in_features"]) -> Float[Array, " out_features"]:
        return 2 * self(x)


class Stack(eqx.Module):
    layers: tuple[Affine, ...]


KEY = jax.random.key(0)


# --- dataclass semantics -----------------------------------------------------------


def test_generated_init_defaults_and_order() -> None:
    p = Point(jnp.array(1.0), jnp.array(2.0))
    assert p.label == "p"
    q = Point(jnp.array(1.0), y=jnp.array(3.0), label="q")
    assert (float(q.x), float(q.y), q.label) == (1.0, 3.0, "q")
    with pytest.raises(TypeError):
        Point(jnp.array(1.0))  # type: ignore[call-arg]


def test_default_factory_initvar_kw_only_and_post_init() -> None:
    class M(eqx.Module):
        a: int
        scale: dataclasses.InitVar[float]
        b: list[int] = eqx.field(default_factory=list, static=False)
        c: int = eqx.field(default=0, kw_only=True)
        doubled: int = eqx.field(init=False)

        def __post_init__(self, scale: float) -> None:
            self.doubled = int(self.a * 2 * scale)

    m = M(3, 1.0, c=5)
    assert (m.a, m.b, m.c, m.doubled) == (3, [], 5, 6)
    assert M(1, 1.0).b is not M(1, 1.0).b  # a fresh list per instance
    with pytest.raises(TypeError):
        M(3, 1.0, [], 5)  # type: ignore[misc]  # c is keyword-only

    class K(eqx.Module, kw_only=True):
        a: int
        b: int = 1

    assert K(a=2).a == 2
    with pytest.raises(TypeError):
        K(2)  # type: ignore[misc]


def test_user_init_and_frozen_afterwards() -> None:
    layer = Affine(2, 3, key=KEY)
    assert layer.weight.shape == (3, 2)
    with pytest.raises(dataclasses.FrozenInstanceError, match="immutable.*tree_at"):
        layer.weight = jnp.zeros((3, 2))  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        del layer.bias  # type: ignore[misc]


def test_unassigned_field_is_an_error() -> None:
    class Forgetful(eqx.Module):
        a: int
        b: int

        def __init__(self) -> None:
            self.a = 1

    with pytest.raises(TypeError, match="did not assign the field.*'b'"):
        Forgetful()


def test_undeclared_attribute_is_an_error() -> None:
    class Sloppy(eqx.Module):
        a: int

        def __init__(self) -> None:
            self.a = 1
            self.extra = 2

    with pytest.raises(AttributeError, match="no field 'extra'"):
        Sloppy()


def test_user_init_is_inherited_by_subclasses() -> None:
    class Child(Affine):
        pass

    child = Child(2, 4, key=KEY)
    assert child.weight.shape == (4, 2)


def test_converter_runs_at_init() -> None:
    class C(eqx.Module):
        x: Float[Array, " n"] = eqx.field(converter=jnp.asarray)

    c = C([1.0, 2.0])  # type: ignore[arg-type]
    assert isinstance(c.x, jax.Array) and c.x.shape == (2,)


def test_check_init_runs_for_every_class_in_mro() -> None:
    calls: list[str] = []

    class Base(eqx.Module):
        n: int

        def __check_init__(self) -> None:
            calls.append("base")
            if self.n < 0:
                raise ValueError("n must be non-negative")

    class Derived(Base):
        def __check_init__(self) -> None:
            calls.append("derived")

    Derived(1)
    assert sorted(calls) == ["base", "derived"]
    with pytest.raises(ValueError, match="non-negative"):
        Derived(-1)


# --- PyTree behaviour ---------------------------------------------------------------


def test_static_fields_live_in_the_treedef() -> None:
    layer = Affine(2, 3, key=KEY)
    leaves, treedef = jtu.tree_flatten(layer)
    assert len(leaves) == 2
    other = Affine(2, 4, key=KEY)
    assert jtu.tree_structure(other) != treedef
    rebuilt = jtu.tree_unflatten(treedef, leaves)
    assert type(rebuilt) is Affine and rebuilt.in_features == 2
    assert rebuilt.weight is layer.weight


def test_key_paths() -> None:
    stack = Stack((Affine(2, 2, key=KEY), Affine(2, 2, key=KEY)))
    paths = [jtu.keystr(p) for p, _ in jtu.tree_flatten_with_path(stack)[0]]
    assert paths == [
        ".layers[0].weight",
        ".layers[0].bias",
        ".layers[1].weight",
        ".layers[1].bias",
    ]


def test_tree_map_keeps_class_and_statics() -> None:
    layer = Affine(2, 3, key=KEY)
    doubled = jtu.tree_map(lambda a: a * 2, layer)
    assert type(doubled) is Affine and doubled.out_features == 3
    np.testing.assert_allclose(doubled.weight, layer.weight * 2)


def test_works_through_jax_transformations() -> None:
    layer = Affine(3, 2, key=KEY)
    x = jnp.arange(3.0)

    @jax.jit
    def loss(model: Affine, x: jax.Array) -> jax.Array:
        return jnp.sum(model(x) ** 2)

    grads = jax.grad(loss)(layer, x)
    expected_w = 2 * (layer.weight @ x + layer.bias)[:, None] * x[None, :]
    np.testing.assert_allclose(grads.weight, expected_w, rtol=1e-6)
    batched = jax.vmap(layer)(jnp.ones((5, 3)))
    assert batched.shape == (5, 2)


def test_pickle_roundtrip() -> None:
    layer = Affine(2, 3, key=KEY)
    restored = pickle.loads(pickle.dumps(layer))
    assert type(restored) is Affine
    np.testing.assert_array_equal(restored.weight, layer.weight)
    assert restored.in_features == 2
    bound = pickle.loads(pickle.dumps(layer.double))
    np.testing.assert_allclose(bound(jnp.ones(2)), layer.double(jnp.ones(2)))


def test_equality_and_hash() -> None:
    a = Point(jnp.array(1.0), jnp.array(2.0))
    b = Point(jnp.array(1.0), jnp.array(2.0))
    c = Point(jnp.array(1.0), jnp.array(5.0))
    assert a == b
    assert a != c
    assert a != Point(jnp.array(1.0), jnp.array(2.0), label="other")

    class Config(eqx.Module):
        depth: int
        name: str

    assert hash(Config(2, "x")) == hash(Config(2, "x"))
    assert {Config(2, "x"), Config(2, "x"), Config(3, "x")} == {
        Config(2, "x"),
        Config(3, "x"),
    }
    with pytest.raises(TypeError):
        hash(a)  # arrays are unhashable, and so is a Module holding them


def test_repr_is_short() -> None:
    layer = Affine(2, 3, key=KEY)
    text = repr(layer)
    assert text.startswith("Affine(")
    assert "weight=f32[3,2]" in text and "bias=f32[3]" in text
    assert "in_features=2" in text


# --- methods ------------------------------------------------------------------------


def test_bound_methods_are_pytrees() -> None:
    layer = Affine(3, 2, key=KEY)
    bound = layer.double
    assert isinstance(bound, eqx.Module)
    leaves = jtu.tree_leaves(bound)
    assert len(leaves) == 2 and leaves[0] is layer.weight
    np.testing.assert_allclose(bound(jnp.ones(3)), 2 * layer(jnp.ones(3)))
    assert bound.__name__ == "double"
    assert list(__import__("inspect").signature(bound).parameters) == ["x"]


def test_jax_jit_of_a_method_traces_once_per_structure() -> None:
    traces = 0

    class Counter(eqx.Module):
        w: Float[Array, " n"]

        def __call__(self, x: Float[Array, " n"]) -> Float[Array, " n"]:
            nonlocal traces
            traces += 1
            return self.w * x

    model = Counter(jnp.arange(3.0))
    call = jax.jit(model.__call__)
    np.testing.assert_allclose(call(jnp.ones(3)), jnp.arange(3.0))
    call(jnp.ones(3))
    assert traces == 1

    # As a PyTree argument, the bound method's arrays are traced inputs: a new model of
    # the same structure reuses the compiled code.
    apply = jax.jit(lambda f, x: f(x))
    apply(model.__call__, jnp.ones(3))
    apply(Counter(jnp.ones(3)).__call__, jnp.ones(3))
    assert traces == 2
    apply(Counter(jnp.ones(4)).__call__, jnp.ones(4))
    assert traces == 3


def test_methods_on_the_class_are_plain_functions() -> None:
    assert Affine.double.__name__ == "double"
    layer = Affine(3, 2, key=KEY)
    np.testing.assert_allclose(Affine.double(layer, jnp.ones(3)), layer.double(jnp.ones(3)))


# --- abstract members ---------------------------------------------------------------


def test_abstract_method_var_and_classvar() -> None:
    class Base(eqx.Module):
        size: eqx.AbstractVar[int]
        kind: eqx.AbstractClassVar[str]

        @abc.abstractmethod
        def run(self) -> int: ...

    with pytest.raises(TypeError) as info:
        Base()
    message = str(info.value)
    assert "abstract method 'run'" in message
    assert "AbstractVar 'size'" in message
    assert "AbstractClassVar 'kind'" in message

    class Partly(Base):
        size: int

        def run(self) -> int:
            return self.size

    with pytest.raises(TypeError, match="AbstractClassVar 'kind'") as info2:
        Partly(3)
    assert "size" not in str(info2.value)

    class Done(Partly):
        kind = "done"

    assert Done(3).run() == 3

    class ByProperty(Base):
        kind = "prop"

        @property
        def size(self) -> int:
            return 7

        def run(self) -> int:
            return self.size

    assert ByProperty().run() == 7


# --- generics and strict classes ----------------------------------------------------


def test_generic_modules() -> None:
    class Box(eqx.Module, Generic[_T]):
        item: _T

    box = Box[int](3)
    assert box.item == 3
    assert jtu.tree_leaves(Box(jnp.ones(2)))[0].shape == (2,)


def test_strict_refuses_unshaped_array_annotations() -> None:
    with pytest.raises(TypeError, match="'weight'.*without shape and dtype"):

        class Bad(eqx.Module, strict=True):
            weight: jax.Array

    with pytest.raises(TypeError, match="'bias'.*without shape and dtype"):

        class BadOptional(eqx.Module, strict=True):
            bias: jax.Array | None

    with pytest.raises(TypeError, match="class attribute 'table'.*not declared"):

        class Hidden(eqx.Module, strict=True):
            table = np.zeros(3)

    class Good(eqx.Module, strict=True):
        weight: Float[Array, "a b"]
        bias: Float[Array, " a"] | None

    Good(jnp.ones((2, 3)), None)


def test_strict_refuses_arrays_in_unshaped_fields() -> None:
    class Loose(eqx.Module, strict=True):
        payload: object | int

    with pytest.raises(eqx.TypeCheckError, match="payload.*no shape/dtype"):
        Loose(jnp.ones(3))


def test_frozen_class_option() -> None:
    class Frozen(eqx.Module, frozen=True):
        a: int

    assert Frozen(1).a == 1
    with pytest.raises(TypeError, match="always frozen"):

        class Thawed(eqx.Module, frozen=False):  # pyright: ignore
            a: int


def test_strict_accepts_callables_of_arrays() -> None:
    class WithActivation(eqx.Module, strict=True):
        activation: Callable[[jax.Array], jax.Array]

    assert WithActivation(jax.nn.relu).activation is jax.nn.relu


def test_import_does_not_start_a_backend() -> None:
    """Users must be able to configure devices or jax.distributed after importing us."""
    import subprocess
    import sys

    code = (
        "import equinox_typed, jax\n"
        "from jax._src import xla_bridge\n"
        "print(bool(xla_bridge._backends))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
