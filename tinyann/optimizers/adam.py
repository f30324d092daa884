"""Adam, AdamW, Adamax and Nadam, Keras 3's updates."""

from __future__ import annotations

import numpy as np

from tinyann import kernels
from tinyann.optimizers.base import Optimizer


class Adam(Optimizer):
    """Adaptive moment estimation.

    ``t = iterations + 1``; ``alpha = lr sqrt(1 - beta_2^t) / (1 - beta_1^t)``;
    ``m += (g - m)(1 - beta_1)``; ``v += (g^2 - v)(1 - beta_2)``;
    ``w -= alpha m / (sqrt(v) + eps)`` (amsgrad: ``v`` replaced by its running max).

    Args:
        learning_rate: default 0.001.
        beta_1: default 0.9. beta_2: default 0.999. epsilon: default 1e-7.
        amsgrad: whether to use the AMSGrad variant.
    """

    _config_keys = ("beta_1", "beta_2", "epsilon", "amsgrad")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name=None, **kwargs):
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = amsgrad
        self.slot_names = ("momentum", "velocity", "velocity_hat") if amsgrad else (
            "momentum", "velocity")
        # Keras's variable order: (momentum, velocity) per weight, then velocity_hats
        self.slot_groups = (("momentum", "velocity"), ("velocity_hat",)[:int(amsgrad)])
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         name=name, **kwargs)

    def _update(self, w, g, lr, slots):
        kernels.adam_update(w, g, lr, slots["momentum"], slots["velocity"],
                        slots.get("velocity_hat"), self.beta_1, self.beta_2, self.epsilon,
                        self.iterations + 1, self._scratch(w))


class AdamW(Adam):
    """Adam with decoupled weight decay (default 0.004), as Keras 3."""

    def __init__(self, learning_rate=0.001, weight_decay=0.004, beta_1=0.9, beta_2=0.999,
                 epsilon=1e-7, amsgrad=False, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name=None, **kwargs):
        if not weight_decay:
            raise ValueError(
                "Argument `weight_decay` must be a float. Received: weight_decay=None"
            )
        super().__init__(learning_rate, beta_1, beta_2, epsilon, amsgrad, weight_decay,
                         clipnorm, clipvalue, global_clipnorm, name=name, **kwargs)


class _TwoMoments(Optimizer):
    """Adamax's and Nadam's arguments: Adam's without amsgrad."""

    _config_keys = ("beta_1", "beta_2", "epsilon")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name=None, **kwargs):
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         name=name, **kwargs)


class Adamax(_TwoMoments):
    """Adam with the infinity norm: ``u = max(beta_2 u, |g|)``;
    ``w -= lr m / ((1 - beta_1^t)(u + eps))``."""

    slot_names = ("m", "u")

    def _update(self, w, g, lr, slots):
        kernels.adamax_update(w, g, lr, slots["m"], slots["u"], self.beta_1, self.beta_2,
                          self.epsilon, self.iterations + 1)


class Nadam(_TwoMoments):
    """Adam with Nesterov momentum (Keras 3's formula: see ``kernels.nadam_update``).

    Keeps one more state variable than Adam, the product of the momentum schedule
    ``mu_1 ... mu_t``; Keras lists it last among the optimizer's variables.
    """

    slot_names = ("momentum", "velocity")

    def __init__(self, *args, **kwargs):
        self._u_product = np.ones((), dtype="float32")
        self._u_step = -1  # the iteration whose mu_t is in _u_product
        super().__init__(*args, **kwargs)

    def _update(self, w, g, lr, slots):
        t = self.iterations + 1
        if self._u_step != self.iterations:  # once a step, however many blocks follow
            mu_t = np.float32(self.beta_1) * (np.float32(1) - np.float32(0.5) *
                                              np.float32(0.96) ** np.float32(t))
            self._u_product[...] = self._u_product * mu_t
            self._u_step = self.iterations
        kernels.nadam_update(w, g, lr, slots["momentum"], slots["velocity"], self.beta_1,
                             self.beta_2, self.epsilon, t, self._u_product)

    @property
    def variables(self):
        return super().variables + ([self._u_product] if self.built else [])

    def _variable_names(self):
        return super()._variable_names() + (["variable"] if self.built else [])

    def set_weights(self, weights):
        super().set_weights(weights)
        self._u_step = self.iterations - 1  # the loaded product is the last step's
