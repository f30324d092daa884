"""GaussianNoise, GaussianDropout, SpatialDropout1D and SpatialDropout2D: random
regularization, active only in training steps (the identity otherwise)."""

from __future__ import annotations

import math

import numpy as np

from tinyann import backend
from tinyann.layers.image_reshaping import _data_format
from tinyann.layers.layer import Layer
from tinyann.layers.regularization import Dropout


def _check_fraction(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(
            f"Invalid value received for argument `{name}`. Expected a float value between "
            f"0 and 1. Received: {name}={value}")
    return float(value)


class _Noise(Layer):
    """Base of GaussianNoise and GaussianDropout: the amount of noise, a fraction in
    [0, 1] under Keras's name for it (``_amount``: the argument, attribute and config
    entry), the identity outside training or with no noise (else ``_noisy``), and a
    seeded generator as Dropout's: the layer's own for a ``seed``, else tinyann's."""

    supports_masking = True
    _amount = None  # "stddev" or "rate"

    def __init__(self, amount, seed=None, **kwargs):
        amount = _check_fraction(amount, self._amount)
        super().__init__(**kwargs)
        setattr(self, self._amount, amount)
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)
        self._noise = None

    def _normal(self, shape, dtype):
        rng = self._rng if self._rng is not None else backend.rng()
        return rng.standard_normal(shape, dtype=np.float64).astype(dtype, copy=False)

    def call(self, inputs, training=False):
        if not training or getattr(self, self._amount) == 0:
            self._noise = None
            return inputs
        return self._noisy(inputs)

    def _frozen_call(self, inputs):
        """Inference mode in a training step (called with ``training=False`` in the
        model): the identity, and so is backward."""
        self._noise = None
        return inputs

    def get_config(self):
        config = super().get_config()
        config.update({self._amount: getattr(self, self._amount), "seed": self.seed})
        return config


class GaussianNoise(_Noise):
    """Adds zero-centred Gaussian noise of standard deviation ``stddev`` in training
    (``x + N(0, stddev**2)``): a regularizer, or augmentation of real-valued inputs.

    Args:
        stddev: float in [0, 1].
        seed: an integer for a generator of the layer's own.
    """

    _amount = "stddev"

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(stddev, seed=seed, **kwargs)

    def _noisy(self, inputs):
        return inputs + self._normal(inputs.shape, inputs.dtype) * inputs.dtype.type(
            self.stddev)

    def backward(self, grad_output):
        # additive noise: dx = dy
        return grad_output


class GaussianDropout(_Noise):
    """Multiplies the inputs by 1-centred Gaussian noise of standard deviation
    ``sqrt(rate / (1 - rate))`` in training (the identity otherwise).

    Args:
        rate: float in [0, 1), the drop probability a Dropout of the same spread has.
        seed: an integer for a generator of the layer's own.
    """

    _amount = "rate"

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(rate, seed=seed, **kwargs)

    def _noisy(self, inputs):
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        noise = self._normal(inputs.shape, inputs.dtype)
        noise *= inputs.dtype.type(stddev)
        noise += inputs.dtype.type(1.0)
        self._noise = noise
        return inputs * noise

    def backward(self, grad_output):
        if self._noise is None:
            return grad_output
        return grad_output * self._noise


class _SpatialDropout(Dropout):
    """Dropout of whole feature maps: one keep / drop draw per sample and channel."""

    def __init__(self, rate, seed=None, name=None, dtype=None, **kwargs):
        super().__init__(rate, seed=seed, name=name, dtype=dtype, **kwargs)

    def _check_input(self, shape):
        if len(shape) != self._ndim:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                f"ndim={self._ndim}, found ndim={len(shape)}. Full shape received: "
                f"{tuple(shape)}")

    def get_config(self):
        # Keras's: no `trainable`, and the dtype as its name
        return {"rate": self.rate, "seed": self.seed, "name": self.name, "dtype": self.dtype}


class SpatialDropout1D(_SpatialDropout):
    """Dropout of whole channels of sequences ``(batch, steps, channels)``: each
    dropped channel is zero at every step; the kept ones are scaled by ``1 / (1 - rate)``.
    """

    _ndim = 3

    def _mask_shape(self, shape):
        return (shape[0], 1, shape[2])


class SpatialDropout2D(_SpatialDropout):
    """Dropout of whole feature maps of images ``(batch, rows, cols, channels)``
    (``channels_first``: ``(batch, channels, rows, cols)``); the kept ones are scaled
    by ``1 / (1 - rate)``."""

    _ndim = 4

    def __init__(self, rate, data_format=None, seed=None, name=None, dtype=None, **kwargs):
        super().__init__(rate, seed=seed, name=name, dtype=dtype, **kwargs)
        self.data_format = _data_format(data_format)

    def _mask_shape(self, shape):
        if self.data_format == "channels_first":
            return (shape[0], shape[1], 1, 1)
        return (shape[0], 1, 1, shape[3])

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config
