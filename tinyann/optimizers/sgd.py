"""SGD with optional (Nesterov) momentum, Keras 3's update."""

from __future__ import annotations

from tinyann import kernels
from tinyann.optimizers.base import Optimizer


class SGD(Optimizer):
    """Gradient descent.

    ``m = momentum * m - lr * g``; ``w += m`` (or, with Nesterov,
    ``w += momentum * m - lr * g``); without momentum ``w -= lr * g``.

    Args:
        learning_rate: default 0.01.
        momentum: float in [0, 1].
        nesterov: whether to apply Nesterov momentum.
    """

    _config_keys = ("momentum", "nesterov")

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name=None, **kwargs):
        if not isinstance(momentum, (int, float)) or momentum < 0 or momentum > 1:
            raise ValueError(
                f"`momentum` must be a float between [0, 1]. Received: momentum={momentum!r}"
            )
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)
        self.slot_names = ("momentum",) if self.momentum else ()
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         name=name, **kwargs)

    def _update(self, w, g, lr, slots):
        kernels.sgd_update(w, g, lr, slots.get("momentum"), self.momentum, self.nesterov,
                       self._scratch(w, 1))
