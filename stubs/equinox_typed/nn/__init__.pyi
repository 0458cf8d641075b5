"""Neural-network layers (type stubs).

Layer fields are declared ``Final`` (read-only properties where their type depends on
a type parameter), so assigning to one after construction is a static error as well as
a runtime one (use ``eqx.tree_at`` to make an
updated copy). Array shapes in the annotations are jaxtyping
shapes, which static checkers read as plain ``jax.Array``.
"""

import abc
from collections.abc import Callable, Hashable, Iterator, Sequence
from typing import Any, Final, Generic, Literal, ParamSpec, TypeAlias, overload

from typing_extensions import TypeVar

from jax import Array
from jax.typing import ArrayLike, DTypeLike
from jaxtyping import Bool, Float, Inexact, Integer, Num, PRNGKeyArray

from .. import Module

__all__ = [
    "Linear",
    "Identity",
    "Lambda",
    "Dropout",
    "MLP",
    "PReLU",
    "GRUCell",
    "LSTMCell",
    "Embedding",
    "MultiheadAttention",
    "RotaryPositionalEmbedding",
    "Conv",
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvTranspose",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ConvTranspose3d",
    "Pool",
    "MaxPool1d",
    "MaxPool2d",
    "MaxPool3d",
    "AvgPool1d",
    "AvgPool2d",
    "AvgPool3d",
    "AdaptivePool",
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d",
    "State",
    "StateIndex",
    "StatefulLayer",
    "make_with_state",
    "delete_init_state",
    "Sequential",
    "LayerNorm",
    "GroupNorm",
    "RMSNorm",
    "BatchNorm",
    "inference_mode",
    "Shared",
    "WeightNorm",
    "SpectralNorm",
]

_T = TypeVar("_T")
_P = ParamSpec("_P")
_Value = TypeVar("_Value")
_Layer = TypeVar("_Layer")
# typing_extensions' TypeVar: `default` (PEP 696) keeps a bare `Sequential` annotation
# valid; covariant, so a `Sequential[Linear]` is a `Sequential` (it is immutable).
_SeqLayer = TypeVar(
    "_SeqLayer", bound=Callable[..., Any], default=Callable[..., Any], covariant=True
)

_Size: TypeAlias = int | Sequence[int]
"""One int for every spatial dimension, or one int per spatial dimension."""

_PaddingString: TypeAlias = Literal["SAME", "SAME_LOWER", "VALID"]
"""A padding computed from the kernel: as stored (the constructor upper-cases it)."""

_Padding: TypeAlias = (
    _PaddingString
    | Literal["same", "same_lower", "valid"]
    | int
    | Sequence[int]
    | Sequence[tuple[int, int]]
)
"""``"SAME"``/``"SAME_LOWER"``/``"VALID"`` (either case), one int, one int per dimension,
or ``(before, after)`` pairs."""

_PaddingMode: TypeAlias = Literal["ZEROS", "REFLECT", "REPLICATE", "CIRCULAR"]
"""How ``Conv`` pads: as stored (the constructor upper-cases it)."""

_PaddingModeArg: TypeAlias = _PaddingMode | Literal["zeros", "reflect", "replicate", "circular"]

_TransposePaddingMode: TypeAlias = Literal["ZEROS", "CIRCULAR"]
"""The padding modes ``ConvTranspose`` supports (as stored)."""

_TransposePaddingModeArg: TypeAlias = _TransposePaddingMode | Literal["zeros", "circular"]

_PoolPadding: TypeAlias = int | Sequence[int] | Sequence[tuple[int, int]]

_Stats: TypeAlias = tuple[Float[Array, "input_size"], Float[Array, "input_size"]]
"""Running (mean, variance) of :class:`BatchNorm`."""

# =======================================================================================
# State
# =======================================================================================

class StateIndex(Module, Generic[_Value]):
    """Marks a place in a model that owns a piece of mutable state.

    **Arguments:**

    - ``init``: the initial value: any PyTree of arrays. Its structure, shapes and
      dtypes are fixed: later values given to :meth:`State.set` must match them.

    ```python
    class Counter(eqx.Module):
        index: eqx.nn.StateIndex

        def __init__(self):
            self.index = eqx.nn.StateIndex(jnp.array(0))

        def __call__(self, x, state):
            count = state.get(self.index)
            return x + count, state.set(self.index, count + 1)
    ```
    """

    @property
    def init(self) -> _Value: ...
    def __init__(self, init: _Value) -> None:
        """**Arguments:**

        - ``init``: the initial value: any PyTree of arrays. Its structure, shapes and
          dtypes are fixed: later values given to :meth:`State.set` must match them.
        """

class State:
    """The state of a model: a PyTree mapping each :class:`StateIndex` to its value.

    **Arguments:**

    - ``model``: any PyTree; every :class:`StateIndex` inside it contributes its initial
      value. Usually built by :func:`make_with_state` instead.

    A State is immutable: :meth:`set` returns a new State, and the old one becomes
    unusable (so that a forgotten ``state = state.set(...)`` fails loudly).

    ```python
    model, state = eqx.nn.make_with_state(eqx.nn.BatchNorm)(3, "batch", mode="batch")
    mean, var = state.get(model.batch_state_index)
    ```
    """

    def __init__(self, model: Any) -> None:
        """**Arguments:**

        - ``model``: any PyTree; every :class:`StateIndex` inside it contributes its initial
          value. Usually built by :func:`make_with_state` instead.
        """
    def get(self, item: StateIndex[_Value]) -> _Value:
        """The current value stored under ``item``."""
    def set(self, item: StateIndex[_Value], value: _Value) -> State:
        """A new State with ``value`` stored under ``item`` (same structure as before)."""
    def substate(self, pytree: Any) -> State:
        """The part of this State used by the StateIndex objects inside ``pytree``."""
    def update(self, substate: State) -> State:
        """A new State with the entries of ``substate`` replaced."""

def make_with_state(make_model: Callable[_P, _T]) -> Callable[_P, tuple[_T, State]]:
    """Wrap a model constructor so that it returns ``(model, state)``.

    **Arguments:**

    - ``make_model``: a callable building the model (usually its class).

    The initial values are moved into the returned State and removed from the returned
    model, so that they are not stored twice (nor mistaken for trainable parameters).

    ```python
    model, state = eqx.nn.make_with_state(eqx.nn.BatchNorm)(3, "batch", mode="batch")
    ```
    """

def delete_init_state(model: _T) -> _T:
    """A copy of ``model`` whose StateIndexes no longer carry their initial values."""

class StatefulLayer(Module):
    """Base class of layers called as ``layer(x, state, *, key=None) -> (y, state)``.

    :class:`~equinox_typed.nn.Sequential` threads a State through the layers whose
    :meth:`is_stateful` returns True, and calls the others as ``layer(x, key=key)``.
    """

    def is_stateful(self) -> bool:
        """Whether ``__call__`` takes and returns a State."""
    @abc.abstractmethod
    def __call__(
        self, x: Array, state: State, *, key: PRNGKeyArray | None = None
    ) -> tuple[Array, State]:
        """Apply the layer: ``(y, new_state)`` from the input ``x`` and the current
        ``state``; ``key`` is a PRNG key for layers that use randomness.
        """

# =======================================================================================
# Basic layers
# =======================================================================================

class Linear(Module):
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

    weight: Final[Float[Array, "out_features in_features"]]
    bias: Final[Float[Array, "out_features"] | None]
    in_features: Final[int | Literal["scalar"]]
    out_features: Final[int | Literal["scalar"]]
    use_bias: Final[bool]
    def __init__(
        self,
        in_features: int | Literal["scalar"],
        out_features: int | Literal["scalar"],
        use_bias: bool = True,
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray,
    ) -> None:
        """**Arguments:**

        - ``in_features``: the input size; ``"scalar"`` for inputs of shape ``()``.
        - ``out_features``: the output size; ``"scalar"`` for outputs of shape ``()``.
        - ``use_bias``: whether to add a bias ``b``.
        - ``dtype``: the parameters' dtype (default float32, or float64 in x64 mode).
        - ``key``: a PRNG key for the initialisation (keyword-only).
        """
    def __call__(
        self, x: Num[Array, "in_features"], *, key: PRNGKeyArray | None = None
    ) -> Float[Array, "out_features"]:
        """**Arguments:**

        - ``x``: shape ``(in_features,)``, or ``()`` when ``in_features="scalar"``;
          integer inputs are promoted by the matrix product.
        - ``key``: ignored; accepted so every layer can be called the same way.

        **Returns:** shape ``(out_features,)``, or ``()`` when ``out_features="scalar"``.
        """

class Identity(Module):
    """The identity map; every constructor argument is accepted and ignored.

    Handy as a placeholder where a layer is expected:

    ```python
    model = eqx.tree_at(lambda m: m.layers[1], model, eqx.nn.Identity())
    ```
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        """The identity map; every constructor argument is accepted and ignored."""
    def __call__(self, x: _T, *, key: PRNGKeyArray | None = None) -> _T:
        """Return ``x`` unchanged (``key`` is ignored)."""

class Lambda(Module):
    """Wrap a one-argument function so it can sit among layers (e.g. in ``Sequential``).

    **Arguments:**

    - ``fn``: the function, called as ``fn(x)``. It is a field, not static: if it is
      itself a PyTree (a Module, an ``eqx.Partial``) its arrays are the layer's leaves.

    ```python
    act = eqx.nn.Lambda(jax.nn.gelu)
    act(jnp.array([-1.0, 1.0]))
    ```
    """

    fn: Final[Callable[[Any], Any]]
    def __init__(self, fn: Callable[[Any], Any]) -> None:
        """Initialize self.  See help(type(self)) for accurate signature."""
    def __call__(self, x: Array, *, key: PRNGKeyArray | None = None) -> Array:
        """Return ``fn(x)``; ``key`` is ignored."""

class Dropout(Module):
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

    p: Final[float]
    inference: Final[bool]
    def __init__(
        self, p: float = 0.5, inference: bool = False, *, deterministic: bool | None = None
    ) -> None:
        """**Arguments:**

        - ``p``: the probability of dropping an element.
        - ``inference``: if True the layer is the identity (the default when the call does
          not say). Switch a whole model with ``eqx.nn.inference_mode``.
        """
    def __call__(
        self,
        x: Array,
        *,
        key: PRNGKeyArray | None = None,
        inference: bool | None = None,
        deterministic: bool | None = None,
    ) -> Array:
        """**Arguments:**

        - ``x``: any shape.
        - ``key``: PRNG key choosing the dropped elements; needed when training.
        - ``inference``: overrides the layer's ``inference`` for this call.
        - ``deterministic``: the old name of ``inference``.

        **Returns:** an array like ``x``.
        """

class MLP(Module):
    """A multi-layer perceptron: ``depth`` hidden layers of ``width_size`` units.

    **Arguments:**

    - ``in_size``: the input size, or ``"scalar"`` for inputs of shape ``()``.
    - ``out_size``: the output size, or ``"scalar"`` for outputs of shape ``()``.
    - ``width_size``: the size of each hidden layer.
    - ``depth``: the number of hidden layers (``depth + 1`` ``Linear`` layers in all;
      ``depth=0`` is a single ``Linear``).
    - ``activation``: applied elementwise after every layer but the last (default
      ReLU). A learnt activation (e.g. ``PReLU``) gets its own parameters for every
      hidden layer and neuron: its arrays gain leading axes ``(depth, width_size)``.
    - ``final_activation``: applied elementwise after the last layer (default
      identity); learnt ones get one copy per output (none when ``out_size`` is
      ``"scalar"``).
    - ``use_bias``: whether the hidden layers have biases.
    - ``use_final_bias``: whether the last layer has a bias.
    - ``dtype``: the parameters' dtype (default float32, or float64 in x64 mode).
    - ``scan``: store the ``depth - 1`` identical hidden-to-hidden layers as one
      stacked ``Linear`` (its arrays have a leading axis of that length; ``layers``
      is then ``(first, stacked, last)``) applied with ``jax.lax.scan``: the same
      outputs, and compile time that no longer grows with ``depth``.
    - ``key``: a PRNG key for the initialisation (keyword-only).

    ```python
    mlp = eqx.nn.MLP(2, "scalar", width_size=32, depth=2, key=jax.random.key(0))
    mlp(jnp.array([0.5, -1.0]))   # shape ()
    deep = eqx.nn.MLP(2, 2, width_size=32, depth=64, scan=True, key=jax.random.key(0))
    ```
    """

    layers: Final[tuple[Linear, ...]]
    activation: Final[Callable[..., Any]]
    final_activation: Final[Callable[..., Any]]
    use_bias: Final[bool]
    use_final_bias: Final[bool]
    in_size: Final[int | Literal["scalar"]]
    out_size: Final[int | Literal["scalar"]]
    width_size: Final[int]
    depth: Final[int]
    scan: Final[bool]
    def __init__(
        self,
        in_size: int | Literal["scalar"],
        out_size: int | Literal["scalar"],
        width_size: int,
        depth: int,
        activation: Callable[..., Any] = ...,
        final_activation: Callable[..., Any] = ...,
        use_bias: bool = True,
        use_final_bias: bool = True,
        dtype: DTypeLike | None = None,
        *,
        scan: bool = False,
        key: PRNGKeyArray,
    ) -> None:
        """**Arguments:**

        - ``in_size``: the input size, or ``"scalar"`` for inputs of shape ``()``.
        - ``out_size``: the output size, or ``"scalar"`` for outputs of shape ``()``.
        - ``width_size``: the size of each hidden layer.
        - ``depth``: the number of hidden layers (``depth + 1`` ``Linear`` layers in all;
          ``depth=0`` is a single ``Linear``).
        - ``activation``: applied elementwise after every layer but the last (default
          ReLU). A learnt activation (e.g. ``PReLU``) gets its own parameters for every
          hidden layer and neuron: its arrays gain leading axes ``(depth, width_size)``.
        - ``final_activation``: applied elementwise after the last layer (default
          identity); learnt ones get one copy per output (none when ``out_size`` is
          ``"scalar"``).
        - ``use_bias``: whether the hidden layers have biases.
        - ``use_final_bias``: whether the last layer has a bias.
        - ``dtype``: the parameters' dtype (default float32, or float64 in x64 mode).
        - ``scan``: store the ``depth - 1`` identical hidden-to-hidden layers as one
          stacked ``Linear`` (its arrays have a leading axis of that length; ``layers``
          is then ``(first, stacked, last)``) applied with ``jax.lax.scan``: the same
          outputs, and compile time that no longer grows with ``depth``.
        - ``key``: a PRNG key for the initialisation (keyword-only).
        """
    def check_layer_chain(self) -> None:
        """Raise ``TypeCheckError`` unless the layers fit together (sizes chain from
        ``in_size`` to ``out_size``); also run at construction and on every call."""
    def __call__(
        self, x: Num[Array, "in_size"], *, key: PRNGKeyArray | None = None
    ) -> Float[Array, "out_size"]:
        """**Arguments:**

        - ``x``: shape ``(in_size,)``, or ``()`` when ``in_size="scalar"``.
        - ``key``: ignored.

        **Returns:** shape ``(out_size,)``, or ``()`` when ``out_size="scalar"``.
        """

class PReLU(Module):
    """``x`` where ``x >= 0``, else ``negative_slope * x``, with a learnt slope.

    **Arguments:**

    - ``init_alpha``: the initial slope: a scalar (shared by every element), or an
      array broadcast against the input's trailing axes, e.g. one slope per channel.
    - ``dtype``: the slope's dtype (default float32, or float64 in x64 mode).

    ```python
    prelu = eqx.nn.PReLU()                   # one slope, initially 0.25
    prelu(jnp.array([-2.0, 3.0]))            # [-0.5, 3.0]
    ```
    """

    negative_slope: Final[Float[Array, "*channels"]]
    def __init__(self, init_alpha: ArrayLike = 0.25, dtype: DTypeLike | None = None) -> None:
        """**Arguments:**

        - ``init_alpha``: the initial slope: a scalar (shared by every element), or an
          array broadcast against the input's trailing axes, e.g. one slope per channel.
        - ``dtype``: the slope's dtype (default float32, or float64 in x64 mode).
        """
    def __call__(
        self, x: Float[Array, "*shape"], *, key: PRNGKeyArray | None = None
    ) -> Float[Array, "*shape"]:
        """Apply elementwise to ``x`` of any shape; ``key`` is ignored."""

# =======================================================================================
# Recurrent, embedding, attention
# =======================================================================================

class GRUCell(Module):
    """One step of a gated recurrent unit, with PyTorch's ``nn.GRUCell`` equations.

    With gates ``r`` (reset), ``z`` (update) and candidate ``n``::

        r = sigmoid(W_ir x + W_hr h + b_r)
        z = sigmoid(W_iz x + W_hz h + b_z)
        n = tanh(W_in x + b_in + r * (W_hn h + b_hn))
        h' = (1 - z) * n + z * h

    ``bias`` holds ``b_r, b_z, b_in`` (PyTorch's two biases summed where they are only
    ever added together) and ``bias_n`` holds ``b_hn``.

    **Arguments:**

    - ``input_size``, ``hidden_size``: the sizes of the input and the hidden state.
    - ``use_bias``: whether to use biases.
    - ``dtype``: the parameters' dtype (default float32, or float64 in x64 mode).
    - ``key``: a PRNG key for the initialisation (keyword-only); every parameter is
      uniform on ``[-1/sqrt(hidden_size), 1/sqrt(hidden_size))``.

    ```python
    cell = eqx.nn.GRUCell(3, 5, key=jax.random.key(0))
    h = jnp.zeros(5)
    for x in xs:             # or jax.lax.scan
        h = cell(x, h)
    ```
    """

    weight_ih: Final[Float[Array, "3*hidden_size input_size"]]
    weight_hh: Final[Float[Array, "3*hidden_size hidden_size"]]
    bias: Final[Float[Array, "3*hidden_size"] | None]
    bias_n: Final[Float[Array, "hidden_size"] | None]
    input_size: Final[int]
    hidden_size: Final[int]
    use_bias: Final[bool]
    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        use_bias: bool = True,
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray,
    ) -> None:
        """**Arguments:**

        - ``input_size``, ``hidden_size``: the sizes of the input and the hidden state.
        - ``use_bias``: whether to use biases.
        - ``dtype``: the parameters' dtype (default float32, or float64 in x64 mode).
        - ``key``: a PRNG key for the initialisation (keyword-only); every parameter is
          uniform on ``[-1/sqrt(hidden_size), 1/sqrt(hidden_size))``.
        """
    def __call__(
        self,
        input: Num[Array, "input_size"],
        hidden: Float[Array, "hidden_size"],
        *,
        key: PRNGKeyArray | None = None,
    ) -> Float[Array, "hidden_size"]:
        """**Arguments:** ``input`` (``(input_size,)``), the previous ``hidden`` state
        (``(hidden_size,)``); ``key`` is ignored. **Returns:** the next hidden state.
        """

class LSTMCell(Module):
    """One step of a long short-term memory cell, with PyTorch's ``nn.LSTMCell``
    equations (gates in PyTorch's order: input, forget, cell, output)::

        i, f, g, o = split(W_ih x + W_hh h + b, 4)
        c' = sigmoid(f) * c + sigmoid(i) * tanh(g)
        h' = sigmoid(o) * tanh(c')

    ``bias`` is PyTorch's ``bias_ih + bias_hh`` (they are only ever added together).

    **Arguments:**

    - ``input_size``, ``hidden_size``: the sizes of the input and the hidden state.
    - ``use_bias``: whether to use a bias.
    - ``dtype``: the parameters' dtype (default float32, or float64 in x64 mode).
    - ``key``: a PRNG key for the initialisation (keyword-only); every parameter is
      uniform on ``[-1/sqrt(hidden_size), 1/sqrt(hidden_size))``.

    ```python
    cell = eqx.nn.LSTMCell(3, 5, key=jax.random.key(0))
    h, c = cell(x, (jnp.zeros(5), jnp.zeros(5)))
    ```
    """

    weight_ih: Final[Float[Array, "4*hidden_size input_size"]]
    weight_hh: Final[Float[Array, "4*hidden_size hidden_size"]]
    bias: Final[Float[Array, "4*hidden_size"] | None]
    input_size: Final[int]
    hidden_size: Final[int]
    use_bias: Final[bool]
    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        use_bias: bool = True,
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray,
    ) -> None:
        """**Arguments:**

        - ``input_size``, ``hidden_size``: the sizes of the input and the hidden state.
        - ``use_bias``: whether to use a bias.
        - ``dtype``: the parameters' dtype (default float32, or float64 in x64 mode).
        - ``key``: a PRNG key for the initialisation (keyword-only); every parameter is
          uniform on ``[-1/sqrt(hidden_size), 1/sqrt(hidden_size))``.
        """
    def __call__(
        self,
        input: Num[Array, "input_size"],
        hidden: tuple[Float[Array, "hidden_size"], Float[Array, "hidden_size"]],
        *,
        key: PRNGKeyArray | None = None,
    ) -> tuple[Float[Array, "hidden_size"], Float[Array, "hidden_size"]]:
        """**Arguments:** ``input`` (``(input_size,)``) and the previous state ``(h, c)``,
        each ``(hidden_size,)``; ``key`` is ignored. **Returns:** the next ``(h, c)``.
        """

class Embedding(Module):
    """A table of ``num_embeddings`` vectors of size ``embedding_size``; calling it with
    an index returns that row.

    **Arguments:**

    - ``num_embeddings``: the number of rows. May be left out when ``weight`` is given.
    - ``embedding_size``: the size of each row. May be left out when ``weight`` is given.
    - ``weight``: an existing table of shape ``(num_embeddings, embedding_size)`` to use
      instead of a random one.
    - ``dtype``: the table's dtype for a random table (default float32, or float64 in
      x64 mode).
    - ``key``: a PRNG key; needed when ``weight`` is not given. Rows are standard
      normal, as in PyTorch's ``nn.Embedding``.

    ```python
    embed = eqx.nn.Embedding(100, 16, key=jax.random.key(0))
    embed(jnp.array(7))                          # shape (16,)
    jax.vmap(embed)(jnp.array([1, 2, 3]))        # shape (3, 16)
    ```
    """

    weight: Final[Float[Array, "num_embeddings embedding_size"]]
    num_embeddings: Final[int]
    embedding_size: Final[int]
    def __init__(
        self,
        num_embeddings: int | None = None,
        embedding_size: int | None = None,
        weight: Float[Array, "num_embeddings embedding_size"] | None = None,
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray | None = None,
    ) -> None:
        """**Arguments:**

        - ``num_embeddings``: the number of rows. May be left out when ``weight`` is given.
        - ``embedding_size``: the size of each row. May be left out when ``weight`` is given.
        - ``weight``: an existing table of shape ``(num_embeddings, embedding_size)`` to use
          instead of a random one.
        - ``dtype``: the table's dtype for a random table (default float32, or float64 in
          x64 mode).
        - ``key``: a PRNG key; needed when ``weight`` is not given. Rows are standard
          normal, as in PyTorch's ``nn.Embedding``.
        """
    def __call__(
        self, x: Integer[Array, ""] | int, *, key: PRNGKeyArray | None = None
    ) -> Float[Array, "embedding_size"]:
        """**Arguments:** ``x``, a scalar integer index; ``key`` is ignored. Use
        ``jax.vmap`` to embed several indices. **Returns:** row ``x`` of the table.
        """

class MultiheadAttention(Module):
    """Multi-head attention (Vaswani et al., 2017) on one unbatched example.

    Queries, keys and values are projected into ``num_heads`` heads, each head attends
    with scaled dot-product attention, and the concatenated heads are projected to
    ``output_size``.

    **Arguments:**

    - ``num_heads``: the number of heads.
    - ``query_size``: the feature size of the queries.
    - ``key_size``, ``value_size``: the feature sizes of keys and values (default
      ``query_size``).
    - ``output_size``: the feature size of the result (default ``query_size``).
    - ``qk_size``, ``vo_size``: the per-head size of queries/keys and of values/outputs
      (default ``query_size // num_heads``).
    - ``use_query_bias``, ``use_key_bias``, ``use_value_bias``, ``use_output_bias``:
      whether each projection has a bias.
    - ``dropout_p``: the dropout probability on the attention weights.
    - ``inference``: whether dropout is off by default.
    - ``dtype``: the parameters' dtype (default float32, or float64 in x64 mode).
    - ``key``: a PRNG key for the initialisation (keyword-only).

    ```python
    mha = eqx.nn.MultiheadAttention(num_heads=4, query_size=32, key=jax.random.key(0))
    out = mha(x, x, x)   # self-attention, x: (seq_length, 32) -> (seq_length, 32)
    ```
    """

    query_proj: Final[Linear]
    key_proj: Final[Linear]
    value_proj: Final[Linear]
    output_proj: Final[Linear]
    dropout: Final[Dropout]
    num_heads: Final[int]
    query_size: Final[int]
    key_size: Final[int]
    value_size: Final[int]
    output_size: Final[int]
    qk_size: Final[int]
    vo_size: Final[int]
    use_query_bias: Final[bool]
    use_key_bias: Final[bool]
    use_value_bias: Final[bool]
    use_output_bias: Final[bool]
    def __init__(
        self,
        num_heads: int,
        query_size: int,
        key_size: int | None = None,
        value_size: int | None = None,
        output_size: int | None = None,
        qk_size: int | None = None,
        vo_size: int | None = None,
        use_query_bias: bool = False,
        use_key_bias: bool = False,
        use_value_bias: bool = False,
        use_output_bias: bool = False,
        dropout_p: float = 0.0,
        inference: bool = False,
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray,
    ) -> None:
        """**Arguments:**

        - ``num_heads``: the number of heads.
        - ``query_size``: the feature size of the queries.
        - ``key_size``, ``value_size``: the feature sizes of keys and values (default
          ``query_size``).
        - ``output_size``: the feature size of the result (default ``query_size``).
        - ``qk_size``, ``vo_size``: the per-head size of queries/keys and of values/outputs
          (default ``query_size // num_heads``).
        - ``use_query_bias``, ``use_key_bias``, ``use_value_bias``, ``use_output_bias``:
          whether each projection has a bias.
        - ``dropout_p``: the dropout probability on the attention weights.
        - ``inference``: whether dropout is off by default.
        - ``dtype``: the parameters' dtype (default float32, or float64 in x64 mode).
        - ``key``: a PRNG key for the initialisation (keyword-only).
        """
    def __call__(
        self,
        query: Float[Array, "q_seq q_size"],
        key_: Float[Array, "kv_seq k_size"],
        value: Float[Array, "kv_seq v_size"],
        mask: None
        | Bool[Array, "q_seq kv_seq"]
        | Float[Array, "q_seq kv_seq"]
        | Bool[Array, "num_heads q_seq kv_seq"]
        | Float[Array, "num_heads q_seq kv_seq"] = None,
        *,
        key: PRNGKeyArray | None = None,
        inference: bool | None = None,
        deterministic: bool | None = None,
        process_heads: Callable[..., Any] | None = None,
    ) -> Float[Array, "q_seq o_size"]:
        """**Arguments:**

        - ``query``: ``(q_seq, query_size)``.
        - ``key_``: ``(kv_seq, key_size)``.
        - ``value``: ``(kv_seq, value_size)``.
        - ``mask``: ``(q_seq, kv_seq)``, or ``(num_heads, q_seq, kv_seq)`` for one mask
          per head; where False, attention is blocked.
        - ``key``: PRNG key for dropout (needed when dropout is active).
        - ``inference``: overrides the dropout's ``inference`` for this call
          (``deterministic`` is its old name).
        - ``process_heads``: called on the projected ``(query_heads, key_heads,
          value_heads)`` (shapes ``(seq, num_heads, size)``) and returning replacements,
          e.g. to apply rotary embeddings.

        **Returns:** ``(q_seq, output_size)``.
        """

class RotaryPositionalEmbedding(Module):
    """Rotary positional embedding (Su et al., 2021), in the "rotate half" layout.

    Feature ``i`` is paired with feature ``i + embedding_size/2``; at position ``t`` the
    pair is rotated by the angle ``t * theta ** (-2i / embedding_size)``.

    **Arguments:**

    - ``embedding_size``: the (even, non-negative) number of features.
    - ``theta``: the base of the angle frequencies.
    - ``dtype``: the dtype of the cosine/sine tables (computed in the default floating
      dtype, then cast); default: float32, or float64 under ``jax_enable_x64``. The
      rotation is computed in the promotion of this and the input's dtype and returned
      in the input's dtype.

    Typically applied to the query and key heads of attention through
    ``MultiheadAttention(..., process_heads=...)``:

    ```python
    rope = eqx.nn.RotaryPositionalEmbedding(64)
    rotated = rope(x)   # x: (seq_length, 64)
    ```
    """

    embedding_size: Final[int]
    theta: Final[float]
    dtype: Final[Any]
    def __init__(
        self, embedding_size: int, theta: float = 10000.0, dtype: Any = ...
    ) -> None:
        """Initialize self.  See help(type(self)) for accurate signature."""
    @staticmethod
    def precompute_freqs_cis(
        embedding_size: int, end: int, theta: float, dtype: Any
    ) -> tuple[Float[Array, "end half_size"], Float[Array, "end half_size"]]:
        """The ``(cos, sin)`` tables of the rotation angles, each ``[end, embedding_size // 2]``."""
    def __call__(
        self, x: Float[Array, "seq_length embedding_size"], *, key: PRNGKeyArray | None = None
    ) -> Float[Array, "seq_length embedding_size"]:
        """**Arguments:** ``x`` of shape ``(seq_length, embedding_size)``; ``key`` is
        ignored. **Returns:** ``x`` with every feature pair rotated.
        """

# =======================================================================================
# Convolutions
# =======================================================================================

class Conv(Module):
    """An N-dimensional convolution over a channels-first input ``(in_channels, *spatial)``.

    **Arguments:**

    - ``num_spatial_dims``: the number of spatial dimensions (2 for images).
    - ``in_channels``, ``out_channels``: the numbers of input and output channels.
    - ``kernel_size``: the size of the kernel: an int, or one int per spatial dimension.
    - ``stride``: the step between applications of the kernel (int or per-dimension).
    - ``padding``: an int, one int per dimension, one ``(lo, hi)`` pair per dimension,
      ``"VALID"`` (no padding), ``"SAME"`` / ``"SAME_LOWER"`` (pad so that the output is
      ``ceil(size / stride)`` long, the odd unit at the end / start).
    - ``dilation``: the spacing between kernel elements (int or per-dimension).
    - ``groups``: split the channels into this many independent groups; it must divide
      both ``in_channels`` and ``out_channels``.
    - ``use_bias``: whether to add a learnt bias to the output.
    - ``padding_mode``: the values padded with: ``"ZEROS"`` (``1234 -> 00123400``),
      ``"REFLECT"`` (``32123432``), ``"REPLICATE"`` (``11123444``) or ``"CIRCULAR"``
      (``34123412``).
    - ``dtype``: the dtype of the parameters (default float32, or float64 in x64 mode).
    - ``key``: a PRNG key for the initialisation (keyword only). Parameters are uniform
      on ``±1/sqrt(in_channels // groups * prod(kernel_size))``, as in PyTorch.

    ```python
    conv = eqx.nn.Conv(2, 3, 8, kernel_size=3, padding="SAME", key=jax.random.key(0))
    conv(jnp.ones((3, 32, 32))).shape  # (8, 32, 32)
    ```
    """

    num_spatial_dims: Final[int]
    weight: Final[Float[Array, "out_channels in_channels_per_group *kernel"]]
    bias: Final[Float[Array, "out_channels *ones"] | None]
    in_channels: Final[int]
    out_channels: Final[int]
    kernel_size: Final[tuple[int, ...]]
    stride: Final[tuple[int, ...]]
    padding: Final[_PaddingString | tuple[tuple[int, int], ...]]
    dilation: Final[tuple[int, ...]]
    groups: Final[int]
    use_bias: Final[bool]
    padding_mode: Final[_PaddingMode]
    def __init__(
        self,
        num_spatial_dims: int,
        in_channels: int,
        out_channels: int,
        kernel_size: _Size,
        stride: _Size = 1,
        padding: _Padding = 0,
        dilation: _Size = 1,
        groups: int = 1,
        use_bias: bool = True,
        padding_mode: _PaddingModeArg = "ZEROS",
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray,
    ) -> None:
        """**Arguments:**

        - ``num_spatial_dims``: the number of spatial dimensions (2 for images).
        - ``in_channels``, ``out_channels``: the numbers of input and output channels.
        - ``kernel_size``: the size of the kernel: an int, or one int per spatial dimension.
        - ``stride``: the step between applications of the kernel (int or per-dimension).
        - ``padding``: an int, one int per dimension, one ``(lo, hi)`` pair per dimension,
          ``"VALID"`` (no padding), ``"SAME"`` / ``"SAME_LOWER"`` (pad so that the output is
          ``ceil(size / stride)`` long, the odd unit at the end / start).
        - ``dilation``: the spacing between kernel elements (int or per-dimension).
        - ``groups``: split the channels into this many independent groups; it must divide
          both ``in_channels`` and ``out_channels``.
        - ``use_bias``: whether to add a learnt bias to the output.
        - ``padding_mode``: the values padded with: ``"ZEROS"`` (``1234 -> 00123400``),
          ``"REFLECT"`` (``32123432``), ``"REPLICATE"`` (``11123444``) or ``"CIRCULAR"``
          (``34123412``).
        - ``dtype``: the dtype of the parameters (default float32, or float64 in x64 mode).
        - ``key``: a PRNG key for the initialisation (keyword only). Parameters are uniform
          on ``±1/sqrt(in_channels // groups * prod(kernel_size))``, as in PyTorch.
        """
    def __call__(
        self, x: Float[Array, "in_channels *spatial"], *, key: PRNGKeyArray | None = None
    ) -> Float[Array, "out_channels *new_spatial"]:
        """Convolve ``x`` of shape ``(in_channels, *spatial)``; ``key`` is ignored."""

class Conv1d(Conv):
    """:class:`Conv` with one spatial dimension: input ``(in_channels, length)``."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: _Size,
        stride: _Size = 1,
        padding: _Padding = 0,
        dilation: _Size = 1,
        groups: int = 1,
        use_bias: bool = True,
        padding_mode: _PaddingModeArg = "ZEROS",
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray,
    ) -> None:
        """**Arguments:**

        - ``num_spatial_dims``: the number of spatial dimensions (2 for images).
        - ``in_channels``, ``out_channels``: the numbers of input and output channels.
        - ``kernel_size``: the size of the kernel: an int, or one int per spatial dimension.
        - ``stride``: the step between applications of the kernel (int or per-dimension).
        - ``padding``: an int, one int per dimension, one ``(lo, hi)`` pair per dimension,
          ``"VALID"`` (no padding), ``"SAME"`` / ``"SAME_LOWER"`` (pad so that the output is
          ``ceil(size / stride)`` long, the odd unit at the end / start).
        - ``dilation``: the spacing between kernel elements (int or per-dimension).
        - ``groups``: split the channels into this many independent groups; it must divide
          both ``in_channels`` and ``out_channels``.
        - ``use_bias``: whether to add a learnt bias to the output.
        - ``padding_mode``: the values padded with: ``"ZEROS"`` (``1234 -> 00123400``),
          ``"REFLECT"`` (``32123432``), ``"REPLICATE"`` (``11123444``) or ``"CIRCULAR"``
          (``34123412``).
        - ``dtype``: the dtype of the parameters (default float32, or float64 in x64 mode).
        - ``key``: a PRNG key for the initialisation (keyword only). Parameters are uniform
          on ``±1/sqrt(in_channels // groups * prod(kernel_size))``, as in PyTorch.
        """

class Conv2d(Conv):
    """:class:`Conv` with two spatial dimensions: input ``(in_channels, height, width)``."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: _Size,
        stride: _Size = ...,
        padding: _Padding = ...,
        dilation: _Size = ...,
        groups: int = 1,
        use_bias: bool = True,
        padding_mode: _PaddingModeArg = "ZEROS",
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray,
    ) -> None:
        """**Arguments:**

        - ``num_spatial_dims``: the number of spatial dimensions (2 for images).
        - ``in_channels``, ``out_channels``: the numbers of input and output channels.
        - ``kernel_size``: the size of the kernel: an int, or one int per spatial dimension.
        - ``stride``: the step between applications of the kernel (int or per-dimension).
        - ``padding``: an int, one int per dimension, one ``(lo, hi)`` pair per dimension,
          ``"VALID"`` (no padding), ``"SAME"`` / ``"SAME_LOWER"`` (pad so that the output is
          ``ceil(size / stride)`` long, the odd unit at the end / start).
        - ``dilation``: the spacing between kernel elements (int or per-dimension).
        - ``groups``: split the channels into this many independent groups; it must divide
          both ``in_channels`` and ``out_channels``.
        - ``use_bias``: whether to add a learnt bias to the output.
        - ``padding_mode``: the values padded with: ``"ZEROS"`` (``1234 -> 00123400``),
          ``"REFLECT"`` (``32123432``), ``"REPLICATE"`` (``11123444``) or ``"CIRCULAR"``
          (``34123412``).
        - ``dtype``: the dtype of the parameters (default float32, or float64 in x64 mode).
        - ``key``: a PRNG key for the initialisation (keyword only). Parameters are uniform
          on ``±1/sqrt(in_channels // groups * prod(kernel_size))``, as in PyTorch.
        """

class Conv3d(Conv):
    """:class:`Conv` with three spatial dimensions: input ``(in_channels, D, H, W)``."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: _Size,
        stride: _Size = ...,
        padding: _Padding = ...,
        dilation: _Size = ...,
        groups: int = 1,
        use_bias: bool = True,
        padding_mode: _PaddingModeArg = "ZEROS",
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray,
    ) -> None:
        """**Arguments:**

        - ``num_spatial_dims``: the number of spatial dimensions (2 for images).
        - ``in_channels``, ``out_channels``: the numbers of input and output channels.
        - ``kernel_size``: the size of the kernel: an int, or one int per spatial dimension.
        - ``stride``: the step between applications of the kernel (int or per-dimension).
        - ``padding``: an int, one int per dimension, one ``(lo, hi)`` pair per dimension,
          ``"VALID"`` (no padding), ``"SAME"`` / ``"SAME_LOWER"`` (pad so that the output is
          ``ceil(size / stride)`` long, the odd unit at the end / start).
        - ``dilation``: the spacing between kernel elements (int or per-dimension).
        - ``groups``: split the channels into this many independent groups; it must divide
          both ``in_channels`` and ``out_channels``.
        - ``use_bias``: whether to add a learnt bias to the output.
        - ``padding_mode``: the values padded with: ``"ZEROS"`` (``1234 -> 00123400``),
          ``"REFLECT"`` (``32123432``), ``"REPLICATE"`` (``11123444``) or ``"CIRCULAR"``
          (``34123412``).
        - ``dtype``: the dtype of the parameters (default float32, or float64 in x64 mode).
        - ``key``: a PRNG key for the initialisation (keyword only). Parameters are uniform
          on ``±1/sqrt(in_channels // groups * prod(kernel_size))``, as in PyTorch.
        """

class ConvTranspose(Module):
    """An N-dimensional transposed convolution over ``(in_channels, *spatial)``.

    It has the connectivity of a :class:`Conv` with the same ``kernel_size``, ``stride``,
    ``padding``, ``dilation`` and ``groups`` but ``in_channels``/``out_channels``
    swapped, run backwards: it maps that convolution's output shape to its input shape.
    With explicit padding the output length is
    ``(n - 1) * stride - lo - hi + dilation * (kernel - 1) + 1 + output_padding``
    (PyTorch's rule); with ``"SAME"``/``"SAME_LOWER"`` it is
    ``n * stride - output_padding``.

    **Arguments:** as :class:`Conv`, plus

    - ``output_padding``: resolves the ambiguity of ``stride > 1`` (several input sizes of
      the forward convolution give the same output size): extra length at the end of
      each dimension, or with ``"SAME"`` paddings, length taken off.
    - ``padding_mode``: ``"ZEROS"``, or ``"CIRCULAR"`` (the exact transpose of a circular
      convolution; only with ``"SAME"``/``"SAME_LOWER"`` padding and
      ``output_padding=0``).

    The weight has shape ``(out_channels, in_channels // groups, *kernel_size)``: it is
    the kernel of a forward convolution over the stride-dilated input, as in Equinox, so
    Equinox weights load unchanged. (PyTorch's ``(in, out // groups, *kernel)`` weight
    ``w`` corresponds to this layout transposed per group and flipped spatially.)

    ```python
    up = eqx.nn.ConvTranspose(2, 8, 3, kernel_size=4, stride=2, padding=1,
                              key=jax.random.key(0))
    up(jnp.ones((8, 16, 16))).shape  # (3, 32, 32)
    ```
    """

    num_spatial_dims: Final[int]
    weight: Final[Float[Array, "out_channels in_channels_per_group *kernel"]]
    bias: Final[Float[Array, "out_channels *ones"] | None]
    in_channels: Final[int]
    out_channels: Final[int]
    kernel_size: Final[tuple[int, ...]]
    stride: Final[tuple[int, ...]]
    padding: Final[_PaddingString | tuple[tuple[int, int], ...]]
    output_padding: Final[tuple[int, ...]]
    dilation: Final[tuple[int, ...]]
    groups: Final[int]
    use_bias: Final[bool]
    padding_mode: Final[_TransposePaddingMode]
    def __init__(
        self,
        num_spatial_dims: int,
        in_channels: int,
        out_channels: int,
        kernel_size: _Size,
        stride: _Size = 1,
        padding: _Padding = 0,
        output_padding: _Size = 0,
        dilation: _Size = 1,
        groups: int = 1,
        use_bias: bool = True,
        padding_mode: _TransposePaddingModeArg = "ZEROS",
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray,
    ) -> None:
        """**Arguments:** as :class:`Conv`, plus

        - ``output_padding``: resolves the ambiguity of ``stride > 1`` (several input sizes of
          the forward convolution give the same output size): extra length at the end of
          each dimension, or with ``"SAME"`` paddings, length taken off.
        - ``padding_mode``: ``"ZEROS"``, or ``"CIRCULAR"`` (the exact transpose of a circular
          convolution; only with ``"SAME"``/``"SAME_LOWER"`` padding and
          ``output_padding=0``).
        """
    def __call__(
        self, x: Float[Array, "in_channels *spatial"], *, key: PRNGKeyArray | None = None
    ) -> Float[Array, "out_channels *new_spatial"]:
        """Transposed-convolve ``x`` of shape ``(in_channels, *spatial)``; ``key`` is
        ignored.
        """

class ConvTranspose1d(ConvTranspose):
    """:class:`ConvTranspose` with one spatial dimension."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: _Size,
        stride: _Size = 1,
        output_padding: _Size = 0,
        padding: _Padding = 0,
        dilation: _Size = 1,
        groups: int = 1,
        use_bias: bool = True,
        padding_mode: _TransposePaddingModeArg = "ZEROS",
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray,
    ) -> None:
        """**Arguments:** as :class:`Conv`, plus

        - ``output_padding``: resolves the ambiguity of ``stride > 1`` (several input sizes of
          the forward convolution give the same output size): extra length at the end of
          each dimension, or with ``"SAME"`` paddings, length taken off.
        - ``padding_mode``: ``"ZEROS"``, or ``"CIRCULAR"`` (the exact transpose of a circular
          convolution; only with ``"SAME"``/``"SAME_LOWER"`` padding and
          ``output_padding=0``).
        """

class ConvTranspose2d(ConvTranspose):
    """:class:`ConvTranspose` with two spatial dimensions."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: _Size,
        stride: _Size = ...,
        output_padding: _Size = ...,
        padding: _Padding = ...,
        dilation: _Size = ...,
        groups: int = 1,
        use_bias: bool = True,
        padding_mode: _TransposePaddingModeArg = "ZEROS",
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray,
    ) -> None:
        """**Arguments:** as :class:`Conv`, plus

        - ``output_padding``: resolves the ambiguity of ``stride > 1`` (several input sizes of
          the forward convolution give the same output size): extra length at the end of
          each dimension, or with ``"SAME"`` paddings, length taken off.
        - ``padding_mode``: ``"ZEROS"``, or ``"CIRCULAR"`` (the exact transpose of a circular
          convolution; only with ``"SAME"``/``"SAME_LOWER"`` padding and
          ``output_padding=0``).
        """

class ConvTranspose3d(ConvTranspose):
    """:class:`ConvTranspose` with three spatial dimensions."""

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: _Size,
        stride: _Size = ...,
        output_padding: _Size = ...,
        padding: _Padding = ...,
        dilation: _Size = ...,
        groups: int = 1,
        use_bias: bool = True,
        padding_mode: _TransposePaddingModeArg = "ZEROS",
        dtype: DTypeLike | None = None,
        *,
        key: PRNGKeyArray,
    ) -> None:
        """**Arguments:** as :class:`Conv`, plus

        - ``output_padding``: resolves the ambiguity of ``stride > 1`` (several input sizes of
          the forward convolution give the same output size): extra length at the end of
          each dimension, or with ``"SAME"`` paddings, length taken off.
        - ``padding_mode``: ``"ZEROS"``, or ``"CIRCULAR"`` (the exact transpose of a circular
          convolution; only with ``"SAME"``/``"SAME_LOWER"`` padding and
          ``output_padding=0``).
        """

# =======================================================================================
# Pooling
# =======================================================================================

class Pool(Module):
    """Reduce sliding windows of a channels-first input ``(channels, *spatial)``.

    **Arguments:**

    - ``init``: the starting value of each window's reduction, and the value padding
      stands for. For ``Pool`` to be differentiable it should be the identity of
      ``operation`` (``-inf`` for ``max``, ``0`` for ``add``).
    - ``operation``: a binary, associative reduction, e.g. ``jax.lax.max``.
    - ``num_spatial_dims``: the number of spatial dimensions.
    - ``kernel_size``: the window size (int, or one per spatial dimension).
    - ``stride``: the step between windows (int or per dimension; default 1).
    - ``padding``: an int, one int per dimension, or one ``(lo, hi)`` pair per
      dimension; each must be smaller than the kernel.
    - ``use_ceil``: round the number of windows up rather than down, adding padding at
      the end (PyTorch's ``ceil_mode``: a window starting in the end padding is dropped).

    ```python
    pool = eqx.nn.Pool(-jnp.inf, jax.lax.max, 2, kernel_size=2, stride=2)
    pool(jnp.ones((3, 8, 8))).shape  # (3, 4, 4)
    ```
    """

    init: Final[int | float | Array]
    operation: Final[Callable[[Array, Array], Array]]
    num_spatial_dims: Final[int]
    kernel_size: Final[tuple[int, ...]]
    stride: Final[tuple[int, ...]]
    padding: Final[tuple[tuple[int, int], ...]]
    use_ceil: Final[bool]
    def __init__(
        self,
        init: int | float | Array,
        operation: Callable[[Array, Array], Array],
        num_spatial_dims: int,
        kernel_size: _Size,
        stride: _Size = 1,
        padding: _PoolPadding = 0,
        use_ceil: bool = False,
    ) -> None:
        """**Arguments:**

        - ``init``: the starting value of each window's reduction, and the value padding
          stands for. For ``Pool`` to be differentiable it should be the identity of
          ``operation`` (``-inf`` for ``max``, ``0`` for ``add``).
        - ``operation``: a binary, associative reduction, e.g. ``jax.lax.max``.
        - ``num_spatial_dims``: the number of spatial dimensions.
        - ``kernel_size``: the window size (int, or one per spatial dimension).
        - ``stride``: the step between windows (int or per dimension; default 1).
        - ``padding``: an int, one int per dimension, or one ``(lo, hi)`` pair per
          dimension; each must be smaller than the kernel.
        - ``use_ceil``: round the number of windows up rather than down, adding padding at
          the end (PyTorch's ``ceil_mode``: a window starting in the end padding is dropped).
        """
    def __call__(
        self, x: Float[Array, "channels *spatial"], *, key: PRNGKeyArray | None = None
    ) -> Float[Array, "channels *new_spatial"]:
        """Pool ``x`` of shape ``(channels, *spatial)``; ``key`` is ignored."""

class MaxPool1d(Pool):
    """Max pooling over ``(channels, length)``: ``MaxPool1d(kernel_size, stride=1,
    padding=0, use_ceil=False)``; see :class:`Pool`.
    """

    def __init__(
        self,
        kernel_size: _Size,
        stride: _Size = 1,
        padding: _PoolPadding = 0,
        use_ceil: bool = False,
    ) -> None:
        """**Arguments:**

        - ``init``: the starting value of each window's reduction, and the value padding
          stands for. For ``Pool`` to be differentiable it should be the identity of
          ``operation`` (``-inf`` for ``max``, ``0`` for ``add``).
        - ``operation``: a binary, associative reduction, e.g. ``jax.lax.max``.
        - ``num_spatial_dims``: the number of spatial dimensions.
        - ``kernel_size``: the window size (int, or one per spatial dimension).
        - ``stride``: the step between windows (int or per dimension; default 1).
        - ``padding``: an int, one int per dimension, or one ``(lo, hi)`` pair per
          dimension; each must be smaller than the kernel.
        - ``use_ceil``: round the number of windows up rather than down, adding padding at
          the end (PyTorch's ``ceil_mode``: a window starting in the end padding is dropped).
        """

class MaxPool2d(Pool):
    """Max pooling over ``(channels, height, width)``; see :class:`MaxPool1d`."""

    def __init__(
        self,
        kernel_size: _Size,
        stride: _Size = 1,
        padding: _PoolPadding = 0,
        use_ceil: bool = False,
    ) -> None:
        """**Arguments:**

        - ``init``: the starting value of each window's reduction, and the value padding
          stands for. For ``Pool`` to be differentiable it should be the identity of
          ``operation`` (``-inf`` for ``max``, ``0`` for ``add``).
        - ``operation``: a binary, associative reduction, e.g. ``jax.lax.max``.
        - ``num_spatial_dims``: the number of spatial dimensions.
        - ``kernel_size``: the window size (int, or one per spatial dimension).
        - ``stride``: the step between windows (int or per dimension; default 1).
        - ``padding``: an int, one int per dimension, or one ``(lo, hi)`` pair per
          dimension; each must be smaller than the kernel.
        - ``use_ceil``: round the number of windows up rather than down, adding padding at
          the end (PyTorch's ``ceil_mode``: a window starting in the end padding is dropped).
        """

class MaxPool3d(Pool):
    """Max pooling over ``(channels, depth, height, width)``; see :class:`MaxPool1d`."""

    def __init__(
        self,
        kernel_size: _Size,
        stride: _Size = 1,
        padding: _PoolPadding = 0,
        use_ceil: bool = False,
    ) -> None:
        """**Arguments:**

        - ``init``: the starting value of each window's reduction, and the value padding
          stands for. For ``Pool`` to be differentiable it should be the identity of
          ``operation`` (``-inf`` for ``max``, ``0`` for ``add``).
        - ``operation``: a binary, associative reduction, e.g. ``jax.lax.max``.
        - ``num_spatial_dims``: the number of spatial dimensions.
        - ``kernel_size``: the window size (int, or one per spatial dimension).
        - ``stride``: the step between windows (int or per dimension; default 1).
        - ``padding``: an int, one int per dimension, or one ``(lo, hi)`` pair per
          dimension; each must be smaller than the kernel.
        - ``use_ceil``: round the number of windows up rather than down, adding padding at
          the end (PyTorch's ``ceil_mode``: a window starting in the end padding is dropped).
        """

class AvgPool1d(Pool):
    """Average pooling over ``(channels, length)``: ``AvgPool1d(kernel_size, stride=1,
    padding=0, use_ceil=False)``; padding counts as zeros in the mean.
    """

    def __init__(
        self,
        kernel_size: _Size,
        stride: _Size = 1,
        padding: _PoolPadding = 0,
        use_ceil: bool = False,
    ) -> None:
        """**Arguments:**

        - ``init``: the starting value of each window's reduction, and the value padding
          stands for. For ``Pool`` to be differentiable it should be the identity of
          ``operation`` (``-inf`` for ``max``, ``0`` for ``add``).
        - ``operation``: a binary, associative reduction, e.g. ``jax.lax.max``.
        - ``num_spatial_dims``: the number of spatial dimensions.
        - ``kernel_size``: the window size (int, or one per spatial dimension).
        - ``stride``: the step between windows (int or per dimension; default 1).
        - ``padding``: an int, one int per dimension, or one ``(lo, hi)`` pair per
          dimension; each must be smaller than the kernel.
        - ``use_ceil``: round the number of windows up rather than down, adding padding at
          the end (PyTorch's ``ceil_mode``: a window starting in the end padding is dropped).
        """

class AvgPool2d(Pool):
    """Average pooling over ``(channels, height, width)``; see :class:`AvgPool1d`."""

    def __init__(
        self,
        kernel_size: _Size,
        stride: _Size = 1,
        padding: _PoolPadding = 0,
        use_ceil: bool = False,
    ) -> None:
        """**Arguments:**

        - ``init``: the starting value of each window's reduction, and the value padding
          stands for. For ``Pool`` to be differentiable it should be the identity of
          ``operation`` (``-inf`` for ``max``, ``0`` for ``add``).
        - ``operation``: a binary, associative reduction, e.g. ``jax.lax.max``.
        - ``num_spatial_dims``: the number of spatial dimensions.
        - ``kernel_size``: the window size (int, or one per spatial dimension).
        - ``stride``: the step between windows (int or per dimension; default 1).
        - ``padding``: an int, one int per dimension, or one ``(lo, hi)`` pair per
          dimension; each must be smaller than the kernel.
        - ``use_ceil``: round the number of windows up rather than down, adding padding at
          the end (PyTorch's ``ceil_mode``: a window starting in the end padding is dropped).
        """

class AvgPool3d(Pool):
    """Average pooling over ``(channels, depth, height, width)``; see
    :class:`AvgPool1d`.
    """

    def __init__(
        self,
        kernel_size: _Size,
        stride: _Size = 1,
        padding: _PoolPadding = 0,
        use_ceil: bool = False,
    ) -> None:
        """**Arguments:**

        - ``init``: the starting value of each window's reduction, and the value padding
          stands for. For ``Pool`` to be differentiable it should be the identity of
          ``operation`` (``-inf`` for ``max``, ``0`` for ``add``).
        - ``operation``: a binary, associative reduction, e.g. ``jax.lax.max``.
        - ``num_spatial_dims``: the number of spatial dimensions.
        - ``kernel_size``: the window size (int, or one per spatial dimension).
        - ``stride``: the step between windows (int or per dimension; default 1).
        - ``padding``: an int, one int per dimension, or one ``(lo, hi)`` pair per
          dimension; each must be smaller than the kernel.
        - ``use_ceil``: round the number of windows up rather than down, adding padding at
          the end (PyTorch's ``ceil_mode``: a window starting in the end padding is dropped).
        """

class AdaptivePool(Module):
    """Pool ``(channels, *spatial)`` down to ``(channels, *target_shape)``.

    Each spatial dimension of length ``n`` is cut into ``t`` contiguous, non-overlapping
    blocks (the first ``n % t`` of length ``n // t + 1``, the rest ``n // t``), and
    ``operation`` reduces each block, one dimension at a time. When ``t`` divides ``n``
    this is PyTorch's adaptive pooling; otherwise PyTorch's windows overlap and these,
    like Equinox's, do not.

    **Arguments:**

    - ``target_shape``: the output's spatial shape (int, or one per dimension); each
      must be at most the input's length along that dimension.
    - ``num_spatial_dims``: the number of spatial dimensions.
    - ``operation``: reduces a 1-D array to a scalar, e.g. ``jnp.mean`` or ``jnp.max``.

    ```python
    pool = eqx.nn.AdaptivePool((2, 2), 2, jnp.max)
    pool(jnp.ones((3, 7, 8))).shape  # (3, 2, 2)
    ```
    """

    target_shape: Final[tuple[int, ...]]
    operation: Final[Callable[[Array], Array]]
    def __init__(
        self, target_shape: _Size, num_spatial_dims: int, operation: Callable[[Array], Array]
    ) -> None:
        """**Arguments:**

        - ``target_shape``: the output's spatial shape (int, or one per dimension); each
          must be at most the input's length along that dimension.
        - ``num_spatial_dims``: the number of spatial dimensions.
        - ``operation``: reduces a 1-D array to a scalar, e.g. ``jnp.mean`` or ``jnp.max``.
        """
    def __call__(
        self, x: Float[Array, "channels *spatial"], *, key: PRNGKeyArray | None = None
    ) -> Float[Array, "channels *target"]:
        """Pool ``x`` of shape ``(channels, *spatial)``; ``key`` is ignored."""

class AdaptiveAvgPool1d(AdaptivePool):
    """Average-pool ``(channels, length)`` to ``(channels, target_shape)``; see
    :class:`AdaptivePool`.
    """

    def __init__(self, target_shape: _Size) -> None:
        """**Arguments:**

        - ``target_shape``: the output's spatial shape (int, or one per dimension); each
          must be at most the input's length along that dimension.
        - ``num_spatial_dims``: the number of spatial dimensions.
        - ``operation``: reduces a 1-D array to a scalar, e.g. ``jnp.mean`` or ``jnp.max``.
        """

class AdaptiveAvgPool2d(AdaptivePool):
    """Average-pool ``(channels, H, W)`` to ``(channels, *target_shape)``."""

    def __init__(self, target_shape: _Size) -> None:
        """**Arguments:**

        - ``target_shape``: the output's spatial shape (int, or one per dimension); each
          must be at most the input's length along that dimension.
        - ``num_spatial_dims``: the number of spatial dimensions.
        - ``operation``: reduces a 1-D array to a scalar, e.g. ``jnp.mean`` or ``jnp.max``.
        """

class AdaptiveAvgPool3d(AdaptivePool):
    """Average-pool ``(channels, D, H, W)`` to ``(channels, *target_shape)``."""

    def __init__(self, target_shape: _Size) -> None:
        """**Arguments:**

        - ``target_shape``: the output's spatial shape (int, or one per dimension); each
          must be at most the input's length along that dimension.
        - ``num_spatial_dims``: the number of spatial dimensions.
        - ``operation``: reduces a 1-D array to a scalar, e.g. ``jnp.mean`` or ``jnp.max``.
        """

class AdaptiveMaxPool1d(AdaptivePool):
    """Max-pool ``(channels, length)`` to ``(channels, target_shape)``; see
    :class:`AdaptivePool`.
    """

    def __init__(self, target_shape: _Size) -> None:
        """**Arguments:**

        - ``target_shape``: the output's spatial shape (int, or one per dimension); each
          must be at most the input's length along that dimension.
        - ``num_spatial_dims``: the number of spatial dimensions.
        - ``operation``: reduces a 1-D array to a scalar, e.g. ``jnp.mean`` or ``jnp.max``.
        """

class AdaptiveMaxPool2d(AdaptivePool):
    """Max-pool ``(channels, H, W)`` to ``(channels, *target_shape)``."""

    def __init__(self, target_shape: _Size) -> None:
        """**Arguments:**

        - ``target_shape``: the output's spatial shape (int, or one per dimension); each
          must be at most the input's length along that dimension.
        - ``num_spatial_dims``: the number of spatial dimensions.
        - ``operation``: reduces a 1-D array to a scalar, e.g. ``jnp.mean`` or ``jnp.max``.
        """

class AdaptiveMaxPool3d(AdaptivePool):
    """Max-pool ``(channels, D, H, W)`` to ``(channels, *target_shape)``."""

    def __init__(self, target_shape: _Size) -> None:
        """**Arguments:**

        - ``target_shape``: the output's spatial shape (int, or one per dimension); each
          must be at most the input's length along that dimension.
        - ``num_spatial_dims``: the number of spatial dimensions.
        - ``operation``: reduces a 1-D array to a scalar, e.g. ``jnp.mean`` or ``jnp.max``.
        """

# =======================================================================================
# Normalisation
# =======================================================================================

class LayerNorm(Module):
    """Normalise an example to zero mean and unit variance over all of its axes, then
    optionally scale and shift elementwise (as PyTorch's ``nn.LayerNorm``).

    **Arguments:**

    - ``shape``: the input's shape (an int for 1-D inputs).
    - ``eps``: added to the variance before the square root.
    - ``use_weight``: learn an elementwise scale, initialised to one.
    - ``use_bias``: learn an elementwise shift, initialised to zero.
    - ``dtype``: dtype of weight and bias (default float32, or float64 in x64 mode).
    - ``elementwise_affine``: deprecated; sets both ``use_weight`` and ``use_bias``.

    ```python
    norm = eqx.nn.LayerNorm(5)
    y = norm(jnp.arange(5.0))           # one example
    ys = jax.vmap(norm)(batch)          # batch of shape (n, 5)
    ```
    """

    shape: Final[tuple[int, ...]]
    eps: Final[float]
    use_weight: Final[bool]
    use_bias: Final[bool]
    weight: Final[Inexact[Array, "*shape"] | None]
    bias: Final[Inexact[Array, "*shape"] | None]
    def __init__(
        self,
        shape: _Size,
        eps: float = 1e-05,
        use_weight: bool = True,
        use_bias: bool = True,
        dtype: DTypeLike | None = None,
        *,
        elementwise_affine: bool | None = None,
    ) -> None:
        """**Arguments:**

        - ``shape``: the input's shape (an int for 1-D inputs).
        - ``eps``: added to the variance before the square root.
        - ``use_weight``: learn an elementwise scale, initialised to one.
        - ``use_bias``: learn an elementwise shift, initialised to zero.
        - ``dtype``: dtype of weight and bias (default float32, or float64 in x64 mode).
        - ``elementwise_affine``: deprecated; sets both ``use_weight`` and ``use_bias``.
        """
    @overload
    def __call__(
        self, x: Num[Array, "*shape"], *, key: PRNGKeyArray | None = None
    ) -> Num[Array, "*shape"]: ...
    @overload
    def __call__(
        self, x: Num[Array, "*shape"], state: State, *, key: PRNGKeyArray | None = None
    ) -> tuple[Num[Array, "*shape"], State]:
        """**Arguments:**

        - ``x``: one example, of shape ``shape``; integer inputs are normalised in
          floating point and returned in their own dtype (as Equinox does).
        - ``state``: optional; passed through unchanged (so the layer fits anywhere a
          stateful layer does).
        - ``key``: ignored.

        **Returns:** the normalised array (same shape and dtype as ``x``), or
        ``(array, state)`` if ``state`` was given.
        """

class RMSNorm(Module):
    """Divide an example by its root mean square, then optionally scale and shift
    elementwise (as PyTorch's ``nn.RMSNorm``, plus an optional bias).

    **Arguments:**

    - ``shape``: the input's shape (an int for 1-D inputs).
    - ``eps``: added to the mean square before the square root.
    - ``use_weight``: learn an elementwise scale, initialised to one.
    - ``use_bias``: learn an elementwise shift, initialised to zero.
    - ``dtype``: dtype of weight and bias (default float32, or float64 in x64 mode).

    ```python
    norm = eqx.nn.RMSNorm(5)
    y = norm(jnp.arange(5.0))
    ```
    """

    shape: Final[tuple[int, ...]]
    eps: Final[float]
    use_weight: Final[bool]
    use_bias: Final[bool]
    weight: Final[Inexact[Array, "*shape"] | None]
    bias: Final[Inexact[Array, "*shape"] | None]
    def __init__(
        self,
        shape: _Size,
        eps: float = 1e-05,
        use_weight: bool = True,
        use_bias: bool = True,
        dtype: DTypeLike | None = None,
    ) -> None:
        """**Arguments:**

        - ``shape``: the input's shape (an int for 1-D inputs).
        - ``eps``: added to the mean square before the square root.
        - ``use_weight``: learn an elementwise scale, initialised to one.
        - ``use_bias``: learn an elementwise shift, initialised to zero.
        - ``dtype``: dtype of weight and bias (default float32, or float64 in x64 mode).
        """
    @overload
    def __call__(
        self, x: Inexact[Array, "*shape"], *, key: PRNGKeyArray | None = None
    ) -> Inexact[Array, "*shape"]: ...
    @overload
    def __call__(
        self, x: Inexact[Array, "*shape"], state: State, *, key: PRNGKeyArray | None = None
    ) -> tuple[Inexact[Array, "*shape"], State]:
        """**Arguments:** as for :class:`LayerNorm`; complex inputs are divided by the
        (complex) root of their mean square, as Equinox does.

        **Returns:** ``x / sqrt(mean(x**2) + eps) * weight + bias`` (same shape and dtype
        as ``x``), or ``(array, state)`` if ``state`` was given.
        """

class GroupNorm(Module):
    """Split the channels into groups and normalise each group (over its channels and
    all spatial positions), then optionally scale and shift per channel (as PyTorch's
    ``nn.GroupNorm``). ``groups=1`` normalises like LayerNorm over the whole example;
    ``groups=channels`` is instance normalisation.

    **Arguments:**

    - ``groups``: the number of groups; must divide the number of channels.
    - ``channels``: the number of channels (needed when ``channelwise_affine``).
    - ``eps``: added to the variance before the square root.
    - ``channelwise_affine``: learn a per-channel scale (ones) and shift (zeros).
    - ``dtype``: dtype of weight and bias (default float32, or float64 in x64 mode).

    ```python
    norm = eqx.nn.GroupNorm(groups=2, channels=4)
    y = norm(jnp.ones((4, 8, 8)))      # (channels, *spatial)
    ```
    """

    groups: Final[int]
    channels: Final[int | None]
    eps: Final[float]
    channelwise_affine: Final[bool]
    weight: Final[Inexact[Array, "channels"] | None]
    bias: Final[Inexact[Array, "channels"] | None]
    def __init__(
        self,
        groups: int,
        channels: int | None = None,
        eps: float = 1e-05,
        channelwise_affine: bool = True,
        dtype: DTypeLike | None = None,
    ) -> None:
        """**Arguments:**

        - ``groups``: the number of groups; must divide the number of channels.
        - ``channels``: the number of channels (needed when ``channelwise_affine``).
        - ``eps``: added to the variance before the square root.
        - ``channelwise_affine``: learn a per-channel scale (ones) and shift (zeros).
        - ``dtype``: dtype of weight and bias (default float32, or float64 in x64 mode).
        """
    @overload
    def __call__(
        self, x: Inexact[Array, "channels *rest"], *, key: PRNGKeyArray | None = None
    ) -> Inexact[Array, "channels *rest"]: ...
    @overload
    def __call__(
        self, x: Inexact[Array, "channels *rest"], state: State, *, key: PRNGKeyArray | None = None
    ) -> tuple[Inexact[Array, "channels *rest"], State]:
        """**Arguments:**

        - ``x``: one example of shape ``(channels, *spatial)``.
        - ``state``: optional; passed through unchanged.
        - ``key``: ignored.

        **Returns:** the normalised array (same shape and dtype as ``x``), or
        ``(array, state)`` if ``state`` was given.
        """

class BatchNorm(StatefulLayer):
    """Normalise each channel by the mean and variance over the batch and all spatial
    positions, then optionally scale and shift per channel.

    The layer sees one example; the batch is the ``jax.vmap`` (or ``pmap``) axis named
    ``axis_name``, over which statistics are averaged with ``jax.lax.pmean``. Running
    statistics live in a :class:`~equinox_typed.nn.State`. Gradients flow through them
    (a layer called twice in one loss sees the first call's statistics in the second).

    **Arguments:**

    - ``input_size``: the number of channels (the input's first axis).
    - ``axis_name``: the name (or a sequence of names) of the batch axis, as given to
      ``jax.vmap(..., axis_name=...)``.
    - ``eps``: added to the variance before the square root.
    - ``channelwise_affine``: learn a per-channel scale (ones) and shift (zeros).
    - ``momentum``: weight of the old running statistics in each update,
      ``running = momentum * running + (1 - momentum) * batch``; between 0 and 1.
    - ``inference``: use the running statistics instead of the batch's (and leave them
      unchanged). Toggle with :func:`~equinox_typed.nn.inference_mode`.
    - ``dtype``: dtype of the parameters and running statistics.
    - ``mode``:
        - ``"batch"``: training normalises with the batch's mean and variance and
          updates exponential moving averages of them (State entries
          ``batch_counter``, a step count, and ``batch_state_index``, the averages
          starting at 0 and 1); inference normalises with the averages divided by
          ``1 - momentum ** count`` (zero-debiased).
        - ``"ema"``: State entries ``ema_first_time_index`` (True until the first
          update) and ``ema_state_index`` (running mean and variance, set to the
          first batch's, then averaged); training normalises with the *updated
          running* statistics, inference with the stored ones.
        - ``"legacy"`` (default): ``"ema"`` with a warning asking to choose.

    ```python
    bn, state = eqx.nn.make_with_state(eqx.nn.BatchNorm)(3, "batch", mode="batch")
    batched = jax.vmap(bn, axis_name="batch", in_axes=(0, None), out_axes=(0, None))
    y, state = batched(x, state)                 # x: (batch, 3, ...)
    y, _ = jax.vmap(eqx.nn.inference_mode(bn), axis_name="batch",
                    in_axes=(0, None), out_axes=(0, None))(x, state)
    ```
    """

    weight: Final[Float[Array, "input_size"] | None]
    bias: Final[Float[Array, "input_size"] | None]
    ema_first_time_index: Final[StateIndex[Bool[Array, ""]] | None]
    ema_state_index: Final[StateIndex[_Stats] | None]
    batch_counter: Final[StateIndex[Integer[Array, ""]] | None]
    batch_state_index: Final[StateIndex[_Stats] | None]
    axis_name: Final[Hashable | tuple[Hashable, ...]]
    inference: Final[bool]
    input_size: Final[int]
    eps: Final[float]
    channelwise_affine: Final[bool]
    momentum: Final[float]
    mode: Final[Literal["ema", "batch"]]
    def __init__(
        self,
        input_size: int,
        axis_name: Hashable | Sequence[Hashable],
        eps: float = 1e-05,
        channelwise_affine: bool = True,
        momentum: float = 0.99,
        inference: bool = False,
        dtype: DTypeLike | None = None,
        mode: Literal["ema", "batch", "legacy"] = "legacy",
    ) -> None:
        """**Arguments:**

        - ``input_size``: the number of channels (the input's first axis).
        - ``axis_name``: the name (or a sequence of names) of the batch axis, as given to
          ``jax.vmap(..., axis_name=...)``.
        - ``eps``: added to the variance before the square root.
        - ``channelwise_affine``: learn a per-channel scale (ones) and shift (zeros).
        - ``momentum``: weight of the old running statistics in each update,
          ``running = momentum * running + (1 - momentum) * batch``; between 0 and 1.
        - ``inference``: use the running statistics instead of the batch's (and leave them
          unchanged). Toggle with :func:`~equinox_typed.nn.inference_mode`.
        - ``dtype``: dtype of the parameters and running statistics.
        - ``mode``:
            - ``"batch"``: training normalises with the batch's mean and variance and
              updates exponential moving averages of them (State entries
              ``batch_counter``, a step count, and ``batch_state_index``, the averages
              starting at 0 and 1); inference normalises with the averages divided by
              ``1 - momentum ** count`` (zero-debiased).
            - ``"ema"``: State entries ``ema_first_time_index`` (True until the first
              update) and ``ema_state_index`` (running mean and variance, set to the
              first batch's, then averaged); training normalises with the *updated
              running* statistics, inference with the stored ones.
            - ``"legacy"`` (default): ``"ema"`` with a warning asking to choose.
        """
    def __call__(
        self,
        x: Float[Array, "input_size *rest"],
        state: State,
        *,
        key: PRNGKeyArray | None = None,
        inference: bool | None = None,
    ) -> tuple[Float[Array, "input_size *rest"], State]:
        """**Arguments:**

        - ``x``: one example of shape ``(input_size, *spatial)``, called under a
          ``vmap``/``pmap`` with axis name ``axis_name``.
        - ``state``: the model's State.
        - ``key``: ignored.
        - ``inference``: overrides the ``inference`` field for this call.

        **Returns:** ``(normalised x, updated state)``. The output's dtype is the
        promotion of the input's and the layer's.
        """

# =======================================================================================
# Containers and wrappers
# =======================================================================================

class Sequential(StatefulLayer, Generic[_SeqLayer]):
    """Call layers one after another: ``layers[-1](...layers[1](layers[0](x)))``.

    **Arguments:**

    - ``layers``: the layers, each called as ``layer(x, key=key)``; stateful layers
      (:class:`~equinox_typed.nn.StatefulLayer`, e.g. BatchNorm) are called as
      ``layer(x, state, key=key)`` and return ``(x, state)``. Wrap plain functions in
      :class:`~equinox_typed.nn.Lambda`.

    Calling with a ``key`` splits it into one key per layer. Calling with a ``state``
    returns ``(output, state)``; without one, just the output.

    ```python
    mlp = eqx.nn.Sequential([
        eqx.nn.Linear(2, 8, key=k1),
        eqx.nn.Lambda(jax.nn.relu),
        eqx.nn.Linear(8, 1, key=k2),
    ])
    y = mlp(x)
    head = mlp[1:]     # a Sequential of the last two layers
    ```
    """

    @property
    def layers(self) -> tuple[_SeqLayer, ...]: ...
    @overload
    def __init__(self, layers: Sequence[_SeqLayer]) -> None: ...
    @overload
    def __init__(
        self: Sequential[Callable[..., Any]], layers: Sequence[Callable[..., Any]]
    ) -> None:
        """**Arguments:**

        - ``layers``: the layers, each called as ``layer(x, key=key)``; stateful layers
          (:class:`~equinox_typed.nn.StatefulLayer`, e.g. BatchNorm) are called as
          ``layer(x, state, key=key)`` and return ``(x, state)``. Wrap plain functions in
          :class:`~equinox_typed.nn.Lambda`.
        """
    @overload
    def __call__(self, x: Array, *, key: PRNGKeyArray | None = None) -> Array: ...
    @overload
    def __call__(
        self, x: Array, state: State, *, key: PRNGKeyArray | None = None
    ) -> tuple[Array, State]:
        """**Arguments:**

        - ``x``: the input of the first layer.
        - ``state``: the model's :class:`~equinox_typed.nn.State`; required when some
          layer is stateful.
        - ``key``: optional PRNG key, split between the layers (e.g. for Dropout).

        **Returns:** the last layer's output, or ``(output, state)`` if ``state`` was
        given.
        """
    @overload
    def __getitem__(self, i: int) -> _SeqLayer: ...
    @overload
    def __getitem__(self, i: slice) -> Sequential[_SeqLayer]: ...
    def __iter__(self) -> Iterator[_SeqLayer]: ...
    def __len__(self) -> int: ...

def inference_mode(pytree: _T, value: bool = True) -> _T:
    """A copy of ``pytree`` in which every layer's ``inference`` field is ``value``.

    **Arguments:**

    - ``pytree``: a model (any PyTree containing Modules).
    - ``value``: ``True`` for inference (Dropout off, BatchNorm using its running
      statistics, ...), ``False`` to return to training behaviour.

    Every Module with a field named ``inference`` is switched, however deeply nested
    and whether the field is static or not; nothing else changes.

    ```python
    eval_model = eqx.nn.inference_mode(model)
    train_model = eqx.nn.inference_mode(eval_model, value=False)
    ```
    """

class Shared(Module, Generic[_T]):
    """Tie nodes of a PyTree together, so that they are one parameter.

    A Module appearing twice in a model is two independent copies once the model is
    updated. ``Shared`` instead stores the tree once and, whenever it is unwrapped
    (``shared()``), writes the nodes picked by ``get`` into the places picked by
    ``where``. Gradients therefore flow only into the ``get`` nodes: they accumulate
    the contributions of every place the value is used.

    **Arguments:**

    - ``pytree``: the PyTree holding the nodes to tie, e.g. ``(embedding, linear)``.
    - ``where``: a function from ``pytree`` to the node(s) to be replaced (the tied
      copies), as in ``eqx.tree_at``.
    - ``get``: a function from ``pytree`` to the node(s) whose value is used; same
      tree structure, shapes and dtypes as ``where``'s.

    The nodes at ``where`` are removed: a :class:`SharedNode` placeholder (a leaf)
    stands in their place, so leaves, optimiser states and checkpoints line up with
    Equinox's, and no second copy of a weight is stored.

    ```python
    where = lambda pair: pair[1].weight     # the output layer's weight...
    get = lambda pair: pair[0].weight       # ...is the embedding's weight
    shared = eqx.nn.Shared((embedding, linear), where, get)
    embedding, linear = shared()
    ```
    """

    @property
    def pytree(self) -> _T: ...
    @property
    def where(self) -> Callable[[_T], Any]: ...
    @property
    def get(self) -> Callable[[_T], Any]: ...
    def __init__(self, pytree: _T, where: Callable[[_T], Any], get: Callable[[_T], Any]) -> None:
        """**Arguments:**

        - ``pytree``: the PyTree holding the nodes to tie, e.g. ``(embedding, linear)``.
        - ``where``: a function from ``pytree`` to the node(s) to be replaced (the tied
          copies), as in ``eqx.tree_at``.
        - ``get``: a function from ``pytree`` to the node(s) whose value is used; same
          tree structure, shapes and dtypes as ``where``'s.
        """
    def __call__(self) -> _T:
        """The tree with the ties applied: ``where``'s nodes replaced by ``get``'s."""

class WeightNorm(Module, Generic[_Layer]):
    """Weight normalisation: use ``g * v / ||v||`` as the layer's weight, learning the
    direction ``v`` (stored as the layer's weight) and the norm ``g`` separately (as
    PyTorch's ``nn.utils.parametrizations.weight_norm``).

    **Arguments:**

    - ``layer``: the layer to wrap, e.g. a Linear or a convolution.
    - ``weight_name``: the name of the layer's weight field.
    - ``axis``: the axis kept by the norm (one ``g`` per slice along it: per output
      unit for ``0``); ``None`` for a single norm over the whole weight.

    ``g`` starts at the weight's norm, so the wrapped layer initially computes exactly
    what ``layer`` does.

    ```python
    layer = eqx.nn.WeightNorm(eqx.nn.Linear(3, 4, key=key))
    y = layer(jnp.ones(3))
    ```
    """

    @property
    def layer(self) -> _Layer: ...
    g: Final[Float[Array, "..."]]
    weight_name: Final[str]
    axis: Final[int | None]
    def __init__(self, layer: _Layer, weight_name: str = "weight", axis: int | None = 0) -> None:
        """**Arguments:**

        - ``layer``: the layer to wrap, e.g. a Linear or a convolution.
        - ``weight_name``: the name of the layer's weight field.
        - ``axis``: the axis kept by the norm (one ``g`` per slice along it: per output
          unit for ``0``); ``None`` for a single norm over the whole weight.
        """
    def __call__(self, x: Array, *, key: PRNGKeyArray | None = None) -> Array:
        """**Arguments:**

        - ``x``: the wrapped layer's input.
        - ``key``: ignored.

        **Returns:** the wrapped layer's output, computed with the normalised weight.
        """

class SpectralNorm(StatefulLayer, Generic[_Layer]):
    """Spectral normalisation: use ``W / sigma(W)`` as the layer's weight, where
    ``sigma(W)`` (the largest singular value of the weight, seen as a matrix of shape
    ``(out, everything else)``) is estimated by power iteration.

    The singular-vector estimates ``(u, v)`` are state: construction runs 15 steps of
    the power method from a random start, each training call refines them by
    ``num_power_iterations`` more and stores them in the State. In inference mode they
    are used as stored. Given the same key, the numbers are Equinox's.

    **Arguments:**

    - ``layer``: the layer to wrap, e.g. a Linear or a convolution.
    - ``weight_name``: the name of the layer's weight field.
    - ``num_power_iterations``: power-method steps per training call.
    - ``eps``: lower bound on norms in the power method (avoids dividing by zero).
    - ``inference``: use the stored ``(u, v)`` without refining them.
    - ``key``: PRNG key for the random initial ``(u, v)`` (keyword-only).

    ```python
    layer, state = eqx.nn.make_with_state(eqx.nn.SpectralNorm)(
        eqx.nn.Linear(3, 4, key=k1), "weight", key=k2)
    y, state = layer(jnp.ones(3), state)
    ```
    """

    @property
    def layer(self) -> _Layer: ...
    uv_index: Final[StateIndex[tuple[Float[Array, "u_size"], Float[Array, "v_size"]]]]
    inference: Final[bool]
    weight_name: Final[str]
    num_power_iterations: Final[int]
    eps: Final[float]
    def __init__(
        self,
        layer: _Layer,
        weight_name: str = "weight",
        num_power_iterations: int = 1,
        eps: float = 1e-12,
        inference: bool = False,
        *,
        key: PRNGKeyArray,
    ) -> None:
        """**Arguments:**

        - ``layer``: the layer to wrap, e.g. a Linear or a convolution.
        - ``weight_name``: the name of the layer's weight field.
        - ``num_power_iterations``: power-method steps per training call.
        - ``eps``: lower bound on norms in the power method (avoids dividing by zero).
        - ``inference``: use the stored ``(u, v)`` without refining them.
        - ``key``: PRNG key for the random initial ``(u, v)`` (keyword-only).
        """
    def __call__(
        self,
        x: Array,
        state: State,
        *,
        key: PRNGKeyArray | None = None,
        inference: bool | None = None,
    ) -> tuple[Array, State]:
        """**Arguments:**

        - ``x``: the wrapped layer's input.
        - ``state``: the model's State (holding ``(u, v)``).
        - ``key``: ignored.
        - ``inference``: overrides the ``inference`` field for this call.

        **Returns:** ``(wrapped layer's output with the normalised weight, state)``.
        """
