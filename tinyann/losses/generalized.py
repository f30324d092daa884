"""The generalized cross-entropy (Zhang and Sabuncu, 2018), a loss robust to noisy
labels, for integer labels:

    per-sample loss = (1 - p_y^q) / q        p_y = y_pred[label], q in (0, 1)

``q`` towards 0 behaves like the cross-entropy ``-log p_y``, ``q = 1`` is the mean
absolute error of the true class's probability. Gradient by y_pred: ``-p_y^(q - 1)`` at
the label, 0 elsewhere. A label outside ``[0, C)`` picks no class (``p_y = 0``), as
Keras's one-hot does. Labels of shape (N, 1) are read as (N,) (Keras broadcasts them
against every row instead).
"""

from __future__ import annotations

import numpy as np

from tinyann.losses.base import Loss, _grad_scale, _reduce
from tinyann.losses.functions import _as_float, _sparse_labels_shape


def _true_class(y_true, p):
    """(one-hot of the labels, p_y): labels outside [0, C) give a zero row."""
    labels = _sparse_labels_shape(y_true, p).astype(np.intp)
    onehot = (labels[..., None] == np.arange(p.shape[-1])).astype(p.dtype)
    return onehot, (p * onehot).sum(axis=-1)


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    """Per-sample ``(1 - p_y^q) / q``: labels (N, ...), y_pred (N, ..., C) -> (N, ...)."""
    p = _as_float(y_pred)
    _, p_y = _true_class(y_true, p)
    return ((1 - np.power(p_y, q)) / q).astype(p.dtype)


class CategoricalGeneralizedCrossEntropy(Loss):
    """``(1 - p_y^q) / q`` per sample (see the module).

    Args:
        q: in (0, 1), default 0.5.
    """

    def __init__(self, q=0.5, reduction="sum_over_batch_size",
                 name="categorical_generalized_cross_entropy", dtype=None):
        if not 0 < q < 1:
            raise ValueError(f"q must be in the interval (0, 1). Received: q={q}")
        super().__init__(name, reduction)
        self.q = q

    def call(self, y_true, y_pred):
        return categorical_generalized_cross_entropy(y_true, y_pred, self.q)

    def value_and_grad(self, y_true, y_pred, sample_weight=None, fused=False, checked=False):
        p = _as_float(y_pred)
        onehot, p_y = _true_class(y_true, p.astype("float64"))
        per = ((1 - np.power(p_y, self.q)) / self.q).astype(p.dtype)
        with np.errstate(divide="ignore"):
            slope = -np.power(p_y, self.q - 1)
        grad = np.where(onehot > 0, slope[..., None], 0.0)
        scale = _grad_scale(sample_weight, per.shape, p.dtype)
        return float(_reduce(per, sample_weight)), (grad * scale).astype(p.dtype)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction, "q": self.q}


CLASSES = (CategoricalGeneralizedCrossEntropy,)
FUNCTIONS = {categorical_generalized_cross_entropy: CategoricalGeneralizedCrossEntropy}
