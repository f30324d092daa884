"""ZeroPadding2D, Cropping2D and UpSampling2D: rows and columns added, removed or
repeated; no weights."""

from __future__ import annotations

import numpy as np

from tinyann import kernels
from tinyann.layers.layer import Layer
from tinyann.utils.conv_utils import normalize_tuple

# the interpolations tinyann's resize kernels compute (Keras's UpSampling2D takes these)
_INTERPOLATIONS = ("nearest", "bilinear", "bicubic", "lanczos3", "lanczos5")


def _data_format(value):
    value = "channels_last" if value is None else str(value).lower()
    if value not in ("channels_last", "channels_first"):
        raise ValueError("The `data_format` argument must be one of {'channels_first', "
                         f"'channels_last'}}. Received: data_format={value}")
    return value


def _pairs(value, name, kind):
    """``2`` / ``(1, 2)`` / ``((0, 1), (2, 3))`` -> ``((top, bottom), (left, right))``."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        if value < 0:
            raise ValueError(f"`{name}` cannot be negative. Received: {name}={value}.")
        return ((int(value),) * 2,) * 2
    if hasattr(value, "__len__"):
        if len(value) != 2:
            raise ValueError(f"`{name}` should have two elements. Received: {name}={value}.")
        return (normalize_tuple(value[0], 2, f"1st entry of {name}", allow_zero=True),
                normalize_tuple(value[1], 2, f"2nd entry of {name}", allow_zero=True))
    raise ValueError(
        f"`{name}` should be either an int, a tuple of 2 ints (symmetric_height_{kind}, "
        f"symmetric_width_{kind}), or a tuple of 2 tuples of 2 ints ((top_{kind}, "
        f"bottom_{kind}), (left_{kind}, right_{kind})). Received: {name}={value}.")


class _Image2D(Layer):
    """The shared parts: rank 4 inputs, the rows and columns axes of ``data_format``."""

    def _check_input(self, shape):
        if len(shape) != 4:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                f"ndim=4, found ndim={len(shape)}. Full shape received: {tuple(shape)}")

    def _spatial(self):
        """The axes of rows and columns."""
        return (2, 3) if self.data_format == "channels_first" else (1, 2)


class ZeroPadding2D(_Image2D):
    """Pads images with zero rows and columns.

    Args:
        padding: int (all sides), ``(rows, cols)`` (symmetric) or
            ``((top, bottom), (left, right))``.
        data_format: ``'channels_last'`` (default) or ``'channels_first'``.

    Example: ``(batch, 28, 28, 1)`` -> ``(batch, 30, 30, 1)`` with ``padding=1``.
    """

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _data_format(data_format)
        if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool):
            padding = int(padding)
            self.padding = ((padding, padding), (padding, padding))
        else:
            self.padding = _pairs(padding, "padding", "crop")

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for axis, (before, after) in zip(self._spatial(), self.padding):
            if out[axis] is not None:
                out[axis] += before + after
        return tuple(out)

    def _widths(self):
        widths = [(0, 0)] * 4
        for axis, pair in zip(self._spatial(), self.padding):
            widths[axis] = pair
        return widths

    def call(self, inputs, training=False):
        return np.pad(inputs, self._widths())

    def backward(self, grad_output):
        # the padding is constant: dx is the window of the inputs
        index = tuple(slice(before, grad_output.shape[i] - after)
                      for i, (before, after) in enumerate(self._widths()))
        return np.ascontiguousarray(grad_output[index])

    def get_config(self):
        config = super().get_config()
        config.update(padding=self.padding, data_format=self.data_format)
        return config


class Cropping2D(_Image2D):
    """Removes rows and columns at the images' borders.

    Args:
        cropping: int (all sides), ``(rows, cols)`` (symmetric) or
            ``((top, bottom), (left, right))``.
        data_format: ``'channels_last'`` (default) or ``'channels_first'``.

    Example: ``(batch, 28, 28, 3)`` -> ``(batch, 24, 26, 3)`` with ``((2, 2), (1, 1))``.
    """

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = _data_format(data_format)
        self.cropping = _pairs(cropping, "cropping", "crop")
        self._in_shape = None

    def _check_sizes(self, shape, what):
        for axis, (before, after) in zip(self._spatial(), self.cropping):
            if shape[axis] is not None and before + after >= shape[axis]:
                raise ValueError(
                    "Values in `cropping` argument should be smaller than the corresponding "
                    f"spatial dimension of the input. Received: {what}={tuple(shape)}, "
                    f"cropping={self.cropping}")

    def compute_output_shape(self, input_shape):
        self._check_sizes(input_shape, "input_shape")
        out = list(input_shape)
        for axis, (before, after) in zip(self._spatial(), self.cropping):
            if out[axis] is not None:
                out[axis] -= before + after
        return tuple(out)

    def _window(self, shape):
        index = [slice(None)] * 4
        for axis, (before, after) in zip(self._spatial(), self.cropping):
            index[axis] = slice(before, shape[axis] - after)
        return tuple(index)

    def call(self, inputs, training=False):
        self._check_sizes(inputs.shape, "inputs.shape")
        if training:
            self._in_shape = inputs.shape
        return inputs[self._window(inputs.shape)]

    def backward(self, grad_output):
        dx = np.zeros(self._in_shape, grad_output.dtype)
        dx[self._window(self._in_shape)] = grad_output
        return dx

    def get_config(self):
        config = super().get_config()
        config.update(cropping=self.cropping, data_format=self.data_format)
        return config


class UpSampling2D(_Image2D):
    """Repeats each row ``size[0]`` times and each column ``size[1]`` times
    (``interpolation='nearest'``), or resizes the images to that size as Keras's
    ``ops.image.resize`` does (``'bilinear'``, ``'bicubic'``, ``'lanczos3'``,
    ``'lanczos5'``; half-pixel centres, no antialiasing).

    Args:
        size: int or ``(rows, cols)`` factors.
        data_format: ``'channels_last'`` (default) or ``'channels_first'``.
        interpolation: see above.

    Example: ``(batch, 7, 7, 8)`` -> ``(batch, 14, 14, 8)`` with ``size=2``.
    """

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.data_format = _data_format(data_format)
        self.size = normalize_tuple(size, 2, "size")
        self.interpolation = str(interpolation).lower()
        if self.interpolation not in _INTERPOLATIONS:
            raise ValueError(
                "Invalid value for argument `interpolation`. Expected of one of "
                f"{_INTERPOLATIONS}. Received: interpolation={interpolation}")
        self._in_shape = None

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for axis, factor in zip(self._spatial(), self.size):
            if out[axis] is not None:
                out[axis] *= factor
        return tuple(out)

    def call(self, inputs, training=False):
        x = inputs if self.data_format == "channels_last" else inputs.transpose(0, 2, 3, 1)
        if training:
            self._in_shape = x.shape
        if self.interpolation == "nearest":
            y = np.repeat(np.repeat(x, self.size[0], axis=1), self.size[1], axis=2)
        else:
            y = kernels.resize_forward(x, x.shape[1] * self.size[0], x.shape[2] * self.size[1],
                                       self.interpolation, False).astype(x.dtype, copy=False)
        return y if self.data_format == "channels_last" else np.ascontiguousarray(
            y.transpose(0, 3, 1, 2))

    def backward(self, grad_output):
        g = grad_output if self.data_format == "channels_last" else grad_output.transpose(
            0, 2, 3, 1)
        if self.interpolation == "nearest":
            # each input pixel fed a size[0] x size[1] block: sum the block's gradients
            n, rows, cols, channels = self._in_shape
            dx = g.reshape(n, rows, self.size[0], cols, self.size[1], channels).sum(axis=(2, 4))
        else:
            dx = kernels.resize_backward(np.ascontiguousarray(g), self._in_shape,
                                         self.interpolation, False).astype(g.dtype, copy=False)
        return dx if self.data_format == "channels_last" else np.ascontiguousarray(
            dx.transpose(0, 3, 1, 2))

    def get_config(self):
        config = super().get_config()
        config.update(size=self.size, data_format=self.data_format,
                      interpolation=self.interpolation)
        return config
