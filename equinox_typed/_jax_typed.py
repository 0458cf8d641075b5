"""Typed views of the JAX functions this package calls whose annotations are incomplete.

jaxlib ships no type information for ``PyTreeDef`` (nor for some device and key types),
so mypy sees the tree functions that return one as partly ``Any`` and pyright strict as
"partially unknown"; a few transformations (``jax.jvp``, ``jax.pmap``, ...) are likewise
only partially annotated. This module is the one place that touches them: every other
module imports the names below and works with fully typed values.

Each name is the JAX function itself under an annotated declaration, not a wrapper: a
call costs exactly what a call of the JAX function costs (no extra Python frame), which
matters on the per-call paths of ``filter_jit`` and of Module flattening/checking. Both
checkers verify that the JAX function is assignable to the declared type (parameter
names and kinds included); the only suppression is pyright's report that the JAX
attribute's own type is partially unknown (``reportUnknownMemberType``, and
``reportUnknownVariableType`` for the value assigned), which is what this module exists
to contain.

```python
from ._jax_typed import TreeDef, tree_flatten

leaves, treedef = tree_flatten(pytree)  # treedef: TreeDef
rebuilt = treedef.unflatten(leaves)
```
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, Protocol, TypeVar

import jax
import jax.core
import jax.numpy as jnp
import jax.tree_util as jtu
import jaxtyping
from jax.interpreters import ad as _ad
from jax.interpreters import batching as _batching
from jax.interpreters import mlir as _mlir

__all__ = [
    "AdZero",
    "Device",
    "JaxRuntimeError",
    "KeyEntry",
    "KeyPath",
    "RuleTable",
    "TreeDef",
    "asarray",
    "checkpoint",
    "clear_caches",
    "cond",
    "custom_vjp",
    "debug_breakpoint",
    "device_put",
    "eval_jaxpr",
    "eval_shape",
    "finfo",
    "full",
    "iinfo",
    "jacfwd",
    "jacrev",
    "jaxtyped",
    "jit",
    "jvp",
    "keystr",
    "lower_fun",
    "make_jaxpr",
    "pad",
    "pmap",
    "primitive_batchers",
    "primitive_jvps",
    "primitive_transposes",
    "pure_callback",
    "reduce_window",
    "register_lowering",
    "register_pytree_node",
    "register_pytree_with_keys",
    "shape_dtype_struct",
    "tree_flatten",
    "tree_flatten_with_path",
    "tree_structure",
    "value_and_grad",
    "vectorize",
    "vjp",
    "with_sharding_constraint",
    "zeros",
]

_T = TypeVar("_T")

# --------------------------------------------------------------------------------------
# Trees


class TreeDef(Protocol):
    """The parts of ``jax.tree_util.PyTreeDef`` this package uses.

    A tree definition is hashable and compares equal to the definition of any tree with
    the same structure (node types and auxiliary data included).
    """

    @property
    def num_nodes(self) -> int: ...

    @property
    def num_leaves(self) -> int: ...

    def unflatten(self, leaves: Iterable[Any], /) -> Any:
        """The tree of this structure with ``leaves`` at its leaf positions."""
        ...

    def flatten_up_to(self, tree: Any, /) -> list[Any]:
        """The subtrees of ``tree`` at this structure's leaf positions (a ``ValueError``
        when ``tree`` does not have this structure down to them)."""
        ...

    def children(self) -> list[TreeDef]:
        """The definitions of the root's direct subtrees."""
        ...


# One step of a key path (`GetAttrKey`, `DictKey`, `SequenceKey`, ...): untyped in jaxlib.
KeyEntry = Any
# A key path as produced by `tree_flatten_with_path`: the key entries from the root down.
KeyPath = tuple[KeyEntry, ...]

_IsLeaf = Callable[[Any], bool]


class _TreeFlatten(Protocol):
    def __call__(
        self, tree: Any, /, is_leaf: _IsLeaf | None = None
    ) -> tuple[list[Any], TreeDef]: ...


class _TreeFlattenWithPath(Protocol):
    def __call__(
        self, tree: Any, /, is_leaf: Callable[..., bool] | None = None
    ) -> tuple[list[tuple[KeyPath, Any]], TreeDef]: ...


class _TreeStructure(Protocol):
    def __call__(self, tree: Any, /, is_leaf: _IsLeaf | None = None) -> TreeDef: ...


class _KeyStr(Protocol):
    def __call__(self, keys: KeyPath, /, *, simple: bool = False, separator: str = "") -> str: ...


class _RegisterPytreeNode(Protocol):
    def __call__(
        self,
        nodetype: type[_T],
        flatten_func: Callable[[_T], tuple[Iterable[Any], Any]],
        unflatten_func: Callable[[Any, Iterable[Any]], _T],
        /,
    ) -> None: ...


class _RegisterPytreeWithKeys(Protocol):
    def __call__(
        self,
        nodetype: type[_T],
        flatten_with_keys: Callable[[_T], tuple[Iterable[tuple[KeyEntry, Any]], Any]],
        unflatten_func: Callable[[Any, Iterable[Any]], _T],
        flatten_func: Callable[[_T], tuple[Iterable[Any], Any]] | None = None,
        /,
    ) -> None: ...


tree_flatten: _TreeFlatten = jtu.tree_flatten  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
tree_flatten_with_path: _TreeFlattenWithPath = jtu.tree_flatten_with_path  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
tree_structure: _TreeStructure = jtu.tree_structure  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
keystr: _KeyStr = jtu.keystr  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
register_pytree_node: _RegisterPytreeNode = jtu.register_pytree_node  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
register_pytree_with_keys: _RegisterPytreeWithKeys = jtu.register_pytree_with_keys  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]

# --------------------------------------------------------------------------------------
# Transformations. Their results are functions of arbitrary PyTrees, so `Any` is exact.

jit: Callable[..., Any] = jax.jit  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
pmap: Callable[..., Callable[..., Any]] = jax.pmap  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
value_and_grad: Callable[..., Callable[..., tuple[Any, Any]]] = jax.value_and_grad  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
eval_shape: Callable[..., Any] = jax.eval_shape  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
jvp: Callable[..., tuple[Any, Any]] = jax.jvp  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
vjp: Callable[..., tuple[Any, ...]] = jax.vjp  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
jacfwd: Callable[..., Callable[..., Any]] = jax.jacfwd  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
jacrev: Callable[..., Callable[..., Any]] = jax.jacrev  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
checkpoint: Callable[..., Callable[..., Any]] = jax.checkpoint  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
make_jaxpr: Callable[..., Callable[..., tuple[Any, Any]]] = jax.make_jaxpr  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
eval_jaxpr: Callable[..., list[Any]] = jax.core.eval_jaxpr  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
custom_vjp: Callable[[Callable[..., Any]], Any] = jax.custom_vjp
with_sharding_constraint: Callable[[Any, Any], Any] = jax.lax.with_sharding_constraint  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
device_put: Callable[[Any, Any], Any] = jax.device_put  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]

# `jax.ShapeDtypeStruct`'s constructor is unannotated (mypy: an untyped call).
shape_dtype_struct: Callable[..., jax.ShapeDtypeStruct] = jax.ShapeDtypeStruct

# The class of devices (jaxlib's, unannotated): only used in `isinstance` tests.
Device: type = jax.Device  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]



_F = TypeVar("_F", bound=Callable[..., Any])


class _JaxTyped(Protocol):
    """``jaxtyping.jaxtyped`` in its decorator-factory form: the decorated function runs
    in a fresh dimension memo, with no type checker of jaxtyping's own."""

    def __call__(self, *, typechecker: None) -> Callable[[_F], _F]: ...


# Its `typechecker` parameter's type is unknown to pyright.
jaxtyped: _JaxTyped = jaxtyping.jaxtyped  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]

# --------------------------------------------------------------------------------------
# Array constructors whose dtype/device parameters are untyped in the checkers' view.

zeros: Callable[..., jax.Array] = jnp.zeros  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
full: Callable[..., jax.Array] = jnp.full  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
asarray: Callable[..., jax.Array] = jnp.asarray  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
pad: Callable[..., jax.Array] = jnp.pad  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
reduce_window: Callable[..., jax.Array] = jax.lax.reduce_window  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
vectorize: Callable[..., Callable[..., Any]] = jnp.vectorize  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
# `finfo(dtype).min` etc.: an untyped constructor for mypy.
finfo: Callable[[Any], Any] = jnp.finfo
iinfo: Callable[[Any], Any] = jnp.iinfo

# --------------------------------------------------------------------------------------
# Control flow and host callbacks (runtime errors, debugging aids).

cond: Callable[..., Any] = jax.lax.cond  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
pure_callback: Callable[..., Any] = jax.pure_callback
debug_breakpoint: Callable[..., Any] = jax.debug.breakpoint  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
clear_caches: Callable[[], None] = jax.clear_caches
JaxRuntimeError: type[Exception] = jax.errors.JaxRuntimeError  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]

# --------------------------------------------------------------------------------------
# The rule tables of a new primitive (eqx.debug.announce_transform): JAX's public
# `jax.interpreters` modules, whose rule types are partly unknown to pyright.



class RuleTable(Protocol):
    """Where a primitive's rule is registered: ``table[primitive] = rule``."""

    def __setitem__(self, primitive: Any, rule: Callable[..., Any], /) -> None: ...


primitive_jvps: RuleTable = _ad.primitive_jvps  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
primitive_transposes: RuleTable = _ad.primitive_transposes  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
# A dict on older JAX, a write-only proxy on newer.
primitive_batchers: RuleTable = _batching.primitive_batchers
register_lowering: Callable[..., None] = _mlir.register_lowering  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
lower_fun: Callable[..., Any] = _mlir.lower_fun  # pyright: ignore[reportUnknownMemberType,reportUnknownVariableType]
AdZero: type = _ad.Zero  # a symbolic-zero tangent or cotangent in those rules
