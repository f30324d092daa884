"""3x3 convolutions by Winograd's minimal filtering F(2x2, 3x3) (numba): 2.25x fewer
multiplications than im2col's GEMM, for the forward pass and both gradients.

The output is cut into 2x2 tiles; tile ``t`` reads a 4x4 patch ``d`` of the padded
input. With the transforms (Lavin & Gray 2016, points 0, 1, -1, infinity)::

    B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]
    G   = [[1, 0, 0], [1/2, 1/2, 1/2], [1/2, -1/2, 1/2], [0, 0, 1]]
    A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]

one channel's 2x2 output is ``A^T [(G g G^T) * (B^T d B)] A``. Summed over channels,
each of the 16 elements of the product is a matrix product:

    V[k] = (B^T d B)[k]   (16, tiles, channels)     input tiles
    U[k] = (G g G^T)[k]   (16, channels, filters)   kernel tiles
    M[k] = V[k] @ U[k]    (16, tiles, filters)      16 GEMMs: 4 multiplications per
                                                    output pixel and channel pair, not 9
    y    = A^T M A + b    (batch, rows, cols, filters)

- Input gradient: the same convolution of the output gradient (padded by
  ``2 - top``) with the kernel turned 180 degrees and its channel axes swapped.
- Kernel gradient, ``dW[i, j] = sum over tiles of sum_pq d[p + i, q + j] dy[p, q]``:
  Winograd's F(3x3, 2x2) on the same 4x4 input patches and the 2x2 output-gradient
  tiles. Its input transform is ``B^T`` with the last row negated, so the forward
  pass's ``V`` serves, with the sign moved onto the gradient's transform::

      G' = [[1, 0], [1/2, 1/2], [1/2, -1/2], [0, -1]]   (the sign included)
      A'^T = [[1, 1, 1, 0], [0, 1, -1, 0], [0, 1, 1, 1]]
      dW = A'^T [sum over tiles V[k]^T (G' dy G'^T)[k]] A'

The batch goes through in chunks of whole images, about ``CHUNK_TILES`` tiles each:
a chunk's ``V`` and ``M`` stay in the core's cache from the input transform through
the 16 GEMMs to the output transform. Training keeps every chunk's ``V``; the kernel
gradient sums the chunks' shares ``V^T (G' dy G'^T)``.

Taken for 3x3 kernels, stride 1, no dilation and at least ``MIN_CHANNELS`` input
channels (the textbook's second convolution, 32 -> 64); other shapes run im2col.
The math of record is tinyann/kernels/reference/conv.py; tests/kernels compare the two.
"""

from __future__ import annotations

from threading import get_ident

import numpy as np

from tinyann.kernels.fast.buffers import output_buffer, workspaces
from tinyann.kernels.geometry import ConvGeometry
from tinyann.kernels.jit import helper, kernel, prange

# the offsets a prediction does not keep (never written)
NO_OFFSETS = np.zeros((1, 1, 1, 1), np.uint8)

# fewer input channels than this: im2col (a first layer's 1 or 3 channels: the
# transforms would cost more than the products they save)
MIN_CHANNELS = 8

# about this many tiles at a time: one chunk's V and M (16 x 147 tiles x 96 channels,
# 0.9 MB for the textbook's 32 -> 64) stay in the core's L2 cache from the
# transform through the GEMM to the next transform (measured on 16 images: forward
# 0.86 -> 0.64 ms, backward 2.0 -> 1.37 ms against the whole batch at once)
CHUNK_TILES = 160

_G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]])
_AT_GRAD = np.array([[1, 1, 1, 0], [0, 1, -1, 0], [0, 1, 1, 1]])


def eligible(x, kernel_shape, strides, dilation_rate):
    kh, kw, channels, _ = kernel_shape
    return ((kh, kw) == (3, 3) and tuple(strides) == (1, 1) and tuple(dilation_rate) == (1, 1)
            and channels >= MIN_CHANNELS and x.dtype in (np.float32, np.float64))


class Workspace:
    """Geometry and buffers of one input shape (forward, and the backward's on first
    use); ``pooled``: for ``conv2d_max_pool``, its output the 2x2-pooled convolution;
    ``training``: ``V`` kept for every chunk (the kernel gradient reads it), else one
    chunk's."""

    def __init__(self, shape, kernel_shape, padding, dtype, owner, pooled=False,
                 training=True):
        n, h, w, c = shape
        filters = kernel_shape[-1]
        geo = self.geo = ConvGeometry(shape, (3, 3), (1, 1), padding)
        self.owner, self.dtype, self.pooled = owner, np.dtype(dtype), pooled
        self.out_shape = (n, geo.out_rows, geo.out_cols, filters)
        self.pooled_shape = (n, geo.out_rows // 2, geo.out_cols // 2, filters)
        self.offsets = None  # pooled, training: each window's first maximum (0-3)
        self.tiles_hw = (-(-geo.out_rows // 2), -(-geo.out_cols // 2))
        per_image = self.tiles_hw[0] * self.tiles_hw[1]
        self.chunks = _chunks(n, per_image)
        size = self.chunks[0][1] * per_image  # tiles in a chunk
        self.padded = _padded_buffer(shape, self.tiles_hw, geo.pad_rows[0], geo.pad_cols[0],
                                     dtype)
        self.keeps_inputs = training
        # V, chunk by chunk (each chunk's 16 matrices contiguous)
        self.inputs = np.empty((len(self.chunks) if training else 1, 16, size, c), dtype)
        self.products = np.empty((16, size, filters), dtype)  # M, one chunk's
        self.kernel_tiles = np.empty((16, c, filters), dtype)  # U
        self.backward = None  # _BackwardBuffers, made on the first backward pass


class _BackwardBuffers:
    """One chunk's buffers of the gradients' transforms (and the whole input gradient)."""

    def __init__(self, ws, channels, filters):
        geo, dtype = ws.geo, ws.dtype
        n, h, w, _ = geo.input_shape
        chunk = ws.chunks[0][1]  # images in a chunk
        self.grad_tiles = np.empty(ws.products.shape, dtype)  # G' dy G'^T
        # each chunk's share of V^T (G' dy G'^T), summed after the last chunk
        self.dkernel_parts = np.empty((len(ws.chunks), 16, channels, filters), dtype)
        self.dkernel_tiles = np.empty((16, channels, filters), dtype)
        # the input gradient: the output gradient convolved, with its own tiles
        self.tiles_hw = (-(-h // 2), -(-w // 2))
        self.top, self.left = 2 - geo.pad_rows[0], 2 - geo.pad_cols[0]
        self.padded = _padded_buffer((chunk, geo.out_rows, geo.out_cols, filters),
                                     self.tiles_hw, self.top, self.left, dtype)
        size = chunk * self.tiles_hw[0] * self.tiles_hw[1]
        self.inputs = np.empty((16, size, filters), dtype)
        self.products = np.empty((16, size, channels), dtype)
        self.kernel_tiles = np.empty((16, filters, channels), dtype)
        self.no_bias = np.zeros(channels, dtype)
        self.dx = np.empty(geo.input_shape, dtype)


def _chunks(n, per_image):
    """``[(first image, images), ...]``: the batch in chunks of about ``CHUNK_TILES``
    tiles, whole images each, as even as they come (the last may be smaller)."""
    count = max(1, min(n, -(-n * per_image // CHUNK_TILES)))
    size = -(-n // count)
    return [(first, min(size, n - first)) for first in range(0, n, size)]


def _padded_buffer(shape, tiles_hw, top, left, dtype):
    """Zeros big enough for every tile's 4x4 patch: ``2 * tiles + 2`` rows and columns
    (and the image at ``top, left``); the border stays zero, the image is copied in."""
    n, h, w, c = shape
    rows = max(2 * tiles_hw[0] + 2, top + h)
    cols = max(2 * tiles_hw[1] + 2, left + w)
    return np.zeros((n, rows, cols, c), dtype)


def _kernel_tiles(kernel, out):
    """``U = G g G^T`` for every (channel, filter): ``kernel (3, 3, c, f) -> (16, c, f)``."""
    g = _G.astype(kernel.dtype)
    rows = np.matmul(g, kernel.reshape(3, -1)).reshape(4, 3, -1)  # G g
    out.reshape(4, 4, -1)[...] = np.matmul(g, rows)  # (G g) G^T
    return out


def _workspace(x, kernel, padding, state, training, pooled):
    def make(key):
        # (the key, not this call's ``training``: the first call's ``make`` makes them
        # all.) Without a layer's state (the op called alone), a forward pass's V is
        # kept whatever ``training`` says: its caller may run backward from its context
        return Workspace(key[0], kernel.shape, padding, kernel.dtype,
                         (state or {}).get("name", "conv2d"), pooled,
                         key[1] == "train" or state is None)

    # its own workspaces in the layer's state: a layer may also run im2col (another
    # input size, or the NumPy set after a switch), whose workspaces are other objects
    own = None if state is None else state.setdefault(
        "winograd_pooled" if pooled else "winograd", {})
    # inference: a workspace per thread (predictions may run in several at once)
    return own, workspaces(own, make).get((x.shape, "train" if training else get_ident()))


def _forward(ws, x, kernel, emit):
    """``M = V @ U`` chunk by chunk, each chunk's ``M`` passed on to ``emit(M, first,
    end)`` while it is in the core's cache (V kept for the kernel gradient)."""
    ws.geo.unpad(ws.padded)[...] = x  # the border stays zero
    _kernel_tiles(kernel, ws.kernel_tiles)
    th, tw = ws.tiles_hw
    products = ws.products
    for i, (first, count) in enumerate(ws.chunks):
        inputs = ws.inputs[i if ws.keeps_inputs else 0]
        end, tiles = first + count, count * th * tw
        input_tiles(ws.padded[first:end], th, tw, inputs)
        np.matmul(inputs[:, :tiles], ws.kernel_tiles, out=products[:, :tiles])
        emit(products, first, end)


def _bias(bias, ws):
    if bias is None:
        return np.zeros(ws.out_shape[-1], ws.dtype)
    return np.ascontiguousarray(bias, ws.dtype)


def conv2d_forward(x, kernel, bias, padding, state=None, training=False):
    """As the reference's ``conv2d_forward`` for an eligible shape (see ``eligible``)."""
    own, ws = _workspace(x, kernel, padding, state, training, pooled=False)
    out = output_buffer(own, ws.out_shape, ws.dtype, training)
    bias, (th, tw) = _bias(bias, ws), ws.tiles_hw

    def emit(products, first, end):
        output_tiles(products, bias, th, tw, out[first:end])

    _forward(ws, x, kernel, emit)
    return out, ws


def conv2d_max_pool_forward(x, kernel, bias, padding, state=None, training=False):
    """As the reference's ``conv2d_max_pool_forward`` with 2x2 pooling windows (stride
    2, 'valid'): the output tiles are the windows; only their maxima are written."""
    own, ws = _workspace(x, kernel, padding, state, training, pooled=True)
    out = output_buffer(own, ws.pooled_shape, ws.dtype, training)
    if training and ws.offsets is None:
        ws.offsets = np.empty(ws.pooled_shape, np.uint8)
    bias, (th, tw) = _bias(bias, ws), ws.tiles_hw

    def emit(products, first, end):
        offsets = ws.offsets[first:end] if training else NO_OFFSETS
        pooled_output_tiles(products, bias, th, tw, out[first:end], offsets, training)

    _forward(ws, x, kernel, emit)
    return out, ws


def _backward_buffers(ws, kernel):
    if not ws.keeps_inputs:
        raise RuntimeError(f"Layer '{ws.owner}' ran backward before a training forward pass.")
    if ws.backward is None:
        ws.backward = _BackwardBuffers(ws, kernel.shape[2], kernel.shape[3])
    return ws.backward


def _backward(ws, kernel, dkernel, need_dx, fill):
    """Both gradients chunk by chunk: ``fill(first, end)`` writes the chunk's
    gradient tiles ``G' dy G'^T`` (and, for dx, its output gradient into
    ``bw.padded``); then the chunk's share of dW, and its part of dx."""
    bw = ws.backward
    th, tw = ws.tiles_hw
    bth, btw = bw.tiles_hw
    if need_dx:
        # dx: the output gradient convolved with the kernel turned 180 degrees, its
        # channel axes swapped
        _kernel_tiles(kernel[::-1, ::-1].transpose(0, 1, 3, 2), bw.kernel_tiles)
    for i, (first, count) in enumerate(ws.chunks):
        end, tiles = first + count, count * th * tw
        fill(first, end)
        np.matmul(ws.inputs[i, :, :tiles].transpose(0, 2, 1), bw.grad_tiles[:, :tiles],
                  out=bw.dkernel_parts[i])
        if need_dx:
            tiles = count * bth * btw
            input_tiles(bw.padded[:count], bth, btw, bw.inputs)
            np.matmul(bw.inputs[:, :tiles], bw.kernel_tiles, out=bw.products[:, :tiles])
            output_tiles(bw.products, bw.no_bias, bth, btw, bw.dx[first:end])
    # dW = A'^T [sum over tiles of V^T (G' dy G'^T)] A'
    parts = bw.dkernel_parts
    total = parts[0] if len(parts) == 1 else np.sum(parts, axis=0, out=bw.dkernel_tiles)
    at = _AT_GRAD.astype(ws.dtype)
    rows = np.matmul(at, total.reshape(4, -1)).reshape(3, 4, -1)
    dkernel[...] = np.matmul(at, rows).reshape(dkernel.shape)
    return bw.dx if need_dx else None


def conv2d_backward(dz, ws, kernel, dkernel, dbias, need_dx=True):
    """As the reference's ``conv2d_backward``; ``ws`` from ``conv2d_forward``."""
    bw = _backward_buffers(ws, kernel)
    dz = np.ascontiguousarray(dz, ws.dtype).reshape(ws.out_shape)
    (th, tw), half = ws.tiles_hw, ws.dtype.type(0.5)
    rows, cols = dz.shape[1], dz.shape[2]

    def fill(first, end):
        grad_tiles(dz[first:end], th, tw, half, bw.grad_tiles)
        if need_dx:
            bw.padded[:end - first, bw.top:bw.top + rows, bw.left:bw.left + cols] = (
                dz[first:end])

    if dbias is not None:
        dbias[...] = dz.reshape(-1, dz.shape[-1]).sum(axis=0)
    return _backward(ws, kernel, dkernel, need_dx, fill)


def conv2d_max_pool_backward(dy, ws, kernel, dkernel, dbias, need_dx=True):
    """As the reference's ``conv2d_max_pool_backward``; ``ws`` from
    ``conv2d_max_pool_forward``: the convolution's gradient tiles (and, for dx, its
    padded gradient) made from ``dy`` and the windows' offsets in one pass."""
    if ws.offsets is None:
        raise RuntimeError(f"Layer '{ws.owner}' ran backward before a training forward pass.")
    bw = _backward_buffers(ws, kernel)
    dy = np.ascontiguousarray(dy, ws.dtype).reshape(ws.pooled_shape)
    (th, tw), half = ws.tiles_hw, ws.dtype.type(0.5)

    def fill(first, end):
        pooled_grad_tiles(dy[first:end], ws.offsets[first:end], th, tw, half,
                          bw.grad_tiles, bw.padded[:end - first], bw.top, bw.left, need_dx)

    if dbias is not None:  # each window's gradient goes to one pixel: dz sums as dy
        dbias[...] = dy.reshape(-1, dy.shape[-1]).sum(axis=0)
    return _backward(ws, kernel, dkernel, need_dx, fill)


# ---------------------------------------------------------------------- kernels
# Each loops over the tiles of the images it is given (a chunk of the batch: the
# tile arrays may be longer); the innermost loop runs over channels, contiguous in
# every array, so it vectorizes. The 16 elements of a tile are written out by hand,
# four at a time by the 1-D transforms below (helpers: LLVM inlines them, the same
# operations in the same order as written in place, the same bits).

@helper
def tile_position(t, tiles_w, per_image):
    """Tile ``t`` of the flattened (image, tile row, tile column) order:
    ``(image, tile row, tile column)``; its top-left pixel is ``(2 * row, 2 * column)``."""
    return t // per_image, (t % per_image) // tiles_w, t % tiles_w


@helper
def tile_origin(t, tiles_w, per_image, rows, cols):
    """Tile ``t``'s image, top-left pixel and whether its second row and column lie
    inside a ``rows x cols`` image: ``(image, row, col, two_rows, two_cols)``."""
    b, a, q = tile_position(t, tiles_w, per_image)
    return b, 2 * a, 2 * q, 2 * a + 1 < rows, 2 * q + 1 < cols


@helper
def bt(x0, x1, x2, x3):
    """``B^T x`` of F(2x2, 3x3) for one 4-vector."""
    return x0 - x2, x1 + x2, x2 - x1, x1 - x3


@helper
def column_bt(padded, b, r, s, ch):
    """``B^T`` of column ``s``, rows ``r .. r + 3`` of image ``b``, channel ``ch``."""
    return bt(padded[b, r, s, ch], padded[b, r + 1, s, ch], padded[b, r + 2, s, ch],
              padded[b, r + 3, s, ch])


@helper
def put_bt(inputs, k, t, ch, x0, x1, x2, x3):
    """``inputs[k:k + 4, t, ch] = B^T x`` (one row of a tile's ``(B^T d) B``)."""
    inputs[k, t, ch], inputs[k + 1, t, ch], inputs[k + 2, t, ch], inputs[k + 3, t, ch] = (
        bt(x0, x1, x2, x3))


@helper
def put_g(grads, k, t, f, a, b, half):
    """``grads[k:k + 4, t, f] = G' (a, b)``: ``[a, (a + b)/2, (a - b)/2, -b]``."""
    grads[k, t, f] = a
    grads[k + 1, t, f] = (a + b) * half
    grads[k + 2, t, f] = (a - b) * half
    grads[k + 3, t, f] = -b


@helper
def first_max(v0, v1, v2, v3):
    """The largest of a 2x2 window's values (row-major) and the offset 0-3 of its
    first occurrence, as max pooling routes ties: ``(best, offset)``."""
    best, k = v0, 0
    if v1 > best:
        best, k = v1, 1
    if v2 > best:
        best, k = v2, 2
    if v3 > best:
        best, k = v3, 3
    return best, k


@helper
def routed(g, k, zero):
    """``g`` at offset ``k`` of a 2x2 window, zero at the other three (selects only,
    so the loops calling it vectorize)."""
    return (g if k == 0 else zero, g if k == 1 else zero, g if k == 2 else zero,
            g if k == 3 else zero)


@helper
def tile_output(products, t, f, bias):
    """The 2x2 output tile ``A^T M A + bias`` of tile ``t``, filter ``f``:
    ``(y00, y01, y10, y11)`` (shared by the plain and the pooled convolution)."""
    # A^T M: rows 0+1+2 and 1-2-3, column by column
    p00 = products[0, t, f] + products[4, t, f] + products[8, t, f]
    p01 = products[1, t, f] + products[5, t, f] + products[9, t, f]
    p02 = products[2, t, f] + products[6, t, f] + products[10, t, f]
    p03 = products[3, t, f] + products[7, t, f] + products[11, t, f]
    p10 = products[4, t, f] - products[8, t, f] - products[12, t, f]
    p11 = products[5, t, f] - products[9, t, f] - products[13, t, f]
    p12 = products[6, t, f] - products[10, t, f] - products[14, t, f]
    p13 = products[7, t, f] - products[11, t, f] - products[15, t, f]
    return (p00 + p01 + p02 + bias, p01 - p02 - p03 + bias,
            p10 + p11 + p12 + bias, p11 - p12 - p13 + bias)


@helper
def write_tile_gradient(grads, t, f, g00, g01, g10, g11, half):
    """``grads[:, t, f] = G' g G'^T`` for the 2x2 gradient ``g`` of one output tile
    (shared by the plain and the pooled convolution's backward)."""
    # G' g: [g0, (g0 + g1)/2, (g0 - g1)/2, -g1] down the rows
    h0, h1 = g00, g01
    h2, h3 = (g00 + g10) * half, (g01 + g11) * half
    h4, h5 = (g00 - g10) * half, (g01 - g11) * half
    h6, h7 = -g10, -g11
    # (G' g) G'^T: the same along the columns
    put_g(grads, 0, t, f, h0, h1, half)
    put_g(grads, 4, t, f, h2, h3, half)
    put_g(grads, 8, t, f, h4, h5, half)
    put_g(grads, 12, t, f, h6, h7, half)


@kernel
def input_tiles(padded, tiles_h, tiles_w, inputs):
    """``inputs[k, t, c] = (B^T d B)[k]`` for the 4x4 patch ``d`` at ``(2a, 2b)`` of tile
    ``t = (image, a, b)``: ``padded (n, >= 2 tiles_h + 2, >= 2 tiles_w + 2, c)``."""
    per_image = tiles_h * tiles_w
    channels = padded.shape[3]
    for t in prange(padded.shape[0] * per_image):
        b, a, q = tile_position(t, tiles_w, per_image)
        r, s = 2 * a, 2 * q
        for ch in range(channels):
            # B^T d: the rows combined, column by column
            e00, e10, e20, e30 = column_bt(padded, b, r, s, ch)
            e01, e11, e21, e31 = column_bt(padded, b, r, s + 1, ch)
            e02, e12, e22, e32 = column_bt(padded, b, r, s + 2, ch)
            e03, e13, e23, e33 = column_bt(padded, b, r, s + 3, ch)
            # (B^T d) B: the columns combined, row by row
            put_bt(inputs, 0, t, ch, e00, e01, e02, e03)
            put_bt(inputs, 4, t, ch, e10, e11, e12, e13)
            put_bt(inputs, 8, t, ch, e20, e21, e22, e23)
            put_bt(inputs, 12, t, ch, e30, e31, e32, e33)


@kernel
def output_tiles(products, bias, tiles_h, tiles_w, out):
    """``out[2x2 tile t] = A^T M A + bias``, ``products (16, tiles, f)``; the pixels of
    edge tiles past ``out``'s last row or column are dropped."""
    per_image = tiles_h * tiles_w
    rows, cols, filters = out.shape[1], out.shape[2], out.shape[3]
    for t in prange(out.shape[0] * per_image):
        b, r, s, two_rows, two_cols = tile_origin(t, tiles_w, per_image, rows, cols)
        for f in range(filters):
            y00, y01, y10, y11 = tile_output(products, t, f, bias[f])
            out[b, r, s, f] = y00
            if two_cols:
                out[b, r, s + 1, f] = y01
            if two_rows:
                out[b, r + 1, s, f] = y10
                if two_cols:
                    out[b, r + 1, s + 1, f] = y11


@kernel
def grad_tiles(dz, tiles_h, tiles_w, half, grads):
    """``grads[k, t, f] = (G' g G'^T)[k]`` for the 2x2 tile ``g`` of the output gradient
    ``dz (n, rows, cols, f)`` (zeros past its last row or column); ``half``: 0.5 in the
    arrays' dtype (a Python 0.5 would make numba compute float32 tiles in float64)."""
    zero = half - half
    per_image = tiles_h * tiles_w
    rows, cols, filters = dz.shape[1], dz.shape[2], dz.shape[3]
    for t in prange(dz.shape[0] * per_image):
        b, r, s, two_rows, two_cols = tile_origin(t, tiles_w, per_image, rows, cols)
        for f in range(filters):
            g00 = dz[b, r, s, f]
            g01 = dz[b, r, s + 1, f] if two_cols else zero
            g10 = dz[b, r + 1, s, f] if two_rows else zero
            g11 = dz[b, r + 1, s + 1, f] if two_rows and two_cols else zero
            write_tile_gradient(grads, t, f, g00, g01, g10, g11, half)


@kernel
def pooled_output_tiles(products, bias, tiles_h, tiles_w, out, offsets, keep):
    """``out[b, a, q] = max of the 2x2 tile (a, q) of A^T M A + bias``, and with
    ``keep`` the offset of its first maximum (row-major 0-3, as max pooling routes
    ties); ``out (n, rows // 2, cols // 2, f)``: an odd last tile row is dropped."""
    per_image = tiles_h * tiles_w
    pooled_rows, pooled_cols, filters = out.shape[1], out.shape[2], out.shape[3]
    for t in prange(out.shape[0] * per_image):
        b, a, q = tile_position(t, tiles_w, per_image)
        if a >= pooled_rows or q >= pooled_cols:
            continue
        for f in range(filters):
            y00, y01, y10, y11 = tile_output(products, t, f, bias[f])
            best, k = first_max(y00, y01, y10, y11)
            out[b, a, q, f] = best
            if keep:
                offsets[b, a, q, f] = k


@kernel
def pooled_grad_tiles(dy, offsets, tiles_h, tiles_w, half, grads, padded, top, left,
                      write_padded):
    """``grad_tiles`` of the convolution's gradient, which is ``dy[b, a, q]`` at each
    window's first maximum and zero elsewhere (and zero in an odd last tile row);
    with ``write_padded`` that gradient is also written into ``padded`` at
    ``(top, left)`` (for the input gradient)."""
    per_image = tiles_h * tiles_w
    pooled_rows, pooled_cols, filters = dy.shape[1], dy.shape[2], dy.shape[3]
    zero = half - half
    for t in prange(dy.shape[0] * per_image):
        b, a, q = tile_position(t, tiles_w, per_image)
        if a >= pooled_rows or q >= pooled_cols:  # an odd last row or column of tiles
            for k in range(16):
                for f in range(filters):
                    grads[k, t, f] = zero
            continue
        # the loops over filters hold no branch (selects only), so they vectorize
        for f in range(filters):
            g, k = dy[b, a, q, f], offsets[b, a, q, f]
            g00, g01, g10, g11 = routed(g, k, zero)
            write_tile_gradient(grads, t, f, g00, g01, g10, g11, half)
        if write_padded:
            r, s = top + 2 * a, left + 2 * q
            for f in range(filters):
                g, k = dy[b, a, q, f], offsets[b, a, q, f]
                (padded[b, r, s, f], padded[b, r, s + 1, f], padded[b, r + 1, s, f],
                 padded[b, r + 1, s + 1, f]) = routed(g, k, zero)
