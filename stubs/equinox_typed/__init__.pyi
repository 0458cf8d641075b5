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

    Also a ``jaxtyping.TypeCheckError``, so existing handlers for either keep working.
    """

class TypeCheckWarning(UserWarning):
    """Issued instead of raising ``TypeCheckError`` in checking mode ``"warn"``, once
    per distinct violation, with the same message."""

def get_checks() -> CheckMode:
    """The check mode in force in this thread/task: ``"off"``, ``"eager"`` (default) or
    ``"always"``."""

def set_checks(mode: CheckMode) -> CheckMode:
    """Set the process-wide default check mode; returns the previous default."""

def checks(
    mode: CheckMode | None = None, *, typechecker: _TypeCheckerName | None = None
) -> AbstractContextManager[None]:
    """Context manager: run the enclosed block under check mode ``mode`` and/or backend
    ``typechecker`` (None keeps the current one), in the current thread/task only.

    ```python
    with eqx.checks("off"):
        model = build()
    ```
    """

def get_typechecker() -> _TypeCheckerName:
    """The runtime checking backend in force in this thread/task (``"beartype"`` or
    ``"typeguard"``)."""

def set_typechecker(name: _TypeCheckerName) -> _TypeCheckerName:
    """Set the process-wide default checking backend; returns the previous default."""

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
    """Declare a Module field with options, like :func:`dataclasses.field`.

    ``static=True`` stores the value in the tree structure instead of as a leaf (it must
    be hashable; transformations treat it as a constant). ``converter`` is applied to
    the value at the end of ``__init__``.

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
    """Base class of models: a dataclass that is also a JAX PyTree, immutable after
    ``__init__``.

    Declare fields as annotations (jaxtyping annotations on arrays are checked at the end
    of construction). Either let the dataclass ``__init__`` be generated, or write your
    own that assigns every field with ``self.x = ...``. Class options: ``strict=True``
    (array fields must state shape and dtype), ``kw_only=True``, and ``frozen=True``,
    which changes nothing at run time (Modules are always immutable after ``__init__``)
    but lets static checkers reject assignments to fields; it suits Modules using the
    generated ``__init__`` (a hand-written one assigns fields, which checkers would then
    reject too). ``frozen=False`` is refused at run time.

    ```python
    class Linear(eqx.Module):
        weight: Float[Array, "out in"]
        bias: Float[Array, "out"]

        def __call__(self, x: Float[Array, "in"]) -> Float[Array, "out"]:
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
    """A method bound to a Module instance, itself a Module (a PyTree whose leaves are
    the instance's), so that transformations trace the instance's arrays."""

    __func__: Callable[..., Any]
    __self__: Module
    def __call__(self, *args: Any, **kwargs: Any) -> Any: ...
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
    """The old spelling of ``field(static=True, ...)``; warns ``DeprecationWarning``."""

def StrictConfig(force_abstract: bool = False, **kwargs: Any) -> Literal[False] | None:
    """Equinox's old ``strict=`` configuration for Module classes; accepted for
    compatibility, it leaves this library's own ``strict`` option off."""

_MW = TypeVar("_MW", bound=Module)

def module_update_wrapper(wrapper: _MW, wrapped: Callable[..., Any] | None = None) -> _MW:
    """A copy of the Module ``wrapper`` showing the name, docstring and annotations of
    ``wrapped`` (default ``wrapper.__wrapped__``), like ``functools.update_wrapper``."""

def tree_inference(pytree: _T, value: bool = True) -> _T:
    """Equinox's older name of :func:`equinox_typed.nn.inference_mode`."""

# =======================================================================================
# Filters
# =======================================================================================

def is_array(element: Any) -> bool:
    """Whether ``element`` is a JAX or NumPy array (Python scalars are not)."""

def is_array_like(element: Any) -> bool:
    """Whether ``element`` can be turned into an array (arrays and Python scalars)."""

def is_inexact_array(element: Any) -> bool:
    """Whether ``element`` is a floating or complex JAX/NumPy array."""

def is_inexact_array_like(element: Any) -> bool:
    """Like :func:`is_inexact_array`, also accepting Python ``float``/``complex``."""

class if_array:
    """``if_array(axis)(x)`` is ``axis`` for array leaves and ``None`` otherwise: the
    default ``in_axes`` of :func:`filter_vmap`."""

    axis: int
    def __init__(self, axis: int) -> None: ...
    def __call__(self, x: Any) -> int | None: ...

def filter(
    pytree: _T,
    filter_spec: _FilterSpec,
    inverse: bool = False,
    replace: Any = None,
    is_leaf: Callable[[Any], bool] | None = None,
) -> _T:
    """Keep the leaves selected by ``filter_spec`` and put ``replace`` (default ``None``)
    in place of the others. The result has the type of ``pytree``.

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
    """Split ``pytree`` into ``(selected, rest)``, both of the type of ``pytree``;
    :func:`combine` joins them again.

    ```python
    params, static = eqx.partition(model, eqx.is_array)
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
    """Merge trees of one structure: at each leaf, the first value that is not ``None``.
    The result has the type of the first tree (of the second if the first is ``Any``).

    ```python
    model = eqx.combine(params, static)
    ```
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
    """A copy of ``pytree`` with the node(s) picked out by ``where`` replaced (by
    ``replace``, or by ``replace_fn(node)``). The result has the type of ``pytree``.

    ```python
    model = eqx.tree_at(lambda m: m.linear.bias, model, jnp.zeros(3))
    ```
    """

def tree_equal(
    *pytrees: Any, typematch: bool = False, rtol: float = 0.0, atol: float = 0.0
) -> bool | Array:
    """Whether the trees have equal structure and leaves: a Python ``bool``, or a scalar
    boolean array when the answer depends on traced values."""

def apply_updates(model: _T, updates: Any) -> _T:
    """``model + updates`` leaf by leaf, skipping ``None`` updates (e.g. from optax).
    The result has the type of ``model``."""

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
    """Flatten only the root node: its direct children and the treedef."""

def tree_check(pytree: Any) -> None:
    """Raise ``ValueError`` if ``pytree`` contains a cycle or a duplicated Module."""

class Partial(Generic[_R_co]):
    """A ``functools.partial`` that is a PyTree: the bound arguments are its leaves.

    ```python
    scale = eqx.Partial(jnp.multiply, jnp.array(3.0))
    ```
    """

    func: Callable[..., _R_co]
    args: tuple[Any, ...]
    keywords: dict[str, Any]
    def __init__(self, func: Callable[..., _R_co], /, *args: Any, **kwargs: Any) -> None: ...
    def __call__(self, *args: Any, **kwargs: Any) -> _R_co: ...

def tree_pformat(
    pytree: Any,
    *,
    width: int = 80,
    indent: int = 2,
    short_arrays: bool = True,
    struct_as_array: bool = False,
    truncate_leaf: Callable[[Any], bool] = ...,
) -> str:
    """A readable multi-line string for a PyTree (arrays shown as ``f32[3,4]``)."""

def tree_pprint(
    pytree: Any,
    *,
    width: int = 80,
    indent: int = 2,
    short_arrays: bool = True,
    struct_as_array: bool = False,
    truncate_leaf: Callable[[Any], bool] = ...,
) -> None:
    """Print :func:`tree_pformat` of ``pytree``."""

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
    """Compile ``fun``: array leaves of the arguments are traced, everything else is
    static (part of the compilation cache key). Keeps ``fun``'s signature.

    ```python
    @eqx.filter_jit
    def loss(model: MLP, x: Array) -> Array: ...

    step = eqx.filter_jit(donate="all")(step)
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
    """Gradient of a scalar function with respect to the inexact-array leaves of its
    FIRST argument (other leaves get ``None``). The gradient has the type of that
    argument; with ``has_aux=True`` the function returns ``(loss, aux)`` and the
    gradient function returns ``(grads, aux)``.

    ```python
    grads: MLP = eqx.filter_grad(loss)(model, x, y)
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
    """Like :func:`filter_grad`, also returning the value: ``(loss, grads)``, or
    ``((loss, aux), grads)`` with ``has_aux=True``.

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
    """Vectorise ``fun`` over a batch axis. ``in_axes``/``out_axes`` are prefix trees of
    axis specs (an int, ``None`` to broadcast, or a function ``leaf -> int | None``);
    the default maps every array over axis 0. Keeps ``fun``'s signature; a Module
    instance can be passed as ``fun`` (its ``__call__`` is vectorised).

    ```python
    ys = eqx.filter_vmap(model)(xs)
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
    """Like :func:`filter_vmap`, mapping over devices (compiled per device)."""

# --- forward and reverse mode ----------------------------------------------------------

def filter_jvp(
    fn: Callable[..., _T], primals: Sequence[Any], tangents: Sequence[Any], **kwargs: Any
) -> tuple[_T, _T]:
    """Jacobian-vector product: ``(fn(*primals), tangent of the output)``; the output
    tangent has the structure (and type) of the output. Non-array primals are static.
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
    """Vector-Jacobian product: ``(out, vjp_fn)`` (``(out, vjp_fn, aux)`` with
    ``has_aux=True``), where ``vjp_fn(cotangent)`` returns one cotangent per primal,
    each of that primal's type. Non-array primals get ``None`` cotangents.
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
    """Jacobian (forward mode) with respect to the array leaves of the first argument.
    For an array-to-array function the Jacobian is an array; for PyTrees it is a
    PyTree of PyTrees (typed ``Any``).
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
    """Jacobian (reverse mode) with respect to the array leaves of the first argument;
    typed as :func:`filter_jacfwd`."""

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
    """Hessian of a scalar function with respect to the first argument's array leaves."""

# --- custom derivatives ----------------------------------------------------------------

_JvpRule: TypeAlias = Callable[[tuple[Any, ...], tuple[Any, ...]], tuple[_R, Any]]
"""``jvp(primals, tangents) -> (out, tangent_out)``, ``out`` of the function's output type."""

class filter_custom_jvp(Generic[_P, _R]):
    """Give ``fn`` a custom Jacobian-vector product rule.

    ```python
    @eqx.filter_custom_jvp
    def f(x, y): ...

    @f.def_jvp
    def f_jvp(primals, tangents): return f(*primals), tangent_out
    ```
    """

    fn: Callable[_P, _R]
    def __init__(self, fn: Callable[_P, _R]) -> None: ...
    def def_jvp(self, jvp: _JvpRule[_R]) -> _JvpRule[_R]:
        """Register the rule ``fn_jvp(primals, tangents) -> (out, tangent_out)``; a rule
        whose ``out`` is not of the function's output type is a static error."""
    def __call__(self, *args: _P.args, **kwargs: _P.kwargs) -> _R: ...

# The rules' parameters after the differentiated argument are left gradual (`...`): the
# rules receive them positionally, so their names need not match the function's, which
# a ParamSpec would require.
_FwdRule: TypeAlias = Callable[Concatenate[Any, _A, ...], tuple[_R, Any]]
"""``fwd(perturbed, vjp_arg, *args, **kwargs) -> (out, residuals)``."""
_BwdRule: TypeAlias = Callable[Concatenate[Any, Any, Any, _A, ...], Any]
"""``bwd(residuals, grad_obj, perturbed, vjp_arg, *args, **kwargs) -> grad``."""

class filter_custom_vjp(Generic[_A, _P, _R]):
    """Give ``fn(vjp_arg, *args)`` a custom vector-Jacobian product rule with respect to
    its first argument ``vjp_arg``; set the rule with ``def_fwd`` and ``def_bwd``.

    ```python
    @eqx.filter_custom_vjp
    def f(vjp_arg, x): ...

    @f.def_fwd
    def f_fwd(perturbed, vjp_arg, x): return out, residuals

    @f.def_bwd
    def f_bwd(residuals, grad_out, perturbed, vjp_arg, x): return grad_vjp_arg
    ```
    """

    fn: Callable[Concatenate[_A, _P], _R]
    def __init__(self, fn: Callable[Concatenate[_A, _P], _R]) -> None: ...
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
    def __call__(self, vjp_arg: _A, /, *args: _P.args, **kwargs: _P.kwargs) -> _R: ...

@overload
def filter_checkpoint(
    fun: Callable[_P, _R], *, prevent_cse: bool = True, policy: Callable[..., bool] | None = None
) -> Callable[_P, _R]: ...
@overload
def filter_checkpoint(
    *, prevent_cse: bool = True, policy: Callable[..., bool] | None = None
) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Rematerialise ``fun``'s intermediates in the backward pass instead of storing
    them (gradient checkpointing). Keeps ``fun``'s signature."""

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
    """Make the arrays ``fn`` closes over into explicit inputs, tracing ``fn`` with the
    example arguments; the result is a PyTree with ``fn``'s signature."""

def filter_make_jaxpr(
    fun: Callable[_P, Any],
) -> Callable[_P, tuple[ClosedJaxpr, Any, Any]]:
    """``filter_make_jaxpr(f)(*args)`` is ``(jaxpr, out_shapes, out_static)``: the
    program for the array inputs, the output ``ShapeDtypeStruct`` tree, and the
    non-array part of the output."""

def filter_eval_shape(fun: Callable[_P, _R], *args: _P.args, **kwargs: _P.kwargs) -> _R:
    """Trace ``fun`` without computing: arrays in the result are ``jax.ShapeDtypeStruct``
    (typed as the result of ``fun``, for attribute access such as ``.shape``)."""

def filter_shard(x: _T, device_or_shardings: Any) -> _T:
    """Place the array leaves of ``x`` on a ``jax.Device`` or with a ``jax.sharding.Sharding``
    (or a prefix tree of them). The result has the type of ``x``."""

def filter_pure_callback(
    callback: Callable[..., Any],
    *args: Any,
    result_shape_dtypes: Any,
    sharding: jax.sharding.SingleDeviceSharding | None = None,
    vmap_method: str | None = None,
    **kwargs: Any,
) -> Any:
    """Call Python ``callback`` from traced code; the output matches the tree of
    ``jax.ShapeDtypeStruct`` in ``result_shape_dtypes``."""

# --- Equinox's legacy names --------------------------------------------------------------

def jitf(
    fun: Callable[_P, _R],
    *,
    filter_fn: Callable[[Any], bool] | None = None,
    filter_tree: Any = None,
    **jit_kwargs: Any,
) -> Callable[_P, _R]:
    """Legacy: ``jax.jit`` treating the leaves selected by ``filter_fn``/``filter_tree``
    as traced and the rest as static. Prefer :func:`filter_jit`."""

def gradf(
    fun: Callable[_P, Any],
    *,
    filter_fn: Callable[[Any], bool] | None = None,
    filter_tree: Any = None,
    has_aux: bool = False,
    **gradkwargs: Any,
) -> Callable[_P, Any]:
    """Legacy: gradient with respect to the leaves selected by ``filter_fn`` or
    ``filter_tree`` across all arguments. Prefer :func:`filter_grad`."""

def value_and_grad_f(
    fun: Callable[_P, Any],
    *,
    filter_fn: Callable[[Any], bool] | None = None,
    filter_tree: Any = None,
    has_aux: bool = False,
    **gradkwargs: Any,
) -> Callable[_P, tuple[Any, Any]]:
    """Legacy: ``(value, grads)`` version of :func:`gradf`. Prefer
    :func:`filter_value_and_grad`."""

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
    """A checkpoint does not match the tree it is loaded into, or is unreadable;
    ``difference`` describes the first leaf that differs."""

    difference: Any
    def __init__(self, difference: Any, source: str) -> None: ...

def default_serialise_filter_spec(f: _SupportsWrite, x: Any) -> None:
    """Write leaf ``x`` as one ``.npy`` record if it is an array or Python scalar."""

def default_deserialise_filter_spec(f: _SupportsReadSeek, x: Any) -> Any:
    """Read the record for leaf ``x`` of ``like``; other leaves are returned as they are."""

def tree_serialise_leaves(
    path_or_file: str | os.PathLike[str] | _SupportsWrite,
    pytree: Any,
    filter_spec: Any = ...,
    is_leaf: Callable[[Any], bool] | None = None,
) -> None:
    """Save the leaves of ``pytree`` (atomically, when given a path).

    ```python
    eqx.tree_serialise_leaves("model.eqx", model)
    ```
    """

def tree_deserialise_leaves(
    path_or_file: str | os.PathLike[str] | _SupportsReadSeek,
    like: _T,
    filter_spec: Any = ...,
    is_leaf: Callable[[Any], bool] | None = None,
) -> _T:
    """Load a checkpoint into a tree shaped like ``like`` (which may be abstract).

    ```python
    model = eqx.tree_deserialise_leaves("model.eqx", eqx.filter_eval_shape(make_model))
    ```
    """

# =======================================================================================
# Runtime errors
# =======================================================================================

_OnError: TypeAlias = Literal["default", "raise", "breakpoint", "nan", "off"]

class EquinoxRuntimeError(RuntimeError):
    """The predicate of :func:`error_if` was true while the program ran."""

class EquinoxTracetimeError(RuntimeError):
    """The predicate of :func:`error_if` was a Python ``True`` while tracing."""

def error_if(x: _T, pred: ArrayLike, msg: str, *, on_error: _OnError = "default") -> _T:
    """Return ``x``, raising ``msg`` at run time (even under ``jit``) where ``pred`` is true.

    ```python
    x = eqx.error_if(x, x < 0, "x must be non-negative")
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
    """As :func:`error_if`, raising ``msgs[index]``."""

@type_check_only
class _EnumerationMeta(type):
    def __getitem__(cls, item: Any) -> str: ...
    def __len__(cls) -> int: ...

class Enumeration(metaclass=_EnumerationMeta):
    """Enums for JAX: class attributes holding messages become items (PyTrees holding an
    integer array) that cross ``jit``, compare with ``==`` and raise with ``.error_if``.
    (Checkers see the items as the strings they are declared as.)

    ```python
    class RESULTS(eqx.Enumeration):
        success = ""
        diverged = "the solver diverged"
    ```
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
    """Empty every cache of this library (compiled functions, check memos and plans) and
    JAX's."""
# Auditing (runtime: _audit.py).

def audit(
    tree_or_factory: Any,
    *,
    inputs: Any = None,
    checkpoint: str | os.PathLike[str] | _SupportsReadSeek | None = None,
    strict: bool = False,
    abstract: bool | None = None,
) -> AuditReport:
    """Audit a model's fields, forward pass and checkpoint without allocating it: every
    Module field against its annotation (whatever the checking mode), with ``inputs``
    (specs such as ``"f32[32,784]"``, ``jax.ShapeDtypeStruct`` or arrays) one row per
    Module call of an abstract forward pass, and with ``checkpoint`` (a file written by
    ``tree_serialise_leaves``) every missing/extra leaf and shape/dtype difference, read
    from the records' headers. Stacked Modules (ensembles, scanned layers) are audited
    per member. A zero-argument factory is built with ``filter_eval_shape`` unless
    ``abstract=False``; ``strict=True`` also reports unshaped array fields."""
