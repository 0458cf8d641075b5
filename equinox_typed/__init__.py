"""equinox_typed: strictly typed neural networks in JAX as callable PyTrees.

Use it as ``import equinox_typed as eqx``; the public names follow Equinox's.
"""

from ._caches import clear_caches as clear_caches
from ._audit import audit as audit
from ._audit_report import AuditReport as AuditReport
from ._checking import (
    CheckMode as CheckMode,
    TypeCheckError as TypeCheckError,
    TypeCheckWarning as TypeCheckWarning,
    checks as checks,
    get_checks as get_checks,
    get_typechecker as get_typechecker,
    set_checks as set_checks,
    set_typechecker as set_typechecker,
)
from ._enum import Enumeration as Enumeration
from ._errors import (
    EquinoxRuntimeError as EquinoxRuntimeError,
    EquinoxTracetimeError as EquinoxTracetimeError,
    branched_error_if as branched_error_if,
    error_if as error_if,
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
    StrictConfig as StrictConfig,
    field as field,
    module_fields as module_fields,
    static_field as static_field,
)

from ._serialisation import (
    CheckpointError as CheckpointError,
    default_deserialise_filter_spec as default_deserialise_filter_spec,
    default_serialise_filter_spec as default_serialise_filter_spec,
    tree_deserialise_leaves as tree_deserialise_leaves,
    tree_serialise_leaves as tree_serialise_leaves,
)
from ._pretty import tree_pformat as tree_pformat, tree_pprint as tree_pprint
from ._tree import (
    Partial as Partial,
    apply_updates as apply_updates,
    tree_at as tree_at,
    tree_check as tree_check,
    tree_equal as tree_equal,
    tree_flatten_one_level as tree_flatten_one_level,
)

# Filtered transformations.
from ._ad import (
    filter_hessian as filter_hessian,
    filter_jacfwd as filter_jacfwd,
    filter_jacrev as filter_jacrev,
    filter_jvp as filter_jvp,
    filter_vjp as filter_vjp,
)
from ._callback import filter_pure_callback as filter_pure_callback
from ._checkpoint import filter_checkpoint as filter_checkpoint
from ._closure_convert import filter_closure_convert as filter_closure_convert
from ._custom_ad import (
    filter_custom_jvp as filter_custom_jvp,
    filter_custom_vjp as filter_custom_vjp,
)
from ._eval_shape import filter_eval_shape as filter_eval_shape
from ._make_jaxpr import filter_make_jaxpr as filter_make_jaxpr
from ._grad import filter_grad as filter_grad, filter_value_and_grad as filter_value_and_grad
from ._jit import filter_jit as filter_jit
from ._legacy import gradf as gradf, jitf as jitf, value_and_grad_f as value_and_grad_f
from ._sharding import filter_shard as filter_shard
from ._vmap_pmap import filter_pmap as filter_pmap, filter_vmap as filter_vmap
from ._wrapper import module_update_wrapper as module_update_wrapper

# Last, because the layers and debugging aids are built from everything above.
from . import debug as debug
from . import nn as nn
from .nn._inference import inference_mode as tree_inference  # Equinox's older name

__version__ = "0.1.0"

__all__ = [
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
    "StrictConfig",
    "TypeCheckError",
    "TypeCheckWarning",
    "apply_updates",
    "audit",
    "branched_error_if",
    "checks",
    "clear_caches",
    "combine",
    "debug",
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
    "module_update_wrapper",
    "nn",
    "partition",
    "set_checks",
    "set_typechecker",
    "static_field",
    "tree_at",
    "tree_check",
    "tree_deserialise_leaves",
    "tree_equal",
    "tree_flatten_one_level",
    "tree_inference",
    "tree_pformat",
    "tree_pprint",
    "tree_serialise_leaves",
    "value_and_grad_f",
]
