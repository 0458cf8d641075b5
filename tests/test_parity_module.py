"""Module behaviours Equinox users rely on, side by side with Equinox 0.13.8: error types
for unset fields and self-referencing methods, the warnings, docstrings and annotations of
generated ``__init__``, ``__orig_class__``, bound-method equality, converters, and
abstract attributes (written as objects and as strings)."""

from __future__ import annotations

import types
import warnings
from collections.abc import Callable
from typing import Any, Generic, TypeVar

import jax
import jax.numpy as jnp
import pytest

import equinox_typed

equinox = pytest.importorskip("equinox")

LIBRARIES = [equinox_typed, equinox]
both = pytest.mark.parametrize("lib", LIBRARIES, ids=["ours", "equinox"])


@both
def test_missing_and_unassigned_fields_raise_type_error(lib: types.ModuleType) -> None:
    class Pair(lib.Module):  # type: ignore[name-defined,misc]
        a: int
        b: int

    with pytest.raises(TypeError, match="'b'"):
        Pair(1)  # type: ignore[call-arg]

    class Forgetful(lib.Module):  # type: ignore[name-defined,misc]
        a: int

        def __init__(self) -> None:
            pass

    with pytest.raises(TypeError, match="'a'"):
        Forgetful()

    class Later(lib.Module):  # type: ignore[name-defined,misc]
        a: int = lib.field(init=False)

    with pytest.raises(TypeError, match="'a'"):
        Later()

    class Assigned(lib.Module):  # type: ignore[name-defined,misc]
        a: int = lib.field(init=False)

        def __post_init__(self) -> None:
            self.a = 3

    assert Assigned().a == 3


@both
def test_assigning_a_method_of_self_is_a_clear_value_error(lib: types.ModuleType) -> None:
    class Holder(lib.Module):  # type: ignore[name-defined,misc]
        f: Callable[[], int]

        def __init__(self) -> None:
            self.f = self.method

        def method(self) -> int:
            return 1

    with pytest.raises(ValueError) as info:
        Holder()
    if lib is equinox_typed:
        assert "self.f = self.method" in str(info.value)
        assert "cannot contain itself" in str(info.value)

    # The nearest valid case: a method of *another* instance is fine.
    class Other(lib.Module):  # type: ignore[name-defined,misc]
        def method(self) -> int:
            return 2

    class Keeper(lib.Module):  # type: ignore[name-defined,misc]
        f: Callable[[], int]

    assert Keeper(Other().method).f() == 2


def _warnings_of(fn: Callable[[], Any]) -> list[type[Warning]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fn()
    return [w.category for w in caught if issubclass(w.category, UserWarning)]


@both
def test_init_and_post_init_together_warn(lib: types.ModuleType) -> None:
    def both_methods() -> None:
        class Both(lib.Module):  # type: ignore[name-defined,misc,unused-ignore]
            x: int

            def __init__(self, x: int) -> None:
                self.x = x

            def __post_init__(self) -> None:
                pass

    def only_post_init() -> None:
        class Generated(lib.Module):  # type: ignore[name-defined,misc,unused-ignore]
            x: int

            def __post_init__(self) -> None:
                pass

    assert UserWarning in _warnings_of(both_methods)
    assert _warnings_of(only_post_init) == []


@both
def test_array_in_static_field_warns(lib: types.ModuleType) -> None:
    class Static(lib.Module):  # type: ignore[name-defined,misc]
        a: Any = lib.field(static=True)

    assert UserWarning in _warnings_of(lambda: Static(jnp.ones(2)))
    assert _warnings_of(lambda: Static((1, 2))) == []


@both
def test_jax_transformed_module_in_field_warns(lib: types.ModuleType) -> None:
    class Layer(lib.Module):  # type: ignore[name-defined,misc]
        w: jax.Array

        def __call__(self, x: jax.Array) -> jax.Array:
            return self.w * x

    class Holder(lib.Module):  # type: ignore[name-defined,misc]
        f: Callable[..., Any]

    layer = Layer(jnp.ones(2))
    for transform in (jax.jit, jax.grad, jax.vmap):
        assert UserWarning in _warnings_of(lambda: Holder(transform(layer))), transform
    # Nearest valid cases: a transformed plain function, and the Module itself.
    assert _warnings_of(lambda: Holder(jax.jit(lambda x: x))) == []
    assert _warnings_of(lambda: Holder(layer)) == []


def test_warning_messages_say_what_and_where() -> None:
    class Layer(equinox_typed.Module):
        w: jax.Array

        def __call__(self, x: jax.Array) -> jax.Array:
            return self.w * x

    class Holder(equinox_typed.Module):
        f: Callable[..., Any]

    with pytest.warns(UserWarning, match=r"Holder: field 'f' .*JAX transformation.*not trained"):
        Holder(jax.jit(Layer(jnp.ones(2))))

    class Static(equinox_typed.Module):
        a: Any = equinox_typed.field(static=True)

    with pytest.warns(UserWarning, match=r"Static: the static field 'a' holds a JAX array"):
        Static(jnp.ones(2))


@both
def test_init_docstrings_are_inherited(lib: types.ModuleType) -> None:
    class Parent(lib.Module):  # type: ignore[name-defined,misc]
        x: int

        def __init__(self, x: int) -> None:
            """Make a parent."""
            self.x = x

    class Child(Parent):
        y: int = 0

    assert Child.__init__.__doc__ == "Make a parent."

    class Plain(lib.Module):  # type: ignore[name-defined,misc]
        x: int

    assert Plain.__init__.__doc__ == object.__init__.__doc__


T = TypeVar("T")


@both
def test_orig_class_is_set_on_subscripted_generics(lib: types.ModuleType) -> None:
    class Box(lib.Module, Generic[T]):  # type: ignore[name-defined,misc]
        item: T

    box = Box[int](3)
    assert box.__orig_class__ == Box[int]
    assert jax.tree_util.tree_leaves(box) == [3]  # not part of the tree


@both
def test_bound_methods_of_equal_instances_are_equal(lib: types.ModuleType) -> None:
    class Layer(lib.Module):  # type: ignore[name-defined,misc]
        w: jax.Array

        def method(self) -> jax.Array:
            return self.w

        def other(self) -> jax.Array:
            return self.w

    a, b = Layer(jnp.ones(2)), Layer(jnp.ones(2))
    assert a.method == a.method
    assert a.method == b.method
    assert not bool(a.method == Layer(jnp.zeros(2)).method)
    assert not bool(a.method == a.other)


@both
def test_converters_run_with_an_init_from_a_non_module_base(lib: types.ModuleType) -> None:
    class Base:
        def __init__(self, x: float) -> None:
            self.x = x  # type: ignore[misc]

    class Converted(Base, lib.Module):  # type: ignore[name-defined,misc]
        x: int = lib.field(converter=int)

    value = Converted(2.7).x
    assert value == 2 and type(value) is int


def _to_int(v: float) -> int:
    return int(v)


@both
def test_generated_init_annotates_converter_inputs(lib: types.ModuleType) -> None:
    class Converted(lib.Module):  # type: ignore[name-defined,misc]
        a: int = lib.field(converter=_to_int)
        b: int = lib.field(converter=int)
        c: int = 0

    annotations = Converted.__init__.__annotations__
    assert annotations["a"] in (float, "float")  # the converter's input type
    assert annotations["b"] is Any  # a converter without annotations
    assert annotations["c"] in (int, "int")  # no converter: the field's annotation


def _abstract_classes(lib: types.ModuleType, as_strings: bool) -> tuple[Any, Any]:
    if as_strings:  # this file uses `from __future__ import annotations`
        AbstractVar, AbstractClassVar = lib.AbstractVar, lib.AbstractClassVar

        class AbstractX(lib.Module):  # type: ignore[name-defined,misc]
            x: AbstractVar[int]

        class AbstractY(lib.Module):  # type: ignore[name-defined,misc]
            y: AbstractClassVar[int]

        return AbstractX, AbstractY
    x_class = types.new_class(
        "AbstractX", (lib.Module,), {},
        lambda ns: ns.update(__annotations__={"x": lib.AbstractVar[int]}),
    )
    y_class = types.new_class(
        "AbstractY", (lib.Module,), {},
        lambda ns: ns.update(__annotations__={"y": lib.AbstractClassVar[int]}),
    )
    return x_class, y_class


@both
@pytest.mark.parametrize("as_strings", [False, True], ids=["objects", "strings"])
def test_abstract_attributes_satisfied_by_class_attributes_and_properties(
    lib: types.ModuleType, as_strings: bool
) -> None:
    if as_strings and lib is equinox:
        pytest.skip("Equinox 0.13.8 reads a string AbstractVar annotation as an ordinary field")
    AbstractX, AbstractY = _abstract_classes(lib, as_strings)

    class ByField(AbstractX):
        x: int

    class ByClassAttribute(AbstractX):
        x = 3

    class ByProperty(AbstractX):
        @property
        def x(self) -> int:
            return 4

    assert (ByField(2).x, ByClassAttribute().x, ByProperty().x) == (2, 3, 4)

    class ClassAttributeY(AbstractY):
        y = 5

    assert ClassAttributeY().y == 5

    class Unprovided(AbstractX):
        pass

    class UnprovidedY(AbstractY):
        pass

    with pytest.raises(TypeError, match="x"):
        Unprovided()
    with pytest.raises(TypeError, match="y"):
        UnprovidedY()
