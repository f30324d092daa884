"""Intersection-over-union metrics, Keras 3's: ``IoU``, ``MeanIoU``, ``BinaryIoU``,
``OneHotIoU``, ``OneHotMeanIoU``.

Each keeps a ``(num_classes, num_classes)`` confusion matrix over the batches (rows:
true class, columns: predicted class; entries: summed sample weights). For class c,

    IoU_c = tp_c / (tp_c + fp_c + fn_c + eps) = cm[c, c] / (row_c + column_c - cm[c, c] + eps)

and the result is the sum of ``IoU_c`` over ``target_class_ids`` divided by the number
of those classes that occur at all (true or predicted) plus ``eps`` (1e-7).

As Keras, the metric's dtype is an integer one by default ('int64'): labels,
predictions and sample weights are cast to it (a weight of 0.5 counts 0); pairs whose
label or prediction is outside ``[0, num_classes)``, or whose label is
``ignore_class``, count nothing. The result is a float32 scalar.
"""

from __future__ import annotations

import numpy as np

from tinyann.metric_base import Metric

EPS = 1e-7


class IoU(Metric):
    """The mean IoU over ``target_class_ids`` (see the module).

    Args:
        num_classes: the number of classes.
        target_class_ids: the classes whose IoU is averaged.
        ignore_class: a label whose pairs count nothing (None: none).
        sparse_y_true, sparse_y_pred: False: one-hot / scores, read by argmax over ``axis``.
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None,
                 ignore_class=None, sparse_y_true=True, sparse_y_pred=True, axis=-1):
        if max(target_class_ids) >= num_classes:
            raise ValueError(
                f"Target class id {max(target_class_ids)} is out of range, which is "
                f"[0, {num_classes}).")
        self.num_classes = int(num_classes)
        self.target_class_ids = list(target_class_ids)
        self.ignore_class = ignore_class
        self.sparse_y_true, self.sparse_y_pred, self.axis = sparse_y_true, sparse_y_pred, axis
        super().__init__(name=name, dtype=dtype or "int64")

    def reset_state(self):
        self.total_cm = np.zeros((self.num_classes, self.num_classes), dtype=self.dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        if not self.sparse_y_true:
            y_true = np.argmax(y_true, axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = np.argmax(y_pred, axis=self.axis)
        y_true = np.asarray(y_true).astype(self.dtype).reshape(-1)
        y_pred = np.asarray(y_pred).astype(self.dtype).reshape(-1)
        w = np.broadcast_to(np.asarray(1 if sample_weight is None else sample_weight)
                            .astype(self.dtype).reshape(-1), y_true.shape)
        n = self.num_classes
        keep = (y_true >= 0) & (y_true < n) & (y_pred >= 0) & (y_pred < n)
        if self.ignore_class is not None:
            keep &= y_true != self.ignore_class
        cells = np.where(keep, y_true, 0).astype(np.intp) * n + np.where(keep, y_pred, 0)
        counts = np.bincount(cells.astype(np.intp), weights=np.where(keep, w, 0),
                             minlength=n * n)
        self.total_cm = self.total_cm + counts.reshape(n, n).astype(self.dtype)

    def result(self):
        from tinyann.autodiff import Tensor

        cm = self.total_cm.astype("float64")
        tp = np.diag(cm)
        denominator = (cm.sum(axis=0) + cm.sum(axis=1) - tp)[self.target_class_ids]
        tp = tp[self.target_class_ids]
        valid = denominator > 1e-9
        iou = np.where(valid, tp / (denominator + EPS), 0.0)
        # a float32 scalar whatever the metric's (integer) dtype
        return Tensor(np.float32(iou.sum() / (valid.sum() + EPS)))

    @property
    def variables(self):
        return [self.total_cm]

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "num_classes": self.num_classes,
                "target_class_ids": self.target_class_ids, "ignore_class": self.ignore_class,
                "sparse_y_true": self.sparse_y_true, "sparse_y_pred": self.sparse_y_pred,
                "axis": self.axis}


class MeanIoU(IoU):
    """The IoU averaged over every class."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(num_classes, list(range(num_classes)), name, dtype, ignore_class,
                         sparse_y_true, sparse_y_pred, axis)

    def get_config(self):
        config = super().get_config()
        del config["target_class_ids"]
        return config


class BinaryIoU(IoU):
    """The IoU of binary labels against ``y_pred >= threshold``, averaged over
    ``target_class_ids`` (0, 1 or both)."""

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(2, list(target_class_ids), name, dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = np.asarray(y_pred) >= self.threshold
        super().update_state(y_true, y_pred, sample_weight)

    def get_config(self):
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold,
                "name": self.name, "dtype": self.dtype}


class OneHotIoU(IoU):
    """IoU for one-hot labels and per-class scores (both read by argmax)."""

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None,
                 ignore_class=None, sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, target_class_ids, name, dtype, ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config


class OneHotMeanIoU(MeanIoU):
    """MeanIoU for one-hot labels and per-class scores (both read by argmax)."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, name, dtype, ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config


CLASSES = (IoU, MeanIoU, BinaryIoU, OneHotIoU, OneHotMeanIoU)
