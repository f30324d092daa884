"""The Loss base class, its reductions and ``WeightedLoss``.

Reduction ``sum_over_batch_size`` (Keras's default): ``sum(w_i * loss_i) / number
of elements``; its gradient scale per sample is ``w_i / number of elements``.
"""

from __future__ import annotations

import math

import numpy as np

from tinyann import backend


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


