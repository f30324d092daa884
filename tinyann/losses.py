"""Losses with Keras's names, formulas and ``sum_over_batch_size`` reduction.

Each loss is a class (``SparseCategoricalCrossentropy()``), a function
(``sparse_categorical_crossentropy(y_true, y_pred) -> per-sample losses``) and a
string for ``compile``. Besides ``__call__``, a loss gives ``value_and_grad`` for
training: the reduced loss and dL/dy_pred, or, when the model's last activation
matches (softmax + categorical cross-entropy, sigmoid + binary cross-entropy),
dL/dlogits directly: ``(probs - onehot) * w / N``, cheaper and exact where the
chain rule through softmax would lose precision.

Shapes: ``y_pred`` is (N, ..., C); per-sample losses are (N, ...).
"""

from __future__ import annotations

import math

import numpy as np

from tinyann import backend


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
        lo, hi = y.min(), y.max()
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


def _reduce(per_sample, sample_weight):
    """``sum(w * loss) / number of elements`` (Keras's sum_over_batch_size)."""
    if sample_weight is None:
        return per_sample.mean() if per_sample.size else 0.0
    w = _broadcast_weight(sample_weight, per_sample)
    return (per_sample * w).sum() / max(per_sample.size, 1)


def _broadcast_weight(sample_weight, per_sample):
    w = np.asarray(sample_weight, dtype=per_sample.dtype)
    while w.ndim > per_sample.ndim and w.shape[-1] == 1:
        w = w[..., 0]
    while w.ndim < per_sample.ndim:
        w = w[..., None]
    return w


def _grad_scale(sample_weight, per_sample_shape, dtype):
    """dL/dloss_i: w_i / number of elements, shaped to broadcast over classes."""
    count = max(math.prod(per_sample_shape), 1)
    if sample_weight is None:
        return dtype.type(1.0 / count)
    w = np.asarray(sample_weight, dtype=dtype).reshape(per_sample_shape[:1] + (1,) *
                                                       (len(per_sample_shape) - 1))
    return (w / count)[..., None]


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


# ---------------------------------------------------------------- functions
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
    eps = backend.epsilon()
    p = y_pred / y_pred.sum(axis=-1, keepdims=True)
    return -(y * np.log(np.clip(p, eps, 1.0 - eps))).sum(axis=-1)


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


# ---------------------------------------------------------------- classes
class Loss:
    """Base class: ``loss(y_true, y_pred, sample_weight=None) -> scalar``.

    Subclasses give ``call`` (per-sample values) and ``value_and_grad``.
    ``fused_activation`` names the output activation whose derivative this
    loss can fold into its own gradient (``'softmax'``, ``'sigmoid'``).
    """

    fused_activation: str | None = None

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in ("sum_over_batch_size", "sum", "none", "mean", None):
            raise ValueError(
                "Invalid value for argument `reduction`. Expected one of "
                "['sum_over_batch_size', 'sum', 'none', 'mean']. "
                f"Received: reduction={reduction!r}"
            )
        self.name = name or backend.to_snake_case(type(self).__name__)
        self.reduction = reduction

    def call(self, y_true, y_pred):
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None):
        per_sample = self.call(y_true, y_pred)
        if self.reduction == "none" or self.reduction is None:
            return per_sample if sample_weight is None else (
                per_sample * _broadcast_weight(sample_weight, per_sample))
        if self.reduction == "sum":
            w = 1.0 if sample_weight is None else _broadcast_weight(sample_weight, per_sample)
            return np.asarray((per_sample * w).sum(), dtype=per_sample.dtype)[()]
        return np.asarray(_reduce(per_sample, sample_weight), dtype=per_sample.dtype)[()]

    def value_and_grad(self, y_true, y_pred, sample_weight=None, fused=False, checked=False):
        """(reduced loss as a float, dL/dy_pred) — or dL/dlogits when ``fused``.

        ``checked``: the targets were validated and converted already (fit does it
        once per call), so the per-batch checks can be skipped."""
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("dtype", None)
        return cls(**config)


class SparseCategoricalCrossentropy(Loss):
    fused_activation = "softmax"

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(name, reduction)
        if ignore_class is not None:
            raise NotImplementedError("ignore_class is not supported by tinyann yet")
        self.from_logits = from_logits
        self.ignore_class = ignore_class
        self._rows = np.arange(0)

    def call(self, y_true, y_pred):
        return sparse_categorical_crossentropy(y_true, y_pred, self.from_logits)

    def value_and_grad(self, y_true, y_pred, sample_weight=None, fused=False, checked=False):
        y_pred = _as_float(y_pred)
        y = _sparse_labels_shape(y_true, y_pred)
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
            grad = probs
        else:
            eps = backend.epsilon()
            if fused:
                # a softmax output: rows sum to 1, no normalisation needed
                per = -np.log(np.clip(y_pred[rows, y], eps, 1.0 - eps))
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
        grad[rows, y] -= 1.0
        grad *= scale
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


class CategoricalCrossentropy(Loss):
    fused_activation = "softmax"

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        super().__init__(name, reduction)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def call(self, y_true, y_pred):
        return categorical_crossentropy(y_true, y_pred, self.from_logits, self.label_smoothing)

    def value_and_grad(self, y_true, y_pred, sample_weight=None, fused=False, checked=False):
        y_pred = _as_float(y_pred)
        y = _one_hot_targets(y_true, y_pred, self.label_smoothing)
        per_shape = y_pred.shape[:-1]
        scale = _grad_scale(sample_weight, per_shape, y_pred.dtype)
        if self.from_logits or fused:
            probs = _softmax(y_pred) if self.from_logits else y_pred
            if self.from_logits:
                per = -(y * _log_softmax(y_pred)).sum(axis=-1)
            else:
                eps = backend.epsilon()
                per = -(y * np.log(np.clip(y_pred, eps, 1.0 - eps))).sum(axis=-1)
            # softmax + cross-entropy: dL/dz = p * sum(y) - y
            grad = probs * y.sum(axis=-1, keepdims=True) - y
        else:
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

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction, "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


class BinaryCrossentropy(Loss):
    fused_activation = "sigmoid"

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        super().__init__(name, reduction)
        self.from_logits = from_logits
        self.label_smoothing = label_smoothing
        self.axis = axis

    def call(self, y_true, y_pred):
        return binary_crossentropy(y_true, y_pred, self.from_logits, self.label_smoothing)

    def value_and_grad(self, y_true, y_pred, sample_weight=None, fused=False, checked=False):
        y_pred = _as_float(y_pred)
        y = _binary_targets(y_true, y_pred, self.label_smoothing)
        per = binary_crossentropy(y, y_pred, self.from_logits).astype(y_pred.dtype)
        c = y_pred.shape[-1]
        scale = _grad_scale(sample_weight, per.shape, y_pred.dtype) / c
        if self.from_logits:
            grad = _sigmoid(y_pred) - y
        elif fused:
            # sigmoid + binary cross-entropy: dL/dz = (p - y) / C
            grad = y_pred - y
        else:
            eps = backend.epsilon()
            p = np.clip(y_pred, eps, 1.0 - eps)
            inside = (y_pred > eps) & (y_pred < 1.0 - eps)
            grad = np.where(inside, (p - y) / (p * (1.0 - p)), 0.0)
        grad = (grad * scale).astype(y_pred.dtype, copy=False)
        return float(_reduce(per, sample_weight)), grad

    def get_config(self):
        return {"name": self.name, "reduction": self.reduction, "from_logits": self.from_logits,
                "label_smoothing": self.label_smoothing, "axis": self.axis}


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


class WeightedLoss(Loss):
    """``loss`` times a constant ``weight``: ``compile(loss_weights=...)`` on a model
    with one output. Value, per-sample values and gradient are the wrapped loss's
    times ``weight``; the fused gradients stay available (``fused_activation``)."""

    def __init__(self, loss, weight):
        self.loss = loss
        self.weight = float(weight)
        self.name = loss.name
        self.reduction = loss.reduction
        self.fused_activation = loss.fused_activation
        self.from_logits = getattr(loss, "from_logits", False)

    def call(self, y_true, y_pred):
        per_sample = self.loss.call(y_true, y_pred)
        return per_sample * per_sample.dtype.type(self.weight)

    def value_and_grad(self, y_true, y_pred, sample_weight=None, fused=False, checked=False):
        value, grad = self.loss.value_and_grad(y_true, y_pred, sample_weight, fused, checked)
        return value * self.weight, grad * grad.dtype.type(self.weight)

    def get_config(self) -> dict:
        return self.loss.get_config()


# ---------------------------------------------------------------- lookup
_CLASSES = {
    cls.__name__: cls
    for cls in (SparseCategoricalCrossentropy, CategoricalCrossentropy, BinaryCrossentropy,
                MeanSquaredError, MeanAbsoluteError, Huber)
}
_STRINGS = {
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "binary_crossentropy": BinaryCrossentropy,
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
    "mae": MeanAbsoluteError,
    "huber": Huber,
    "huber_loss": Huber,
}
_FUNCTIONS = {
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    categorical_crossentropy: CategoricalCrossentropy,
    binary_crossentropy: BinaryCrossentropy,
    mean_squared_error: MeanSquaredError,
    mean_absolute_error: MeanAbsoluteError,
    huber: Huber,
}
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error


def get(identifier) -> Loss:
    """A loss object from a string, a Keras config dict, a loss function or an instance."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, str):
        cls = _STRINGS.get(identifier) or _CLASSES.get(identifier)
        if cls is None:
            raise ValueError(
                f"Could not interpret loss identifier: {identifier!r}. "
                f"Expected one of {sorted(_STRINGS)}"
            )
        return cls()
    if isinstance(identifier, dict) and "class_name" in identifier:
        cls = _CLASSES.get(identifier["class_name"]) or _STRINGS.get(identifier["class_name"])
        if cls is None:
            raise ValueError(
                f"Unknown loss class {identifier['class_name']!r}. "
                f"Expected one of {sorted(_CLASSES)}"
            )
        return cls.from_config(identifier.get("config") or {})
    if callable(identifier) and identifier in _FUNCTIONS:
        return _FUNCTIONS[identifier]()
    raise ValueError(
        f"Could not interpret loss identifier: {identifier!r}. Expected a string such as "
        "'sparse_categorical_crossentropy', a Loss instance or a tinyann loss function."
    )


def serialize(loss: Loss) -> dict:
    return {"module": "keras.losses", "class_name": type(loss).__name__,
            "config": loss.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None) -> Loss:
    """A loss from ``serialize``'s output (or a name)."""
    if not isinstance(config, (str, dict)):
        raise ValueError(
            "Could not deserialize loss: expected a name or a config dict. "
            f"Received: {config!r} of type {type(config).__name__}"
        )
    return get(config)
