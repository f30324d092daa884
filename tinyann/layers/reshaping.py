"""Flatten and Reshape: views of the same numbers, no weights."""

from __future__ import annotations

import math

import numpy as np

from tinyann.layers.layer import Layer


class Flatten(Layer):
    """Flattens every axis but the batch axis. ``(batch, 28, 28)`` -> ``(batch, 784)``."""

    _grads_written = True   # (see Layer)

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = data_format
        self._in_shape = None

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        size = None if any(d is None for d in rest) else math.prod(rest)
        return (input_shape[0], size)

    def call(self, inputs, training=False):
        if training:
            self._in_shape = inputs.shape
        return inputs.reshape(inputs.shape[0], -1)

    def backward(self, grad_output):
        return grad_output.reshape(self._in_shape)

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format or "channels_last"
        return config


class Reshape(Layer):
    """Reshapes to ``target_shape`` (without the batch axis; one entry may be -1).

    Example: ``Reshape((28, 28, 1))`` turns ``(batch, 784)`` into ``(batch, 28, 28, 1)``.
    """

    _grads_written = True   # (see Layer)

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        target_shape = tuple(int(d) for d in target_shape)
        if sum(d == -1 for d in target_shape) > 1 or any(d < -1 or d == 0
                                                         for d in target_shape):
            raise ValueError(
                "Argument `target_shape` must be positive integers with at most one -1. "
                f"Received: target_shape={target_shape}"
            )
        self.target_shape = target_shape
        self._in_shape = None

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        if -1 not in self.target_shape:
            if None not in rest and math.prod(rest) != math.prod(self.target_shape):
                raise ValueError(
                    f"total size of new array must be unchanged, input_shape = "
                    f"{list(rest)}, output_shape = {list(self.target_shape)}"
                )
            return (input_shape[0],) + self.target_shape
        if None in rest:
            return (input_shape[0],) + tuple(None if d == -1 else d for d in self.target_shape)
        known = -math.prod(self.target_shape)
        total = math.prod(rest)
        if total % known:
            raise ValueError(
                f"total size of new array must be unchanged, input_shape = {list(rest)}, "
                f"output_shape = {list(self.target_shape)}"
            )
        return (input_shape[0],) + tuple(total // known if d == -1 else d
                                         for d in self.target_shape)

    def call(self, inputs, training=False):
        if training:
            self._in_shape = inputs.shape
        return np.reshape(inputs, (inputs.shape[0],) + self.target_shape)

    def backward(self, grad_output):
        return grad_output.reshape(self._in_shape)

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = list(self.target_shape)
        return config
