"""Max and average pooling over channels_last images, local and global.

The layers hold Keras's surface; the math is the pooling ops (see
tinyann/kernels/reference/pooling.py for the textbook form, tinyann/kernels/fast/pooling.py
for the strided-view form). Max pooling sends each gradient to the first maximum
of its window (row-major), as TensorFlow does, so ties do not multiply it.
"""

from __future__ import annotations

from tinyann import kernels
from tinyann.layers.layer import Layer
from tinyann.utils import conv_utils


class _Pooling2D(Layer):
    """Base of MaxPooling2D and AveragePooling2D."""

    op_kind = None  # keys the fusion table, tinyann.kernels.FUSIONS

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.pool_size = conv_utils.normalize_tuple(pool_size, 2, "pool_size")
        self.strides = conv_utils.normalize_tuple(
            self.pool_size if strides is None else strides, 2, "strides")
        self.padding = conv_utils.normalize_padding(padding)
        self.data_format = conv_utils.normalize_data_format(data_format)
        self._ctx = None  # what backward needs, from the last training call
        self._kernel_state = {}  # the ops' buffers for this layer

    def _check_input(self, shape):
        self.compute_output_shape(shape)

    def compute_output_shape(self, input_shape):
        conv_utils.check_image_input(self, input_shape)
        return conv_utils.pool_output_shape(input_shape, self.pool_size, self.strides,
                                            self.padding)

    @property
    def fusion_kind(self):
        return self.op_kind

    def call(self, inputs, training=False):
        forward = kernels.max_pool2d_forward if self._max else kernels.avg_pool2d_forward
        y, ctx = forward(inputs, self.pool_size, self.strides, self.padding,
                         self._kernel_state, training)
        if training:
            self._ctx = ctx
        return y

    def backward(self, grad_output):
        backward = kernels.max_pool2d_backward if self._max else kernels.avg_pool2d_backward
        return backward(grad_output, self._ctx)

    def get_config(self):
        return conv_utils.pooling_config(self, super().get_config())


class MaxPooling2D(_Pooling2D):
    """Max pooling over ``pool_size`` windows, moved by ``strides`` (default: pool_size).

    Args:
        pool_size: int or ``(ph, pw)``, default ``(2, 2)``.
        strides: int, pair or None (= ``pool_size``).
        padding: ``'valid'`` or ``'same'``.

    Input shape: ``(batch, rows, cols, channels)``; output shape
    ``(batch, pooled_rows, pooled_cols, channels)``.

    Example:
        >>> MaxPooling2D(2)(np.zeros((1, 28, 28, 32))).shape
        (1, 14, 14, 32)
    """

    op_kind = "max_pooling2d"
    _max = True


class AveragePooling2D(_Pooling2D):
    """Average pooling; with ``padding='same'`` the padded pixels are not counted.

    Arguments and shapes as ``MaxPooling2D``, but ``pool_size`` is required (as Keras).
    """

    op_kind = "average_pooling2d"
    _max = False

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class _GlobalPooling(Layer):
    """Base of the global pooling layers, 1-D and 2-D: Keras's ``data_format`` and
    ``keepdims``."""

    _channels_first = False  # whether the layer takes channels_first inputs (the 1-D ones)

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = conv_utils.normalize_data_format(
            data_format, channels_first=self._channels_first)
        self.keepdims = bool(keepdims)
        self._ctx = None  # what backward needs, from the last training call

    def get_config(self):
        config = super().get_config()
        config.update(data_format=self.data_format, keepdims=self.keepdims)
        return config


class _GlobalPooling2D(_GlobalPooling):
    def _check_input(self, shape):
        conv_utils.check_image_input(self, shape)

    def compute_output_shape(self, input_shape):
        conv_utils.check_image_input(self, input_shape)
        if self.keepdims:
            return (input_shape[0], 1, 1, input_shape[-1])
        return (input_shape[0], input_shape[-1])


class GlobalAveragePooling2D(_GlobalPooling2D):
    """The mean over rows and columns: ``(batch, rows, cols, c)`` -> ``(batch, c)``
    (``(batch, 1, 1, c)`` with ``keepdims=True``)."""

    def call(self, inputs, training=False):
        y, ctx = kernels.global_avg_pool2d_forward(inputs, self.keepdims)
        if training:
            self._ctx = ctx
        return y

    def backward(self, grad_output):
        return kernels.global_avg_pool2d_backward(grad_output, self._ctx)


class GlobalMaxPooling2D(_GlobalPooling2D):
    """The maximum over rows and columns; the gradient goes to the first maximum."""

    def call(self, inputs, training=False):
        y, ctx = kernels.global_max_pool2d_forward(inputs, self.keepdims, training)
        if training:
            self._ctx = ctx
        return y

    def backward(self, grad_output):
        return kernels.global_max_pool2d_backward(grad_output, self._ctx)
