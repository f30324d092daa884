"""Image resizing as TensorFlow does it (half-pixel centers, no antialiasing).

Both interpolations are separable: the output is ``R @ image @ C^T`` per channel,
with ``R`` (out_rows, in_rows) and ``C`` (out_cols, in_cols) weight matrices, so the
backward pass is the same product with the matrices transposed.
"""

from __future__ import annotations

import numpy as np

INTERPOLATIONS = ("bilinear", "nearest")


def resize_weights(in_size, out_size, interpolation, dtype=np.float64):
    """The (out_size, in_size) matrix mapping one image axis to its resized axis.

    Output pixel ``o`` samples the input at ``(o + 0.5) * in_size / out_size - 0.5``
    (half-pixel centers). Bilinear mixes the two neighbours (clamped at the edges);
    nearest takes ``floor((o + 0.5) * scale)``, clamped to the last pixel.
    """
    scale = in_size / out_size
    weights = np.zeros((out_size, in_size), dtype)
    rows = np.arange(out_size)
    if interpolation == "nearest":
        src = np.minimum(np.floor((rows + 0.5) * scale).astype(np.int64), in_size - 1)
        weights[rows, src] = 1.0
        return weights
    pos = (rows + 0.5) * scale - 0.5
    low = np.floor(pos)
    frac = pos - low
    lower = np.clip(low, 0, in_size - 1).astype(np.int64)
    upper = np.clip(low + 1, 0, in_size - 1).astype(np.int64)
    np.add.at(weights, (rows, lower), 1.0 - frac)
    np.add.at(weights, (rows, upper), frac)
    return weights


def resize_forward(images, height, width, interpolation="bilinear"):
    """Resizes ``images`` (batch, rows, cols, channels) to (batch, height, width, channels)."""
    r = resize_weights(images.shape[1], height, interpolation, images.dtype)
    c = resize_weights(images.shape[2], width, interpolation, images.dtype)
    return np.einsum("oh,nhwc,pw->nopc", r, images, c, optimize=True)


def resize_backward(grad_output, input_shape, interpolation="bilinear"):
    """dL/dimages (``input_shape``) from dL/doutputs (batch, height, width, channels)."""
    _, height, width, _ = grad_output.shape
    r = resize_weights(input_shape[1], height, interpolation, grad_output.dtype)
    c = resize_weights(input_shape[2], width, interpolation, grad_output.dtype)
    return np.einsum("oh,nopc,pw->nhwc", r, grad_output, c, optimize=True)
