"""equinox_typed: strictly typed neural networks in JAX as callable PyTrees.

Type stubs. Every transformation keeps the wrapped function's parameters and return
type, so static checkers (mypy, pyright) and IDEs see precise types; jaxtyping
annotations such as ``Float[Array, "n"]`` are seen by them as plain ``jax.Array``.
"""

import abc
import os
import dataclasses
import inspect
from collections.abc import Callable, Hashable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing_extensions import ParamSpec, TypeVar, deprecated
from typing import (
    Annotated,
    Any,
    Concatenate,
    Generic,
    Literal,
    Protocol,
    TypeAlias,
    dataclass_transform,
    overload,
    type_check_only,
)

import jax
from jax import Array
from jax.extend.core import ClosedJaxpr
from jax.typing import ArrayLike

from . import debug as debug
from . import nn as nn
from ._audit_report import AuditReport as AuditReport

__all__ = [
    "debug",
    "nn",
    "AbstractClassVar",
    "AbstractVar",
    "AuditReport",
    "BoundMethod",
    "CheckMode",
    "CheckpointError",
    "Enumeration",
    "EquinoxRuntimeError",
    "EquinoxTracetimeError",
    "Module",
    "Partial",
    "TypeCheckError",
    "TypeCheckWarning",
    "apply_updates",
    "audit",
    "branched_error_if",
    "checks",
    "clear_caches",
    "combine",
    "default_deserialise_filter_spec",
    "default_serialise_filter_spec",
    "error_if",
    "field",
    "filter",
    "filter_checkpoint",
    "filter_closure_convert",
    "filter_custom_jvp",
    "filter_custom_vjp",
    "filter_eval_shape",
    "filter_grad",
    "filter_hessian",
    "filter_jacfwd",
    "filter_jacrev",
    "filter_jit",
    "filter_jvp",
    "filter_make_jaxpr",
    "filter_pmap",
    "filter_pure_callback",
    "filter_shard",
    "filter_value_and_grad",
    "filter_vjp",
    "filter_vmap",
    "get_checks",
    "get_typechecker",
    "gradf",
    "if_array",
    "is_array",
    "is_array_like",
    "is_inexact_array",
    "is_inexact_array_like",
    "jitf",
    "module_fields",
    "partition",
    "set_checks",
    "set_typechecker",
    "tree_at",
    "tree_check",
    "tree_deserialise_leaves",
    "tree_equal",
    "tree_flatten_one_level",
    "tree_pformat",
    "tree_pprint",
    "tree_serialise_leaves",
    "value_and_grad_f",
    "StrictConfig",
    "module_update_wrapper",
    "static_field",
    "tree_inference",
]

__version__: str

_T = TypeVar("_T")
_R = TypeVar("_R")
_R_co = TypeVar("_R_co", covariant=True)
# The differentiated argument of filter_grad & co. Bound to Any so that the unannotated
# parameter of a closure (`lambda m: loss(m, x, y)`) may be used as anything in the
# lambda's body (pyright would otherwise read it as `object`); its default (PEP 696)
# makes a function built from such a lambda a `_GradFn[Any, ...]` rather than unknown.
_M = TypeVar("_M", bound=Any, default=Any)
_M_co = TypeVar("_M_co", bound=Any, default=Any, covariant=True)
_MA = TypeVar("_MA")
# Type parameters that follow _M in the gradient signatures need defaults too (PEP 696).
_GP = ParamSpec("_GP", default=...)
_GA = TypeVar("_GA", default=Any)
_GS = TypeVar("_GS", bound=ArrayLike, default=Array)
_GA_co = TypeVar("_GA_co", default=Any, covariant=True)
_GS_co = TypeVar("_GS_co", bound=ArrayLike, default=Array, covariant=True)
_A = TypeVar("_A")
_A1 = TypeVar("_A1")
_A2 = TypeVar("_A2")
_A3 = TypeVar("_A3")
_S = TypeVar("_S", bound=ArrayLike)
_P = ParamSpec("_P")
_Q = ParamSpec("_Q")

CheckMode: TypeAlias = Literal["off", "eager", "warn", "always"]
"""When checks run: never, outside JAX traces only (the default), or also at trace time."""

_TypeCheckerName: TypeAlias = Literal["beartype", "typeguard"]
"""The runtime backend that matches values against annotations."""

_VmapMethod: TypeAlias = Literal[
    "sequential", "sequential_unrolled", "expand_dims", "broadcast_all", "legacy_vectorized"
]
"""How :func:`filter_pure_callback` behaves under ``vmap`` (``jax.pure_callback``'s options)."""

_Donate: TypeAlias = Literal["none", "all", "all-except-first", "warn", "warn-except-first"]
"""Which input buffers :func:`filter_jit` may donate to XLA."""

_AxisSpec: TypeAlias = int | None | Callable[[Any], int | None]
"""An axis spec for ``filter_vmap``/``filter_pmap``: an axis, ``None`` (broadcast), or a
function ``leaf -> axis``; used at every node of a prefix tree."""

_FilterSpec: TypeAlias = bool | Callable[[Any], bool] | Any
"""A bool, a predicate ``leaf -> bool``, or a prefix PyTree of those."""

@type_check_only
class _Unannotated:
    """Never instantiated, so only ``Any`` matches it: overloads use it to pick out an
    argument (or a type argument) that is ``Any``, e.g. the model type of a gradient
    function built from a lambda whose first parameter is unannotated."""

# =======================================================================================
# Checking configuration
# =======================================================================================

class TypeCheckError(TypeError):
    """Raised when a value does not match its shape/dtype/type annotation.

    A subclass of both :class:`TypeError` and :class:`jaxtyping.TypeCheckError`, so
    existing ``except`` clauses for either keep working.
    """

class TypeCheckWarning(UserWarning):
    """Issued instead of raising :class:`TypeCheckError` in checking mode ``"warn"``,
    once per distinct violation, with the same message.

    ```python
    with eqx.checks("warn"):
        model = build_model()   # a wrong annotation warns instead of raising
    ```
    """

def get_checks() -> CheckMode:
    """The checking mode in force here: ``"off"``, ``"eager"`` (default), ``"warn"`` or
    ``"always"``.

    That is the mode of the innermost :func:`checks` block of the current thread or
    task, else the process default set by :func:`set_checks`.
    """

def set_checks(mode: CheckMode) -> CheckMode:
    """Set the process-wide default checking mode and return the previous default.

    - ``"off"``: nothing is checked.
    - ``"eager"``: checks run only when no JAX trace is active, so traced code is
      exactly what it would be without checks.
    - ``"warn"``: the checks of ``"eager"``, each violation issued once as a
      :class:`TypeCheckWarning` instead of raised (a first step when migrating code).
    - ``"always"``: checks also run while tracing, against abstract shapes.

    The default applies in every thread and task outside a :func:`checks` block; the
    initial default comes from the ``EQUINOX_TYPED_CHECKS`` environment variable.

    ```python
    eqx.set_checks("off")   # e.g. in a benchmark script
    ```
    """

def checks(
    mode: CheckMode | None = None, *, typechecker: _TypeCheckerName | None = None
) -> AbstractContextManager[None]:
    """Use a checking mode and/or backend inside a ``with`` block, in this context only.

    **Arguments:**

    - ``mode``: the mode inside the block (see :func:`set_checks`); None keeps the
      current one.
    - ``typechecker``: the backend inside the block (see :func:`set_typechecker`);
      None keeps the current one.

    The setting is local to the current thread or asyncio task (a ``contextvars``
    context): other threads keep their own mode while the block runs, and tasks
    created inside the block inherit it.

    ```python
    with eqx.checks("off"):
        model = build_model_fast()
    with eqx.checks(typechecker="typeguard"):
        model(x)
    ```
    """

def get_typechecker() -> _TypeCheckerName:
    """The backend in force here: ``"beartype"`` (default) or ``"typeguard"``.

    That is the backend of the innermost :func:`checks` block of the current thread or
    task that names one, else the process default set by :func:`set_typechecker`.
    """

def set_typechecker(name: _TypeCheckerName) -> _TypeCheckerName:
    """Set the process-wide default checking backend and return the previous default.

    The initial default comes from the ``EQUINOX_TYPED_TYPECHECKER`` environment
    variable; ``with eqx.checks(typechecker=...)`` overrides it in one context.

    ```python
    eqx.set_typechecker("typeguard")
    ```
    """

# =======================================================================================
# Module
# =======================================================================================

AbstractVar: TypeAlias = Annotated[_T, "AbstractVar"]
"""``x: AbstractVar[T]`` in an abstract Module: every concrete subclass must provide
attribute ``x`` of type ``T`` (as a field ``x: T``, a class attribute or a property).

Static checkers read ``AbstractVar[T]`` as ``T`` (so ``self.x`` has type ``T`` in the
abstract class's methods); at runtime it is a marker class and ``x`` is not a field.
"""

from ._stub_only import AbstractClassVar as AbstractClassVar

"""``x: AbstractClassVar[T]``: every concrete subclass must set class attribute ``x``
of type ``T``. Static checkers read it as ``ClassVar[T]``."""

@overload
def field(
    *,
    default: _T,
    converter: Callable[[Any], Any] | None = None,
    static: bool = False,
    init: bool = True,
    repr: bool = True,
    hash: bool | None = None,
    compare: bool = True,
    metadata: dict[str, Any] | None = None,
    kw_only: bool = ...,
) -> _T: ...
@overload
def field(
    *,
    default_factory: Callable[[], _T],
    converter: Callable[[Any], Any] | None = None,
    static: bool = False,
    init: bool = True,
    repr: bool = True,
    hash: bool | None = None,
    compare: bool = True,
    metadata: dict[str, Any] | None = None,
    kw_only: bool = ...,
) -> _T: ...
@overload
def field(
    *,
    converter: Callable[[Any], Any] | None = None,
    static: bool = False,
    init: bool = True,
    repr: bool = True,
    hash: bool | None = None,
    compare: bool = True,
    metadata: dict[str, Any] | None = None,
    kw_only: bool = ...,
) -> Any:
    """Declare a Module field with options (like :func:`dataclasses.field`).

    **Arguments:**

    - ``converter``: called on the field's value at the end of ``__init__`` (before
      ``__check_init__`` and type checks), e.g. ``converter=jnp.asarray``.
    - ``static``: store the value in the tree structure (treedef) rather than as a leaf.
      Transformations then treat it as a compile-time constant; it must be hashable.
    - ``default``, ``default_factory``, ``init``, ``repr``, ``hash``, ``compare``,
      ``metadata``, ``kw_only``: as for :func:`dataclasses.field`.

    ```python
    class Linear(eqx.Module):
        weight: Float[Array, "out in"]
        in_features: int = eqx.field(static=True)
    ```
    """

@type_check_only
class _ModuleMeta(abc.ABCMeta):
    def __new__(
        mcs,
        name: str,
        bases: tuple[type, ...],
        namespace: dict[str, Any],
        /,
        strict: bool | None = False,
        kw_only: bool = False,
        frozen: Literal[True] = True,
        **kwargs: Any,
    ) -> _ModuleMeta: ...

@dataclass_transform(
    eq_default=False,
    frozen_default=False,
    kw_only_default=False,
    field_specifiers=(field, dataclasses.field),
)
class Module(metaclass=_ModuleMeta):
    """Base class for models: a frozen dataclass that is also a JAX PyTree.

    Declare fields as class annotations. Array fields should carry jaxtyping annotations,
    which are checked (shape, dtype, and named dimensions bound across fields and to
    ``int`` fields of the same name) at the end of construction.

    Class options: ``strict=True`` refuses array fields without a shape/dtype annotation;
    ``kw_only=True`` makes every field keyword-only.

    ```python
    class Linear(eqx.Module):
        weight: Float[Array, "out_features in_features"]
        bias: Float[Array, "out_features"]
        in_features: int = eqx.field(static=True)
        out_features: int = eqx.field(static=True)

        def __call__(self, x: Float[Array, "in_features"]) -> Float[Array, "out_features"]:
            return self.weight @ x + self.bias
    ```
    """

    def __hash__(self) -> int: ...
    @deprecated(
        "a Module is not iterable (iter() raises TypeError): this declaration exists so "
        "that checkers accept a Module where optax expects a PyTree (optax types "
        "parameters and updates as nested iterables and mappings of arrays)"
    )
    def __iter__(self) -> Iterator[Any]: ...

class BoundMethod(Module):
    """A method bound to a Module instance; itself a Module, so transformations see the
    instance's arrays as inputs.
    """

    __func__: Callable[..., Any]
    __self__: Module
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        """Call the method on its instance: ``__func__(__self__, *args, **kwargs)``."""
    @property
    def __wrapped__(self) -> Callable[..., Any]: ...
    @property
    def __signature__(self) -> inspect.Signature: ...

def module_fields(module: Module | type[Module]) -> tuple[dataclasses.Field[Any], ...]:
    """The dataclass fields of a Module class or instance."""

def static_field(
    *,
    converter: Callable[[Any], Any] | None = None,
    default: Any = ...,
    default_factory: Any = ...,
    init: bool = True,
    repr: bool = True,
    hash: bool | None = None,
    compare: bool = True,
    metadata: dict[str, Any] | None = None,
    kw_only: bool = ...,
) -> Any:
    """The old spelling of ``field(static=True, ...)``; warns ``DeprecationWarning``.

    **Arguments:** as for :func:`field`, less ``static``.

    ```python
    in_features: int = eqx.static_field()   # now: eqx.field(static=True)
    ```
    """

def StrictConfig(force_abstract: bool = False, **kwargs: Any) -> Literal[False] | None:
    """Equinox's old configuration object for ``class M(eqx.Module, strict=...)``.

    Accepted so that code written for Equinox keeps working; it leaves this library's
    own ``strict=`` option (array fields must say shape and dtype) off, as Equinox's
    strict mode is not ours. Any keyword argument is accepted and ignored.

    **Arguments:**

    - ``force_abstract``: Equinox's flag (also accepted as ``force_abstact``, its
      spelling); it changes nothing here.

    ```python
    class Model(eqx.Module, strict=eqx.StrictConfig()):
        ...
    ```
    """

_MW = TypeVar("_MW", bound=Module)

def module_update_wrapper(wrapper: _MW, wrapped: Callable[..., Any] | None = None) -> _MW:
    """``functools.update_wrapper`` for a Module that wraps a function: a copy of
    ``wrapper`` showing the name, qualified name, docstring and annotations of
    ``wrapped`` (by default, ``wrapper.__wrapped__``). ``wrapper`` is not modified.

    **Arguments:**

    - ``wrapper``: a Module instance, typically with a ``__wrapped__`` property.
    - ``wrapped``: what it wraps, when not ``wrapper.__wrapped__``.

    **Returns:** the updated copy. The metadata is kept on the instance, so a copy
    rebuilt by ``jax.tree.map`` or ``filter_jit`` shows its class's again: for that, derive
    from the transformations' results instead (they keep it).

    ```python
    class Logged(eqx.Module):
        fn: Callable
        def __call__(self, *args):
            return self.fn(*args)
        @property
        def __wrapped__(self):
            return self.fn

    logged = eqx.module_update_wrapper(Logged(loss))   # logged.__name__ == "loss"
    ```
    """

def tree_inference(pytree: _T, value: bool = True) -> _T:
    """A copy of ``pytree`` in which every layer's ``inference`` field is ``value``.

    **Arguments:**

    - ``pytree``: a model (any PyTree containing Modules).
    - ``value``: ``True`` for inference (Dropout off, BatchNorm using its running
      statistics, ...), ``False`` to return to training behaviour.

    Every Module with a field named ``inference`` is switched, however deeply nested
    and whether the field is static or not; nothing else changes.

    ```python
    eval_model = eqx.nn.inference_mode(model)
    train_model = eqx.nn.inference_mode(eval_model, value=False)
    ```
    """

# =======================================================================================
# Filters
# =======================================================================================

def is_array(element: Any) -> bool:
    """True for JAX arrays and NumPy arrays/scalars (the things a transformation traces).

    Python scalars are *not* arrays: ``is_array(1.0)`` is False, so filters built on it
    keep Python numbers static.
    """

def is_array_like(element: Any) -> bool:
    """True for arrays, Python scalars (``bool``/``int``/``float``/``complex``) and
    objects exposing ``__jax_array__``: anything ``jnp.asarray`` accepts cheaply.
    """

def is_inexact_array(element: Any) -> bool:
    """True for arrays of floating or complex dtype (the leaves gradients are taken of)."""

def is_inexact_array_like(element: Any) -> bool:
    """Like :func:`is_inexact_array`, also accepting Python ``float``/``complex``."""

class if_array:
    """``if_array(axis)(x)`` is ``axis`` when ``x`` is an array and ``None`` otherwise.

    Used as the default ``in_axes``/``out_axes`` of :func:`filter_vmap`: map arrays over
    ``axis`` and broadcast everything else.

    **Arguments:**

    - ``axis``: the axis to return for array leaves.

    ```python
    eqx.filter_vmap(f, in_axes=eqx.if_array(1))
    ```
    """

    axis: int
    def __init__(self, axis: int) -> None:
        """**Arguments:**

        - ``axis``: the axis to return for array leaves.
        """
    def __call__(self, x: Any) -> int | None:
        """``axis`` if the leaf ``x`` is an array, else ``None`` (not mapped)."""

def filter(
    pytree: _T,
    filter_spec: _FilterSpec,
    inverse: bool = False,
    replace: Any = None,
    is_leaf: Callable[[Any], bool] | None = None,
) -> _T:
    """Keep the leaves selected by ``filter_spec``; put ``replace`` in place of the others.

    **Arguments:**

    - ``pytree``: the tree to filter.
    - ``filter_spec``: a bool, a callable ``leaf -> bool``, or a prefix tree of those.
    - ``inverse``: keep the leaves that are *not* selected instead.
    - ``replace``: what unselected leaves become (default ``None``, an empty subtree).
    - ``is_leaf``: passed to the flattening, to stop at custom nodes.

    **Returns:** a tree of the same structure and type as ``pytree``.

    ```python
    params = eqx.filter(model, eqx.is_inexact_array)
    ```
    """

def partition(
    pytree: _T,
    filter_spec: _FilterSpec,
    replace: Any = None,
    is_leaf: Callable[[Any], bool] | None = None,
) -> tuple[_T, _T]:
    """Split a tree in two: the selected leaves, and the rest.

    Equivalent to ``(filter(pytree, spec), filter(pytree, spec, inverse=True))`` with one
    pass over the tree. :func:`combine` puts the two halves back together.

    **Arguments:** as for :func:`filter`.

    **Returns:** ``(selected, rest)``, both with the structure and type of ``pytree``.

    ```python
    params, static = eqx.partition(model, eqx.is_array)
    model = eqx.combine(params, static)
    ```
    """

# combine's result has the type of its first argument, or of its second where the first
# is Any (so `combine(params, static)` keeps the model type when either side came out of
# an untyped call). A `*pytrees: _T` signature would join the argument types instead,
# which is Any in mypy as soon as one argument is.
@overload
def combine(
    pytree1: _Unannotated,
    pytree2: _T,
    /,
    *pytrees: object,
    is_leaf: Callable[[Any], bool] | None = None,
) -> _T: ...
@overload
def combine(
    pytree1: _T, /, *pytrees: object, is_leaf: Callable[[Any], bool] | None = None
) -> _T:
    """Merge trees of one structure, taking at each leaf the first value that is not None.

    The inverse of :func:`partition`.

    **Arguments:**

    - ``*pytrees``: trees with the same structure, where ``None`` marks a missing leaf.
    - ``is_leaf``: passed to the flattening.

    **Returns:** the merged tree, of the same type as the inputs.
    """

# =======================================================================================
# Tree utilities
# =======================================================================================

def tree_at(
    where: Callable[[_T], Any],
    pytree: _T,
    replace: Any = ...,
    replace_fn: Callable[[Any], Any] = ...,
    is_leaf: Callable[[Any], bool] | None = None,
) -> _T:
    """Return a copy of ``pytree`` with some of its nodes replaced (out of place).

    Arguments:
        where: a function taking the tree and returning the node to replace, or a
            tuple/list of nodes. It must only *navigate* (attribute access, indexing);
            a node may be a leaf, ``None``, or a whole subtree.
        pytree: the tree to update. It is not modified.
        replace: the new value for the node, or, if ``where`` returned a tuple/list,
            a sequence with one new value per node. The new value may have any
            structure.
        replace_fn: alternatively, a function applied to each selected node to give
            its new value. Exactly one of ``replace`` and ``replace_fn`` is required.
        is_leaf: optional predicate marking extra nodes as leaves, as in
            ``jax.tree_util``; ``where`` cannot look inside such nodes.

    Returns:
        The updated copy, of the same type as ``pytree``.

    Raises:
        TypeError: if ``where`` returns something that is not a node of the tree (a
            fresh value, or one computed from leaves), as Equinox does.
        ValueError: if not exactly one of ``replace``/``replace_fn`` is given, if
            ``where`` returns the same node twice, or if the number of values in
            ``replace`` differs from the number of nodes.

    Example:
        >>> tree = {"weight": 1.0, "bias": None}
        >>> tree_at(lambda t: t["bias"], tree, 0.5)
        {'bias': 0.5, 'weight': 1.0}
        >>> tree_at(lambda t: (t["weight"], t["bias"]), tree, (2.0, 3.0))
        {'bias': 3.0, 'weight': 2.0}
        >>> tree_at(lambda t: t["weight"], tree, replace_fn=lambda w: w * 10)
        {'bias': None, 'weight': 10.0}
    """

def tree_equal(
    *pytrees: Any, typematch: bool = False, rtol: float = 0.0, atol: float = 0.0
) -> bool | Array:
    """Whether all the given PyTrees are equal.

    Trees are equal when they have the same structure and, leaf by leaf, equal leaves:
    arrays must agree in shape, dtype and values; other leaves are compared with ``==``.

    Arguments:
        *pytrees: the trees to compare (any number; fewer than two are always equal).
        typematch: also require corresponding leaves to have exactly the same type
            (so ``1`` and ``1.0``, or a NumPy and a JAX array, differ).
        rtol: relative tolerance for floating/complex arrays (as ``allclose``).
        atol: absolute tolerance for floating/complex arrays. With both tolerances 0
            (the default) values must match exactly. NaN never equals anything.

    Returns:
        A scalar boolean JAX array when JAX arrays were compared by value (eagerly too,
        not only under ``jax.jit``); otherwise a Python ``bool``: when the structures,
        shapes, dtypes or non-array leaves differ (``False``), or when no JAX array was
        compared (only NumPy arrays and other leaves).

    Example:
        >>> import jax.numpy as jnp
        >>> tree_equal({"a": jnp.ones(2)}, {"a": jnp.ones(2)})
        Array(True, dtype=bool)
        >>> tree_equal({"a": jnp.ones(2)}, {"b": jnp.ones(2)})  # structures differ
        False
        >>> tree_equal([1.0], [1.0 + 1e-9], rtol=1e-6)  # Python floats use ==
        False
        >>> tree_equal([jnp.array(1.0)], [jnp.array(1.0 + 1e-7)], rtol=1e-6)
        Array(True, dtype=bool)
    """

def apply_updates(model: _T, updates: Any) -> _T:
    """Add ``updates`` to ``model`` leaf by leaf; ``None`` updates leave a leaf alone.

    Arguments:
        model: the tree to update (typically a Module holding parameters).
        updates: a tree with the structure of ``model``, or a prefix of it, whose
            leaves are the increments; where it holds ``None`` the corresponding part
            of ``model`` (a leaf or a whole subtree) is kept unchanged. Typically the
            output of an optimiser applied to gradients with respect to the arrays of
            the model, with ``None`` for everything else.

    Returns:
        The updated model, with ``model_leaf + update`` in place of each leaf.

    Example:
        >>> import jax.numpy as jnp
        >>> model = {"w": jnp.array([1.0, 2.0]), "name": "linear"}
        >>> apply_updates(model, {"w": jnp.array([0.5, 0.5]), "name": None})["w"]
        Array([1.5, 2.5], dtype=float32)
    """

@type_check_only
class _TreeDef(Protocol):
    """The parts of ``jax.tree_util.PyTreeDef`` this package relies on (jaxlib ships no
    type information for the real class)."""

    @property
    def num_nodes(self) -> int: ...
    @property
    def num_leaves(self) -> int: ...
    def unflatten(self, leaves: Iterable[Any], /) -> Any: ...

def tree_flatten_one_level(pytree: Any) -> tuple[list[Any], _TreeDef]:
    """Flatten only the top node of a PyTree.

    Arguments:
        pytree: any PyTree. Its direct children are returned unflattened, whatever
            they are (subtrees, leaves or ``None``).

    Returns:
        ``(children, treedef)`` such that ``treedef.unflatten(children)`` rebuilds a
        node equal to ``pytree``. A leaf gives ``([leaf], <leaf treedef>)`` and ``None``
        gives ``([], <None treedef>)``.

    Raises:
        ValueError: if ``pytree`` is one of its own children (``x = []; x.append(x)``):
            such a node has no finite PyTree structure.

    Example:
        >>> children, treedef = tree_flatten_one_level({"a": (1, 2), "b": None})
        >>> children
        [(1, 2), None]
        >>> treedef.unflatten(children)
        {'a': (1, 2), 'b': None}
    """

def tree_check(pytree: Any) -> None:
    """Check that no node object is used twice in ``pytree`` and that it has no cycle.

    JAX treats every occurrence of a node as an independent copy, so sharing one
    Module or list between two places silently "unties" them after any transformation.
    Leaves (arrays, numbers, ...) and childless nodes such as ``None`` may repeat.

    Arguments:
        pytree: the tree to check.

    Raises:
        ValueError: naming the key path (as ``jax.tree_util.keystr``) of the repeated
            or self-containing node.

    Example:
        >>> shared = [1.0]
        >>> tree_check({"a": [1.0], "b": [1.0]})  # equal but distinct lists: fine
        >>> tree_check({"a": shared, "b": shared})
        Traceback (most recent call last):
        ...
        ValueError: tree_check: the same list object appears at ['a'] and at ['b']; ...
    """

class Partial(Generic[_R_co]):
    """A ``functools.partial`` that is a PyTree.

    The function is static (part of the tree structure, so it must be hashable); the
    bound positional and keyword arguments are the children, so arrays in them are
    traced, differentiated, etc. like any other leaf. This makes it possible to pass
    partially-applied functions through ``jax.jit`` or ``jax.grad``.

    Arguments:
        func: the function to call.
        *args: positional arguments placed before those given at call time.
        **kwargs: keyword arguments; those given at call time take precedence.

    Example:
        >>> import jax, jax.numpy as jnp
        >>> scale = Partial(jnp.multiply, jnp.array(3.0))
        >>> scale(2.0)
        Array(6., dtype=float32, weak_type=True)
        >>> jax.jit(lambda f: f(2.0))(scale)
        Array(6., dtype=float32, weak_type=True)
    """

    func: Callable[..., _R_co]
    args: tuple[Any, ...]
    keywords: dict[str, Any]
    def __init__(self, func: Callable[..., _R_co], /, *args: Any, **kwargs: Any) -> None:
        """Arguments:
            func: the function to call.
            *args: positional arguments placed before those given at call time.
            **kwargs: keyword arguments; those given at call time take precedence.
        """
    def __call__(self, *args: Any, **kwargs: Any) -> _R_co:
        """``func(*bound_args, *args, **{**bound_kwargs, **kwargs})``."""

def tree_pformat(
    pytree: Any,
    *,
    width: int = 80,
    indent: int = 2,
    short_arrays: bool = True,
    struct_as_array: bool = False,
    truncate_leaf: Callable[[Any], bool] = ...,
) -> str:
    """Format a PyTree (or any object) as a readable string.

    Arrays are summarised by dtype and shape (``f32[3,2]``; weakly typed JAX arrays,
    such as ``jnp.asarray(1.0)``, read ``weak_f32[]``; NumPy arrays get a ``(numpy)``
    suffix); dataclasses — Modules included — appear as ``Name(field=value, ...)``
    (``Name`` qualified: ``Outer.Inner``) with their ``repr=True`` fields; containers, namedtuples and ``functools.partial``
    objects have compact forms; Python functions show their qualified name
    (``<function Model.loss>``) and wrappers of one (``functools.wraps``,
    ``jax.jit``, the filtered transformations) ``<wrapped function name>``.
    Anything else, NumPy scalars, builtins and bound methods included, uses its
    ``repr``. A container that contains itself prints as
    ``<cycle>`` where it reappears.

    Arguments:
        pytree: the object to format.
        width: the maximum line length aimed for. A group that does not fit on the
            remaining line is broken into one item per line.
        indent: spaces added per nesting level in broken groups.
        short_arrays: summarise arrays by dtype and shape; if False, print their
            values in full (traced arrays have no values and are always summarised).
        struct_as_array: summarise ``jax.ShapeDtypeStruct`` objects as arrays.
        truncate_leaf: a predicate; any object for which it is True is printed only as
            ``TypeName(...)``.

    Returns:
        The formatted string (possibly spanning several lines).

    Example:
        >>> import jax.numpy as jnp
        >>> tree_pformat({"w": jnp.zeros((3, 2)), "n": 3})
        "{'w': f32[3,2], 'n': 3}"
        >>> print(tree_pformat([1, 2, 3], width=5))
        [
          1,
          2,
          3
        ]
    """

def tree_pprint(
    pytree: Any,
    *,
    width: int = 80,
    indent: int = 2,
    short_arrays: bool = True,
    struct_as_array: bool = False,
    truncate_leaf: Callable[[Any], bool] = ...,
) -> None:
    """Print ``tree_pformat(pytree, ...)``; the arguments are those of :func:`tree_pformat`.

    Example:
        >>> tree_pprint({"a": (1, 2)})
        {'a': (1, 2)}
    """

# =======================================================================================
# Filtered transformations
# =======================================================================================

@type_check_only
class _Wrapped(Protocol[_P, _R_co]):
    """A function with the parameters ``_P`` and return type ``_R_co``."""

    def __call__(self, *args: _P.args, **kwargs: _P.kwargs) -> _R_co: ...

@type_check_only
class Lowered(Generic[_R_co]):
    """Ahead-of-time lowering of a :func:`filter_jit` function for given arguments."""

    def as_text(self) -> str:
        """The lowered program as text (StableHLO)."""
    def compile(self, compiler_options: dict[str, Any] | None = None) -> Compiled[_R_co]:
        """Compile the lowered program (``compiler_options``: XLA options for this
        compilation only)."""

@type_check_only
class Compiled(Generic[_R_co]):
    """A compiled :func:`filter_jit` function, callable with arguments of the same
    structure, shapes and static values as those it was lowered for."""

    def __call__(self, *args: Any, **kwargs: Any) -> _R_co: ...

@type_check_only
class _Jitted(Protocol[_P, _R_co]):
    """What :func:`filter_jit` returns: the function, compiled, with ``.lower``."""

    def __call__(self, *args: _P.args, **kwargs: _P.kwargs) -> _R_co: ...
    def lower(self, *args: _P.args, **kwargs: _P.kwargs) -> Lowered[_R_co]:
        """Lower for these arguments without running (ahead-of-time compilation)."""

@overload
def filter_jit(
    fun: Callable[_P, _R], *, donate: _Donate = "none", **jitkwargs: Any
) -> _Jitted[_P, _R]: ...
@overload
def filter_jit(
    *, donate: _Donate = "none", **jitkwargs: Any
) -> Callable[[Callable[_P, _R]], _Jitted[_P, _R]]:
    """Compile ``fun`` with XLA; array leaves of its inputs are traced, all else is static.

    Every JAX/NumPy array anywhere in the arguments (positional and keyword) and in
    ``fun`` itself (when it is a PyTree, e.g. ``model.__call__``) is traced. Every other
    leaf (Python numbers, strings, functions, static Module fields) is part of the
    compilation cache key: a new value compiles anew. Outputs may contain non-array
    leaves; they are returned as they were produced while tracing.

    In checking mode ``"eager"`` (default), the arguments are checked against ``fun``'s
    jaxtyping annotations and every Module inside them against its field annotations
    before dispatch, and the result against the return annotation after; passed checks
    are memoised by signature.

    **Arguments:**

    - ``fun``: the function to compile. Usable as ``@filter_jit`` or
      ``@filter_jit(donate=...)``.
    - ``donate``: which input buffers XLA may reuse for outputs: ``"none"`` (default),
      ``"all"``, ``"all-except-first"`` (all but the first positional argument's arrays),
      or ``"warn"``/``"warn-except-first"`` (the same, without silencing JAX's warning
      when a buffer could not be used).
    - ``**jitkwargs``: further options for the underlying ``jax.jit`` (``inline=True``,
      ``keep_unused=True``, ``device=...``...); which arguments are static or donated is
      decided as above, so ``static_argnums``/``donate_argnums`` and their ``*names``
      variants are refused.

    **Returns:** a function with the signature of ``fun``; ``.lower(*args, **kwargs)``
    lowers it ahead of time (``.lower(...).compile()`` compiles it).

    ```python
    @eqx.filter_jit
    def loss(model, x, y):
        return jnp.mean((jax.vmap(model)(x) - y) ** 2)
    ```
    """

# --- gradients -------------------------------------------------------------------------


# The gradient functions below are protocols covariant in the model type _M_co (their
# last type parameter). Each __call__ has two overloads: the first applies when _M_co is
# _Unannotated-compatible, i.e. Any (a closure's unannotated parameter), and gives the
# gradient the type of the argument passed; the second binds the model type through
# `self`, so the argument must be of the function's first parameter type.

@type_check_only
class _GradFn(Protocol[_GP, _M_co]):
    """``filter_grad(fun)``: the gradient has the type of the first argument (``fun``'s
    first parameter type, or the argument's own type when ``fun`` is a closure such as
    ``lambda m: loss(m, x, y)``)."""

    @overload
    def __call__(
        self: _GradFn[_GP, _Unannotated], model: _MA, /, *args: _GP.args, **kwargs: _GP.kwargs
    ) -> _MA: ...
    @overload
    def __call__(
        self: _GradFn[_GP, _MA], model: _MA, /, *args: _GP.args, **kwargs: _GP.kwargs
    ) -> _MA: ...

@type_check_only
class _GradAuxFn(Protocol[_GP, _GA_co, _M_co]):
    """``filter_grad(fun, has_aux=True)``: ``(grads, aux)``; see :class:`_GradFn`."""

    @overload
    def __call__(
        self: _GradAuxFn[_GP, _GA_co, _Unannotated],
        model: _MA,
        /,
        *args: _GP.args,
        **kwargs: _GP.kwargs,
    ) -> tuple[_MA, _GA_co]: ...
    @overload
    def __call__(
        self: _GradAuxFn[_GP, _GA_co, _MA], model: _MA, /, *args: _GP.args, **kwargs: _GP.kwargs
    ) -> tuple[_MA, _GA_co]: ...

@type_check_only
class _ValueGradFn(Protocol[_GP, _GS_co, _M_co]):
    """``filter_value_and_grad(fun)``: ``(value, grads)``; see :class:`_GradFn`."""

    @overload
    def __call__(
        self: _ValueGradFn[_GP, _GS_co, _Unannotated],
        model: _MA,
        /,
        *args: _GP.args,
        **kwargs: _GP.kwargs,
    ) -> tuple[_GS_co, _MA]: ...
    @overload
    def __call__(
        self: _ValueGradFn[_GP, _GS_co, _MA], model: _MA, /, *args: _GP.args, **kwargs: _GP.kwargs
    ) -> tuple[_GS_co, _MA]: ...

@type_check_only
class _ValueGradAuxFn(Protocol[_GP, _GS_co, _GA_co, _M_co]):
    """``filter_value_and_grad(fun, has_aux=True)``: ``((value, aux), grads)``."""

    @overload
    def __call__(
        self: _ValueGradAuxFn[_GP, _GS_co, _GA_co, _Unannotated],
        model: _MA,
        /,
        *args: _GP.args,
        **kwargs: _GP.kwargs,
    ) -> tuple[tuple[_GS_co, _GA_co], _MA]: ...
    @overload
    def __call__(
        self: _ValueGradAuxFn[_GP, _GS_co, _GA_co, _MA],
        model: _MA,
        /,
        *args: _GP.args,
        **kwargs: _GP.kwargs,
    ) -> tuple[tuple[_GS_co, _GA_co], _MA]: ...

@type_check_only
class _GradDecorator(Protocol):
    def __call__(self, fun: Callable[Concatenate[_M, _GP], ArrayLike], /) -> _GradFn[_GP, _M]: ...

@type_check_only
class _GradAuxDecorator(Protocol):
    def __call__(
        self, fun: Callable[Concatenate[_M, _GP], tuple[ArrayLike, _GA]], /
    ) -> _GradAuxFn[_GP, _GA, _M]: ...

@type_check_only
class _ValueAndGradDecorator(Protocol):
    def __call__(self, fun: Callable[Concatenate[_M, _GP], _GS], /) -> _ValueGradFn[_GP, _GS, _M]: ...

@type_check_only
class _ValueAndGradAuxDecorator(Protocol):
    def __call__(
        self, fun: Callable[Concatenate[_M, _GP], tuple[_GS, _GA]], /
    ) -> _ValueGradAuxFn[_GP, _GS, _GA, _M]: ...

@overload
def filter_grad(
    fun: Callable[Concatenate[_M, _GP], ArrayLike], *, has_aux: Literal[False] = False, **gradkwargs: Any
) -> _GradFn[_GP, _M]: ...
@overload
def filter_grad(
    fun: Callable[Concatenate[_M, _GP], tuple[ArrayLike, _GA]], *, has_aux: Literal[True], **gradkwargs: Any
) -> _GradAuxFn[_GP, _GA, _M]: ...
@overload
def filter_grad(*, has_aux: Literal[False] = False, **gradkwargs: Any) -> _GradDecorator: ...
@overload
def filter_grad(*, has_aux: Literal[True], **gradkwargs: Any) -> _GradAuxDecorator:
    """Gradient of a scalar function with respect to the inexact arrays of its first
    argument.

    The first positional argument may be any PyTree (a Module, a dict of arrays, ...).
    Every floating/complex array in it is differentiated; its other leaves, and all
    other arguments, are held constant. In checking mode ``"eager"`` the call is checked
    at the boundary like :func:`filter_jit`'s.

    **Arguments:**

    - ``fun``: returns a scalar (or ``(scalar, aux)`` with ``has_aux``). Usable as
      ``@filter_grad`` or ``@filter_grad(has_aux=True)``.
    - ``has_aux``: whether ``fun`` returns auxiliary data alongside the scalar.
    - ``**gradkwargs``: further options for ``jax.grad`` (``allow_int``,
      ``holomorphic``...); not ``argnums``.

    **Returns:** a function returning the gradient: a PyTree like the first argument,
    with ``None`` at leaves that were not differentiated; ``(grad, aux)`` with
    ``has_aux=True``.

    ```python
    grads = eqx.filter_grad(loss_fn)(model, x, y)   # grads.layers[0].weight, ...
    ```
    """

@overload
def filter_value_and_grad(
    fun: Callable[Concatenate[_M, _GP], _GS], *, has_aux: Literal[False] = False, **gradkwargs: Any
) -> _ValueGradFn[_GP, _GS, _M]: ...
@overload
def filter_value_and_grad(
    fun: Callable[Concatenate[_M, _GP], tuple[_GS, _GA]], *, has_aux: Literal[True], **gradkwargs: Any
) -> _ValueGradAuxFn[_GP, _GS, _GA, _M]: ...
@overload
def filter_value_and_grad(
    *, has_aux: Literal[False] = False, **gradkwargs: Any
) -> _ValueAndGradDecorator: ...
@overload
def filter_value_and_grad(
    *, has_aux: Literal[True], **gradkwargs: Any
) -> _ValueAndGradAuxDecorator:
    """Like :func:`filter_grad`, also returning the value.

    **Arguments:** as for :func:`filter_grad`.

    **Returns:** a function returning ``(value, grad)``, or ``((value, aux), grad)`` when
    ``has_aux=True``.

    ```python
    loss, grads = eqx.filter_value_and_grad(loss_fn)(model, x, y)
    ```
    """

# --- vectorisation and parallelism -----------------------------------------------------

@overload
def filter_vmap(
    fun: Callable[_P, _R],
    *,
    in_axes: Any = ...,
    out_axes: Any = ...,
    axis_name: Hashable = None,
    axis_size: int | None = None,
    **vmapkwargs: Any,
) -> Callable[_P, _R]: ...
@overload
def filter_vmap(
    *,
    in_axes: Any = ...,
    out_axes: Any = ...,
    axis_name: Hashable = None,
    axis_size: int | None = None,
    **vmapkwargs: Any,
) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
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

@overload
def filter_pmap(
    fun: Callable[_P, _R],
    *,
    in_axes: Any = ...,
    out_axes: Any = ...,
    axis_name: Hashable = None,
    axis_size: int | None = None,
    donate: _Donate = "none",
    devices: Sequence[Any] | None = None,
    backend: str | None = None,
    **pmapkwargs: Any,
) -> Callable[_P, _R]: ...
@overload
def filter_pmap(
    *,
    in_axes: Any = ...,
    out_axes: Any = ...,
    axis_name: Hashable = None,
    axis_size: int | None = None,
    donate: _Donate = "none",
    devices: Sequence[Any] | None = None,
    backend: str | None = None,
    **pmapkwargs: Any,
) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
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

# --- forward and reverse mode ----------------------------------------------------------

def filter_jvp(
    fn: Callable[..., _T], primals: Sequence[Any], tangents: Sequence[Any], **kwargs: Any
) -> tuple[_T, _T]:
    """Jacobian-vector product of ``fn`` for arbitrary PyTree inputs and outputs.

    **Arguments:**

    - ``fn``: the function; called as ``fn(*primals, **kwargs)``. It may return anything.
    - ``primals``: a sequence of positional arguments (any PyTrees).
    - ``tangents``: the same structure as ``primals``; at each leaf either a tangent (for
      floating-point arrays and Python floats/complexes) or ``None``, meaning a zero
      tangent. Every other kind of leaf must have ``None``. A ``None`` in place of a
      whole subtree (e.g. a Module) means zero tangents for all of it.
    - ``**kwargs``: keyword arguments for ``fn``; never differentiated.

    **Returns:** ``(out, tangent_out)`` where ``out = fn(*primals, **kwargs)`` and
    ``tangent_out`` has the structure of ``out`` with ``None`` wherever the tangent is
    zero by construction (non-floating leaves, or leaves independent of the tangents).

    ```python
    out, t_out = eqx.filter_jvp(lambda m, x: m(x), (model, x), (dmodel, None))
    ```
    """

@overload
def filter_vjp(
    fun: Callable[[_A1], _R], primal1: _A1, /, *, has_aux: Literal[False] = False
) -> tuple[_R, Callable[[_R], tuple[_A1]]]: ...
@overload
def filter_vjp(
    fun: Callable[[_A1, _A2], _R], primal1: _A1, primal2: _A2, /, *, has_aux: Literal[False] = False
) -> tuple[_R, Callable[[_R], tuple[_A1, _A2]]]: ...
@overload
def filter_vjp(
    fun: Callable[[_A1, _A2, _A3], _R],
    primal1: _A1,
    primal2: _A2,
    primal3: _A3,
    /,
    *,
    has_aux: Literal[False] = False,
) -> tuple[_R, Callable[[_R], tuple[_A1, _A2, _A3]]]: ...
@overload
def filter_vjp(
    fun: Callable[[_A1], tuple[_R, _A]], primal1: _A1, /, *, has_aux: Literal[True]
) -> tuple[_R, Callable[[_R], tuple[_A1]], _A]: ...
@overload
def filter_vjp(
    fun: Callable[[_A1, _A2], tuple[_R, _A]], primal1: _A1, primal2: _A2, /, *, has_aux: Literal[True]
) -> tuple[_R, Callable[[_R], tuple[_A1, _A2]], _A]: ...
@overload
def filter_vjp(
    fun: Callable[..., Any], *primals: Any, has_aux: bool = False
) -> tuple[Any, ...]:
    """Vector-Jacobian product of ``fun`` for arbitrary PyTree inputs and outputs.

    **Arguments:**

    - ``fun``: the function; called as ``fun(*primals)``; may return anything.
    - ``*primals``: the inputs. Floating-point arrays are differentiated; every other
      leaf is held fixed.
    - ``has_aux``: ``fun`` returns ``(out, aux)`` and only ``out`` is differentiated.

    **Returns:** ``(out, vjp_fn)``, or ``(out, vjp_fn, aux)`` with ``has_aux``.
    ``vjp_fn(cotangent)`` takes a tree shaped like ``out`` (arrays at floating-point
    outputs, ``None`` elsewhere) and returns a tuple shaped like ``primals`` with the
    cotangents at floating-point arrays and ``None`` at every other leaf.

    ```python
    out, vjp_fn = eqx.filter_vjp(lambda m, x: m(x), model, x)
    (dmodel, dx) = vjp_fn(jnp.ones_like(out))
    ```
    """

@overload
def filter_jacfwd(
    fun: Callable[Concatenate[Array, _P], Array], has_aux: Literal[False] = False
) -> Callable[Concatenate[Array, _P], Array]: ...
@overload
def filter_jacfwd(
    fun: Callable[Concatenate[Array, _P], tuple[Array, _A]], has_aux: Literal[True]
) -> Callable[Concatenate[Array, _P], tuple[Array, _A]]: ...
@overload
def filter_jacfwd(fun: Callable[_P, Any], has_aux: bool = False) -> Callable[_P, Any]:
    """Jacobian of ``fun`` with respect to the floating-point arrays of its first
    argument, by forward-mode AD.

    **Arguments:**

    - ``fun``: the function. Its first argument may be any PyTree (non-floating leaves
      are held fixed); its other arguments are not differentiated. Its output must be
      a PyTree of floating-point arrays.
    - ``has_aux``: ``fun`` returns ``(out, aux)``; ``aux`` may hold anything.

    **Returns:** a function with the arguments of ``fun`` returning the Jacobian (or
    ``(jacobian, aux)``). For each output leaf it holds a tree shaped like the first
    argument, with ``None`` at non-differentiated leaves.

    ```python
    jac = eqx.filter_jacfwd(lambda m, x: m(x))(model, x)
    jac.weight.shape  # out_shape + weight.shape
    ```
    """

@overload
def filter_jacrev(
    fun: Callable[Concatenate[Array, _P], Array], has_aux: Literal[False] = False
) -> Callable[Concatenate[Array, _P], Array]: ...
@overload
def filter_jacrev(
    fun: Callable[Concatenate[Array, _P], tuple[Array, _A]], has_aux: Literal[True]
) -> Callable[Concatenate[Array, _P], tuple[Array, _A]]: ...
@overload
def filter_jacrev(fun: Callable[_P, Any], has_aux: bool = False) -> Callable[_P, Any]:
    """As :func:`filter_jacfwd`, computed by reverse-mode AD (cheaper for few outputs).

    ```python
    jac = eqx.filter_jacrev(loss)(model, x, y)
    ```
    """

@overload
def filter_hessian(
    fun: Callable[Concatenate[Array, _P], ArrayLike], has_aux: Literal[False] = False
) -> Callable[Concatenate[Array, _P], Array]: ...
@overload
def filter_hessian(
    fun: Callable[Concatenate[Array, _P], tuple[ArrayLike, _A]], has_aux: Literal[True]
) -> Callable[Concatenate[Array, _P], tuple[Array, _A]]: ...
@overload
def filter_hessian(fun: Callable[_P, Any], has_aux: bool = False) -> Callable[_P, Any]:
    """Hessian of ``fun`` with respect to the floating-point arrays of its first argument
    (forward-over-reverse).

    **Arguments:** as for :func:`filter_jacfwd`.

    ```python
    h = eqx.filter_hessian(lambda x, c: jnp.sum(c * x**3))(x, c)
    ```
    """

# --- custom derivatives ----------------------------------------------------------------

_JvpRule: TypeAlias = Callable[[tuple[Any, ...], tuple[Any, ...]], tuple[_R, Any]]
"""``jvp(primals, tangents) -> (out, tangent_out)``, ``out`` of the function's output type."""

class filter_custom_jvp(Generic[_P, _R]):
    """A function with a custom JVP rule, for arbitrary PyTree arguments.

    Floating-point arrays in the positional arguments are differentiable; everything else
    is not, and neither are keyword arguments. The rule receives ``None`` as the tangent
    of every input that is not differentiated.

    **Arguments:**

    - ``fn``: the function, ``fn(*args, **kwargs)``. Its outputs should be arrays
      (other leaves are allowed and passed through).

    Define the rule with ``.def_jvp(jvp_fn)``, where
    ``jvp_fn(primals, tangents, **kwargs) -> (out, tangent_out)``: ``primals`` is the
    tuple of positional arguments, ``tangents`` has its structure (``None`` at
    non-differentiated leaves), and ``tangent_out`` has the structure of ``out`` with
    tangents at floating-point outputs (``None`` means zero).

    ```python
    @eqx.filter_custom_jvp
    def clip_grad(x, limit):
        return x

    @clip_grad.def_jvp
    def _(primals, tangents):
        (x, limit), (tx, _) = primals, tangents
        return x, jnp.clip(tx, -limit, limit)
    ```
    """

    fn: Callable[_P, _R]
    def __init__(self, fn: Callable[_P, _R]) -> None:
        """**Arguments:**

        - ``fn``: the function, ``fn(*args, **kwargs)``. Its outputs should be arrays
          (other leaves are allowed and passed through).
        """
    def def_jvp(self, jvp: _JvpRule[_R]) -> _JvpRule[_R]:
        """Register the rule ``fn_jvp(primals, tangents) -> (out, tangent_out)``; a rule
        whose ``out`` is not of the function's output type is a static error."""
    def __call__(self, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        """Call ``fn(*args, **kwargs)``; differentiating the call uses the JVP rule
        (define it with ``.def_jvp`` first, else ``RuntimeError``).
        """

# The rules' parameters after the differentiated argument are left gradual (`...`): the
# rules receive them positionally, so their names need not match the function's, which
# a ParamSpec would require.
_FwdRule: TypeAlias = Callable[Concatenate[Any, _A, ...], tuple[_R, Any]]
"""``fwd(perturbed, vjp_arg, *args, **kwargs) -> (out, residuals)``."""
_BwdRule: TypeAlias = Callable[Concatenate[Any, Any, Any, _A, ...], Any]
"""``bwd(residuals, grad_obj, perturbed, vjp_arg, *args, **kwargs) -> grad``."""

class filter_custom_vjp(Generic[_A, _P, _R]):
    """A function with a custom VJP rule, differentiable in its first argument only.

    **Arguments:**

    - ``fn``: the function, ``fn(vjp_arg, *args, **kwargs)``. ``vjp_arg`` may be any
      PyTree; its floating-point arrays are what gradients are computed for. ``args``
      and ``kwargs`` are never differentiated.

    Define the rule with two decorators:

    - ``.def_fwd(fwd)``: ``fwd(perturbed, vjp_arg, *args, **kwargs) -> (out, residuals)``
      where ``perturbed`` has the structure of ``vjp_arg`` with ``True`` at the leaves
      being differentiated and ``False`` elsewhere, and ``residuals`` is any PyTree
      (its arrays are kept for the backward pass).
    - ``.def_bwd(bwd)``: ``bwd(residuals, grad_obj, perturbed, vjp_arg, *args, **kwargs)``
      returning the gradient for ``vjp_arg``: its structure, with ``None`` allowed for
      zero gradients. ``grad_obj`` has the structure of ``out``, with ``None`` at leaves
      that receive no cotangent.

    ```python
    @eqx.filter_custom_vjp
    def scale(model, factor):
        return model.w * factor

    @scale.def_fwd
    def _(perturbed, model, factor):
        return model.w * factor, None

    @scale.def_bwd
    def _(residuals, grad_obj, perturbed, model, factor):
        return eqx.tree_at(lambda m: m.w, model, grad_obj * factor)
    ```
    """

    fn: Callable[Concatenate[_A, _P], _R]
    def __init__(self, fn: Callable[Concatenate[_A, _P], _R]) -> None:
        """**Arguments:**

        - ``fn``: the function, ``fn(vjp_arg, *args, **kwargs)``. ``vjp_arg`` may be any
          PyTree; its floating-point arrays are what gradients are computed for. ``args``
          and ``kwargs`` are never differentiated.
        """
    def def_fwd(self, fwd: _FwdRule[_A, _R]) -> _FwdRule[_A, _R]:
        """Register ``fwd(perturbed, vjp_arg, *args) -> (out, residuals)``; ``vjp_arg``
        and ``out`` must fit the function's first parameter and output types."""
    def def_bwd(self, bwd: _BwdRule[_A]) -> _BwdRule[_A]:
        """Register ``bwd(residuals, grad_out, perturbed, vjp_arg, *args) -> grad``,
        the cotangent of ``vjp_arg`` (which must fit the function's first parameter)."""
    @deprecated("filter_custom_vjp.defvjp is deprecated: use .def_fwd and .def_bwd")
    def defvjp(self, fwd: Callable[..., tuple[Any, Any]], bwd: Callable[..., Any]) -> None:
        """The older registration: ``fwd(vjp_arg, *args) -> (out, residuals)`` and
        ``bwd(residuals, grad_out, vjp_arg, *args) -> grad``."""
    def __call__(self, vjp_arg: _A, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        """Call ``fn(vjp_arg, *args, **kwargs)``; reverse-mode differentiation with respect
        to ``vjp_arg`` uses the rules (define both ``.def_fwd`` and ``.def_bwd`` first,
        else ``RuntimeError``).
        """

@overload
def filter_checkpoint(
    fun: Callable[_P, _R], *, prevent_cse: bool = True, policy: Callable[..., bool] | None = None
) -> Callable[_P, _R]: ...
@overload
def filter_checkpoint(
    *, prevent_cse: bool = True, policy: Callable[..., bool] | None = None
) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Like ``jax.checkpoint``, for functions of arbitrary PyTrees.

    Arrays in the arguments (and in ``fun`` itself, if it is a PyTree) are traced;
    everything else is static. The output may be any PyTree. Under reverse-mode AD the
    intermediate values of ``fun`` are recomputed on the backward pass instead of
    stored.

    **Arguments:**

    - ``fun``: the function. Omit it to get a decorator with the options below.
    - ``prevent_cse``: stop XLA from merging the recomputation with the forward pass
      (as in ``jax.checkpoint``; usually keep ``True`` outside ``scan``).
    - ``policy``: which intermediates may be saved after all, e.g.
      ``jax.checkpoint_policies.dots_saveable``.

    ```python
    @eqx.filter_checkpoint(policy=jax.checkpoint_policies.nothing_saveable)
    def block(model, x):
        return model(x)
    ```
    """

# --- program transformations -----------------------------------------------------------

@type_check_only
class _ClosureConverted(Protocol[_P, _R_co]):
    """What :func:`filter_closure_convert` returns: ``fn`` with its signature, plus the
    structures it was converted for."""

    @property
    def in_struct(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The example ``(args, kwargs)``, arrays as ``jax.ShapeDtypeStruct``."""
    @property
    def out_struct(self) -> Any:
        """The output, arrays as ``jax.ShapeDtypeStruct``."""
    def __call__(self, *args: _P.args, **kwargs: _P.kwargs) -> _R_co: ...

def filter_closure_convert(
    fn: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs
) -> _ClosureConverted[_P, _R]:
    """Trace ``fn`` once and return it as a PyTree whose leaves include every array
    ``fn`` closes over.

    Closed-over tracers (from an enclosing ``jit``/``grad``/``vmap``) become explicit
    leaves, so the result can be passed across a boundary (``jax.custom_vjp``,
    ``filter_grad``, ...) that would otherwise not see them.

    **Arguments:**

    - ``fn``: the function, called as ``fn(*args, **kwargs)``.
    - ``*args``, ``**kwargs``: example arguments. Arrays (and ``jax.ShapeDtypeStruct``)
      only give shapes and dtypes; everything else (Python numbers included) is baked
      into the result as a constant.

    **Returns:** a callable Module taking arguments of the same structure, shapes and
    dtypes; its ``consts`` field lists the captured arrays, and ``in_struct``/
    ``out_struct`` describe its ``(args, kwargs)`` and its output (arrays as
    ``jax.ShapeDtypeStruct``, other leaves as they are).

    ```python
    def loss(x, y):
        z = x * y
        g = eqx.filter_closure_convert(lambda a: z + a, x)
        return g.consts  # [z]
    ```
    """

def filter_make_jaxpr(
    fun: Callable[_P, Any],
) -> Callable[_P, tuple[ClosedJaxpr, Any, Any]]:
    """Like ``jax.make_jaxpr``, for arbitrary PyTree inputs and outputs.

    Arguments with ``.shape`` and ``.dtype`` (arrays, ``jax.ShapeDtypeStruct``) become
    inputs of the jaxpr, in flattening order; everything else, Python numbers
    included, is static. ``fun`` itself may be a PyTree (e.g. a Module).

    **Arguments:**

    - ``fun``: the function to trace.

    **Returns:** a function that, called with example ``*args, **kwargs``, returns
    ``(closed_jaxpr, out_shapes, out_static)``: the jaxpr, the output with its arrays
    replaced by ``jax.ShapeDtypeStruct`` (``None`` elsewhere), and the output's
    non-array part (``None`` at the arrays).

    ```python
    jaxpr, shapes, static = eqx.filter_make_jaxpr(model)(jnp.zeros(3))
    ```
    """

def filter_eval_shape(fun: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
    """Like ``jax.eval_shape``, for arbitrary PyTree inputs and outputs.

    Runs ``fun(*args, **kwargs)`` abstractly: arrays (and ``jax.ShapeDtypeStruct``) are
    traced, so no array is computed or allocated; everything else is passed as is.

    **Arguments:**

    - ``fun``: the function (or Module class, or any PyTree callable).
    - ``*args``, ``**kwargs``: its arguments.

    **Returns:** the output of ``fun`` with every array replaced by a
    ``jax.ShapeDtypeStruct``; non-array leaves are returned unchanged.

    ```python
    # The parameter shapes of a model, without allocating its parameters.
    shapes = eqx.filter_eval_shape(eqx.nn.Linear, 3, 4, key=jax.random.key(0))
    ```
    """

def filter_shard(x: _T, device_or_shardings: Any) -> _T:
    """Put the arrays of ``x`` on a device or sharding; leave every other leaf alone.

    Outside ``jit`` this moves the data (``jax.device_put``); inside it constrains how
    the traced values are laid out (``jax.lax.with_sharding_constraint``).

    **Arguments:**

    - ``x``: any PyTree.
    - ``device_or_shardings``: a ``jax.Device``, a ``jax.sharding.Sharding``, or a
      PyTree of those that is a prefix of ``x`` (each applies to the whole subtree under
      it; ``None`` leaves a subtree as it is).

    **Returns:** ``x`` with its arrays placed accordingly.

    ```python
    mesh = jax.make_mesh((8,), ("batch",))
    batch = eqx.filter_shard(batch, NamedSharding(mesh, P("batch")))
    model = eqx.filter_shard(model, NamedSharding(mesh, P()))  # replicated
    ```
    """

def filter_pure_callback(
    callback: Callable[..., Any],
    *args: Any,
    result_shape_dtypes: Any,
    sharding: jax.sharding.SingleDeviceSharding | None = None,
    vmap_method: _VmapMethod | None = None,
    **kwargs: Any,
) -> Any:
    """Like ``jax.pure_callback``, for arbitrary PyTree arguments and results.

    Arrays in ``args``/``kwargs`` (and in ``callback``, if it is a PyTree) are passed to
    the host as NumPy arrays; every other leaf is passed to ``callback`` unchanged.

    **Arguments:**

    - ``callback``: a pure Python function, called as ``callback(*args, **kwargs)``.
    - ``*args``, ``**kwargs``: its arguments.
    - ``result_shape_dtypes``: a PyTree describing the result: ``jax.ShapeDtypeStruct``
      (or an example array) where the result has an array, and the exact value
      elsewhere (returned as is; the callback must return the same).
    - ``sharding``, ``vmap_method``: as for ``jax.pure_callback``.

    **Returns:** the callback's result, its arrays as JAX arrays (or tracers).

    ```python
    def host_fn(x, mode):
        return {"y": np.sort(x) if mode == "sort" else x, "mode": mode}

    out = eqx.filter_pure_callback(
        host_fn, x, "sort",
        result_shape_dtypes={"y": jax.ShapeDtypeStruct(x.shape, x.dtype), "mode": "sort"},
    )
    ```
    """

# --- Equinox's legacy names --------------------------------------------------------------

def jitf(
    fun: Callable[_P, _R],
    *,
    filter_fn: Callable[[Any], bool] | None = None,
    filter_tree: Any = None,
    **jit_kwargs: Any,
) -> Callable[_P, _R]:
    """``jax.jit`` where the leaves selected by the filter are traced and the others
    static. Prefer :func:`~equinox_typed.filter_jit`.

    **Arguments:**

    - ``fun``: the function to compile (positional arguments only).
    - ``filter_fn``: ``leaf -> bool``; True means traced. E.g. ``eqx.is_array``.
    - ``filter_tree``: alternatively, a PyTree of bools with the structure of the
      positional arguments (a tuple, or the single argument itself).
    - ``**jit_kwargs``: passed to ``jax.jit``.

    ```python
    f = eqx.jitf(loss, filter_fn=eqx.is_array)
    ```
    """

def gradf(
    fun: Callable[_P, Any],
    *,
    filter_fn: Callable[[Any], bool] | None = None,
    filter_tree: Any = None,
    has_aux: bool = False,
    **gradkwargs: Any,
) -> Callable[_P, Any]:
    """``jax.grad`` with respect to the leaves of the *first* argument that the filter
    selects. Prefer :func:`~equinox_typed.filter_grad`.

    **Arguments:**

    - ``fun``: scalar function (``(scalar, aux)`` with ``has_aux``).
    - ``filter_fn``: ``leaf -> bool``; True means differentiated. E.g.
      ``eqx.is_inexact_array``.
    - ``filter_tree``: alternatively, a PyTree of bools with the structure of the first
      argument (or of the tuple of all positional arguments).
    - ``has_aux``, ``**gradkwargs``: passed to ``jax.grad``.

    ```python
    grads = eqx.gradf(loss, filter_fn=eqx.is_inexact_array)(model, x, y)
    ```
    """

def value_and_grad_f(
    fun: Callable[_P, Any],
    *,
    filter_fn: Callable[[Any], bool] | None = None,
    filter_tree: Any = None,
    has_aux: bool = False,
    **gradkwargs: Any,
) -> Callable[_P, tuple[Any, Any]]:
    """``jax.value_and_grad`` with respect to the leaves of the *first* argument that the
    filter selects. Prefer :func:`~equinox_typed.filter_value_and_grad`.

    **Arguments:** as for :func:`gradf`.

    **Returns:** a function returning ``(value, grad)`` (``((value, aux), grad)`` with
    ``has_aux``); ``grad`` has the first argument's structure, None where not selected.
    """

# ================================================================================
# Checkpoints
# =======================================================================================

@type_check_only
class _SupportsWrite(Protocol):
    def write(self, data: bytes, /) -> object: ...

@type_check_only
class _SupportsReadSeek(Protocol):
    def read(self, size: int = ..., /) -> bytes: ...
    def seek(self, offset: int, whence: int = ..., /) -> object: ...

class CheckpointError(RuntimeError):
    """A checkpoint does not match the tree it is loaded into, or is unreadable.

    ``difference`` holds the first :class:`CheckpointDifference` found.
    """

    difference: Any
    def __init__(self, difference: Any, source: str) -> None:
        """A checkpoint does not match the tree it is loaded into, or is unreadable."""

def default_serialise_filter_spec(f: _SupportsWrite, x: Any) -> None:
    """Write leaf ``x`` to ``f`` if it is an array: JAX arrays, NumPy arrays and scalars,
    and Python ``bool``/``int``/``float``/``complex`` become one ``.npy`` record each;
    anything else (functions, strings, ``ShapeDtypeStruct``...) is not saved.

    - ``f``: the open binary file.
    - ``x``: the leaf.

    Build your own spec on top of it, e.g. to skip one kind of leaf:

    ```python
    def skip_numpy(f, x):
        if not isinstance(x, np.ndarray):
            eqx.default_serialise_filter_spec(f, x)
    ```
    """

def default_deserialise_filter_spec(f: _SupportsReadSeek, x: Any) -> Any:
    """Read the record for leaf ``x`` of ``like`` from ``f`` and return the loaded leaf.

    JAX arrays and ``jax.ShapeDtypeStruct`` become JAX arrays, NumPy arrays and scalars
    stay NumPy, Python scalars keep their type; other leaves read nothing and are
    returned as they are. The record must have the leaf's shape and dtype (Python
    scalars accept any dtype that casts to theirs within its kind, e.g. ``int`` into
    ``float``); otherwise :class:`CheckpointError` names the leaf. Nothing is unpickled.

    - ``f``: the open binary file, positioned at the record.
    - ``x``: the leaf of ``like``.

    ```python
    def keep_numpy(f, x):  # NumPy leaves keep their value from `like`
        return x if isinstance(x, np.ndarray) else eqx.default_deserialise_filter_spec(f, x)
    ```
    """

def tree_serialise_leaves(
    path_or_file: str | os.PathLike[str] | _SupportsWrite,
    pytree: Any,
    filter_spec: Any = ...,
    is_leaf: Callable[[Any], bool] | None = None,
) -> None:
    """Save the leaves of ``pytree`` (a model, an optimiser state...) to a file.

    - ``path_or_file``: a path (``".eqx"`` is appended when it has no suffix) or a
      binary file object open for writing. A path is written atomically: to a temporary
      file in the same directory, flushed and synced, then renamed over the target, so
      an interrupted save never replaces a good checkpoint with a partial one.
    - ``pytree``: the PyTree whose leaves are saved, depth-first.
    - ``filter_spec``: how each leaf is saved, a function ``(file, leaf) -> None``
      (default :func:`default_serialise_filter_spec`: arrays and Python scalars), or a
      PyTree prefix of ``pytree`` holding such functions.
    - ``is_leaf``: optional; nodes for which it returns ``True`` are treated as leaves.

    ```python
    model = eqx.nn.MLP(2, 2, 8, 2, key=jax.random.key(0))
    eqx.tree_serialise_leaves("model.eqx", model)
    ```
    """

def tree_deserialise_leaves(
    path_or_file: str | os.PathLike[str] | _SupportsReadSeek,
    like: _T,
    filter_spec: Any = ...,
    is_leaf: Callable[[Any], bool] | None = None,
) -> _T:
    """Load a PyTree saved by :func:`tree_serialise_leaves` (or by Equinox's).

    - ``path_or_file``: a path (``".eqx"`` is appended when it has no suffix) or a
      binary file object open for reading, positioned at the first record.
    - ``like``: a PyTree of the same structure; its array leaves are replaced by the
      loaded ones, which must match their shape and dtype. It may be abstract, e.g.
      ``eqx.filter_eval_shape(Model, ...)``, so that no memory is spent on throwaway
      parameters.
    - ``filter_spec``: how each leaf is loaded, a function ``(file, leaf) -> new_leaf``
      (default :func:`default_deserialise_filter_spec`), or a PyTree prefix of ``like``
      holding such functions.
    - ``is_leaf``: optional; nodes for which it returns ``True`` are treated as leaves.

    Returns the loaded tree, or raises :class:`CheckpointError` naming the first leaf
    that differs (missing, shape, dtype, corrupt; for a path, also records left over
    after the last leaf); nothing partially loaded is ever returned.

    ```python
    skeleton = eqx.filter_eval_shape(eqx.nn.MLP, 2, 2, 8, 2, key=jax.random.key(0))
    model = eqx.tree_deserialise_leaves("model.eqx", skeleton)
    ```
    """

# =======================================================================================
# Runtime errors
# =======================================================================================

_OnError: TypeAlias = Literal["default", "raise", "breakpoint", "nan", "off"]

class EquinoxRuntimeError(RuntimeError):
    """Raised when the predicate of :func:`error_if` is true while the program runs.

    The message is the one given to ``error_if``, followed by the place in your code
    where that ``error_if`` was called.
    """

class EquinoxTracetimeError(RuntimeError):
    """Raised by :func:`error_if` when its predicate is a Python ``bool`` that is
    already ``True`` while tracing (no need to wait for run time).
    """

def error_if(x: _T, pred: ArrayLike, msg: str, *, on_error: _OnError = "default") -> _T:
    """Return ``x``, raising ``msg`` when ``pred`` is true -- checked while the program
    runs, so it works inside ``jit``, ``filter_jit``, ``vmap``, ``grad``, ``jvp`` and
    ``scan``.

    - ``x``: any PyTree containing at least one array; returned unchanged. The check is
      tied to it: it runs after ``x`` is computed, and only if the returned value is
      used (an unused result is removed as dead code, check included).
    - ``pred``: a boolean (array): the error is raised if any element is ``True``
      (under ``vmap``, if it is ``True`` for any batch element).
    - ``msg``: the error message.
    - ``on_error``: ``"default"`` follows the environment variable ``EQX_ON_ERROR``
      (read at import): ``raise`` (default) raises :class:`EquinoxRuntimeError`,
      ``breakpoint`` opens a debugger (``EQX_ON_ERROR_BREAKPOINT_FRAMES`` frames),
      ``nan`` returns ``x`` filled with NaN (largest integer, ``True``) and carries on,
      ``off`` skips the check.

    The error names the line that called ``error_if``. Through ``filter_jit`` (or
    outside ``jit``) it is an :class:`EquinoxRuntimeError`; under a bare ``jax.jit``,
    JAX's own runtime error carrying the same text. A predicate that is a Python
    ``bool`` is decided while tracing and raises :class:`EquinoxTracetimeError`.

    ```python
    @eqx.filter_jit
    def safe_log(x):
        x = eqx.error_if(x, x <= 0, "log of a non-positive number")
        return jnp.log(x)
    ```
    """

def branched_error_if(
    x: _T,
    pred: ArrayLike,
    index: ArrayLike,
    msgs: Sequence[str],
    *,
    on_error: _OnError = "default",
) -> _T:
    """As :func:`error_if`, choosing the message ``msgs[index]``.

    - ``x``, ``pred``, ``on_error``: as for :func:`error_if`.
    - ``index``: an integer (array) selecting the message. Under ``vmap`` the largest
      index across the batch is used.
    - ``msgs``: the messages.

    ```python
    x = eqx.branched_error_if(x, x < 0, jnp.where(x < -10, 1, 0), ["negative", "very negative"])
    ```
    """

@type_check_only
class _EnumerationMeta(type):
    def __getitem__(cls, item: Any) -> str: ...
    def __len__(cls) -> int: ...

class Enumeration(metaclass=_EnumerationMeta):
    """Enums for JAX: each item is a PyTree holding an integer array, so it can cross
    ``jit``, be chosen with :meth:`where` and be raised with ``item.error_if``.

    Declare items as class attributes holding their messages; look them up on the class:

    ```python
    class RESULTS(eqx.Enumeration):
        success = ""
        diverged = "the solver diverged"

    result = RESULTS.where(residual < tol, RESULTS.success, RESULTS.diverged)
    x = result.error_if(x, result != RESULTS.success)
    RESULTS[result]           # the message, e.g. "the solver diverged"
    ```

    Items compare (``==``, ``!=``, giving a boolean array) only with items of the same
    enumeration. A subclass holds its parents' items plus its own; convert a parent's
    item with :meth:`promote`.
    """

    @classmethod
    def promote(cls, item: Any) -> Any:
        """``item``, from an ancestor enumeration, as the same item of this one."""

    @classmethod
    def where(cls, pred: ArrayLike, a: _T, b: _T) -> _T:
        """``a`` where the scalar boolean ``pred`` is true, else ``b``."""

# =======================================================================================
# Caches
# =======================================================================================

def clear_caches() -> None:
    """Empty every cache: compiled programs (``filter_jit`` and all of JAX's, through
    ``jax.clear_caches``), memos of passed checks, the per-class and per-method check
    plans and the annotations as rewritten for matching, which are rebuilt on next use. Useful in long-running sessions
    (notebooks) to release memory; the next call of each function compiles and checks
    afresh.

    ```python
    eqx.clear_caches()
    ```
    """
# Auditing (runtime: _audit.py).

def audit(
    tree_or_factory: Any,
    *,
    inputs: Any = None,
    checkpoint: str | os.PathLike[str] | _SupportsReadSeek | None = None,
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
