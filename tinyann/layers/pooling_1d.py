"""Pooling over sequences ``(batch, steps, features)``: local and global, max and average.

The local layers run the 2-D pooling ops (tinyann/kernels/*/pooling.py) on a
``(batch, 1, steps, features)`` view with a ``(1, pool_size)`` window: one code path
for the math, its fast form and its gradient. The global layers are a mean or a
maximum over the steps, small enough to compute here. ``channels_first`` inputs
``(batch, features, steps)`` are transposed to channels_last and back.

GlobalAveragePooling1D takes Keras's mask (``Embedding(mask_zero=True)``)::

    y[b, f] = sum_t m[b, t] x[b, t, f] / sum_t m[b, t]
    dL/dx[b, t, f] = m[b, t] dL/dy[b, f] / sum_t m[b, t]

a row whose steps are all masked gives NaN (0 / 0), as Keras does.
"""

from __future__ import annotations

import numpy as np

from tinyann import kernels
from tinyann.layers.layer import Layer
from tinyann.layers.pooling import _GlobalPooling
from tinyann.utils import conv_utils


def normalize_data_format(value) -> str:
    """``'channels_last'`` (default) or ``'channels_first'``, else Keras's ValueError."""
    return conv_utils.normalize_data_format(value, channels_first=True)


def check_sequence_input(layer, shape, channels=None, channel_axis=-1, min_ndim=False):
    """Keras's input-spec messages for a layer taking ``(batch, steps, features)``
    (``min_ndim``: the convolution's spec, which says min_ndim=3 for a shorter input)."""
    shape = tuple(shape)
    if len(shape) != 3:
        what = "min_ndim=3" if min_ndim and len(shape) < 3 else "ndim=3"
        raise ValueError(
            f"Input 0 of layer '{layer.name}' is incompatible with the layer: expected "
            f"{what}, found ndim={len(shape)}. Full shape received: {shape}"
        )
    axis = channel_axis % 3
    if channels is not None and shape[axis] is not None and shape[axis] != channels:
        raise ValueError(
            f"Input 0 of layer '{layer.name}' is incompatible with the layer: expected axis "
            f"{channel_axis} of input shape to have value {channels}, but received input "
            f"with shape {shape}"
        )


def to_channels_last(x, data_format):
    """``(batch, steps, features)``: a channels_first input transposed (a copy, so the
    ops get a contiguous array)."""
    if data_format == "channels_first":
        return np.ascontiguousarray(x.transpose(0, 2, 1))
    return x


def from_channels_last(y, data_format):
    return y.transpose(0, 2, 1) if data_format == "channels_first" else y


class _Pooling1D(Layer):
    """Base of MaxPooling1D and AveragePooling1D."""

    _max = True

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.pool_size = conv_utils.normalize_tuple(pool_size, 1, "pool_size")
        self.strides = conv_utils.normalize_tuple(
            self.pool_size if strides is None else strides, 1, "strides")
        # Keras's 1-D pooling takes 'causal' here and refuses it when called
        self.padding = "causal" if isinstance(padding, str) and (
            padding.lower() == "causal") else conv_utils.normalize_padding(padding)
        self.data_format = normalize_data_format(data_format)
        self._ctx = None  # what backward needs, from the last training call
        self._kernel_state = {}  # the ops' buffers for this layer

    def _check_input(self, shape):
        self.compute_output_shape(shape)

    def compute_output_shape(self, input_shape):
        check_sequence_input(self, input_shape)
        if self.padding == "causal":
            raise ValueError("Invalid padding 'causal', must be 'same' or 'valid'.")
        first = self.data_format == "channels_first"
        steps = input_shape[2] if first else input_shape[1]
        out = conv_utils.output_length(steps, self.pool_size[0], self.padding,
                                       self.strides[0])
        if out is not None and out <= 0:
            raise ValueError(
                "Computed output size would be zero or negative. Received: "
                f"`inputs.shape={conv_utils._np_repr(input_shape)}`, "
                f"`pool_size={conv_utils._np_repr(self.pool_size)}`, "
                f"`strides={tuple(self.strides)}`, `padding={self.padding}`."
            )
        if first:
            return (input_shape[0], input_shape[1], out)
        return (input_shape[0], out, input_shape[2])

    def call(self, inputs, training=False):
        x = to_channels_last(inputs, self.data_format)
        n, steps, features = x.shape
        forward = kernels.max_pool2d_forward if self._max else kernels.avg_pool2d_forward
        y, ctx = forward(x.reshape(n, 1, steps, features), (1,) + self.pool_size,
                         (1,) + self.strides, self.padding, self._kernel_state, training)
        if training:
            self._ctx = (ctx, x.shape)
        return from_channels_last(y.reshape(n, y.shape[2], features), self.data_format)

    def backward(self, grad_output):
        ctx, shape = self._ctx
        g = to_channels_last(grad_output, self.data_format)
        backward = kernels.max_pool2d_backward if self._max else kernels.avg_pool2d_backward
        dx = backward(g.reshape(g.shape[0], 1, g.shape[1], g.shape[2]), ctx)
        return from_channels_last(dx.reshape(shape), self.data_format)

    def get_config(self):
        return conv_utils.pooling_config(self, super().get_config())


class MaxPooling1D(_Pooling1D):
    """Max pooling over windows of ``pool_size`` steps, moved by ``strides``.

    Args:
        pool_size: int, default 2.
        strides: int or None (= ``pool_size``).
        padding: ``'valid'`` or ``'same'`` (output ``ceil(steps / strides)``).
        data_format: ``'channels_last'`` (default) or ``'channels_first'``.

    Input shape: ``(batch, steps, features)`` (channels_first: ``(batch, features,
    steps)``); output ``(batch, pooled_steps, features)``. The gradient goes to the
    first maximum of each window, as TensorFlow's.

    Example:
        >>> MaxPooling1D(2)(np.zeros((1, 10, 4))).shape
        (1, 5, 4)
    """

    _max = True


class AveragePooling1D(_Pooling1D):
    """Average pooling; with ``padding='same'`` the padded steps are not counted.

    Arguments and shapes as ``MaxPooling1D``, but ``pool_size`` is required (as Keras).
    """

    _max = False

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class _GlobalPooling1D(_GlobalPooling):
    _channels_first = True

    @property
    def _steps_axis(self):
        return 1 if self.data_format == "channels_last" else 2

    def _check_input(self, shape):
        check_sequence_input(self, shape)

    def compute_output_shape(self, input_shape):
        check_sequence_input(self, input_shape)
        if self.keepdims:
            if self.data_format == "channels_last":
                return (input_shape[0], 1, input_shape[2])
            return (input_shape[0], input_shape[1], 1)
        return (input_shape[0], input_shape[2 if self.data_format == "channels_last" else 1])

    def _reduced_grad(self, grad_output, shape):
        """dL/dy as ``(batch, 1, features)`` (or ``(batch, features, 1)``), broadcastable
        over the steps."""
        return np.expand_dims(grad_output.reshape(self.compute_output_shape(shape)),
                              self._steps_axis) if not self.keepdims else grad_output


class GlobalAveragePooling1D(_GlobalPooling1D):
    """The mean over the steps: ``(batch, steps, features)`` -> ``(batch, features)``
    (``(batch, 1, features)`` with ``keepdims=True``).

    With a mask ``(batch, steps)`` (from ``Embedding(mask_zero=True)``), the mean of
    the unmasked steps; the output carries no mask.

    Example:
        >>> GlobalAveragePooling1D()(np.ones((2, 3, 4))).shape
        (2, 4)
    """

    supports_masking = True
    takes_mask = True

    def compute_mask(self, inputs, mask=None):
        return None

    def call(self, inputs, training=False, mask=None):
        axis = self._steps_axis
        if mask is None:
            weights = None
            y = inputs.mean(axis=axis, keepdims=self.keepdims)
        else:
            # the mask as weights on the steps, (batch, steps, 1) or (batch, 1, steps)
            weights = np.expand_dims(np.asarray(mask).astype(bool), 3 - axis).astype(
                inputs.dtype)
            with np.errstate(invalid="ignore", divide="ignore"):  # all masked: 0/0, NaN
                y = (np.where(weights > 0, inputs, 0).sum(axis=axis, keepdims=self.keepdims)
                     / weights.sum(axis=axis, keepdims=self.keepdims))
        if training:
            self._ctx = (inputs.shape, weights)
        return y.astype(inputs.dtype, copy=False)

    def backward(self, grad_output):
        shape, weights = self._ctx
        g = self._reduced_grad(grad_output, shape)
        if weights is None:
            return np.broadcast_to(g / shape[self._steps_axis], shape).copy()
        with np.errstate(invalid="ignore", divide="ignore"):
            return (g * (weights / weights.sum(axis=self._steps_axis, keepdims=True))).astype(
                grad_output.dtype, copy=False)


class GlobalMaxPooling1D(_GlobalPooling1D):
    """The maximum over the steps. Tied maxima share the gradient equally (as Keras's
    ``ops.max`` on TensorFlow and JAX). A mask is not used (Keras's layer does not
    support masking).

    Example:
        >>> GlobalMaxPooling1D()(np.ones((2, 3, 4))).shape
        (2, 4)
    """

    def call(self, inputs, training=False):
        axis = self._steps_axis
        y = inputs.max(axis=axis, keepdims=True)
        if training:
            hits = inputs == y  # NaN is no maximum: its step gets no gradient
            self._ctx = (inputs.shape, hits / np.maximum(hits.sum(axis=axis, keepdims=True),
                                                         1).astype(inputs.dtype))
        return y if self.keepdims else y.squeeze(axis)

    def backward(self, grad_output):
        shape, share = self._ctx
        return (share * self._reduced_grad(grad_output, shape)).astype(grad_output.dtype,
                                                                       copy=False)
