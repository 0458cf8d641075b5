"""The scripts that keep the stubs true: scripts/stub_docstrings.py and
scripts/check_stub_fields.py. Their runs on the shipped stubs are steps of
scripts/check_types.sh; here, their logic on small cases, both ways."""

import ast
import importlib.util
import inspect
import sys
from pathlib import Path
from types import ModuleType

import jax
import jax.numpy as jnp
from jax import Array
from jaxtyping import Float

import equinox_typed.nn as nn

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


stub_docstrings = _load("stub_docstrings")
check_stub_fields = _load("check_stub_fields")

DOC = inspect.cleandoc(
    """Scale a tree.

    **Arguments:**

    - ``tree``: what to scale; any PyTree
      of arrays.
    - ``factor``: the factor.

    **Returns:** the scaled tree.

    ```python
    scale(x, 2.0)
    ```
    """
)


def test_arguments_section_stops_at_the_next_paragraph() -> None:
    section = stub_docstrings.arguments_section(DOC)
    assert section.splitlines()[0] == "**Arguments:**"
    assert "of arrays." in section and "``factor``: the factor." in section
    assert "Returns" not in section and "```" not in section
    assert stub_docstrings.arguments_section("No arguments documented.") is None


def test_rewrite_adds_and_replaces_docstrings() -> None:
    source = (
        "def scale(tree: int, factor: float) -> int: ...\n"
        "class Layer:\n"
        '    """old"""\n'
        "    def __call__(self, x: int) -> int: ...\n"
    )
    tree = ast.parse(source)
    fn, cls = tree.body[0], tree.body[1]
    assert isinstance(fn, ast.FunctionDef) and isinstance(cls, ast.ClassDef)
    call = cls.body[1]
    assert isinstance(call, ast.FunctionDef)
    targets = [
        stub_docstrings.Target("scale", fn, DOC),
        stub_docstrings.Target("Layer", cls, "New class doc with a \\ backslash."),
        stub_docstrings.Target("Layer.__call__", call, "One line."),
    ]
    new = ast.parse(stub_docstrings.rewrite(source, targets))
    new_fn, new_cls = new.body[0], new.body[1]
    assert isinstance(new_fn, ast.FunctionDef) and isinstance(new_cls, ast.ClassDef)
    assert ast.get_docstring(new_fn, clean=True) == DOC
    assert ast.get_docstring(new_cls, clean=True) == "New class doc with a \\ backslash."
    new_call = new_cls.body[1]
    assert isinstance(new_call, ast.FunctionDef)
    assert ast.get_docstring(new_call, clean=True) == "One line."


def test_field_check_looks_inside_state_indexes() -> None:
    stats = tuple[Float[Array, "n"], Float[Array, "n"]]
    index = nn.StateIndex((jnp.zeros(3), jnp.ones(3)))
    assert check_stub_fields._holds(index, nn.StateIndex[stats] | None)
    assert check_stub_fields._holds(None, nn.StateIndex[stats] | None)
    # The nearest mismatch: three statistics stored where the stub says two.
    wrong = nn.StateIndex((jnp.zeros(3), jnp.ones(3), jnp.ones(3)))
    assert not check_stub_fields._holds(wrong, nn.StateIndex[stats] | None)
    assert not check_stub_fields._holds(jnp.zeros(3), nn.StateIndex[stats])


def test_field_check_binds_symbolic_sizes() -> None:
    cell = nn.GRUCell(3, 4, key=jax.random.key(0))
    assert check_stub_fields._bind_sizes("Float[Array, '3*hidden_size input_size']", cell) == (
        "Float[Array, '3*4 3']"
    )


def test_arguments_section_other_headers() -> None:
    plus = "Doc.\n\n**Arguments:** as :class:`Conv`, plus\n\n- ``extra``: more.\n\nTail."
    assert stub_docstrings.arguments_section(plus) == (
        "**Arguments:** as :class:`Conv`, plus\n\n- ``extra``: more."
    )
    google = "Doc.\n\nArguments:\n    func: the function.\n\nExample:\n    >>> f()"
    assert stub_docstrings.arguments_section(google) == "Arguments:\n    func: the function."
