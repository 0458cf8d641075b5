"""filter_custom_jvp and filter_custom_vjp against jax.custom_jvp / jax.custom_vjp."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jaxtyping import Array, Float

import equinox_typed as eqx


class Scale(eqx.Module):
    w: Float[Array, " n"]
    b: Float[Array, " n"] | None
    label: str = eqx.field(static=True)


# ---------------------------------------------------------------------------------------
# filter_custom_jvp


def _make_custom_jvp(seen: list[Any]) -> Any:
    @eqx.filter_custom_jvp
    def call(x: jax.Array, y: jax.Array, mode: str, *, fn: Any) -> jax.Array:
        return fn(x, y)

    @call.def_jvp
    def call_jvp(primals: tuple[Any, ...], tangents: tuple[Any, ...], *, fn: Any) -> Any:
        x, y, mode = primals
        tx, ty, tmode = tangents
        seen.append((tx is None, ty is None, tmode))
        out = call(x, y, mode, fn=fn)
        # A deliberately "wrong" rule, so we can tell it was used: 2*tx + 3*ty.
        t_out = (0 if tx is None else 2 * tx) + (0 if ty is None else 3 * ty)
        return out, t_out

    return call


def test_custom_jvp_rule_is_used_and_none_tangents() -> None:
    seen: list[Any] = []
    call = _make_custom_jvp(seen)
    fn = lambda a, b: a * b  # noqa: E731
    x, y = jnp.array(2.0), jnp.array(5.0)

    assert call(x, y, "m", fn=fn) == 10.0
    # Gradient w.r.t. x only: y's tangent is a symbolic zero, given to the rule as None.
    gx = jax.grad(lambda x: call(x, y, "m", fn=fn))(x)
    assert gx == 2.0 and seen[-1] == (False, True, None)
    gy = jax.grad(lambda y: call(x, y, "m", fn=fn))(y)
    assert gy == 3.0 and seen[-1] == (True, False, None)
    # Reference: the same rule through plain jax.custom_jvp.
    ref = jax.custom_jvp(lambda x, y: x * y)
    ref.defjvp(lambda p, t: (p[0] * p[1], 2 * t[0] + 3 * t[1]))
    _, t = eqx.filter_jvp(lambda x, y: call(x, y, "m", fn=fn), (x, y), (jnp.array(1.0), jnp.array(1.0)))
    _, t_ref = jax.jvp(ref, (x, y), (jnp.array(1.0), jnp.array(1.0)))
    assert t == t_ref == 5.0


def test_custom_jvp_kwargs_not_differentiated_and_jit() -> None:
    seen: list[Any] = []
    call = _make_custom_jvp(seen)
    x, y = jnp.array(2.0), jnp.array(5.0)
    scale = jnp.array(7.0)

    def f(x: jax.Array, scale: jax.Array) -> jax.Array:
        # `scale` reaches the function as an array leaf of a keyword argument.
        return call(x, y, "m", fn=eqx.Partial(lambda s, a, b: a * b * s, scale))

    gx, gs = jax.jit(jax.grad(f, argnums=(0, 1)))(x, scale)
    assert gx == 2.0  # the custom rule
    assert gs == 0.0  # keyword arguments are not differentiated
    assert seen[-1] == (False, True, None)
    assert jax.jit(f)(x, scale) == 70.0


def test_custom_jvp_with_modules_and_none_output_tangent() -> None:
    @eqx.filter_custom_jvp
    def apply(m: Scale, x: jax.Array) -> tuple[jax.Array, str, jax.Array]:
        return m.w * x, m.label, jnp.arange(2)

    @apply.def_jvp
    def apply_jvp(primals: Any, tangents: Any) -> Any:
        m, x = primals
        tm, tx = tangents
        assert tm.b is None and tm.label == m.label  # Module structure kept; None field
        t = tm.w * x + (0 if tx is None else m.w * tx)
        return apply(m, x), (t, None, None)

    m = Scale(jnp.array([1.0, 2.0]), None, "s")
    x = jnp.array([3.0, 4.0])

    def loss(m: Scale, x: jax.Array) -> jax.Array:
        out, label, ints = apply(m, x)
        assert label == "s"
        return jnp.sum(out**2) + jnp.sum(ints)

    g_m, g_x = jax.grad(loss, argnums=(0, 1))(m, x)
    np.testing.assert_allclose(g_m.w, 2 * m.w * x**2)
    np.testing.assert_allclose(g_x, 2 * m.w**2 * x)


def test_custom_jvp_requires_rule() -> None:
    f = eqx.filter_custom_jvp(lambda x: x)
    with pytest.raises(RuntimeError, match="def_jvp"):
        f(jnp.ones(2))


# ---------------------------------------------------------------------------------------
# filter_custom_vjp


def _make_custom_vjp(log: list[Any]) -> Any:
    @eqx.filter_custom_vjp
    def mul(vjp_arg: tuple[jax.Array, jax.Array, str], scale: jax.Array, *, k: float) -> Any:
        a, b, _ = vjp_arg
        return {"out": a * b * scale * k, "tag": "static"}

    @mul.def_fwd
    def mul_fwd(perturbed: Any, vjp_arg: Any, scale: jax.Array, *, k: float) -> Any:
        log.append(("fwd", perturbed))
        a, b, _ = vjp_arg
        return mul(vjp_arg, scale, k=k), (a * b, "residual-static")

    @mul.def_bwd
    def mul_bwd(
        residuals: Any, grad_obj: Any, perturbed: Any, vjp_arg: Any, scale: jax.Array, *, k: float
    ) -> Any:
        ab, tag = residuals
        log.append(("bwd", grad_obj["tag"], tag))
        a, b, _ = vjp_arg
        g = grad_obj["out"] * scale * k
        # Scaled by 10 on `a` so the test can tell the custom rule ran.
        return (10 * g * b, g * a if perturbed[1] else None, None)

    return mul


def test_custom_vjp_perturbed_grad_obj_and_residuals() -> None:
    log: list[Any] = []
    mul = _make_custom_vjp(log)
    a, b, scale = jnp.array(2.0), jnp.array(3.0), jnp.array(0.5)

    out = mul((a, b, "t"), scale, k=2.0)
    assert out["tag"] == "static" and out["out"] == 6.0
    assert log == []  # no differentiation, no rule

    ga = jax.grad(lambda a: mul((a, b, "t"), scale, k=2.0)["out"])(a)
    assert log[0] == ("fwd", (True, False, False))
    assert log[1] == ("bwd", None, "residual-static")
    assert ga == 10 * b * scale * 2.0

    ga, gb = jax.grad(lambda a, b, s: mul((a, b, "t"), s, k=2.0)["out"], argnums=(0, 1))(
        a, b, scale
    )
    assert log[2] == ("fwd", (True, True, False))
    # Reference with plain jax.custom_vjp, same rule.
    ref = jax.custom_vjp(lambda a, b, s: a * b * s * 2.0)
    ref.defvjp(
        lambda a, b, s: (a * b * s * 2.0, (a, b, s)),
        lambda r, g: (10 * g * r[2] * 2.0 * r[1], g * r[2] * 2.0 * r[0], jnp.zeros_like(r[2])),
    )
    ref_grads = jax.grad(ref, argnums=(0, 1))(a, b, scale)
    np.testing.assert_allclose([ga, gb], ref_grads)
    # Only vjp_arg is differentiable: a gradient through `scale` is an error (as in
    # Equinox), not a silent zero.
    with pytest.raises(RuntimeError, match="only the first argument"):
        jax.grad(lambda s: mul((a, b, "t"), s, k=2.0)["out"])(scale)


def test_custom_vjp_under_jit_and_vmap() -> None:
    mul = _make_custom_vjp([])
    a = jnp.array([1.0, 2.0, 3.0])
    b = jnp.array([4.0, 5.0, 6.0])

    def f(a: jax.Array, b: jax.Array) -> jax.Array:
        return mul((a, b, "t"), jnp.array(1.0), k=1.0)["out"]

    grads = jax.jit(jax.vmap(jax.grad(f, argnums=(0, 1))))(a, b)
    np.testing.assert_allclose(grads[0], 10 * b)
    np.testing.assert_allclose(grads[1], a)


def test_custom_vjp_module_argument_and_gradient_structure() -> None:
    @eqx.filter_custom_vjp
    def apply(m: Scale, x: jax.Array) -> jax.Array:
        return jnp.sum(m.w * x)

    @apply.def_fwd
    def apply_fwd(perturbed: Scale, m: Scale, x: jax.Array) -> Any:
        assert isinstance(perturbed, Scale) and perturbed.w is True and perturbed.b is None
        return apply(m, x), None

    @apply.def_bwd
    def apply_bwd(res: Any, g: jax.Array, perturbed: Scale, m: Scale, x: jax.Array) -> Scale:
        with eqx.checks("off"):
            return Scale(-g * x, None, m.label)  # sign flipped: a visible custom rule

    m = Scale(jnp.array([1.0, 2.0]), None, "lbl")
    x = jnp.array([3.0, 4.0])
    g_m = jax.grad(apply)(m, x)
    np.testing.assert_allclose(g_m.w, -x)
    with pytest.raises(RuntimeError, match="only the first argument"):
        jax.grad(apply, argnums=(0, 1))(m, x)  # x is not the first argument


def test_custom_vjp_wrong_gradient_structure_is_reported() -> None:
    @eqx.filter_custom_vjp
    def f(v: tuple[jax.Array, jax.Array]) -> jax.Array:
        return v[0] * v[1]

    f.def_fwd(lambda perturbed, v: (f(v), None))
    f.def_bwd(lambda res, g, perturbed, v: g)  # should be a pair

    with pytest.raises(ValueError, match="gradient with the structure of the first argument"):
        jax.grad(lambda a: f((a, jnp.array(2.0))))(jnp.array(1.0))


def test_custom_vjp_requires_rules() -> None:
    f = eqx.filter_custom_vjp(lambda x: x)
    with pytest.raises(RuntimeError, match="def_fwd and .def_bwd"):
        f(jnp.ones(2))
