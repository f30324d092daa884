"""``keras.ops``: NumPy-like and neural-network ops on Tensors, differentiable under a
GradientTape (see ``tinyann.autodiff``).

    from tinyann import ops
    y = ops.relu(ops.matmul(x, w) + b)
"""

from tinyann.autodiff import Tensor
from tinyann.ops import core, linalg, nn, numpy
from tinyann.ops import math as _math_ops
from tinyann.ops._operators import install as _install_operators
from tinyann.ops.core import (
    cast,
    convert_to_numpy,
    convert_to_tensor,
    is_tensor,
    shape,
    stop_gradient,
)
from tinyann.ops.linalg import *  # noqa: F403  (keras.ops.linalg's names, flat as in Keras)
from tinyann.ops.linalg import logdet, slogdet
from tinyann.ops.math import *  # noqa: F403  (ops.tan, ops.erf, ops.isnan, ops.all, ...)
from tinyann.ops.nn import (
    average_pool,
    binary_crossentropy,
    categorical_crossentropy,
    conv,
    elu,
    gelu,
    leaky_relu,
    log_softmax,
    max_pool,
    moments,
    normalize,
    one_hot,
    relu,
    relu6,
    sigmoid,
    silu,
    softmax,
    softplus,
    sparse_categorical_crossentropy,
    swish,
)
from tinyann.ops.numpy import *  # noqa: F403  (Keras's flat namespace: ops.add, ops.sum, ...)
from tinyann.variables import Variable

# the engine's Tensor and the weights' Variable get their operators from these ops
_install_operators(Tensor)
_install_operators(Variable)

__all__ = [name for name in dir(numpy) if not name.startswith("_") and callable(
    getattr(numpy, name)) and getattr(getattr(numpy, name), "__module__", "") == numpy.__name__]
__all__ += ["cast", "convert_to_numpy", "convert_to_tensor", "is_tensor", "shape",
            "stop_gradient", "binary_crossentropy", "categorical_crossentropy", "elu", "gelu",
            "leaky_relu", "log_softmax", "moments", "normalize", "one_hot", "relu", "relu6",
            "sigmoid", "silu", "softmax", "softplus", "sparse_categorical_crossentropy",
            "swish", "conv", "max_pool", "average_pool", "core", "nn", "numpy"]

from tinyann.ops import arrays, sorting  # noqa: E402
from tinyann.ops.arrays import *  # noqa: E402, F403  (split, pad, tril, outer, ...)
from tinyann.ops.sorting import *  # noqa: E402, F403  (sort, top_k, quantile, nan*, ...)

__all__ += arrays.__all__ + sorting.__all__ + ["arrays", "sorting"]
__all__ += _math_ops.__all__ + linalg.__all__ + ["linalg", "logdet", "slogdet"]

# the rest of keras.ops.nn (flat too, as in Keras), control flow, and keras.ops.image
from tinyann.ops import control, image, nn_more  # noqa: E402
from tinyann.ops.control import *  # noqa: E402, F403  (cond, while_loop, scan, ...)
from tinyann.ops.nn_more import *  # noqa: E402, F403  (selu, layer_normalization, ...)

for _name in nn_more.__all__:
    setattr(nn, _name, getattr(nn_more, _name))   # keras.ops.nn.selu as well as ops.selu
del _name
__all__ += control.__all__ + nn_more.__all__ + ["control", "image"]

from tinyann.ops import signal  # noqa: E402
from tinyann.ops.signal import *  # noqa: E402, F403  (fft, rfft, irfft, fft2, ifft2)

__all__ += signal.__all__
