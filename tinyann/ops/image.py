"""``keras.ops.image``: resize, crop and pad, and colour conversions on batches of
images (batch, height, width, channels) or single images (height, width, channels).

``resize`` is linear in the image: out = R · image · Cᵀ along the two spatial axes, R
and C the interpolation weights of ``tinyann.kernels.reference.image.resize_weights``.
Its gradient is the transposed map Rᵀ · g · C, recorded as an op itself, so both are
differentiable any number of times. Crop and pad are slices and pads (their gradients
are pads and slices).
"""

from __future__ import annotations

import numpy as np

from tinyann.ops import arrays as _arrays
from tinyann.ops import numpy as knp
from tinyann.ops.core import cast as _cast
from tinyann.ops.core import value_of as _v
from tinyann.ops.numpy import _rec

__all__ = ["resize", "rgb_to_grayscale", "crop_images", "pad_images"]


def _channels_last(images, data_format, name):
    """``images`` as 4-D channels-last, and a function undoing both changes."""
    fmt = data_format or "channels_last"
    if fmt not in ("channels_last", "channels_first"):
        raise ValueError(f"Argument `data_format` must be 'channels_last' or 'channels_first'. "
                         f"Received: data_format={data_format!r}")
    ndim = np.ndim(_v(images))
    if ndim not in (3, 4):
        raise ValueError(f"Invalid images rank for {name}: expected rank 3 (single image) or "
                         f"rank 4 (batch of images). Received: images.shape="
                         f"{np.shape(_v(images))}")
    x = images if ndim == 4 else knp.expand_dims(images, 0)
    if fmt == "channels_first":
        x = knp.transpose(x, (0, 2, 3, 1))

    def back(y):
        if fmt == "channels_first":
            y = knp.transpose(y, (0, 3, 1, 2))
        return y if ndim == 4 else knp.squeeze(y, 0)
    return x, back


# ---------------------------------------------------------------------- resize
def _apply_weights(images, r, c):
    """R · images · Cᵀ over (rows, cols); its transpose is ``_apply_weights_t``."""
    value = np.einsum("oh,nhwc,pw->nopc", r, np.asarray(_v(images)), c, optimize=True)
    # d(R X Cᵀ)/dX applied to g: Rᵀ g C
    return _rec(value, (images,), lambda g: (_apply_weights_t(g, r, c),))


def _apply_weights_t(g, r, c):
    """Rᵀ · g · C (the resize's gradient); its own gradient is the resize again."""
    value = np.einsum("oh,nopc,pw->nhwc", r, np.asarray(_v(g)), c, optimize=True)
    return _rec(value, (g,), lambda h: (_apply_weights(h, r, c),))


def resize(images, size, interpolation="bilinear", antialias=False,
           crop_to_aspect_ratio=False, pad_to_aspect_ratio=False, fill_mode="constant",
           fill_value=0.0, data_format=None):
    """Resizes ``images`` to ``size = (height, width)``.

    Interpolations: bilinear, nearest, bicubic, area, lanczos3, lanczos5 (half-pixel
    centres, as tf.image.resize / jax.image.resize). ``crop_to_aspect_ratio`` first
    crops the largest centred window of the target's aspect ratio;
    ``pad_to_aspect_ratio`` first pads with ``fill_value`` to it.
    """
    from tinyann.kernels.reference import image as ref

    if interpolation not in ref.INTERPOLATIONS:
        raise ValueError(f"Invalid value for argument `interpolation`. Expected one of "
                         f"{ref.INTERPOLATIONS}. Received: interpolation={interpolation!r}")
    if len(tuple(size)) != 2 or any(int(s) <= 0 for s in size):
        raise ValueError(f"Argument `size` must be a tuple of two positive integers "
                         f"(height, width). Received: size={size!r}")
    if crop_to_aspect_ratio and pad_to_aspect_ratio:
        raise ValueError("Only one of `crop_to_aspect_ratio` and `pad_to_aspect_ratio` can "
                         "be True.")
    if fill_mode != "constant":
        raise ValueError(f"Argument `fill_mode` only supports 'constant'. "
                         f"Received: fill_mode={fill_mode!r}")
    height, width = int(size[0]), int(size[1])
    x, back = _channels_last(images, data_format, "resize")
    dtype = np.asarray(_v(x)).dtype
    if not np.issubdtype(dtype, np.floating):
        x = _cast(x, "float32")   # integer images: resized in float32, rounded back
    _, h, w, _ = np.shape(_v(x))
    if crop_to_aspect_ratio:
        ch, cw = min(h, int(w * height / width)), min(w, int(h * width / height))
        ch, cw = max(ch, 1), max(cw, 1)
        top, left = (h - ch) // 2, (w - cw) // 2
        x = _arrays.slice(x, (0, top, left, 0), (np.shape(_v(x))[0], ch, cw, np.shape(_v(x))[3]))
        h, w = ch, cw
    elif pad_to_aspect_ratio:
        ph, pw = max(h, int(w * height / width)), max(w, int(h * width / height))
        top, left = (ph - h) // 2, (pw - w) // 2
        x = _arrays.pad(x, ((0, 0), (top, ph - h - top), (left, pw - w - left), (0, 0)),
                        constant_values=fill_value)
        h, w = ph, pw
    fdt = np.asarray(_v(x)).dtype
    r = ref.resize_weights(h, height, interpolation, antialias, fdt)
    c = ref.resize_weights(w, width, interpolation, antialias, fdt)
    out = _apply_weights(x, r, c)
    if not np.issubdtype(dtype, np.floating):
        from tinyann.autodiff import Tensor
        lo, hi = (np.iinfo(dtype).min, np.iinfo(dtype).max) if dtype != np.bool_ else (0, 1)
        out = Tensor(np.clip(np.round(out.numpy()), lo, hi).astype(dtype))
    return back(out)


# ---------------------------------------------------------------------- colour
_GRAY = (0.2989, 0.5870, 0.1140)   # ITU-R 601 luma weights, as tf.image.rgb_to_grayscale


def rgb_to_grayscale(images, data_format=None):
    """0.2989 R + 0.5870 G + 0.1140 B, keeping a channel axis of size 1 (integer
    images stay of their dtype)."""
    x, back = _channels_last(images, data_format, "rgb_to_grayscale")
    if np.shape(_v(x))[-1] != 3:
        raise ValueError(f"rgb_to_grayscale expects 3 channels (RGB). Received: images.shape="
                         f"{np.shape(_v(images))}")
    dtype = np.asarray(_v(x)).dtype
    if np.issubdtype(dtype, np.floating):
        weights = np.asarray(_GRAY, dtype=dtype)
        return back(knp.sum(knp.multiply(x, weights), axis=-1, keepdims=True))
    from tinyann.autodiff import Tensor
    gray = np.sum(np.asarray(_v(x), np.float32) * np.asarray(_GRAY, np.float32), axis=-1,
                  keepdims=True)
    return back(Tensor(gray.astype(dtype)))


# ---------------------------------------------------------------------- crop, pad
def _sides(start, end, target, size, what, kind):
    """(start, end) amounts from ``start`` plus either ``end`` or the ``target`` size."""
    start = 0 if start is None else int(start)
    if end is not None and target is not None:
        raise ValueError(f"Only one of `bottom_{kind}`/`right_{kind}` and `target_{what}` "
                         f"can be given per axis. Received: both")
    if target is not None:
        end = (size - start - int(target)) if kind == "cropping" else \
            (int(target) - size - start)
    end = 0 if end is None else int(end)
    if start < 0 or end < 0:
        raise ValueError(f"The {kind} along the {what} must be non-negative. Received: "
                         f"{start} before and {end} after (image {what} {size})")
    return start, end


def crop_images(images, top_cropping=None, left_cropping=None, bottom_cropping=None,
                right_cropping=None, target_height=None, target_width=None, data_format=None):
    """Crops ``top_cropping`` rows from the top and ``left_cropping`` columns from the
    left, then either ``bottom``/``right_cropping`` more or down to ``target_height`` x
    ``target_width``."""
    x, back = _channels_last(images, data_format, "crop_images")
    _, h, w, _ = np.shape(_v(x))
    top, bottom = _sides(top_cropping, bottom_cropping, target_height, h, "height", "cropping")
    left, right = _sides(left_cropping, right_cropping, target_width, w, "width", "cropping")
    if top + bottom >= h or left + right >= w:
        raise ValueError(f"The cropping leaves no pixels: image of height {h}, width {w}; "
                         f"cropping top={top}, bottom={bottom}, left={left}, right={right}")
    return back(_arrays.slice(x, (0, top, left, 0),
                              (np.shape(_v(x))[0], h - top - bottom, w - left - right,
                               np.shape(_v(x))[3])))


def pad_images(images, top_padding=None, left_padding=None, bottom_padding=None,
               right_padding=None, target_height=None, target_width=None, data_format=None):
    """Pads with zeros: ``top_padding`` rows above and ``left_padding`` columns left,
    then either ``bottom``/``right_padding`` more or up to ``target_height`` x
    ``target_width``."""
    x, back = _channels_last(images, data_format, "pad_images")
    _, h, w, _ = np.shape(_v(x))
    top, bottom = _sides(top_padding, bottom_padding, target_height, h, "height", "padding")
    left, right = _sides(left_padding, right_padding, target_width, w, "width", "padding")
    return back(_arrays.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0))))
