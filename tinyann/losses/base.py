"""The Loss base class, its reductions and ``WeightedLoss``.

Reduction ``sum_over_batch_size`` (Keras's default): ``sum(w_i * loss_i) / number
of elements``; its gradient scale per sample is ``w_i / number of elements``.
"""

from __future__ import annotations

import math

import numpy as np

from tinyann import backend, ops
from tinyann.autodiff import GradientTape, Tensor, record
from tinyann.autodiff.tape import output_activation, unit


def _reduce(per_sample, sample_weight):
    """``sum(w * loss) / number of elements`` (Keras's sum_over_batch_size)."""
    if sample_weight is None:
        if not per_sample.size:
            return 0.0
        if per_sample.dtype in (np.float32, np.float64):
            # the mean's bits, without ndarray.mean's Python layer (microseconds a step;
            # float16's mean sums in float32)
            return np.add.reduce(per_sample, axis=None) / per_sample.size
        return per_sample.mean()
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
    """dL/dloss_i: w_i / number of elements, shaped to broadcast over classes.
    ``sample_weight``: one per sample ``(batch,)``, or one per element of the
    per-sample losses (``(batch, steps)``: a sequence mask folded in)."""
    count = max(math.prod(per_sample_shape), 1)
    if sample_weight is None:
        return dtype.type(1.0 / count)
    w = np.asarray(sample_weight, dtype=dtype)
    while w.ndim > len(per_sample_shape) and w.shape[-1] == 1:
        w = w[..., 0]
    if w.ndim == 1:
        w = w.reshape(per_sample_shape[:1] + (1,) * (len(per_sample_shape) - 1))
    else:
        w = w.reshape(w.shape + (1,) * (len(per_sample_shape) - w.ndim))
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
        if isinstance(y_pred, Tensor) and self.reduction not in ("none", None) and (
                type(self).value_and_grad is not Loss.value_and_grad):
            return self._recorded(y_true, y_pred, sample_weight)
        per_sample = self.call(y_true, y_pred)
        if isinstance(per_sample, Tensor) or isinstance(y_pred, Tensor):
            return self._reduce_ops(per_sample, sample_weight)
        if self.reduction == "none" or self.reduction is None:
            return per_sample if sample_weight is None else (
                per_sample * _broadcast_weight(sample_weight, per_sample))
        if self.reduction == "sum":
            w = 1.0 if sample_weight is None else _broadcast_weight(sample_weight, per_sample)
            return np.asarray((per_sample * w).sum(), dtype=per_sample.dtype)[()]
        return np.asarray(_reduce(per_sample, sample_weight), dtype=per_sample.dtype)[()]

    def _recorded(self, y_true, y_pred, sample_weight):
        """A built-in loss on a Tensor: one recorded node whose gradient is the loss's
        own dL/dy_pred. On the output of a node through this loss's fused activation
        (softmax, sigmoid), it also records dL/dz, which the tape hands to that node
        when nothing else uses the output (tinyann.autodiff.tape); dL/dy_pred is then
        computed only if the tape asks for it."""
        label = self.__dict__.get("_tape_label")
        if label is None or label[0] != self.name:
            label = self.__dict__["_tape_label"] = (
                self.name, f"the built-in loss '{self.name}' ({type(self).__name__})")
        label = label[1]
        pred = y_pred.value
        # reduction "sum": the sum over the batch's elements, value_and_grad's mean times
        # their count (the per-sample losses have y_pred's shape without its last axis)
        count = pred.dtype.type(math.prod(pred.shape[:-1])) if self.reduction == "sum" else None
        activation = self.fused_activation
        if activation is None or getattr(self, "from_logits", False) or (
                output_activation(y_pred) != activation):
            value, grad = self.value_and_grad(y_true, pred, sample_weight)
            grad = np.array(grad, copy=True) if count is None else grad * count
            return record(np.asarray(value if count is None else value * count,
                                     dtype=pred.dtype),
                          (y_pred,), lambda g: (g * grad,), label=label)
        value, grad_z = self.value_and_grad(y_true, pred, sample_weight, fused=True)
        grad_z = np.array(grad_z, copy=True) if count is None else grad_z * count
        # the arguments as they are now, for dL/dy_pred later
        y_true = np.array(y_true, copy=True)
        sample_weight = None if sample_weight is None else np.array(sample_weight, copy=True)

        def vjp(g):
            grad = self.value_and_grad(y_true, pred, sample_weight)[1]
            return (g * (grad if count is None else grad * count),)

        return record(np.asarray(value if count is None else value * count, dtype=pred.dtype),
                      (y_pred,), vjp, label=label,
                      # (the walk's seed 1: dL/dz itself, which the node copies)
                      fused_loss=(activation, lambda g: grad_z if g is unit(g.dtype)
                                  else g * grad_z))

    def _reduce_ops(self, per_sample, sample_weight):
        """The reduction written with ops, so that a tape records it (a loss whose
        ``call`` uses ``keras.ops``, or a built-in loss called on a Tensor)."""
        per_sample = ops.convert_to_tensor(per_sample)
        if sample_weight is not None:
            per_sample = per_sample * _broadcast_weight(sample_weight, per_sample.numpy())
        if self.reduction == "none" or self.reduction is None:
            return per_sample
        total = ops.sum(per_sample)
        if self.reduction == "sum":
            return total
        return total / max(per_sample.size, 1)

    def value_and_grad(self, y_true, y_pred, sample_weight=None, fused=False, checked=False):
        """(reduced loss as a float, dL/dy_pred) — or dL/dlogits when ``fused``.

        ``checked``: the targets were validated and converted already (fit does it
        once per call), so the per-batch checks can be skipped.

        This default serves a user's loss whose ``call`` is written with ``keras.ops``:
        the value is computed on a GradientTape that watches ``y_pred``. Built-in
        losses override it with their own gradient."""
        pred = Tensor(np.asarray(y_pred))
        with GradientTape() as tape:
            tape.watch(pred)
            value = self(y_true, pred, sample_weight=sample_weight)
        grad = tape.gradient(value, pred)
        if grad is None:
            raise NotImplementedError(
                f"The loss {type(self).__name__} cannot be trained by tinyann: its `call` "
                "recorded no keras.ops operation on y_pred. Write `call` with keras.ops "
                "(ops.mean, ops.square, ...), or define `value_and_grad`.")
        return float(value), grad.numpy()

    def get_config(self) -> dict:
        return {"name": self.name, "reduction": self.reduction}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config.pop("dtype", None)
        return cls(**config)


class LossFunctionWrapper(Loss):
    """A user's loss function ``fn(y_true, y_pred) -> per-sample losses`` written with
    ``keras.ops`` (Keras's ``LossFunctionWrapper``), differentiated by the tape.

    Args:
        fn: the function.
        name: the loss's name (the function's by default).
        reduction: as for every loss.
        **kwargs: further arguments passed to ``fn``.
    """

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction)
        self.fn = fn
        self._fn_kwargs = kwargs

    def call(self, y_true, y_pred):
        return self.fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self) -> dict:
        return {**super().get_config(), "fn": getattr(self.fn, "__name__", None),
                **self._fn_kwargs}


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


