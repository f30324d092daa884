"""Focal cross-entropies (Lin et al., 2018): the cross-entropy of each element scaled
down where the prediction is already confident, so that hard examples dominate.

Binary, per element (labels ``y`` smoothed towards 0.5 first, ``p = sigmoid(z)`` for
logits, ``pc = clip(p, eps, 1 - eps)``)::

    bce   = -(y log pc + (1 - y) log(1 - pc))
    p_t   = y p + (1 - y)(1 - p)
    value = (1 - p_t)^gamma bce            (times y alpha + (1 - y)(1 - alpha) when
                                            apply_class_balancing)
    per-sample loss = mean over the last axis

Categorical, per row (labels smoothed towards 1/C; ``p = softmax(z)`` for logits)::

    o = clip(p / sum(p), eps, 1 - eps)
    per-sample loss = sum_j alpha (1 - o_j)^gamma (-y_j log o_j)

Shapes: ``y_pred`` (N, ..., C), per-sample losses (N, ...). The gradients are the
derivatives of these formulas (zero where a clip is active, as the clipped value is
constant there), through the sigmoid / softmax for logits.
"""

from __future__ import annotations

import warnings

import numpy as np

from tinyann.losses.base import Loss, _grad_scale, _reduce
from tinyann.losses.functions import (
    _as_float,
    _binary_targets,
    _one_hot_targets,
    _sigmoid,
    _softmax,
)

EPS = 1e-7  # Keras's backend.epsilon()


def _power_and_slope(base, gamma):
    """``base^gamma`` and its derivative ``gamma base^(gamma - 1)`` (0 where gamma is 0,
    and where base is 0 for gamma >= 1: no division by zero)."""
    value = np.power(base, gamma)
    if gamma == 0:
        return value, np.zeros_like(base)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = gamma * np.power(base, gamma - 1.0)
    if gamma >= 1:
        slope = np.where(base > 0, slope, 0.0 if gamma > 1 else 1.0)
    return value, slope


def _binary_focal_terms(y, y_pred, from_logits, apply_class_balancing, alpha, gamma):
    """Elementwise values and their derivative by ``y_pred`` (float64)."""
    p = _sigmoid(y_pred) if from_logits else y_pred
    pc = np.clip(p, EPS, 1.0 - EPS)
    bce = -(y * np.log(pc) + (1.0 - y) * np.log(1.0 - pc))
    d_bce = np.where((p > EPS) & (p < 1.0 - EPS), (pc - y) / (pc * (1.0 - pc)), 0.0)
    p_t = y * p + (1.0 - y) * (1.0 - p)
    focal, focal_slope = _power_and_slope(1.0 - p_t, gamma)
    # d(1 - p_t)/dp = -(2y - 1) = 1 - 2y
    values = focal * bce
    slope = focal_slope * (1.0 - 2.0 * y) * bce + focal * d_bce
    if apply_class_balancing:
        weight = y * alpha + (1.0 - y) * (1.0 - alpha)
        values, slope = weight * values, weight * slope
    if from_logits:
        slope = slope * p * (1.0 - p)  # through the sigmoid
    return values, slope


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25,
                              gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample binary focal cross-entropy (see the module): (N, ..., C) -> (N, ...)."""
    y_pred = _as_float(y_pred)
    y = _binary_targets(y_true, y_pred, label_smoothing)
    values, _ = _binary_focal_terms(y.astype("float64"), y_pred.astype("float64"),
                                    from_logits, apply_class_balancing, alpha, gamma)
    return values.mean(axis=axis).astype(y_pred.dtype)


def _categorical_focal_terms(y, y_pred, from_logits, alpha, gamma):
    """Per-row values (N, ...) and their derivative by ``y_pred`` (float64)."""
    p = _softmax(y_pred) if from_logits else y_pred
    total = p.sum(axis=-1, keepdims=True)
    o = p / total
    oc = np.clip(o, EPS, 1.0 - EPS)
    ce = -y * np.log(oc)
    factor, factor_slope = _power_and_slope(1.0 - oc, gamma)
    alpha = np.asarray(alpha, dtype="float64")
    values = (alpha * factor * ce).sum(axis=-1)
    # d/do_j of alpha (1 - o)^gamma (-y log o), zero where o is clipped
    g_o = alpha * (-factor_slope * ce - factor * y / oc)
    g_o = np.where((o > EPS) & (o < 1.0 - EPS), g_o, 0.0)
    # through o = p / sum(p)
    g_p = (g_o - (g_o * o).sum(axis=-1, keepdims=True)) / total
    if from_logits:  # through the softmax
        g_p = p * (g_p - (g_p * p).sum(axis=-1, keepdims=True))
    return values, g_p


def _check_classes(y_pred):
    if y_pred.shape[-1] == 1:
        warnings.warn(
            "In loss categorical_focal_crossentropy, expected y_pred.shape to be "
            "(batch_size, num_classes) with num_classes > 1. Received: y_pred.shape="
            f"{y_pred.shape}. Consider using 'binary_crossentropy' if you only have 2 "
            "classes.", SyntaxWarning, stacklevel=3)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):
    """Per-sample categorical focal cross-entropy (see the module): one-hot labels
    (N, ..., C) -> (N, ...)."""
    if isinstance(axis, bool):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis} of type "
                         f"{type(axis)}")
    y_pred = _as_float(y_pred)
    _check_classes(y_pred)
    y = _one_hot_targets(y_true, y_pred, label_smoothing)
    values, _ = _categorical_focal_terms(y.astype("float64"), y_pred.astype("float64"),
                                         from_logits, alpha, gamma)
    return values.astype(y_pred.dtype)


class BinaryFocalCrossentropy(Loss):
    """The binary focal cross-entropy (see the module).

    Args:
        apply_class_balancing: weight class 1 by ``alpha`` and class 0 by ``1 - alpha``.
        alpha: default 0.25. gamma: the focusing power, default 2.0 (0: plain
            binary cross-entropy).
        from_logits: ``y_pred`` are logits. label_smoothing: in [0, 1].
    """

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_focal_crossentropy", dtype=None):
        super().__init__(name, reduction)
        self.apply_class_balancing = apply_class_balancing
        self.alpha, self.gamma = alpha, gamma
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis

    def call(self, y_true, y_pred):
        return binary_focal_crossentropy(y_true, y_pred, self.apply_class_balancing,
                                         self.alpha, self.gamma, self.from_logits,
                                         self.label_smoothing, self.axis)

    def value_and_grad(self, y_true, y_pred, sample_weight=None, fused=False, checked=False):
        p = _as_float(y_pred)
        y = _binary_targets(y_true, p, self.label_smoothing)
        values, slope = _binary_focal_terms(y.astype("float64"), p.astype("float64"),
                                            self.from_logits, self.apply_class_balancing,
                                            self.alpha, self.gamma)
        per = values.mean(axis=-1).astype(p.dtype)
        scale = _grad_scale(sample_weight, per.shape, p.dtype) / p.shape[-1]
        return float(_reduce(per, sample_weight)), (slope * scale).astype(p.dtype)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction,
                "from_logits": self.from_logits, "label_smoothing": self.label_smoothing,
                "axis": self.axis, "apply_class_balancing": self.apply_class_balancing,
                "alpha": self.alpha, "gamma": self.gamma}


class CategoricalFocalCrossentropy(Loss):
    """The categorical focal cross-entropy of one-hot labels (see the module).

    Args:
        alpha: default 0.25; a float or one weight per class.
        gamma: the focusing power, default 2.0.
        from_logits: ``y_pred`` are logits. label_smoothing: in [0, 1].
    """

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_focal_crossentropy",
                 dtype=None):
        super().__init__(name, reduction)
        self.alpha, self.gamma = alpha, gamma
        self.from_logits, self.label_smoothing, self.axis = from_logits, label_smoothing, axis

    def call(self, y_true, y_pred):
        return categorical_focal_crossentropy(y_true, y_pred, self.alpha, self.gamma,
                                              self.from_logits, self.label_smoothing, self.axis)

    def value_and_grad(self, y_true, y_pred, sample_weight=None, fused=False, checked=False):
        p = _as_float(y_pred)
        y = _one_hot_targets(y_true, p, self.label_smoothing)
        per, grad = _categorical_focal_terms(y.astype("float64"), p.astype("float64"),
                                             self.from_logits, self.alpha, self.gamma)
        per = per.astype(p.dtype)
        scale = _grad_scale(sample_weight, per.shape, p.dtype)
        return float(_reduce(per, sample_weight)), (grad * scale).astype(p.dtype)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction,
                "from_logits": self.from_logits, "label_smoothing": self.label_smoothing,
                "axis": self.axis, "alpha": self.alpha, "gamma": self.gamma}


CLASSES = (BinaryFocalCrossentropy, CategoricalFocalCrossentropy)
FUNCTIONS = {binary_focal_crossentropy: BinaryFocalCrossentropy,
             categorical_focal_crossentropy: CategoricalFocalCrossentropy}
