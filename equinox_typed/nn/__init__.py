"""Neural-network layers: every array field and every call is shape-annotated."""

# Linear, recurrent, embedding and attention layers.
from ._activations import PReLU as PReLU
from ._attention import MultiheadAttention as MultiheadAttention
from ._dropout import Dropout as Dropout
from ._embedding import Embedding as Embedding
from ._lambda import Lambda as Lambda
from ._linear import Identity as Identity, Linear as Linear
from ._mlp import MLP as MLP
from ._rnn import GRUCell as GRUCell, LSTMCell as LSTMCell
from ._rope import RotaryPositionalEmbedding as RotaryPositionalEmbedding
# Convolutions and pooling.
from ._conv import (
    Conv as Conv,
    Conv1d as Conv1d,
    Conv2d as Conv2d,
    Conv3d as Conv3d,
    ConvTranspose as ConvTranspose,
    ConvTranspose1d as ConvTranspose1d,
    ConvTranspose2d as ConvTranspose2d,
    ConvTranspose3d as ConvTranspose3d,
)
from ._pool import (
    AdaptiveAvgPool1d as AdaptiveAvgPool1d,
    AdaptiveAvgPool2d as AdaptiveAvgPool2d,
    AdaptiveAvgPool3d as AdaptiveAvgPool3d,
    AdaptiveMaxPool1d as AdaptiveMaxPool1d,
    AdaptiveMaxPool2d as AdaptiveMaxPool2d,
    AdaptiveMaxPool3d as AdaptiveMaxPool3d,
    AdaptivePool as AdaptivePool,
    AvgPool1d as AvgPool1d,
    AvgPool2d as AvgPool2d,
    AvgPool3d as AvgPool3d,
    MaxPool1d as MaxPool1d,
    MaxPool2d as MaxPool2d,
    MaxPool3d as MaxPool3d,
    Pool as Pool,
)
# Normalisation, state and wrappers.
from ._batch_norm import BatchNorm as BatchNorm
from ._inference import inference_mode as inference_mode
from ._normalisation import GroupNorm as GroupNorm, LayerNorm as LayerNorm, RMSNorm as RMSNorm
from ._sequential import Sequential as Sequential
from ._shared import Shared as Shared
from ._spectral_norm import SpectralNorm as SpectralNorm
from ._stateful import (
    State as State,
    StatefulLayer as StatefulLayer,
    StateIndex as StateIndex,
    delete_init_state as delete_init_state,
    make_with_state as make_with_state,
)
from ._weight_norm import WeightNorm as WeightNorm

__all__ = [
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "AdaptiveMaxPool3d",
    "AdaptivePool",
    "AvgPool1d",
    "AvgPool2d",
    "AvgPool3d",
    "BatchNorm",
    "Conv",
    "Conv1d",
    "Conv2d",
    "Conv3d",
    "ConvTranspose",
    "ConvTranspose1d",
    "ConvTranspose2d",
    "ConvTranspose3d",
    "Dropout",
    "Embedding",
    "GRUCell",
    "GroupNorm",
    "Identity",
    "LSTMCell",
    "Lambda",
    "LayerNorm",
    "Linear",
    "MLP",
    "MaxPool1d",
    "MaxPool2d",
    "MaxPool3d",
    "MultiheadAttention",
    "PReLU",
    "Pool",
    "RMSNorm",
    "RotaryPositionalEmbedding",
    "Sequential",
    "Shared",
    "SpectralNorm",
    "State",
    "StateIndex",
    "StatefulLayer",
    "WeightNorm",
    "delete_init_state",
    "inference_mode",
    "make_with_state",
]
