"""filter_jvp, filter_vjp, filter_jacfwd, filter_jacrev, filter_hessian against plain JAX."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from jaxtyping import Array, Float

import equinox_typed as eqx
from equinox_typed.nn._linear import Linear


class Affine(eqx.Module):
    """A small model with a static field, a None field and an integer array."""

    weight: Float[Array, "out in"]
    bias: Float[Array, " out"] | None
    steps: jax.Array
    name: str = eqx.field(static=True)

    def __call__(self, x: Float[Array, " in"]) -> Float[Array, " out"]:
        y = jnp.tanh(self.weight @ x)
        return y if self.bias is None else y + self.bias


def _model(bias: bool = True) -> Affine:
    kw, kb = jr.split(jr.key(0))
    return Affine(
        jr.normal(kw, (3, 2)),
        jr.normal(kb, (3,)) if bias else None,
        jnp.arange(2),
        "affine",
    )


def _x() -> jax.Array:
    return jnp.array([0.3, -0.7])


def _as_plain(model: Affine):  # type: ignore[no-untyped-def]
    """The model's floating arrays, for the plain-JAX reference computations."""
    return model.weight, model.bias


def _plain_call(w: jax.Array, b: jax.Array | None, x: jax.Array) -> jax.Array:
    y = jnp.tanh(w @ x)
    return y if b is None else y + b


# ---------------------------------------------------------------------------------------
# filter_jvp


def test_jvp_model_matches_jax() -> None:
    model, x = _model(), _x()
    tw, tb = jnp.ones_like(model.weight), jnp.full_like(model.bias, 0.5)  # type: ignore[arg-type]
    tx = jnp.array([1.0, 2.0])
    with eqx.checks("off"):  # a tangent tree: None where there is no tangent
        tmodel = Affine(tw, tb, None, "affine")  # type: ignore[arg-type]

    def fn(m: Affine, x: jax.Array, label: str) -> tuple[jax.Array, str, jax.Array]:
        return m(x), label, m.steps + 1

    (out, label, steps), (t_out, t_label, t_steps) = eqx.filter_jvp(
        fn, (model, x, "hello"), (tmodel, tx, None)
    )
    ref_out, ref_t = jax.jvp(_plain_call, (model.weight, model.bias, x), (tw, tb, tx))
    np.testing.assert_allclose(out, ref_out, rtol=1e-6)
    np.testing.assert_allclose(t_out, ref_t, rtol=1e-6)
    assert label == "hello" and t_label is None
    np.testing.assert_array_equal(steps, jnp.arange(2) + 1)
    assert t_steps is None  # integer output: no tangent


def test_jvp_none_tangents_and_independent_outputs() -> None:
    x = jnp.array([1.0, 2.0])
    y = jnp.array([3.0, 4.0])

    def fn(x: jax.Array, y: jax.Array) -> dict[str, jax.Array]:
        return {"xy": x * y, "y_only": jnp.sin(y), "const": jnp.ones(2)}

    out, t_out = eqx.filter_jvp(fn, (x, y), (jnp.ones(2), None))
    np.testing.assert_allclose(t_out["xy"], y)  # d(x*y)/dx . 1
    assert t_out["y_only"] is None  # y had a None (zero) tangent
    assert t_out["const"] is None
    np.testing.assert_allclose(out["y_only"], jnp.sin(y))


def test_jvp_python_float_and_kwargs() -> None:
    def fn(a: float, x: jax.Array, *, scale: jax.Array) -> jax.Array:
        return a * x * scale

    scale = jnp.array(3.0)
    out, t_out = eqx.filter_jvp(fn, (2.0, jnp.array(5.0)), (1.0, None), scale=scale)
    np.testing.assert_allclose(out, 30.0)
    np.testing.assert_allclose(t_out, 15.0)  # d/da (a * 5 * 3)


def test_jvp_rejects_tangent_for_static_leaf() -> None:
    with pytest.raises(TypeError, match="not differentiable; its tangent must be None"):
        eqx.filter_jvp(lambda s, x: x, ("text", jnp.ones(2)), (jnp.ones(2), None))
    with pytest.raises(ValueError, match="tangents must have the structure of primals"):
        eqx.filter_jvp(lambda a, b: a, (jnp.ones(2), jnp.ones(2)), (None,))


def test_jvp_under_jit() -> None:
    @jax.jit
    def jvp(x: jax.Array) -> jax.Array:
        return eqx.filter_jvp(lambda v, s: jnp.sum(v**3), (x, "s"), (jnp.ones(2), None))[1]

    np.testing.assert_allclose(jvp(jnp.array([1.0, 2.0])), 3 * (1.0 + 4.0))


# ---------------------------------------------------------------------------------------
# filter_vjp


def test_vjp_model_matches_jax() -> None:
    model, x = _model(), _x()

    def fn(m: Affine, x: jax.Array, label: str) -> tuple[jax.Array, str, jax.Array]:
        return m(x), label, m.steps * 2

    (out, label, steps), vjp_fn = eqx.filter_vjp(fn, model, x, "lbl")
    assert label == "lbl"
    ct = jnp.array([1.0, -2.0, 0.5])
    d_model, d_x, d_label = vjp_fn((ct, None, None))
    ref_out, ref_vjp = jax.vjp(_plain_call, model.weight, model.bias, x)
    ref_dw, ref_db, ref_dx = ref_vjp(ct)
    np.testing.assert_allclose(out, ref_out, rtol=1e-6)
    np.testing.assert_allclose(d_model.weight, ref_dw, rtol=1e-6)
    np.testing.assert_allclose(d_model.bias, ref_db, rtol=1e-6)
    np.testing.assert_allclose(d_x, ref_dx, rtol=1e-6)
    assert d_model.steps is None and d_model.name == "affine" and d_label is None
    np.testing.assert_array_equal(steps, jnp.arange(2) * 2)


def test_vjp_none_field_and_has_aux() -> None:
    model, x = _model(bias=False), _x()

    def fn(m: Affine, x: jax.Array) -> tuple[jax.Array, tuple[str, jax.Array]]:
        y = m(x)
        return jnp.sum(y**2), ("aux", y)

    out, vjp_fn, (tag, y) = eqx.filter_vjp(fn, model, x, has_aux=True)
    assert tag == "aux"
    np.testing.assert_allclose(y, model(x))
    d_model, d_x = vjp_fn(jnp.array(1.0))
    ref_dw, ref_dx = jax.grad(lambda w, x: jnp.sum(_plain_call(w, None, x) ** 2), (0, 1))(
        model.weight, x
    )
    np.testing.assert_allclose(d_model.weight, ref_dw, rtol=1e-6)
    np.testing.assert_allclose(d_x, ref_dx, rtol=1e-6)
    assert d_model.bias is None


def test_vjp_fn_is_a_pytree_and_checks_cotangent_structure() -> None:
    out, vjp_fn = eqx.filter_vjp(lambda x: (x * 2, "s"), jnp.ones(3))
    # The pullback can cross a jit boundary as an argument.
    (dx,) = jax.jit(lambda f, c: f((c, None)))(vjp_fn, jnp.arange(3.0))
    np.testing.assert_allclose(dx, 2 * jnp.arange(3.0))
    with pytest.raises(ValueError, match="cotangent must have the structure of the output"):
        vjp_fn(jnp.ones(3))


# ---------------------------------------------------------------------------------------
# Jacobians and Hessians


@pytest.mark.parametrize("jac", [eqx.filter_jacfwd, eqx.filter_jacrev])
def test_jacobian_matches_jax(jac) -> None:  # type: ignore[no-untyped-def]
    model, x = _model(), _x()
    ref = jax.jacfwd(_plain_call, argnums=(0, 1))(model.weight, model.bias, x)
    got = jac(lambda m, x: m(x))(model, x)
    np.testing.assert_allclose(got.weight, ref[0], rtol=1e-6)
    np.testing.assert_allclose(got.bias, ref[1], rtol=1e-6)
    assert got.steps is None and got.name == "affine"
    # Only the first argument is differentiated; the second is a constant.
    jac_x = jac(lambda x, m: m(x))(x, model)
    np.testing.assert_allclose(jac_x, jax.jacfwd(_plain_call, argnums=2)(*_as_plain(model), x), rtol=1e-6)


@pytest.mark.parametrize("jac", [eqx.filter_jacfwd, eqx.filter_jacrev])
def test_jacobian_has_aux_with_static_aux(jac) -> None:  # type: ignore[no-untyped-def]
    x = {"a": jnp.array([1.0, 2.0]), "tag": "t", "n": 3}

    def fn(tree: dict[str, object]) -> tuple[jax.Array, tuple[str, jax.Array]]:
        a = tree["a"]
        assert isinstance(a, jax.Array)
        return a**2 * tree["n"], ("static aux", jnp.sum(a))  # type: ignore[operator]

    j, (tag, s) = jac(fn, has_aux=True)(x)
    np.testing.assert_allclose(j["a"], jnp.diag(6 * x["a"]))  # type: ignore[operator]
    assert j["tag"] is None and j["n"] is None
    assert tag == "static aux"
    np.testing.assert_allclose(s, 3.0)


def test_hessian_matches_jax() -> None:
    model, x = _model(), _x()

    def loss(m: Affine, x: jax.Array) -> jax.Array:
        return jnp.sum(m(x) ** 2)

    h = eqx.filter_hessian(loss)(model, x)
    ref = jax.hessian(lambda w, b: jnp.sum(_plain_call(w, b, x) ** 2), argnums=(0, 1))(
        model.weight, model.bias
    )
    np.testing.assert_allclose(h.weight.weight, ref[0][0], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h.weight.bias, ref[0][1], rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h.bias.bias, ref[1][1], rtol=1e-5, atol=1e-6)
    assert h.steps is None

    h_aux, aux = eqx.filter_hessian(lambda v: (jnp.sum(v**3), "aux"), has_aux=True)(
        jnp.array([1.0, 2.0])
    )
    np.testing.assert_allclose(h_aux, jnp.diag(jnp.array([6.0, 12.0])))
    assert aux == "aux"


def test_eqx_nn_linear_grad_via_vjp() -> None:
    linear = Linear(2, 3, key=jr.key(1))
    x = _x()
    out, vjp_fn = eqx.filter_vjp(lambda m: jnp.sum(m(x)), linear)
    (d_linear,) = vjp_fn(jnp.array(1.0))
    np.testing.assert_allclose(d_linear.weight, jnp.broadcast_to(x, (3, 2)), rtol=1e-6)
    np.testing.assert_allclose(d_linear.bias, jnp.ones(3))
    assert d_linear.in_features == 2  # static fields carried over


def test_boundary_checks_modules_in_primals(typechecker: str) -> None:
    model = _model()
    with eqx.checks("off"):
        bad = eqx.tree_at(lambda m: m.bias, model, jnp.ones(5))  # out=3 vs bias 5
    with pytest.raises(eqx.TypeCheckError, match=r"primals\[0\]\.bias"):
        eqx.filter_vjp(lambda m: m(_x()), bad)
    with pytest.raises(eqx.TypeCheckError, match="Affine"):
        eqx.filter_jvp(lambda m: m(_x()), (bad,), (None,))
