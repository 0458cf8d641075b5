"""The only place this package reaches into JAX's private modules (``jax._src``).

Each name below stands in for a public API that JAX does not offer (yet). Keeping them
here means a JAX upgrade that moves one breaks this module at import time, in one place,
and ``tests/test_jax_internals.py`` checks that each still behaves as the checking
engine and dispatch path assume: a moved internal fails loudly, it never turns the
checks off silently.
"""

from __future__ import annotations

from typing import Any, Final

from jax._src import array as _array
from jax._src import config as _config
from jax._src import core as _core

__all__ = ["ARRAY_IMPL", "jaxpr_with_inputs", "trace_state_clean", "x64_enabled"]

# The concrete class of every committed ``jax.Array``. ``jax.Array`` itself is an
# abstract base that tracers also satisfy (``isinstance(tracer, jax.Array)`` is True), so
# telling "a real array" from "a value being traced" fast needs the implementation class.
# It is named here without creating an array, which would start a backend at import time,
# before users can configure devices or jax.distributed.
ARRAY_IMPL: Final[type] = _array.ArrayImpl


def trace_state_clean() -> bool:
    """Whether no JAX transformation is being traced right now.

    The default checking mode runs checks only outside traces. JAX has no public
    "am I tracing?" query; ``jax.core.trace_state_clean`` was removed from the public
    namespace, the private one is stable across every JAX version this package supports.
    """
    return bool(_core.trace_state_clean())


def x64_enabled() -> bool:
    """Whether JAX keeps 64-bit dtypes here and now (it decides what NumPy data becomes).

    The public ``jax.config.jax_enable_x64`` reads the process-wide setting only; the
    private state also sees ``jax.experimental.enable_x64()`` contexts.
    """
    flag: object = getattr(_config.enable_x64, "value")  # untyped in jax
    return bool(flag)


def jaxpr_with_inputs(jaxpr: Any, *, constvars: list[Any], invars: list[Any]) -> Any:
    """``jaxpr`` with new constant and input variables (same equations and outputs).

    Older JAX (< 0.5) asserts that a jaxpr's debug info names exactly its inputs, and
    does not adjust it in ``Jaxpr.replace``; newer JAX renames unknown inputs itself. The
    debug info only serves error messages, so on older JAX it is dropped.
    """
    try:
        return jaxpr.replace(constvars=constvars, invars=invars)
    except AssertionError:
        return jaxpr.replace(constvars=constvars, invars=invars, debug_info=None)
