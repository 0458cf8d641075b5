"""``backward_nan``: find NaNs that appear only on the backward pass."""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

from .._custom_ad import filter_custom_vjp
from .._errors import call_site, error_if
from .._filters import combine, is_array, partition
from .._jax_typed import pure_callback, shape_dtype_struct, tree_flatten
from .._pretty import tree_pformat

__all__ = ["backward_nan"]


def backward_nan(x: Any, name: str | None = None, terminate: bool = True) -> Any:
    """The identity on ``x``; on the backward pass, print ``x`` and its cotangent, and
    stop if the cotangent holds a NaN.

    **Arguments:**

    - ``x``: any PyTree (its floating-point arrays are the ones differentiated).
    - ``name``: a label printed above the values, to tell several calls apart.
    - ``terminate``: if ``True``, a NaN anywhere in the cotangent raises
      :class:`~equinox_typed.EquinoxRuntimeError` through :func:`~equinox_typed.error_if`
      (so ``EQX_ON_ERROR=breakpoint`` opens a debugger there instead); if ``False``, the
      values are only printed.

    **Returns:** ``x``, unchanged.

    The printout (on each backward pass, from inside compiled code too) is::

        name:
           primals=<x, arrays in full>
        cotangents=<its cotangent; None where there is none>

    ```python
    def loss(x):
        y = eqx.debug.backward_nan(jnp.sqrt(x), name="sqrt")
        return jnp.sum(jnp.where(x > 0, y, 0.0))

    jax.grad(loss)(jnp.array([-1.0, 4.0]))  # prints, then raises: NaN in the cotangent
    ```
    """
    return _intercepted(x, name, terminate, call_site())


@filter_custom_vjp
def _intercepted(x: Any, name: str | None, terminate: bool, site: str) -> Any:
    del name, terminate, site
    return x


@_intercepted.def_fwd
def _forward(
    perturbed: Any, x: Any, name: str | None, terminate: bool, site: str
) -> tuple[Any, None]:
    del perturbed, name, terminate, site
    return x, None


def _show(name: str | None, x_static: Any, x_arrays: Any, cotangent: Any) -> None:
    header = "" if name is None else f"{name}:\n"
    primals = tree_pformat(combine(x_arrays, x_static), short_arrays=False)
    cotangents = tree_pformat(cotangent, short_arrays=False)
    print(f"{header}   primals={primals}\ncotangents={cotangents}")


@_intercepted.def_bwd
def _backward(
    residuals: None,
    cotangent: Any,
    perturbed: Any,
    x: Any,
    name: str | None,
    terminate: bool,
    site: str,
) -> Any:
    del residuals, perturbed
    x_arrays, x_static = partition(x, is_array)
    inexact = [
        leaf
        for leaf in tree_flatten(cotangent)[0]
        if is_array(leaf) and jnp.issubdtype(leaf.dtype, jnp.inexact)
    ]
    if not (terminate and inexact):

        def show(arrays: Any, ct: Any) -> None:
            _show(name, x_static, arrays, ct)

        jax.debug.callback(show, x_arrays, cotangent, ordered=True)
        return cotangent
    has_nan = jnp.any(jnp.stack([jnp.isnan(leaf).any() for leaf in inexact]))

    def show_then(arrays: Any, ct: Any, flag: Any) -> Any:
        _show(name, x_static, arrays, ct)
        return flag

    # The check reads the flag through the printing callback, so the values are always
    # printed before a NaN stops the program (an independent print may be scheduled
    # after the failing check, and never happen).
    has_nan = pure_callback(
        show_then, shape_dtype_struct((), jnp.bool_), x_arrays, cotangent, has_nan,
        vmap_method="sequential",
    )
    label = "" if name is None else f" (name={name!r})"
    message = (
        f"Encountered NaN in the cotangent of the value given to "
        f"eqx.debug.backward_nan{label} at\n{site.rstrip()}"
    )
    return error_if(cotangent, has_nan, message)
