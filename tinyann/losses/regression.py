"""Regression losses: mean squared error, mean absolute error, Huber."""

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


class MeanSquaredError(Loss):
    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(name, reduction)

    def call(self, y_true, y_pred):
        return mean_squared_error(y_true, y_pred)

    def value_and_grad(self, y_true, y_pred, sample_weight=None, fused=False, checked=False):
        y_pred = _as_float(y_pred)
        diff = y_pred - _regression_targets(y_true, y_pred)
        per = np.square(diff).mean(axis=-1)
        scale = _grad_scale(sample_weight, per.shape, y_pred.dtype) * (2.0 / y_pred.shape[-1])
        return float(_reduce(per, sample_weight)), (diff * scale).astype(y_pred.dtype)


class MeanAbsoluteError(Loss):
    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(name, reduction)

    def call(self, y_true, y_pred):
        return mean_absolute_error(y_true, y_pred)

    def value_and_grad(self, y_true, y_pred, sample_weight=None, fused=False, checked=False):
        y_pred = _as_float(y_pred)
        diff = y_pred - _regression_targets(y_true, y_pred)
        per = np.abs(diff).mean(axis=-1)
        scale = _grad_scale(sample_weight, per.shape, y_pred.dtype) / y_pred.shape[-1]
        return float(_reduce(per, sample_weight)), (np.sign(diff) * scale).astype(y_pred.dtype)


class Huber(Loss):
    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss", dtype=None):
        super().__init__(name, reduction)
        self.delta = delta

    def call(self, y_true, y_pred):
        return huber(y_true, y_pred, self.delta)

    def value_and_grad(self, y_true, y_pred, sample_weight=None, fused=False, checked=False):
        y_pred = _as_float(y_pred)
        diff = y_pred - _regression_targets(y_true, y_pred)
        per = huber(y_true, y_pred, self.delta)
        scale = _grad_scale(sample_weight, per.shape, y_pred.dtype) / y_pred.shape[-1]
        grad = np.clip(diff, -self.delta, self.delta) * scale
        return float(_reduce(per, sample_weight)), grad.astype(y_pred.dtype)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction, "delta": self.delta}


