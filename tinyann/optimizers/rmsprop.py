"""RMSprop, Keras 3's update (epsilon inside the square root)."""

from __future__ import annotations

from tinyann import kernels
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

    _config_keys = ("rho", "momentum", "epsilon", "centered")

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
        kernels.rmsprop_update(w, g, lr, slots["velocity"], slots.get("momentum"),
                           slots.get("average_gradient"), self.rho, self.momentum,
                           self.epsilon, self._scratch(w))
