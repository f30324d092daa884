"""ZeroPadding, Cropping and UpSampling of sequences (1-D) and volumes (3-D): steps,
or depths, rows and columns, added, removed or repeated; no weights. (The 2-D layers
are in image_reshaping.py.)

Backward passes: padding's gradient is the window of the input (the padding is
constant); cropping's puts the gradient back in a zero array of the input's shape;
nearest upsampling's sums each input element's ``size`` block of copies.
"""

from __future__ import annotations

import numpy as np

from tinyann.layers.layer import Layer
from tinyann.layers.pooling_1d import normalize_data_format
from tinyann.utils.conv_utils import normalize_tuple

_ORDINALS = ("1st", "2nd", "3rd")


def _pairs3(value, name):
    """``1`` / ``(1, 2, 3)`` / ``((0, 1), (2, 3), (1, 1))`` -> three (before, after) pairs,
    with Keras's messages."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        return ((int(value),) * 2,) * 3
    if hasattr(value, "__len__"):
        if len(value) != 3:
            raise ValueError(f"`{name}` should have 3 elements. Received: {value}.")
        return tuple(normalize_tuple(v, 2, f"{ordinal} entry of {name}", allow_zero=True)
                     for ordinal, v in zip(_ORDINALS, value))
    raise ValueError(
        f"`{name}` should be either an int, a tuple of 3 ints, or a tuple of 3 tuples of 2 "
        f"ints. Received: {name}={value}.")


class _Spatial(Layer):
    """Inputs of rank ``rank + 2``; the spatial axes of ``data_format``."""

    rank = 1
    data_format = "channels_last"

    def _check_input(self, shape):
        if len(shape) != self.rank + 2:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                f"ndim={self.rank + 2}, found ndim={len(shape)}. Full shape received: "
                f"{tuple(shape)}")
        self.compute_output_shape(shape)

    def _spatial(self):
        first = 2 if self.data_format == "channels_first" else 1
        return tuple(range(first, first + self.rank))


class _ZeroPadding(_Spatial):
    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for axis, (before, after) in zip(self._spatial(), self._pairs()):
            if out[axis] is not None:
                out[axis] += before + after
        return tuple(out)

    def _widths(self, ndim):
        widths = [(0, 0)] * ndim
        for axis, pair in zip(self._spatial(), self._pairs()):
            widths[axis] = pair
        return widths

    def call(self, inputs, training=False):
        return np.pad(inputs, self._widths(inputs.ndim))

    def backward(self, grad_output):
        index = tuple(slice(before, grad_output.shape[i] - after)
                      for i, (before, after) in enumerate(self._widths(grad_output.ndim)))
        return np.ascontiguousarray(grad_output[index])

    def get_config(self):
        config = super().get_config()
        config.update(padding=self.padding, data_format=self.data_format)
        return config


class ZeroPadding1D(_ZeroPadding):
    """Pads sequences with zero steps.

    Args:
        padding: int (both ends) or ``(before, after)``.
        data_format: ``'channels_last'`` (default, ``(batch, steps, features)``) or
            ``'channels_first'``.

    Example: ``(batch, 10, 4)`` -> ``(batch, 13, 4)`` with ``padding=(2, 1)``.
    """

    rank = 1

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format)
        self.padding = normalize_tuple(padding, 2, "padding", allow_zero=True)

    def _pairs(self):
        return (self.padding,)


class ZeroPadding3D(_ZeroPadding):
    """Pads volumes ``(batch, depth, rows, cols, channels)`` with zeros.

    Args:
        padding: int (all sides), 3 ints (symmetric per axis) or 3 ``(before, after)``.
        data_format: ``'channels_last'`` (default) or ``'channels_first'``.
    """

    rank = 3

    def __init__(self, padding=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format)
        self.padding = _pairs3(padding, "padding")

    def _pairs(self):
        return self.padding


class _Cropping(_Spatial):
    def _check_sizes(self, shape, what):
        for axis, (before, after) in zip(self._spatial(), self._pairs()):
            if shape[axis] is not None and before + after >= shape[axis]:
                raise ValueError(
                    f"`cropping` parameter of `{type(self).__name__}` layer must be smaller "
                    f"than the input size. Received: {what}={tuple(shape)}, "
                    f"cropping={self.cropping}")

    def compute_output_shape(self, input_shape):
        self._check_sizes(input_shape, "input_shape")
        out = list(input_shape)
        for axis, (before, after) in zip(self._spatial(), self._pairs()):
            if out[axis] is not None:
                out[axis] -= before + after
        return tuple(out)

    def _window(self, shape):
        index = [slice(None)] * len(shape)
        for axis, (before, after) in zip(self._spatial(), self._pairs()):
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


class Cropping1D(_Cropping):
    """Removes steps at both ends of sequences ``(batch, steps, features)``.

    Args:
        cropping: int (both ends) or ``(before, after)``.

    Example: ``(batch, 10, 4)`` -> ``(batch, 7, 4)`` with ``cropping=(1, 2)``.
    """

    rank = 1

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = normalize_tuple(cropping, 2, "cropping", allow_zero=True)
        self._in_shape = None

    def _pairs(self):
        return (self.cropping,)

    def get_config(self):
        config = super().get_config()
        config["cropping"] = self.cropping
        return config


class Cropping3D(_Cropping):
    """Removes depths, rows and columns at the borders of volumes.

    Args:
        cropping: int (all sides), 3 ints (symmetric per axis) or 3 ``(before, after)``.
        data_format: ``'channels_last'`` (default) or ``'channels_first'``.
    """

    rank = 3

    def __init__(self, cropping=((1, 1), (1, 1), (1, 1)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format)
        self.cropping = _pairs3(cropping, "cropping")
        self._in_shape = None

    def _pairs(self):
        return self.cropping

    def get_config(self):
        config = super().get_config()
        config.update(cropping=self.cropping, data_format=self.data_format)
        return config


class _UpSampling(_Spatial):
    """Nearest upsampling: each element repeated ``factors`` times along the spatial axes."""

    def compute_output_shape(self, input_shape):
        out = list(input_shape)
        for axis, factor in zip(self._spatial(), self._factors()):
            if out[axis] is not None:
                out[axis] *= factor
        return tuple(out)

    def call(self, inputs, training=False):
        y = inputs
        for axis, factor in zip(self._spatial(), self._factors()):
            y = np.repeat(y, factor, axis=axis)
        return y

    def backward(self, grad_output):
        # each spatial axis of length L * s as (L, s): sum over the s copies
        shape, copies = [], []
        spatial = dict(zip(self._spatial(), self._factors()))
        for axis, length in enumerate(grad_output.shape):
            if axis in spatial:
                shape += [length // spatial[axis], spatial[axis]]
                copies.append(len(shape) - 1)
            else:
                shape.append(length)
        return grad_output.reshape(shape).sum(axis=tuple(copies))


class UpSampling1D(_UpSampling):
    """Repeats each step ``size`` times: ``(batch, steps, features)`` ->
    ``(batch, steps * size, features)``.

    Args:
        size: a positive int.
    """

    rank = 1

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(size, (int, np.integer)) or isinstance(size, bool):
            raise TypeError(f"Expected an integer value for `size`, got {type(size)}.")
        if size <= 0:
            raise ValueError(f"Argument `size` should be a positive integer. Received: size={size}")
        self.size = int(size)

    def _factors(self):
        return (self.size,)

    def get_config(self):
        config = super().get_config()
        config["size"] = self.size
        return config


class UpSampling3D(_UpSampling):
    """Repeats depths, rows and columns ``size`` times (nearest).

    Args:
        size: int or 3 ints.
        data_format: ``'channels_last'`` (default) or ``'channels_first'``.
    """

    rank = 3

    def __init__(self, size=(2, 2, 2), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = normalize_data_format(data_format)
        self.size = normalize_tuple(size, 3, "size")

    def _factors(self):
        return self.size

    def get_config(self):
        config = super().get_config()
        config.update(size=self.size, data_format=self.data_format)
        return config
