"""Conv3D and 3-D pooling (channels_last volumes), the textbook way: im2col over three
spatial axes and one matrix product; pooling over the same windows.

Shapes: ``x`` (n, d, h, w, c); a window of ``(kd, kh, kw)`` taps moves by ``strides``,
its taps ``dilation`` apart; 'same' padding is TensorFlow's (the odd element after).
``fields[b, o1, o2, o3, t1, t2, t3, ch] = x_pad[b, o1*s1 + t1*d1, o2*s2 + t2*d2,
o3*s3 + t3*d3, ch]``. Then::

    conv:  z = fields @ K + b   (K = kernel (kd, kh, kw, c, f) as (kd*kh*kw*c, f))
           dK = fields^T dz;  db = sum(dz);  dx = col2im(dz K^T)
    max:   y = max over the window (padding never wins); the gradient to the first maximum
    avg:   y = sum over the window / (the window's real elements: padding not counted)

The few ops here are written for any number of spatial axes; tinyann uses them for 3.
"""

from __future__ import annotations

import itertools

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from tinyann.kernels.geometry import output_length, same_padding


class VolumeGeometry:
    """Output sizes, paddings and tap slices of a window op over ``input_shape``
    ``(n, *spatial, c)``."""

    def __init__(self, input_shape, window, strides, padding, dilation):
        self.input_shape = tuple(input_shape)
        spatial = self.input_shape[1:-1]
        self.window, self.strides, self.dilation = tuple(window), tuple(strides), tuple(dilation)
        self.out = tuple(output_length(n, k, padding, s, d) for n, k, s, d in
                         zip(spatial, window, strides, dilation))
        self.pads = tuple(same_padding(n, k, s, d) if padding == "same" else (0, 0)
                          for n, k, s, d in zip(spatial, window, strides, dilation))

    def pad(self, x, value=0.0):
        return np.pad(x, ((0, 0),) + self.pads + ((0, 0),), constant_values=value)

    def fields(self, padded):
        """The windows of a padded array, a view ``(n, *out, *window, c)``."""
        rank = len(self.window)
        spans = tuple((k - 1) * d + 1 for k, d in zip(self.window, self.dilation))
        view = sliding_window_view(padded, spans, axis=tuple(range(1, rank + 1)))
        index = ((slice(None),) + tuple(slice(None, (o - 1) * s + 1, s)
                                        for o, s in zip(self.out, self.strides))
                 + (slice(None),) + tuple(slice(None, None, d) for d in self.dilation))
        view = view[index]  # (n, *out, c, *window)
        return np.moveaxis(view, rank + 1, -1)

    def taps(self):
        """For each tap: its index and the padded input's slices it reads."""
        for tap in itertools.product(*(range(k) for k in self.window)):
            yield tap, tuple(slice(t * d, t * d + (o - 1) * s + 1, s) for t, d, o, s in
                             zip(tap, self.dilation, self.out, self.strides))

    def unpad(self, padded):
        return padded[(slice(None),) + tuple(
            slice(before, before + n) for (before, _), n in
            zip(self.pads, self.input_shape[1:-1]))]

    def padded_shape(self):
        n, *spatial, c = self.input_shape
        return (n,) + tuple(s + a + b for s, (a, b) in zip(spatial, self.pads)) + (c,)


def _col2im(dfields, geo):
    """Adds each window's gradient ``(n, *out, *window, c)`` back onto the input."""
    rank = len(geo.window)
    dx = np.zeros(geo.padded_shape(), dfields.dtype)
    for tap, slices in geo.taps():
        dx[(slice(None),) + slices] += dfields[(slice(None),) * (rank + 1) + tap]
    return np.ascontiguousarray(geo.unpad(dx))


def conv3d_forward(x, kernel, bias, strides, padding, dilation_rate):
    """``z = fields @ K + b``: (n, od, oh, ow, f). Returns ``(z, ctx)``."""
    *window, c, filters = kernel.shape
    geo = VolumeGeometry(x.shape, window, strides, padding, dilation_rate)
    cols = geo.fields(geo.pad(x)).reshape(-1, kernel.size // filters)
    z = cols @ kernel.reshape(-1, filters)
    if bias is not None:
        z = z + bias
    return z.reshape((x.shape[0],) + geo.out + (filters,)), (cols, geo)


def conv3d_backward(dz, ctx, kernel, dkernel, dbias, need_dx=True):
    """Writes dL/dK into ``dkernel`` and dL/db into ``dbias``; returns dL/dx or None."""
    cols, geo = ctx
    filters = kernel.shape[-1]
    dz = dz.reshape(-1, filters)
    dkernel[...] = (cols.T @ dz).reshape(kernel.shape)
    if dbias is not None:
        dbias[...] = dz.sum(axis=0)
    if not need_dx:
        return None
    dcols = dz @ kernel.reshape(-1, filters).T
    return _col2im(dcols.reshape((geo.input_shape[0],) + geo.out + kernel.shape[:-1]), geo)


def max_pool3d_forward(x, pool_size, strides, padding):
    """The windows' maxima (n, od, oh, ow, c); ``ctx`` keeps the first maximum's tap."""
    geo = VolumeGeometry(x.shape, pool_size, strides, padding, (1,) * len(pool_size))
    fields = geo.fields(geo.pad(x, -np.inf))  # (n, *out, *window, c)
    rank = len(pool_size)
    flat = np.moveaxis(fields, -1, rank + 1).reshape(fields.shape[:rank + 1] + (
        x.shape[-1], -1))  # (n, *out, c, taps)
    first = flat.argmax(axis=-1)
    y = np.take_along_axis(flat, first[..., None], axis=-1)[..., 0]
    return y, (first, geo)


def max_pool3d_backward(dy, ctx):
    """Each window's gradient to its first maximum."""
    first, geo = ctx
    dx = np.zeros(geo.padded_shape(), dy.dtype)
    for k, (_, slices) in enumerate(geo.taps()):
        dx[(slice(None),) + slices] += np.where(first == k, dy, 0)
    return np.ascontiguousarray(geo.unpad(dx))


def avg_pool3d_forward(x, pool_size, strides, padding):
    """The windows' means over their real (not padded) elements."""
    geo = VolumeGeometry(x.shape, pool_size, strides, padding, (1,) * len(pool_size))
    rank = len(pool_size)
    axes = tuple(range(rank + 1, 2 * rank + 1))
    sums = geo.fields(geo.pad(x)).sum(axis=axes)
    ones = np.ones((1,) + x.shape[1:-1] + (1,), x.dtype)
    count = VolumeGeometry(ones.shape, pool_size, strides, padding, (1,) * rank)
    counts = count.fields(count.pad(ones)).sum(axis=axes)  # (1, *out, 1)
    return (sums / counts).astype(x.dtype, copy=False), (counts, geo)


def avg_pool3d_backward(dy, ctx):
    """Each window's gradient shared equally by its real elements."""
    counts, geo = ctx
    share = dy / counts
    dx = np.zeros(geo.padded_shape(), dy.dtype)
    for _, slices in geo.taps():
        dx[(slice(None),) + slices] += share
    return np.ascontiguousarray(geo.unpad(dx))
