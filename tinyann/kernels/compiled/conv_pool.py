"""Conv2D then 2x2 max pooling in one pass over the convolution's output (numba).

The convolution's output is never written: each 2x2 pooling window is computed,
its maximum and the window offset of its first maximum kept (as the pooling
kernels do), and backward builds the convolution's gradient tiles straight from
the pooled gradient and those offsets.

- many input channels, 3x3 kernels: the Winograd F(2x2, 3x3) convolution
  (winograd.py), whose 2x2 output tiles are the pooling windows;
- few input channels (a first layer's 1 or 3), stride 1: direct sums, each
  output pixel ``kh*kw*c`` multiply-adds vectorized over the filters (here):
  the im2col GEMM's inner dimension would be only 9 or 27 long, and its output,
  4x the pooled one, the largest array of the textbook's step (3.2 MB);
  backward, the kernel's gradient sums only the windows' maxima;
- other shapes: the compiled set's convolution, then its pooling.
"""

from __future__ import annotations

from threading import get_ident

import numpy as np

from tinyann.kernels.compiled import conv, pooling, winograd
from tinyann.kernels.compiled.winograd import first_max, routed
from tinyann.kernels.fast.buffers import FEW_CHANNELS, output_buffer, workspaces
from tinyann.kernels.geometry import ConvGeometry
from tinyann.kernels.jit import helper, kernel, prange
from tinyann.kernels.reference.conv_pool import composed

_composed_forward, _composed_backward = composed(
    conv.conv2d_forward, conv.conv2d_backward, pooling.max_pool2d_forward,
    pooling.max_pool2d_backward)


def _tiles_pool(pool_size, pool_strides, pool_padding):
    return tuple(pool_size) == (2, 2) and tuple(pool_strides) == (2, 2) and (
        pool_padding == "valid")


def conv2d_max_pool_forward(x, kernel, bias, strides, padding, dilation_rate, pool_size,
                            pool_strides, pool_padding, state=None, training=False):
    """As the reference's: ``y = max_pool(conv(x) + b)``, ``(y, ctx)``."""
    if _tiles_pool(pool_size, pool_strides, pool_padding) and winograd.eligible(
            x, kernel.shape, strides, dilation_rate):
        return winograd.conv2d_max_pool_forward(x, kernel, bias, padding, state, training)
    if _tiles_pool(pool_size, pool_strides, pool_padding) and _direct(x, kernel, strides,
                                                                      dilation_rate):
        return _direct_forward(x, kernel, bias, padding, state, training)
    return _composed_forward(x, kernel, bias, strides, padding, dilation_rate, pool_size,
                             pool_strides, pool_padding, state, training)


def conv2d_max_pool_backward(dy, ctx, kernel, dkernel, dbias, need_dx=True):
    """As the reference's (``ctx`` says which forward pass ran)."""
    if isinstance(ctx, winograd.Workspace):
        return winograd.conv2d_max_pool_backward(dy, ctx, kernel, dkernel, dbias, need_dx)
    if isinstance(ctx, _DirectWorkspace):
        return _direct_backward(dy, ctx, kernel, dkernel, dbias, need_dx)
    return _composed_backward(dy, ctx, kernel, dkernel, dbias, need_dx)


# ---------------------------------------------------------------------- few channels
def _direct(x, kernel, strides, dilation_rate):
    return (kernel.shape[2] < FEW_CHANNELS and tuple(strides) == (1, 1)
            and tuple(dilation_rate) == (1, 1) and x.dtype in (np.float32, np.float64)
            and kernel.dtype == x.dtype)


class _DirectWorkspace:
    """The zero-bordered input (kept for backward) and the windows' offsets."""

    def __init__(self, shape, kernel_shape, padding, dtype, owner):
        kh, kw, c, filters = kernel_shape
        self.geo = ConvGeometry(shape, (kh, kw), (1, 1), padding)
        self.owner, self.dtype, self.padding = owner, np.dtype(dtype), padding
        self.padded = np.zeros(self.geo.padded_shape(), dtype)
        self.pooled_shape = (shape[0], self.geo.out_rows // 2, self.geo.out_cols // 2,
                             filters)
        self.offsets = None  # training: each window's first maximum (0-3)


def _direct_forward(x, kernel, bias, padding, state, training):
    def make(key):
        return _DirectWorkspace(key[0], kernel.shape, padding, kernel.dtype,
                                (state or {}).get("name", "conv2d"))

    own = None if state is None else state.setdefault("direct_pooled", {})
    ws = workspaces(own, make).get((x.shape, "train" if training else get_ident()))
    ws.geo.unpad(ws.padded)[...] = x  # the border stays zero
    out = output_buffer(own, ws.pooled_shape, ws.dtype, training)
    if training and ws.offsets is None:
        ws.offsets = np.empty(ws.pooled_shape, np.uint8)
    bias = np.zeros(kernel.shape[-1], ws.dtype) if bias is None else bias
    # one grey channel, 3x3 (the textbook's first layer): the unrolled kernel
    forward = (direct_pooled_forward_3x3_grey if kernel.shape[:3] == (3, 3, 1)
               else direct_pooled_forward)
    forward(ws.padded, np.ascontiguousarray(kernel), np.ascontiguousarray(bias), out,
            ws.offsets if training else winograd.NO_OFFSETS, training)
    return out, ws


def _direct_backward(dy, ws, kernel, dkernel, dbias, need_dx):
    if ws.offsets is None:
        raise RuntimeError(f"Layer '{ws.owner}' ran backward before a training forward pass.")
    dy = np.ascontiguousarray(dy, ws.dtype).reshape(ws.pooled_shape)
    if need_dx:  # not a first layer: the convolution's gradient, then im2col's backward
        return _direct_backward_with_dx(dy, ws, kernel, dkernel, dbias)
    partial = np.empty((dy.shape[0],) + kernel.shape, ws.dtype)  # one sum per image
    direct_pooled_kernel_grad(ws.padded, dy, ws.offsets, partial)
    dkernel[...] = partial.sum(axis=0)
    if dbias is not None:
        dbias[...] = dy.reshape(-1, dy.shape[-1]).sum(axis=0)
    return None


def _direct_backward_with_dx(dy, ws, kernel, dkernel, dbias):
    """dz (``dy`` at each window's first maximum), then the compiled set's conv2d
    backward after its forward pass on the kept input (a rare case: a few-channel
    convolution after another layer)."""
    geo = ws.geo
    dz = np.zeros((geo.input_shape[0], geo.out_rows, geo.out_cols, dy.shape[-1]), ws.dtype)
    rows, cols = 2 * dy.shape[1], 2 * dy.shape[2]
    for k in range(4):
        dz[:, k // 2:rows:2, k % 2:cols:2] = np.where(ws.offsets == k, dy, 0)
    _, ctx = conv.conv2d_forward(geo.unpad(ws.padded), kernel, None, (1, 1), ws.padding,
                                 (1, 1), None, True)
    if dbias is not None:
        dbias[...] = dy.reshape(-1, dy.shape[-1]).sum(axis=0)
    return conv.conv2d_backward(dz, ctx, kernel, dkernel, None, True)


@helper
def window(padded, b, y, x, ch):
    """The 2x2 window at ``(y, x)`` of image ``b``, channel ``ch``, row-major."""
    return (padded[b, y, x, ch], padded[b, y, x + 1, ch], padded[b, y + 1, x, ch],
            padded[b, y + 1, x + 1, ch])


# the two direct kernels compile serially (parallel=False): 0.5 s each instead of
# 1.8-2.5 s on a first run, for 1.3-1.4x their run time (16 images, one thread:
# 0.39 against 0.28 ms forward, 0.29 against 0.22 ms backward)
@kernel(parallel=False)
def direct_pooled_forward(padded, weights, bias, out, offsets, keep):
    """``out[b, a, q, f]``: the maximum over the 2x2 window ``(a, q)`` of the
    convolution ``sum over (i, j, ch) of padded[b, y + i, x + j, ch] weights[i, j, ch, f]
    + bias[f]``; with ``keep``, the offset of its first maximum (row-major 0-3)."""
    n, pooled_rows, pooled_cols, filters = out.shape
    kh, kw, channels = weights.shape[0], weights.shape[1], weights.shape[2]
    for row in prange(n * pooled_rows):
        b, a = row // pooled_rows, row % pooled_rows
        sums = np.empty((4, filters), out.dtype)  # the window's four outputs
        for q in range(pooled_cols):
            for k in range(4):
                for f in range(filters):
                    sums[k, f] = bias[f]
            for i in range(kh):
                for j in range(kw):
                    for ch in range(channels):
                        v0, v1, v2, v3 = window(padded, b, 2 * a + i, 2 * q + j, ch)
                        for f in range(filters):  # vectorized over the filters
                            w = weights[i, j, ch, f]
                            sums[0, f] += v0 * w
                            sums[1, f] += v1 * w
                            sums[2, f] += v2 * w
                            sums[3, f] += v3 * w
            for f in range(filters):
                best, k = first_max(sums[0, f], sums[1, f], sums[2, f], sums[3, f])
                out[b, a, q, f] = best
                if keep:
                    offsets[b, a, q, f] = k


@kernel(parallel=False)
def direct_pooled_forward_3x3_grey(padded, weights, bias, out, offsets, keep):
    """``direct_pooled_forward`` for ``weights (3, 3, 1, f)``: the window's 4x4 input
    patch held in scalars, each filter's four sums in registers (3x faster: 0.10
    against 0.30 ms for 16 images; the same sums in the same order, the same bits)."""
    n, pooled_rows, pooled_cols, filters = out.shape
    w = weights
    for row in prange(n * pooled_rows):
        b, a = row // pooled_rows, row % pooled_rows
        y = 2 * a
        for q in range(pooled_cols):
            x = 2 * q
            p00, p01 = padded[b, y, x, 0], padded[b, y, x + 1, 0]
            p02, p03 = padded[b, y, x + 2, 0], padded[b, y, x + 3, 0]
            p10, p11 = padded[b, y + 1, x, 0], padded[b, y + 1, x + 1, 0]
            p12, p13 = padded[b, y + 1, x + 2, 0], padded[b, y + 1, x + 3, 0]
            p20, p21 = padded[b, y + 2, x, 0], padded[b, y + 2, x + 1, 0]
            p22, p23 = padded[b, y + 2, x + 2, 0], padded[b, y + 2, x + 3, 0]
            p30, p31 = padded[b, y + 3, x, 0], padded[b, y + 3, x + 1, 0]
            p32, p33 = padded[b, y + 3, x + 2, 0], padded[b, y + 3, x + 3, 0]
            for f in range(filters):  # vectorized over the filters
                w00, w01, w02 = w[0, 0, 0, f], w[0, 1, 0, f], w[0, 2, 0, f]
                w10, w11, w12 = w[1, 0, 0, f], w[1, 1, 0, f], w[1, 2, 0, f]
                w20, w21, w22 = w[2, 0, 0, f], w[2, 1, 0, f], w[2, 2, 0, f]
                # the window's four outputs, the taps added in row-major order
                s0 = (bias[f] + p00 * w00 + p01 * w01 + p02 * w02 + p10 * w10 + p11 * w11
                      + p12 * w12 + p20 * w20 + p21 * w21 + p22 * w22)
                s1 = (bias[f] + p01 * w00 + p02 * w01 + p03 * w02 + p11 * w10 + p12 * w11
                      + p13 * w12 + p21 * w20 + p22 * w21 + p23 * w22)
                s2 = (bias[f] + p10 * w00 + p11 * w01 + p12 * w02 + p20 * w10 + p21 * w11
                      + p22 * w12 + p30 * w20 + p31 * w21 + p32 * w22)
                s3 = (bias[f] + p11 * w00 + p12 * w01 + p13 * w02 + p21 * w10 + p22 * w11
                      + p23 * w12 + p31 * w20 + p32 * w21 + p33 * w22)
                best, k = first_max(s0, s1, s2, s3)
                out[b, a, q, f] = best
                if keep:
                    offsets[b, a, q, f] = k


@kernel(parallel=False)
def direct_pooled_kernel_grad(padded, dy, offsets, partial):
    """``partial[b, i, j, ch, f]``: image ``b``'s share of dL/dkernel, the sum over
    windows of ``dy[b, a, q, f]`` times the input under tap ``(i, j)`` of the window's
    first maximum (the only pixel of the window that the gradient reaches)."""
    n, pooled_rows, pooled_cols, filters = dy.shape
    kh, kw, channels = partial.shape[1], partial.shape[2], partial.shape[3]
    for b in prange(n):
        spread = np.empty((4, filters), dy.dtype)  # dy at offset k, zero elsewhere
        zero = dy[b, 0, 0, 0] * 0
        for i in range(kh):
            for j in range(kw):
                for ch in range(channels):
                    for f in range(filters):
                        partial[b, i, j, ch, f] = zero
        for a in range(pooled_rows):
            for q in range(pooled_cols):
                for f in range(filters):
                    g, k = dy[b, a, q, f], offsets[b, a, q, f]
                    spread[0, f], spread[1, f], spread[2, f], spread[3, f] = routed(g, k, zero)
                for i in range(kh):
                    for j in range(kw):
                        for ch in range(channels):
                            v0, v1, v2, v3 = window(padded, b, 2 * a + i, 2 * q + j, ch)
                            for f in range(filters):
                                partial[b, i, j, ch, f] += (
                                    v0 * spread[0, f] + v1 * spread[1, f] + v2 * spread[2, f]
                                    + v3 * spread[3, f])
