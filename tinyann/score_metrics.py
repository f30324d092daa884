"""Scores Keras 3 computes from sums kept over the batches: ``FBetaScore`` / ``F1Score``
(per class from true and false positives and negatives) and ``R2Score`` (the
coefficient of determination). Inputs are 2-D: ``(samples, classes or outputs)``.

``eps`` is Keras's ``backend.epsilon()``, 1e-7.
"""

from __future__ import annotations

import warnings

import numpy as np

from tinyann.metric_base import Metric

EPS = 1e-7


def _two_d(name, y_true, y_pred):
    if y_pred.ndim != 2 or y_true.ndim != 2:
        raise ValueError(
            f"{name} expects 2D inputs with shape (batch_size, output_dim). Received input "
            f"shapes: y_pred.shape={y_pred.shape} and y_true.shape={y_true.shape}.")


class FBetaScore(Metric):
    """``(1 + beta^2) P R / (beta^2 P + R)`` per class, from counts over all batches.

    Args:
        average: None (a score per class), ``'micro'`` (counts pooled over classes),
            ``'macro'`` (the mean of the classes' scores) or ``'weighted'`` (weighted
            by each class's number of true labels).
        beta: the weight of recall against precision (a float > 0).
        threshold: predictions above it are positive; None: the largest of each row.
    """

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score",
                 dtype=None):
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError("Invalid `average` argument value. Expected one of: {None, "
                             f"'micro', 'macro', 'weighted'}}. Received: average={average}")
        if not isinstance(beta, float):
            raise ValueError("Invalid `beta` argument value. It should be a Python float. "
                             f"Received: beta={beta} of type '{type(beta)}'")
        if beta <= 0.0:
            raise ValueError(f"Invalid `beta` argument value. It should be > 0. Received: "
                             f"beta={beta}")
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError(
                    "Invalid `threshold` argument value. It should be a Python float. "
                    f"Received: threshold={threshold} of type '{type(threshold)}'")
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError("Invalid `threshold` argument value. It should verify "
                                 f"0 < threshold <= 1. Received: threshold={threshold}")
        self.average, self.beta, self.threshold = average, beta, threshold
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self._counts = None  # tp, fp, fn, true labels: made at the first batch

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = np.asarray(y_true, dtype="float64")
        y_pred = np.asarray(y_pred, dtype="float64")
        _two_d("FBetaScore", y_true, y_pred)
        if self.threshold is None:  # the row's largest (ties all count), if not ~0
            positive = (y_pred >= y_pred.max(axis=-1, keepdims=True)) & (np.abs(y_pred) > 1e-9)
        else:
            positive = y_pred > self.threshold
        p = positive.astype("float64")
        w = 1.0 if sample_weight is None else np.asarray(sample_weight, "float64")[:, None]
        axis = None if self.average == "micro" else 0
        parts = [p * y_true, p * (1 - y_true), (1 - p) * y_true, y_true]
        sums = [np.sum(part * w, axis=axis) for part in parts]
        self._counts = sums if self._counts is None else [
            a + b for a, b in zip(self._counts, sums)]

    def result(self):
        if self._counts is None:
            return 0.0
        tp, fp, fn, labels = self._counts
        precision = tp / (tp + fp + EPS)
        recall = tp / (tp + fn + EPS)
        beta2 = self.beta ** 2
        score = precision * recall / (beta2 * precision + recall + EPS) * (1 + beta2)
        if self.average == "weighted":
            return float(np.sum(score * labels / (np.sum(labels) + EPS)))
        if self.average is not None:
            return float(np.mean(score))
        return score.astype(self.dtype)

    @property
    def variables(self):
        return [] if self._counts is None else [c.astype(self.dtype) for c in self._counts]

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "beta": self.beta,
                "average": self.average, "threshold": self.threshold}


class F1Score(FBetaScore):
    """FBetaScore with ``beta=1``: the harmonic mean of precision and recall."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name,
                         dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config


class R2Score(Metric):
    """``1 - residual sum of squares / total sum of squares`` per output, over all the
    batches (weighted by ``sample_weight``).

    Args:
        class_aggregation: ``'uniform_average'`` (the outputs' mean), None (one per
            output) or ``'variance_weighted_average'``.
        num_regressors: > 0 gives the adjusted R2 for that many independent variables.
    """

    def __init__(self, class_aggregation="uniform_average", num_regressors=0,
                 name="r2_score", dtype=None):
        valid = (None, "uniform_average", "variance_weighted_average")
        if class_aggregation not in valid:
            raise ValueError("Invalid value for argument `class_aggregation`. Expected one "
                             f"of {valid}. Received: class_aggregation={class_aggregation}")
        if num_regressors < 0:
            raise ValueError("Invalid value for argument `num_regressors`. Expected a value "
                             f">= 0. Received: num_regressors={num_regressors}")
        self.class_aggregation, self.num_regressors = class_aggregation, num_regressors
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self._sums = None  # sum, squared sum, residual, count (per output)
        self.num_samples = 0

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = np.asarray(y_true, dtype="float64")
        y_pred = np.asarray(y_pred, dtype="float64")
        if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
            y_pred = y_pred[..., None] if y_pred.ndim == 1 else y_pred
            y_true = y_true if y_pred.ndim == y_true.ndim else y_true[..., 0]
        elif y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
            y_true = y_true[..., None] if y_true.ndim == 1 else y_true
            y_pred = y_pred if y_pred.ndim == y_true.ndim else y_pred[..., 0]
        _two_d("R2Score", y_true, y_pred)
        w = np.asarray(1.0 if sample_weight is None else sample_weight, dtype="float64")
        if w.ndim == 1:
            w = w[:, None]
        w = np.broadcast_to(w, y_true.shape)
        weighted = y_true * w
        sums = [weighted.sum(axis=0), (y_true * weighted).sum(axis=0),
                ((y_true - y_pred) ** 2 * w).sum(axis=0), w.sum(axis=0)]
        self._sums = sums if self._sums is None else [a + b for a, b in zip(self._sums, sums)]
        self.num_samples += y_true.size

    def result(self):
        if self._sums is None:
            return 0.0
        total_sum, squared, residual, count = self._sums
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = total_sum / count
            total = squared - total_sum * mean
            raw = 1 - residual / total
        raw = np.where(np.isinf(raw), 0.0, raw)
        if self.class_aggregation == "uniform_average":
            score = np.mean(raw)
        elif self.class_aggregation == "variance_weighted_average":
            score = np.sum(total * raw) / np.sum(total)
        else:
            score = raw
        if self.num_regressors:
            n, p = self.num_samples, self.num_regressors
            if p > n - 1:
                warnings.warn("More independent predictors than datapoints in adjusted R2 "
                              "score. Falling back to standard R2 score.", stacklevel=2)
            elif p == n - 1:
                warnings.warn("Division by zero in Adjusted R2 score. Falling back to "
                              "standard R2 score.", stacklevel=2)
            else:
                score = 1.0 - (1.0 - score) * (n - 1.0) / (n - p - 1.0)
        return float(score) if np.ndim(score) == 0 else np.asarray(score, self.dtype)

    @property
    def variables(self):
        sums = [] if self._sums is None else [s.astype(self.dtype) for s in self._sums]
        return [np.float32(self.num_samples)] + sums

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype,
                "class_aggregation": self.class_aggregation,
                "num_regressors": self.num_regressors}


CLASSES = (FBetaScore, F1Score, R2Score)
