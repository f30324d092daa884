"""Dropout: inverted dropout, active only in training steps."""

from __future__ import annotations

import numpy as np

from tinyann import backend
from tinyann.layers.layer import Layer


class Dropout(Layer):
    """Sets a fraction ``rate`` of the inputs to 0 in training and scales the rest by
    ``1 / (1 - rate)``, so the expected activation is unchanged; identity otherwise.

    Args:
        rate: float in [0, 1).
        noise_shape: shape of the keep/drop mask, broadcast over the inputs
            (``None`` entries take the input's size).
        seed: an integer for a generator of the layer's own.
    """

    _grads_written = True   # (see Layer)

    supports_masking = True

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(
                "Invalid value received for argument `rate`. Expected a float value "
                f"between 0 and 1. Received: rate={rate!r}"
            )
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)
        self._mask = None

    def _mask_shape(self, shape):
        if self.noise_shape is None:
            return shape
        return tuple(s if n is None else n for n, s in zip(self.noise_shape, shape))

    def call(self, inputs, training=False):
        if not training or self.rate == 0:
            self._mask = None
            return inputs
        rng = self._rng if self._rng is not None else backend.rng()
        keep = rng.random(self._mask_shape(inputs.shape), dtype=inputs.dtype) >= self.rate
        # the scale folds into the mask once, so backward is one multiply
        self._mask = keep * inputs.dtype.type(1.0 / (1.0 - self.rate))
        return inputs * self._mask

    def _frozen_call(self, inputs):
        """Inference mode in a training step (called with ``training=False`` in the
        model): the identity, and so is backward."""
        self._mask = None
        return inputs

    def backward(self, grad_output):
        if self._mask is None:
            return grad_output
        grad_output *= self._mask
        return grad_output

    def get_config(self):
        config = super().get_config()
        config.update(rate=self.rate, seed=self.seed,
                      noise_shape=None if self.noise_shape is None else list(self.noise_shape))
        return config
