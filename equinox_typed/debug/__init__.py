"""Debugging aids (``eqx.debug``): trace counting, conditional breakpoints, NaN hunting on
the backward pass, dead-code inspection and transformation announcements."""

from ._breakpoint_if import breakpoint_if as breakpoint_if
from ._max_traces import assert_max_traces as assert_max_traces, get_num_traces as get_num_traces

__all__ = [
    "assert_max_traces",
    "breakpoint_if",
    "get_num_traces",
]
