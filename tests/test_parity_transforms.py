"""Details of the filtered transformations that Equinox users rely on, side by side with
Equinox 0.13.8: ``in_axes``/``out_axes`` forms and their errors for ``filter_vmap`` and
``filter_pmap``, ``filter_jvp`` with non-array primals, ``None`` tangents in
``filter_custom_jvp``, the older ``defvjp`` registration and the non-differentiable
arguments of ``filter_custom_vjp``, and the results of ``filter_closure_convert`` and
``filter_make_jaxpr``."""

from __future__ import annotations

import types
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import equinox_typed

equinox = pytest.importorskip("equinox")

LIBRARIES = [equinox_typed, equinox]
both = pytest.mark.parametrize("lib", LIBRARIES, ids=["ours", "equinox"])
mappers = pytest.mark.parametrize("mapper", ["filter_vmap", "filter_pmap"])

XS = jnp.arange(6.0).reshape(1, 6)  # leading axis 1: pmap runs on the single CPU device


def _same(a: Any, b: Any) -> None:
    """Equal structure, and equal leaves (arrays by value and dtype)."""
    leaves_a, def_a = jax.tree_util.tree_flatten(a)
    leaves_b, def_b = jax.tree_util.tree_flatten(b)
    assert def_a == def_b
    for x, y in zip(leaves_a, leaves_b, strict=True):
        if isinstance(x, (jax.Array, np.ndarray)):
            assert jnp.result_type(x) == jnp.result_type(y)
            np.testing.assert_array_equal(x, y)
        else:
            assert x == y


def _side_by_side(run: Any) -> Any:
    ours, theirs = run(equinox_typed), run(equinox)
    _same(ours, theirs)
    return ours


# ---------------------------------------------------------------------------------------
# filter_vmap / filter_pmap: axis specifications


@mappers
def test_in_axes_callable_of_each_leaf(mapper: str) -> None:
    # The callable decides per leaf: the 2-d array is mapped, the 1-d one broadcast.
    def run(lib: types.ModuleType) -> Any:
        spec = lambda leaf: 0 if getattr(leaf, "ndim", 0) == 2 else None  # noqa: E731
        mapped = getattr(lib, mapper)(lambda a, b, n: (a + b) * n, in_axes=spec)
        return mapped(XS, jnp.ones(6), 2.0)

    out = _side_by_side(run)
    np.testing.assert_array_equal(out, (XS + 1) * 2)


@mappers
def test_in_axes_callables_inside_a_prefix(mapper: str) -> None:
    def run(lib: types.ModuleType) -> Any:
        spec = ({"x": lib.if_array(1), "y": None},)
        return getattr(lib, mapper)(lambda t: t["x"] - t["y"], in_axes=spec)(
            {"x": XS.T, "y": jnp.ones(6)}
        )

    np.testing.assert_array_equal(_side_by_side(run), XS - 1)


@mappers
def test_out_axes_none_for_unbatched_and_non_array_outputs_with_axis_size(mapper: str) -> None:
    # Nothing is mapped: axis_size alone says how many examples there are.
    def run(lib: types.ModuleType) -> Any:
        f = getattr(lib, mapper)(
            lambda: (jnp.arange(2.0), "label", 3),
            in_axes=(),
            out_axes=None,
            axis_size=1,
        )
        return f()

    out = _side_by_side(run)
    assert out[1:] == ("label", 3)
    np.testing.assert_array_equal(out[0], jnp.arange(2.0))


def test_vmap_axis_size_with_mixed_out_axes() -> None:
    def run(lib: types.ModuleType) -> Any:
        f = lib.filter_vmap(
            lambda: (jnp.arange(2.0), jnp.ones(2), "label"),
            out_axes=(0, None, None),
            axis_size=3,
        )
        return f()

    out = _side_by_side(run)
    assert out[0].shape == (3, 2) and out[1].shape == (2,) and out[2] == "label"


@both
@mappers
def test_dict_in_axes_naming_an_argument_not_passed(lib: types.ModuleType, mapper: str) -> None:
    def f(a: Any, b: Any = 1.0) -> Any:
        return a * b

    mapped = getattr(lib, mapper)(f, in_axes={"a": 0, "b": None})
    with pytest.raises(ValueError, match="'b'"):
        mapped(XS)
    # Passing it makes the same specification valid (ours also takes it by keyword,
    # which Equinox refuses for every keyword argument).
    np.testing.assert_array_equal(mapped(XS, 2.0), XS * 2)
    if lib is equinox_typed:
        np.testing.assert_array_equal(mapped(XS, b=2.0), XS * 2)


@both
def test_dict_in_axes_naming_no_parameter(lib: types.ModuleType) -> None:
    with pytest.raises(ValueError, match="'c'"):
        lib.filter_vmap(lambda a: a, in_axes={"a": 0, "c": 0})(XS)


def test_dict_in_axes_error_says_what_was_passed() -> None:
    with pytest.raises(ValueError, match=r"in_axes names 'c'.*\(passed: a, b\)"):
        equinox_typed.filter_vmap(lambda a, b: a, in_axes={"c": 0})(XS, XS)


@both
@mappers
@pytest.mark.parametrize("axis", [2, 5, -3])
def test_axis_out_of_range_is_a_value_error_about_rank(
    lib: types.ModuleType, mapper: str, axis: int
) -> None:
    with pytest.raises(ValueError, match="rank"):
        getattr(lib, mapper)(lambda a: a, in_axes=axis)(XS)


def test_axis_out_of_range_message_names_the_shape() -> None:
    with pytest.raises(ValueError, match=r"shape \(1, 6\) over axis 5.*rank at least 6.*rank 2"):
        equinox_typed.filter_vmap(lambda a: a, in_axes=5)(XS)
    with pytest.raises(ValueError, match=r"over axis -3.*rank at least 3.*rank 2"):
        equinox_typed.filter_vmap(lambda a: a, in_axes={"a": -3})(XS)


@both
def test_axis_out_of_range_also_with_checks_off(lib: types.ModuleType) -> None:
    with equinox_typed.checks("off"), pytest.raises(ValueError, match="rank"):
        lib.filter_vmap(lambda a: a, in_axes=4)(XS)


@both
def test_negative_axes_in_range(lib: types.ModuleType) -> None:
    xs = jnp.arange(6.0).reshape(2, 3)
    out = lib.filter_vmap(lambda a: a * 2, in_axes=-1)(xs)
    np.testing.assert_array_equal(out, xs.T * 2)


def test_module_mapped_over_the_wrong_axis_is_our_type_check_error() -> None:
    # Equinox runs this (each "example" Linear gets a 1-d weight); ours refuses it at the
    # boundary, naming the field: a deliberate difference listed in README.md.
    def run(lib: types.ModuleType) -> Any:
        layer = lib.nn.Linear(3, 4, key=jax.random.key(0))
        return lib.filter_vmap(lambda m, x: m(x), in_axes=(0, None))(layer, jnp.ones(3))

    assert run(equinox).shape == (4,)
    with pytest.raises(equinox_typed.TypeCheckError, match=r"field `m\.weight`") as info:
        run(equinox_typed)
    assert "out_features in_features" in str(info.value)
    readme = (__import__("pathlib").Path(__file__).parents[1] / "README.md").read_text()
    assert "A Module vmapped over the wrong axis is a `TypeCheckError`" in readme


# ---------------------------------------------------------------------------------------
# filter_jvp, filter_custom_jvp, filter_custom_vjp


def test_jvp_with_non_array_primals() -> None:
    def f(a: Any, n: int, label: str) -> Any:
        return a * n, n, label, jnp.arange(3)

    def run(lib: types.ModuleType) -> Any:
        return lib.filter_jvp(f, (jnp.arange(3.0), 2, "s"), (jnp.ones(3), None, None))

    (out, tangents) = _side_by_side(run)
    assert out[1:3] == (2, "s")
    np.testing.assert_array_equal(tangents[0], jnp.full(3, 2.0))
    assert tangents[1:] == (None, None, None)  # not differentiable: no tangent


def test_jvp_python_float_primal_with_a_tangent() -> None:
    def run(lib: types.ModuleType) -> Any:
        return lib.filter_jvp(lambda a, b: a * b, (jnp.arange(3.0), 2.0), (jnp.ones(3), 1.0))

    out, tangent = _side_by_side(run)
    np.testing.assert_array_equal(tangent, jnp.arange(3.0) + 2)


def test_jvp_tangent_for_an_int_is_refused() -> None:
    def run(lib: types.ModuleType) -> Any:
        return lib.filter_jvp(lambda a, n: a * n, (jnp.arange(3.0), 2), (jnp.ones(3), 1))

    with pytest.raises(TypeError):
        run(equinox)  # JAX's dtype mismatch
    with pytest.raises(TypeError, match="leaf 1 of primals is int.*tangent must be None"):
        run(equinox_typed)


def test_custom_jvp_none_tangent_for_non_floating_outputs() -> None:
    x = jnp.arange(3.0)

    def run(lib: types.ModuleType) -> Any:
        @lib.filter_custom_jvp
        def g(a: Any) -> Any:
            return a * 2, jnp.arange(3)

        @g.def_jvp
        def _(primals: Any, tangents: Any) -> Any:
            ((a,), (ta,)) = primals, tangents
            return g(a), (ta * 3, None)  # None: the integer output has no tangent

        primal_out, tangent_out = lib.filter_jvp(g, (x,), (jnp.ones(3),))
        grad = jax.grad(lambda a: g(a)[0].sum())(x)
        return primal_out, tangent_out, grad

    (primal_out, tangent_out, grad) = _side_by_side(run)
    np.testing.assert_array_equal(tangent_out[0], jnp.full(3, 3.0))
    assert tangent_out[1] is None
    np.testing.assert_array_equal(grad, jnp.full(3, 3.0))


def _old_style_scale(lib: types.ModuleType) -> Any:
    @lib.filter_custom_vjp
    def scale(params: Any, factor: Any) -> Any:
        return params["w"] * factor, params["n"]

    def fwd(params: Any, factor: Any) -> Any:
        return scale(params, factor), factor

    def bwd(residuals: Any, grad_obj: Any, params: Any, factor: Any) -> Any:
        g_out, g_n = grad_obj
        # The old contract: an array, never None, at a floating output without cotangent.
        assert g_out is not None and g_out.shape == params["w"].shape
        assert g_n is None  # the integer output
        return {"w": 10 * g_out * residuals, "n": None}

    scale.defvjp(fwd, bwd)
    return scale


def test_custom_vjp_defvjp_still_works_with_a_deprecation_warning() -> None:
    params = {"w": jnp.arange(3.0), "n": jnp.array(2)}
    factor = jnp.full(3, 2.0)

    def run(lib: types.ModuleType, category: type[Warning]) -> Any:
        with pytest.warns(category, match=r"defvjp.*deprecated.*def_fwd.*def_bwd"):
            scale = _old_style_scale(lib)
        grads = lib.filter_grad(lambda p: scale(p, factor)[0].sum())(params)
        # Only the unused output gets a cotangent: the rule sees zeros, not None.
        zero = lib.filter_grad(lambda p: scale(p, factor)[1].sum() * 0.0 + p["w"][0])(params)
        return grads, zero

    ours = run(equinox_typed, DeprecationWarning)
    theirs = run(equinox, UserWarning)  # Equinox warns with the default category
    _same(ours, theirs)
    np.testing.assert_array_equal(ours[0]["w"], jnp.full(3, 20.0))


@both
@pytest.mark.parametrize("how", ["grad-positional", "grad-keyword", "jvp"])
def test_custom_vjp_refuses_differentiating_its_other_arguments(
    lib: types.ModuleType, how: str
) -> None:
    x = jnp.arange(3.0)

    @lib.filter_custom_vjp
    def g(a: Any, b: Any) -> Any:
        return a * b

    @g.def_fwd
    def _(perturbed: Any, a: Any, b: Any) -> Any:
        return a * b, None

    @g.def_bwd
    def _(residuals: Any, grad_obj: Any, perturbed: Any, a: Any, b: Any) -> Any:
        return grad_obj * b

    with pytest.raises(RuntimeError, match=r"\*args.*\*\*kwargs"):
        if how == "grad-positional":
            jax.grad(lambda b: g(x, b).sum())(x)
        elif how == "grad-keyword":
            jax.grad(lambda b: g(x, b=b).sum())(x)
        else:
            jax.jvp(lambda b: g(x, b), (x,), (x,))
    # Differentiating the first argument, with the others held fixed, is fine.
    np.testing.assert_array_equal(jax.grad(lambda a: g(a, x).sum())(x), x)


def test_custom_vjp_error_names_the_function() -> None:
    @equinox_typed.filter_custom_vjp
    def my_rule(a: Any, b: Any) -> Any:
        return a * b

    my_rule.def_fwd(lambda perturbed, a, b: (a * b, None))
    my_rule.def_bwd(lambda res, g, perturbed, a, b: g * b)
    with pytest.raises(RuntimeError, match="my_rule: only the first argument"):
        jax.grad(lambda b: my_rule(jnp.ones(2), b).sum())(jnp.ones(2))


# ---------------------------------------------------------------------------------------
# filter_closure_convert, filter_make_jaxpr


def test_closure_convert_exposes_in_and_out_struct() -> None:
    captured = jnp.arange(3.0)

    def run(lib: types.ModuleType) -> Any:
        def f(a: Any, n: int, *, scale: Any) -> Any:
            return a * captured * scale, n

        converted = lib.filter_closure_convert(f, jnp.ones(3), 4, scale=jnp.asarray(2.0))
        return converted.in_struct, converted.out_struct, converted(jnp.ones(3), 4, scale=jnp.asarray(2.0))

    in_struct, out_struct, out = _side_by_side(run)
    assert in_struct[0][0] == jax.ShapeDtypeStruct((3,), jnp.float32)
    assert in_struct[1]["scale"] == jax.ShapeDtypeStruct((), jnp.float32)
    assert out_struct == (jax.ShapeDtypeStruct((3,), jnp.float32), 4)
    np.testing.assert_array_equal(out[0], captured * 2)


def test_make_jaxpr_result_shape() -> None:
    def run(lib: types.ModuleType) -> Any:
        f = lambda a, n: (a * 2, n, "s")  # noqa: E731
        jaxpr, out_struct, static = lib.filter_make_jaxpr(f)(
            jax.ShapeDtypeStruct((3,), jnp.float32), 3
        )
        assert len(jaxpr.jaxpr.invars) == 1
        return out_struct, static

    out_struct, static = _side_by_side(run)
    assert out_struct == (jax.ShapeDtypeStruct((3,), jnp.float32), None, None)
    assert static == (None, 3, "s")
