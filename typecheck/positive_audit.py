"""eqx.audit returns a typed report: its rows, calls, violations and totals."""

from typing import Any, assert_type

import jax

import equinox_typed as eqx


def make_model() -> eqx.nn.MLP:
    return eqx.nn.MLP(3, 2, 8, 2, key=jax.random.key(0))


report = eqx.audit(make_model, inputs=["f32[3]"], strict=True)
assert_type(report, eqx.AuditReport)
assert_type(report.ok, bool)
for row in report.rows:
    assert_type(row.path, str)
    assert_type(row.shape, tuple[int, ...])
    assert_type(row.bindings, dict[str, int])
for call in report.calls:
    assert_type(call.output, str | None)
for violation in report.violations:
    assert_type(violation.message, str)
assert_type(report.totals.parameters, int)
assert_type(report.to_dict(), dict[str, Any])
assert_type(report.to_json(indent=None), str)
assert_type(eqx.audit(make_model(), abstract=False), eqx.AuditReport)
