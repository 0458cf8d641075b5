"""Tree utilities: out-of-place updates, comparison, update application, checks.

Everything here treats a PyTree as JAX does (``jax.tree_util``): Modules, tuples, lists,
dicts, namedtuples and any registered class are *nodes*; everything else is a *leaf*.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from typing import Any, Generic, TypeVar, cast

import jax
import jax.numpy as jnp
import jax.tree_util as jtu
import numpy as np
from jax.core import Tracer
from jaxtyping import Array, Bool

from ._filters import ARRAY_TYPES
from ._jax_typed import (
    KeyPath,
    TreeDef,
    keystr,
    register_pytree_with_keys,
    tree_flatten,
    tree_flatten_with_path,
)
from ._missing import MISSING, Missing

__all__ = [
    "Partial",
    "apply_updates",
    "tree_at",
    "tree_check",
    "tree_equal",
    "tree_flatten_one_level",
]

_T = TypeVar("_T")
_R = TypeVar("_R")

# A position in a tree: the child index taken at each level, from the root down.
_NodePath = tuple[int, ...]


def is_tracer(x: object) -> bool:
    """Whether ``x`` is an abstract value being traced by a JAX transformation."""
    return isinstance(x, Tracer)


# --------------------------------------------------------------------------------------
# One-level flattening
# --------------------------------------------------------------------------------------


def _root_only() -> Callable[[Any], bool]:
    """An ``is_leaf`` predicate that lets JAX open the root node and nothing below it.

    JAX calls ``is_leaf`` on the root first, so "everything after the first call is a
    leaf" flattens exactly one level. Unlike ``lambda x: x is not root`` this also stops
    at a child that *is* the root, so self-containing nodes cannot recurse forever.
    """
    calls = 0

    def is_below_root(_: Any) -> bool:
        nonlocal calls
        calls += 1
        return calls > 1

    return is_below_root


def tree_flatten_one_level(pytree: Any) -> tuple[list[Any], TreeDef]:
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
    children, treedef = tree_flatten(pytree, is_leaf=_root_only())
    if treedef.num_nodes > 1 and any(child is pytree for child in children):
        raise ValueError(
            f"this {type(pytree).__name__} contains itself as one of its own children "
            "(as after `x = []; x.append(x)`), so it has no finite PyTree structure"
        )
    return children, treedef


def _open_node(
    node: Any, is_leaf: Callable[[Any], bool] | None
) -> tuple[list[Any], TreeDef] | None:
    """Children and treedef of ``node``, or ``None`` if it has no children.

    Leaves, ``None``, empty containers and anything ``is_leaf`` accepts are all
    childless: none of them can be opened any further.
    """
    if is_leaf is not None and is_leaf(node):
        return None
    children, treedef = tree_flatten_one_level(node)
    if treedef.num_nodes == 1:
        return None
    return children, treedef


# --------------------------------------------------------------------------------------
# tree_at
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, eq=False)
class _NodeMarker:
    """Stands in for a childless node while locating what ``where`` picks.

    ``eq=False`` keeps identity comparison, so each marker is distinct from every other.
    """

    path: _NodePath


class _ProbeTree:
    """A copy of a tree whose nodes can be traced back to their position.

    Childless nodes are replaced by :class:`_NodeMarker` objects; all other nodes are
    rebuilt with ``unflatten``, which gives fresh objects that can be recognised by
    identity. Calling ``where`` on :attr:`root` therefore returns objects whose
    position in the original tree is known.
    """

    def __init__(self, pytree: Any, is_leaf: Callable[[Any], bool] | None) -> None:
        self._is_leaf = is_leaf
        # Keyed by ``id``; the object is kept too so that the id cannot be reused.
        self._rebuilt: dict[int, tuple[Any, _NodePath]] = {}
        self.root = self._build(pytree, ())

    def _build(self, node: Any, path: _NodePath) -> Any:
        opened = _open_node(node, self._is_leaf)
        if opened is None:
            return _NodeMarker(path)
        children, treedef = opened
        probes = [self._build(child, (*path, i)) for i, child in enumerate(children)]
        rebuilt = treedef.unflatten(probes)
        self._rebuilt[id(rebuilt)] = (rebuilt, path)
        return rebuilt

    def locate(self, candidate: Any) -> _NodePath | None:
        """The position of ``candidate`` if it is a node of the probe tree."""
        if isinstance(candidate, _NodeMarker):
            return candidate.path
        entry = self._rebuilt.get(id(candidate))
        if entry is not None and entry[0] is candidate:
            return entry[1]
        return None


_WHERE_CONTRACT = (
    "`where` must return nodes of the tree (e.g. `lambda m: m.layers[0].weight`) or a "
    "tuple/list of such nodes, found purely by attribute access or indexing"
)


def _picked_paths(
    where: Callable[[Any], Any], pytree: Any, is_leaf: Callable[[Any], bool] | None
) -> tuple[list[_NodePath], bool]:
    """Positions of the nodes ``where`` selects, and whether it selected a single node."""
    # Run once on the real tree first, so that genuine bugs in `where` (a misspelt
    # attribute, say) surface with their own exception.
    where(pytree)
    probe = _ProbeTree(pytree, is_leaf)
    try:
        selection = where(probe.root)
    except Exception as error:
        raise TypeError(
            f"{_WHERE_CONTRACT}; it failed when leaves were replaced by placeholders, "
            "which means it computes with leaf values"
        ) from error

    single = probe.locate(selection)
    if single is not None:
        return [single], True
    if not isinstance(selection, (tuple, list)):
        raise TypeError(f"{_WHERE_CONTRACT}; got {type(selection).__name__} instead")
    paths: list[_NodePath] = []
    for index, item in enumerate(selection):  # pyright: ignore[reportUnknownVariableType,reportUnknownArgumentType]
        path = probe.locate(item)
        if path is None:
            raise TypeError(
                f"{_WHERE_CONTRACT}; item {index} of what it returned is not a node of "
                "the tree"
            )
        paths.append(path)
    if len(set(paths)) != len(paths):
        raise ValueError("`where` returned the same node more than once")
    return paths, False


def _replacements(
    paths: list[_NodePath],
    single: bool,
    replace: Any,
    replace_fn: Callable[[Any], Any] | Missing,
) -> dict[_NodePath, Callable[[Any], Any]]:
    """For each picked position, the function mapping the old node to its new value."""
    if not isinstance(replace_fn, Missing):
        fn = replace_fn
        return {path: fn for path in paths}
    if single:
        return {paths[0]: _constant(replace)}
    if not isinstance(replace, Sequence) or isinstance(replace, str):
        raise ValueError(
            f"`where` returned {len(paths)} nodes, so `replace` must be a sequence of "
            f"{len(paths)} values; got {type(replace).__name__}"
        )
    values: Sequence[Any] = replace  # pyright: ignore[reportUnknownVariableType]
    if len(values) != len(paths):
        raise ValueError(
            f"`where` returned {len(paths)} nodes but `replace` has {len(values)} values"
        )
    return {path: _constant(value) for path, value in zip(paths, values)}


def _constant(value: Any) -> Callable[[Any], Any]:
    """A replacement function ignoring the old node (binds ``value`` per node)."""
    return lambda _: value


def _rebuild(
    node: Any,
    path: _NodePath,
    replacements: dict[_NodePath, Callable[[Any], Any]],
    on_the_way: set[_NodePath],
    is_leaf: Callable[[Any], bool] | None,
) -> Any:
    """Copy of ``node`` with the replacements at and below ``path`` applied.

    Subtrees containing no replacement are returned as they are. Replacements are
    applied bottom-up, so a picked node that contains another picked node is handed to
    its ``replace_fn`` with the inner replacement already done.
    """
    if path not in on_the_way:
        return node
    opened = _open_node(node, is_leaf)
    if opened is not None:
        children, treedef = opened
        node = treedef.unflatten(
            _rebuild(child, (*path, i), replacements, on_the_way, is_leaf)
            for i, child in enumerate(children)
        )
    replace_here = replacements.get(path)
    return node if replace_here is None else replace_here(node)


def tree_at(
    where: Callable[[_T], Any],
    pytree: _T,
    replace: Any = MISSING,
    replace_fn: Callable[[Any], Any] | Missing = MISSING,
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
    if (replace is MISSING) == (replace_fn is MISSING):
        given = "neither" if replace is MISSING else "both"
        raise ValueError(
            f"tree_at needs exactly one of `replace` and `replace_fn`; got {given}"
        )
    paths, single = _picked_paths(where, pytree, is_leaf)
    replacements = _replacements(paths, single, replace, replace_fn)
    on_the_way = {path[:depth] for path in paths for depth in range(len(path) + 1)}
    result: _T = _rebuild(pytree, (), replacements, on_the_way, is_leaf)
    return result


# --------------------------------------------------------------------------------------
# tree_equal
# --------------------------------------------------------------------------------------

# Outcome of comparing two leaves: a Python bool when known statically, or a traced
# scalar boolean array when the answer depends on traced values.
_LeafVerdict = bool | Bool[Array, ""]


def _arrays_equal(a: Any, b: Any, rtol: float, atol: float) -> _LeafVerdict:
    """Compare two arrays by shape, dtype and values (NaN is unequal to everything).

    Two NumPy arrays give a Python ``bool``; as soon as a JAX array (or tracer) is
    involved the values are compared by JAX, giving a scalar boolean JAX array, eagerly
    as under ``jit`` (so the answer has one type whether or not it is traced)."""
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    inexact = jnp.issubdtype(a.dtype, jnp.inexact)
    approximate = inexact and (rtol != 0.0 or atol != 0.0)
    if isinstance(a, jax.Array) or isinstance(b, jax.Array):
        if approximate:
            return jnp.allclose(a, b, rtol=rtol, atol=atol)
        return jnp.all(a == b)
    if approximate:
        return bool(np.allclose(a, b, rtol=rtol, atol=atol))
    return bool(np.array_equal(a, b))


def _leaves_equal(
    a: Any, b: Any, typematch: bool, rtol: float, atol: float
) -> _LeafVerdict:
    if typematch and type(a) is not type(b):
        return False
    a_is_array = isinstance(a, ARRAY_TYPES)
    if a_is_array != isinstance(b, ARRAY_TYPES):
        return False
    if a_is_array:
        return _arrays_equal(a, b, rtol, atol)
    return bool(a == b)


def tree_equal(
    *pytrees: Any, typematch: bool = False, rtol: float = 0.0, atol: float = 0.0
) -> bool | Bool[Array, ""]:
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
    if len(pytrees) < 2:
        return True
    first_leaves, first_treedef = tree_flatten(pytrees[0])
    array_verdicts: list[Bool[Array, ""]] = []
    for other in pytrees[1:]:
        other_leaves, other_treedef = tree_flatten(other)
        if other_treedef != first_treedef:
            return False
        for a, b in zip(first_leaves, other_leaves):
            verdict = _leaves_equal(a, b, typematch, rtol, atol)
            if verdict is False:
                return False
            if not isinstance(verdict, bool):
                array_verdicts.append(verdict)
    if not array_verdicts:
        return True
    return jnp.all(jnp.stack(array_verdicts))


# --------------------------------------------------------------------------------------
# apply_updates
# --------------------------------------------------------------------------------------


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

    def add(update: Any, part: Any) -> Any:
        return part if update is None else part + update

    result: _T = jtu.tree_map(add, updates, model, is_leaf=lambda x: x is None)
    return result


# --------------------------------------------------------------------------------------
# tree_check
# --------------------------------------------------------------------------------------


def _check_node(
    node: Any,
    path: KeyPath,
    ancestors: set[int],
    seen: dict[int, KeyPath],
) -> None:
    children, treedef = tree_flatten_with_path(node, is_leaf=_root_only())
    # Childless nodes (leaves, None, empty containers) may be shared freely: they
    # cannot hold parameters, and singletons such as None and () repeat by nature.
    if treedef.num_nodes == 1:
        return
    node_id = id(node)
    where = keystr(path) or "the root"
    if node_id in ancestors:
        raise ValueError(
            f"tree_check: the {type(node).__name__} node at {where} contains itself "
            "(the tree has a cycle)"
        )
    if node_id in seen:
        first = keystr(seen[node_id]) or "the root"
        raise ValueError(
            f"tree_check: the same {type(node).__name__} object appears at {first} and "
            f"at {where}; a PyTree node must not be shared"
        )
    seen[node_id] = path
    ancestors.add(node_id)
    for child_key, child in children:
        _check_node(child, (*path, *child_key), ancestors, seen)
    ancestors.remove(node_id)


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
    _check_node(pytree, (), set(), {})


# --------------------------------------------------------------------------------------
# Partial
# --------------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True, init=False, eq=False)
class Partial(Generic[_R]):
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

    func: Callable[..., _R]
    args: tuple[Any, ...]
    keywords: dict[str, Any]

    def __init__(self, func: Callable[..., _R], /, *args: Any, **kwargs: Any) -> None:
        if not callable(func):
            raise TypeError(f"Partial needs a callable; got {type(func).__name__}")
        # The class is frozen, so the fields can only be set around __setattr__.
        object.__setattr__(self, "func", func)
        object.__setattr__(self, "args", args)
        object.__setattr__(self, "keywords", kwargs)

    def __call__(self, *args: Any, **kwargs: Any) -> _R:
        """``func(*bound_args, *args, **{**bound_kwargs, **kwargs})``."""
        return self.func(*self.args, *args, **{**self.keywords, **kwargs})

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Partial):
            return NotImplemented
        # Leaves are arrays, whose `==` is elementwise; compare the trees instead.
        # Under tracing this raises, just as a dataclass holding tracers would.
        return bool(tree_equal(self, other))

    def __hash__(self) -> int:
        return hash((self.func, tuple(jtu.tree_leaves(self))))

    def __reduce__(self) -> tuple[Any, ...]:
        return (_make_partial, (self.func, self.args, self.keywords))


def _make_partial(func: Callable[..., _R], args: Any, keywords: Any) -> Partial[_R]:
    """Build a :class:`Partial` from its fields (used by unpickling and unflatten).

    The fields are set as given, without unpacking: JAX may unflatten with arbitrary
    placeholder objects in place of ``args`` and ``keywords``.
    """
    partial = cast("Partial[_R]", object.__new__(Partial))
    object.__setattr__(partial, "func", func)
    object.__setattr__(partial, "args", args)
    object.__setattr__(partial, "keywords", keywords)
    return partial


_ARGS_KEY = jtu.GetAttrKey("args")
_KEYWORDS_KEY = jtu.GetAttrKey("keywords")


def _flatten_partial(
    partial: Partial[Any],
) -> tuple[tuple[tuple[Any, Any], ...], Callable[..., Any]]:
    children = ((_ARGS_KEY, partial.args), (_KEYWORDS_KEY, partial.keywords))
    return children, partial.func


def _unflatten_partial(func: Callable[..., Any], children: Iterable[Any]) -> Partial[Any]:
    args, keywords = children
    return _make_partial(func, args, keywords)


register_pytree_with_keys(Partial, _flatten_partial, _unflatten_partial)
