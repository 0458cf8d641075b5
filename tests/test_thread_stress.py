"""Threads building and calling checked Modules, layers and jitted functions at the same
time, with valid and invalid inputs, some of them with checks switched off: every
invalid input raises where checks are on, every valid input passes, and nothing checked
in one thread leaks into another (modes, pending calls, memos, compiled signatures).

The normal run is a few seconds; the `slow` variant runs more threads for longer.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float

import equinox_typed as eqx


class Pair(eqx.Module):
    a: Float[Array, "n m"]
    b: Float[Array, " n"]


@eqx.filter_jit
def combine(a: Float[Array, "n m"], b: Float[Array, " n"]) -> Float[Array, " m"]:
    return b @ a


LINEAR = eqx.nn.Linear(3, 2, key=jax.random.PRNGKey(0))
SHAPES = ((2, 3), (3, 3), (1, 2))


def _pair_inputs(rng: random.Random, valid: bool) -> tuple[jax.Array, jax.Array]:
    n, m = rng.choice(SHAPES)
    b_len = n if valid else n + 1
    return jnp.zeros((n, m)), jnp.zeros(b_len)


def _build(rng: random.Random, valid: bool) -> None:
    Pair(*_pair_inputs(rng, valid))


def _jit_call(rng: random.Random, valid: bool) -> None:
    out = combine(*_pair_inputs(rng, valid))
    assert out.ndim == 1


def _layer_call(rng: random.Random, valid: bool) -> None:
    x = jnp.ones(3) if valid else jnp.ones(rng.choice((2, 4)))
    assert LINEAR(x).shape == (2,)


OPERATIONS: tuple[Callable[[random.Random, bool], None], ...] = (_build, _jit_call, _layer_call)


def _worker(seed: int, iterations: int, start: threading.Barrier, failures: list[str]) -> None:
    rng = random.Random(seed)
    start.wait(timeout=60)
    for step in range(iterations):
        operation, valid = rng.choice(OPERATIONS), rng.random() < 0.5
        off = rng.random() < 0.3
        where = f"thread {seed} step {step}: {operation.__name__} valid={valid} off={off}"
        try:
            if off:
                with eqx.checks("off"):
                    if valid or operation is _build:  # invalid calls may fail in XLA
                        operation(rng, valid)
                continue
            if valid:
                operation(rng, valid)
                continue
            try:
                operation(rng, valid)
            except eqx.TypeCheckError:
                continue
            failures.append(f"{where}: an invalid input passed")
        except Exception as error:  # noqa: BLE001 - any other failure is reported
            failures.append(f"{where}: {type(error).__name__}: {error}"[:400])


def _stress(threads: int, iterations: int) -> None:
    failures: list[str] = []
    start = threading.Barrier(threads)
    workers = [
        threading.Thread(target=_worker, args=(seed, iterations, start, failures))
        for seed in range(threads)
    ]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=600)
    assert not any(worker.is_alive() for worker in workers)
    assert failures == []
    # And afterwards every thread sees the default mode, and checks still bite.
    assert eqx.get_checks() == "eager"
    with pytest.raises(eqx.TypeCheckError, match="`b`"):
        combine(jnp.zeros((2, 3)), jnp.zeros(3))


def test_threads_with_opposite_modes_and_mixed_inputs() -> None:
    _stress(threads=4, iterations=25)


@pytest.mark.slow
def test_threads_with_opposite_modes_and_mixed_inputs_long() -> None:
    _stress(threads=8, iterations=200)


def test_off_thread_compiling_invalid_signatures_while_others_check() -> None:
    # One thread keeps compiling invalid signatures with checks off while another
    # calls the same function with the same invalid inputs with checks on.
    @eqx.filter_jit
    def scale(x: Float[Array, " n"], y: Float[Array, " n"]) -> Float[Array, " n"]:
        return x * y

    lengths = list(range(1, 13))
    refused: list[int] = []
    start = threading.Barrier(2)

    def off() -> None:
        start.wait(timeout=60)
        with eqx.checks("off"):
            for n in lengths:
                scale(jnp.ones(n), np.ones(1, np.float32))

    def on() -> None:
        start.wait(timeout=60)
        for n in reversed(lengths):
            try:
                scale(jnp.ones(n), np.ones(1, np.float32))
            except eqx.TypeCheckError:
                refused.append(n)

    threads = [threading.Thread(target=off), threading.Thread(target=on)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    # Length 1 is valid (both are "n" = 1); every other length is refused.
    assert sorted(refused) == lengths[1:]

