"""Conv2DTranspose (channels_last): the gradient of a convolution with respect to its
input, used forward. Shapes: ``x`` (n, h, w, c), ``kernel`` (kh, kw, f, c) (Keras's
layout: output channels before input channels), ``bias`` (f,) or None.

Each input pixel spreads its channels through every tap of the kernel::

    full[b, y*sh + i*dh, x*sw + j*dw, :] += x[b, y, x, :] @ kernel[i, j].T

and the output is a window of ``full``: ``out[o] = full[o + crop]`` (zero past its end),
``crop`` and the output's size set by the padding (``window``). Backward, with ``g`` the
output's gradient placed back in a full-size array::

    dx[b, y, x, :] = sum_ij g_full[b, y*sh + i*dh, x*sw + j*dw, :] @ kernel[i, j]
    dkernel[i, j] = (g_full at the same places)^T x;   dbias = sum(g)
"""

from __future__ import annotations

import numpy as np


def transpose_window(size, kernel, stride, dilation, padding, output_padding):
    """``(crop, output size)`` of one axis as Keras 3 (its JAX form: the dilated input
    padded by ``(left, right)`` then a valid convolution)."""
    span = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(span, stride) - span if output_padding is None else output_padding
        left, right = span - 1, span - 1 + extra
    else:
        total = stride + span - 2 if output_padding is None else (
            span + span % 2 - 2 + output_padding)
        left = min(total // 2 + total % 2, span - 1)
        right = total - left
    out = (size - 1) * stride + 1 + left + right - span + 1
    return span - 1 - left, out


def _taps(x_shape, kernel_shape, strides, dilation):
    """For every tap ``(i, j)``, the slices of the full output its contributions fill."""
    _, h, w, _ = x_shape
    kh, kw = kernel_shape[:2]
    (sh, sw), (dh, dw) = strides, dilation
    for i in range(kh):
        for j in range(kw):
            yield i, j, (slice(i * dh, i * dh + (h - 1) * sh + 1, sh),
                         slice(j * dw, j * dw + (w - 1) * sw + 1, sw))


def _full_size(x_shape, kernel_shape, strides, dilation, windows):
    _, h, w, _ = x_shape
    full_h = (h - 1) * strides[0] + (kernel_shape[0] - 1) * dilation[0] + 1
    full_w = (w - 1) * strides[1] + (kernel_shape[1] - 1) * dilation[1] + 1
    (crop_h, out_h), (crop_w, out_w) = windows
    return max(full_h, crop_h + out_h), max(full_w, crop_w + out_w)


def conv2d_transpose_forward(x, kernel, bias, strides, dilation, windows):
    """``windows``: ``((crop_rows, out_rows), (crop_cols, out_cols))`` from
    ``transpose_window``. Returns (n, out_rows, out_cols, f)."""
    n = x.shape[0]
    rows, cols = _full_size(x.shape, kernel.shape, strides, dilation, windows)
    full = np.zeros((n, rows, cols, kernel.shape[2]), dtype=np.result_type(x, kernel))
    for i, j, (rs, cs) in _taps(x.shape, kernel.shape, strides, dilation):
        full[:, rs, cs, :] += x @ kernel[i, j].T
    (crop_h, out_h), (crop_w, out_w) = windows
    out = full[:, crop_h:crop_h + out_h, crop_w:crop_w + out_w, :]
    if bias is not None:
        out = out + bias
    return np.ascontiguousarray(out, dtype=x.dtype)


def conv2d_transpose_backward(g, x, kernel, dkernel, dbias, strides, dilation, windows,
                              need_dx=True):
    """Writes ``dkernel`` (kh, kw, f, c) and ``dbias``; returns dL/dx or None."""
    n, _, _, c = x.shape
    rows, cols = _full_size(x.shape, kernel.shape, strides, dilation, windows)
    full = np.zeros((n, rows, cols, kernel.shape[2]), dtype=g.dtype)
    (crop_h, out_h), (crop_w, out_w) = windows
    full[:, crop_h:crop_h + out_h, crop_w:crop_w + out_w, :] = g
    dx = np.zeros(x.shape, dtype=g.dtype) if need_dx else None
    x_rows = x.reshape(-1, c)
    for i, j, (rs, cs) in _taps(x.shape, kernel.shape, strides, dilation):
        g_tap = full[:, rs, cs, :]  # (n, h, w, f): what tap (i, j) of each pixel wrote to
        dkernel[i, j] = g_tap.reshape(-1, g_tap.shape[-1]).T @ x_rows
        if need_dx:
            dx += g_tap @ kernel[i, j]
    if dbias is not None:
        dbias[...] = g.sum(axis=(0, 1, 2))
    return dx
