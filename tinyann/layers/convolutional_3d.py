"""Conv3D: 3-D cross-correlation over volumes ``(batch, depth, rows, cols, channels)``
(videos, medical scans).

The math is the ``conv3d_forward`` / ``conv3d_backward`` ops (im2col over three axes,
one matrix product: tinyann/kernels/reference/volume.py)::

    z = im2col(x) @ kernel + bias;  y = activation(z)
    dL/dkernel = im2col(x)^T dz;  dL/dbias = sum(dz);  dL/dx = col2im(dz kernel^T)

``channels_first`` volumes are moved to channels_last and back.
"""

from __future__ import annotations

import numpy as np

from tinyann import kernels
from tinyann.layers._kernel_layer import activate, deactivate
from tinyann.layers.convolutional import _Conv
from tinyann.layers.pooling_1d import normalize_data_format
from tinyann.utils import conv_utils


def check_volume_input(layer, shape, channels=None, channel_axis=-1, min_ndim=False):
    """Keras's input-spec messages for a layer taking ``(batch, d, rows, cols, channels)``."""
    shape = tuple(shape)
    if len(shape) != 5:
        what = "min_ndim=5" if min_ndim and len(shape) < 5 else "ndim=5"
        raise ValueError(
            f"Input 0 of layer '{layer.name}' is incompatible with the layer: expected "
            f"{what}, found ndim={len(shape)}. Full shape received: {shape}")
    if channels is not None and shape[channel_axis] is not None and (
            shape[channel_axis] != channels):
        raise ValueError(
            f"Input 0 of layer '{layer.name}' is incompatible with the layer: expected axis "
            f"{channel_axis} of input shape to have value {channels}, but received input "
            f"with shape {shape}")


def to_channels_last(x, data_format):
    if data_format == "channels_first":
        return np.ascontiguousarray(np.moveaxis(x, 1, -1))
    return x


def from_channels_last(y, data_format):
    return np.moveaxis(y, -1, 1) if data_format == "channels_first" else y


class Conv3D(_Conv):
    """3-D convolution layer (cross-correlation, as Keras).

    Args:
        filters: output channels.
        kernel_size, strides, dilation_rate: int or 3 ints; strides above 1 cannot be
            combined with a dilation above 1.
        padding: ``'valid'`` or ``'same'``.
        data_format: ``'channels_last'`` (default) or ``'channels_first'``.
        activation, use_bias, initializers, regularizers, constraints: as Conv2D.

    Input ``(batch, depth, rows, cols, channels)``; output ``(batch, new_depth,
    new_rows, new_cols, filters)``. Weights: ``kernel`` (kd, kh, kw, channels, filters)
    and ``bias`` (filters,).

    Example:
        >>> Conv3D(4, 3, padding="same")(np.zeros((2, 5, 8, 8, 1))).shape
        (2, 5, 8, 8, 4)
    """

    op_kind = "conv3d"  # no fusion in tinyann.kernels.FUSIONS

    def __init__(self, filters, kernel_size, strides=(1, 1, 1), padding="valid",
                 data_format=None, dilation_rate=(1, 1, 1), groups=1, activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None, lora_alpha=None,
                 **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, lora_rank, **kwargs)

    def _set_conv_arguments(self, filters, kernel_size, strides, padding, dilation_rate,
                            data_format):
        self.filters = int(filters)
        self.kernel_size = conv_utils.normalize_tuple(kernel_size, 3, "kernel_size")
        self.strides = conv_utils.normalize_tuple(strides, 3, "strides")
        self.dilation_rate = conv_utils.normalize_tuple(dilation_rate, 3, "dilation_rate")
        self.padding = conv_utils.normalize_padding(padding)
        self.data_format = normalize_data_format(data_format)

    @property
    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def build(self, input_shape):
        check_volume_input(self, input_shape, min_ndim=True)
        channels = conv_utils.channels_of(input_shape, self._channel_axis)
        self.compute_output_shape(input_shape)  # fails early on too small inputs
        self._add_kernel_and_bias(self.kernel_size + (channels, self.filters))

    def _check_input(self, shape):
        check_volume_input(self, shape, self.kernel.shape[3], self._channel_axis,
                           min_ndim=True)
        self.compute_output_shape(shape)

    def compute_output_shape(self, input_shape):
        check_volume_input(self, input_shape, min_ndim=True)
        first = self.data_format == "channels_first"
        sizes = input_shape[2:] if first else input_shape[1:4]
        out = tuple(conv_utils.output_length(n, k, self.padding, s, d) for n, k, s, d in
                    zip(sizes, self.kernel_size, self.strides, self.dilation_rate))
        if any(o is not None and o <= 0 for o in out):
            raise ValueError(
                "Computed output size would be zero or negative. Received "
                f"`inputs shape={tuple(input_shape)}`, `kernel shape="
                f"{self.kernel_size + (input_shape[self._channel_axis], self.filters)}`, "
                f"`dilation_rate={conv_utils._np_repr(self.dilation_rate)}`, "
                f"`strides={tuple(self.strides)}`, `padding={self.padding}`.")
        # the activation runs on the channels_last result (glu halves the filters)
        last = self.activation.output_shape((input_shape[0],) + out + (self.filters,))
        return (last[0], last[-1]) + last[1:-1] if first else last

    def call(self, inputs, training=False):
        z, ctx = kernels.conv3d_forward(to_channels_last(inputs, self.data_format),
                                        self.kernel.value,
                                        self.bias.value if self.use_bias else None,
                                        self.strides, self.padding, self.dilation_rate)
        y = activate(self, z, training)
        if training:
            self._ctx, self._y = ctx, y
        return from_channels_last(y, self.data_format)

    def backward(self, grad_output):
        # a copy, channels_last: the activation's derivative overwrites it
        g = np.array(to_channels_last(grad_output, self.data_format), dtype=self._y.dtype)
        dz = deactivate(self, g)
        dx = kernels.conv3d_backward(dz, self._ctx, self.kernel.value, self.kernel.grad,
                                     self.bias.grad if self.use_bias else None,
                                     self._needs_input_grad)
        return None if dx is None else from_channels_last(dx, self.data_format)
