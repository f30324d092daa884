"""Adam, AdamW and Adamax, Keras 3's updates."""

from __future__ import annotations

import numpy as np

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
        f = w.dtype.type
        t = self.iterations + 1
        # the powers in the variable's dtype, as Keras computes them
        b1_power = f(self.beta_1) ** f(t)
        b2_power = f(self.beta_2) ** f(t)
        alpha = f(lr) * np.sqrt(f(1) - b2_power) / (f(1) - b1_power)
        m, v = slots["momentum"], slots["velocity"]
        tmp, step = self._scratch(w)
        # m += (g - m)(1 - beta_1)
        np.subtract(g, m, out=tmp)
        tmp *= f(1.0 - self.beta_1)
        m += tmp
        # v += (g^2 - v)(1 - beta_2)
        np.multiply(g, g, out=tmp)
        tmp -= v
        tmp *= f(1.0 - self.beta_2)
        v += tmp
        if self.amsgrad:
            v_hat = slots["velocity_hat"]
            np.maximum(v_hat, v, out=v_hat)
            v = v_hat
        # w -= alpha m / (sqrt(v) + eps)
        np.sqrt(v, out=tmp)
        tmp += f(self.epsilon)
        np.multiply(m, alpha, out=step)
        np.divide(step, tmp, out=step)
        w -= step

    def get_config(self):
        config = super().get_config()
        config.update(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon,
                      amsgrad=self.amsgrad)
        return config


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


class Adamax(Optimizer):
    """Adam with the infinity norm: ``u = max(beta_2 u, |g|)``;
    ``w -= lr m / ((1 - beta_1^t)(u + eps))``."""

    slot_names = ("m", "u")

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name=None, **kwargs):
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         name=name, **kwargs)

    def _update(self, w, g, lr, slots):
        f = w.dtype.type
        # the power in the variable's dtype, as Keras computes it
        b1_power = f(self.beta_1) ** f(self.iterations + 1)
        m, u = slots["m"], slots["u"]
        m += (g - m) * f(1.0 - self.beta_1)
        np.maximum(u * f(self.beta_2), np.abs(g), out=u)
        w -= (m * f(lr)) / ((f(1) - b1_power) * (u + f(self.epsilon)))

    def get_config(self):
        config = super().get_config()
        config.update(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon)
        return config
