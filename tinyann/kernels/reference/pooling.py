"""Max and average pooling over channels_last images.

Shapes: ``x`` (n, h, w, c) -> ``y`` (n, oh, ow, c), with ``(ph, pw)`` windows moved
by ``strides``; 'same' padding as TensorFlow (the odd pixel after).

    max:     y = max over the window;  dx: dy goes to the window's first maximum
             (row-major), as TensorFlow routes it, so ties do not multiply it
    average: y = sum over the window / number of real (not padded) pixels in it;
             dx: each pixel of the window receives dy / that number
"""

from __future__ import annotations

import numpy as np

from tinyann.kernels.geometry import ConvGeometry, window_view


def _fields(x, geo, pad_value):
    """(n, oh, ow, ph*pw, c): each window's pixels, padding filled with ``pad_value``."""
    padded = np.pad(x, ((0, 0), geo.pad_rows, geo.pad_cols, (0, 0)),
                    constant_values=pad_value)
    n, _, _, c = x.shape
    return window_view(padded, geo).reshape(n, geo.out_rows, geo.out_cols, -1, c)


def _scatter(per_tap, geo, dtype):
    """dx from each tap's share of dy: ``per_tap(k)`` (n, oh, ow, c) for tap k = i*pw + j."""
    ph, pw = geo.window
    dx_padded = np.zeros(geo.padded_shape(), dtype)
    for i in range(ph):
        for j in range(pw):
            rows, cols = geo.tap_slices(i, j)
            dx_padded[:, rows, cols, :] += per_tap(i * pw + j)
    return geo.unpad(dx_padded).copy()


def max_pool2d_forward(x, pool_size, strides, padding, state=None, training=False):
    """``y = max over each window`` (padded pixels never win). Returns ``(y, ctx)``."""
    geo = ConvGeometry(x.shape, pool_size, strides, padding)
    fields = _fields(x, geo, -np.inf)
    return fields.max(axis=3), (fields, geo)


def max_pool2d_backward(dy, ctx):
    """dx: ``dy`` routed to the first maximum of each window."""
    fields, geo = ctx
    dy = dy.reshape(fields.shape[:3] + fields.shape[4:])
    first = fields.argmax(axis=3)  # argmax returns the first of equal maxima
    return _scatter(lambda k: dy * (first == k), geo, dy.dtype)


def _counts(x, pool_size, strides, padding):
    """(1, oh, ow, 1): the real (not padded) pixels in each window."""
    ones = np.ones((1,) + x.shape[1:3] + (1,), x.dtype)
    return _fields(ones, ConvGeometry(ones.shape, pool_size, strides, padding), 0.0).sum(axis=3)


def avg_pool2d_forward(x, pool_size, strides, padding, state=None, training=False):
    """``y = mean of each window's real pixels``. Returns ``(y, ctx)``."""
    geo = ConvGeometry(x.shape, pool_size, strides, padding)
    counts = _counts(x, pool_size, strides, padding)
    return _fields(x, geo, 0.0).sum(axis=3) / counts, (counts, geo)


def avg_pool2d_backward(dy, ctx):
    """dx: every real pixel of a window receives ``dy / count``."""
    counts, geo = ctx
    share = dy.reshape((geo.input_shape[0],) + geo.output_hw + (geo.input_shape[3],)) / counts
    return _scatter(lambda k: share, geo, share.dtype)


# ---------------------------------------------------------------------- global
# One form serves both sets: a NumPy reduction is already the fast way.
def global_avg_pool2d_forward(x, keepdims=False):
    """``y = mean over rows and columns``: (n, h, w, c) -> (n, c) (or (n, 1, 1, c)).
    Returns ``(y, ctx)``."""
    return np.mean(x, axis=(1, 2), keepdims=keepdims, dtype=x.dtype), x.shape


def global_avg_pool2d_backward(dy, ctx):
    """dx: every pixel took ``1 / (h w)`` of the mean."""
    n, rows, cols, channels = ctx
    dx = np.empty(ctx, dy.dtype)
    dx[...] = dy.reshape(n, 1, 1, channels) * dx.dtype.type(1.0 / (rows * cols))
    return dx


def global_max_pool2d_forward(x, keepdims=False, training=False):
    """``y = max over rows and columns``. Returns ``(y, ctx)``: the input's shape and,
    in training, the position of each channel's first maximum."""
    n, rows, cols, channels = x.shape
    first = x.reshape(n, rows * cols, channels).argmax(axis=1) if training else None
    return np.max(x, axis=(1, 2), keepdims=keepdims), (x.shape, first)


def global_max_pool2d_backward(dy, ctx):
    """dx: ``dy`` at each channel's first maximum, zero elsewhere."""
    (n, rows, cols, channels), first = ctx
    dx = np.zeros((n, rows * cols, channels), dy.dtype)
    np.put_along_axis(dx, first[:, None, :], dy.reshape(n, 1, channels), axis=1)
    return dx.reshape(n, rows, cols, channels)
