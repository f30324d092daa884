"""Max and average pooling over channels_last images, local and global.

A pooling window of ``ph x pw`` is handled as ``ph*pw`` strided views of the input,
one per offset in the window (for 2x2 pooling with stride 2 these are the four
``x[:, i::2, j::2, :]``, the views a reshape to ``(n, h/2, 2, w/2, 2, c)`` gives):
the forward pass is ``ph*pw - 1`` elementwise maxima (or sums), the backward pass
as many masked copies. No loop over pixels or channels; buffers are kept per
input shape. Max pooling sends each gradient to the first maximum of its window
(row-major), as TensorFlow does, so ties do not multiply it.
"""

from __future__ import annotations

import numpy as np

from tinyann.layers.layer import Layer
from tinyann.utils import conv_utils


class _PoolWorkspace:
    def __init__(self, shape, layer):
        geo = conv_utils.ConvGeometry(shape, layer.pool_size, layer.strides, layer.padding)
        n, rows, cols, channels = shape
        self.geo = geo
        self.out_shape = (n, geo.out_rows, geo.out_cols, channels)
        ho, wo = geo.output_hw
        # every offset reads every output position: no padding reached
        self.full = all(o[2] == slice(0, ho) and o[3] == slice(0, wo) for o in geo.offsets)
        disjoint = all(s >= p for s, p in zip(layer.strides, layer.pool_size))
        self.disjoint = disjoint and self.full
        # the windows tile the input exactly: each input pixel is written once by backward
        self.tiles = self.disjoint and tuple(layer.strides) == tuple(layer.pool_size) and (
            ho * layer.pool_size[0] == rows and wo * layer.pool_size[1] == cols)
        self.count = None
        if not self.full:
            # average pooling with 'same' padding divides by the real pixels only
            count = np.zeros((ho, wo, 1), layer.dtype)
            for o in geo.offsets:
                count[o[2], o[3]] += 1
            self.count = count
        self.mask = None  # max pooling backward's boolean buffer, made on first use


class _Pooling2D(Layer):
    """Base of MaxPooling2D and AveragePooling2D."""

    _mode = "max"

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.pool_size = conv_utils.normalize_tuple(pool_size, 2, "pool_size")
        self.strides = conv_utils.normalize_tuple(
            self.pool_size if strides is None else strides, 2, "strides")
        self.padding = conv_utils.normalize_padding(padding)
        self.data_format = conv_utils.normalize_data_format(data_format)
        self._workspaces = conv_utils.Workspaces(lambda shape: _PoolWorkspace(shape, self))
        self._ws = self._x = self._y = None
        self._train_out = self._dx = None  # buffers reused from batch to batch

    def _check_input(self, shape):
        self.compute_output_shape(shape)

    def compute_output_shape(self, input_shape):
        conv_utils.check_image_input(self, input_shape)
        return conv_utils.pool_output_shape(input_shape, self.pool_size, self.strides,
                                            self.padding)

    def call(self, inputs, training=False):
        ws = self._workspaces.get(inputs.shape)
        if training:
            out = self._train_out = conv_utils.reuse_buffer(self._train_out, ws.out_shape,
                                                            self.dtype)
        else:
            out = np.empty(ws.out_shape, self.dtype)
        if self._mode == "max":
            _max_forward(inputs, out, ws)
        else:
            _average_forward(inputs, out, ws)
        if training:
            self._ws, self._x, self._y = ws, inputs, out
        return out

    def backward(self, grad_output):
        ws = self._ws
        dx = self._dx = conv_utils.reuse_buffer(self._dx, ws.geo.input_shape, self.dtype)
        grad = grad_output.reshape(ws.out_shape)
        if self._mode == "max":
            return _max_backward(self._x, self._y, grad, dx, ws)
        return _average_backward(grad, dx, ws)

    def get_config(self):
        config = super().get_config()
        config.update(pool_size=self.pool_size, padding=self.padding, strides=self.strides,
                      data_format=self.data_format)
        return config


def _views(x, offsets):
    """``(output slices, input view)`` for each window offset."""
    return [((slice(None), o[2], o[3]), x[:, o[4], o[5], :]) for o in offsets]


def _reduce(ufunc, arrays, out):
    """``out = ufunc(a0, a1, a2, ...)`` in ``len(arrays) - 1`` passes."""
    if len(arrays) == 1:
        return np.copyto(out, arrays[0])
    ufunc(arrays[0], arrays[1], out=out)
    for a in arrays[2:]:
        ufunc(out, a, out=out)
    return out


def _max_forward(x, out, ws):
    views = _views(x, ws.geo.offsets)
    if ws.full:
        _reduce(np.maximum, [v for _, v in views], out)
        return out
    out.fill(-np.inf)  # 'same' padding: padded pixels never win
    for where, v in views:
        target = out[where]
        np.maximum(target, v, out=target)
    return out


def _max_backward(x, y, grad, dx, ws):
    """Routes each output gradient to the first input equal to the window's maximum."""
    if ws.mask is None:
        ws.mask = np.empty(ws.out_shape, bool)
    views = _views(x, ws.geo.offsets)
    dx_views = _views(dx, ws.geo.offsets)
    if ws.disjoint:
        # each input pixel in at most one window: every offset writes its own pixels.
        # ``rest`` is the gradient no earlier offset took: an offset equal to the
        # maximum takes it (rest * 1) and leaves exactly 0 behind (rest - rest); the
        # last offset takes what is left (ties: the first maximum wins, as in TF)
        mask = ws.mask
        if not ws.tiles:
            dx.fill(0)
        last = len(views) - 1
        rest = grad
        for k, ((_, v), (_, d)) in enumerate(zip(views, dx_views)):
            if k < last:
                np.equal(v, y, out=mask)
                np.multiply(rest, mask, out=d)
                np.subtract(rest, d, out=rest)
            else:
                np.copyto(d, rest)
        return dx
    # overlapping windows: ``rest`` is the gradient not yet given to an earlier maximum
    # of its window (ours to overwrite); subtracting what an offset took leaves 0 behind
    rest, mask = grad, ws.mask
    dx.fill(0)
    for (where, v), (_, d) in zip(views, dx_views):
        hit = np.equal(v, y[where], out=mask[where])
        taken = rest[where] * hit
        np.add(d, taken, out=d)
        rest[where] -= taken
    return dx


def _average_forward(x, out, ws):
    views = _views(x, ws.geo.offsets)
    if ws.full:
        _reduce(np.add, [v for _, v in views], out)
        out *= out.dtype.type(1.0 / len(views))
        return out
    out.fill(0)
    for where, v in views:
        target = out[where]
        np.add(target, v, out=target)
    out /= ws.count
    return out


def _average_backward(grad, dx, ws):
    if ws.full:
        grad *= grad.dtype.type(1.0 / len(ws.geo.offsets))
    else:
        grad /= ws.count
    dx_views = _views(dx, ws.geo.offsets)
    if ws.disjoint:
        if not ws.tiles:
            dx.fill(0)
        for where, d in dx_views:
            np.copyto(d, grad[where])
        return dx
    dx.fill(0)
    for where, d in dx_views:
        np.add(d, grad[where], out=d)
    return dx


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

    _mode = "max"


class AveragePooling2D(_Pooling2D):
    """Average pooling; with ``padding='same'`` the padded pixels are not counted.

    Arguments and shapes as ``MaxPooling2D``, but ``pool_size`` is required (as Keras).
    """

    _mode = "average"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides, padding, data_format, **kwargs)


class _GlobalPooling2D(Layer):
    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = conv_utils.normalize_data_format(data_format)
        self.keepdims = bool(keepdims)
        self._x = self._index = None

    def _check_input(self, shape):
        conv_utils.check_image_input(self, shape)

    def compute_output_shape(self, input_shape):
        conv_utils.check_image_input(self, input_shape)
        if self.keepdims:
            return (input_shape[0], 1, 1, input_shape[-1])
        return (input_shape[0], input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(data_format=self.data_format, keepdims=self.keepdims)
        return config


class GlobalAveragePooling2D(_GlobalPooling2D):
    """The mean over rows and columns: ``(batch, rows, cols, c)`` -> ``(batch, c)``
    (``(batch, 1, 1, c)`` with ``keepdims=True``)."""

    def call(self, inputs, training=False):
        if training:
            self._x = inputs.shape
        return np.mean(inputs, axis=(1, 2), keepdims=self.keepdims, dtype=self.dtype)

    def backward(self, grad_output):
        n, rows, cols, channels = self._x
        dx = np.empty(self._x, self.dtype)
        # every pixel took 1/(rows*cols) of the mean
        dx[...] = grad_output.reshape(n, 1, 1, channels) * dx.dtype.type(1.0 / (rows * cols))
        return dx


class GlobalMaxPooling2D(_GlobalPooling2D):
    """The maximum over rows and columns; the gradient goes to the first maximum."""

    def call(self, inputs, training=False):
        if training:
            n, rows, cols, channels = inputs.shape
            self._x = inputs.shape
            self._index = inputs.reshape(n, rows * cols, channels).argmax(axis=1)
        return np.max(inputs, axis=(1, 2), keepdims=self.keepdims)

    def backward(self, grad_output):
        n, rows, cols, channels = self._x
        dx = np.zeros((n, rows * cols, channels), self.dtype)
        np.put_along_axis(dx, self._index[:, None, :],
                          grad_output.reshape(n, 1, channels), axis=1)
        return dx.reshape(self._x)
