"""A mypy plugin: a Module field with ``converter=`` accepts the converter's input type.

The typing specification lets a dataclass field specifier take a ``converter``, whose
first parameter's type becomes the generated ``__init__``'s parameter type. pyright
implements this; mypy reads the field's own type instead, so
``w: Array = eqx.field(converter=jnp.asarray)`` would refuse ``Model([1.0, 2.0])``,
which runs. This plugin gives mypy the same view as pyright. Enable it with

```toml
[tool.mypy]
plugins = ["equinox_typed.mypy_plugin"]
```

Only mypy imports this module (the runtime never does).
"""

from collections.abc import Callable
from typing import Any

from mypy.nodes import (
    AssignmentStmt,
    CallExpr,
    Expression,
    FuncDef,
    NameExpr,
    RefExpr,
    TypeInfo,
)
from mypy.plugin import FunctionSigContext, Plugin
from mypy.types import AnyType, CallableType, FunctionLike, TypeOfAny
from mypy.types import Type as MypyType
from mypy.types import get_proper_type

_MODULE = "equinox_typed.Module"
_FIELD_SPECIFIERS = {"equinox_typed.field", "equinox_typed._module.field"}


def _converter_input(converter: Expression) -> MypyType:
    """The type of the converter's first parameter (Any where it cannot be read)."""
    if isinstance(converter, RefExpr):
        node = converter.node
        if isinstance(node, FuncDef) and isinstance(node.type, CallableType):
            if node.type.arg_types:
                return node.type.arg_types[0]
        if isinstance(node, TypeInfo):  # a class used as converter: its own instances
            init = node.get("__init__")
            ctor = get_proper_type(init.type) if init is not None else None
            if isinstance(ctor, CallableType) and len(ctor.arg_types) > 1:
                return ctor.arg_types[1]
    return AnyType(TypeOfAny.special_form)


def _converted_fields(info: TypeInfo) -> dict[str, MypyType]:
    """field name -> converter input type, over the class and its bases."""
    found: dict[str, MypyType] = {}
    for klass in reversed(info.mro):
        for stmt in klass.defn.defs.body:
            if not (isinstance(stmt, AssignmentStmt) and isinstance(stmt.rvalue, CallExpr)):
                continue
            call, target = stmt.rvalue, stmt.lvalues[0]
            callee = call.callee
            if not (isinstance(target, NameExpr) and isinstance(callee, RefExpr)):
                continue
            if callee.fullname not in _FIELD_SPECIFIERS:
                continue
            for name, value in zip(call.arg_names, call.args):
                if name == "converter":
                    found[target.name] = _converter_input(value)
    return found


def _with_converters(ctx: FunctionSigContext, info: TypeInfo) -> FunctionLike:
    converted = _converted_fields(info)
    sig = ctx.default_signature
    if not converted:
        return sig
    arg_types = [
        converted.get(name, typ) if name is not None else typ
        for name, typ in zip(sig.arg_names, sig.arg_types)
    ]
    # copy_modified's parameters are unannotated in mypy (unknown to pyright).
    untyped_sig: Any = sig
    modified: FunctionLike = untyped_sig.copy_modified(arg_types=arg_types)
    return modified


class _EquinoxTypedPlugin(Plugin):
    def get_function_signature_hook(
        self, fullname: str
    ) -> Callable[[FunctionSigContext], FunctionLike] | None:
        sym = self.lookup_fully_qualified(fullname)
        info = sym.node if sym is not None else None
        if not isinstance(info, TypeInfo) or not info.has_base(_MODULE):
            return None
        return lambda ctx: _with_converters(ctx, info)


def plugin(version: str) -> type[Plugin]:
    """mypy's entry point."""
    del version
    return _EquinoxTypedPlugin


__all__ = ["plugin"]
