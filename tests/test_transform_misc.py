"""filter_checkpoint, filter_closure_convert, filter_make_jaxpr, filter_eval_shape,
filter_shard (one device) and filter_pure_callback."""

from __future__ import annotations

from typing import Any

import jax
import jax.extend
import jax.numpy as jnp
import jax.random as jr
import numpy as np
import pytest
from jaxtyping import Array, Float

import equinox_typed as eqx
from equinox_typed.nn._linear import Linear


class Block(eqx.Module):
    w: Float[Array, "n n"]
    name: str = eqx.field(static=True)

    def __call__(self, x: Float[Array, " n"]) -> Float[Array, " n"]:
        return jnp.sin(self.w @ jnp.sin(x))


def _block() -> Block:
    return Block(jr.normal(jr.key(0), (3, 3)), "blk")


def _nested_jaxprs(params: dict[str, Any]) -> list[Any]:
    """The jaxprs inside an equation's parameters (``jax.extend.core.jaxprs_in_params``
    exists only from JAX 0.5 on)."""
    found = []
    for value in params.values():
        for item in value if isinstance(value, (tuple, list)) else (value,):
            if isinstance(item, jax.extend.core.ClosedJaxpr):
                found.append(item.jaxpr)
            elif isinstance(item, jax.extend.core.Jaxpr):
                found.append(item)
    return found


def _primitive_names(jaxpr: Any) -> set[str]:
    names = set()
    for eqn in jaxpr.eqns:
        names.add(eqn.primitive.name)
        for sub in _nested_jaxprs(eqn.params):
            names |= _primitive_names(sub)
    return names


# ---------------------------------------------------------------------------------------
# filter_checkpoint


def test_checkpoint_bare_matches_and_remats() -> None:
    block, x = _block(), jnp.array([0.1, 0.2, 0.3])

    @eqx.filter_checkpoint
    def f(m: Block, x: jax.Array, tag: str) -> tuple[jax.Array, str]:
        return m(x), tag

    out, tag = f(block, x, "t")
    assert tag == "t"
    np.testing.assert_allclose(out, block(x), rtol=1e-6)

    def loss(m: Block, x: jax.Array) -> jax.Array:
        return jnp.sum(f(m, x, "t")[0] ** 2)

    grads = jax.grad(loss)(block, x)
    ref = jax.grad(lambda w: jnp.sum(jnp.sin(w @ jnp.sin(x)) ** 2))(block.w)
    np.testing.assert_allclose(grads.w, ref, rtol=1e-6)
    jaxpr = jax.make_jaxpr(jax.grad(loss))(block, x)
    assert "remat2" in _primitive_names(jaxpr.jaxpr) or "checkpoint" in _primitive_names(
        jaxpr.jaxpr
    )
    # Without the checkpoint there is no remat primitive.
    plain = jax.make_jaxpr(jax.grad(lambda m, x: jnp.sum(m(x) ** 2)))(block, x)
    assert not {"remat2", "checkpoint"} & _primitive_names(plain.jaxpr)


def test_checkpoint_with_arguments_passes_policy() -> None:
    policy = jax.checkpoint_policies.nothing_saveable
    f = eqx.filter_checkpoint(prevent_cse=False, policy=policy)(lambda x, n: x**n)
    np.testing.assert_allclose(jax.grad(f)(jnp.array(2.0), 3), 12.0)
    jaxpr = jax.make_jaxpr(lambda x: f(x, 3))(jnp.array(2.0))
    (eqn,) = [e for e in jaxpr.jaxpr.eqns if e.primitive.name in ("remat2", "checkpoint")]
    assert eqn.params["policy"] is policy and eqn.params["prevent_cse"] is False


def test_checkpoint_as_method_decorator_and_pytree() -> None:
    class Net(eqx.Module):
        w: Float[Array, " n"]

        @eqx.filter_checkpoint
        def __call__(self, x: jax.Array) -> jax.Array:
            return jnp.sum(self.w * x)

    net = Net(jnp.array([1.0, 2.0]))
    x = jnp.array([3.0, 4.0])
    assert net(x) == 11.0
    np.testing.assert_allclose(jax.grad(lambda n: n(x))(net).w, x)
    wrapped = eqx.filter_checkpoint(net)  # a Module callable: its arrays are leaves
    assert len(jax.tree_util.tree_leaves(wrapped)) == 1


# ---------------------------------------------------------------------------------------
# filter_make_jaxpr


def test_make_jaxpr_static_and_dynamic() -> None:
    def fn(x: jax.Array, n: int, s: jax.ShapeDtypeStruct, tag: str) -> Any:
        return {"y": x * n, "tag": tag, "s": s}

    sds = jax.ShapeDtypeStruct((4,), jnp.int32)
    closed, shapes, static = eqx.filter_make_jaxpr(fn)(jnp.ones(2), 3, sds, "tg")
    assert len(closed.jaxpr.invars) == 2  # x and the ShapeDtypeStruct; n and tag static
    assert shapes["y"] == jax.ShapeDtypeStruct((2,), jnp.float32)
    assert shapes["s"] == sds and shapes["tag"] is None
    assert static == {"y": None, "tag": "tg", "s": None}
    out = jax.core.eval_jaxpr(closed.jaxpr, closed.consts, jnp.array([1.0, 2.0]), jnp.arange(4))
    s_out, y_out = out  # dict leaves in key order: "s", "y"
    np.testing.assert_array_equal(s_out, jnp.arange(4))
    np.testing.assert_allclose(y_out, [3.0, 6.0])


def test_make_jaxpr_of_module() -> None:
    block = _block()
    closed, shapes, static = eqx.filter_make_jaxpr(block)(jnp.ones(3))
    # The Module's weight is an input of the jaxpr, ahead of x.
    assert [v.aval.shape for v in closed.jaxpr.invars] == [(3, 3), (3,)]
    assert shapes == jax.ShapeDtypeStruct((3,), jnp.float32) and static is None


# ---------------------------------------------------------------------------------------
# filter_eval_shape


def test_eval_shape_module_constructor_allocates_nothing() -> None:
    calls: list[Any] = []

    def spy(*args: Any, **kwargs: Any) -> Linear:
        linear = Linear(*args, **kwargs)
        calls.append(type(linear.weight))
        return linear

    shapes = eqx.filter_eval_shape(spy, 3, 4, key=jr.key(0))
    assert isinstance(shapes, Linear)
    assert shapes.weight == jax.ShapeDtypeStruct((4, 3), jnp.float32)
    assert shapes.bias == jax.ShapeDtypeStruct((4,), jnp.float32)
    assert shapes.in_features == 3 and shapes.out_features == 4
    # Construction ran on tracers: no parameter was computed.
    assert len(calls) == 1 and issubclass(calls[0], jax.core.Tracer)
    direct = eqx.filter_eval_shape(Linear, 3, 4, key=jr.key(0))
    assert direct.weight == shapes.weight


def test_eval_shape_passes_non_arrays_and_accepts_structs() -> None:
    block = _block()
    out = eqx.filter_eval_shape(
        lambda m, x, tag: (m(x), tag, None), block, jax.ShapeDtypeStruct((3,), jnp.float32), "t"
    )
    assert out == (jax.ShapeDtypeStruct((3,), jnp.float32), "t", None)


# ---------------------------------------------------------------------------------------
# filter_closure_convert


def test_closure_convert_hoists_tracers() -> None:
    @jax.grad
    def f(x: jax.Array, y: jax.Array) -> jax.Array:
        z = x + y
        g = eqx.filter_closure_convert(lambda a, tag: (z * a, tag), jnp.array(1.0), "t")
        assert [id(c) for c in g.consts] == [id(z)]
        out, tag = g(jnp.array(3.0), "t")
        assert tag == "t"
        return out

    np.testing.assert_allclose(f(jnp.array(1.0), jnp.array(2.0)), 3.0)


def test_closure_convert_through_custom_vjp_boundary() -> None:
    # The converted function is a PyTree, so closed-over values reach a custom_vjp rule as
    # differentiable leaves instead of leaking as tracers.
    @eqx.filter_custom_vjp
    def apply(fn: Any, x: jax.Array) -> jax.Array:
        return fn(x)

    @apply.def_fwd
    def apply_fwd(perturbed: Any, fn: Any, x: jax.Array) -> Any:
        return fn(x), None

    @apply.def_bwd
    def apply_bwd(res: Any, g: jax.Array, perturbed: Any, fn: Any, x: jax.Array) -> Any:
        _, vjp = eqx.filter_vjp(lambda f: f(x), fn)
        return vjp(g)[0]

    def loss(w: jax.Array) -> jax.Array:
        fn = eqx.filter_closure_convert(lambda x: jnp.sum(jnp.sin(w) * x), jnp.ones(2))
        return apply(fn, jnp.array([1.0, 2.0]))

    w = jnp.array([0.5, 1.5])
    np.testing.assert_allclose(jax.grad(loss)(w), jnp.cos(w) * jnp.array([1.0, 2.0]), rtol=1e-6)


def test_closure_convert_module_and_signature_check() -> None:
    block = _block()
    g = eqx.filter_closure_convert(block, jnp.ones(3))
    np.testing.assert_allclose(g(jnp.arange(3.0)), block(jnp.arange(3.0)), rtol=1e-6)
    with pytest.raises(ValueError, match="was converted for arguments"):
        g(jnp.ones(4))


# ---------------------------------------------------------------------------------------
# filter_shard (single device; the multi-device checks are in test_multidevice.py)


def test_shard_single_device_inside_and_outside_jit() -> None:
    device = jax.devices()[0]
    tree = {"a": np.ones(2, np.float32), "s": "static", "n": None}
    out = eqx.filter_shard(tree, device)
    assert isinstance(out["a"], jax.Array) and out["a"].devices() == {device}
    assert out["s"] == "static" and out["n"] is None

    sharding = jax.sharding.SingleDeviceSharding(device)
    jaxpr = jax.make_jaxpr(lambda t: eqx.filter_shard(t, {"a": sharding, "b": None}))(
        {"a": jnp.ones(2), "b": jnp.ones(3)}
    )
    constraints = [e for e in jaxpr.jaxpr.eqns if e.primitive.name == "sharding_constraint"]
    assert len(constraints) == 1  # only "a"; None leaves "b" alone


def test_shard_prefix_mismatch_is_reported() -> None:
    device = jax.devices()[0]
    with pytest.raises(ValueError, match="prefix of x"):
        eqx.filter_shard({"a": jnp.ones(2)}, {"b": device})


# ---------------------------------------------------------------------------------------
# filter_pure_callback


def test_pure_callback_static_and_dynamic() -> None:
    calls: list[Any] = []

    def host(x: np.ndarray, mode: str, *, k: int) -> dict[str, Any]:
        calls.append((type(x), mode, k))
        return {"y": np.sort(np.asarray(x)) * k, "mode": mode}

    spec = {"y": jax.ShapeDtypeStruct((3,), jnp.float32), "mode": "sort"}

    @jax.jit
    def f(x: jax.Array) -> jax.Array:
        out = eqx.filter_pure_callback(host, x, "sort", k=2, result_shape_dtypes=spec)
        assert out["mode"] == "sort"
        return out["y"]

    np.testing.assert_allclose(f(jnp.array([3.0, 1.0, 2.0])), [2.0, 4.0, 6.0])
    assert calls[-1][1:] == ("sort", 2)

    batched = jax.vmap(
        lambda x: eqx.filter_pure_callback(
            host, x, "sort", k=1, result_shape_dtypes=spec, vmap_method="sequential"
        )["y"]
    )(jnp.array([[3.0, 1.0, 2.0], [0.0, -1.0, 5.0]]))
    np.testing.assert_allclose(batched, [[1.0, 2.0, 3.0], [-1.0, 0.0, 5.0]])


def test_pure_callback_wrong_static_result_is_reported() -> None:
    spec = (jax.ShapeDtypeStruct((2,), jnp.float32), "expected")
    with pytest.raises(Exception, match="result_shape_dtypes says 'expected'"):
        jax.block_until_ready(
            eqx.filter_pure_callback(lambda x: (x, "other"), jnp.ones(2), result_shape_dtypes=spec)
        )
