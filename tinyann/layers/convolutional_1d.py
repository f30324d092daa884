"""Conv1D: 1-D cross-correlation over sequences ``(batch, steps, channels)``.

The math is Conv2D's ops (``conv2d_forward`` / ``conv2d_backward``, see
tinyann/layers/convolutional.py) on a ``(batch, 1, steps, channels)`` view with a
``(1, kernel_size, channels, filters)`` view of the kernel: one tested code path
for the convolution and its gradients. ``'causal'`` padding is Keras's: the input
is padded on the left by ``dilation_rate * (kernel_size - 1)`` steps, then the
convolution runs 'valid', so output step t sees input steps up to t only.
"""

from __future__ import annotations

import numpy as np

from tinyann import kernels
from tinyann.layers._kernel_layer import activate, deactivate
from tinyann.layers.convolutional import _Conv
from tinyann.layers.pooling_1d import (
    check_sequence_input,
    from_channels_last,
    normalize_data_format,
    to_channels_last,
)
from tinyann.utils import conv_utils


def _normalize_padding(value) -> str:
    padding = value.lower() if isinstance(value, str) else value
    if padding not in ("valid", "same", "causal"):
        raise ValueError(
            "The `padding` argument must be a list/tuple or one of {'same', 'valid', "
            f"'causal'}}. Received: {value}"
        )
    return padding


class Conv1D(_Conv):
    """1-D convolution layer (cross-correlation, as Keras).

    Args:
        filters: number of output channels.
        kernel_size: int (or a 1-tuple).
        strides: int; ``> 1`` cannot be combined with ``dilation_rate > 1``.
        padding: ``'valid'``, ``'same'`` (output ``ceil(steps / strides)``) or
            ``'causal'`` (left padding only: no step sees the future).
        data_format: ``'channels_last'`` (default) or ``'channels_first'``.
        dilation_rate: int, spacing between kernel taps.
        activation, use_bias, kernel_initializer, bias_initializer,
        kernel_regularizer, bias_regularizer: as Dense.

    Input shape: ``(batch, steps, channels)`` (channels_first: ``(batch, channels,
    steps)``). Output shape: ``(batch, new_steps, filters)``. Weights: ``kernel`` of
    shape ``(kernel_size, channels, filters)`` and ``bias`` of shape ``(filters,)``.

    Example:
        >>> Conv1D(32, 7, activation="relu")(np.zeros((2, 100, 16))).shape
        (2, 94, 32)
    """

    op_kind = "conv1d"  # no fusion in tinyann.kernels.FUSIONS

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
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
        self.kernel_size = conv_utils.normalize_tuple(kernel_size, 1, "kernel_size")
        self.strides = conv_utils.normalize_tuple(strides, 1, "strides")
        self.dilation_rate = conv_utils.normalize_tuple(dilation_rate, 1, "dilation_rate")
        self.padding = _normalize_padding(padding)
        self.data_format = normalize_data_format(data_format)

    @property
    def _channel_axis(self):
        return -1 if self.data_format == "channels_last" else 1

    def build(self, input_shape):
        check_sequence_input(self, input_shape, min_ndim=True)
        channels = conv_utils.channels_of(input_shape, self._channel_axis)
        self.compute_output_shape(input_shape)  # fails early on too short inputs
        self._add_kernel_and_bias(self.kernel_size + (channels, self.filters))

    def _check_input(self, shape):
        check_sequence_input(self, shape, self.kernel.shape[1], self._channel_axis,
                             min_ndim=True)
        self.compute_output_shape(shape)

    def compute_output_shape(self, input_shape):
        check_sequence_input(self, input_shape, min_ndim=True)
        first = self.data_format == "channels_first"
        steps = input_shape[2] if first else input_shape[1]
        # causal: 'valid' after a left padding of d(k-1), the length 'same' gives
        padding = "same" if self.padding == "causal" else self.padding
        out = conv_utils.output_length(steps, self.kernel_size[0], padding,
                                       self.strides[0], self.dilation_rate[0])
        if out is not None and out <= 0:
            channels = input_shape[self._channel_axis]
            raise ValueError(
                "Computed output size would be zero or negative. Received "
                f"`inputs shape={tuple(input_shape)}`, `kernel shape="
                f"{self.kernel_size + (channels, self.filters)}`, "
                f"`dilation_rate={conv_utils._np_repr(self.dilation_rate)}`, "
                f"`strides={tuple(self.strides)}`, `padding={self.padding}`."
            )
        # the activation runs on the channels_last result (glu halves the filters)
        batch, out, filters = self.activation.output_shape((input_shape[0], out, self.filters))
        return (batch, filters, out) if first else (batch, out, filters)

    @property
    def fusion_kind(self):
        return f"{self.op_kind}+{self.activation.name}"

    def _left_pad(self):
        return self.dilation_rate[0] * (self.kernel_size[0] - 1) if (
            self.padding == "causal") else 0

    def _kernel_view(self, array):
        """A ``(kernel_size, channels, filters)`` array as Conv2D's ``(1, k, c, f)``."""
        return array.reshape((1,) + array.shape)

    def call(self, inputs, training=False):
        x = to_channels_last(inputs, self.data_format)
        pad = self._left_pad()
        if pad:
            x = np.pad(x, ((0, 0), (pad, 0), (0, 0)))
        n, steps, channels = x.shape
        z, ctx = kernels.conv2d_forward(
            x.reshape(n, 1, steps, channels), self._kernel_view(self.kernel.value),
            self.bias.value if self.use_bias else None, (1,) + self.strides,
            "valid" if self.padding == "causal" else self.padding, (1,) + self.dilation_rate,
            self._kernel_state, training)
        z = z.reshape(n, z.shape[2], self.filters)
        y = activate(self, z, training)
        if training:
            self._ctx, self._y = (ctx, x.shape, pad), y
        return from_channels_last(y, self.data_format)

    def backward(self, grad_output):
        ctx, shape, pad = self._ctx
        # a copy, channels_last: the activation's derivative overwrites it
        g = np.array(to_channels_last(grad_output, self.data_format), dtype=self._y.dtype)
        dz = deactivate(self, g)
        dkernel = self._kernel_view(self.kernel.grad)
        dx = kernels.conv2d_backward(
            dz.reshape(dz.shape[0], 1, dz.shape[1], dz.shape[2]), ctx,
            self._kernel_view(self.kernel.value), dkernel,
            self.bias.grad if self.use_bias else None, self._needs_input_grad)
        if not np.shares_memory(dkernel, self.kernel.grad):  # a reshape that copied
            self.kernel.grad[...] = dkernel.reshape(self.kernel.grad.shape)
        if dx is None:
            return None
        dx = dx.reshape(shape)[:, pad:]
        return from_channels_last(dx, self.data_format)
