"""Loss functions: per-sample values with Keras's formulas, and the checks of targets.

Shapes: ``y_pred`` is (N, ..., C); per-sample losses are (N, ...). These are the
functions behind ``losses.sparse_categorical_crossentropy`` and the others, and
the loss classes compute their values with them.
"""

from __future__ import annotations

import numpy as np

from tinyann import backend, kernels


def _check_sparse_labels(y_true, num_classes, name="sparse_categorical_crossentropy"):
    """Labels as an int array in [0, num_classes), or a clear error."""
    y = np.asarray(y_true)
    if y.dtype.kind == "f":
        if y.size and not np.all(np.isfinite(y)) or np.any(y != np.round(y)):
            raise ValueError(
                f"Labels for {name} must be integers in [0, {num_classes}). "
                f"Received: non-integer values such as {y[y != np.round(y)][:3].tolist()}"
            )
    elif y.dtype.kind not in "iub":
        raise ValueError(
            f"Labels for {name} must be integers in [0, {num_classes}). "
            f"Received: labels of dtype {y.dtype}"
        )
    if y.size:
        # (the ufuncs' reduce: ndarray.min / max add microseconds a tape step feels)
        lo, hi = np.minimum.reduce(y, axis=None), np.maximum.reduce(y, axis=None)
        if lo < 0 or hi >= num_classes:
            bad = hi if hi >= num_classes else lo
            raise ValueError(
                f"Labels for {name} must be integers in [0, {num_classes}). "
                f"Received: {'max' if bad == hi else 'min'} label {bad:g}"
            )
    return y.astype(np.intp, copy=False)


def _sparse_labels_shape(y_true, y_pred):
    """Sparse labels of shape (N,) or (N, 1) against predictions (N, C) -> (N,)."""
    y = np.asarray(y_true)
    if y.ndim == y_pred.ndim and y.shape[-1] == 1:
        y = y.reshape(y.shape[:-1])
    if y.shape != y_pred.shape[:-1]:
        raise ValueError(
            "Sparse labels must have the shape of the predictions without their last axis. "
            f"Received: y_true.shape={np.shape(y_true)}, y_pred.shape={y_pred.shape}"
        )
    return y


def _as_float(y_pred):
    y_pred = np.asarray(y_pred)
    if y_pred.dtype.kind != "f":
        y_pred = y_pred.astype(backend.floatx())
    return y_pred


def _log_softmax(logits):
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _softmax(logits):
    e = np.exp(logits - logits.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-np.clip(x, -88.0, 88.0)))


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, axis=-1):
    """Per-sample cross-entropy for integer labels. y_true (N,), y_pred (N, C) -> (N,)."""
    y_pred = _as_float(y_pred)
    y = _check_sparse_labels(_sparse_labels_shape(y_true, y_pred), y_pred.shape[-1])
    if from_logits:
        logp = _log_softmax(y_pred)
        return -np.take_along_axis(logp, y[..., None], axis=-1)[..., 0]
    eps = backend.epsilon()
    p = y_pred / y_pred.sum(axis=-1, keepdims=True)
    p_true = np.take_along_axis(p, y[..., None], axis=-1)[..., 0]
    return -np.log(np.clip(p_true, eps, 1.0 - eps))


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Per-sample cross-entropy for one-hot labels. (N, C), (N, C) -> (N,)."""
    y_pred = _as_float(y_pred)
    y = _one_hot_targets(y_true, y_pred, label_smoothing)
    if from_logits:
        return -(y * _log_softmax(y_pred)).sum(axis=-1)
    return kernels.softmax_cross_entropy(y_pred / y_pred.sum(axis=-1, keepdims=True), y,
                                     backend.epsilon())


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    """Mean over the last axis of the element-wise binary cross-entropy. -> (N,)."""
    y_pred = _as_float(y_pred)
    y = _binary_targets(y_true, y_pred, label_smoothing)
    if from_logits:
        # max(z, 0) - z y + log(1 + exp(-|z|)): stable for any z
        z = y_pred
        per = np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))
    else:
        eps = backend.epsilon()
        p = np.clip(y_pred, eps, 1.0 - eps)
        per = -(y * np.log(p) + (1.0 - y) * np.log(1.0 - p))
    return per.mean(axis=-1)


def mean_squared_error(y_true, y_pred):
    """mean((y_true - y_pred)^2, axis=-1)."""
    y_pred = _as_float(y_pred)
    y = _regression_targets(y_true, y_pred)
    return np.square(y_pred - y).mean(axis=-1)


def mean_absolute_error(y_true, y_pred):
    """mean(|y_true - y_pred|, axis=-1)."""
    y_pred = _as_float(y_pred)
    y = _regression_targets(y_true, y_pred)
    return np.abs(y_pred - y).mean(axis=-1)


def huber(y_true, y_pred, delta=1.0):
    """Quadratic within ``delta``, linear beyond; mean over the last axis."""
    y_pred = _as_float(y_pred)
    err = np.abs(y_pred - _regression_targets(y_true, y_pred))
    quad = np.minimum(err, delta)
    return (0.5 * quad * quad + delta * (err - quad)).mean(axis=-1)


def _one_hot_targets(y_true, y_pred, label_smoothing=0.0):
    y = np.asarray(y_true)
    if y.shape != y_pred.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. "
            f"Received: target.shape={y.shape}, output.shape={y_pred.shape}"
            + (" (for integer labels use sparse_categorical_crossentropy)"
               if y.ndim == y_pred.ndim - 1 or (y.ndim == y_pred.ndim and y.shape[-1] == 1)
               else "")
        )
    y = y.astype(y_pred.dtype, copy=False)
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + label_smoothing / y_pred.shape[-1]
    return y


def _binary_targets(y_true, y_pred, label_smoothing=0.0):
    y = np.asarray(y_true).astype(y_pred.dtype, copy=False)
    if y.ndim == y_pred.ndim - 1:
        y = y[..., None]
    if y.shape != y_pred.shape:
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. "
            f"Received: target.shape={np.shape(y_true)}, output.shape={y_pred.shape}"
        )
    if label_smoothing:
        y = y * (1.0 - label_smoothing) + 0.5 * label_smoothing
    return y


def _regression_targets(y_true, y_pred):
    y = np.asarray(y_true).astype(y_pred.dtype, copy=False)
    if y.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1:
        y = y[..., None]
    if y.shape != y_pred.shape:
        raise ValueError(
            "Arguments `y_true` and `y_pred` must have the same shape. "
            f"Received: y_true.shape={np.shape(y_true)}, y_pred.shape={y_pred.shape}"
        )
    return y


