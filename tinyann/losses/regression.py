"""Regression losses: mean squared error, mean absolute error, Huber.

Each is the mean over the last axis of an elementwise loss of ``d = y_pred - y_true``;
the gradient is that loss's slope times the sample's weight / (number of samples * C).
"""

from __future__ import annotations

import numpy as np

from tinyann.losses.base import Loss, _grad_scale, _reduce
from tinyann.losses.functions import (
    _as_float,
    _regression_targets,
    huber,
    mean_absolute_error,
    mean_squared_error,
)


class _RegressionLoss(Loss):
    """Subclasses give ``_elementwise(d) -> (loss of each element, dloss/dd, factor)``
    and ``_function(y_true, y_pred)``, the per-sample loss."""

    _function = None

    def call(self, y_true, y_pred):
        return self._function(y_true, y_pred)

    def value_and_grad(self, y_true, y_pred, sample_weight=None, fused=False, checked=False):
        y_pred = _as_float(y_pred)
        diff = y_pred - _regression_targets(y_true, y_pred)
        values, slope, factor = self._elementwise(diff)
        per = values.mean(axis=-1)
        scale = _grad_scale(sample_weight, per.shape, y_pred.dtype) * (factor / y_pred.shape[-1])
        return float(_reduce(per, sample_weight)), (slope * scale).astype(y_pred.dtype)


class MeanSquaredError(_RegressionLoss):
    _function = staticmethod(mean_squared_error)

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(name, reduction)

    def _elementwise(self, diff):
        return np.square(diff), diff, 2.0  # d(d^2)/dd = 2 d


class MeanAbsoluteError(_RegressionLoss):
    _function = staticmethod(mean_absolute_error)

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(name, reduction)

    def _elementwise(self, diff):
        return np.abs(diff), np.sign(diff), 1.0


class Huber(_RegressionLoss):
    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(name, reduction)
        self.delta = delta

    def call(self, y_true, y_pred):
        return huber(y_true, y_pred, self.delta)

    def _elementwise(self, diff):
        # quadratic within delta, linear beyond: the slope is d clipped to [-delta, delta]
        err = np.abs(diff)
        quad = np.minimum(err, self.delta)
        return 0.5 * quad * quad + self.delta * (err - quad), np.clip(
            diff, -self.delta, self.delta), 1.0

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction, "delta": self.delta}
