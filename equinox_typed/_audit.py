"""``eqx.audit``: check a whole model and its forward pass, allocating nothing.

The audit has two parts, the second optional:

1. **Fields.** Every field of every Module in the tree is checked against its
   annotation by the checking engine, sizes bound across the Module's fields as at
   construction, whatever the checking mode and with no memo: a model built under
   ``checks("off")`` or edited with ``tree_at`` is audited for real. Abstract leaves
   (``jax.ShapeDtypeStruct``, what ``filter_eval_shape`` builds) are checked inside an
   abstract trace, where they are arrays of their shape and dtype. A Module that fails
   its annotations but is a *stack* (an ensemble made with ``filter_vmap``, layers
   stacked for ``jax.lax.scan``: see :mod:`equinox_typed._stack`) is audited per member
   instead, under ``jax.vmap`` over its leading axes: each member's fields against the
   annotations, with the member's own dimension bindings.
2. **Forward pass** (``inputs=``): see :mod:`equinox_typed._audit_calls`.
3. **Checkpoint** (``checkpoint=``): the file's records against the tree's leaves, by
   their ``.npy`` headers alone (:func:`equinox_typed._serialisation.diff_checkpoint`),
   so an abstract tree is compared without loading or allocating anything.
"""

from __future__ import annotations

import dataclasses
import math
import os
from collections.abc import Callable, Iterable
from typing import Any, cast

import jax

from ._audit_calls import trace_calls
from ._audit_report import AuditReport, DtypeTotal, LeafRow, LeafStatus, Totals, Violation
from ._checking import (
    array_hints_in,
    check_each,
    checks,
    dimension_names,
    format_hint,
    written_hint,
)
from ._eval_shape import filter_eval_shape
from ._filters import ARRAY_TYPES, combine, partition
from ._jax_typed import eval_shape, keystr, tree_flatten, tree_flatten_with_path
from ._module import Module, module_check_items, module_field_hints
from ._serialisation import PathOrFile, checkpoint_path, diff_checkpoint
from ._shape_spec import parse_shape_spec, summarise
from ._stack import on_each_member, stack_prefix

__all__ = ["audit", "build_tree", "is_factory"]

_LEAF_ARRAY_TYPES = (*ARRAY_TYPES, jax.ShapeDtypeStruct)


def _is_module(x: Any) -> bool:
    return isinstance(x, Module)


def _is_shape_struct(x: Any) -> bool:
    return isinstance(x, jax.ShapeDtypeStruct)


@dataclasses.dataclass(frozen=True)
class _Field:
    """The Module field an array leaf sits in."""

    owner: str
    name: str
    hint: Any  # None: no annotation
    message: str | None  # the engine's message when the field does not match
    bindings: dict[str, int]
    strict: bool  # unshaped arrays are violations here


@dataclasses.dataclass(frozen=True)
class _Stack:
    """A stack being audited through its members."""

    path: str
    owner: str
    prefix: tuple[int, ...]  # its leading axes

    def note(self) -> str:
        """The line added to a member's failure: which members, of which stack."""
        first = ",".join("0" for _ in self.prefix)
        last = ",".join(str(n - 1) for n in self.prefix)
        return (
            f"\n  members:  each of the {math.prod(self.prefix)} members [{first}]..[{last}] "
            f"of the stack of {self.owner} at `{self.path or '(root)'}` (leading axes "
            f"{self.prefix} on every array); the shapes above are a member's"
        )


class _FieldAudit:
    """One walk over the tree: a row per array leaf, a violation per failing field."""

    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.rows: list[LeafRow] = []
        self.violations: list[Violation] = []
        self.by_dtype: dict[str, list[int]] = {}  # dtype -> [arrays, elements, bytes]
        self.modules = 0
        self.static_leaves = 0
        self.stacks: list[_Stack] = []  # the stacks whose members are being audited

    @property
    def stack_axes(self) -> tuple[int, ...]:
        """The leading axes of the enclosing stacks, outermost first."""
        return tuple(n for stack in self.stacks for n in stack.prefix)

    def tree(self, tree: Any, path: str, field: _Field | None) -> None:
        for key_path, leaf in tree_flatten_with_path(tree, is_leaf=_is_module)[0]:
            leaf_path = path + keystr(key_path)
            if isinstance(leaf, Module):
                self.module(leaf, leaf_path)
            elif isinstance(leaf, _LEAF_ARRAY_TYPES):
                self.array(leaf, leaf_path, field)
            else:
                self.static_leaves += 1

    def module(self, module: Module, path: str) -> None:
        owner, sizes, items = module_check_items(module, path)
        messages, bindings = check_each(owner, items)
        if any(m is not None for m in messages):
            prefix = stack_prefix(module, module_field_hints)
            if prefix is not None:
                self.members(module, path, _Stack(path, owner, prefix))
                return
        self.modules += 1
        notes = "".join(stack.note() for stack in self.stacks)
        messages = [None if m is None else m + notes for m in messages]
        checked = {
            label: (written_hint(hint), message)
            for (label, _, hint), message in zip(items[sizes:], messages[sizes:], strict=True)
        }
        class_strict = bool(getattr(type(module), "_eqx_strict", False))
        for f in dataclasses.fields(module):
            if f.metadata.get("static", False):
                continue
            field_path = f"{path}.{f.name}"
            hint, message = checked.get(field_path, (None, None))
            if message is not None:
                self.violations.append(Violation("field", field_path, message))
            info = _Field(owner, f.name, hint, message, bindings, self.strict or class_strict)
            self.tree(module.__dict__[f.name], field_path, info)

    def members(self, module: Module, path: str, stack: _Stack) -> None:
        """Audit every member of a stack at once (they share shapes and dtypes): each
        array is a member's under ``vmap``, so nothing is sliced or allocated."""
        self.stacks.append(stack)
        try:
            on_each_member(module, stack.prefix, lambda member: self.module(member, path))
        finally:
            self.stacks.pop()

    def array(self, leaf: Any, path: str, field: _Field | None) -> None:
        status: LeafStatus = "unannotated"
        bindings: dict[str, int] = {}
        if field is not None and field.hint is not None:
            names = dimension_names(field.hint)
            bindings = {k: v for k, v in field.bindings.items() if k in names}
            if field.message is not None:
                status = "mismatch"
            elif any(array_hints_in(field.hint)):
                status = "ok"
            else:
                status = "unshaped"
        if field is not None and field.strict and status in ("unshaped", "unannotated"):
            given = "no annotation" if field.hint is None else f"annotation {format_hint(field.hint)}"
            self.violations.append(
                Violation(
                    "unshaped",
                    path,
                    f"{field.owner}: field `{path}` holds an array but its {given} gives "
                    f"no shape/dtype (strict audit); annotate it with jaxtyping, e.g. "
                    f"Float[Array, 'dim1 dim2']",
                )
            )
        stack = self.stack_axes
        shape = stack + tuple(int(n) for n in leaf.shape)
        dtype = str(leaf.dtype)
        self.rows.append(
            LeafRow(
                path,
                None if field is None else field.owner,
                None if field is None else field.name,
                None if field is None or field.hint is None else format_hint(field.hint),
                dtype,
                shape,
                bindings,
                status,
                stack,
            )
        )
        size = math.prod(shape)
        counts = self.by_dtype.setdefault(dtype, [0, 0, 0])
        counts[0] += 1
        counts[1] += size
        counts[2] += size * int(getattr(leaf.dtype, "itemsize", 0))

    def totals(self) -> Totals:
        by_dtype = tuple(
            sorted(
                (DtypeTotal(dtype, *counts) for dtype, counts in self.by_dtype.items()),
                key=lambda t: (-t.bytes, t.dtype),
            )
        )
        return Totals(
            parameters=sum(t.parameters for t in by_dtype),
            bytes=sum(t.bytes for t in by_dtype),
            by_dtype=by_dtype,
            arrays=len(self.rows),
            modules=self.modules,
            static_leaves=self.static_leaves,
        )


def _audit_fields(tree: Any, strict: bool) -> _FieldAudit:
    """Walk ``tree``; abstract leaves are checked inside an abstract trace, where they
    are arrays (tracers) of their shape and dtype, so nothing is allocated."""
    abstract, rest = partition(tree, _is_shape_struct)
    walk = _FieldAudit(strict)

    def inside(abstract_: Any) -> None:
        walk.tree(combine(abstract_, rest), "", None)

    if any(map(_is_shape_struct, tree_flatten(abstract)[0])):
        eval_shape(inside, abstract)
    else:
        inside(abstract)
    return walk


def is_factory(tree_or_factory: Any) -> bool:
    """Whether :func:`audit` calls this to build the tree (a callable, not a Module)."""
    return callable(tree_or_factory) and not isinstance(tree_or_factory, Module)


def build_tree(tree_or_factory: Any, abstract: bool | None = None) -> Any:
    """The tree :func:`audit` audits: ``tree_or_factory`` itself, or what the factory
    builds (abstractly with :func:`filter_eval_shape` unless ``abstract=False``), with
    checks off.

    ```python
    tree = build_tree(make_model)    # arrays are jax.ShapeDtypeStruct
    ```
    """
    if not is_factory(tree_or_factory):
        return tree_or_factory
    factory: Callable[[], Any] = tree_or_factory
    # The audit does the checking (all of it, reported rather than raised): building
    # with checks off makes abstract and concrete builds give the same report.
    with checks("off"):
        return factory() if abstract is False else filter_eval_shape(factory)


def _input_values(inputs: Any) -> tuple[Any, ...]:
    items: list[Any] = (
        list(cast("Iterable[Any]", inputs))
        if isinstance(inputs, tuple | list)
        else [inputs]
    )
    return tuple(map(_parse_specs, items))


def _parse_specs(item: Any) -> Any:
    """``item`` with every string in it read as a shape spec (``"f32[3]"``)."""
    leaves, treedef = tree_flatten(item)
    return treedef.unflatten(
        [parse_shape_spec(x) if isinstance(x, str) else x for x in leaves]
    )


def _checkpoint_name(checkpoint: PathOrFile) -> str:
    if isinstance(checkpoint, str | os.PathLike):
        return os.fspath(checkpoint_path(checkpoint))
    name = getattr(checkpoint, "name", None)
    return name if isinstance(name, str) else "(file object)"


def _checkpoint_violations(checkpoint: PathOrFile, tree: Any) -> list[Violation]:
    """Every difference between the checkpoint file and ``tree``, one violation each,
    at the key path of the leaf (``"<end>"`` for records after the last leaf)."""
    return [Violation("checkpoint", d.path, d.detail) for d in diff_checkpoint(checkpoint, tree)]


def audit(
    tree_or_factory: Any,
    *,
    inputs: Any = None,
    checkpoint: PathOrFile | None = None,
    strict: bool = False,
    abstract: bool | None = None,
) -> AuditReport:
    """Audit a model's fields, forward pass and checkpoint without allocating it.

    **Arguments:**

    - ``tree_or_factory``: a Module or any PyTree of Modules, or a zero-argument
      callable returning one. A callable is built abstractly with
      :func:`filter_eval_shape` (its arrays become ``jax.ShapeDtypeStruct``, so a model
      of billions of parameters allocates none of them) unless ``abstract=False``.
      It is built with checks off: the audit reports what construction would raise.
      Stacked Modules (ensembles made with ``filter_vmap``, layers stacked for
      ``jax.lax.scan``) are audited per member, as the transformation boundaries
      check them; their rows carry the stack's leading axes.
    - ``inputs``: example inputs for a forward pass of the Module: one input, or a
      tuple/list of the positional arguments, each an array, a ``jax.ShapeDtypeStruct``
      or a spec string such as ``"f32[32,784]"``. ``__call__`` is traced abstractly in
      the ``"always"`` checking mode, recording one row per Module call; the first
      failure is reported at the innermost call where it happened.
    - ``checkpoint``: a file written by :func:`tree_serialise_leaves` (a path, or a
      binary file object at its first record), compared leaf by leaf with the tree
      through the records' headers, without loading it: each missing or extra leaf and
      each shape or dtype difference is a ``"checkpoint"`` violation at its key path.
    - ``strict``: also report array fields whose annotation gives no shape or dtype.
    - ``abstract``: ``False`` to call the factory for real.

    **Returns:** an :class:`AuditReport`; it never raises for what it finds.

    **Raises:** whatever the factory raises; ``ValueError`` for a malformed input spec;
    ``TypeError`` for ``inputs`` without a callable Module; ``OSError`` for a
    checkpoint file that cannot be opened (a path without a suffix gets ``.eqx``).

    ```python
    report = eqx.audit(lambda: MLP(784, 10, 256, 3, key=jax.random.key(0)),
                       inputs="f32[784]")
    print(report)          # tables, totals and a verdict
    assert report.ok, report.violations
    eqx.audit(make_model, checkpoint="model.eqx").violations  # what would not load
    ```
    """
    tree = build_tree(tree_or_factory, abstract)
    args: tuple[Any, ...] | None = None
    if inputs is not None:
        if not (isinstance(tree, Module) and callable(tree)):
            raise TypeError(
                f"inputs= needs a callable Module to trace, but the audited tree is a "
                f"{type(tree).__qualname__}; audit the Module itself"
            )
        args = _input_values(inputs)
    # Read first: an unreadable file is an error of the call, raised before any work.
    stored = [] if checkpoint is None else _checkpoint_violations(checkpoint, tree)
    walk = _audit_fields(tree, strict)
    violations = list(walk.violations)
    calls: tuple[Any, ...] = ()
    if args is not None:
        calls, failure = trace_calls(tree, args)
        if failure is not None:
            violations.append(failure)
    return AuditReport(
        rows=tuple(walk.rows),
        calls=calls,
        violations=(*violations, *stored),
        totals=walk.totals(),
        inputs=None if args is None else tuple(summarise(a) for a in args),
        checkpoint=None if checkpoint is None else _checkpoint_name(checkpoint),
    )
