"""Adafactor, Keras 3's update (Shazeer and Stern, 2018): Adam-like steps whose second
moment of a weight of rank >= 2 is kept factored, as its row means ``r`` and column
means ``c`` (memory ``rows + columns`` instead of ``rows * columns``).

Each weight is updated on its own (its RMS, its row and column means), so the packed
buffers are updated slice by slice. State per weight, in Keras's order: ``r`` and ``c``
(0-d zeros, unused, below rank 2), then ``velocity`` (the second moment used, the
weight's shape).
"""

from __future__ import annotations

import numpy as np

from tinyann import kernels
from tinyann.optimizers.base import Optimizer, _fortran


class Adafactor(Optimizer):
    """``t = iterations + 1``; ``rho = min(lr, 1 / sqrt(t))``;
    ``alpha = max(epsilon_2, rms(w)) rho``; ``g2 = g^2 + epsilon_1``;
    ``beta = 1 - t^beta_2_decay``. Rank >= 2: ``r = beta r + (1 - beta) mean(g2, -1)``,
    ``c = beta c + (1 - beta) mean(g2, -2)``, ``v = r / mean(r) (outer) c``; else
    ``v = beta v + (1 - beta) g2``. ``u = g / sqrt(v)``;
    ``w -= alpha u / max(1, rms(u) / clip_threshold)``.

    Args:
        learning_rate: default 0.001 (capped at ``1 / sqrt(t)``).
        beta_2_decay: default -0.8. epsilon_1: default 1e-30. epsilon_2: default 1e-3.
        clip_threshold: default 1.0.
        relative_step: default True (Keras's flag; the cap above applies either way in
            Keras 3's update, so it changes nothing).
    """

    _config_keys = ("beta_2_decay", "epsilon_1", "epsilon_2", "clip_threshold",
                    "relative_step")
    slot_names = ("velocity",)

    def __init__(self, learning_rate=0.001, beta_2_decay=-0.8, epsilon_1=1e-30,
                 epsilon_2=1e-3, clip_threshold=1.0, relative_step=True, weight_decay=None,
                 clipnorm=None, clipvalue=None, global_clipnorm=None, name=None, **kwargs):
        self.beta_2_decay, self.epsilon_1, self.epsilon_2 = beta_2_decay, epsilon_1, epsilon_2
        self.clip_threshold, self.relative_step = clip_threshold, relative_step
        self._factors: list = []
        super().__init__(learning_rate, weight_decay, clipnorm, clipvalue, global_clipnorm,
                         name=name, **kwargs)

    def build(self, variables) -> None:
        super().build(variables)
        self._factors = []
        for v in self._variables:
            shape = v.value.shape
            # a weight of rank < 2 keeps two unused 0-d zeros, as Keras lists them
            self._factors.append((np.zeros((), v.value.dtype),) * 2 if len(shape) < 2 else (
                np.zeros(shape[:-1], v.value.dtype),
                np.zeros(shape[:-2] + shape[-1:], v.value.dtype)))

    def _step(self, index, w, g, lr):
        r, c = self._factors[index] if w.ndim >= 2 else (None, None)
        # rho = min(lr, 1/sqrt(t)); alpha = max(eps_2, rms(w)) rho; (r, c or) v from g^2 + eps_1
        # w -= alpha u / max(1, rms(u) / clip_threshold),  u = g / sqrt(v)
        kernels.adafactor_update(w, g, lr, self._slot_views(index)["velocity"], r, c,
                                 self.beta_2_decay, self.epsilon_1, self.epsilon_2,
                                 self.clip_threshold, self.iterations + 1)

    def apply_packed(self, values, grads):
        """The packed buffers, one weight (slice, in its own shape and order) at a time."""
        if self.clipvalue is not None or self.clipnorm is not None or (
                self.global_clipnorm is not None):
            self._clip([grads[a:b] for a, b in self._offsets])
        lr = self._current_lr()
        self._decay_weights(values, lr)
        for i, (a, b) in enumerate(self._offsets):
            value = self._variables[i].value
            order = "F" if _fortran(value) else "C"
            self._step(i, values[a:b].reshape(value.shape, order=order),
                       grads[a:b].reshape(value.shape, order=order), lr)
        self.iterations += 1
        if self._constrained:
            self._apply_constraints()

    def _update(self, w, g, lr, slots):
        # the per-variable path: w is one variable's value
        i = next(k for k, v in enumerate(self._variables)
                 if v.value is w or np.shares_memory(v.value, w))
        self._step(i, w, g, lr)

    def _interleave(self, head, velocities, factors):
        """Keras's order: per weight, r and c (rank >= 2), then the velocity."""
        out = list(head)
        for velocity, pair in zip(velocities, factors):
            out.extend(pair)
            out.append(velocity)
        return out

    @property
    def variables(self):
        out = super().variables
        if not self.built:
            return out
        n = len(self._variables)
        return self._interleave(out[:len(out) - n], out[len(out) - n:],
                                self._factors)

    def _variable_names(self):
        names = super()._variable_names()
        if not self.built:
            return names
        n = len(self._variables)
        paths = [v.path.replace("/", "_") for v in self._variables]
        return self._interleave(names[:len(names) - n], names[len(names) - n:], [
            (f"{p}_r", f"{p}_c") for p in paths])
