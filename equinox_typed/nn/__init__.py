"""Neural-network layers: every array field and every call is shape-annotated."""

# --- linear, recurrent, embedding, attention layers ---
from ._activations import PReLU as PReLU
from ._attention import MultiheadAttention as MultiheadAttention
from ._dropout import Dropout as Dropout
from ._embedding import Embedding as Embedding
from ._lambda import Lambda as Lambda
from ._linear import Identity as Identity, Linear as Linear
from ._mlp import MLP as MLP
from ._rnn import GRUCell as GRUCell, LSTMCell as LSTMCell
from ._rope import RotaryPositionalEmbedding as RotaryPositionalEmbedding
# --- convolutions and pooling ---
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
# --- normalisation, state and wrappers ---

__all__: list[str] = []
# --- __all__ additions ---
__all__ += ["Linear", "Identity", "Lambda", "Dropout", "MLP", "PReLU"]
__all__ += ["GRUCell", "LSTMCell", "Embedding", "MultiheadAttention"]
__all__ += ["RotaryPositionalEmbedding"]
__all__ += ["Conv", "Conv1d", "Conv2d", "Conv3d", "ConvTranspose", "ConvTranspose1d"]
__all__ += ["ConvTranspose2d", "ConvTranspose3d", "Pool", "MaxPool1d", "MaxPool2d"]
__all__ += ["MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d", "AdaptivePool"]
__all__ += ["AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d"]
__all__ += ["AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d"]
