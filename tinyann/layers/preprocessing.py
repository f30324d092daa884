"""Image preprocessing layers: Rescaling and CenterCrop."""

from __future__ import annotations

import numpy as np

from tinyann.layers.layer import Layer


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
