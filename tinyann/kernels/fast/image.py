"""Image resizing and affine transforms, fast: the reference's math and signatures.

Resizing: the weight matrices of an (in size, out size, interpolation) are made once
and kept (a model resizes same-sized batches every step); each axis is one BLAS
product in the images' dtype, the axis that shrinks the data most first, and an
axis whose size does not change is skipped (its matrix is the identity, for every
interpolation). Nearest neighbour gathers instead of multiplying.

Affine transforms: the sampling keeps one weight per corner with the outside reads
already zeroed and their total weight per pixel (which the fill value multiplies),
so the forward pass is one multiply-add per corner; the backward pass scatters with
``np.bincount`` (a sum per index, an order of magnitude faster than ``np.add.at``).

Measured (one thread, float32, min of 9 runs, a busy 2-core machine), against the
reference: sampling + forward + backward of 32 rotated 64x64x3 images, bilinear 42
against 158 ms, nearest 15 against 23 ms; resize forward + backward, 64 28x28x1
images to 32x32 nearest 0.14 against 0.46 ms, 32 32x32x3 images to 32x48 lanczos3
0.6 against 1.1 ms; large images are BLAS-bound in both sets (32 64x64x3 images to
128x128 bilinear about 37 ms each), which the compiled set's banded sums cut to 4.5.
"""

from __future__ import annotations

import functools

import numpy as np

from tinyann.kernels.reference import image as reference


@functools.lru_cache(maxsize=64)
def resize_matrix(in_size, out_size, interpolation, antialias, dtype):
    """The reference's (out_size, in_size) matrix, kept (read-only); ``dtype`` a
    NumPy dtype string such as ``'<f4'``."""
    weights = reference.resize_weights(in_size, out_size, interpolation, antialias,
                                       np.dtype(dtype))
    weights.setflags(write=False)
    return weights


def _weights(in_size, out_size, interpolation, antialias, dtype):
    """``resize_matrix``, or None for the identity: when the size does not change,
    half-pixel centers fall on the input's centres and every kernel weighs one pixel
    (tests/kernels/test_fast_matches_reference.py checks it for each interpolation)."""
    if in_size == out_size:
        return None
    return resize_matrix(in_size, out_size, interpolation, antialias, dtype)


@functools.lru_cache(maxsize=64)
def _nearest(in_size, out_size):
    """The input index each output index reads (nearest neighbour), kept."""
    weights = reference.resize_weights(in_size, out_size, "nearest")
    return np.argmax(weights, axis=1)


def _rows(x, r):
    """(n, h, w, c) -> (n, H, w, c) with ``r`` (H, h): one product per image."""
    n, h, w, c = x.shape
    return np.matmul(r, x.reshape(n, h, w * c)).reshape(n, r.shape[0], w, c)


def _cols(x, c_matrix):
    """(n, h, w, c) -> (n, h, W, c) with ``c_matrix`` (W, w): one product for all."""
    n, h, w, c = x.shape
    flat = np.ascontiguousarray(x.transpose(0, 1, 3, 2)).reshape(-1, w)
    out = (flat @ c_matrix.T).reshape(n, h, c, c_matrix.shape[0])
    return out.transpose(0, 1, 3, 2)


def _separable(x, r, c_matrix):
    """``r @ x @ c_matrix^T`` over each image's rows and columns (None: unchanged)."""
    if r is not None and c_matrix is not None:
        # the axis that shrinks the data more (or grows it less) goes first
        if r.shape[0] * x.shape[2] <= x.shape[1] * c_matrix.shape[0]:
            return _cols(_rows(x, r), c_matrix)
        return _rows(_cols(x, c_matrix), r)
    if r is not None:
        return _rows(x, r)
    if c_matrix is not None:
        return _cols(x, c_matrix)
    return x.copy()


def resize_forward(images, height, width, interpolation="bilinear", antialias=False):
    """Resizes ``images`` (batch, rows, cols, channels) to (batch, height, width, channels)."""
    _, rows, cols, _ = images.shape
    if interpolation == "nearest":
        out = np.take(images, _nearest(rows, height), axis=1)
        return np.ascontiguousarray(np.take(out, _nearest(cols, width), axis=2))
    dtype = images.dtype.str
    r = _weights(rows, height, interpolation, antialias, dtype)
    c = _weights(cols, width, interpolation, antialias, dtype)
    return np.ascontiguousarray(_separable(images, r, c))


def resize_backward(grad_output, input_shape, interpolation="bilinear", antialias=False):
    """dL/dimages (``input_shape``) from dL/doutputs (batch, height, width, channels)."""
    _, height, width, _ = grad_output.shape
    dtype = grad_output.dtype.str
    r = _weights(input_shape[1], height, interpolation, antialias, dtype)
    c = _weights(input_shape[2], width, interpolation, antialias, dtype)
    return np.ascontiguousarray(_separable(grad_output, None if r is None else r.T,
                                           None if c is None else c.T))


def affine_sampling(shape, transforms, interpolation="bilinear", fill_mode="reflect"):
    """The reference's sampling as ``(flat_index, weight, outside)``: the weight of an
    outside read is 0, ``outside`` (batch, rows, cols) the weight the fill value gets."""
    index, weight, valid = reference.affine_sampling(shape, transforms, interpolation,
                                                     fill_mode)
    outside = np.sum(weight * ~valid, axis=0)
    return index, weight * valid, outside


def affine_transform_forward(images, sampling, fill_value=0.0):
    """Applies a sampling from ``affine_sampling`` to ``images`` (batch, rows, cols, ch)."""
    index, weight, outside = sampling
    flat = images.reshape(-1, images.shape[-1])
    dtype = images.dtype
    out = (outside.astype(dtype) * dtype.type(fill_value))[..., None]
    out = np.broadcast_to(out, index.shape[1:] + (images.shape[-1],)).copy()
    for i, w in zip(index, weight):
        out += w.astype(dtype)[..., None] * flat[i]
    return out


def affine_transform_backward(grad_output, sampling):
    """dL/dimages from dL/doutputs through the same sampling (the fill value is a
    constant: no gradient)."""
    index, weight, _ = sampling
    channels = grad_output.shape[-1]
    size = int(np.prod(grad_output.shape[:-1]))
    flat_index = index.reshape(-1)
    g = grad_output.reshape(1, size, channels)
    # every corner's contribution to every channel, one scatter per channel
    contributions = weight.reshape(-1, size, 1) * g
    dx = np.empty((size, channels), grad_output.dtype)
    for ch in range(channels):
        dx[:, ch] = np.bincount(flat_index, weights=contributions[..., ch].reshape(-1),
                                minlength=size)
    return dx.reshape(grad_output.shape)
