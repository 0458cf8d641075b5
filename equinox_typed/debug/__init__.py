"""Debugging aids (``eqx.debug``): trace counting, conditional breakpoints, NaN hunting on
the backward pass, dead-code inspection and transformation announcements."""

from ._announce_transform import announce_transform as announce_transform
from ._backward_nan import backward_nan as backward_nan
from ._breakpoint_if import breakpoint_if as breakpoint_if
from ._dce import inspect_dce as inspect_dce, store_dce as store_dce
from ._max_traces import assert_max_traces as assert_max_traces, get_num_traces as get_num_traces

__all__ = [
    "announce_transform",
    "assert_max_traces",
    "backward_nan",
    "breakpoint_if",
    "get_num_traces",
    "inspect_dce",
    "store_dce",
]
