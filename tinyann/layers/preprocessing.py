"""Image preprocessing layers: Rescaling, Resizing and CenterCrop."""

from __future__ import annotations

import numpy as np

from tinyann import kernels
from tinyann.layers.layer import Layer

# Keras's interpolations; tinyann computes the first two so far
_KERAS_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "lanczos3", "lanczos5", "area")
_SUPPORTED = ("bilinear", "nearest")


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


class CenterCrop(Layer):
    """Crops the central ``height x width`` window of images.

    Input shape: ``(batch, rows, cols, channels)`` or ``(rows, cols, channels)``.
    Output shape: ``(..., height, width, channels)``.

    Images smaller than the window are not supported yet (Keras resizes them up).
    """

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.height = int(height)
        self.width = int(width)
        self.data_format = _check_channels_last(data_format)
        self._in_shape = None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-3]) + (self.height, self.width, input_shape[-1])

    def _offsets(self, shape):
        rows, cols = shape[-3], shape[-2]
        if rows < self.height or cols < self.width:
            raise ValueError(
                f"CenterCrop({self.height}, {self.width}) needs images at least that large. "
                f"Received: input shape {tuple(shape)}")
        # the extra row/column (odd difference) goes to the bottom/right, as in Keras
        return (rows - self.height) // 2, (cols - self.width) // 2

    def _check_input(self, shape):
        if len(shape) not in (3, 4):
            raise ValueError("CenterCrop expects images of rank 3 or 4 (channels last). "
                             f"Received: input shape {tuple(shape)}")

    def call(self, inputs, training=False):
        top, left = self._offsets(inputs.shape)
        self._in_shape = inputs.shape
        return np.ascontiguousarray(
            inputs[..., top:top + self.height, left:left + self.width, :])

    def backward(self, grad_output):
        top, left = self._offsets(self._in_shape)
        dx = np.zeros(self._in_shape, grad_output.dtype)
        dx[..., top:top + self.height, left:left + self.width, :] = grad_output
        return dx

    def get_config(self):
        config = super().get_config()
        config.update(height=self.height, width=self.width, data_format=self.data_format)
        return config


def crop_box(rows, cols, height, width):
    """The centred window of ``rows x cols`` with the aspect ratio of ``height x width``
    (as large as fits): ``(top, left, crop_rows, crop_cols)``, Keras's arithmetic."""
    crop_rows = max(min(rows, int(cols * height / width)), 1)
    crop_cols = max(min(cols, int(rows * width / height)), 1)
    return int((rows - crop_rows) / 2), int((cols - crop_cols) / 2), crop_rows, crop_cols


class Resizing(Layer):
    """Resizes images to ``height x width`` (half-pixel centers, as TensorFlow).

    Args:
        height, width: the output's size.
        interpolation: ``'bilinear'`` (default) or ``'nearest'``.
        crop_to_aspect_ratio: first crop the largest centred window with the
            output's aspect ratio, so the image is not distorted.

    Input shape: ``(batch, rows, cols, channels)`` or ``(rows, cols, channels)``.
    Output shape: ``(..., height, width, channels)``.
    """

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0,
                 antialias=False, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if interpolation not in _KERAS_INTERPOLATIONS:
            raise ValueError(
                f"Invalid value for argument `interpolation`: expected one of "
                f"{_KERAS_INTERPOLATIONS}. Received: interpolation={interpolation!r}")
        if interpolation not in _SUPPORTED or pad_to_aspect_ratio or antialias:
            raise ValueError(
                f"tinyann's Resizing supports interpolation in {_SUPPORTED}, without "
                f"padding or antialiasing. Received: interpolation={interpolation!r}, "
                f"pad_to_aspect_ratio={pad_to_aspect_ratio}, antialias={antialias}")
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
        self._in_shape = self._box = None

    def _check_input(self, shape):
        if len(shape) not in (3, 4):
            raise ValueError("Resizing expects images of rank 3 or 4 (channels last). "
                             f"Received: input shape {tuple(shape)}")

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-3]) + (self.height, self.width, input_shape[-1])

    def call(self, inputs, training=False):
        x = inputs if inputs.ndim == 4 else inputs[None]
        box = None
        if self.crop_to_aspect_ratio:
            box = crop_box(x.shape[1], x.shape[2], self.height, self.width)
            top, left, rows, cols = box
            x = x[:, top:top + rows, left:left + cols]
        y = kernels.resize_forward(x, self.height, self.width, self.interpolation)
        y = y.astype(inputs.dtype, copy=False)
        if training:
            self._in_shape, self._box = inputs.shape, box
        return y if inputs.ndim == 4 else y[0]

    def backward(self, grad_output):
        g = grad_output if grad_output.ndim == 4 else grad_output[None]
        shape = self._in_shape if len(self._in_shape) == 4 else (1,) + tuple(self._in_shape)
        if self._box is None:
            dx = kernels.resize_backward(g, shape, self.interpolation)
        else:
            top, left, rows, cols = self._box
            dx = np.zeros(shape, g.dtype)
            dx[:, top:top + rows, left:left + cols] = kernels.resize_backward(
                g, (shape[0], rows, cols, shape[3]), self.interpolation)
        dx = dx.astype(grad_output.dtype, copy=False)
        return dx if len(self._in_shape) == 4 else dx[0]

    def get_config(self):
        config = super().get_config()
        config.update(height=self.height, width=self.width, interpolation=self.interpolation,
                      crop_to_aspect_ratio=self.crop_to_aspect_ratio,
                      pad_to_aspect_ratio=self.pad_to_aspect_ratio, fill_mode=self.fill_mode,
                      fill_value=self.fill_value, antialias=self.antialias,
                      data_format=self.data_format)
        return config
