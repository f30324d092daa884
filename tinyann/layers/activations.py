"""Activation layers with arguments of their own: Softmax, ReLU, LeakyReLU."""

from __future__ import annotations

import warnings

import numpy as np

from tinyann.layers.layer import Layer


class Softmax(Layer):
    """``exp(x) / sum(exp(x))`` along ``axis``. Shape unchanged.

    Args:
        axis: integer or tuple of integers, the axes the softmax normalizes over.

    Example:
        >>> Softmax()(np.zeros((1, 4))).tolist()
        [[0.25, 0.25, 0.25, 0.25]]
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = tuple(axis) if isinstance(axis, (list, tuple)) else int(axis)
        self._y = None

    def call(self, inputs, training=False):
        # the max is subtracted first so exp never overflows
        z = inputs - inputs.max(axis=self.axis, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=self.axis, keepdims=True)
        if training:
            self._y = z
        return z

    def backward(self, grad_output):
        y = self._y
        # dL/dx = y * (g - sum(g * y)) over the softmax axes
        return y * (grad_output - np.sum(grad_output * y, axis=self.axis, keepdims=True))

    def get_config(self):
        config = super().get_config()
        config["axis"] = list(self.axis) if isinstance(self.axis, tuple) else self.axis
        return config


class ReLU(Layer):
    """The rectified linear unit with Keras's options:
    ``min(x, max_value)`` where ``x > threshold``, else ``negative_slope * (x - threshold)``.

    Args:
        max_value: non-negative float, the largest output (None: no limit).
        negative_slope: non-negative float, the slope below the threshold.
        threshold: non-negative float, where the unit switches on.
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0.0:
            raise ValueError("max_value of a ReLU layer cannot be a negative value. "
                             f"Received: max_value={max_value}")
        if negative_slope is None or negative_slope < 0.0:
            raise ValueError("negative_slope of a ReLU layer cannot be None or a negative value. "
                             f"Received: negative_slope={negative_slope}")
        if threshold is None or threshold < 0.0:
            raise ValueError("threshold of a ReLU layer cannot be None or a negative value. "
                             f"Received: threshold={threshold}")
        self.max_value = max_value
        self.negative_slope = negative_slope
        self.threshold = threshold
        self._slope = None

    def call(self, inputs, training=False):
        dtype = inputs.dtype.type
        above = inputs > self.threshold
        y = np.where(above, inputs, dtype(self.negative_slope) * (inputs - dtype(self.threshold)))
        if self.max_value is not None:
            capped = above & (inputs >= self.max_value)
            y[capped] = self.max_value
        if training:
            # dy/dx: 1 on the linear part, 0 at the cap, the slope below the threshold
            slope = np.where(above, dtype(1), dtype(self.negative_slope))
            if self.max_value is not None:
                slope[capped] = 0
            self._slope = slope.astype(inputs.dtype, copy=False)
        return y.astype(inputs.dtype, copy=False)

    def backward(self, grad_output):
        return grad_output * self._slope

    def get_config(self):
        config = super().get_config()
        config.update(max_value=self.max_value, negative_slope=self.negative_slope,
                      threshold=self.threshold)
        return config


class LeakyReLU(Layer):
    """``x`` for ``x >= 0``, ``negative_slope * x`` otherwise. Shape unchanged.

    Args:
        negative_slope: non-negative float (default 0.3). ``alpha=`` is accepted
            too, with Keras 3's deprecation warning.
    """

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn("Argument `alpha` is deprecated. Use `negative_slope` instead.",
                          stacklevel=2)
        super().__init__(**kwargs)
        if negative_slope is None or negative_slope < 0:
            raise ValueError(
                "The negative_slope value of a Leaky ReLU layer cannot be None or negative "
                f"value. Expected a float. Received: negative_slope={negative_slope}")
        self.negative_slope = negative_slope
        self._x = None

    def call(self, inputs, training=False):
        if training:
            self._x = inputs
        return np.where(inputs >= 0, inputs, inputs * inputs.dtype.type(self.negative_slope))

    def backward(self, grad_output):
        return np.where(self._x >= 0, grad_output,
                        grad_output * grad_output.dtype.type(self.negative_slope))

    def get_config(self):
        config = super().get_config()
        config["negative_slope"] = self.negative_slope
        return config
