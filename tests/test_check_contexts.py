"""The checking mode and backend are context-local: `eqx.checks(...)` changes them for the
current thread or asyncio task only; `set_checks`/`set_typechecker` set the process
default that every context without a `checks` block sees."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

import jax.numpy as jnp
import pytest
from jaxtyping import Array, Float

import equinox_typed as eqx


class Pair(eqx.Module):
    a: Float[Array, "n m"]
    b: Float[Array, "n"]


def _build_invalid() -> str:
    """'raised' when the inconsistent Pair is refused, 'built' when it is not."""
    try:
        Pair(jnp.zeros((2, 3)), jnp.zeros(3))
    except eqx.TypeCheckError:
        return "raised"
    return "built"


def _in_thread(target: Callable[[], None]) -> threading.Thread:
    thread = threading.Thread(target=target)
    thread.start()
    return thread


def test_checks_block_in_one_thread_leaves_other_threads_checked() -> None:
    entered, observed = threading.Event(), threading.Event()
    seen: dict[str, str] = {}

    def switch_off() -> None:
        with eqx.checks("off"):
            seen["inside"] = eqx.get_checks()
            seen["inside_build"] = _build_invalid()
            entered.set()
            observed.wait(timeout=30)

    thread = _in_thread(switch_off)
    assert entered.wait(timeout=30)
    # The other thread is inside `with eqx.checks("off")` right now.
    seen["main"] = eqx.get_checks()
    seen["main_build"] = _build_invalid()
    observed.set()
    thread.join()
    assert seen == {
        "inside": "off",
        "inside_build": "built",
        "main": "eager",
        "main_build": "raised",
    }


def test_interleaved_blocks_in_threads_restore_the_default() -> None:
    # A enters "off", B enters "always", A leaves, B leaves: with one global this order
    # left the whole process in "off" for good.
    a_in, b_in, a_out = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, str] = {}

    def a() -> None:
        with eqx.checks("off"):
            a_in.set()
            b_in.wait(timeout=30)
            seen["a"] = eqx.get_checks()
        a_out.set()

    def b() -> None:
        a_in.wait(timeout=30)
        with eqx.checks("always"):
            b_in.set()
            a_out.wait(timeout=30)
            seen["b"] = eqx.get_checks()

    threads = [_in_thread(a), _in_thread(b)]
    for thread in threads:
        thread.join()
    assert seen == {"a": "off", "b": "always"}
    assert eqx.get_checks() == "eager"
    assert _build_invalid() == "raised"


def test_asyncio_tasks_interleaving_opposite_modes() -> None:
    log: list[tuple[str, str, str]] = []

    async def worker(name: str, mode: eqx.CheckMode) -> None:
        with eqx.checks(mode):
            for _ in range(3):
                await asyncio.sleep(0)  # let the other task run inside its own block
                log.append((name, eqx.get_checks(), _build_invalid()))

    async def main() -> None:
        await asyncio.gather(worker("off", "off"), worker("eager", "eager"))
        log.append(("after", eqx.get_checks(), _build_invalid()))

    asyncio.run(main())
    assert sorted(set(log)) == [
        ("after", "eager", "raised"),
        ("eager", "eager", "raised"),
        ("off", "off", "built"),
    ]
    assert len(log) == 7


def test_typechecker_is_context_local_too() -> None:
    entered, observed = threading.Event(), threading.Event()
    seen: dict[str, str] = {}

    def use_typeguard() -> None:
        with eqx.checks(typechecker="typeguard"):
            seen["inside"] = eqx.get_typechecker()
            seen["inside_mode"] = eqx.get_checks()  # the mode is left as it was
            entered.set()
            observed.wait(timeout=30)

    thread = _in_thread(use_typeguard)
    assert entered.wait(timeout=30)
    seen["main"] = eqx.get_typechecker()
    observed.set()
    thread.join()
    assert seen == {"inside": "typeguard", "inside_mode": "eager", "main": "beartype"}


def test_checks_block_with_both_settings_and_nesting() -> None:
    with eqx.checks("always", typechecker="typeguard"):
        assert (eqx.get_checks(), eqx.get_typechecker()) == ("always", "typeguard")
        with eqx.checks("off"):  # keeps the enclosing block's backend
            assert (eqx.get_checks(), eqx.get_typechecker()) == ("off", "typeguard")
        assert eqx.get_checks() == "always"
    assert (eqx.get_checks(), eqx.get_typechecker()) == ("eager", "beartype")


def test_set_checks_sets_the_default_that_a_block_overrides() -> None:
    with eqx.checks("off"):
        previous = eqx.set_checks("always")
        assert previous == "eager"
        assert eqx.get_checks() == "off"  # the block still wins here
    assert eqx.get_checks() == "always"
    seen: list[str] = []
    thread = _in_thread(lambda: seen.append(eqx.get_checks()))
    thread.join()
    assert seen == ["always"]  # the default is process-wide


def test_checks_refuses_unknown_settings_naming_them() -> None:
    with pytest.raises(ValueError, match="checking mode must be one of.*'sometimes'"):
        with eqx.checks("sometimes"):  # type: ignore[arg-type]
            pass
    with pytest.raises(ValueError, match="typechecker must be one of.*'mypy'"):
        with eqx.checks(typechecker="mypy"):  # type: ignore[arg-type]
            pass
    assert (eqx.get_checks(), eqx.get_typechecker()) == ("eager", "beartype")


def test_filter_jit_in_other_thread_is_checked_while_one_thread_is_off() -> None:
    @eqx.filter_jit
    def f(x: Float[Array, "3"]) -> Float[Array, "3"]:
        return x + 1

    entered, observed = threading.Event(), threading.Event()

    def unchecked() -> None:
        with eqx.checks("off"):
            entered.set()
            observed.wait(timeout=30)

    thread = _in_thread(unchecked)
    assert entered.wait(timeout=30)
    try:
        with pytest.raises(eqx.TypeCheckError, match="`x`"):
            f(jnp.zeros(4))
    finally:
        observed.set()
        thread.join()
