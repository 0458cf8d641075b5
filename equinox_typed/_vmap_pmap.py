"""``filter_vmap`` and ``filter_pmap``: map over the array leaves of arbitrary PyTrees.

Axis specifications (``in_axes``/``out_axes``) are prefix trees whose leaves are
``None`` (broadcast), an ``int`` (map array leaves over that axis; other leaves are
broadcast), or a callable ``leaf -> int | None`` such as ``eqx.if_array(0)``. Non-array
leaves are always broadcast on the way in and returned as they are on the way out.

Boundary checks see what the wrapped function sees: per-example (per-device) shapes, with
the mapped axis removed. They run on abstract stand-ins, so no data is sliced.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Callable
from typing import Any, Final, cast

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np

# Absolute: pyright reports `from . import _checking` as private usage, since the
# package's __init__ imports names from it.
import equinox_typed._checking as _checking
from ._boundary import Boundary
from ._filters import if_array, is_array
from ._jax_typed import (
    TreeDef,
    eval_shape,
    pmap,
    register_pytree_node,
    shape_dtype_struct,
    tree_flatten,
)
from ._jit import DONATE_MODES, Donate
from ._missing import MISSING
from ._module import field
from ._trace_attempts import trace_attempt
from ._wrapper import FunctionWrapper

__all__ = ["filter_pmap", "filter_vmap"]




def _is_none(x: Any) -> bool:
    return x is None


def _resolve(spec: Any, leaf: Any) -> int | None:
    if spec is None:
        return None
    if isinstance(spec, int) and not isinstance(spec, bool):
        return spec if is_array(leaf) else None
    if callable(spec):
        # A user callable: its result is taken to be an axis (or None), as documented.
        axis = cast("int | None", spec(leaf))
        if axis is not None and not is_array(leaf):
            raise ValueError(
                f"an axis specification gave axis {axis} for the non-array leaf {leaf!r}; "
                f"only arrays can be mapped"
            )
        return axis
    raise TypeError(
        f"axis specifications must be None, an int or a callable, got {spec!r}"
    )


def _check_rank(leaf: Any, axis: int | None) -> None:
    """An input mapped over ``axis`` must have that axis (negative axes count from the
    end); say so here, rather than failing obscurely when the axis is removed."""
    if axis is None:
        return
    ndim = len(leaf.shape)
    if not -ndim <= axis < ndim:
        raise ValueError(
            f"cannot map an input of shape {tuple(leaf.shape)} over axis {axis}: "
            f"mapping over axis {axis} needs an array of rank at least "
            f"{axis + 1 if axis >= 0 else -axis}, but this one has rank {ndim}"
        )


def leaf_axes(spec: Any, tree: Any, *, inputs: bool = False) -> list[int | None]:
    """The axis of every leaf of ``tree`` (in flattening order) under prefix ``spec``.
    With ``inputs``, each mapped leaf must have the axis it is mapped over (outputs gain
    theirs).

    ```python
    leaf_axes((0, None), (x, {"a": y}))   # [0, None]
    ```
    """
    pairs: list[tuple[Any, Any]] = []

    def per_subtree(s: Any, subtree: Any) -> None:
        pairs.append((s, subtree))

    try:
        jtu.tree_map(per_subtree, spec, tree, is_leaf=_is_none)
    except ValueError as e:
        raise ValueError(
            f"the axis specification {spec!r} is not a prefix of the tree it maps: {e}"
        ) from None
    axes: list[int | None] = []
    for s, subtree in pairs:
        for leaf in jtu.tree_leaves(subtree):
            axis = _resolve(s, leaf)
            if inputs:
                _check_rank(leaf, axis)
            axes.append(axis)
    return axes


def _parameter_names(fun: Callable[..., Any], n_args: int) -> list[str]:
    """The parameter name of each of ``n_args`` positional arguments (a placeholder for
    those that have none: beyond a ``*args``, or when the signature is unknown)."""
    names: list[str] = []
    try:
        signature = inspect.signature(fun)
        params = list(signature.parameters.values())
        names = list(signature.bind_partial(*[None] * n_args).arguments)
        if any(p.kind is p.VAR_POSITIONAL for p in params):
            names = names[:n_args]
    except (TypeError, ValueError):
        pass
    return names + [f"<positional {i}>" for i in range(len(names), n_args)]


def _call_axes(
    fun: Callable[..., Any], in_axes: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
) -> list[int | None]:
    """Axes for every leaf of ``(args, kwargs)``."""
    default = if_array(0)
    if isinstance(in_axes, dict):
        by_name = cast("dict[str, Any]", in_axes)
        names = _parameter_names(fun, len(args))
        # A name that matches nothing passed is almost always a typo or a forgotten
        # argument: refuse it rather than silently using the default.
        unmatched = sorted(set(by_name).difference(names, kwargs))
        if unmatched:
            raise ValueError(
                f"in_axes names {', '.join(map(repr, unmatched))}, but no argument of that "
                f"name was passed (passed: {', '.join([*names, *kwargs]) or 'nothing'})"
            )
        arg_spec: Any = tuple(by_name.get(name, default) for name in names)
        kwarg_spec = {k: by_name.get(k, default) for k in kwargs}
    else:
        arg_spec = in_axes
        kwarg_spec = {k: default for k in kwargs}
    return leaf_axes(arg_spec, args, inputs=True) + leaf_axes(kwarg_spec, kwargs, inputs=True)


def _remove_axis(leaf: Any, axis: int | None) -> Any:
    """A stand-in for one example of ``leaf`` mapped over ``axis``: an abstract array
    for JAX arrays, a zero-strided view (no copy) for NumPy ones."""
    if axis is None:
        return leaf
    shape = list(leaf.shape)
    del shape[axis]
    dtype: Any = leaf.dtype
    if isinstance(leaf, (np.ndarray, np.generic)):
        return np.broadcast_to(np.zeros((), dtype), tuple(shape))
    return shape_dtype_struct(tuple(shape), dtype)


def _check_examples(
    boundary: Boundary,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    in_axes: list[int | None],
    out: Any = MISSING,
    out_axes: list[int | None] | None = None,
) -> None:
    """Check one example of a mapped call (and of its output, when given)."""
    in_leaves, in_def = tree_flatten((args, kwargs))
    examples: list[Any] = [_remove_axis(x, a) for x, a in zip(in_leaves, in_axes, strict=True)]
    out_examples: list[Any] = []
    out_def: TreeDef | None = None
    if out is not MISSING and out_axes is not None:
        out_leaves, out_def = tree_flatten(out)
        out_examples = [_remove_axis(x, a) for x, a in zip(out_leaves, out_axes, strict=True)]
    # ShapeDtypeStructs become tracers of that shape inside `eval_shape`; everything
    # else is closed over unchanged.
    abstract = [i for i, x in enumerate(examples) if isinstance(x, jax.ShapeDtypeStruct)]
    abstract_out = [i for i, x in enumerate(out_examples) if isinstance(x, jax.ShapeDtypeStruct)]

    def check(in_values: list[Any], out_values: list[Any]) -> None:
        for i, v in zip(abstract, in_values, strict=True):
            examples[i] = v
        for i, v in zip(abstract_out, out_values, strict=True):
            out_examples[i] = v
        example_args, example_kwargs = in_def.unflatten(examples)
        items = boundary.check_arguments(example_args, example_kwargs)
        if out_def is not None:
            boundary.check_return(items, out_def.unflatten(out_examples))

    eval_shape(
        check, [examples[i] for i in abstract], [out_examples[i] for i in abstract_out]
    )


def _check_call(
    boundary: Boundary, args: tuple[Any, ...], kwargs: dict[str, Any], axes: list[int | None]
) -> Any:
    """At the start of a mapped call: check one example of the arguments, unless an
    earlier call with the same abstract signature passed. Returns that signature's memo
    key, or None when checks are off (then ``_check_result`` is not called)."""
    if not _checking.checks_active():
        return None
    key = (_checking.get_typechecker(), _checking.abstract_signature((args, kwargs)))
    if key not in boundary.memo:
        _check_examples(boundary, args, kwargs, axes)
    return key


def _check_result(
    boundary: Boundary,
    key: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    axes: list[int | None],
    out: Any,
    out_axes: list[int | None],
) -> None:
    """At the end of a mapped call: check one example of the output (with the
    arguments, so dimension names bind across both), then memoise what passed."""
    out_key = (key, _checking.abstract_signature(out))
    if out_key not in boundary.memo and boundary.checks_return:
        _check_examples(boundary, args, kwargs, axes, out, out_axes)
    boundary.memo.add(out_key)
    boundary.memo.add(key)


class _MapStatic:
    """Output bookkeeping of a mapped call: treedef, per-leaf axes and non-array
    leaves. Carried as auxiliary data of an empty PyTree node (so ``jax.pmap``'s cache
    returns it with the compiled function)."""

    __slots__ = ("treedef", "axes", "leaves")

    def __init__(self, treedef: TreeDef, axes: list[int | None], leaves: list[Any]) -> None:
        self.treedef, self.axes, self.leaves = treedef, axes, leaves

    def rebuild(self, mapped: list[Any], unmapped: list[Any]) -> Any:
        mapped_it, unmapped_it = iter(mapped), iter(unmapped)
        leaves: list[Any] = []
        for leaf, axis in zip(self.leaves, self.axes, strict=True):
            if axis is not None:
                x = next(mapped_it)
                leaves.append(x if axis == 0 else jnp.moveaxis(x, 0, axis))
            elif leaf is None:
                leaves.append(next(unmapped_it))
            else:
                leaves.append(leaf)
        return self.treedef.unflatten(leaves)


register_pytree_node(_MapStatic, lambda s: ((), s), lambda aux, _: aux)


def _split_mapped_output(out: Any, out_axes: Any) -> tuple[list[Any], list[Any], _MapStatic]:
    """Inside the trace: mapped array outputs, unmapped array outputs, bookkeeping."""
    leaves, treedef = tree_flatten(out)
    axes = leaf_axes(out_axes, out)
    mapped = [x for x, a in zip(leaves, axes, strict=True) if a is not None]
    unmapped = [x for x, a in zip(leaves, axes, strict=True) if a is None and is_array(x)]
    static = [None if (a is not None or is_array(x)) else x for x, a in zip(leaves, axes, strict=True)]
    return mapped, unmapped, _MapStatic(treedef, axes, static)


class _Marker:
    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


# Placeholders for array leaves in the static part of a pmapped call.
_KEPT: Final = _Marker("array")
_DONATED: Final = _Marker("donated array")


class AxisSpec:
    """An ``in_axes``/``out_axes`` setting held in a wrapper's static field: equal (and
    hashing alike) when the specifications have equal structure and leaves, so a dict or
    list specification does not make the wrapper unhashable."""

    __slots__ = ("spec", "_key")

    def __init__(self, spec: Any) -> None:
        self.spec = spec
        leaves, treedef = tree_flatten(spec, is_leaf=_is_none)
        self._key = (treedef, tuple(leaves))

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AxisSpec) and self._key == other._key

    def __hash__(self) -> int:
        return hash(self._key)

    def __repr__(self) -> str:
        return repr(self.spec)


# ---------------------------------------------------------------------------------------
# filter_vmap


class _Mapped(FunctionWrapper):
    """The settings :func:`filter_vmap` and :func:`filter_pmap` share."""

    keeps_annotations = "none"  # the arguments gain a batch (or device) axis
    in_axes: AxisSpec = field(static=True)
    out_axes: AxisSpec = field(static=True)
    axis_name: Any = field(static=True)
    axis_size: int | None = field(static=True)


class _Vmapped(_Mapped):
    """What :func:`filter_vmap` returns."""

    vmapkwargs: tuple[tuple[str, Any], ...] = field(static=True)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        fun, boundary = self.fun, self.boundary()
        axes = _call_axes(fun, self.in_axes.spec, args, kwargs)
        leaves, treedef = tree_flatten((args, kwargs))
        key = _check_call(boundary, args, kwargs, axes)
        mapped = [x for x, a in zip(leaves, axes, strict=True) if a is not None]
        mapped_axes = [a for a in axes if a is not None]
        out_axes = self.out_axes.spec

        def per_example(mapped_leaves: list[Any]) -> Any:
            it = iter(mapped_leaves)
            a, k = treedef.unflatten(
                [next(it) if ax is not None else x for x, ax in zip(leaves, axes, strict=True)]
            )
            return _split_mapped_output(fun(*a, **k), out_axes)

        # A refused return value fails the call: what `fun` recorded as traced
        # (eqx.debug.assert_max_traces) is taken back.
        with trace_attempt():
            mapped_out, unmapped_out, static = jax.vmap(
                per_example,
                in_axes=(mapped_axes,),
                out_axes=(0, None, None),
                axis_name=self.axis_name,
                axis_size=self.axis_size,
                **dict(self.vmapkwargs),
            )(mapped)
            out = static.rebuild(mapped_out, unmapped_out)
            if key is not None:
                _check_result(boundary, key, args, kwargs, axes, out, static.axes)
        return out


def _frozen_options(owner: str, options: dict[str, Any], own: tuple[str, ...]) -> tuple[tuple[str, Any], ...]:
    """``**kwargs`` for the underlying JAX transformation, checked and made hashable."""
    clash = sorted(set(options).intersection(own))
    if clash:
        raise ValueError(f"{owner} does not take {', '.join(clash)}: it decides them itself")
    return tuple(sorted(options.items()))


def filter_vmap(
    fun: Any = MISSING,
    *,
    in_axes: Any = if_array(0),
    out_axes: Any = if_array(0),
    axis_name: Any = None,
    axis_size: int | None = None,
    **vmapkwargs: Any,
) -> Any:
    """Vectorise ``fun`` over the array leaves of arbitrary PyTrees.

    **Arguments:**

    - ``fun``: the function (or callable PyTree, e.g. a Module) to map. Its own arrays
      are broadcast. Usable as ``@filter_vmap`` or ``@filter_vmap(in_axes=...)``.
    - ``in_axes``: a prefix tree of the tuple of positional arguments, with leaves
      ``None``/``int``/callable (``leaf -> axis | None``); or a dict from argument names
      to such specifications. Keyword arguments not named in a dict use the default,
      ``eqx.if_array(0)`` (map arrays over their leading axis, broadcast the rest).
    - ``out_axes``: the same for the output. Outputs with axis ``None`` must not depend
      on the mapped axis; non-array outputs are returned as they are.
    - ``axis_name``: name of the mapped axis, for collectives (``jax.lax.psum``).
    - ``axis_size``: size of the mapped axis; needed only when no input is mapped.
    - ``**vmapkwargs``: further options for ``jax.vmap`` (``spmd_axis_name``...).

    **Returns:** the mapped function.

    ```python
    keys = jax.random.split(key, 8)
    ensemble = eqx.filter_vmap(lambda k: eqx.nn.Linear(3, 4, key=k))(keys)
    ys = eqx.filter_vmap(lambda m, x: m(x), in_axes=(0, None))(ensemble, x)
    ```
    """
    options = _frozen_options("filter_vmap", vmapkwargs, ("in_axes", "out_axes"))
    if fun is MISSING:

        def decorator(f: Callable[..., Any]) -> Any:
            return filter_vmap(
                f,
                in_axes=in_axes,
                out_axes=out_axes,
                axis_name=axis_name,
                axis_size=axis_size,
                **vmapkwargs,
            )

        return decorator
    return _Vmapped(
        fun,
        in_axes=AxisSpec(in_axes),
        out_axes=AxisSpec(out_axes),
        axis_name=axis_name,
        axis_size=axis_size,
        vmapkwargs=options,
    )


# ---------------------------------------------------------------------------------------
# filter_pmap


def _per_device(
    static: tuple[TreeDef, tuple[Any, ...], tuple[int | None, ...], Any],
    mapped: list[Any],
    unmapped: list[Any],
    mapped_donated: list[Any],
    unmapped_donated: list[Any],
) -> Any:
    """The body run on each device: rebuild the call from its groups of leaves, run it."""
    treedef, statics, axes, out_axes = static
    m, u = iter(mapped), iter(unmapped)
    md, ud = iter(mapped_donated), iter(unmapped_donated)
    leaves: list[Any] = []
    for x, a in zip(statics, axes, strict=True):
        if x is _KEPT:
            leaves.append(next(m) if a is not None else next(u))
        elif x is _DONATED:
            leaves.append(next(md) if a is not None else next(ud))
        else:
            leaves.append(x)
    f, args, kwargs = treedef.unflatten(leaves)
    return _split_mapped_output(f(*args, **kwargs), out_axes.spec)


# JAX-pmapped functions, one per setting, shared by the wrappers of equal functions (the
# function is in the static argument), as for `filter_jit`.
_PMAPPED: Final[dict[Any, Callable[..., Any]]] = {}


def _shared_pmap(name: str, settings: tuple[Any, ...]) -> Callable[..., Any]:
    key = (name, settings)
    try:
        return _PMAPPED[key]
    except TypeError:  # an unhashable option: no sharing
        return _build_pmap(name, settings)
    except KeyError:
        built = _PMAPPED[key] = _build_pmap(name, settings)
        return built


def _build_pmap(name: str, settings: tuple[Any, ...]) -> Callable[..., Any]:
    axis_name, axis_size, donate, devices, backend, options = settings

    def per_device(static: Any, *groups: list[Any]) -> Any:
        return _per_device(static, *groups)

    per_device.__name__ = per_device.__qualname__ = name
    return pmap(
        per_device,
        axis_name=axis_name,
        in_axes=(None, 0, None, 0, None),  # static, mapped, unmapped, and donated twins
        out_axes=(0, None, None),
        static_broadcasted_argnums=(0,),
        axis_size=axis_size,
        donate_argnums=(3, 4) if donate != "none" else (),
        devices=devices,
        backend=backend,
        **dict(options),
    )


class _Pmapped(_Mapped):
    """What :func:`filter_pmap` returns."""

    donate: Donate = field(static=True)
    devices: Any = field(static=True)
    backend: str | None = field(static=True)
    pmapkwargs: tuple[tuple[str, Any], ...] = field(static=True)

    def _settings(self) -> tuple[Any, ...]:
        devices = None if self.devices is None else tuple(self.devices)
        return (self.axis_name, self.axis_size, self.donate, devices, self.backend, self.pmapkwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        fun, boundary, donate = self.fun, self.boundary(), self.donate
        donating = donate != "none"
        except_first = donate in ("all-except-first", "warn-except-first")
        name = str(getattr(fun, "__name__", "fun"))
        pmapped = _shared_pmap(name, self._settings())
        axes = _call_axes(fun, self.in_axes.spec, args, kwargs)
        key = _check_call(boundary, args, kwargs, axes)
        n_fun = len(jtu.tree_leaves(fun))
        n_first = len(jtu.tree_leaves(args[0])) if args else 0
        leaves, treedef = tree_flatten((fun, args, kwargs))
        all_axes: list[int | None] = [*([None] * n_fun), *axes]
        groups: tuple[list[Any], list[Any], list[Any], list[Any]] = ([], [], [], [])
        statics: list[Any] = []
        for i, (x, a) in enumerate(zip(leaves, all_axes, strict=True)):
            if not is_array(x):
                statics.append(x)
                continue
            in_first = n_fun <= i < n_fun + n_first
            donated = donating and not (except_first and in_first)
            statics.append(_DONATED if donated else _KEPT)
            if a is not None and a != 0:
                x = jnp.moveaxis(x, a, 0)
            groups[(2 if donated else 0) + (0 if a is not None else 1)].append(x)
        if not groups[0] and not groups[2] and self.axis_size is not None:
            # jax.pmap needs a mapped input to see the axis; `axis_size` alone does not
            # do (unlike jax.vmap). A placeholder gives it one; nothing reads it.
            groups[0].append(np.zeros((self.axis_size,), np.bool_))
        static = (treedef, tuple(statics), tuple(all_axes), self.out_axes)
        with warnings.catch_warnings():
            if donate in ("all", "all-except-first"):
                warnings.filterwarnings("ignore", "Some donated buffers were not usable")
            mapped_out, unmapped_out, out_static = pmapped(static, *groups)
        out = out_static.rebuild(mapped_out, unmapped_out)
        if key is not None:
            _check_result(boundary, key, args, kwargs, axes, out, out_static.axes)
        return out


def filter_pmap(
    fun: Any = MISSING,
    *,
    in_axes: Any = if_array(0),
    out_axes: Any = if_array(0),
    axis_name: Any = None,
    axis_size: int | None = None,
    donate: Donate = "none",
    devices: Any = None,
    backend: str | None = None,
    **pmapkwargs: Any,
) -> Any:
    """Run ``fun`` in parallel across devices, mapping over the array leaves of PyTrees.

    Like :func:`filter_vmap` (same ``in_axes``/``out_axes``/``axis_name``/``axis_size``),
    but each example runs on its own device, compiled as with :func:`filter_jit`:
    non-array leaves are static (part of the cache key). ``donate`` is as for
    :func:`filter_jit`. ``devices`` and ``backend`` choose where it runs, and
    ``**pmapkwargs`` are further options for ``jax.pmap``, as there.

    ```python
    grads = eqx.filter_pmap(compute_grads, axis_name="devices")(model, xs)
    ```
    """
    if donate not in DONATE_MODES:
        raise ValueError(f"donate must be one of {DONATE_MODES}, got {donate!r}")
    if fun is MISSING:

        def decorator(f: Callable[..., Any]) -> Any:
            return filter_pmap(
                f,
                in_axes=in_axes,
                out_axes=out_axes,
                axis_name=axis_name,
                axis_size=axis_size,
                donate=donate,
                devices=devices,
                backend=backend,
                **pmapkwargs,
            )

        return decorator
    options = _frozen_options(
        "filter_pmap", pmapkwargs, ("in_axes", "out_axes", "static_broadcasted_argnums", "donate_argnums")
    )
    return _Pmapped(
        fun,
        in_axes=AxisSpec(in_axes),
        out_axes=AxisSpec(out_axes),
        axis_name=axis_name,
        axis_size=axis_size,
        donate=donate,
        devices=None if devices is None else tuple(devices),
        backend=backend,
        pmapkwargs=options,
    )
