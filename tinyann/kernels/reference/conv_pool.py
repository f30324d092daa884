"""Conv2D followed by max pooling, as one op: ``y = max_pool(conv(x) + b)``.

Shapes: ``x`` (n, h, w, c), ``kernel`` (kh, kw, c, f), output ``y`` (n, ph, pw, f)
(the pooled convolution). The model graph runs a ReLU convolution and the max
pooling after it through this op (``tinyann.kernels.FUSIONS``), the ReLU applied to
``y`` afterwards (max and ReLU commute). Here, the composition of the two ops;
the compiled set computes the pooled output without writing the convolution's.

Backward: the pooling's backward (``dy`` to the first maximum of each window)
gives ``dz``, then the convolution's backward from ``dz``.
"""

from __future__ import annotations

from tinyann.kernels.reference.conv import conv2d_backward, conv2d_forward
from tinyann.kernels.reference.pooling import max_pool2d_backward, max_pool2d_forward


def composed(conv_forward, conv_backward, pool_forward, pool_backward):
    """``(conv2d_max_pool_forward, conv2d_max_pool_backward)`` of a kernel set's
    convolution and pooling ops (each keeps its buffers in a part of ``state``)."""

    def forward(x, kernel, bias, strides, padding, dilation_rate, pool_size, pool_strides,
                pool_padding, state=None, training=False):
        conv_state = pool_state = None
        if state is not None:
            conv_state = state.setdefault("conv", {"name": state.get("name", "conv2d")})
            pool_state = state.setdefault("pool", {})
        z, conv_ctx = conv_forward(x, kernel, bias, strides, padding, dilation_rate,
                                   conv_state, training)
        y, pool_ctx = pool_forward(z, pool_size, pool_strides, pool_padding, pool_state,
                                   training)
        return y, (conv_ctx, pool_ctx)

    def backward(dy, ctx, kernel, dkernel, dbias, need_dx=True):
        conv_ctx, pool_ctx = ctx
        return conv_backward(pool_backward(dy, pool_ctx), conv_ctx, kernel, dkernel, dbias,
                             need_dx)

    forward.__doc__ = """``y = max_pool(conv(x) + b)``: returns ``(y, ctx)``."""
    backward.__doc__ = """Writes dK, db from ``dy`` (dL/dy); returns dx (None unless
    ``need_dx``)."""
    return forward, backward


conv2d_max_pool_forward, conv2d_max_pool_backward = composed(
    conv2d_forward, conv2d_backward, max_pool2d_forward, max_pool2d_backward)
