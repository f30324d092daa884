"""Overlap losses for segmentation: Dice and Tversky, sums of ``y_true`` and ``y_pred``
over ``axis`` (None: every axis, one value for the batch; ``(1, 2, 3)``: one per image).

    I  = sum(y p)          fp = sum((1 - p) y)          fn = sum(p (1 - y))
    Dice:    1 - 2 I / (sum(y) + sum(p) + eps)
    Tversky: 1 - I / (I + alpha fp + beta fn + eps)     (alpha = beta = 0.5: Dice's
                                                         value without its eps doubling)

(Keras's names: ``fp`` counts the labels the prediction misses, ``fn`` the predicted
mass outside the labels.) ``eps`` is Keras's ``backend.epsilon()``, 1e-7. Gradients by
y_pred, with ``D`` the denominator: Dice ``-(2 y D - 2 I) / D^2``; Tversky
``-(y D - I (y - alpha y + beta (1 - y))) / D^2``.
"""

from __future__ import annotations

import numpy as np

from tinyann.losses.base import Loss, _broadcast_weight, _reduce
from tinyann.losses.functions import _as_float

EPS = 1e-7


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


def _pair(y_true, y_pred):
    p = _as_float(y_pred)
    y = np.asarray(y_true).astype(p.dtype, copy=False)
    if y.ndim == p.ndim - 1:  # (N,) labels against (N, 1): one rank, as Keras's call
        y = y[..., None]
    if y.shape != p.shape:
        y = np.broadcast_to(y, np.broadcast_shapes(y.shape, p.shape))
    return y, p


def _dice_terms(y, p, axis):
    """The per-group values and their derivative by p (float64; p's shape)."""
    intersection = np.sum(y * p, axis=axis, keepdims=True)
    denominator = np.sum(y, axis=axis, keepdims=True) + np.sum(p, axis=axis, keepdims=True) + EPS
    values = 1.0 - 2.0 * intersection / denominator
    slope = -(2.0 * y * denominator - 2.0 * intersection) / denominator ** 2
    return values, slope


def _tversky_terms(y, p, axis, alpha, beta):
    intersection = np.sum(y * p, axis=axis, keepdims=True)
    fp = np.sum((1.0 - p) * y, axis=axis, keepdims=True)
    fn = np.sum(p * (1.0 - y), axis=axis, keepdims=True)
    denominator = intersection + fp * alpha + fn * beta + EPS
    values = 1.0 - intersection / denominator
    d_denominator = y - alpha * y + beta * (1.0 - y)
    slope = -(y * denominator - intersection * d_denominator) / denominator ** 2
    return values, slope


def _squeeze(values, axis):
    return values.reshape(()) if axis is None else np.squeeze(values, axis=axis)


def dice(y_true, y_pred, axis=None):
    """The Dice loss (see the module): a scalar (axis None) or one per remaining index."""
    y, p = _pair(y_true, y_pred)
    axis = _axis(axis)
    values, _ = _dice_terms(y.astype("float64"), p.astype("float64"), axis)
    return _squeeze(values, axis).astype(p.dtype)


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """The Tversky loss (see the module)."""
    y, p = _pair(y_true, y_pred)
    axis = _axis(axis)
    values, _ = _tversky_terms(y.astype("float64"), p.astype("float64"), axis, alpha, beta)
    return _squeeze(values, axis).astype(p.dtype)


class _OverlapLoss(Loss):
    """``_terms(y, p)`` gives the values (kept dims) and dvalue/dp; the values are
    reduced over the batch as every loss's per-sample values."""

    def _terms(self, y, p):
        raise NotImplementedError

    def value_and_grad(self, y_true, y_pred, sample_weight=None, fused=False, checked=False):
        y, p = _pair(y_true, y_pred)
        kept, slope = self._terms(y.astype("float64"), p.astype("float64"))
        per = _squeeze(kept, self.axis).astype(p.dtype)
        # dL/dper = w / number of per-sample values, spread over each group's elements
        w = np.ones(per.shape) if sample_weight is None else np.broadcast_to(
            _broadcast_weight(sample_weight, per), per.shape)
        w = (w / max(per.size, 1)).reshape(kept.shape)
        return float(_reduce(per, sample_weight)), (slope * w).astype(p.dtype)

    def __call__(self, y_true, y_pred, sample_weight=None):
        from tinyann.autodiff import Tensor

        if self.reduction == "sum" and isinstance(y_pred, Tensor):
            # the base's recorded "sum" counts the rows of y_pred; here the values are
            # one per group: the mean's node times their number
            mean = type(self)(**{**self.get_config(), "reduction": "sum_over_batch_size"})
            count = np.size(self.call(y_true, y_pred.value))
            return mean(y_true, y_pred, sample_weight) * count
        return super().__call__(y_true, y_pred, sample_weight)


class Dice(_OverlapLoss):
    """The Dice loss ``1 - 2 sum(y p) / (sum(y) + sum(p) + eps)`` over ``axis``."""

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(name, reduction)
        self.axis = _axis(axis)

    def call(self, y_true, y_pred):
        return dice(y_true, y_pred, self.axis)

    def _terms(self, y, p):
        return _dice_terms(y, p, self.axis)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction, "axis": self.axis}


class Tversky(_OverlapLoss):
    """The Tversky loss: Dice with ``alpha`` weighting the labels missed and ``beta``
    the predicted mass outside the labels (see the module)."""

    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky",
                 axis=None, dtype=None):
        super().__init__(name, reduction)
        self.alpha, self.beta = alpha, beta
        self.axis = _axis(axis)

    def call(self, y_true, y_pred):
        return tversky(y_true, y_pred, self.alpha, self.beta, self.axis)

    def _terms(self, y, p):
        return _tversky_terms(y, p, self.axis, self.alpha, self.beta)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction, "alpha": self.alpha,
                "beta": self.beta, "axis": self.axis}


CLASSES = (Dice, Tversky)
FUNCTIONS = {dice: Dice, tversky: Tversky}
