"""Metrics counted from a confusion matrix at thresholds, as Keras 3 computes them:
``TruePositives`` ... ``FalseNegatives``, ``Precision``, ``Recall`` and ``AUC``.

Every prediction ``p`` with label ``y`` (cast to bool) and weight ``w`` counts, at each
threshold ``t``: a true positive when ``y and p > t``, a false positive when ``not y and
p > t``, a false negative when ``y and p <= t``, a true negative otherwise. Labels and
predictions of any shape are flattened (``multi_label=True`` in AUC keeps a column per
label). Counting sorts the predictions into the threshold intervals once
(``searchsorted``) and sums from the top, so 200 thresholds cost about what one does.
"""

from __future__ import annotations

import numpy as np

from tinyann.metric_base import Metric

_EPSILON = 1e-7  # Keras's backend.epsilon(): AUC's end thresholds sit just outside [0, 1]


def _thresholds(thresholds, default):
    """Keras's ``parse_init_thresholds``: a float or a list of floats in [0, 1]."""
    values = [default] if thresholds is None else (
        list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray))
        else [thresholds])
    for t in values:
        if not 0.0 <= float(t) <= 1.0 and t != default:
            raise ValueError(
                f"Threshold values must be in [0, 1]. Received: {thresholds}")
    return np.asarray(values, dtype="float64")


def _top_k(y_pred, k):
    """Keras's ``_filter_top_k``: all but the k largest of the last axis set to -inf."""
    keep = np.argsort(-y_pred, axis=-1, kind="stable")[..., :k]
    out = np.full_like(y_pred, -np.inf)
    np.put_along_axis(out, keep, np.take_along_axis(y_pred, keep, axis=-1), axis=-1)
    return out


def confusion_counts(y_true, y_pred, thresholds, sample_weight=None, top_k=None,
                     class_id=None, columns=False):
    """``(tp, fp, tn, fn)``, each of shape (thresholds,), or (thresholds, labels) with
    ``columns`` (a column per label of 2-D data).

    Args:
        y_true, y_pred: the same shape (a trailing axis of 1 on either is squeezed or
            added as Keras does); y_pred in [0, 1].
        thresholds: (T,) floats.
        sample_weight: None, a number, or broadcastable to y_true (per sample: (n,)).
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred, dtype="float64")
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    elif y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
        y_pred = y_pred[..., 0]
    weights = np.ones(y_pred.shape) if sample_weight is None else np.asarray(
        sample_weight, dtype="float64")
    if weights.ndim and weights.ndim < y_pred.ndim:  # per sample: over the other axes
        weights = weights.reshape(weights.shape + (1,) * (y_pred.ndim - weights.ndim))
    weights = np.broadcast_to(weights, y_pred.shape)
    if top_k is not None:
        y_pred = _top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError(
                "When class_id is provided, y_pred must be a 2D array with shape "
                f"(num_samples, num_classes), found shape: {y_pred.shape}")
        y_true, y_pred = y_true[..., class_id], y_pred[..., class_id]
        weights = weights[..., class_id]
    positive = y_true.astype(bool)
    if columns:
        return tuple(np.stack(c, axis=-1) for c in zip(*(
            _counts(positive[:, j], y_pred[:, j], weights[:, j], thresholds)
            for j in range(y_pred.shape[1]))))
    return _counts(positive.reshape(-1), y_pred.reshape(-1), weights.reshape(-1), thresholds)


def _counts(positive, y_pred, weights, thresholds):
    """The four counts over flat arrays: ``idx`` = how many thresholds lie strictly
    below each prediction, so the prediction is above threshold k exactly when k < idx."""
    order = np.argsort(thresholds, kind="stable")
    idx = np.searchsorted(thresholds[order], y_pred, side="left")
    size = len(thresholds) + 1
    # above[k] = the weight of predictions above threshold k: a sum from the top
    pos = np.bincount(idx, weights=weights * positive, minlength=size)
    neg = np.bincount(idx, weights=weights * ~positive, minlength=size)
    tp_sorted = np.cumsum(pos[::-1])[::-1][1:]
    fp_sorted = np.cumsum(neg[::-1])[::-1][1:]
    tp, fp = np.empty_like(tp_sorted), np.empty_like(fp_sorted)
    tp[order], fp[order] = tp_sorted, fp_sorted
    return tp, fp, neg.sum() - fp, pos.sum() - tp


def _safe_divide(a, b):
    """``a / b``, 0 where ``b`` is 0 (Keras's ``divide_no_nan``)."""
    a, b = np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")
    out = np.zeros(np.broadcast(a, b).shape)
    np.divide(a, b, out=out, where=b != 0)
    return out


class _ConfusionMetric(Metric):
    """Counts kept per threshold (float32 variables, as Keras's)."""

    _counted = ()  # which of "tp", "fp", "tn", "fn" the metric keeps

    def _reset_counts(self, shape):
        for key in self._counted:
            setattr(self, key, np.zeros(shape, dtype="float64"))

    def _add_counts(self, counts):
        for key, value in zip(("tp", "fp", "tn", "fn"), counts):
            if key in self._counted:
                setattr(self, key, getattr(self, key) + value)

    @property
    def variables(self):
        return [getattr(self, key).astype(self.dtype) for key in self._counted]


class _CountMetric(_ConfusionMetric):
    """One count at one or several thresholds (``TruePositives`` ...)."""

    def __init__(self, thresholds=None, name=None, dtype=None):
        self.init_thresholds = thresholds
        self.thresholds = _thresholds(thresholds, 0.5)
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self._reset_counts(len(self.thresholds))

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._add_counts(confusion_counts(y_true, y_pred, self.thresholds, sample_weight))

    def result(self):
        value = getattr(self, self._counted[0])
        return value[0] if len(self.thresholds) == 1 else value

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds}


class TruePositives(_CountMetric):
    """The weight of positives predicted above the threshold (0.5)."""
    _counted = ("tp",)


class FalsePositives(_CountMetric):
    """The weight of negatives predicted above the threshold."""
    _counted = ("fp",)


class TrueNegatives(_CountMetric):
    """The weight of negatives predicted at or below the threshold."""
    _counted = ("tn",)


class FalseNegatives(_CountMetric):
    """The weight of positives predicted at or below the threshold."""
    _counted = ("fn",)


class _RatioMetric(_ConfusionMetric):
    """Precision or Recall: ``tp / (tp + other)`` at each threshold."""

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        # with top_k, every kept prediction counts as predicted positive
        self.thresholds = _thresholds(thresholds, 0.5 if top_k is None else -np.inf)
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self._reset_counts(len(self.thresholds))

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._add_counts(confusion_counts(y_true, y_pred, self.thresholds, sample_weight,
                                          self.top_k, self.class_id))

    def result(self):
        other = getattr(self, self._counted[1])
        value = _safe_divide(self.tp, self.tp + other)
        return value[0] if len(self.thresholds) == 1 else value

    def get_config(self):
        return {**super().get_config(), "thresholds": self.init_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}


class Precision(_RatioMetric):
    """``tp / (tp + fp)``: of the predictions above the threshold, the share of positives."""
    _counted = ("tp", "fp")


class Recall(_RatioMetric):
    """``tp / (tp + fn)``: of the positives, the share predicted above the threshold."""
    _counted = ("tp", "fn")


class AUC(_ConfusionMetric):
    """The area under the ROC or precision-recall curve, by a Riemann sum over
    ``num_thresholds`` thresholds (Keras's, including its interpolation of the PR curve).

    Args:
        num_thresholds: 200; the thresholds are ``i / (num_thresholds - 1)`` for the inner
            ones, and ``-epsilon``, ``1 + epsilon`` at the ends.
        curve: ``'ROC'`` or ``'PR'``.
        summation_method: ``'interpolation'`` (trapezoids; for PR, Davis and Goadrich's
            interpolation), ``'minoring'`` or ``'majoring'``.
        thresholds: inner thresholds to use instead.
        multi_label: one curve per label (column) of 2-D data, averaged (weighted by
            ``label_weights``).
        from_logits: the predictions are logits (a sigmoid is applied).
    """

    _counted = ("tp", "fp", "tn", "fn")

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        curve = str(curve).upper()
        summation_method = str(summation_method).lower()
        if curve not in ("ROC", "PR"):
            raise ValueError(f'Invalid AUCCurve value: "{curve}". Expected values are '
                             '["PR", "ROC"]')
        if summation_method not in ("interpolation", "minoring", "majoring"):
            raise ValueError(
                f'Invalid AUC summation method value: "{summation_method}". Expected values '
                'are ["interpolation", "majoring", "minoring"]')
        if thresholds is not None:
            inner = sorted(float(t) for t in thresholds)
            self.num_thresholds = len(inner) + 2
        else:
            if num_thresholds <= 1:
                raise ValueError("Argument `num_thresholds` must be an integer > 1. "
                                 f"Received: num_thresholds={num_thresholds}")
            self.num_thresholds = int(num_thresholds)
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
        self._given_thresholds = None if thresholds is None else inner
        self._thresholds = np.array([0.0 - _EPSILON] + inner + [1.0 + _EPSILON])
        self.curve, self.summation_method = curve, summation_method
        self.multi_label = bool(multi_label)
        if num_labels and not self.multi_label:
            raise ValueError("`num_labels` is needed only when `multi_label` is True.")
        self.num_labels = num_labels
        # float32, as Keras keeps them (its config shows float32's 0.2)
        self.label_weights = None if label_weights is None else np.asarray(
            label_weights, dtype="float32")
        self._from_logits = bool(from_logits)
        super().__init__(name=name, dtype=dtype)

    @property
    def thresholds(self):
        return list(self._thresholds)

    def reset_state(self):
        labels = self.num_labels if self.multi_label else None
        self._reset_counts((self.num_thresholds,) + ((labels,) if labels else ()))
        self._built = bool(labels) or not self.multi_label

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = np.asarray(y_pred, dtype="float64")
        if self._from_logits:
            y_pred = 1.0 / (1.0 + np.exp(-y_pred))
        if self.multi_label:
            if y_pred.ndim != 2:
                raise ValueError("`y_pred` must have rank 2 when `multi_label=True`. Found "
                                 f"rank {y_pred.ndim}. Full shape received for `y_pred`: "
                                 f"{y_pred.shape}")
            if not self._built:
                self._reset_counts((self.num_thresholds, y_pred.shape[1]))
                self._built = True
            counts = confusion_counts(y_true, y_pred, self._thresholds, sample_weight,
                                      columns=True)
        else:
            if self.label_weights is not None:  # per label, flattened with the data
                y_true_arr = np.asarray(y_true)
                base = 1.0 if sample_weight is None else np.asarray(sample_weight, "float64")
                if np.ndim(base) and np.ndim(base) < y_pred.ndim:
                    base = base.reshape(np.shape(base) + (1,) * (y_pred.ndim - np.ndim(base)))
                sample_weight = np.broadcast_to(base, y_true_arr.shape) * self.label_weights
            counts = confusion_counts(y_true, y_pred, self._thresholds, sample_weight)
        self._add_counts(counts)

    def result(self):
        tp, fp, tn, fn = self.tp, self.fp, self.tn, self.fn
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._interpolated_pr()
        recall = _safe_divide(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _safe_divide(fp, fp + tn), recall
        else:
            x, y = recall, _safe_divide(tp, tp + fp)
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        return self._total((x[:-1] - x[1:]) * heights)

    def _interpolated_pr(self):
        """Between two thresholds precision is interpolated along the positives
        predicted (Davis and Goadrich), integrated in closed form."""
        tp, fp, fn = self.tp, self.fp, self.fn
        dtp = tp[:-1] - tp[1:]
        p = tp + fp
        dp = p[:-1] - p[1:]
        slope = _safe_divide(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        ratio = np.where((p[:-1] > 0) & (p[1:] > 0), _safe_divide(p[:-1], np.maximum(p[1:], 0)),
                         np.ones_like(p[1:]))
        increments = _safe_divide(slope * (dtp + intercept * np.log(ratio)),
                                  np.maximum(tp[1:] + fn[1:], 0))
        return self._total(increments)

    def _total(self, terms):
        if not self.multi_label:
            return float(terms.sum())
        by_label = terms.sum(axis=0)
        if self.label_weights is None:
            return float(by_label.mean())
        return float(_safe_divide((by_label * self.label_weights).sum(),
                                  self.label_weights.sum()))

    def get_config(self):
        return {**super().get_config(), "num_thresholds": self.num_thresholds,
                "curve": self.curve, "summation_method": self.summation_method,
                "multi_label": self.multi_label, "num_labels": self.num_labels,
                "label_weights": None if self.label_weights is None
                else self.label_weights.tolist(), "from_logits": self._from_logits,
                **({} if self._given_thresholds is None
                   else {"thresholds": self._given_thresholds})}


class _AtConstraint(_ConfusionMetric):
    """The best of one rate among the thresholds where another rate reaches ``value``
    (0 if none does). Thresholds: ``0, 1/(n - 1), ..., 1`` (``n = num_thresholds``;
    1: just 0.5).

    Subclasses name the constraint (``_constraint``: the argument's name) and give
    ``_rates()``: (the constrained rate, the rate maximised), each per threshold."""

    _counted = ("tp", "fp", "tn", "fn")
    _constraint = ""

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        if value < 0 or value > 1:
            raise ValueError(f"Argument `{self._constraint}` must be in the range [0, 1]. "
                             f"Received: {self._constraint}={value}")
        if num_thresholds <= 0:
            raise ValueError("Argument `num_thresholds` must be an integer > 0. "
                             f"Received: num_thresholds={num_thresholds}")
        setattr(self, self._constraint, value)
        self.value, self.num_thresholds, self.class_id = value, num_thresholds, class_id
        self.thresholds = np.array([0.5] if num_thresholds == 1 else [0.0] + [
            (i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)] + [1.0])
        super().__init__(name=name, dtype=dtype)

    def reset_state(self):
        self._reset_counts(len(self.thresholds))

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._add_counts(confusion_counts(y_true, y_pred, self.thresholds, sample_weight,
                                          class_id=self.class_id))

    def result(self):
        constrained, dependent = self._rates()
        return float(np.max(np.where(constrained >= self.value, dependent, 0.0), initial=0.0))

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "class_id": self.class_id,
                "num_thresholds": self.num_thresholds, self._constraint: self.value}


class SensitivityAtSpecificity(_AtConstraint):
    """The best sensitivity ``tp / (tp + fn)`` where specificity ``tn / (tn + fp)`` is at
    least ``specificity``."""

    _constraint = "specificity"

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(specificity, num_thresholds, class_id, name, dtype)

    def _rates(self):
        return (_safe_divide(self.tn, self.tn + self.fp),
                _safe_divide(self.tp, self.tp + self.fn))


class SpecificityAtSensitivity(_AtConstraint):
    """The best specificity where sensitivity is at least ``sensitivity``."""

    _constraint = "sensitivity"

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(sensitivity, num_thresholds, class_id, name, dtype)

    def _rates(self):
        return (_safe_divide(self.tp, self.tp + self.fn),
                _safe_divide(self.tn, self.tn + self.fp))


class PrecisionAtRecall(_AtConstraint):
    """The best precision ``tp / (tp + fp)`` where recall is at least ``recall``."""

    _constraint = "recall"

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(recall, num_thresholds, class_id, name, dtype)

    def _rates(self):
        return (_safe_divide(self.tp, self.tp + self.fn),
                _safe_divide(self.tp, self.tp + self.fp))


class RecallAtPrecision(_AtConstraint):
    """The best recall where precision is at least ``precision``."""

    _constraint = "precision"

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(precision, num_thresholds, class_id, name, dtype)

    def _rates(self):
        return (_safe_divide(self.tp, self.tp + self.fp),
                _safe_divide(self.tp, self.tp + self.fn))


CLASSES = (TruePositives, FalsePositives, TrueNegatives, FalseNegatives, Precision, Recall,
           AUC, SensitivityAtSpecificity, SpecificityAtSensitivity, PrecisionAtRecall,
           RecallAtPrecision)
