"""Mutable state for functional models: ``StateIndex``, ``State``, ``make_with_state``.

A layer that needs state across calls (BatchNorm's running statistics, SpectralNorm's
power-iteration vectors) holds a :class:`StateIndex` field: a marker that carries the
initial value. :class:`State` collects every marker of a model into one PyTree that is
threaded explicitly through calls: ``y, state = model(x, state)``.
"""

from __future__ import annotations

import abc
import dataclasses
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeAlias, TypeVar, cast

import jax.numpy as jnp
import jax.tree_util as jtu

from .._checking import describe_value
from .._pretty import dtype_code, tree_pformat
from .._jax_typed import keystr, register_pytree_with_keys, tree_flatten, tree_flatten_with_path
from .._module import Module, field

if TYPE_CHECKING:
    _ArrayTree: TypeAlias = Any
else:  # what the run-time checks read: a PyTree of arrays of any shape and dtype
    from jaxtyping import Array, PyTree, Shaped

    _ArrayTree = PyTree[Shaped[Array, "..."]]

__all__ = ["State", "StateIndex", "StatefulLayer", "make_with_state"]

_Value = TypeVar("_Value")
_T = TypeVar("_T")
_P = ParamSpec("_P")


@dataclasses.dataclass(frozen=True)
class _Marker:
    """Identity of one StateIndex; equal across copies, pickles and tree rebuilds."""

    uid: int

    def __repr__(self) -> str:
        return f"StateIndex#{self.uid % 0x10000:04x}"


class StateIndex(Module, Generic[_Value], strict=True):
    """Marks a place in a model that owns a piece of mutable state.

    **Arguments:**

    - ``init``: the initial value: any PyTree of arrays. Its structure, shapes and
      dtypes are fixed: later values given to :meth:`State.set` must match them.

    ```python
    class Counter(eqx.Module):
        index: eqx.nn.StateIndex

        def __init__(self):
            self.index = eqx.nn.StateIndex(jnp.array(0))

        def __call__(self, x, state):
            count = state.get(self.index)
            return x + count, state.set(self.index, count + 1)
    ```
    """

    # Static, so the marker is part of the tree structure and survives jit/vmap/pickle.
    # A fresh index gets a unique marker; make_with_state renames each index of the
    # model it builds after its position (`"BatchNorm.batch_state_index"`), as Equinox.
    marker: _Marker | str = field(static=True)
    # Any PyTree of arrays, of any shapes and dtypes: later values are checked against
    # it by State.set. Annotated as arrays so that strict checks know they are meant.
    init: _ArrayTree

    def __init__(self, init: _Value) -> None:
        self.marker = _Marker(uuid.uuid4().int)
        self.init = init


_DELETED = None  # what make_with_state leaves in StateIndex.init


def _is_index(x: Any) -> bool:
    return isinstance(x, StateIndex)


def _indices(pytree: Any) -> list[StateIndex[Any]]:
    leaves = jtu.tree_leaves(pytree, is_leaf=_is_index)
    return [leaf for leaf in leaves if isinstance(leaf, StateIndex)]


def _leaf_description(leaf: Any) -> str:
    """``f32[3]``-style description; Python scalars are described as JAX sees them."""
    if hasattr(leaf, "shape"):
        return describe_value(leaf)
    return f"{dtype_code(jnp.result_type(leaf))}[]"


def _check_same_kind(what: str, marker: _Marker | str, old: Any, new: Any) -> None:
    """Refuse ``new`` unless it has the structure, shapes and dtypes of ``old``."""
    old_leaves, old_def = tree_flatten(old)
    new_leaves, new_def = tree_flatten(new)
    if old_def != new_def:
        raise ValueError(
            f"{what}: the new value for {marker!r} has tree structure {new_def}, "
            f"but the state holds one with structure {old_def}"
        )
    paths = [keystr(p) for p, _ in tree_flatten_with_path(old)[0]]
    for path, a, b in zip(paths, old_leaves, new_leaves, strict=True):
        if jnp.shape(a) != jnp.shape(b) or jnp.result_type(a) != jnp.result_type(b):
            where = f" at {path}" if path else ""
            raise ValueError(
                f"{what}: the new value for {marker!r}{where} is "
                f"{_leaf_description(b)}, but the state holds {_leaf_description(a)}; "
                f"state values must keep the shape and dtype of their initial value"
            )


class State:
    """The state of a model: a PyTree mapping each :class:`StateIndex` to its value.

    **Arguments:**

    - ``model``: any PyTree; every :class:`StateIndex` inside it contributes its initial
      value. Usually built by :func:`make_with_state` instead.

    A State is immutable: :meth:`set` returns a new State, and the old one becomes
    unusable (so that a forgotten ``state = state.set(...)`` fails loudly).

    ```python
    model, state = eqx.nn.make_with_state(eqx.nn.BatchNorm)(3, "batch", mode="batch")
    mean, var = state.get(model.batch_state_index)
    ```
    """

    __slots__ = ("_values",)
    _values: dict[_Marker | str, Any] | None

    def __init__(self, model: Any) -> None:
        values: dict[_Marker | str, Any] = {}
        for index in _indices(model):
            if index.init is _DELETED:
                raise ValueError(
                    f"State: {index.marker!r} has no initial value (make_with_state "
                    f"removes it from the model it returns); build the State from the "
                    f"freshly constructed model, or use the state make_with_state gave"
                )
            if index.marker in values:
                continue  # the same index reached twice (a layer used in two places)
            values[index.marker] = index.init
        self._values = values

    @classmethod
    def _from_values(cls, values: dict[_Marker | str, Any]) -> State:
        state = object.__new__(cls)
        state._values = values
        return state

    def _live(self, method: str) -> dict[_Marker | str, Any]:
        if self._values is None:
            raise ValueError(
                f"State.{method}: this State was superseded by `state.set(...)`, which "
                f"returns a new State; write `state = state.set(index, value)` and use "
                f"the new one"
            )
        return self._values

    def _lookup(self, method: str, item: StateIndex[Any]) -> Any:
        values = self._live(method)
        if not _is_index(item):
            raise TypeError(f"State.{method}: expected a StateIndex, got {type(item).__name__}")
        try:
            return values[item.marker]
        except KeyError:
            raise KeyError(
                f"State.{method}: {item.marker!r} is not part of this State; was the "
                f"State built from a model containing this layer?"
            ) from None

    def get(self, item: StateIndex[_Value]) -> _Value:
        """The current value for ``item`` (a :class:`StateIndex`)."""
        value: _Value = self._lookup("get", item)
        return value

    def set(self, item: StateIndex[_Value], value: _Value) -> State:
        """A new State in which ``item`` holds ``value``; this State becomes unusable.

        **Raises:** ``ValueError`` if ``value`` differs from the current value in tree
        structure, shape or dtype.

        ```python
        state = state.set(self.index, count + 1)
        ```
        """
        old = self._lookup("set", item)
        _check_same_kind("State.set", item.marker, old, value)
        values = dict(self._live("set"))
        values[item.marker] = value
        self._values = None
        return State._from_values(values)

    def substate(self, pytree: Any) -> State:
        """The part of this State that belongs to the StateIndexes found in ``pytree``.

        ```python
        sub = state.substate(model.encoder)
        _, sub = model.encoder(x, sub)
        state = state.update(sub)
        ```
        """
        return State._from_values(
            {index.marker: self._lookup("substate", index) for index in _indices(pytree)}
        )

    def update(self, substate: State) -> State:
        """A new State with the entries of ``substate`` (from :meth:`substate`) written in."""
        values = dict(self._live("update"))
        for marker, value in substate._live("update").items():
            if marker not in values:
                raise KeyError(
                    f"State.update: {marker!r} is not part of this State; the substate "
                    f"must come from `state.substate(...)` of this State"
                )
            _check_same_kind("State.update", marker, values[marker], value)
            values[marker] = value
        return State._from_values(values)

    def __repr__(self) -> str:
        if self._values is None:
            return "State(<superseded>)"
        # `name=f32[3]` for the markers make_with_state names, as Equinox shows them.
        inner = ", ".join(
            f"{marker if isinstance(marker, str) else repr(marker)}={tree_pformat(value)}"
            for marker, value in self._values.items()
        )
        return f"State({inner})"

    def __reduce__(self) -> tuple[Any, ...]:
        return (State._from_values, (dict(self._live("pickle")),))


class _NoState(State):
    """The type of :data:`NO_STATE`: a State that holds nothing and is never read."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_STATE"


# The default of the `state` argument of layers that take an optional State: "no state
# given", so they return only their output. Never flattened or read; its repr shows in
# signatures (`help(eqx.nn.LayerNorm.__call__)`).
NO_STATE: State = _NoState._from_values({})  # pyright: ignore[reportPrivateUsage]


def _flatten_state(state: State) -> tuple[tuple[Any, ...], tuple[_Marker | str, ...]]:
    values = state._live("flatten")  # pyright: ignore[reportPrivateUsage]
    return tuple(values.values()), tuple(values)


def _flatten_state_with_keys(
    state: State,
) -> tuple[tuple[tuple[Any, Any], ...], tuple[_Marker | str, ...]]:
    children, markers = _flatten_state(state)
    return tuple((jtu.DictKey(m), c) for m, c in zip(markers, children)), markers


def _unflatten_state(markers: tuple[_Marker | str, ...], children: Any) -> State:
    # No validation: JAX rebuilds trees with placeholder leaves (in_axes, tracers...).
    return State._from_values(dict(zip(markers, children)))  # pyright: ignore[reportPrivateUsage]


register_pytree_with_keys(
    State, _flatten_state_with_keys, _unflatten_state, _flatten_state
)


def make_with_state(make_model: Callable[_P, _T]) -> Callable[_P, tuple[_T, State]]:
    """Wrap a model constructor so that it returns ``(model, state)``.

    **Arguments:**

    - ``make_model``: a callable building the model (usually its class).

    The initial values are moved into the returned State and removed from the returned
    model, so that they are not stored twice (nor mistaken for trainable parameters).

    ```python
    model, state = eqx.nn.make_with_state(eqx.nn.BatchNorm)(3, "batch", mode="batch")
    ```
    """

    def make(*args: _P.args, **kwargs: _P.kwargs) -> tuple[_T, State]:
        model = _named_by_position(make_model(*args, **kwargs))
        state = State(model)
        return delete_init_state(model), state

    return make


def _named_by_position(model: _T) -> _T:
    """``model`` with each StateIndex's marker replaced by its position in the model,
    the model's class name followed by the key path (``"Sequential.layers[0].
    batch_counter"``): the names Equinox gives them, readable in a State's repr, and
    equal across models built alike (so they flatten to equal tree structures)."""
    root = type(model).__name__

    def rename(path: Any, node: Any) -> Any:
        if not _is_index(node):
            return node
        return _index_with(node.marker if node.init is _DELETED else root + keystr(path), node.init)

    result: _T = jtu.tree_map_with_path(rename, model, is_leaf=_is_index)
    return result


def _index_with(marker: _Marker | str, init: Any) -> StateIndex[Any]:
    """A StateIndex with the given marker and initial value, bypassing ``__init__``
    (which would draw a new marker)."""
    index: StateIndex[Any] = cast(Any, object.__new__(StateIndex))
    object.__setattr__(index, "marker", marker)
    object.__setattr__(index, "init", init)
    return index


def delete_init_state(model: _T) -> _T:
    """A copy of ``model`` whose StateIndexes no longer carry their initial values."""

    def strip(node: Any) -> Any:
        return _index_with(node.marker, _DELETED) if _is_index(node) else node

    result: _T = jtu.tree_map(strip, model, is_leaf=_is_index)
    return result


class StatefulLayer(Module, strict=True):
    """Base class of layers called as ``layer(x, state, *, key=None) -> (y, state)``.

    :class:`~equinox_typed.nn.Sequential` threads a State through the layers whose
    :meth:`is_stateful` returns True, and calls the others as ``layer(x, key=key)``.
    """

    def is_stateful(self) -> bool:
        """Whether this layer takes and returns a State (True unless overridden)."""
        return True

    @abc.abstractmethod
    def __call__(self, x: Any, state: State, *, key: Any = None) -> Any:
        """Apply the layer: ``(y, new_state)`` from the input ``x`` and the current
        ``state``; ``key`` is a PRNG key for layers that use randomness."""
        raise NotImplementedError
