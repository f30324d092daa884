"""im2col and col2im for many-channel convolutions (numba): one pass each.

im2col writes each receptive field straight from the image, zeros where a tap
falls in the padding: the NumPy set first copies the image into a zero-bordered
buffer, then copies that buffer's sliding-window view (two passes over 7 MB of
columns for the textbook's second convolution). col2im gathers, for each input
pixel, the column gradients of every tap that read it, so each pixel is written
once, in one pass (the NumPy set adds ``kh*kw`` strided slices into the image one
after another).

Shapes: ``x, dx (n, h, w, c)``; ``cols (n*oh*ow, >= kh*kw*c)``, C-contiguous (its
columns past ``kh*kw*c``, such as the bias's ones, are left alone);
``dcols (kh*kw, n, oh, ow, c)``, one block per kernel tap (the layout the
backward GEMM writes). The geometry: strides ``sh, sw``, dilation ``dh, dw``, and
the padding before the first row and column, ``top, left``.
"""

from __future__ import annotations

import functools

from tinyann.kernels.compiled import winograd
from tinyann.kernels.fast import buffers
from tinyann.kernels.fast import conv as numpy_conv
from tinyann.kernels.jit import kernel, prange


def fill_columns(x, ws):
    """As the NumPy set's (few channels: its copy per kernel offset)."""
    if x.shape[-1] < buffers.FEW_CHANNELS:
        return numpy_conv.fill_columns(x, ws)
    geo = ws.geo
    (kh, kw), (sh, sw), (dh, dw) = geo.window, geo.strides, geo.dilation
    im2col_kernel(x, kh, kw, sh, sw, dh, dw, geo.pad_rows[0], geo.pad_cols[0], geo.out_rows,
                  geo.out_cols, ws.cols)


def col2im(dcols, dx, geo):
    """As the NumPy set's ``col2im``."""
    (sh, sw), (dh, dw) = geo.strides, geo.dilation
    col2im_kernel(dcols, geo.window[1], sh, sw, dh, dw, geo.pad_rows[0], geo.pad_cols[0],
                  dx)
    return dx


# the NumPy set's convolution (its GEMMs and buffers) with these copies
_im2col_forward = functools.partial(numpy_conv.conv2d_forward, fill_columns=fill_columns)
_im2col_backward = functools.partial(numpy_conv.conv2d_backward, col2im=col2im)


def conv2d_forward(x, kernel, bias, strides, padding, dilation_rate, state=None,
                   training=False):
    """As the NumPy set's: 3x3 kernels at stride 1 by Winograd's F(2x2, 3x3)
    (winograd.py), other shapes by im2col and one GEMM."""
    if winograd.eligible(x, kernel.shape, strides, dilation_rate):
        return winograd.conv2d_forward(x, kernel, bias, padding, state, training)
    return _im2col_forward(x, kernel, bias, strides, padding, dilation_rate, state, training)


def conv2d_backward(dz, ctx, kernel, dkernel, dbias, need_dx=True):
    """As the NumPy set's (``ctx`` says which forward pass ran)."""
    if isinstance(ctx, winograd.Workspace):
        return winograd.conv2d_backward(dz, ctx, kernel, dkernel, dbias, need_dx)
    return _im2col_backward(dz, ctx, kernel, dkernel, dbias, need_dx)


@kernel
def im2col_kernel(x, kh, kw, sh, sw, dh, dw, top, left, oh, ow, cols):
    n, h, w, c = x.shape
    for r in prange(n * oh):
        b, i = r // oh, r % oh
        for j in range(ow):
            row = (b * oh + i) * ow + j
            for ki in range(kh):
                y = i * sh + ki * dh - top
                for kj in range(kw):
                    xx = j * sw + kj * dw - left
                    start = (ki * kw + kj) * c
                    if y < 0 or y >= h or xx < 0 or xx >= w:
                        for ch in range(c):
                            cols[row, start + ch] = 0
                    else:
                        for ch in range(c):
                            cols[row, start + ch] = x[b, y, xx, ch]


@kernel
def col2im_kernel(dcols, kw, sh, sw, dh, dw, top, left, dx):
    n, h, w, c = dx.shape
    taps, _, oh, ow, _ = dcols.shape
    kh = taps // kw
    for r in prange(n * h):
        b, y = r // h, r % h
        for xx in range(w):
            for ch in range(c):
                dx[b, y, xx, ch] = 0
            for ki in range(kh):
                rows = y + top - ki * dh  # i * sh, for the output row i that read y
                if rows < 0 or rows % sh or rows // sh >= oh:
                    continue
                i = rows // sh
                for kj in range(kw):
                    cols = xx + left - kj * dw
                    if cols < 0 or cols % sw or cols // sw >= ow:
                        continue
                    j = cols // sw
                    for ch in range(c):
                        dx[b, y, xx, ch] += dcols[ki * kw + kj, b, i, j, ch]
