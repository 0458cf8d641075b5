"""Check the nn stubs' field types against the fields of real layers.

stubtest cannot compare a layer's field types: the fields are instance attributes,
absent from the runtime class. This script builds layers of every class (in each mode
that stores different fields) and checks, for every field the stub declares (``name:
Final[T]`` or a read-only property), that the runtime value is an instance of ``T``
(with beartype; jaxtyping array types check dtype and rank). ``StateIndex[X]`` checks the
index's initial value against ``X``. It also fails if a runtime field has no stub
declaration. Run by scripts/check_types.sh:

    python scripts/check_stub_fields.py
"""

import ast
import dataclasses
import re
import sys
import types
import typing
from collections.abc import Callable, Hashable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STUB = ROOT / "stubs" / "equinox_typed" / "nn" / "__init__.pyi"
sys.path.insert(0, str(ROOT))  # the runtime package of this checkout

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import jaxtyping  # noqa: E402
from beartype.door import is_bearable  # noqa: E402

import equinox_typed.nn as nn  # noqa: E402

# Runtime fields that the stub leaves out on purpose (internal bookkeeping).
UNDECLARED = {("StateIndex", "marker")}


def _layers() -> list[Any]:
    """One or more instances of every nn class that has fields."""
    k = jax.random.key(0)
    lin = nn.Linear(3, 4, key=k)
    return [
        lin,
        nn.Linear("scalar", "scalar", use_bias=False, key=k),
        nn.Lambda(jax.nn.relu),
        nn.Dropout(0.1),
        nn.MLP(2, 3, width_size=4, depth=2, key=k),
        nn.PReLU(),
        nn.GRUCell(3, 4, key=k),
        nn.GRUCell(3, 4, use_bias=False, key=k),
        nn.LSTMCell(3, 4, key=k),
        nn.Embedding(5, 3, key=k),
        nn.MultiheadAttention(2, 8, key=k),
        nn.RotaryPositionalEmbedding(8),
        nn.Conv2d(3, 4, 3, padding="same", padding_mode="reflect", key=k),
        nn.Conv1d(3, 4, 3, padding=1, key=k),
        nn.ConvTranspose2d(3, 4, 3, key=k),
        nn.MaxPool2d(2),
        nn.AvgPool1d(3, padding=1),
        nn.AdaptiveAvgPool2d((2, 2)),
        nn.LayerNorm(4),
        nn.LayerNorm((2, 4), use_weight=False, use_bias=False),
        nn.RMSNorm(4),
        nn.GroupNorm(2, 4),
        nn.BatchNorm(4, "batch"),
        nn.BatchNorm(4, "batch", mode="ema"),
        nn.BatchNorm(4, "batch", mode="batch"),
        nn.Sequential([lin, nn.Lambda(jax.nn.relu)]),
        nn.Shared((lin, lin), lambda p: p[1].weight, lambda p: p[0].weight),
        nn.WeightNorm(lin),
        nn.SpectralNorm(lin, key=k),
        nn.StateIndex(jnp.zeros(3)),
    ]


def _declared_fields() -> dict[str, dict[str, str]]:
    """class -> field -> the stub's type expression (Final[T] or a property's return)."""
    found: dict[str, dict[str, str]] = {}
    for node in ast.parse(STUB.read_text()).body:
        if not isinstance(node, ast.ClassDef):
            continue
        fields = found.setdefault(node.name, {})
        for item in node.body:
            if isinstance(item, ast.AnnAssign) and isinstance(item.target, ast.Name):
                ann = item.annotation
                if isinstance(ann, ast.Subscript) and ast.unparse(ann.value) == "Final":
                    fields[item.target.id] = ast.unparse(ann.slice)
            elif isinstance(item, ast.FunctionDef) and any(
                ast.unparse(d) == "property" for d in item.decorator_list
            ):
                assert item.returns is not None, f"{node.name}.{item.name}"
                fields[item.name] = ast.unparse(item.returns)
    return found


def _namespace() -> dict[str, Any]:
    """The stub's names, as runtime objects (type parameters read as Any)."""
    ns: dict[str, Any] = dict(vars(typing))
    ns.update({k: v for k, v in vars(jaxtyping).items() if not k.startswith("_")})
    ns.update(Array=jax.Array, Callable=Callable, Hashable=Hashable, Sequence=Sequence)
    ns.update({name: getattr(nn, name) for name in nn.__all__})
    for name in ("_T", "_Layer", "_Value", "_SeqLayer"):
        ns[name] = Any
    tree = ast.parse(STUB.read_text())
    for node in tree.body:  # the stub's own aliases, e.g. _Stats, _PaddingMode
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            if ast.unparse(node.annotation) == "TypeAlias" and node.value is not None:
                ns[node.target.id] = eval(ast.unparse(node.value), ns)
    return ns


def _holds(value: Any, hint: Any) -> bool:
    """``value`` is an instance of ``hint``, looking inside ``StateIndex[X]``."""
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_holds(value, arm) for arm in args)
    if origin is nn.StateIndex:
        return isinstance(value, nn.StateIndex) and _holds(value.init, args[0])
    if isinstance(hint, type) and issubclass(hint, nn.StateIndex):
        return isinstance(value, nn.StateIndex)
    return is_bearable(value, hint)


def _bind_sizes(source: str, layer: Any) -> str:
    """Put the layer's integer sizes into the jaxtyping shape strings of ``source``:
    ``"3*hidden_size input_size"`` becomes ``"3*4 3"`` (a symbolic size can only be
    checked once its names have values)."""

    def bind(match: re.Match[str]) -> str:
        def size(name: re.Match[str]) -> str:
            value = getattr(layer, name.group(0), None)
            return str(value) if type(value) is int else name.group(0)

        return re.sub(r"[A-Za-z_]\w*", size, match.group(0))

    return re.sub(r"'[^']*'|\"[^\"]*\"", bind, source)  # ast.unparse quotes with '...'


def problems() -> list[str]:
    declared, ns = _declared_fields(), _namespace()
    found: list[str] = []
    checked: set[str] = set()
    for layer in _layers():
        cls = type(layer)
        # Fields of a subclass (Conv2d) are declared on the stub's base class (Conv).
        stub_fields: dict[str, str] = {}
        for klass in reversed(cls.__mro__):
            stub_fields.update(declared.get(klass.__name__, {}))
        for f in dataclasses.fields(layer):
            if (cls.__name__, f.name) in UNDECLARED:
                continue
            if f.name not in stub_fields:
                found.append(f"{cls.__name__}.{f.name}: a runtime field the stub does not declare")
                continue
            value, source = getattr(layer, f.name), _bind_sizes(stub_fields[f.name], layer)
            checked.add(f"{cls.__name__}.{f.name}")
            if not _holds(value, eval(source, ns)):
                shapes = jax.tree_util.tree_map(lambda x: getattr(x, "shape", x), value)
                found.append(
                    f"{cls.__name__}.{f.name}: stub type {source} does not hold for the "
                    f"runtime value {shapes!r}"
                )
    print(f"checked {len(checked)} (class, field) pairs against the stub")
    return found


if __name__ == "__main__":
    errors = problems()
    for line in errors:
        print("error:", line)
    sys.exit(1 if errors else 0)
