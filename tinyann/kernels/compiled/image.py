"""Image resizing (numba): each axis a banded sum over the few input pixels its kernel
reaches, instead of the NumPy set's dense products.

A resize matrix (out, in) has at most ``taps`` nonzero weights a row: 1 for nearest,
2 for bilinear, 4 for bicubic, 6 and 10 for lanczos (more when antialiasing or area
shrink by a large factor). The NumPy set multiplies by the whole matrix, ``in`` terms
an output pixel; here each row is ``(index, weight)`` pairs and an output pixel sums
``taps`` of them: rows first, then columns, the innermost loop over contiguous
pixels, so it vectorizes. Backward is the same kernel with the pairs of the
transposed matrix (an input pixel gathers from the outputs that read it), so every
thread writes its own rows. Affine transforms come from the NumPy set.

Shapes: ``x (n, h, w, c)`` C-contiguous floats; the ops take what the reference takes.
"""

from __future__ import annotations

import functools

import numpy as np

from tinyann.kernels.fast import image as numpy_image
from tinyann.kernels.jit import kernel, prange


@functools.lru_cache(maxsize=64)
def _taps(in_size, out_size, interpolation, antialias, dtype, transposed):
    """The resize matrix (or its transpose) as ``(index, weight)``, each (rows, taps):
    row ``o`` is ``sum_t weight[o, t] * x[index[o, t]]`` (padding pairs weigh 0)."""
    matrix = numpy_image.resize_matrix(in_size, out_size, interpolation, antialias, dtype)
    if transposed:
        matrix = matrix.T
    taps = max(int(np.count_nonzero(matrix, axis=1).max()), 1)
    # the nonzero columns of each row first (a stable sort keeps them in order)
    index = np.argsort(matrix == 0, axis=1, kind="stable")[:, :taps]
    weight = np.ascontiguousarray(np.take_along_axis(matrix, index, axis=1))
    index = np.ascontiguousarray(index.astype(np.int64))
    index.setflags(write=False)  # kept: shared by every call
    weight.setflags(write=False)
    return index, weight


@kernel
def resize_rows(x, index, weight, out):
    """``out[b, o] = sum_t weight[o, t] * x[b, index[o, t]]`` over whole image rows."""
    n, rows = out.shape[0], out.shape[1]
    width = out.shape[2] * out.shape[3]
    src = x.reshape((x.shape[0], x.shape[1], width))
    dst = out.reshape((n, rows, width))
    for r in prange(n * rows):
        b, o = r // rows, r % rows
        for k in range(width):
            dst[b, o, k] = weight[o, 0] * src[b, index[o, 0], k]
        for t in range(1, index.shape[1]):
            i, w = index[o, t], weight[o, t]
            for k in range(width):
                dst[b, o, k] += w * src[b, i, k]


@kernel
def resize_cols(x, index, weight, out):
    """``out[b, r, p] = sum_t weight[p, t] * x[b, r, index[p, t]]`` (each pixel's
    channels together)."""
    n, rows, cols, channels = out.shape
    for r in prange(n * rows):
        b, y = r // rows, r % rows
        for p in range(cols):
            for ch in range(channels):
                out[b, y, p, ch] = weight[p, 0] * x[b, y, index[p, 0], ch]
            for t in range(1, index.shape[1]):
                j, w = index[p, t], weight[p, t]
                for ch in range(channels):
                    out[b, y, p, ch] += w * x[b, y, j, ch]


# where the banded sums pay (measured, one thread, float32, min of 9 runs): from about
# 2**18 output values (32 x 64x64x3 -> 128x128 bilinear, forward + backward: 4.3
# against 16 ms; 8 x 224x224x3 -> 112x112 bicubic 3.1 against 11 ms), with at most
# 8 taps a row (lanczos3 with antialias shrinking 224 -> 64 has 23: 7.1 against 6.3
# ms); small images pay the threads' start more than they save (28x28: 0.3 against
# 0.15 ms), so they stay with the NumPy set's products
_MIN_VALUES = 2**18
_MAX_TAPS = 8


def _plan(shape, dtype, rows, cols, interpolation, antialias, transposed):
    """The ``(index, weight)`` pairs of each axis that changes (None: unchanged), or
    None when the NumPy set is faster for this resize."""
    n, h, w, c = shape
    if n * max(h, rows) * max(w, cols) * c < _MIN_VALUES:
        return None
    row_pairs = col_pairs = None
    if h != rows:
        # transposed: the forward pass mapped `rows` input rows to `h` output rows
        sizes = (rows, h) if transposed else (h, rows)
        row_pairs = _taps(*sizes, interpolation, antialias, dtype, transposed)
    if w != cols:
        sizes = (cols, w) if transposed else (w, cols)
        col_pairs = _taps(*sizes, interpolation, antialias, dtype, transposed)
    if any(p is not None and p[0].shape[1] > _MAX_TAPS for p in (row_pairs, col_pairs)):
        return None
    return row_pairs, col_pairs


def _resize(x, rows, cols, pairs):
    """``x`` (n, h, w, c) resized to ``rows x cols`` by the pairs of ``_plan``."""
    x = np.ascontiguousarray(x)
    n, _, w, c = x.shape
    row_pairs, col_pairs = pairs
    if row_pairs is not None:
        out = np.empty((n, rows, w, c), x.dtype)
        resize_rows(x, *row_pairs, out)
        x = out
    if col_pairs is not None:
        out = np.empty((n, rows, cols, c), x.dtype)
        resize_cols(x, *col_pairs, out)
        x = out
    return x


def resize_forward(images, height, width, interpolation="bilinear", antialias=False):
    """As the reference's: (batch, rows, cols, ch) -> (batch, height, width, ch)."""
    pairs = None
    if images.dtype in (np.float32, np.float64) and images.shape[1:3] != (height, width):
        pairs = _plan(images.shape, images.dtype.str, height, width, interpolation,
                      antialias, False)
    if pairs is None:
        return numpy_image.resize_forward(images, height, width, interpolation, antialias)
    return _resize(images, height, width, pairs)


def resize_backward(grad_output, input_shape, interpolation="bilinear", antialias=False):
    """As the reference's: dL/dimages (``input_shape``) from dL/doutputs."""
    rows, cols = input_shape[1], input_shape[2]
    pairs = None
    if grad_output.dtype in (np.float32, np.float64) and grad_output.shape[1:3] != (
            rows, cols):
        pairs = _plan(grad_output.shape, grad_output.dtype.str, rows, cols, interpolation,
                      antialias, True)
    if pairs is None:
        return numpy_image.resize_backward(grad_output, input_shape, interpolation,
                                           antialias)
    return _resize(grad_output, rows, cols, pairs)
