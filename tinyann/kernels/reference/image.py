"""Image resizing as TensorFlow's ``tf.image.resize`` does it, and affine transforms
with its fill modes (ImageProjectiveTransform).

Every interpolation is separable and linear: the output is ``R @ image @ C^T`` per
channel, with ``R`` (out_rows, in_rows) and ``C`` (out_cols, in_cols) weight matrices,
so the backward pass is the same product with the matrices transposed.
"""

from __future__ import annotations

import numpy as np

INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area", "lanczos3", "lanczos5")

# TensorFlow's legacy bicubic op evaluates its kernel from a table of this many steps
# per pixel: the fractional position is rounded to 1/1024 (computed exactly instead,
# outputs differ from TensorFlow's by 5e-4 of the pixel range)
_CUBIC_TABLE_STEPS = 1024


def _keys_cubic(x):
    """Keys's cubic convolution kernel with a = -0.5 (support |x| < 2)."""
    x = np.abs(x)
    near = ((1.5 * x - 2.5) * x) * x + 1.0
    far = ((-0.5 * x + 2.5) * x - 4.0) * x + 2.0
    return np.where(x < 1.0, near, np.where(x < 2.0, far, 0.0))


def _triangle(x):
    return np.maximum(0.0, 1.0 - np.abs(x))


def _lanczos(radius):
    def kernel(x):
        # sinc(x) * sinc(x / radius) inside the radius
        return np.where(np.abs(x) < radius, np.sinc(x) * np.sinc(x / radius), 0.0)
    return kernel


# the kernels of TensorFlow's ScaleAndTranslate op: name -> (kernel, radius)
_KERNELS = {"bilinear": (_triangle, 1), "bicubic": (_keys_cubic, 2),
            "lanczos3": (_lanczos(3), 3), "lanczos5": (_lanczos(5), 5)}


def _normalised(weights):
    """Rows scaled to sum to 1 (taps outside the image were dropped)."""
    return weights / weights.sum(axis=1, keepdims=True)


def resize_weights(in_size, out_size, interpolation, antialias=False, dtype=np.float64):
    """The (out_size, in_size) matrix mapping one image axis to its resized axis.

    Output pixel ``o`` is centred on input position ``s = (o + 0.5) * in_size / out_size``
    (pixel ``i`` covers ``[i, i + 1)``), as TensorFlow with half-pixel centers:

    * nearest: input ``floor(s)`` (the position computed in float32, as TensorFlow),
      clamped to the last pixel;
    * bilinear, lanczos3, lanczos5 (and bicubic with ``antialias``): the kernel
      ``k((i + 0.5 - s) / m)`` over the input pixels ``i``, rows normalised to sum 1,
      where ``m = max(in_size / out_size, 1)`` with ``antialias`` (the kernel widened
      when shrinking) and 1 without;
    * bicubic: Keys's cubic (a = -0.5) at the 4 pixels around ``s - 0.5``, its
      fraction rounded to 1/1024 (TensorFlow's table), taps outside the image dropped
      and the rest normalised;
    * area: each output pixel is the mean of the input span
      ``[o, o + 1) * in_size / out_size`` (partly covered pixels weighted by their cover).

    ``antialias`` changes only the kernel-based interpolations (as tf.image.resize).
    """
    if interpolation not in INTERPOLATIONS:
        raise ValueError(f"Unknown interpolation {interpolation!r}: expected one of "
                         f"{INTERPOLATIONS}")
    out = np.arange(out_size)
    source = np.arange(in_size)
    if interpolation == "nearest":
        scale = np.float32(in_size) / np.float32(out_size)
        pos = np.floor((out.astype(np.float32) + np.float32(0.5)) * scale).astype(np.int64)
        weights = np.zeros((out_size, in_size), dtype)
        weights[out, np.minimum(pos, in_size - 1)] = 1.0
        return weights
    scale = in_size / out_size
    if interpolation == "area":
        low, high = out[:, None] * scale, (out[:, None] + 1) * scale
        cover = np.minimum(high, source + 1.0) - np.maximum(low, source)
        return (np.maximum(cover, 0.0) / scale).astype(dtype)
    centre = (out[:, None] + 0.5) * scale
    if interpolation == "bicubic" and not antialias:
        pos = (out.astype(np.float32) + np.float32(0.5)) * np.float32(scale) - np.float32(0.5)
        base = np.floor(pos)
        step = np.rint((pos - base) * _CUBIC_TABLE_STEPS) / _CUBIC_TABLE_STEPS
        offset = source[None, :] - base[:, None]  # tap i sits at distance offset - step
        weights = np.where((offset >= -1) & (offset <= 2),
                           _keys_cubic(offset - step[:, None]), 0.0)
        return _normalised(weights).astype(dtype)
    kernel, _ = _KERNELS[interpolation]
    widen = max(scale, 1.0) if antialias else 1.0
    weights = kernel((source[None, :] + 0.5 - centre) / widen)
    return _normalised(weights).astype(dtype)


def resize_forward(images, height, width, interpolation="bilinear", antialias=False):
    """Resizes ``images`` (batch, rows, cols, channels) to (batch, height, width, channels)."""
    r = resize_weights(images.shape[1], height, interpolation, antialias, images.dtype)
    c = resize_weights(images.shape[2], width, interpolation, antialias, images.dtype)
    return np.einsum("oh,nhwc,pw->nopc", r, images, c, optimize=True)


def resize_backward(grad_output, input_shape, interpolation="bilinear", antialias=False):
    """dL/dimages (``input_shape``) from dL/doutputs (batch, height, width, channels)."""
    _, height, width, _ = grad_output.shape
    r = resize_weights(input_shape[1], height, interpolation, antialias, grad_output.dtype)
    c = resize_weights(input_shape[2], width, interpolation, antialias, grad_output.dtype)
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
