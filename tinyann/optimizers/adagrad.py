"""Adagrad and Adadelta, Keras 3's updates."""

from __future__ import annotations

import numpy as np

from tinyann import kernels
from tinyann.optimizers.base import Optimizer


class Adagrad(Optimizer):
    """Per-parameter learning rates from the sum of squared gradients.

    ``acc += g^2``; ``w -= lr g / sqrt(acc + eps)``.

    Args:
        learning_rate: default 0.001.
        initial_accumulator_value: starting value of ``acc``, default 0.1.
        epsilon: default 1e-7.
    """

    _config_keys = ("initial_accumulator_value", "epsilon")

    slot_names = ("accumulator",)

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name=None, **kwargs):
        if initial_accumulator_value < 0:
            raise ValueError(
                "Argument `initial_accumulator_value` must be non-negative. "
                f"Received: initial_accumulator_value={initial_accumulator_value}"
            )
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         name=name, **kwargs)

    def _initial_slot(self, name, size, dtype):
        return np.full((size,), self.initial_accumulator_value, dtype=dtype)

    def _update(self, w, g, lr, slots):
        kernels.adagrad_update(w, g, lr, slots["accumulator"], self.epsilon, self._scratch(w))


class Adadelta(Optimizer):
    """``a = rho a + (1 - rho) g^2``; ``d = -sqrt(s + eps) / sqrt(a + eps) g``;
    ``s = rho s + (1 - rho) d^2``; ``w += lr d``."""

    _config_keys = ("rho", "epsilon")

    slot_names = ("accumulated_grad", "accumulated_delta_var")

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name=None,
                 **kwargs):
        self.rho, self.epsilon = rho, epsilon
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         name=name, **kwargs)

    def _update(self, w, g, lr, slots):
        kernels.adadelta_update(w, g, lr, slots["accumulated_grad"],
                            slots["accumulated_delta_var"], self.rho, self.epsilon)
