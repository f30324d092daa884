"""Pooling over volumes ``(batch, depth, rows, cols, channels)``: local (the
``max_pool3d`` / ``avg_pool3d`` ops, tinyann/kernels/reference/volume.py) and global (a
mean or maximum over the three spatial axes, computed here)::

    GlobalAveragePooling3D:  y = mean over (d, h, w);  dL/dx = dL/dy / (d h w)
    GlobalMaxPooling3D:      y = max over (d, h, w);   dL/dx shared by the tied maxima

Local max pooling gives a window's gradient to its first maximum (as TensorFlow);
average pooling with 'same' padding does not count the padded elements.
"""

from __future__ import annotations

import numpy as np

from tinyann import kernels
from tinyann.layers.convolutional_3d import (
    check_volume_input,
    from_channels_last,
    to_channels_last,
)
from tinyann.layers.layer import Layer
from tinyann.layers.pooling import _GlobalPooling
from tinyann.utils import conv_utils


class _Pooling3D(Layer):
    """Base of MaxPooling3D and AveragePooling3D."""

    _max = True

    def __init__(self, pool_size=(2, 2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.pool_size = conv_utils.normalize_tuple(pool_size, 3, "pool_size")
        self.strides = conv_utils.normalize_tuple(
            self.pool_size if strides is None else strides, 3, "strides")
        self.padding = conv_utils.normalize_padding(padding)
        self.data_format = conv_utils.normalize_data_format(data_format, channels_first=True)
        self._ctx = None  # what backward needs, from the last training call

    def _check_input(self, shape):
        self.compute_output_shape(shape)

    def compute_output_shape(self, input_shape):
        check_volume_input(self, input_shape)
        first = self.data_format == "channels_first"
        sizes = input_shape[2:] if first else input_shape[1:4]
        out = tuple(conv_utils.output_length(n, k, self.padding, s) for n, k, s in
                    zip(sizes, self.pool_size, self.strides))
        if any(o is not None and o <= 0 for o in out):
            raise ValueError(
                "Computed output size would be zero or negative. Received: "
                f"`inputs.shape={conv_utils._np_repr(input_shape)}`, "
                f"`pool_size={conv_utils._np_repr(self.pool_size)}`, "
                f"`strides={tuple(self.strides)}`, `padding={self.padding}`.")
        if first:
            return tuple(input_shape[:2]) + out
        return (input_shape[0],) + out + (input_shape[-1],)

    def call(self, inputs, training=False):
        forward = kernels.max_pool3d_forward if self._max else kernels.avg_pool3d_forward
        y, ctx = forward(to_channels_last(inputs, self.data_format), self.pool_size,
                         self.strides, self.padding)
        if training:
            self._ctx = ctx
        return from_channels_last(y, self.data_format)

    def backward(self, grad_output):
        backward = kernels.max_pool3d_backward if self._max else kernels.avg_pool3d_backward
        dx = backward(to_channels_last(grad_output, self.data_format), self._ctx)
        return from_channels_last(dx, self.data_format)

    def get_config(self):
        return conv_utils.pooling_config(self, super().get_config())


class MaxPooling3D(_Pooling3D):
    """Max pooling over ``pool_size`` windows of volumes, moved by ``strides``.

    Args:
        pool_size: int or 3 ints, default 2. strides: int, 3 ints or None (= pool_size).
        padding: ``'valid'`` or ``'same'``.
        data_format: ``'channels_last'`` (default) or ``'channels_first'``.

    Example:
        >>> MaxPooling3D()(np.zeros((1, 4, 4, 4, 2))).shape
        (1, 2, 2, 2, 2)
    """

    _max = True


class AveragePooling3D(_Pooling3D):
    """Average pooling over volumes; ``pool_size`` is required (as Keras). Arguments as
    MaxPooling3D."""

    _max = False

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class _GlobalPooling3D(_GlobalPooling):
    _channels_first = True

    @property
    def _axes(self):
        return (1, 2, 3) if self.data_format == "channels_last" else (2, 3, 4)

    def _check_input(self, shape):
        check_volume_input(self, shape)

    def compute_output_shape(self, input_shape):
        check_volume_input(self, input_shape)
        channels = input_shape[-1 if self.data_format == "channels_last" else 1]
        if not self.keepdims:
            return (input_shape[0], channels)
        if self.data_format == "channels_last":
            return (input_shape[0], 1, 1, 1, channels)
        return (input_shape[0], channels, 1, 1, 1)

    def _reduced_grad(self, grad_output, shape):
        """dL/dy with the spatial axes kept (length 1), broadcastable over the input."""
        keep = list(shape)
        for axis in self._axes:
            keep[axis] = 1
        return grad_output.reshape(keep)


class GlobalAveragePooling3D(_GlobalPooling3D):
    """The mean over depth, rows and columns: ``(batch, d, h, w, c)`` -> ``(batch, c)``
    (``(batch, 1, 1, 1, c)`` with ``keepdims=True``)."""

    def call(self, inputs, training=False):
        if training:
            self._ctx = inputs.shape
        return inputs.mean(axis=self._axes, keepdims=self.keepdims)

    def backward(self, grad_output):
        shape = self._ctx
        count = np.prod([shape[axis] for axis in self._axes])
        return np.broadcast_to(self._reduced_grad(grad_output, shape) / count, shape).copy()


class GlobalMaxPooling3D(_GlobalPooling3D):
    """The maximum over depth, rows and columns; tied maxima share the gradient equally
    (as Keras's ``ops.max``)."""

    def call(self, inputs, training=False):
        y = inputs.max(axis=self._axes, keepdims=True)
        if training:
            hits = inputs == y  # NaN is no maximum: it gets no gradient
            self._ctx = (inputs.shape, hits / np.maximum(
                hits.sum(axis=self._axes, keepdims=True), 1).astype(inputs.dtype))
        return y if self.keepdims else y.reshape(y.shape[0], -1)

    def backward(self, grad_output):
        shape, share = self._ctx
        return (share * self._reduced_grad(grad_output, shape)).astype(grad_output.dtype,
                                                                       copy=False)
