"""Lion, Keras 3's update: elementwise (the packed fast path updates every weight at
once)."""

from __future__ import annotations

from tinyann import kernels
from tinyann.optimizers.base import Optimizer


class Lion(Optimizer):
    """Evolved sign momentum (Chen et al., 2023).

    ``w -= lr sign(beta_1 m + (1 - beta_1) g)``; ``m = beta_2 m + (1 - beta_2) g``.
    Every step moves each weight by exactly ``lr``: use a smaller learning rate
    than Adam's (3-10x).

    Args:
        learning_rate: default 0.001.
        beta_1: the interpolation of the update's direction, in (0, 1], default 0.9.
        beta_2: the momentum's decay, default 0.99.
    """

    _config_keys = ("beta_1", "beta_2")
    slot_names = ("momentum",)

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name=None, **kwargs):
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError(
                "Argument `beta_1` must be in the [0, 1] range. Otherwise, the optimizer "
                f"degenerates to SignSGD. Received: beta_1={beta_1}.")
        self.beta_1, self.beta_2 = beta_1, beta_2
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         name=name, **kwargs)

    def _update(self, w, g, lr, slots):
        # w -= lr sign(beta_1 m + (1 - beta_1) g);  m = beta_2 m + (1 - beta_2) g
        kernels.lion_update(w, g, lr, slots["momentum"], self.beta_1, self.beta_2)
