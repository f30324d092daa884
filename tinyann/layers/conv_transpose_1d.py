"""Conv1DTranspose: the transposed 1-D convolution, which upsamples sequences.

The math is Conv2DTranspose's ops (``conv2d_transpose_forward`` / ``_backward``,
tinyann/kernels/reference/conv_transpose.py) on a ``(batch, 1, steps, channels)`` view
with a ``(1, k, filters, channels)`` view of the kernel: one tested code path. The
output's length follows Keras 3's rules (``transpose_window``): ``'valid'``
``(n - 1) * stride + max(k, stride)``, ``'same'`` ``n * stride``, plus
``output_padding`` when given.
"""

from __future__ import annotations

import numpy as np

from tinyann import kernels
from tinyann.kernels.reference.conv_transpose import transpose_window
from tinyann.layers._kernel_layer import KernelLayer, activate, check_supported, deactivate
from tinyann.layers.pooling_1d import (
    check_sequence_input,
    from_channels_last,
    normalize_data_format,
    to_channels_last,
)
from tinyann.utils import conv_utils


class Conv1DTranspose(KernelLayer):
    """Transposed 1-D convolution layer.

    Args:
        filters: output channels. kernel_size, strides, dilation_rate: int.
        padding: ``'valid'`` or ``'same'``.
        output_padding: int added to the output's length (None: by the padding); must
            be below ``strides``.
        data_format: ``'channels_last'`` (default) or ``'channels_first'``.
        activation, use_bias, initializers, regularizers: as Conv1D.

    Input ``(batch, steps, channels)``; output ``(batch, new_steps, filters)``. Weights:
    ``kernel`` (k, filters, channels) (Keras's layout) and ``bias`` (filters,).

    Example:
        >>> Conv1DTranspose(4, 3, strides=2, padding="same")(np.zeros((2, 10, 8))).shape
        (2, 20, 4)
    """

    _config_keys = ("filters", "kernel_size", "strides", "padding", "output_padding",
                    "data_format", "dilation_rate")
    _config_activity_regularizer = True

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        conv_utils.check_filters_and_groups(filters)
        check_supported(activity_regularizer, kernel_constraint, bias_constraint, None)
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = conv_utils.normalize_tuple(kernel_size, 1, "kernel_size")
        self.strides = conv_utils.normalize_tuple(strides, 1, "strides")
        self.dilation_rate = conv_utils.normalize_tuple(dilation_rate, 1, "dilation_rate")
        self.padding = conv_utils.normalize_padding(padding)
        self.data_format = normalize_data_format(data_format)
        self.output_padding = None if output_padding is None else conv_utils.normalize_tuple(
            output_padding, 1, "output_padding", allow_zero=True)
        if self.output_padding is not None and self.output_padding[0] >= self.strides[0]:
            raise ValueError(
                "Strides must be greater than output padding. Received strides="
                f"{self.strides}, output_padding={self.output_padding}.")
        self._set_kernel_options(activation, use_bias, kernel_initializer, bias_initializer,
                                 kernel_regularizer, bias_regularizer,
                                 kernel_constraint, bias_constraint)
        self._x = self._y = self._z = self._windows = None

    @property
    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def build(self, input_shape):
        check_sequence_input(self, input_shape, min_ndim=True)
        channels = conv_utils.channels_of(input_shape, self._channel_axis)
        # the kernel is (k, filters, channels): its bias follows the filters
        self.kernel = self.add_weight(self.kernel_size + (self.filters, channels),
                                      self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight((self.filters,), self.bias_initializer, name="bias",
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        self.built = True

    def _check_input(self, shape):
        check_sequence_input(self, shape, self.kernel.shape[-1], self._channel_axis,
                             min_ndim=True)

    def _window(self, steps):
        pad = None if self.output_padding is None else self.output_padding[0]
        return transpose_window(steps, self.kernel_size[0], self.strides[0],
                                self.dilation_rate[0], self.padding, pad)

    def compute_output_shape(self, input_shape):
        check_sequence_input(self, input_shape, min_ndim=True)
        first = self.data_format == "channels_first"
        steps = input_shape[2] if first else input_shape[1]
        out = None if steps is None else self._window(steps)[1]
        batch, out, filters = self.activation.output_shape((input_shape[0], out, self.filters))
        return (batch, filters, out) if first else (batch, out, filters)

    def _kernel_view(self, array):
        return array.reshape((1,) + array.shape)

    def call(self, inputs, training=False):
        x = to_channels_last(inputs, self.data_format)
        x = x.reshape(x.shape[0], 1, x.shape[1], x.shape[2])
        windows = ((0, 1), self._window(x.shape[2]))
        z = kernels.conv2d_transpose_forward(
            x, self._kernel_view(self.kernel.value), self.bias.value if self.use_bias else None,
            (1,) + self.strides, (1,) + self.dilation_rate, windows)
        z = z.reshape(z.shape[0], z.shape[2], z.shape[3])
        y = activate(self, z, training)
        if training:
            self._x, self._y, self._windows = x, y, windows
        return from_channels_last(y, self.data_format)

    def backward(self, grad_output):
        # a copy, channels_last: the activation's derivative overwrites it
        g = np.array(to_channels_last(grad_output, self.data_format), dtype=self._y.dtype)
        g = deactivate(self, g)
        dkernel = self._kernel_view(self.kernel.grad)
        dx = kernels.conv2d_transpose_backward(
            g.reshape(g.shape[0], 1, g.shape[1], g.shape[2]), self._x,
            self._kernel_view(self.kernel.value), dkernel,
            self.bias.grad if self.use_bias else None, (1,) + self.strides,
            (1,) + self.dilation_rate, self._windows, self._needs_input_grad)
        if not np.shares_memory(dkernel, self.kernel.grad):  # a reshape that copied
            self.kernel.grad[...] = dkernel.reshape(self.kernel.grad.shape)
        if dx is None:
            return None
        return from_channels_last(dx.reshape(dx.shape[0], dx.shape[2], dx.shape[3]),
                                  self.data_format)
