"""Conv2D then max pooling, fast: the NumPy set's two ops one after the other."""

from tinyann.kernels.fast.conv import conv2d_backward, conv2d_forward
from tinyann.kernels.fast.pooling import max_pool2d_backward, max_pool2d_forward
from tinyann.kernels.reference.conv_pool import composed

conv2d_max_pool_forward, conv2d_max_pool_backward = composed(
    conv2d_forward, conv2d_backward, max_pool2d_forward, max_pool2d_backward)
