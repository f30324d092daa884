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


FILL_MODES = ("reflect", "wrap", "constant", "nearest")


def _map_coordinate(coord, size, fill_mode):
    """Brings a sampling coordinate into [0, size - 1] per ``fill_mode``, as
    TensorFlow's ImageProjectiveTransform does (constant: unchanged, out of range
    reads give the fill value)."""
    if fill_mode == "constant" or size <= 1:
        return coord if fill_mode == "constant" else np.zeros_like(coord)
    if fill_mode == "nearest":
        return np.clip(coord, 0, size - 1)
    if fill_mode == "wrap":
        span = size - 1
        out = coord.copy()
        low, high = coord < 0, coord > span
        out[low] += size * (np.trunc(-coord[low] / span) + 1)
        out[high] -= size * np.trunc(coord[high] / span)
        return np.clip(out, 0, span)
    # reflect: d c b a | a b c d | d c b a
    double = 2 * size
    out = coord.copy()
    low = out < 0
    far = low & (out < -double)
    out[far] += double * np.trunc(-out[far] / double)
    out[low] = np.where(out[low] < -size, out[low] + double, -out[low] - 1)
    high = out > size - 1
    out[high] -= double * np.trunc(out[high] / double)
    over = high & (out >= size)
    out[over] = double - out[over] - 1
    return np.clip(out, 0, size - 1)


def affine_sampling(shape, transforms, interpolation="bilinear", fill_mode="reflect"):
    """Where each output pixel reads the input: ``(index, weight)`` pairs.

    Args:
        shape: the images' (batch, rows, cols, channels).
        transforms: (batch, 8) ``[a0, a1, a2, b0, b1, b2, c0, c1]``; output pixel
            (x=col, y=row) reads input ``((a0 x + a1 y + a2) / k, (b0 x + b1 y + b2) / k)``,
            ``k = c0 x + c1 y + 1``.

    Returns:
        ``(flat_index, weight, valid)`` of shape (corners, batch, rows, cols): the
        flat (batch, row, col) index read, its weight, and whether it is inside the
        image (outside reads give the fill value).
    """
    n, rows, cols, _ = shape
    y, x = np.meshgrid(np.arange(rows, dtype=np.float64), np.arange(cols, dtype=np.float64),
                       indexing="ij")
    t = np.asarray(transforms, np.float64)[:, :, None, None]
    k = t[:, 6] * x + t[:, 7] * y + 1.0
    src_x = _map_coordinate((t[:, 0] * x + t[:, 1] * y + t[:, 2]) / k, cols, fill_mode)
    src_y = _map_coordinate((t[:, 3] * x + t[:, 4] * y + t[:, 5]) / k, rows, fill_mode)
    batch = np.arange(n)[:, None, None]
    if interpolation == "nearest":
        # std::round: halves away from zero
        corners = [(np.sign(src_y) * np.floor(np.abs(src_y) + 0.5),
                    np.sign(src_x) * np.floor(np.abs(src_x) + 0.5), np.ones_like(src_x))]
    else:
        y0, x0 = np.floor(src_y), np.floor(src_x)
        dy, dx = src_y - y0, src_x - x0
        corners = [(y0, x0, (1 - dy) * (1 - dx)), (y0, x0 + 1, (1 - dy) * dx),
                   (y0 + 1, x0, dy * (1 - dx)), (y0 + 1, x0 + 1, dy * dx)]
    index, weight, valid = [], [], []
    for cy, cx, w in corners:
        inside = (cy >= 0) & (cy <= rows - 1) & (cx >= 0) & (cx <= cols - 1)
        iy = np.clip(cy, 0, rows - 1).astype(np.int64)
        ix = np.clip(cx, 0, cols - 1).astype(np.int64)
        index.append((batch * rows + iy) * cols + ix)
        weight.append(w)
        valid.append(inside)
    return np.stack(index), np.stack(weight), np.stack(valid)


def affine_transform_forward(images, sampling, fill_value=0.0):
    """Applies a sampling from ``affine_sampling`` to ``images`` (batch, rows, cols, ch)."""
    index, weight, valid = sampling
    flat = images.reshape(-1, images.shape[-1])
    out = np.zeros(index.shape[1:] + (images.shape[-1],), np.float64)
    for i, w, v in zip(index, weight, valid):
        out += (w * v)[..., None] * flat[i] + (w * ~v)[..., None] * fill_value
    return out.astype(images.dtype, copy=False)


def affine_transform_backward(grad_output, sampling):
    """dL/dimages from dL/doutputs through the same sampling (the fill value is a
    constant: no gradient)."""
    index, weight, valid = sampling
    channels = grad_output.shape[-1]
    n, rows, cols = index.shape[1:]
    dx = np.zeros((n * rows * cols, channels), np.float64)
    for i, w, v in zip(index, weight, valid):
        np.add.at(dx, i.ravel(), ((w * v)[..., None] * grad_output).reshape(-1, channels))
    return dx.reshape(grad_output.shape).astype(grad_output.dtype, copy=False)
