"""State, StateIndex, make_with_state and Sequential's state threading."""

from __future__ import annotations

import pickle
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import equinox_typed as eqx
import equinox_typed.nn as nn
from jaxtyping import Array, Float


class Counter(nn.StatefulLayer, strict=True):
    """Adds the number of previous calls to its input, counting calls in the State."""

    index: nn.StateIndex[Any]

    def __init__(self) -> None:
        self.index = nn.StateIndex(jnp.array(0, jnp.int32))

    def __call__(
        self, x: Float[Array, " n"], state: nn.State, *, key: Any = None
    ) -> tuple[Float[Array, " n"], nn.State]:
        count = state.get(self.index)
        return x + count, state.set(self.index, count + 1)


def test_make_with_state_get_set() -> None:
    counter, state = nn.make_with_state(Counter)()
    assert counter.index.init is None  # moved into the state, not kept twice
    assert int(state.get(counter.index)) == 0
    y, state = counter(jnp.zeros(2), state)
    y, state = counter(jnp.zeros(2), state)
    np.testing.assert_array_equal(y, [1.0, 1.0])
    assert int(state.get(counter.index)) == 2


def test_state_from_model_keeps_init() -> None:
    counter = Counter()
    state = nn.State(counter)
    assert int(state.get(counter.index)) == 0
    assert int(counter.index.init) == 0
    _, state = counter(jnp.zeros(1), state)
    assert int(nn.State(counter).get(counter.index)) == 0  # a fresh state restarts
    with pytest.raises(ValueError, match="no initial value"):
        nn.State(nn.make_with_state(Counter)()[0])


def test_set_checks_shape_and_dtype() -> None:
    index = nn.StateIndex((jnp.zeros(3), jnp.array(0)))
    state = nn.State(index)
    with pytest.raises(ValueError, match=r"at \[0\] is f32\[4\], but the state holds f32\[3\]"):
        state.set(index, (jnp.zeros(4), jnp.array(0)))
    with pytest.raises(ValueError, match=r"at \[1\] is f32\[\], but the state holds i32\[\]"):
        state.set(index, (jnp.zeros(3), jnp.array(0.0)))
    with pytest.raises(ValueError, match="tree structure"):
        state.set(index, jnp.zeros(3))
    # A failed set leaves the state usable.
    new = state.set(index, (jnp.ones(3), jnp.array(5)))
    assert int(new.get(index)[1]) == 5


def test_old_state_is_invalid_after_set() -> None:
    index = nn.StateIndex(jnp.zeros(2))
    state = nn.State(index)
    new = state.set(index, jnp.ones(2))
    with pytest.raises(ValueError, match="superseded"):
        state.get(index)
    with pytest.raises(ValueError, match="superseded"):
        jax.tree_util.tree_leaves(state)
    np.testing.assert_array_equal(new.get(index), jnp.ones(2))


def test_unknown_index_and_wrong_type() -> None:
    state = nn.State(nn.StateIndex(jnp.zeros(1)))
    with pytest.raises(KeyError, match="not part of this State"):
        state.get(nn.StateIndex(jnp.zeros(1)))
    with pytest.raises(TypeError, match="expected a StateIndex"):
        state.get("index")  # type: ignore[arg-type]


def test_state_is_a_pytree() -> None:
    counter, state = nn.make_with_state(Counter)()
    doubled = jax.tree_util.tree_map(lambda x: x + 3, state)
    assert int(doubled.get(counter.index)) == 3
    leaves, treedef = jax.tree_util.tree_flatten(state)
    rebuilt = jax.tree_util.tree_unflatten(treedef, leaves)
    assert int(rebuilt.get(counter.index)) == 0
    unpickled_model, unpickled_state = pickle.loads(pickle.dumps((counter, state)))
    assert int(unpickled_state.get(unpickled_model.index)) == 0
    assert int(unpickled_state.get(counter.index)) == 0  # markers survive pickling


def test_state_through_jit_counts_traces() -> None:
    counter, state = nn.make_with_state(Counter)()
    traces = 0

    def step(x: jax.Array, s: nn.State) -> tuple[jax.Array, nn.State]:
        nonlocal traces
        traces += 1
        return counter(x, s)

    jitted = jax.jit(step)
    for _ in range(3):
        y, state = jitted(jnp.zeros(2), state)
    assert traces == 1
    np.testing.assert_array_equal(y, [2.0, 2.0])
    assert int(state.get(counter.index)) == 3
    y, state = eqx.filter_jit(lambda m, x, s: m(x, s))(counter, jnp.zeros(2), state)
    np.testing.assert_array_equal(y, [3.0, 3.0])


def test_substate_and_update() -> None:
    a, b = Counter(), Counter()
    model = (a, b)
    state = nn.State(model)
    sub = state.substate(b)
    _, sub = b(jnp.zeros(1), sub)
    with pytest.raises(KeyError):
        sub.get(a.index)
    state = state.update(sub)
    assert int(state.get(a.index)) == 0
    assert int(state.get(b.index)) == 1
    stranger = nn.State(Counter())
    with pytest.raises(KeyError, match="State.update"):
        state.update(stranger)


def test_same_layer_twice_shares_state() -> None:
    counter = Counter()
    state = nn.State([counter, counter])
    assert len(jax.tree_util.tree_leaves(state)) == 1


def test_sequential_threads_state_and_keys() -> None:
    seen: list[Any] = []

    def record(x: jax.Array, *, key: Any = None) -> jax.Array:
        seen.append(key)
        return x * 2

    model, state = nn.make_with_state(nn.Sequential)(
        [Counter(), nn.Lambda(jnp.negative), Counter()]
    )
    assert model.is_stateful()
    y, state = model(jnp.ones(2), state)
    np.testing.assert_array_equal(y, [-1.0, -1.0])
    y, state = model(jnp.ones(2), state)
    # (1 + 1) -> -2 -> -2 + 1
    np.testing.assert_array_equal(y, [-1.0, -1.0])
    assert [int(state.get(layer.index)) for layer in (model[0], model[2])] == [2, 2]
    with pytest.raises(ValueError, match="layer 0 \\(Counter\\) is stateful"):
        model(jnp.ones(2))

    plain = nn.Sequential([record, record])
    assert not plain.is_stateful()
    key = jax.random.key(0)
    np.testing.assert_array_equal(plain(jnp.ones(1), key=key), [4.0])
    expected = jax.random.split(key, 2)
    assert all(jnp.array_equal(jax.random.key_data(k), jax.random.key_data(e))
               for k, e in zip(seen, expected))
    seen.clear()
    plain(jnp.ones(1))
    assert seen == [None, None]
    out, state2 = plain(jnp.ones(1), state)
    assert state2 is state


def test_sequential_with_batchnorm_matches_manual() -> None:
    model, state = nn.make_with_state(nn.Sequential)(
        [nn.Lambda(jnp.tanh), nn.BatchNorm(3, "batch", mode="batch")]
    )
    x = jax.random.normal(jax.random.key(1), (4, 3))
    run = jax.vmap(model, axis_name="batch", in_axes=(0, None), out_axes=(0, None))
    y, new_state = run(x, state)
    t = jnp.tanh(x)
    np.testing.assert_allclose(y, (t - t.mean(0)) / jnp.sqrt(t.var(0) + 1e-5), rtol=1e-5)
    mean, _ = new_state.get(model[1].batch_state_index)
    np.testing.assert_allclose(mean, 0.01 * t.mean(0), rtol=1e-5)


def test_no_state_default_prints_in_signatures() -> None:
    import inspect

    from equinox_typed.nn._stateful import NO_STATE

    assert repr(NO_STATE) == "NO_STATE"
    for layer in (eqx.nn.LayerNorm, eqx.nn.RMSNorm, eqx.nn.GroupNorm, eqx.nn.Sequential):
        assert "= NO_STATE" in str(inspect.signature(layer.__call__))


def _offset_counter(lib: Any) -> Any:
    """A counter class of `lib` (ours or Equinox) whose count starts at `init`."""

    class OffsetCounter(lib.Module):
        index: Any

        def __init__(self, init: jax.Array) -> None:
            self.index = lib.nn.StateIndex(init)

        def __call__(self, x: jax.Array, state: Any) -> tuple[jax.Array, Any]:
            count = state.get(self.index)
            return x + count, state.set(self.index, count + 1)

    return OffsetCounter


@pytest.mark.parametrize("inside", ["eager", "filter_jit", "jax.jit"])
def test_stateful_layers_built_inside_filter_vmap_match_equinox(inside: str) -> None:
    """An ensemble of counters with a batched initial state, built by filter_vmap
    (eagerly, or inside a jit), then called, split with substate and merged back."""
    import equinox as eqxr

    def run(lib: Any) -> list[jax.Array]:
        def build(inits: jax.Array) -> Any:
            return lib.filter_vmap(lib.nn.make_with_state(_offset_counter(lib)))(inits)

        inits = jnp.arange(3.0)
        if inside == "eager":
            model, state = build(inits)
        elif inside == "filter_jit":
            model, state = lib.filter_jit(build)(inits)
        else:  # only arrays leave a jax.jit: build the State inside, the model outside
            model = lib.filter_vmap(_offset_counter(lib))(inits)
            state = jax.jit(lib.nn.State)(model)
        call = lib.filter_vmap(lambda m, x, s: m(x, s))
        ys, state = call(model, jnp.ones(3), state)
        sub = state.substate(model)
        ys2, sub = call(model, jnp.ones(3), sub)
        state = state.update(sub)
        return [ys, ys2, state.get(model.index)]

    ours, theirs = run(eqx), run(eqxr)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(ours[-1], jnp.arange(3.0) + 2)


def _nested_indices(lib: Any) -> Any:
    class Holder(lib.Module):
        index: Any
        more: list[Any]

        def __init__(self) -> None:
            self.index = lib.nn.StateIndex(jnp.array(0))
            self.more = [lib.nn.StateIndex(jnp.zeros(2)), {"a": lib.nn.StateIndex(jnp.array(2.0))}]

    return Holder


def _state_models(lib: Any) -> dict[str, Any]:
    bn = lib.nn.BatchNorm
    return {
        "batchnorm-ema": lambda: lib.nn.make_with_state(bn)(3, "batch", mode="ema"),
        "batchnorm-batch": lambda: lib.nn.make_with_state(bn)(3, "batch", mode="batch"),
        "sequential": lambda: lib.nn.make_with_state(lib.nn.Sequential)(
            [bn(3, "batch", mode="batch"), lib.nn.Lambda(jnp.tanh), bn(3, "batch", mode="ema")]
        ),
        "nested-containers": lambda: lib.nn.make_with_state(_nested_indices(lib))(),
        "plain-list": lambda: lib.nn.make_with_state(lambda: [lib.nn.StateIndex(jnp.zeros(1))])(),
    }


@pytest.mark.parametrize("case", list(_state_models(eqx)))
def test_make_with_state_names_entries_as_equinox_does(case: str) -> None:
    import equinox as eqxr

    model, state = _state_models(eqx)[case]()
    ref_model, ref_state = _state_models(eqxr)[case]()
    # The entries' names (in the tree structure) and values, in order.
    assert str(jax.tree.structure(state)) == str(jax.tree.structure(ref_state))
    for a, b in zip(jax.tree.leaves(state), jax.tree.leaves(ref_state), strict=True):
        np.testing.assert_array_equal(a, b)
        assert a.dtype == b.dtype
    ours_markers = [i.marker for i in jax.tree.leaves(model, is_leaf=lambda x: isinstance(x, nn.StateIndex)) if isinstance(i, nn.StateIndex)]
    their_markers = [i.marker for i in jax.tree.leaves(ref_model, is_leaf=lambda x: isinstance(x, eqxr.nn.StateIndex)) if isinstance(i, eqxr.nn.StateIndex)]
    assert ours_markers == their_markers
    assert all(isinstance(m, str) for m in ours_markers)


def test_make_with_state_names_in_repr() -> None:
    _, state = nn.make_with_state(nn.BatchNorm)(3, "batch", mode="batch")
    assert repr(state) == (
        "State(BatchNorm.batch_counter=weak_i32[], BatchNorm.batch_state_index=(f32[3], f32[3]))"
    )
    model, state = nn.make_with_state(Counter)()
    assert model.index.marker == "Counter.index"
    assert repr(state) == "State(Counter.index=i32[])"


def test_models_made_alike_share_structure_fresh_indices_do_not() -> None:
    # Named by position: two models made alike flatten alike (so a jitted step compiled
    # for one serves the other); indices made outside make_with_state stay unique.
    (m1, s1), (m2, s2) = nn.make_with_state(Counter)(), nn.make_with_state(Counter)()
    assert jax.tree.structure(m1) == jax.tree.structure(m2)
    assert jax.tree.structure(s1) == jax.tree.structure(s2)
    traces = []

    @eqx.filter_jit
    def step(m: Any, x: jax.Array, s: nn.State) -> Any:
        traces.append(1)
        return m(x, s)

    y1, s1 = step(m1, jnp.ones(2), s1)
    y2, s2 = step(m2, jnp.ones(2), s2)
    assert len(traces) == 1
    np.testing.assert_array_equal(y1, y2)
    assert Counter().index.marker != Counter().index.marker
    # A model's state cannot be used with a model of another shape.
    with pytest.raises(KeyError, match="'Counter.index' is not part of this State"):
        nn.make_with_state(Counter)()[0](jnp.ones(2), nn.make_with_state(nn.BatchNorm)(3, "b", mode="ema")[1])
