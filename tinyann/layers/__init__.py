"""Layers with Keras's names and arguments."""

from tinyann.layers import _registry
from tinyann.layers.activations import ELU, LeakyReLU, PReLU, ReLU, Softmax
from tinyann.layers.activity_regularization import ActivityRegularization
from tinyann.layers.augmentation import (
    RandomContrast,
    RandomFlip,
    RandomRotation,
    RandomTranslation,
    RandomZoom,
)
from tinyann.layers.category_encoding import CategoryEncoding
from tinyann.layers.conv_transpose import Conv2DTranspose
from tinyann.layers.convolutional import Conv2D
from tinyann.layers.convolutional_1d import Conv1D
from tinyann.layers.core import Activation, Dense
from tinyann.layers.discretization import Discretization
from tinyann.layers.embedding import Embedding
from tinyann.layers.feature_normalization import Normalization
from tinyann.layers.hashed_crossing import HashedCrossing
from tinyann.layers.hashing import Hashing
from tinyann.layers.image_reshaping import Cropping2D, UpSampling2D, ZeroPadding2D
from tinyann.layers.input_layer import Input, InputLayer
from tinyann.layers.input_spec import InputSpec as InputSpec  # keras.layers.InputSpec
from tinyann.layers.lambda_layer import Lambda
from tinyann.layers.layer import Layer
from tinyann.layers.layer_normalization import LayerNormalization
from tinyann.layers.lookup import IntegerLookup, StringLookup
from tinyann.layers.masking import Masking
from tinyann.layers.merging import (
    Add,
    Average,
    Concatenate,
    Maximum,
    Minimum,
    Multiply,
    Subtract,
    add,
    average,
    concatenate,
    maximum,
    minimum,
    multiply,
    subtract,
)
from tinyann.layers.noise import (
    GaussianDropout,
    GaussianNoise,
    SpatialDropout1D,
    SpatialDropout2D,
)
from tinyann.layers.normalization import BatchNormalization
from tinyann.layers.pooling import (
    AveragePooling2D,
    GlobalAveragePooling2D,
    GlobalMaxPooling2D,
    MaxPooling2D,
)
from tinyann.layers.pooling_1d import (
    AveragePooling1D,
    GlobalAveragePooling1D,
    GlobalMaxPooling1D,
    MaxPooling1D,
)
from tinyann.layers.preprocessing import CenterCrop, Rescaling, Resizing
from tinyann.layers.rearranging import Identity, Permute, RepeatVector
from tinyann.layers.recurrent import GRU, LSTM, SimpleRNN
from tinyann.layers.regularization import Dropout
from tinyann.layers.reshaping import Flatten, Reshape
from tinyann.layers.rnn_cells import GRUCell, LSTMCell, SimpleRNNCell
from tinyann.layers.rnn_layer import RNN
from tinyann.layers.stacked_cells import StackedRNNCells
from tinyann.layers.text_vectorization import TextVectorization
from tinyann.layers.wrappers import Bidirectional, TimeDistributed

__all__ = ["Layer", "Input", "InputLayer", "Dense", "Activation", "Flatten", "Reshape",
           "Dropout", "serialize", "deserialize", "get_class",
           "Conv2D", "Convolution2D", "MaxPooling2D", "MaxPool2D", "AveragePooling2D",
           "AvgPool2D", "GlobalAveragePooling2D", "GlobalAvgPool2D", "GlobalMaxPooling2D",
           "GlobalMaxPool2D", "BatchNormalization", "Add", "Subtract", "Multiply", "Average",
           "Maximum", "Minimum", "Concatenate", "add", "subtract", "multiply", "average",
           "maximum", "minimum", "concatenate", "Embedding", "SimpleRNN", "LSTM", "GRU",
           "Softmax", "ReLU", "LeakyReLU", "ELU", "PReLU", "Rescaling", "CenterCrop", "Resizing",
           "RandomFlip", "RandomContrast", "RandomRotation", "RandomTranslation",
           "RandomZoom", "Bidirectional", "TimeDistributed", "Lambda", "TextVectorization",
           "Conv2DTranspose", "Convolution2DTranspose",
           "Conv1D", "Convolution1D", "MaxPooling1D", "MaxPool1D", "AveragePooling1D",
           "AvgPool1D", "GlobalAveragePooling1D", "GlobalAvgPool1D", "GlobalMaxPooling1D",
           "GlobalMaxPool1D",
           "Normalization", "LayerNormalization", "ZeroPadding2D", "Cropping2D",
           "UpSampling2D", "RepeatVector", "Permute", "Identity", "GaussianNoise",
           "GaussianDropout", "SpatialDropout1D", "SpatialDropout2D", "Masking",
           "ActivityRegularization"]
__all__ += ["StringLookup", "IntegerLookup", "CategoryEncoding", "Hashing", "Discretization",
            "HashedCrossing"]

# Keras's aliases
Convolution2D = Conv2D
Convolution2DTranspose = Conv2DTranspose
MaxPool2D = MaxPooling2D
AvgPool2D = AveragePooling2D
GlobalAvgPool2D = GlobalAveragePooling2D
GlobalMaxPool2D = GlobalMaxPooling2D
Convolution1D = Conv1D
MaxPool1D = MaxPooling1D
AvgPool1D = AveragePooling1D
GlobalAvgPool1D = GlobalAveragePooling1D
GlobalMaxPool1D = GlobalMaxPooling1D

__all__ += ["RNN", "SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells"]

_registry.register_builtin({name: value for name, value in globals().items()
                            if name in __all__ and isinstance(value, type)})


def get_class(name):
    """The layer class for a Keras ``class_name`` (``'Dense'``)."""
    return _registry.get_class(name)


def serialize(layer):
    return {"module": "keras.layers", "class_name": type(layer).__name__,
            "config": layer.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    cls = get_class(config["class_name"]) if not custom_objects or (
        config["class_name"] not in custom_objects) else custom_objects[config["class_name"]]
    return cls.from_config(config.get("config") or {})

# depthwise and separable convolutions (tinyann/layers/depthwise_conv.py, separable_conv.py)
from tinyann.layers.depthwise_conv import DepthwiseConv1D, DepthwiseConv2D  # noqa: E402
from tinyann.layers.separable_conv import SeparableConv1D, SeparableConv2D  # noqa: E402

SeparableConvolution1D = SeparableConv1D
SeparableConvolution2D = SeparableConv2D
__all__ += ["DepthwiseConv2D", "SeparableConv2D", "SeparableConvolution2D", "DepthwiseConv1D",
            "SeparableConv1D", "SeparableConvolution1D"]
_registry.register_builtin({name: globals()[name] for name in (
    "DepthwiseConv2D", "SeparableConv2D", "DepthwiseConv1D", "SeparableConv1D")})

# the 1-D transposed convolution; padding, cropping and upsampling of sequences and volumes
from tinyann.layers.conv_transpose_1d import Conv1DTranspose  # noqa: E402
from tinyann.layers.reshaping_nd import (  # noqa: E402
    Cropping1D,
    Cropping3D,
    UpSampling1D,
    UpSampling3D,
    ZeroPadding1D,
    ZeroPadding3D,
)

Convolution1DTranspose = Conv1DTranspose
__all__ += ["Conv1DTranspose", "Convolution1DTranspose", "Cropping1D", "ZeroPadding1D",
            "UpSampling1D", "Cropping3D", "ZeroPadding3D", "UpSampling3D"]
_registry.register_builtin({name: globals()[name] for name in (
    "Conv1DTranspose", "Cropping1D", "ZeroPadding1D", "UpSampling1D", "Cropping3D",
    "ZeroPadding3D", "UpSampling3D")})

# 3-D convolution and pooling over volumes (tinyann/layers/convolutional_3d.py, pooling_3d.py)
from tinyann.layers.convolutional_3d import Conv3D  # noqa: E402
from tinyann.layers.pooling_3d import (  # noqa: E402
    AveragePooling3D,
    GlobalAveragePooling3D,
    GlobalMaxPooling3D,
    MaxPooling3D,
)

Convolution3D = Conv3D
MaxPool3D = MaxPooling3D
AvgPool3D = AveragePooling3D
GlobalAvgPool3D = GlobalAveragePooling3D
GlobalMaxPool3D = GlobalMaxPooling3D
__all__ += ["Conv3D", "Convolution3D", "MaxPooling3D", "MaxPool3D", "AveragePooling3D",
            "AvgPool3D", "GlobalAveragePooling3D", "GlobalAvgPool3D", "GlobalMaxPooling3D",
            "GlobalMaxPool3D"]
_registry.register_builtin({name: globals()[name] for name in (
    "Conv3D", "MaxPooling3D", "AveragePooling3D", "GlobalAveragePooling3D",
    "GlobalMaxPooling3D")})
from tinyann.layers.attention import AdditiveAttention, Attention  # noqa: E402
from tinyann.layers.dot import Dot, dot  # noqa: E402
from tinyann.layers.einsum_dense import EinsumDense  # noqa: E402
from tinyann.layers.multi_head_attention import MultiHeadAttention  # noqa: E402
from tinyann.layers.normalization_extras import (  # noqa: E402
    GroupNormalization,
    UnitNormalization,
)

__all__ += ["EinsumDense", "MultiHeadAttention", "Attention", "AdditiveAttention", "Dot",
            "dot", "UnitNormalization", "GroupNormalization"]
_registry.register_builtin({"EinsumDense": EinsumDense, "MultiHeadAttention": MultiHeadAttention,
                            "Attention": Attention, "AdditiveAttention": AdditiveAttention,
                            "Dot": Dot, "UnitNormalization": UnitNormalization,
                            "GroupNormalization": GroupNormalization})
