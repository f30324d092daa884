"""Max pooling over windows that tile the image (numba): one pass each way.

The ops ``max_pool2d_forward`` / ``max_pool2d_backward`` of the compiled set: any
other geometry (overlapping windows, padding reached, a remainder row) goes to the
NumPy set's.


Forward reads every pixel once and writes the maximum and, per output, the window
offset of its first maximum (row-major, as the reference and TensorFlow route
ties); backward writes every input pixel once: the output's gradient where the
offset matches, zero elsewhere. The NumPy set needs ``ph*pw - 1`` passes forward
and ``3 (ph*pw - 1)`` backward, each over strided views. Windows that overlap or
reach padding stay with the NumPy set.

Shapes: ``x (n, h, w, c)`` C-contiguous; ``out, offset (n, h // ph, w // pw, c)``.
"""

from __future__ import annotations

import numpy as np

from tinyann.kernels.fast import pooling as numpy_pooling
from tinyann.kernels.fast.buffers import output_buffer, reuse_buffer, workspaces
from tinyann.kernels.jit import kernel, prange

# the offsets a prediction does not keep (never written: keep=False)
_NO_OFFSETS = np.zeros((1, 1, 1, 1), np.uint8)


class _Tiles:
    """What backward needs: the workspace (its offsets and dx buffer)."""

    __slots__ = ("ws", "pool_size")

    def __init__(self, ws, pool_size):
        self.ws, self.pool_size = ws, pool_size


def max_pool2d_forward(x, pool_size, strides, padding, state=None, training=False):
    def make(shape):
        return numpy_pooling._PoolWorkspace(shape, pool_size, strides, padding, x.dtype)

    ws = workspaces(state, make).get(x.shape)
    if not (ws.tiles and x.flags.c_contiguous):
        return numpy_pooling.max_pool2d_forward(x, pool_size, strides, padding, state,
                                                training)
    out = output_buffer(state, ws.out_shape, ws.dtype, training)
    ph, pw = pool_size
    if not training:
        max_pool_tiles_forward(x, ph, pw, out, _NO_OFFSETS, False)
        return out, None
    offsets = ws.offsets = reuse_buffer(getattr(ws, "offsets", None), ws.out_shape, np.uint8)
    max_pool_tiles_forward(x, ph, pw, out, offsets, True)
    return out, _Tiles(ws, pool_size)


def max_pool2d_backward(dy, ctx):
    if not isinstance(ctx, _Tiles):
        return numpy_pooling.max_pool2d_backward(dy, ctx)
    ws = ctx.ws
    dx = ws.dx = reuse_buffer(ws.dx, ws.geo.input_shape, ws.dtype)
    max_pool_tiles_backward(dy.reshape(ws.out_shape), ws.offsets, *ctx.pool_size, dx)
    return dx


@kernel
def max_pool_tiles_forward(x, ph, pw, out, offset, keep):
    n, ho, wo, c = out.shape
    for r in prange(n * ho):
        b, i = r // ho, r % ho
        if ph == 2 and pw == 2:  # the common case, its four pixels in registers
            for j in range(wo):
                for ch in range(c):
                    best, k = x[b, 2 * i, 2 * j, ch], 0
                    v = x[b, 2 * i, 2 * j + 1, ch]
                    if v > best:
                        best, k = v, 1
                    v = x[b, 2 * i + 1, 2 * j, ch]
                    if v > best:
                        best, k = v, 2
                    v = x[b, 2 * i + 1, 2 * j + 1, ch]
                    if v > best:
                        best, k = v, 3
                    out[b, i, j, ch] = best
                    if keep:
                        offset[b, i, j, ch] = k
            continue
        for j in range(wo):
            # the window's first pixel, then each later one where it is larger: the
            # loops over channels innermost, so each runs as vector instructions
            for ch in range(c):
                out[b, i, j, ch] = x[b, i * ph, j * pw, ch]
            if keep:
                for ch in range(c):
                    offset[b, i, j, ch] = 0
            for k in range(1, ph * pw):
                y, xx = i * ph + k // pw, j * pw + k % pw
                for ch in range(c):
                    v = x[b, y, xx, ch]
                    if v > out[b, i, j, ch]:
                        out[b, i, j, ch] = v
                        if keep:
                            offset[b, i, j, ch] = k


@kernel
def max_pool_tiles_backward(dy, offset, ph, pw, dx):
    n, ho, wo, c = dy.shape
    for r in prange(n * ho):
        b, i = r // ho, r % ho
        for di in range(ph):
            for j in range(wo):
                for dj in range(pw):
                    k = di * pw + dj
                    for ch in range(c):
                        g = dy[b, i, j, ch]
                        dx[b, i * ph + di, j * pw + dj, ch] = g if offset[b, i, j, ch] == k \
                            else g * 0
