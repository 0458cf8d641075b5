"""``Dropout``: zero random elements during training, rescaling the others."""

from __future__ import annotations

import warnings

import jax.lax as lax
import jax.numpy as jnp
import jax.random as jr
from jaxtyping import Array, Float, Inexact, PRNGKeyArray

from .._module import Module
from .._call_checks import checked_call
from ._init import default_float_dtype
from ._sizes import check_probability

__all__ = ["Dropout"]


class Dropout(Module, strict=True):
    """Set each element to zero with probability ``p`` and scale the rest by ``1/(1-p)``.

    **Arguments:**

    - ``p``: the probability of dropping an element.
    - ``inference``: if True the layer is the identity (the default when the call does
      not say). Switch a whole model with ``eqx.nn.inference_mode``.

    ```python
    dropout = eqx.nn.Dropout(0.1)
    y = dropout(x, key=jax.random.key(0))   # training
    y = dropout(x, inference=True)          # evaluation: y is x
    ```
    """

    p: float | Float[Array, ""]
    inference: bool

    def __init__(
        self,
        p: float | Float[Array, ""] = 0.5,
        inference: bool = False,
        *,
        deterministic: bool | None = None,
    ) -> None:
        if deterministic is not None:
            warnings.warn(
                "Dropout(deterministic=...) is the old name of inference=...",
                DeprecationWarning,
                stacklevel=3,
            )
            inference = deterministic
        check_probability("Dropout", "p", p)
        # An integer probability (p=0, p=1) is meant as a float.
        self.p = float(p) if isinstance(p, int) else p
        self.inference = inference

    @checked_call
    def __call__(
        self,
        x: Inexact[Array, "*shape"],
        *,
        key: PRNGKeyArray | None = None,
        inference: bool | None = None,
        deterministic: bool | None = None,
    ) -> Inexact[Array, "*shape"]:
        """**Arguments:**

        - ``x``: any shape.
        - ``key``: PRNG key choosing the dropped elements; needed when training.
        - ``inference``: overrides the layer's ``inference`` for this call.
        - ``deterministic``: the old name of ``inference``.

        **Returns:** an array like ``x``.
        """
        if deterministic is not None:
            inference = deterministic
        if inference is None:
            inference = self.inference
        if isinstance(self.p, float) and self.p == 0.0:
            inference = True
        if inference:
            return x
        if key is None:
            raise RuntimeError(
                "Dropout needs a `key` when training (inference=False): call it as "
                "dropout(x, key=key), or pass inference=True to disable it"
            )
        # The probability is a hyperparameter, never something to differentiate.
        p = lax.convert_element_type(self.p, default_float_dtype())
        keep = 1.0 - lax.stop_gradient(p)
        mask = jr.bernoulli(key, keep, x.shape)
        # In the input's dtype: a float32 `keep` must not promote a bfloat16 input
        # (nor trip strict dtype promotion).
        return jnp.where(mask, x / keep.astype(x.dtype), 0)
