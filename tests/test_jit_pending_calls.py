"""filter_jit's trace-time check reads the arguments of its own call: never another
thread's, and nothing is left behind (holding arguments alive) when a call fails before
dispatch."""

from __future__ import annotations

import gc
import threading
import weakref
from typing import Any

import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
import pytest
from jaxtyping import Array, Float

import equinox_typed as eqx


class Gate:
    """A PyTree node whose first flatten signals ``arrived`` and then waits for
    ``proceed``: it pauses a filter_jit call in the middle of its dispatch."""

    def __init__(self, arrived: threading.Event, proceed: threading.Event) -> None:
        self.arrived, self.proceed = arrived, proceed
        self.paused = False

    def flatten(self) -> tuple[tuple[()], None]:
        if not self.paused:
            self.paused = True
            self.arrived.set()
            self.proceed.wait(timeout=20)
        return (), None


def _unflatten_gate(aux: None, children: Any) -> Gate:
    gate = Gate(threading.Event(), threading.Event())
    gate.paused = True
    return gate


jtu.register_pytree_node(Gate, Gate.flatten, _unflatten_gate)


def test_concurrent_calls_each_check_their_own_arguments() -> None:
    @eqx.filter_jit
    def f(gate: Gate, x: Float[Array, "3"]) -> Float[Array, "3"]:
        return x + 1

    a_paused, b_paused, a_done = threading.Event(), threading.Event(), threading.Event()
    results: dict[str, str] = {}

    def call(name: str, gate: Gate, x: Any, done: threading.Event | None) -> None:
        try:
            f(gate, x)
            results[name] = "passed"
        except eqx.TypeCheckError as error:
            results[name] = str(error)
        finally:
            if done is not None:
                done.set()

    # A (valid) pauses in its flatten until B (invalid) is paused in its own; then A runs
    # to completion while B is still in flight, then B.
    a = threading.Thread(target=call, args=("a", Gate(a_paused, b_paused), jnp.zeros(3), a_done))
    b = threading.Thread(target=call, args=("b", Gate(b_paused, a_done), jnp.zeros(4), None))
    a.start()
    assert a_paused.wait(timeout=20)
    b.start()
    a.join()
    b.join()
    assert results["a"] == "passed"
    assert "`x`" in results["b"] and "f32[4]" in results["b"]
    # And the invalid signature was not cached as checked.
    with pytest.raises(eqx.TypeCheckError, match=r"f32\[4\]"):
        f(Gate(threading.Event(), threading.Event()), jnp.zeros(4))


class Payload:
    """A user object whose lifetime the test watches."""


class FailingNode:
    """A PyTree node whose flatten raises ``error`` (a fresh instance each time, so no
    traceback outlives the test's ``pytest.raises``)."""

    def __init__(self, error: type[BaseException]) -> None:
        self.error = error


def _raise(node: FailingNode) -> Any:
    raise node.error("flatten failed")


jtu.register_pytree_node(FailingNode, _raise, lambda aux, children: FailingNode(ValueError))


@pytest.mark.parametrize("error", [RuntimeError, KeyboardInterrupt])
@pytest.mark.parametrize("donate", ["none", "all"])
def test_failed_flatten_keeps_no_argument_alive(error: type[BaseException], donate: Any) -> None:
    @eqx.filter_jit(donate=donate)
    def f(node: Any, payload: Any, x: Any) -> Any:
        return x

    payload = Payload()
    watched = weakref.ref(payload)
    array = np.zeros(1000)
    watched_array = weakref.ref(array)
    with pytest.raises(error):
        f(FailingNode(error), payload, array)
    del payload, array
    gc.collect()
    assert watched() is None
    assert watched_array() is None
    # A later valid call still checks its own arguments.
    assert f(None, 1, jnp.ones(2)).shape == (2,)

