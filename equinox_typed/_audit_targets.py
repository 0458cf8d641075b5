"""What ``python -m equinox_typed.check`` audits: targets named on its command line.

A target is a Python file (``models/mlp.py``) or a dotted module name
(``mypkg.models``), optionally followed by ``:NAME`` (``models/mlp.py:make_model``,
``mypkg.models:encoder.block``). ``NAME`` is a Module instance or a zero-argument
callable returning a Module (or a tuple/list/dict of them). Without ``:NAME``, every
public module-level Module instance and every zero-argument function of the module
annotated to return a Module is audited, in definition order.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import inspect
import itertools
import os
import re
import sys
import types
import typing
from typing import Any, Final

from ._module import BoundMethod, Module

__all__ = ["Candidate", "TargetError", "resolve_target"]

_LOADED: Final = itertools.count()
_NAME: Final = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*")


class TargetError(Exception):
    """A target that cannot be imported or named; the message is one line for users."""


@dataclasses.dataclass(frozen=True)
class Candidate:
    """One thing to audit: its label (``file.py:NAME``) and the Module or factory."""

    label: str
    value: Any


def _split(target: str) -> tuple[str, str | None]:
    location, colon, name = target.rpartition(":")
    if colon and location and _NAME.fullmatch(name):
        return location, name
    return target, None


def _import_file(path: str) -> types.ModuleType:
    if not os.path.isfile(path):
        raise TargetError("no such file")
    directory = os.path.dirname(os.path.abspath(path))
    # As when running the file as a script: its neighbours are importable.
    if directory not in sys.path:
        sys.path.insert(0, directory)
    stem = re.sub(r"\W", "_", os.path.splitext(os.path.basename(path))[0])
    # A private name: the file is not importable as itself, and may be loaded twice.
    name = f"_equinox_typed_check_{next(_LOADED)}_{stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise TargetError("not a Python file")
    module = importlib.util.module_from_spec(spec)
    # Registered before it runs: class annotations are resolved through sys.modules.
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _load(location: str) -> types.ModuleType:
    is_file = location.endswith(".py") or os.sep in location or os.path.isfile(location)
    try:
        return _import_file(location) if is_file else importlib.import_module(location)
    except TargetError:
        raise
    except BaseException as error:  # SystemExit from a script, SyntaxError, ...
        if isinstance(error, KeyboardInterrupt):
            raise
        message = str(error).strip().splitlines()
        raise TargetError(
            f"cannot import it: {type(error).__name__}: {message[0] if message else ''}"
        ) from error


def _returns_modules(hint: Any) -> bool:
    """Whether a return annotation is a Module class or a container of them."""
    if isinstance(hint, type):
        return issubclass(hint, Module)
    if typing.get_origin(hint) in (tuple, list, dict):
        return any(_returns_modules(arg) for arg in typing.get_args(hint))
    return False


def _required_parameters(fn: Any) -> list[str]:
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):
        return []
    return [
        p.name
        for p in signature.parameters.values()
        if p.default is inspect.Parameter.empty
        and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
    ]


def _is_factory(module: types.ModuleType, value: Any) -> bool:
    if not inspect.isfunction(value) or value.__module__ != module.__name__:
        return False
    if _required_parameters(value):
        return False
    try:
        hint = typing.get_type_hints(value).get("return")
    except Exception:  # an annotation that does not resolve: not declared a factory
        return False
    return _returns_modules(hint)


def _discover(module: types.ModuleType, location: str) -> list[Candidate]:
    found = [
        Candidate(f"{location}:{name}", value)
        for name, value in vars(module).items()
        if not name.startswith("_")
        and (
            (isinstance(value, Module) and not isinstance(value, BoundMethod))
            or _is_factory(module, value)
        )
    ]
    if not found:
        raise TargetError(
            f"found no Module instance and no zero-argument function annotated to "
            f"return a Module; name one as {location}:NAME"
        )
    return found


def _named(module: types.ModuleType, location: str, name: str) -> Candidate:
    value: Any = module
    for part in name.split("."):
        if not hasattr(value, part):
            raise TargetError(f"the module has no attribute {name!r}")
        value = getattr(value, part)
    if isinstance(value, Module) and not isinstance(value, BoundMethod):
        return Candidate(f"{location}:{name}", value)
    if not callable(value):
        raise TargetError(
            f"it is a {type(value).__qualname__}, not a Module or a zero-argument "
            f"callable returning one"
        )
    required = _required_parameters(value)
    if required:
        raise TargetError(
            f"it takes arguments ({', '.join(required)}); name a Module or a "
            f"zero-argument callable returning one"
        )
    return Candidate(f"{location}:{name}", value)


def resolve_target(target: str) -> list[Candidate]:
    """Import a target and name what to audit in it.

    **Arguments:**

    - ``target``: ``PATH.py``, ``dotted.module``, either followed by ``:NAME``.

    **Returns:** the candidates, in definition order.

    **Raises:** :class:`TargetError` with a one-line message saying what is wrong
    (the caller names the target; the original exception is its ``__cause__``).

    ```python
    resolve_target("models.py:make_model")   # [Candidate("models.py:make_model", <fn>)]
    ```
    """
    location, name = _split(target)
    module = _load(location)
    return _discover(module, location) if name is None else [_named(module, location, name)]
