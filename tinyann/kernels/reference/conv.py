"""Conv2D (cross-correlation, channels_last) by im2col and col2im.

Shapes: ``x`` (n, h, w, c), ``kernel`` (kh, kw, c, f), ``bias`` (f,) or None,
output ``z`` (n, oh, ow, f).

im2col copies every receptive field of the zero-padded input into one row:
``cols[(b, y, x), (i, j, ch)] = x_pad[b, y*sh + i*dh, x*sw + j*dw, ch]``, shape
(n*oh*ow, kh*kw*c). Then the convolution is one matrix product::

    z = cols @ K + b             with K = kernel.reshape(kh*kw*c, f)
    dK = cols^T dz,  db = sum(dz),  dcols = dz K^T
    dx = col2im(dcols): each tap's gradient added back where the tap read from
"""

from __future__ import annotations

import numpy as np

from tinyann.kernels.geometry import ConvGeometry, window_view


def _pad(x, geo, value=0.0):
    return np.pad(x, ((0, 0), geo.pad_rows, geo.pad_cols, (0, 0)), constant_values=value)


def im2col(x, geo, pad_value=0.0):
    """The receptive fields of ``x`` as rows: (n*oh*ow, kh*kw*c), a new array."""
    n, _, _, c = x.shape
    kh, kw = geo.window
    fields = window_view(_pad(x, geo, pad_value), geo)  # (n, oh, ow, kh, kw, c), a view
    return fields.reshape(n * geo.out_rows * geo.out_cols, kh * kw * c)


def col2im(dcols, geo):
    """The transpose of ``im2col``: adds each field's gradient back onto the input.

    ``dcols`` (n*oh*ow, kh*kw*c) -> ``dx`` (n, h, w, c)."""
    n, _, _, c = geo.input_shape
    kh, kw = geo.window
    fields = dcols.reshape(n, geo.out_rows, geo.out_cols, kh, kw, c)
    dx_padded = np.zeros(geo.padded_shape(), dcols.dtype)
    for i in range(kh):
        for j in range(kw):
            rows, cols = geo.tap_slices(i, j)
            dx_padded[:, rows, cols, :] += fields[:, :, :, i, j, :]
    return geo.unpad(dx_padded).copy()


def conv2d_forward(x, kernel, bias, strides, padding, dilation_rate, state=None,
                   training=False):
    """``z = im2col(x) @ K + b``. Returns ``(z, ctx)``; ``ctx`` is what backward needs.

    ``state`` (the fast set's buffers) and ``training`` are not used here."""
    kh, kw, c, filters = kernel.shape
    geo = ConvGeometry(x.shape, (kh, kw), strides, padding, dilation_rate)
    cols = im2col(x, geo)
    z = cols @ kernel.reshape(kh * kw * c, filters)
    if bias is not None:
        z = z + bias
    return z.reshape(x.shape[0], geo.out_rows, geo.out_cols, filters), (cols, geo)


def conv2d_backward(dz, ctx, kernel, dkernel, dbias, need_dx=True):
    """Writes ``dK = cols^T dz`` into ``dkernel`` and ``db = sum(dz)`` into ``dbias``;
    returns ``dx = col2im(dz K^T)`` (None unless ``need_dx``)."""
    cols, geo = ctx
    filters = kernel.shape[-1]
    dz = dz.reshape(-1, filters)
    dkernel[...] = (cols.T @ dz).reshape(kernel.shape)
    if dbias is not None:
        dbias[...] = dz.sum(axis=0)
    if not need_dx:
        return None
    return col2im(dz @ kernel.reshape(-1, filters).T, geo)
