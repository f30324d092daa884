"""Conv2DTranspose: the transposed 2-D convolution (channels_last), which upsamples
(autoencoders' decoders, DCGAN's generator).

The math is the ``conv2d_transpose_forward`` / ``_backward`` ops
(tinyann/kernels/reference/conv_transpose.py): each input pixel adds its channels
through every tap of the kernel into the output; the output's size and where it starts
follow Keras 3's padding rules (``transpose_window``).
"""

from __future__ import annotations

import numpy as np

from tinyann import kernels
from tinyann.kernels.reference.conv_transpose import transpose_window
from tinyann.layers._kernel_layer import KernelLayer, activate, check_supported
from tinyann.utils import conv_utils


class Conv2DTranspose(KernelLayer):
    """Transposed convolution layer, channels_last.

    Args:
        filters: output channels. kernel_size, strides, dilation_rate: int or pair.
        padding: ``'valid'`` (output ``(n - 1) * stride + max(kernel, stride)``) or
            ``'same'`` (output ``n * stride``).
        output_padding: int or pair added to the output's size (None: by the padding).
        activation, use_bias, initializers, regularizers: as Conv2D.

    Weights: ``kernel`` (kh, kw, filters, channels) (Keras's layout) and ``bias``
    (filters,). Input ``(batch, rows, cols, channels)``; output
    ``(batch, new_rows, new_cols, filters)``.
    """

    _config_keys = ("filters", "kernel_size", "strides", "padding", "output_padding",
                    "data_format", "dilation_rate")
    _config_activity_regularizer = True

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 output_padding=None, data_format=None, dilation_rate=(1, 1),
                 activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        conv_utils.check_filters_and_groups(filters)
        check_supported(activity_regularizer, kernel_constraint, bias_constraint, None)
        super().__init__(**kwargs)
        conv_utils.set_conv_arguments(self, filters, kernel_size, strides, padding,
                                      dilation_rate, data_format)
        self.output_padding = None if output_padding is None else conv_utils.normalize_tuple(
            output_padding, 2, "output_padding", allow_zero=True)
        if self.output_padding is not None:
            for pad, stride in zip(self.output_padding, self.strides):
                if pad >= stride:
                    raise ValueError(
                        "Strides must be greater than output padding. Received strides="
                        f"{self.strides}, output_padding={self.output_padding}.")
        self._set_kernel_options(activation, use_bias, kernel_initializer, bias_initializer,
                                 kernel_regularizer, bias_regularizer,
                                 kernel_constraint, bias_constraint)
        self._x = self._y = self._z = self._windows = None

    def build(self, input_shape):
        conv_utils.check_image_input(self, input_shape)
        channels = conv_utils.channels_of(input_shape)
        # the kernel is (kh, kw, filters, channels): its bias follows the filters
        self.kernel = self.add_weight(self.kernel_size + (self.filters, channels),
                                      self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer)
        if self.use_bias:
            self.bias = self.add_weight((self.filters,), self.bias_initializer, name="bias",
                                        regularizer=self.bias_regularizer)
        self.built = True

    def _window(self, axis, size):
        pad = None if self.output_padding is None else self.output_padding[axis]
        return transpose_window(size, self.kernel_size[axis], self.strides[axis],
                                self.dilation_rate[axis], self.padding, pad)

    def compute_output_shape(self, input_shape):
        rows, cols = input_shape[1], input_shape[2]
        out_rows = None if rows is None else self._window(0, rows)[1]
        out_cols = None if cols is None else self._window(1, cols)[1]
        return self.activation.output_shape((input_shape[0], out_rows, out_cols, self.filters))

    def call(self, inputs, training=False):
        windows = (self._window(0, inputs.shape[1]), self._window(1, inputs.shape[2]))
        z = kernels.conv2d_transpose_forward(
            inputs, self.kernel.value, self.bias.value if self.use_bias else None,
            self.strides, self.dilation_rate, windows)
        y = activate(self, z, training)
        if training:
            self._x, self._y, self._windows = inputs, y, windows
        return y

    def backward(self, grad_output):
        if self.activation.needs_input:
            g = self.activation.backward(self._y, grad_output, np.empty_like(self._z),
                                         x=self._z)
        else:
            g = self.activation.backward(self._y, grad_output, grad_output.copy())
        return kernels.conv2d_transpose_backward(
            g, self._x, self.kernel.value, self.kernel.grad,
            self.bias.grad if self.use_bias else None, self.strides, self.dilation_rate,
            self._windows, self._needs_input_grad)
