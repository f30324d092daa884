"""Correlation metrics, Keras 3's: the mean over the batch of a per-sample correlation
along ``axis`` (the last: one correlation per row of ``(samples, values)``).

    pearson_correlation      mean(zt * zp),  z = (x - mean(x)) / std(x - mean(x))
    concordance_correlation  mean(2 (y - mean(p)) (p - mean(p)) /
                                  (var(y) + var(p) + (mean(y) - mean(p))^2 + eps))

(Keras's concordance centres ``y_true`` on the mean of ``y_pred`` in the numerator;
tinyann follows it.) ``eps`` is Keras's ``backend.epsilon()``, 1e-7. Constant rows make
Pearson's division 0 / 0: NaN, as Keras.
"""

from __future__ import annotations

import numpy as np

from tinyann.metric_base import Metric

EPS = 1e-7


def _regression_pair(y_true, y_pred):
    """Float arrays of one shape; (N,) labels against (N, 1) predictions read as (N, 1)."""
    p = np.asarray(y_pred)
    p = p if p.dtype.kind == "f" else p.astype("float32")
    y = np.asarray(y_true).astype(p.dtype, copy=False)
    if y.ndim == p.ndim - 1:
        y = y[..., None]
    elif y.ndim == p.ndim + 1 and y.shape[-1] == 1:
        y = y[..., 0]
    return np.broadcast_arrays(y, p)


def pearson_correlation(y_true, y_pred, axis=-1):
    """The Pearson correlation of each sample's values along ``axis``: (N, C) -> (N,)."""
    y, p = _regression_pair(y_true, y_pred)
    zy = y - y.mean(axis=axis, keepdims=True)
    zp = p - p.mean(axis=axis, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        zy = zy / zy.std(axis=axis, keepdims=True)
        zp = zp / zp.std(axis=axis, keepdims=True)
    return (zy * zp).mean(axis=axis)


def concordance_correlation(y_true, y_pred, axis=-1):
    """Lin's concordance correlation (Keras's form, see the module): (N, C) -> (N,)."""
    y, p = _regression_pair(y_true, y_pred)
    y_mean = y.mean(axis=axis, keepdims=True)
    p_mean = p.mean(axis=axis, keepdims=True)
    y_var = (y - y_mean).var(axis=axis, keepdims=True)
    p_var = (p - p_mean).var(axis=axis, keepdims=True)
    covariance = (y - p_mean) * (p - p_mean)
    norm = y_var + p_var + np.square(y_mean - p_mean)
    return (2 * covariance / (norm + EPS)).mean(axis=axis)


class _CorrelationMetric(Metric):
    """The weighted mean over the samples of ``_function(y_true, y_pred, axis)``."""

    _function = None

    def __init__(self, name=None, dtype=None, axis=-1):
        self.axis = axis
        super().__init__(name, dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = np.asarray(type(self)._function(y_true, y_pred, self.axis), "float64")
        w = np.ones(values.shape) if sample_weight is None else np.broadcast_to(
            np.asarray(sample_weight, "float64").reshape(values.shape[:1] + (1,) * (
                values.ndim - 1)) if np.ndim(sample_weight) else sample_weight, values.shape)
        self.total += float((values * w).sum())
        self.count += float(w.sum())

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class PearsonCorrelation(_CorrelationMetric):
    """The mean over the samples of the Pearson correlation along ``axis``."""

    _function = staticmethod(pearson_correlation)

    def __init__(self, name="pearson_correlation", dtype=None, axis=-1):
        super().__init__(name, dtype, axis)


class ConcordanceCorrelation(_CorrelationMetric):
    """The mean over the samples of the concordance correlation along ``axis``."""

    _function = staticmethod(concordance_correlation)

    def __init__(self, name="concordance_correlation", dtype=None, axis=-1):
        super().__init__(name, dtype, axis)


CLASSES = (PearsonCorrelation, ConcordanceCorrelation)
