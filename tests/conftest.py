"""Shared fixtures: every test starts from the default checking settings."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import equinox_typed as eqx


@pytest.fixture(autouse=True)
def _restore_check_settings() -> Iterator[None]:
    mode = eqx.get_checks()
    checker = eqx.get_typechecker()
    yield
    eqx.set_checks(mode)
    eqx.set_typechecker(checker)


@pytest.fixture(params=["beartype", "typeguard"])
def typechecker(request: pytest.FixtureRequest) -> Iterator[str]:
    """Run the test once under each checking backend."""
    previous = eqx.set_typechecker(request.param)
    yield request.param
    eqx.set_typechecker(previous)
