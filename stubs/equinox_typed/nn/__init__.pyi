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
from jaxtyping import Bool, Float, Integer, Num, PRNGKeyArray

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
    """A key into a :class:`State`, holding the initial value of that piece of state.

    ```python
    self.index = eqx.nn.StateIndex(jnp.zeros(3))
    ...
    value = state.get(self.index)
    ```
    """

    @property
    def init(self) -> _Value: ...
    def __init__(self, init: _Value) -> None: ...

class State:
    """The mutable state of a model (e.g. batch-norm running statistics), kept outside
    the model and threaded through calls: ``out, state = model(x, state)``."""

    def __init__(self, model: Any) -> None: ...
    def get(self, item: StateIndex[_Value]) -> _Value:
        """The current value stored under ``item``."""
    def set(self, item: StateIndex[_Value], value: _Value) -> State:
        """A new State with ``value`` stored under ``item`` (same structure as before)."""
    def substate(self, pytree: Any) -> State:
        """The part of this State used by the StateIndex objects inside ``pytree``."""
    def update(self, substate: State) -> State:
        """A new State with the entries of ``substate`` replaced."""

def make_with_state(make_model: Callable[_P, _T]) -> Callable[_P, tuple[_T, State]]:
    """``make_with_state(cls)(*args)`` builds ``cls(*args)`` and its initial State.

    ```python
    model, state = eqx.nn.make_with_state(eqx.nn.BatchNorm)(3, "batch", mode="batch")
    ```
    """

def delete_init_state(model: _T) -> _T:
    """A copy of ``model`` without the initial state values (saves memory once the
    State has been made)."""

class StatefulLayer(Module):
    """Base class of layers that may take and return a :class:`State`; ``Sequential``
    passes the state to those whose ``is_stateful()`` is true."""

    def is_stateful(self) -> bool:
        """Whether ``__call__`` takes and returns a State."""
    @abc.abstractmethod
    def __call__(
        self, x: Array, state: State, *, key: PRNGKeyArray | None = None
    ) -> tuple[Array, State]: ...

# =======================================================================================
# Basic layers
# =======================================================================================

class Linear(Module):
    """Affine map ``y = W x + b``; ``in_features``/``out_features`` may be ``"scalar"``
    for scalar input/output.

    ```python
    linear = eqx.nn.Linear(3, 4, key=jax.random.key(0))
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
    ) -> None: ...
    def __call__(
        self, x: Num[Array, "in_features"], *, key: PRNGKeyArray | None = None
    ) -> Float[Array, "out_features"]: ...

class Identity(Module):
    """Returns its input unchanged; accepts and ignores any constructor arguments."""

    def __init__(self, *args: Any, **kwargs: Any) -> None: ...
    def __call__(self, x: _T, *, key: PRNGKeyArray | None = None) -> _T: ...

class Lambda(Module):
    """Wraps a function ``fn`` as a layer (e.g. an activation inside ``Sequential``)."""

    fn: Final[Callable[[Any], Any]]
    def __init__(self, fn: Callable[[Any], Any]) -> None: ...
    def __call__(self, x: Array, *, key: PRNGKeyArray | None = None) -> Array: ...

class Dropout(Module):
    """Zeroes each element with probability ``p`` (scaling the rest by ``1/(1-p)``);
    the identity when ``inference`` is true."""

    p: Final[float]
    inference: Final[bool]
    def __init__(
        self, p: float = 0.5, inference: bool = False, *, deterministic: bool | None = None
    ) -> None: ...
    def __call__(
        self,
        x: Array,
        *,
        key: PRNGKeyArray | None = None,
        inference: bool | None = None,
        deterministic: bool | None = None,
    ) -> Array: ...

class MLP(Module):
    """Multi-layer perceptron: ``depth`` hidden layers of ``width_size`` units.

    ```python
    mlp = eqx.nn.MLP(2, 3, width_size=8, depth=2, key=jax.random.key(0))
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
    ) -> None: ...
    def check_layer_chain(self) -> None:
        """Raise ``TypeCheckError`` unless the layers fit together (sizes chain from
        ``in_size`` to ``out_size``); also run at construction and on every call."""
    def __call__(
        self, x: Num[Array, "in_size"], *, key: PRNGKeyArray | None = None
    ) -> Float[Array, "out_size"]: ...

class PReLU(Module):
    """Leaky ReLU with a learnt negative slope ``negative_slope``."""

    negative_slope: Final[Float[Array, "*channels"]]
    def __init__(self, init_alpha: ArrayLike = 0.25, dtype: DTypeLike | None = None) -> None: ...
    def __call__(
        self, x: Float[Array, "*shape"], *, key: PRNGKeyArray | None = None
    ) -> Float[Array, "*shape"]: ...

# =======================================================================================
# Recurrent, embedding, attention
# =======================================================================================

class GRUCell(Module):
    """One step of a gated recurrent unit: ``(input, hidden) -> new hidden``."""

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
    ) -> None: ...
    def __call__(
        self,
        input: Num[Array, "input_size"],
        hidden: Float[Array, "hidden_size"],
        *,
        key: PRNGKeyArray | None = None,
    ) -> Float[Array, "hidden_size"]: ...

class LSTMCell(Module):
    """One step of an LSTM: ``(input, (h, c)) -> (h, c)``."""

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
    ) -> None: ...
    def __call__(
        self,
        input: Num[Array, "input_size"],
        hidden: tuple[Float[Array, "hidden_size"], Float[Array, "hidden_size"]],
        *,
        key: PRNGKeyArray | None = None,
    ) -> tuple[Float[Array, "hidden_size"], Float[Array, "hidden_size"]]: ...

class Embedding(Module):
    """Lookup table: an integer index gives a row of ``weight``. Give either the sizes
    (and ``key``) or an explicit ``weight``."""

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
    ) -> None: ...
    def __call__(
        self, x: Integer[Array, ""] | int, *, key: PRNGKeyArray | None = None
    ) -> Float[Array, "embedding_size"]: ...

class MultiheadAttention(Module):
    """Multi-head scaled dot-product attention with learnt projections.

    Called as ``mha(query, key_, value, mask=None)`` on unbatched sequences
    ``[seq, size]``; the PRNG key (for attention dropout) is the keyword ``key``.
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
    ) -> None: ...
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
    ) -> Float[Array, "q_seq o_size"]: ...

class RotaryPositionalEmbedding(Module):
    """Rotary positional embedding (RoPE) of a ``[seq, embedding_size]`` input."""

    embedding_size: Final[int]
    theta: Final[float]
    dtype: Final[Any]
    def __init__(
        self, embedding_size: int, theta: float = 10000.0, dtype: Any = ...
    ) -> None: ...
    @staticmethod
    def precompute_freqs_cis(
        embedding_size: int, end: int, theta: float, dtype: Any
    ) -> tuple[Float[Array, "end half_size"], Float[Array, "end half_size"]]:
        """The ``(cos, sin)`` tables of the rotation angles, each ``[end, embedding_size // 2]``."""
    def __call__(
        self, x: Float[Array, "seq_length embedding_size"], *, key: PRNGKeyArray | None = None
    ) -> Float[Array, "seq_length embedding_size"]: ...

# =======================================================================================
# Convolutions
# =======================================================================================

class Conv(Module):
    """N-dimensional convolution of a ``[in_channels, *spatial]`` input (no batch axis;
    use ``filter_vmap`` for batches)."""

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
    ) -> None: ...
    def __call__(
        self, x: Float[Array, "in_channels *spatial"], *, key: PRNGKeyArray | None = None
    ) -> Float[Array, "out_channels *new_spatial"]: ...

class Conv1d(Conv):
    """1-dimensional :class:`Conv`."""

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
    ) -> None: ...

class Conv2d(Conv):
    """2-dimensional :class:`Conv`."""

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
    ) -> None: ...

class Conv3d(Conv):
    """3-dimensional :class:`Conv`."""

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
    ) -> None: ...

class ConvTranspose(Module):
    """N-dimensional transposed convolution (the gradient of :class:`Conv` with
    respect to its input), on a ``[in_channels, *spatial]`` input."""

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
    ) -> None: ...
    def __call__(
        self, x: Float[Array, "in_channels *spatial"], *, key: PRNGKeyArray | None = None
    ) -> Float[Array, "out_channels *new_spatial"]: ...

class ConvTranspose1d(ConvTranspose):
    """1-dimensional :class:`ConvTranspose`."""

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
    ) -> None: ...

class ConvTranspose2d(ConvTranspose):
    """2-dimensional :class:`ConvTranspose`."""

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
    ) -> None: ...

class ConvTranspose3d(ConvTranspose):
    """3-dimensional :class:`ConvTranspose`."""

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
    ) -> None: ...

# =======================================================================================
# Pooling
# =======================================================================================

class Pool(Module):
    """Generic pooling: reduce each window with ``operation`` starting from ``init``."""

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
    ) -> None: ...
    def __call__(
        self, x: Float[Array, "channels *spatial"], *, key: PRNGKeyArray | None = None
    ) -> Float[Array, "channels *new_spatial"]: ...

class MaxPool1d(Pool):
    """1-dimensional max pooling."""

    def __init__(
        self,
        kernel_size: _Size,
        stride: _Size = 1,
        padding: _PoolPadding = 0,
        use_ceil: bool = False,
    ) -> None: ...

class MaxPool2d(Pool):
    """2-dimensional max pooling."""

    def __init__(
        self,
        kernel_size: _Size,
        stride: _Size = 1,
        padding: _PoolPadding = 0,
        use_ceil: bool = False,
    ) -> None: ...

class MaxPool3d(Pool):
    """3-dimensional max pooling."""

    def __init__(
        self,
        kernel_size: _Size,
        stride: _Size = 1,
        padding: _PoolPadding = 0,
        use_ceil: bool = False,
    ) -> None: ...

class AvgPool1d(Pool):
    """1-dimensional average pooling."""

    def __init__(
        self,
        kernel_size: _Size,
        stride: _Size = 1,
        padding: _PoolPadding = 0,
        use_ceil: bool = False,
    ) -> None: ...

class AvgPool2d(Pool):
    """2-dimensional average pooling."""

    def __init__(
        self,
        kernel_size: _Size,
        stride: _Size = 1,
        padding: _PoolPadding = 0,
        use_ceil: bool = False,
    ) -> None: ...

class AvgPool3d(Pool):
    """3-dimensional average pooling."""

    def __init__(
        self,
        kernel_size: _Size,
        stride: _Size = 1,
        padding: _PoolPadding = 0,
        use_ceil: bool = False,
    ) -> None: ...

class AdaptivePool(Module):
    """Pooling to a fixed output size ``target_shape``, whatever the input size."""

    target_shape: Final[tuple[int, ...]]
    operation: Final[Callable[[Array], Array]]
    def __init__(
        self, target_shape: _Size, num_spatial_dims: int, operation: Callable[[Array], Array]
    ) -> None: ...
    def __call__(
        self, x: Float[Array, "channels *spatial"], *, key: PRNGKeyArray | None = None
    ) -> Float[Array, "channels *target"]: ...

class AdaptiveAvgPool1d(AdaptivePool):
    """1-dimensional adaptive average pooling."""

    def __init__(self, target_shape: _Size) -> None: ...

class AdaptiveAvgPool2d(AdaptivePool):
    """2-dimensional adaptive average pooling."""

    def __init__(self, target_shape: _Size) -> None: ...

class AdaptiveAvgPool3d(AdaptivePool):
    """3-dimensional adaptive average pooling."""

    def __init__(self, target_shape: _Size) -> None: ...

class AdaptiveMaxPool1d(AdaptivePool):
    """1-dimensional adaptive max pooling."""

    def __init__(self, target_shape: _Size) -> None: ...

class AdaptiveMaxPool2d(AdaptivePool):
    """2-dimensional adaptive max pooling."""

    def __init__(self, target_shape: _Size) -> None: ...

class AdaptiveMaxPool3d(AdaptivePool):
    """3-dimensional adaptive max pooling."""

    def __init__(self, target_shape: _Size) -> None: ...

# =======================================================================================
# Normalisation
# =======================================================================================

class LayerNorm(Module):
    """Normalise over the trailing ``shape`` (mean 0, variance 1), then apply the
    optional learnt elementwise ``weight`` and ``bias``."""

    shape: Final[tuple[int, ...]]
    eps: Final[float]
    use_weight: Final[bool]
    use_bias: Final[bool]
    weight: Final[Float[Array, "*shape"] | None]
    bias: Final[Float[Array, "*shape"] | None]
    def __init__(
        self,
        shape: _Size,
        eps: float = 1e-05,
        use_weight: bool = True,
        use_bias: bool = True,
        dtype: DTypeLike | None = None,
        *,
        elementwise_affine: bool | None = None,
    ) -> None: ...
    @overload
    def __call__(
        self, x: Num[Array, "*shape"], *, key: PRNGKeyArray | None = None
    ) -> Num[Array, "*shape"]: ...
    @overload
    def __call__(
        self, x: Num[Array, "*shape"], state: State, *, key: PRNGKeyArray | None = None
    ) -> tuple[Num[Array, "*shape"], State]: ...

class RMSNorm(Module):
    """Divide by the root-mean-square over the trailing ``shape``, then apply the
    optional learnt ``weight`` and ``bias``."""

    shape: Final[tuple[int, ...]]
    eps: Final[float]
    use_weight: Final[bool]
    use_bias: Final[bool]
    weight: Final[Float[Array, "*shape"] | None]
    bias: Final[Float[Array, "*shape"] | None]
    def __init__(
        self,
        shape: _Size,
        eps: float = 1e-05,
        use_weight: bool = True,
        use_bias: bool = True,
        dtype: DTypeLike | None = None,
    ) -> None: ...
    @overload
    def __call__(
        self, x: Float[Array, "*shape"], *, key: PRNGKeyArray | None = None
    ) -> Float[Array, "*shape"]: ...
    @overload
    def __call__(
        self, x: Float[Array, "*shape"], state: State, *, key: PRNGKeyArray | None = None
    ) -> tuple[Float[Array, "*shape"], State]: ...

class GroupNorm(Module):
    """Split ``channels`` (the leading axis) into ``groups`` and normalise each group."""

    groups: Final[int]
    channels: Final[int | None]
    eps: Final[float]
    channelwise_affine: Final[bool]
    weight: Final[Float[Array, "channels"] | None]
    bias: Final[Float[Array, "channels"] | None]
    def __init__(
        self,
        groups: int,
        channels: int | None = None,
        eps: float = 1e-05,
        channelwise_affine: bool = True,
        dtype: DTypeLike | None = None,
    ) -> None: ...
    @overload
    def __call__(
        self, x: Float[Array, "channels *rest"], *, key: PRNGKeyArray | None = None
    ) -> Float[Array, "channels *rest"]: ...
    @overload
    def __call__(
        self, x: Float[Array, "channels *rest"], state: State, *, key: PRNGKeyArray | None = None
    ) -> tuple[Float[Array, "channels *rest"], State]: ...

class BatchNorm(StatefulLayer):
    """Batch normalisation over the batch axis named ``axis_name`` (from ``filter_vmap``);
    running statistics live in the :class:`State`.

    ```python
    bn, state = eqx.nn.make_with_state(eqx.nn.BatchNorm)(3, "batch", mode="batch")
    y, state = eqx.filter_vmap(bn, axis_name="batch", in_axes=(0, None),
                               out_axes=(0, None))(x, state)
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
    ) -> None: ...
    def __call__(
        self,
        x: Float[Array, "input_size *rest"],
        state: State,
        *,
        key: PRNGKeyArray | None = None,
        inference: bool | None = None,
    ) -> tuple[Float[Array, "input_size *rest"], State]: ...

# =======================================================================================
# Containers and wrappers
# =======================================================================================

class Sequential(StatefulLayer, Generic[_SeqLayer]):
    """Apply ``layers`` in order; a State is threaded through the stateful ones.

    The type argument is the type of the layers: ``Sequential([Linear(...), Linear(...)])``
    is a ``Sequential[Linear]``, so indexing, ``.layers`` and iteration give ``Linear``.
    Layers of several types give their union (pyright) or ``Callable[..., Any]`` (mypy,
    whose join of the types would not be callable).

    ```python
    model = eqx.nn.Sequential([eqx.nn.Linear(2, 4, key=k1), eqx.nn.Lambda(jax.nn.relu)])
    ```
    """

    @property
    def layers(self) -> tuple[_SeqLayer, ...]: ...
    @overload
    def __init__(self, layers: Sequence[_SeqLayer]) -> None: ...
    @overload
    def __init__(
        self: Sequential[Callable[..., Any]], layers: Sequence[Callable[..., Any]]
    ) -> None: ...
    @overload
    def __call__(self, x: Array, *, key: PRNGKeyArray | None = None) -> Array: ...
    @overload
    def __call__(
        self, x: Array, state: State, *, key: PRNGKeyArray | None = None
    ) -> tuple[Array, State]: ...
    @overload
    def __getitem__(self, i: int) -> _SeqLayer: ...
    @overload
    def __getitem__(self, i: slice) -> Sequential[_SeqLayer]: ...
    def __iter__(self) -> Iterator[_SeqLayer]: ...
    def __len__(self) -> int: ...

def inference_mode(pytree: _T, value: bool = True) -> _T:
    """A copy of ``pytree`` with every ``inference`` flag (Dropout, BatchNorm, ...) set
    to ``value``. The result has the type of ``pytree``."""

class Shared(Module, Generic[_T]):
    """Tie parameters: the nodes of ``pytree`` picked by ``where`` are stored once, as
    the nodes picked by ``get``; gradients of tied nodes add up.

    ``shared()`` returns ``pytree`` with the tied nodes restored.
    """

    @property
    def pytree(self) -> _T: ...
    @property
    def where(self) -> Callable[[_T], Any]: ...
    @property
    def get(self) -> Callable[[_T], Any]: ...
    def __init__(self, pytree: _T, where: Callable[[_T], Any], get: Callable[[_T], Any]) -> None: ...
    def __call__(self) -> _T: ...

class WeightNorm(Module, Generic[_Layer]):
    """Reparametrise ``layer``'s weight as ``g * v / ||v||`` (norm over all axes but
    ``axis``)."""

    @property
    def layer(self) -> _Layer: ...
    g: Final[Float[Array, "..."]]
    weight_name: Final[str]
    axis: Final[int | None]
    def __init__(self, layer: _Layer, weight_name: str = "weight", axis: int | None = 0) -> None: ...
    def __call__(self, x: Array, *, key: PRNGKeyArray | None = None) -> Array: ...

class SpectralNorm(StatefulLayer, Generic[_Layer]):
    """Divide ``layer``'s weight by its largest singular value, estimated by power
    iteration whose vectors live in the :class:`State`."""

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
    ) -> None: ...
    def __call__(
        self,
        x: Array,
        state: State,
        *,
        key: PRNGKeyArray | None = None,
        inference: bool | None = None,
    ) -> tuple[Array, State]: ...
