"""The reference kernels: the textbook math in plain NumPy, no buffers, no layout tricks.

This set is the specification: the fast set is tested against it on tables of
shapes (tests/ops/), and the numerical gradient checks run on it. Conventions:
arrays are float32 in training (float64 in gradient checks); ``out=`` arguments
receive the result when given (the fast set may compute in them directly);
backward functions write (not add) the weights' gradients into the arrays given.
"""

from tinyann.ops.reference.activations import (  # noqa: F401
    exponential_backward,
    exponential_forward,
    linear_backward,
    linear_forward,
    relu_backward,
    relu_forward,
    sigmoid_backward,
    sigmoid_forward,
    softmax_backward,
    softmax_forward,
    tanh_backward,
    tanh_forward,
)
from tinyann.ops.reference.conv import conv2d_backward, conv2d_forward  # noqa: F401
from tinyann.ops.reference.dense import (  # noqa: F401
    dense_backward,
    dense_forward,
    dense_kernel_order,
)
from tinyann.ops.reference.losses import (  # noqa: F401
    softmax_cross_entropy,
    softmax_cross_entropy_grad,
)
from tinyann.ops.reference.optimizers import (  # noqa: F401
    adadelta_update,
    adagrad_update,
    adam_update,
    adamax_update,
    rmsprop_update,
    sgd_update,
    weight_decay_update,
)
from tinyann.ops.reference.pooling import (  # noqa: F401
    avg_pool2d_backward,
    avg_pool2d_forward,
    max_pool2d_backward,
    max_pool2d_forward,
)
