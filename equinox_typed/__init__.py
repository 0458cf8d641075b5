"""equinox_typed: strictly typed neural networks in JAX as callable PyTrees.

Use it as ``import equinox_typed as eqx``; the public names follow Equinox's.
"""

from ._checking import (
    CheckMode as CheckMode,
    TypeCheckError as TypeCheckError,
    checks as checks,
    get_checks as get_checks,
    get_typechecker as get_typechecker,
    set_checks as set_checks,
    set_typechecker as set_typechecker,
)
from ._filters import (
    combine as combine,
    filter as filter,
    if_array as if_array,
    is_array as is_array,
    is_array_like as is_array_like,
    is_inexact_array as is_inexact_array,
    is_inexact_array_like as is_inexact_array_like,
    partition as partition,
)
from ._module import (
    AbstractClassVar as AbstractClassVar,
    AbstractVar as AbstractVar,
    BoundMethod as BoundMethod,
    Module as Module,
    field as field,
    module_fields as module_fields,
)

# --- tree utilities (foundation) ---
from ._pretty import tree_pformat as tree_pformat, tree_pprint as tree_pprint
from ._tree import (
    Partial as Partial,
    apply_updates as apply_updates,
    tree_at as tree_at,
    tree_check as tree_check,
    tree_equal as tree_equal,
    tree_flatten_one_level as tree_flatten_one_level,
)
# --- filtered transformations ---
from ._jit import filter_jit as filter_jit
# --- end of exports ---

__version__ = "0.1.0"

__all__ = [
    "AbstractClassVar",
    "AbstractVar",
    "BoundMethod",
    "CheckMode",
    "Module",
    "Partial",
    "TypeCheckError",
    "apply_updates",
    "checks",
    "combine",
    "field",
    "filter",
    "filter_jit",
    "get_checks",
    "get_typechecker",
    "if_array",
    "is_array",
    "is_array_like",
    "is_inexact_array",
    "is_inexact_array_like",
    "module_fields",
    "partition",
    "set_checks",
    "set_typechecker",
    "tree_at",
    "tree_check",
    "tree_equal",
    "tree_flatten_one_level",
    "tree_pformat",
    "tree_pprint",
]
