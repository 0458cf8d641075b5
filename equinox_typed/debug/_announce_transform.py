"""``announce_transform``: report each JAX transformation and lowering a value goes
through.

It works through a primitive of its own that computes the identity: JAX calls the
primitive's rule for each transformation (JVP, transposition, batching), for abstract
evaluation while tracing, for lowering to MLIR and for eager evaluation, and each rule
announces itself before doing what the identity needs. The rules apply the primitive
again to their outputs, so a value transformed twice is announced by both, as a path
such as ``vmap:jvp_t:transpose:mlir``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import jax.extend.core

from .._filters import combine, is_array, partition
from .._jax_typed import (
    AdZero,
    lower_fun,
    primitive_batchers,
    primitive_jvps,
    primitive_transposes,
    register_lowering,
    tree_flatten,
)

__all__ = ["announce_transform"]

_Announce = Callable[[str], object]

_announce_p: Any = jax.extend.core.Primitive("announce_transform")
_announce_p.multiple_results = True


def _say(stack: tuple[str, ...], name: str, announce: _Announce) -> None:
    announce(name + ":".join(stack))


def _bind(values: Sequence[Any], stack: tuple[str, ...], name: str, intermediates: bool, announce: _Announce) -> list[Any]:
    out: list[Any] = _announce_p.bind(
        *values, stack=stack, name=name, intermediates=intermediates, announce=announce
    )
    return out


def _bind_nonzero(values: Sequence[Any], stack: tuple[str, ...], name: str, intermediates: bool, announce: _Announce) -> list[Any]:
    """``_bind`` on the values that are not symbolic zeros (those pass through as they are)."""
    nonzero = [v for v in values if type(v) is not AdZero]
    done = iter(_bind(nonzero, stack, name, intermediates, announce) if nonzero else [])
    return [v if type(v) is AdZero else next(done) for v in values]


def _impl(*values: Any, stack: tuple[str, ...], name: str, intermediates: bool, announce: _Announce) -> tuple[Any, ...]:
    del intermediates
    _say(stack + ("impl",), name, announce)
    return values


def _abstract_eval(*avals: Any, stack: tuple[str, ...], name: str, intermediates: bool, announce: _Announce) -> tuple[Any, ...]:
    del intermediates
    _say(stack + ("abstract",), name, announce)
    return avals


def _lower(*values: Any, stack: tuple[str, ...], name: str, intermediates: bool, announce: _Announce) -> tuple[Any, ...]:
    del intermediates
    _say(stack + ("mlir",), name, announce)
    return values


def _jvp(primals: Sequence[Any], tangents: Sequence[Any], *, stack: tuple[str, ...], name: str, intermediates: bool, announce: _Announce) -> tuple[list[Any], list[Any]]:
    if intermediates:
        _say(stack + ("jvp",), name, announce)
    primals_out = _bind(primals, stack + ("jvp_p",), name, intermediates, announce)
    tangents_out = _bind_nonzero(tangents, stack + ("jvp_t",), name, intermediates, announce)
    return primals_out, tangents_out


def _transpose(cotangents: Sequence[Any], *primals: Any, stack: tuple[str, ...], name: str, intermediates: bool, announce: _Announce) -> list[Any]:
    del primals  # the identity is linear: its transpose is the identity on cotangents
    stack = stack + ("transpose",)
    if intermediates:
        _say(stack, name, announce)
    return _bind_nonzero(cotangents, stack, name, intermediates, announce)


def _batch(values: Sequence[Any], batch_dims: Sequence[Any], *, stack: tuple[str, ...], name: str, intermediates: bool, announce: _Announce) -> tuple[list[Any], Sequence[Any]]:
    stack = stack + ("vmap",)
    if intermediates:
        _say(stack, name, announce)
    return _bind(values, stack, name, intermediates, announce), batch_dims


_announce_p.def_impl(_impl)
_announce_p.def_abstract_eval(_abstract_eval)
primitive_jvps[_announce_p] = _jvp
primitive_transposes[_announce_p] = _transpose
primitive_batchers[_announce_p] = _batch
register_lowering(_announce_p, lower_fun(_lower, multiple_results=True))


def announce_transform(
    x: Any, name: object = None, intermediates: bool = False, announce: _Announce = print
) -> Any:
    """The identity on ``x``, announcing each JAX transformation and processing step
    its arrays go through: a one-off debugging aid (what exactly gets batched,
    differentiated, transposed, lowered...).

    Each announcement is a path of steps, outermost first, joined by ``:``: ``vmap``,
    ``jvp_p``/``jvp_t`` (the primal and tangent parts of a JVP), ``transpose``, ending in
    ``impl`` (evaluated eagerly), ``abstract`` (traced, e.g. under ``jit``) or ``mlir``
    (lowered for compilation). ``jit(vmap(f))`` announces ``vmap:abstract`` and
    ``vmap:mlir``.

    **Arguments:**

    - ``x``: any PyTree; its arrays are followed, other leaves returned as they are.
    - ``name``: a label, shown as ``(name)`` before each announcement.
    - ``intermediates``: also announce the transformations themselves as they are
      applied (``vmap``, ``jvp``, ``transpose``), not only the steps that end a path.
    - ``announce``: called with each announcement (default: ``print``).

    **Returns:** ``x``, unchanged.

    ```python
    def f(x):
        return eqx.debug.announce_transform(x, name="x") ** 2

    jax.jit(jax.vmap(f))(jnp.arange(3.0))
    # (x) vmap:abstract
    # (x) vmap:mlir
    ```
    """
    label = "" if name is None else f"({name}) "
    arrays, others = partition(x, is_array)
    leaves, treedef = tree_flatten(arrays)
    out = _bind(leaves, (), label, intermediates, announce)
    return combine(treedef.unflatten(out), others)
