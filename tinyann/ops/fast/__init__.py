"""The fast kernels: the reference ops' signatures, with buffers, layouts and in-place
updates. Each speed choice is explained (with its measurement) where it is made.

Ops without a faster form here (Adamax, Adadelta, weight decay, the cross-entropy
value) come from the reference set (``tinyann.ops`` fills them in).
"""

from tinyann.ops.fast.activations import (  # noqa: F401
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
from tinyann.ops.fast.conv import conv2d_backward, conv2d_forward  # noqa: F401
from tinyann.ops.fast.dense import dense_backward, dense_forward, dense_kernel_order  # noqa: F401
from tinyann.ops.fast.losses import softmax_cross_entropy_grad  # noqa: F401
from tinyann.ops.fast.optimizers import (  # noqa: F401
    adagrad_update,
    adam_update,
    rmsprop_update,
    sgd_update,
)
from tinyann.ops.fast.pooling import (  # noqa: F401
    avg_pool2d_backward,
    avg_pool2d_forward,
    max_pool2d_backward,
    max_pool2d_forward,
)
