"""More of Keras 3's losses, each a mean (or sum) over the last axis of an elementwise
function of ``y_true`` and ``y_pred``: LogCosh, MeanSquaredLogarithmicError,
MeanAbsolutePercentageError, Hinge, SquaredHinge, Poisson, KLDivergence; and
CosineSimilarity. Each gives its value and its gradient dL/dy_pred beside the formula.

``eps`` is Keras's ``backend.epsilon()``, 1e-7.
"""

from __future__ import annotations

import numpy as np

from tinyann.losses.base import Loss, _grad_scale, _reduce
from tinyann.losses.functions import _as_float, _regression_targets

EPS = 1e-7


def _hinge_labels(y):
    """Keras's ``convert_binary_labels_to_hinge``: labels all in {0, 1} become -1 / 1."""
    return 2.0 * y - 1.0 if np.all((y == 0) | (y == 1)) else y


# each: (y, p) -> (elementwise values, their derivative by p); y and p of one shape
def _log_cosh(y, p):
    """log(cosh(d)), d = p - y, as ``d + softplus(-2d) - log 2`` (no overflow);
    derivative tanh(d)."""
    d = p - y
    return d + np.logaddexp(0.0, -2.0 * d) - np.log(2.0), np.tanh(d)


def _squared_log(y, p):
    """(log(max(p, eps) + 1) - log(max(y, eps) + 1))^2; derivative
    2 (first - second) / (p + 1) where p > eps, else 0."""
    first = np.log(np.maximum(p, EPS) + 1.0)
    diff = first - np.log(np.maximum(y, EPS) + 1.0)
    return np.square(diff), np.where(p > EPS, 2.0 * diff / (p + 1.0), 0.0)


def _absolute_percentage(y, p):
    """100 |y - p| / max(|y|, eps); derivative 100 sign(p - y) / max(|y|, eps)."""
    scale = 100.0 / np.maximum(np.abs(y), EPS)
    return np.abs(y - p) * scale, np.sign(p - y) * scale


def _hinge(y, p):
    """max(1 - y p, 0) (labels 0/1 taken as -1/1); derivative -y where 1 - y p > 0."""
    y = _hinge_labels(y)
    margin = 1.0 - y * p
    return np.maximum(margin, 0.0), np.where(margin > 0, -y, 0.0)


def _squared_hinge(y, p):
    """max(1 - y p, 0)^2; derivative -2 y max(1 - y p, 0)."""
    y = _hinge_labels(y)
    margin = np.maximum(1.0 - y * p, 0.0)
    return np.square(margin), -2.0 * y * margin


def _poisson(y, p):
    """p - y log(p + eps); derivative 1 - y / (p + eps). (A negative p gives NaN, as
    Keras's; no warning.)"""
    with np.errstate(invalid="ignore", divide="ignore"):
        return p - y * np.log(p + EPS), 1.0 - y / (p + EPS)


def _kl(y, p):
    """y' log(y' / p'), y' and p' clipped to [eps, 1]; derivative -y' / p' where p lies
    inside the clip, else 0."""
    yc, pc = np.clip(y, EPS, 1.0), np.clip(p, EPS, 1.0)
    return yc * np.log(yc / pc), np.where((p >= EPS) & (p <= 1.0), -yc / pc, 0.0)


class _ElementwiseLoss(Loss):
    """``_terms(y, p)`` elementwise, reduced over the last axis by ``_axis`` ('mean' or
    'sum'); the per-sample values reduced over the batch as every loss is."""

    _terms = None
    _axis = "mean"

    def _pair(self, y_true, y_pred):
        p = _as_float(y_pred)
        return _regression_targets(y_true, p), p

    def call(self, y_true, y_pred):
        y, p = self._pair(y_true, y_pred)
        values, _ = type(self)._terms(y, p)
        per = values.mean(axis=-1) if self._axis == "mean" else values.sum(axis=-1)
        return per.astype(p.dtype)

    def value_and_grad(self, y_true, y_pred, sample_weight=None, fused=False, checked=False):
        y, p = self._pair(y_true, y_pred)
        values, slope = type(self)._terms(y.astype("float64"), p.astype("float64"))
        per = values.mean(axis=-1) if self._axis == "mean" else values.sum(axis=-1)
        scale = _grad_scale(sample_weight, per.shape, p.dtype)
        if self._axis == "mean":
            scale = scale / p.shape[-1]
        return float(_reduce(per, sample_weight)), (slope * scale).astype(p.dtype)


def _loss_class(name, terms, keras_name, axis="mean", doc=""):
    def __init__(self, reduction="sum_over_batch_size", name=keras_name, dtype=None):
        Loss.__init__(self, name, reduction)

    return type(name, (_ElementwiseLoss,), {
        "__init__": __init__, "_terms": staticmethod(terms), "_axis": axis,
        "__doc__": doc or terms.__doc__, "__module__": __name__})


LogCosh = _loss_class("LogCosh", _log_cosh, "log_cosh")
MeanSquaredLogarithmicError = _loss_class(
    "MeanSquaredLogarithmicError", _squared_log, "mean_squared_logarithmic_error")
MeanAbsolutePercentageError = _loss_class(
    "MeanAbsolutePercentageError", _absolute_percentage, "mean_absolute_percentage_error")
Hinge = _loss_class("Hinge", _hinge, "hinge")
SquaredHinge = _loss_class("SquaredHinge", _squared_hinge, "squared_hinge")
Poisson = _loss_class("Poisson", _poisson, "poisson")
KLDivergence = _loss_class("KLDivergence", _kl, "kl_divergence", axis="sum")


class CosineSimilarity(Loss):
    """``-sum(normalize(y) * normalize(p), axis)``: -1 when the vectors point the same
    way. ``normalize(x) = x * min(1 / |x|, 1 / eps)`` (Keras's ``ops.normalize``).

    Gradient, for |p| > eps: ``-(ŷ - (ŷ·p̂) p̂) / |p|``; below, ``-ŷ / eps``.
    """

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity",
                 dtype=None):
        super().__init__(name, reduction)
        self.axis = axis

    def _parts(self, y_true, y_pred):
        p = _as_float(y_pred)
        y = _regression_targets(y_true, p).astype("float64")
        p64 = p.astype("float64")
        inv_y = np.minimum(1.0 / np.sqrt(np.sum(y * y, axis=self.axis, keepdims=True)),
                           1.0 / EPS)
        norm_p = np.sqrt(np.sum(p64 * p64, axis=self.axis, keepdims=True))
        inv_p = np.minimum(1.0 / norm_p, 1.0 / EPS)
        return p, y * inv_y, p64 * inv_p, inv_p, norm_p

    def call(self, y_true, y_pred):
        with np.errstate(divide="ignore"):
            p, y_hat, p_hat, _, _ = self._parts(y_true, y_pred)
        return (-np.sum(y_hat * p_hat, axis=self.axis)).astype(p.dtype)

    def value_and_grad(self, y_true, y_pred, sample_weight=None, fused=False, checked=False):
        with np.errstate(divide="ignore"):
            p, y_hat, p_hat, inv_p, norm_p = self._parts(y_true, y_pred)
        per = -np.sum(y_hat * p_hat, axis=self.axis)
        dot = np.sum(y_hat * p_hat, axis=self.axis, keepdims=True)
        # where 1/|p| is capped at 1/eps the scale is a constant: no projection term
        grad = np.where(norm_p > EPS, -(y_hat - dot * p_hat) * inv_p, -y_hat * inv_p)
        scale = _grad_scale(sample_weight, per.shape, p.dtype)  # (batch, 1): per sample
        return float(_reduce(per, sample_weight)), (grad * scale).astype(p.dtype)


def _per_sample(cls, name):
    """``keras.losses.<name>(y_true, y_pred)``: the per-sample values of ``cls``."""
    def fn(y_true, y_pred):
        return cls().call(y_true, y_pred)
    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"The per-sample values of {cls.__name__}: (batch, ...) -> (batch,)."
    return fn


log_cosh = _per_sample(LogCosh, "log_cosh")
mean_squared_logarithmic_error = _per_sample(MeanSquaredLogarithmicError,
                                             "mean_squared_logarithmic_error")
mean_absolute_percentage_error = _per_sample(MeanAbsolutePercentageError,
                                             "mean_absolute_percentage_error")
hinge = _per_sample(Hinge, "hinge")
squared_hinge = _per_sample(SquaredHinge, "squared_hinge")
poisson = _per_sample(Poisson, "poisson")
kl_divergence = _per_sample(KLDivergence, "kl_divergence")


def cosine_similarity(y_true, y_pred, axis=-1):
    return CosineSimilarity(axis=axis).call(y_true, y_pred)


CLASSES = (LogCosh, MeanSquaredLogarithmicError, MeanAbsolutePercentageError, Hinge,
           SquaredHinge, Poisson, KLDivergence, CosineSimilarity)
FUNCTIONS = {log_cosh: LogCosh, mean_squared_logarithmic_error: MeanSquaredLogarithmicError,
             mean_absolute_percentage_error: MeanAbsolutePercentageError, hinge: Hinge,
             squared_hinge: SquaredHinge, poisson: Poisson, kl_divergence: KLDivergence,
             cosine_similarity: CosineSimilarity}


def _categorical_hinge_terms(y, p):
    """max(neg - pos + 1, 0) per row, pos = sum(y p), neg = max((1 - y) p); derivative
    -y plus 1 at the (first) largest of (1 - y) p, where the margin is positive."""
    pos = np.sum(y * p, axis=-1)
    other = (1.0 - y) * p
    neg = np.max(other, axis=-1)
    margin = neg - pos + 1.0
    slope = -y.copy()
    top = np.argmax(other, axis=-1)[..., None]
    np.put_along_axis(slope, top, np.take_along_axis(slope, top, -1) + (1.0 - np.take_along_axis(
        y, top, -1)), axis=-1)
    return np.maximum(margin, 0.0), np.where((margin > 0)[..., None], slope, 0.0)


class CategoricalHinge(Loss):
    """``max(max((1 - y) p) - sum(y p) + 1, 0)`` per sample, for one-hot (or -1 / 1)
    labels: the best wrong class's score against the true class's, with margin 1."""

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(name, reduction)

    def call(self, y_true, y_pred):
        p = _as_float(y_pred)
        y = _regression_targets(y_true, p)
        return _categorical_hinge_terms(y.astype("float64"), p.astype("float64"))[0].astype(
            p.dtype)

    def value_and_grad(self, y_true, y_pred, sample_weight=None, fused=False, checked=False):
        p = _as_float(y_pred)
        y = _regression_targets(y_true, p)
        per, slope = _categorical_hinge_terms(y.astype("float64"), p.astype("float64"))
        per = per.astype(p.dtype)
        scale = _grad_scale(sample_weight, per.shape, p.dtype)
        return float(_reduce(per, sample_weight)), (slope * scale).astype(p.dtype)


def categorical_hinge(y_true, y_pred):
    """The per-sample values of CategoricalHinge: (N, ..., C) -> (N, ...)."""
    return CategoricalHinge().call(y_true, y_pred)


CLASSES += (CategoricalHinge,)
FUNCTIONS[categorical_hinge] = CategoricalHinge
