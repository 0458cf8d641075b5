"""Keep the stubs' docstrings equal to the run-time docstrings (one source of truth).

Editors show a stub's docstring on hover, so every public function, class, ``__init__``
and ``__call__`` in ``stubs/`` carries the docstring of its run-time counterpart:

- a public function or class: its run-time docstring;
- ``__init__``: the run-time ``__init__``'s docstring, else the ``**Arguments:**`` section
  of the class docstring (of the nearest class in the MRO that has one), where the
  constructor arguments are documented, else the class docstring's first paragraph;
- ``__call__``: the run-time ``__call__``'s docstring.

Where a stub overloads a function, the docstring goes on the last overload. Run-time
objects without a docstring leave the stub's as it is.

    python scripts/stub_docstrings.py          # check (run by scripts/check_types.sh)
    python scripts/stub_docstrings.py --write  # rewrite the stubs' docstrings
"""

import ast
import importlib
import inspect
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
STUBS = ROOT / "stubs"
sys.path.insert(0, str(ROOT))  # the runtime package of this checkout

ARGUMENTS = "**Arguments:**"


@dataclass
class Target:
    """One stub definition whose docstring should be ``expected``."""

    qualname: str
    node: ast.FunctionDef | ast.ClassDef
    expected: str


def _stub_files() -> Iterator[tuple[Path, str]]:
    for path in sorted(STUBS.rglob("*.pyi")):
        parts = path.relative_to(STUBS).with_suffix("").parts
        if any(p.startswith("_") and p != "__init__" for p in parts):
            continue  # private modules (re-exported names are documented where exported)
        yield path, ".".join(p for p in parts if p != "__init__")


def _is_header(line: str) -> bool:
    # "**Arguments:**", "**Arguments:** as :class:`Conv`, plus", or Google style "Arguments:"
    return line.startswith(ARGUMENTS) or line.strip() == "Arguments:"


def arguments_section(doc: str) -> str | None:
    """The ``**Arguments:**`` block of a cleaned docstring: the header and its bullets,
    up to the next paragraph that is not part of the list."""
    lines = doc.splitlines()
    starts = [i for i, line in enumerate(lines) if _is_header(line)]
    if not starts:
        return None
    start = starts[0]
    block = [lines[start]]
    for line in lines[start + 1 :]:
        # The list ends at the first unindented line after a blank line that is not an item.
        if line and not line.startswith((" ", "-")) and block[-1] == "":
            break
        block.append(line)
    return "\n".join(block).strip()


def _doc(obj: Any) -> str | None:
    doc = getattr(obj, "__doc__", None)
    return inspect.cleandoc(doc) if isinstance(doc, str) and doc.strip() else None


def _init_doc(cls: type) -> str | None:
    own = vars(cls).get("__init__")
    if own is not None and _doc(own):
        return _doc(own)
    for klass in cls.__mro__:
        doc = _doc(klass) if "__doc__" in vars(klass) else None
        section = arguments_section(doc) if doc else None
        if section:
            return section
    # No argument list anywhere: the class's own summary line (e.g. "every constructor
    # argument is accepted and ignored").
    own = _doc(cls) if "__doc__" in vars(cls) else None
    return own.split("\n\n")[0] if own else None


def _last_overloads(body: list[ast.stmt]) -> dict[str, ast.FunctionDef]:
    """name -> the definition that carries the docstring (the last of overloads)."""
    defs: dict[str, ast.FunctionDef] = {}
    for node in body:
        if isinstance(node, ast.FunctionDef):
            defs[node.name] = node
    return defs


def targets(tree: ast.Module, module: Any, modname: str) -> list[Target]:
    found: list[Target] = []
    public = set(getattr(module, "__all__", ()))
    for name, fn in _last_overloads(tree.body).items():
        if name in public and (doc := _doc(getattr(module, name, None))):
            found.append(Target(f"{modname}.{name}", fn, doc))
    for node in tree.body:
        if not isinstance(node, ast.ClassDef) or node.name not in public:
            continue
        cls = getattr(module, node.name, None)
        if not isinstance(cls, type):
            continue
        if doc := _doc(cls) if "__doc__" in vars(cls) else None:
            found.append(Target(f"{modname}.{node.name}", node, doc))
        methods = _last_overloads(node.body)
        if "__init__" in methods and (doc := _init_doc(cls)):
            # cleandoc: a section whose lines after the first are all indented (Google
            # style) reads back from a docstring without that indentation.
            qualname = f"{modname}.{node.name}.__init__"
            found.append(Target(qualname, methods["__init__"], inspect.cleandoc(doc)))
        call = vars(cls).get("__call__")
        if "__call__" in methods and call is not None and (doc := _doc(call)):
            found.append(Target(f"{modname}.{node.name}.__call__", methods["__call__"], doc))
    return found


def _literal(doc: str, indent: str) -> str:
    """``doc`` as a docstring literal indented by ``indent``."""
    text = doc.replace('"""', '\\"\\"\\"')
    prefix = "r" if "\\" in doc and '"""' not in doc else ""
    if prefix == "" and "\\" in text:
        text = text.replace("\\", "\\\\")
    lines = text.splitlines()
    if len(lines) == 1:
        return f'{prefix}"""{lines[0]}"""'
    body = "\n".join(f"{indent}{line}" if line else "" for line in lines[1:])
    return f'{prefix}"""{lines[0]}\n{body}\n{indent}"""'


def rewrite(source: str, found: list[Target]) -> str:
    """``source`` with each target's docstring replaced or added."""
    lines = source.splitlines(keepends=True)
    offsets = [0]
    for line in lines:
        offsets.append(offsets[-1] + len(line))

    def pos(lineno: int, col: int) -> int:
        return offsets[lineno - 1] + len(lines[lineno - 1].encode()[:col].decode())

    edits: list[tuple[int, int, str]] = []
    for t in found:
        first = t.node.body[0]
        indent = " " * (t.node.col_offset + 4)
        literal = _literal(t.expected, indent)
        start = pos(first.lineno, first.col_offset)
        end = pos(first.end_lineno or first.lineno, first.end_col_offset or 0)
        is_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
        if is_doc and isinstance(first.value.value, str):
            edits.append((start, end, literal))
            continue
        one_line = first.lineno == _header_last_line(source, t.node)
        if source[start:end] == "..." and one_line:
            # `def f(...) -> R: ...` on one line: the docstring goes on the next line.
            colon = source.rindex(":", 0, start)
            edits.append((colon + 1, end, f"\n{indent}{literal}"))
        elif source[start:end] == "...":
            edits.append((start, end, literal))
        else:  # a body with statements (a class): insert the docstring before them
            edits.append((start, start, f"{literal}\n\n{indent}"))
    for start, end, text in sorted(edits, reverse=True):
        source = source[:start] + text + source[end:]
    return source


def _header_last_line(source: str, node: ast.FunctionDef | ast.ClassDef) -> int:
    """The line of the colon that ends the definition's header."""
    first = node.body[0]
    offsets = [0]
    for line in source.splitlines(keepends=True):
        offsets.append(offsets[-1] + len(line))
    start = offsets[first.lineno - 1] + first.col_offset
    colon = source.rindex(":", 0, start)
    return source.count("\n", 0, colon) + 1


def main(write: bool) -> int:
    mismatches: list[str] = []
    total = 0
    for path, modname in _stub_files():
        module = importlib.import_module(modname)
        source = path.read_text()
        found = targets(ast.parse(source), module, modname)
        total += len(found)
        stale = [t for t in found if ast.get_docstring(t.node, clean=True) != t.expected]
        if write and stale:
            new = rewrite(source, stale)
            ast.parse(new)  # still a valid stub
            path.write_text(new)
            # Re-read: the rewritten docstrings must read back exactly.
            again = targets(ast.parse(new), module, modname)
            stale = [t for t in again if ast.get_docstring(t.node, clean=True) != t.expected]
        mismatches += [t.qualname for t in stale]
    print(f"{total} stub docstrings compared with the run-time docstrings")
    for name in mismatches:
        print(f"error: {name}: the stub's docstring differs from the run-time one")
    if mismatches and not write:
        print("run `python scripts/stub_docstrings.py --write` to update the stubs")
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main(write="--write" in sys.argv[1:]))
