"""Image preprocessing layers: Rescaling, Resizing and CenterCrop (Keras 3 on TensorFlow)."""

from __future__ import annotations

import numpy as np

from tinyann import kernels
from tinyann.autodiff.tensor import Tensor
from tinyann.layers.keras_tensor import is_symbolic
from tinyann.layers.layer import Layer

# Keras's interpolations on TensorFlow (tinyann computes them all)
INTERPOLATIONS = ("bilinear", "nearest", "lanczos3", "lanczos5", "bicubic", "area")


def _check_channels_last(data_format):
    if data_format not in (None, "channels_last"):
        raise ValueError("tinyann's image layers take channels_last images only. "
                         f"Received: data_format={data_format!r}")
    return "channels_last"


class Rescaling(Layer):
    """``inputs * scale + offset``, e.g. ``Rescaling(1 / 255)`` for pixels in [0, 1].

    Args:
        scale: float (or an array broadcast over the inputs).
        offset: float (or array), added after scaling.
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale
        self.offset = offset

    def call(self, inputs, training=False):
        dtype = inputs.dtype
        return (inputs * np.asarray(self.scale, dtype) + np.asarray(self.offset, dtype)
                ).astype(dtype, copy=False)

    def backward(self, grad_output):
        scale = np.asarray(self.scale, grad_output.dtype)
        dx = grad_output * scale
        # a scale broadcast over batch and channels leaves dx in the output's shape
        return dx.astype(grad_output.dtype, copy=False)

    def get_config(self):
        config = super().get_config()

        def plain(v):
            return np.asarray(v).tolist() if isinstance(v, np.ndarray) else v
        config.update(scale=plain(self.scale), offset=plain(self.offset))
        return config


def _as_batch(x):
    """A rank-3 image as a batch of one (rank 4 stays as it is)."""
    return x if x.ndim == 4 else x[None]


def _like(y, reference):
    """``y`` (a batch) back to the rank of ``reference``."""
    return y if len(reference.shape) == 4 else y[0]


def crop_box(rows, cols, height, width):
    """The centred window of ``rows x cols`` with the aspect ratio of ``height x width``
    (as large as fits): ``(top, left, crop_rows, crop_cols)``, Keras's arithmetic
    (TensorFlow's float32 quotient truncates alike below 2**24 pixels)."""
    crop_rows = max(min(rows, int(cols * height / width)), 1)
    crop_cols = max(min(cols, int(rows * width / height)), 1)
    return int((rows - crop_rows) / 2), int((cols - crop_cols) / 2), crop_rows, crop_cols


def pad_margins(rows, cols, height, width):
    """The rows above (and below) and the columns left (and right) that give
    ``rows x cols`` the aspect ratio of ``height x width``: ``(top, left)``.

    Keras pads the same margin on both sides, so an odd difference loses its
    last row or column (the result is ``rows + 2 * top`` by ``cols + 2 * left``).
    """
    padded_rows = max(rows, int(cols * height / width))
    padded_cols = max(cols, int(rows * width / height))
    return int((padded_rows - rows) / 2), int((padded_cols - cols) / 2)


class _Resize:
    """Crop or pad to an aspect ratio, then resize: one forward and its backward.

    ``window`` is the crop ``(top, left, rows, cols)`` or None; ``margins`` the
    padding ``(top, left)`` or None. Works on batches (batch, rows, cols, channels).
    """

    def __init__(self, height, width, interpolation, antialias, fill_value=0.0):
        self.height, self.width = height, width
        self.interpolation, self.antialias = interpolation, antialias
        self.fill_value = fill_value
        self.window = self.margins = None
        self.in_shape = self.resized_shape = None

    def forward(self, x, window=None, margins=None):
        self.in_shape, self.window, self.margins = x.shape, window, margins
        if window is not None:
            top, left, rows, cols = window
            x = x[:, top:top + rows, left:left + cols]
        if margins is not None:
            top, left = margins
            x = np.pad(x, ((0, 0), (top, top), (left, left), (0, 0)),
                       constant_values=np.asarray(self.fill_value, x.dtype))
        self.resized_shape = x.shape
        y = kernels.resize_forward(x, self.height, self.width, self.interpolation,
                                   self.antialias)
        return y.astype(x.dtype, copy=False)

    def backward(self, g):
        dx = kernels.resize_backward(g, self.resized_shape, self.interpolation,
                                     self.antialias).astype(g.dtype, copy=False)
        if self.margins is not None:
            # the padding is a constant: its gradient is dropped
            top, left = self.margins
            dx = dx[:, top:dx.shape[1] - top, left:dx.shape[2] - left]
        if self.window is not None:
            top, left, rows, cols = self.window
            full = np.zeros(self.in_shape, g.dtype)
            full[:, top:top + rows, left:left + cols] = dx
            dx = full
        return np.ascontiguousarray(dx)


class CenterCrop(Layer):
    """Crops the central ``height x width`` window of images.

    Input shape: ``(batch, rows, cols, channels)`` or ``(rows, cols, channels)``.
    Output shape: ``(..., height, width, channels)``.

    An image smaller than the window on either side is, as in Keras, cropped to the
    window's aspect ratio (the largest centred window) and resized to it (bilinear).
    """

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height = int(height)
        self.width = int(width)
        self.data_format = _check_channels_last(data_format)
        self._in_shape = None
        self._resize = None  # an image smaller than the window: the resize it ran

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-3]) + (self.height, self.width, input_shape[-1])

    def _offsets(self, shape):
        rows, cols = shape[-3], shape[-2]
        # the extra row/column (odd difference) goes to the bottom/right, as in Keras
        return (rows - self.height) // 2, (cols - self.width) // 2

    def _check_input(self, shape):
        if len(shape) not in (3, 4):
            raise ValueError("CenterCrop expects images of rank 3 or 4 (channels last). "
                             f"Received: input shape {tuple(shape)}")

    def call(self, inputs, training=False):
        self._in_shape = inputs.shape
        rows, cols = inputs.shape[-3], inputs.shape[-2]
        if rows < self.height or cols < self.width:
            resize = _Resize(self.height, self.width, "bilinear", False)
            x = _as_batch(inputs)
            y = resize.forward(x, window=crop_box(rows, cols, self.height, self.width))
            self._resize = resize if training else None
            return _like(y, inputs)
        self._resize = None
        top, left = self._offsets(inputs.shape)
        return np.ascontiguousarray(
            inputs[..., top:top + self.height, left:left + self.width, :])

    def backward(self, grad_output):
        if self._resize is not None:
            return _like(self._resize.backward(_as_batch(grad_output)), grad_output)
        top, left = self._offsets(self._in_shape)
        dx = np.zeros(self._in_shape, grad_output.dtype)
        dx[..., top:top + self.height, left:left + self.width, :] = grad_output
        return dx

    def get_config(self):
        config = super().get_config()
        config.update(height=self.height, width=self.width, data_format=self.data_format)
        return config


class Resizing(Layer):
    """Resizes images to ``height x width`` as Keras 3 on TensorFlow (tf.image.resize:
    half-pixel centers).

    Args:
        height, width: the output's size.
        interpolation: ``'bilinear'`` (default), ``'nearest'``, ``'bicubic'``,
            ``'area'``, ``'lanczos3'`` or ``'lanczos5'``.
        crop_to_aspect_ratio: first crop the largest centred window with the
            output's aspect ratio, so the image is not distorted.
        pad_to_aspect_ratio: first pad the short side evenly (with ``fill_value``)
            to the output's aspect ratio, so the image is not distorted.
        fill_mode: the padding's mode; ``'constant'`` only, as Keras on TensorFlow.
        fill_value: the padding's value.
        antialias: widen the kernel when shrinking (bilinear, bicubic, lanczos).

    Input shape: ``(batch, rows, cols, channels)`` or ``(rows, cols, channels)``.
    Output shape: ``(..., height, width, channels)``.
    """

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0,
                 antialias=False, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if interpolation not in INTERPOLATIONS:
            raise ValueError(
                f"Invalid value for argument `interpolation`: expected one of "
                f"{INTERPOLATIONS}. Received: interpolation={interpolation!r}")
        if fill_mode != "constant":
            raise ValueError("Invalid value for argument `fill_mode`. Only `'constant'` "
                             f"is supported. Received: fill_mode={fill_mode}")
        if crop_to_aspect_ratio and pad_to_aspect_ratio:
            raise ValueError("Only one of `crop_to_aspect_ratio` and `pad_to_aspect_ratio` "
                             "can be True.")
        self.height = int(height)
        self.width = int(width)
        self.interpolation = interpolation
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        self.fill_mode = fill_mode
        self.fill_value = fill_value
        self.antialias = bool(antialias)
        self.data_format = _check_channels_last(data_format)
        self._resize = None

    def _check_input(self, shape):
        if len(shape) not in (3, 4):
            raise ValueError("Resizing expects images of rank 3 or 4 (channels last). "
                             f"Received: input shape {tuple(shape)}")

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-3]) + (self.height, self.width, input_shape[-1])

    def __call__(self, inputs, training=None, **kwargs):
        """Integer images come back in their own dtype, rounded (half to even) and
        clipped to its range, as Keras on TensorFlow (``plt.imshow`` shows a resized
        uint8 photo as it is; float pixels of 0-255 would show white)."""
        out = super().__call__(inputs, training=training, **kwargs)
        dtype = getattr(inputs, "dtype", None)
        if is_symbolic(inputs) or dtype is None or np.dtype(dtype).kind not in "iu":
            return out
        limits = np.iinfo(dtype)
        values = np.clip(np.round(np.asarray(out)), limits.min, limits.max)
        return Tensor(values.astype(dtype))

    def call(self, inputs, training=False):
        rows, cols = inputs.shape[-3], inputs.shape[-2]
        window = margins = None
        if self.crop_to_aspect_ratio:
            window = crop_box(rows, cols, self.height, self.width)
        elif self.pad_to_aspect_ratio:
            margins = pad_margins(rows, cols, self.height, self.width)
        resize = _Resize(self.height, self.width, self.interpolation, self.antialias,
                         self.fill_value)
        y = resize.forward(_as_batch(inputs), window, margins)
        self._resize = resize if training else None
        return _like(y, inputs)

    def backward(self, grad_output):
        return _like(self._resize.backward(_as_batch(grad_output)), grad_output)

    def get_config(self):
        config = super().get_config()
        config.update(height=self.height, width=self.width, interpolation=self.interpolation,
                      crop_to_aspect_ratio=self.crop_to_aspect_ratio,
                      pad_to_aspect_ratio=self.pad_to_aspect_ratio, fill_mode=self.fill_mode,
                      fill_value=self.fill_value, antialias=self.antialias,
                      data_format=self.data_format)
        return config
