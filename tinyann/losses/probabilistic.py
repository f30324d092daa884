"""Cross-entropy losses: sparse and one-hot categorical, binary.

Besides ``__call__``, each gives ``value_and_grad`` for training: the reduced loss
and dL/dy_pred, or, when the model's last activation matches (``FUSIONS`` in
tinyann.kernels: softmax + categorical cross-entropy, sigmoid + binary
cross-entropy), dL/dlogits directly: ``(probs - targets) * w / N``, the op
``softmax_cross_entropy_grad``, cheaper and exact where the chain rule through
the softmax would lose precision.
"""

from __future__ import annotations

import numpy as np

from tinyann import backend, kernels
from tinyann.losses.base import Loss, _broadcast_weight, _grad_scale, _reduce
from tinyann.losses.functions import (
    _as_float,
    _binary_targets,
    _check_sparse_labels,
    _log_softmax,
    _one_hot_targets,
    _sigmoid,
    _softmax,
    _sparse_labels_shape,
    binary_crossentropy,
    categorical_crossentropy,
    sparse_categorical_crossentropy,
)


class SparseCategoricalCrossentropy(Loss):
    fused_activation = kernels.fused_activation("sparse_categorical_crossentropy")

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(name, reduction)
        if ignore_class is not None:
            raise NotImplementedError("ignore_class is not supported by tinyann yet")
        self.from_logits = from_logits
        self.ignore_class = ignore_class
        self._rows = np.arange(0)
        self._scales = {}   # (rows, dtype) -> 1 / rows in that dtype

    def call(self, y_true, y_pred):
        return sparse_categorical_crossentropy(y_true, y_pred, self.from_logits)

    def value_and_grad(self, y_true, y_pred, sample_weight=None, fused=False, checked=False):
        y_pred = _as_float(y_pred)
        y = _sparse_labels_shape(y_true, y_pred)
        if (fused and not self.from_logits and y_pred.ndim == 2 and sample_weight is None
                and y.dtype.kind in "iu"):
            # a softmax output (rows sum to 1) and integer labels: one kernel gives the
            # values and dL/dz, checking the labels' range itself (a tape's step)
            n = y_pred.shape[0]
            scale = self._scales.get((n, y_pred.dtype))
            if scale is None:
                scale = self._scales[n, y_pred.dtype] = _grad_scale(None, (n,), y_pred.dtype)
            found = kernels.sparse_softmax_cross_entropy(y_pred, y, backend.epsilon(), scale)
            if found is not None:
                return float(_reduce(found[0], None)), found[1]
        y = _check_sparse_labels(y, y_pred.shape[-1])
        n = y_pred.shape[0]
        if y_pred.ndim != 2:
            # (N, ..., C): flatten the inner axes into rows
            return self._value_and_grad_nd(y, y_pred, sample_weight, fused)
        rows = self._row_index(n)
        scale = _grad_scale(sample_weight, (n,), y_pred.dtype)
        if self.from_logits:
            probs = _softmax(y_pred)
            per = -np.log(np.maximum(probs[rows, y], 1e-37))
            grad = probs  # a new array: the gradient goes into it
        else:
            eps = backend.epsilon()
            if fused:
                # a softmax output: rows sum to 1, no normalisation needed
                # np.clip's values, without its Python layer
                per = -np.log(np.minimum(np.maximum(y_pred[rows, y], eps), 1.0 - eps))
                grad = y_pred.copy(order="K")  # keep the layout: same BLAS path, same bits
            else:
                # as __call__: p = y_pred / sum(y_pred), loss = -log(clip(p_y))
                total = y_pred.sum(axis=-1, keepdims=True)
                p_true = y_pred[rows, y] / total[:, 0]
                clipped = np.clip(p_true, eps, 1.0 - eps)
                per = -np.log(clipped)
                # dL/dp_y = -1/p_y (zero where clipped); through the normalisation
                # dL/dy_pred_j = (dL/dp_j - sum_k dL/dp_k p_k) / total
                g_true = np.where((p_true > eps) & (p_true < 1.0 - eps), -1.0 / clipped, 0.0)
                grad = np.repeat((-g_true * p_true)[:, None], y_pred.shape[-1], axis=1)
                grad[rows, y] += g_true
                grad = (grad / total * scale).astype(y_pred.dtype, copy=False)
                return float(_reduce(per, sample_weight)), grad
        # softmax + cross-entropy: dL/dz = (p - onehot) * w / N
        onehot = np.zeros_like(grad)
        onehot[rows, y] = 1.0
        grad = kernels.softmax_cross_entropy_grad(grad, onehot, scale, out=grad)
        return float(_reduce(per, sample_weight)), grad

    def _row_index(self, n):
        if self._rows.shape[0] != n:
            self._rows = np.arange(n)
        return self._rows

    def _value_and_grad_nd(self, y, y_pred, sample_weight, fused):
        c = y_pred.shape[-1]
        sw = None
        if sample_weight is not None:
            sw = np.broadcast_to(_broadcast_weight(sample_weight, y.astype(y_pred.dtype)),
                                 y.shape).reshape(-1)
        flat = SparseCategoricalCrossentropy(self.from_logits)
        value, grad = flat.value_and_grad(y.reshape(-1), y_pred.reshape(-1, c), sw, fused)
        # the flat loss divided by N*inner; Keras divides by the same count
        return value, grad.reshape(y_pred.shape)

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction,
                "from_logits": self.from_logits, "ignore_class": self.ignore_class}


class _SmoothedCrossentropy(Loss):
    """The arguments, per-sample values and config shared by the one-hot and binary
    cross-entropies. A subclass gives ``_function(y_true, y_pred, from_logits,
    label_smoothing)``, its per-sample loss, ``_targets(y_true, y_pred,
    label_smoothing)``, the float targets, and ``_gradient(y, y_pred, sample_weight,
    fused)``, ``value_and_grad`` from those targets."""

    _function = _targets = None

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name=None, dtype=None):
        super().__init__(name, reduction)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction, "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}

    def call(self, y_true, y_pred):
        return self._function(y_true, y_pred, self.from_logits, self.label_smoothing)

    def value_and_grad(self, y_true, y_pred, sample_weight=None, fused=False, checked=False):
        y_pred = _as_float(y_pred)
        y = self._targets(y_true, y_pred, self.label_smoothing)
        return self._gradient(y, y_pred, sample_weight, fused)


class CategoricalCrossentropy(_SmoothedCrossentropy):
    fused_activation = kernels.fused_activation("categorical_crossentropy")
    _function = staticmethod(categorical_crossentropy)
    _targets = staticmethod(_one_hot_targets)

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        super().__init__(from_logits, label_smoothing, axis, reduction, name)

    def _gradient(self, y, y_pred, sample_weight, fused):
        scale = _grad_scale(sample_weight, y_pred.shape[:-1], y_pred.dtype)
        if self.from_logits or fused:
            probs = _softmax(y_pred) if self.from_logits else y_pred
            if self.from_logits:
                per = -(y * _log_softmax(y_pred)).sum(axis=-1)
            else:
                per = kernels.softmax_cross_entropy(y_pred, y, backend.epsilon())
            # softmax + cross-entropy: dL/dz = (p sum(y) - y) * w / N (sum(y) = 1 for
            # one-hot and smoothed targets)
            grad = kernels.softmax_cross_entropy_grad(probs * y.sum(axis=-1, keepdims=True), y,
                                                  scale)
            return float(_reduce(per, sample_weight)), grad.astype(y_pred.dtype, copy=False)
        eps = backend.epsilon()
        total = y_pred.sum(axis=-1, keepdims=True)
        p = y_pred / total
        clipped = np.clip(p, eps, 1.0 - eps)
        per = -(y * np.log(clipped)).sum(axis=-1)
        # through the normalisation p = y_pred / sum(y_pred)
        g_p = np.where((p > eps) & (p < 1.0 - eps), -y / clipped, 0.0)
        grad = (g_p - (g_p * p).sum(axis=-1, keepdims=True)) / total
        grad = (grad * scale).astype(y_pred.dtype, copy=False)
        return float(_reduce(per, sample_weight)), grad


class BinaryCrossentropy(_SmoothedCrossentropy):
    fused_activation = kernels.fused_activation("binary_crossentropy")
    _function = staticmethod(binary_crossentropy)
    _targets = staticmethod(_binary_targets)

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        super().__init__(from_logits, label_smoothing, axis, reduction, name)

    def _gradient(self, y, y_pred, sample_weight, fused):
        per = binary_crossentropy(y, y_pred, self.from_logits).astype(y_pred.dtype)
        c = y_pred.shape[-1]
        scale = _grad_scale(sample_weight, per.shape, y_pred.dtype) / c
        if self.from_logits or fused:
            # sigmoid + binary cross-entropy: dL/dz = (p - y) * w / (N C)
            probs = _sigmoid(y_pred) if self.from_logits else y_pred
            grad = kernels.softmax_cross_entropy_grad(probs, y, scale)
        else:
            eps = backend.epsilon()
            p = np.clip(y_pred, eps, 1.0 - eps)
            inside = (y_pred > eps) & (y_pred < 1.0 - eps)
            grad = np.where(inside, (p - y) / (p * (1.0 - p)), 0.0) * scale
        grad = grad.astype(y_pred.dtype, copy=False)
        return float(_reduce(per, sample_weight)), grad
