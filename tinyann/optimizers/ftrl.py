"""Ftrl, Keras 3's update: elementwise, two slots (the accumulator starts at
``initial_accumulator_value``)."""

from __future__ import annotations

import numpy as np

from tinyann import kernels
from tinyann.optimizers.base import Optimizer


class Ftrl(Optimizer):
    """Follow the regularized leader (McMahan et al., 2013), with L1, L2 and L2
    shrinkage regularization. With ``p = -learning_rate_power``::

        n' = n + g^2
        z += g + 2 l2_shrinkage w - (n'^p - n^p) / lr * w
        w  = (clip(z, -l1, l1) - z) / (n'^p / lr + 2 (l2 + beta / (2 lr)))
        n  = n'

    Args:
        learning_rate: default 0.001.
        learning_rate_power: <= 0, default -0.5.
        initial_accumulator_value: the start of ``n``, >= 0, default 0.1.
        l1_regularization_strength, l2_regularization_strength,
        l2_shrinkage_regularization_strength: >= 0, default 0.
        beta: default 0.0.
    """

    _config_keys = ("learning_rate_power", "initial_accumulator_value",
                    "l1_regularization_strength", "l2_regularization_strength",
                    "l2_shrinkage_regularization_strength", "beta")
    slot_names = ("accumulator", "linear")

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5,
                 initial_accumulator_value=0.1, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0,
                 beta=0.0, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name=None, **kwargs):
        for key, value in (("initial_accumulator_value", initial_accumulator_value),
                           ("l1_regularization_strength", l1_regularization_strength),
                           ("l2_regularization_strength", l2_regularization_strength),
                           ("l2_shrinkage_regularization_strength",
                            l2_shrinkage_regularization_strength)):
            if value < 0.0:
                raise ValueError(f"`{key}` needs to be positive or zero. Received: "
                                 f"{key}={value}.")
        if learning_rate_power > 0.0:
            raise ValueError("`learning_rate_power` needs to be negative or zero. Received: "
                             f"learning_rate_power={learning_rate_power}.")
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta
        # Keras's variable order: (accumulator, linear) per weight
        self.slot_groups = (("accumulator", "linear"),)
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         name=name, **kwargs)

    def _initial_slot(self, name, size, dtype):
        value = self.initial_accumulator_value if name == "accumulator" else 0.0
        return np.full((size,), value, dtype=dtype)

    def _update(self, w, g, lr, slots):
        # n' = n + g^2;  z += g + 2 l2s w - (n'^p - n^p) / lr w
        # w = (clip(z, -l1, l1) - z) / (n'^p / lr + 2 (l2 + beta / (2 lr)));  n = n'
        kernels.ftrl_update(w, g, lr, slots["accumulator"], slots["linear"],
                            self.learning_rate_power, self.l1_regularization_strength,
                            self.l2_regularization_strength,
                            self.l2_shrinkage_regularization_strength, self.beta)
