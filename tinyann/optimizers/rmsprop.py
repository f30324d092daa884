"""RMSprop, Keras 3's update (epsilon inside the square root)."""

from __future__ import annotations

import numpy as np

from tinyann.optimizers.base import Optimizer


class RMSprop(Optimizer):
    """Divides the gradient by a running root mean square of recent gradients.

    ``v = rho v + (1 - rho) g^2``; ``step = lr g / sqrt(v + eps)`` (centered:
    ``sqrt(v - a^2 + eps)`` with ``a`` the running mean gradient); with momentum
    ``m = momentum m + step``, ``w -= m``; else ``w -= step``.

    Args:
        learning_rate: default 0.001.
        rho: discount of the running average, default 0.9.
        momentum: default 0.0.
        epsilon: default 1e-7.
        centered: normalise by the estimated variance instead of the second moment.
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, name=None, **kwargs):
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered
        names = ["velocity"]
        if momentum > 0:
            names.append("momentum")
        if centered:
            names.append("average_gradient")
        self.slot_names = tuple(names)
        # Keras's variable order: all velocities, then all momentums, then averages
        self.slot_groups = tuple((n,) for n in names)
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         name=name, **kwargs)

    def _update(self, w, g, lr, slots):
        rho, one_minus_rho, eps = self._constants(w.dtype, self.rho, 1.0 - self.rho,
                                                  self.epsilon)
        v = slots["velocity"]
        tmp, step = self._scratch(w)
        # v = rho v + (1 - rho) g^2
        np.multiply(g, g, out=tmp)
        np.multiply(tmp, one_minus_rho, out=tmp)
        np.multiply(v, rho, out=v)
        np.add(v, tmp, out=v)
        if self.centered:
            a = slots["average_gradient"]
            a *= rho
            np.multiply(g, one_minus_rho, out=tmp)
            a += tmp
            np.multiply(a, a, out=tmp)
            np.subtract(v, tmp, out=tmp)
            tmp += eps
        else:
            np.add(v, eps, out=tmp)
        np.sqrt(tmp, out=tmp)
        # increment = lr * g / sqrt(denominator)
        np.multiply(g, w.dtype.type(lr), out=step)
        np.divide(step, tmp, out=step)
        if self.momentum > 0:
            m = slots["momentum"]
            m *= w.dtype.type(self.momentum)
            m += step
            w -= m
        else:
            np.subtract(w, step, out=w)

    def get_config(self):
        config = super().get_config()
        config.update(rho=self.rho, momentum=self.momentum, epsilon=self.epsilon,
                      centered=self.centered)
        return config
