"""``Linear`` (an affine map) and ``Identity``."""

from __future__ import annotations

from typing import Any, Literal

import jax.random as jr
from jaxtyping import Array, Inexact, Num, PRNGKeyArray

from .._checking import TypeCheckError, get_checks, report
from .._module import Module, field
from .._call_checks import checked_call
from ._init import fan_in_limit, resolve_dtype, uniform_init
from ._sizes import check_size

__all__ = ["Identity", "Linear"]


def _axis_size(size: int | Literal["scalar"]) -> int:
    """The length of the axis a layer size stands for: ``"scalar"`` is one element."""
    return 1 if size == "scalar" else size


class Linear(Module, strict=True):
    """An affine map ``y = W x + b``, initialised like PyTorch's ``nn.Linear``.

    **Arguments:**

    - ``in_features``: the input size; ``"scalar"`` for inputs of shape ``()``.
    - ``out_features``: the output size; ``"scalar"`` for outputs of shape ``()``.
    - ``use_bias``: whether to add a bias ``b``.
    - ``dtype``: the parameters' dtype (default float32, or float64 in x64 mode).
    - ``key``: a PRNG key for the initialisation (keyword-only).

    Weight and bias are drawn uniformly from ``[-1/sqrt(in), 1/sqrt(in))``.

    ```python
    linear = eqx.nn.Linear(3, 4, key=jax.random.key(0))
    y = linear(jnp.ones(3))            # shape (4,)
    ys = jax.vmap(linear)(jnp.ones((8, 3)))  # batch with vmap
    ```
    """

    weight: Inexact[Array, "out_features in_features"]
    bias: Inexact[Array, " out_features"] | None
    in_features: int | Literal["scalar"] = field(static=True)
    out_features: int | Literal["scalar"] = field(static=True)
    use_bias: bool = field(static=True)

    def __init__(
        self,
        in_features: int | Literal["scalar"],
        out_features: int | Literal["scalar"],
        use_bias: bool = True,
        dtype: Any = None,
        *,
        key: PRNGKeyArray,
    ) -> None:
        check_size("Linear", "in_features", in_features, scalar=True)
        check_size("Linear", "out_features", out_features, scalar=True)
        dtype = resolve_dtype(dtype)
        wkey, bkey = jr.split(key)
        in_size, out_size = _axis_size(in_features), _axis_size(out_features)
        lim = fan_in_limit(in_size)
        self.weight = uniform_init(wkey, (out_size, in_size), dtype, lim)
        self.bias = uniform_init(bkey, (out_size,), dtype, lim) if use_bias else None
        self.in_features = in_features
        self.out_features = out_features
        self.use_bias = use_bias

    def __check_init__(self) -> None:
        # A "scalar" size leaves its dimension unbound by the field annotations, so
        # check here that it is the single row/column it stands for.
        shape = getattr(self.weight, "shape", None)  # None in a partial Module
        if shape is None or get_checks() == "off":
            return
        for axis, name in ((0, "out_features"), (1, "in_features")):
            if getattr(self, name) == "scalar" and shape[axis] != 1:
                report(
                    TypeCheckError(
                        f"Linear: field `.weight` has shape {tuple(shape)}, but "
                        f"{name}='scalar' needs size 1 along axis {axis}"
                    )
                )
                return

    @checked_call
    def __call__(
        self, x: Num[Array, "*in_features"], *, key: PRNGKeyArray | None = None
    ) -> Inexact[Array, "*out_features"]:
        """**Arguments:**

        - ``x``: shape ``(in_features,)``, or ``()`` when ``in_features="scalar"``;
          integer inputs are promoted by the matrix product.
        - ``key``: ignored; accepted so every layer can be called the same way.

        **Returns:** shape ``(out_features,)``, or ``()`` when ``out_features="scalar"``.
        """
        if self.in_features == "scalar":
            x = x.reshape(1)
        y = self.weight @ x
        if self.bias is not None:
            y = y + self.bias
        if self.out_features == "scalar":
            y = y.reshape(())
        return y


class Identity(Module, strict=True):
    """The identity map; every constructor argument is accepted and ignored.

    Handy as a placeholder where a layer is expected:

    ```python
    model = eqx.tree_at(lambda m: m.layers[1], model, eqx.nn.Identity())
    ```
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        del args, kwargs

    def __call__(self, x: Any, *, key: PRNGKeyArray | None = None) -> Any:
        """Return ``x`` unchanged (``key`` is ignored)."""
        return x
