"""Lamb, Keras 3's update. Its trust ratio is a ratio of norms over each whole weight,
so it updates one weight at a time (the packed buffers slice by slice)."""

from __future__ import annotations

from tinyann import kernels
from tinyann.optimizers.base import Optimizer


class Lamb(Optimizer):
    """Adam's step scaled per weight by a trust ratio (You et al., 2019).

    ``t = iterations + 1``; ``m += (g - m)(1 - beta_1)``; ``v += (g^2 - v)(1 - beta_2)``;
    ``u = (m / (1 - beta_1^t)) / (sqrt(v / (1 - beta_2^t)) + eps)``;
    ``w -= (|w| / |u|) lr u`` (L2 norms over the whole weight; ratio 1 where either is 0).

    Args:
        learning_rate: default 0.001.
        beta_1: default 0.9. beta_2: default 0.999. epsilon: default 1e-7.
    """

    _config_keys = ("beta_1", "beta_2", "epsilon")
    slot_names = ("momentum", "velocity")
    slot_groups = (("momentum", "velocity"),)

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 weight_decay=None, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name=None, **kwargs):
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         name=name, **kwargs)

    def apply_packed(self, values, grads):
        """The packed buffers updated one weight (slice) at a time: the norms are
        per weight."""
        if self.clipvalue is not None or self.clipnorm is not None or (
                self.global_clipnorm is not None):
            self._clip([grads[a:b] for a, b in self._offsets])
        lr = self._current_lr()
        self._decay_weights(values, lr)
        for a, b in self._offsets:
            self._update(values[a:b], grads[a:b], lr,
                         {k: s[a:b] for k, s in self._slots.items()})
        self.iterations += 1
        if self._constrained:
            self._apply_constraints()

    def _update(self, w, g, lr, slots):
        # m += (g - m)(1 - beta_1);  v += (g^2 - v)(1 - beta_2)
        # u = m_hat / (sqrt(v_hat) + eps);  w -= (|w| / |u|) lr u
        kernels.lamb_update(w, g, lr, slots["momentum"], slots["velocity"], self.beta_1,
                            self.beta_2, self.epsilon, self.iterations + 1)
