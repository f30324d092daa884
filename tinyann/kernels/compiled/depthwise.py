"""Depthwise 2-D convolution (numba): one pass over the output forward, one over the
output gradient backward, for ``depth_multiplier=1`` in float32 (Xception's and
MobileNet's case); other cases run the NumPy set's (tinyann/kernels/fast/depthwise.py).

Why: the NumPy set's tap loop reads and writes the output block twice per tap
(a multiply into scratch, an add); here each output pixel's channels are summed over
the taps in registers. 'same' padding: taps outside the image are skipped, so
nothing is padded or copied. Measured on Deep Learning with Python's chapter 9
Xception (180 x 180 images, batch 32, one core): the depthwise steps took 2.3 s of a
7.2 s training step with the NumPy set.

Backward: a batch item per parallel iteration (its input gradient and its share of
the kernel's gradient are then written by one thread only), the shares summed after.

Shapes: ``x`` (n, h, w, c) C-contiguous, ``kernel`` (kh, kw, c) (the depthwise kernel
without its multiplier axis), ``z`` (n, oh, ow, c).
"""

from __future__ import annotations

import numpy as np

from tinyann.kernels.fast import depthwise as numpy_depthwise
from tinyann.kernels.geometry import ConvGeometry
from tinyann.kernels.jit import kernel, prange


def _compiled_case(x, kernel_):
    return (kernel_.shape[3] == 1 and x.dtype == np.float32 and kernel_.dtype == np.float32
            and x.flags.c_contiguous)


def depthwise_conv2d_forward(x, kernel, bias, strides, padding, dilation_rate, state=None,
                             training=False):
    if not (_compiled_case(x, kernel) and (bias is None or bias.dtype == np.float32)):
        return numpy_depthwise.depthwise_conv2d_forward(x, kernel, bias, strides, padding,
                                                        dilation_rate, state, training)
    kh, kw, c, _ = kernel.shape
    geo = ConvGeometry(x.shape, (kh, kw), strides, padding, dilation_rate)
    z = np.empty((x.shape[0], geo.out_rows, geo.out_cols, c), np.float32)
    has_bias = bias is not None
    depthwise_forward(x, np.ascontiguousarray(kernel[..., 0]),
                      bias if has_bias else np.zeros(c, np.float32), has_bias,
                      strides[0], strides[1], dilation_rate[0], dilation_rate[1],
                      geo.pad_rows[0], geo.pad_cols[0], z)
    return z, (x, geo)


def depthwise_conv2d_backward(dz, ctx, kernel, dkernel, dbias, need_dx=True):
    x, geo = ctx
    if not (_compiled_case(x, kernel) and dz.dtype == np.float32):
        return numpy_depthwise.depthwise_conv2d_backward(dz, ctx, kernel, dkernel, dbias,
                                                         need_dx)
    kh, kw, c, _ = kernel.shape
    dz = np.ascontiguousarray(dz.reshape(x.shape[0], geo.out_rows, geo.out_cols, c))
    if dbias is not None:
        np.add.reduce(dz.reshape(-1, c), axis=0, out=dbias)
    shares = np.zeros((x.shape[0], kh, kw, c), np.float32)  # each batch item's dL/dkernel
    dx = np.zeros(x.shape, np.float32) if need_dx else np.zeros((1, 1, 1, 1), np.float32)
    depthwise_backward(x, dz, np.ascontiguousarray(kernel[..., 0]), geo.strides[0],
                       geo.strides[1], geo.dilation[0], geo.dilation[1], geo.pad_rows[0],
                       geo.pad_cols[0], shares, dx, need_dx)
    dkernel[..., 0] = shares.sum(axis=0)
    return dx if need_dx else None


@kernel
def depthwise_forward(x, k, bias, has_bias, sh, sw, dh, dw, top, left, z):
    n, h, w, c = x.shape
    _, oh, ow, _ = z.shape
    kh, kw, _ = k.shape
    for r in prange(n * oh):
        b, y = r // oh, r % oh
        for xo in range(ow):
            for ch in range(c):
                z[b, y, xo, ch] = bias[ch] if has_bias else 0.0
            for i in range(kh):
                iy = y * sh + i * dh - top
                if iy < 0 or iy >= h:
                    continue
                for j in range(kw):
                    ix = xo * sw + j * dw - left
                    if ix < 0 or ix >= w:
                        continue
                    # channels innermost: one vector multiply-add per tap
                    for ch in range(c):
                        z[b, y, xo, ch] += x[b, iy, ix, ch] * k[i, j, ch]


@kernel
def depthwise_backward(x, dz, k, sh, sw, dh, dw, top, left, shares, dx, need_dx):
    n, h, w, c = x.shape
    _, oh, ow, _ = dz.shape
    kh, kw, _ = k.shape
    for b in prange(n):
        for y in range(oh):
            for xo in range(ow):
                for i in range(kh):
                    iy = y * sh + i * dh - top
                    if iy < 0 or iy >= h:
                        continue
                    for j in range(kw):
                        ix = xo * sw + j * dw - left
                        if ix < 0 or ix >= w:
                            continue
                        for ch in range(c):
                            # dL/dk[i, j] += x * dz;  dL/dx += dz * k[i, j]
                            shares[b, i, j, ch] += x[b, iy, ix, ch] * dz[b, y, xo, ch]
                        if need_dx:
                            for ch in range(c):
                                dx[b, iy, ix, ch] += dz[b, y, xo, ch] * k[i, j, ch]
