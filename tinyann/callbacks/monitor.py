"""MonitorCallback: the ``monitor`` / ``mode`` / ``min_delta`` logic shared by
EarlyStopping, ModelCheckpoint and ReduceLROnPlateau, with Keras 3's rules.

``mode='auto'`` minimises any ``loss`` / ``val_loss``; for another name it looks
the metric up among the model's compiled metrics and uses its direction
(accuracies up; errors and cross-entropies down), and raises Keras's
``ValueError`` at the first epoch end when it cannot tell.
"""

from __future__ import annotations

import operator
import warnings

import numpy as np

from tinyann.callbacks.callback import Callback

# Keras's `_direction` of its built-in metrics, by class name
_UP = frozenset({
    "Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "SparseCategoricalAccuracy",
    "TopKCategoricalAccuracy", "SparseTopKCategoricalAccuracy", "Precision", "Recall",
    "AUC", "FBetaScore", "F1Score", "IoU", "BinaryIoU", "MeanIoU", "OneHotIoU",
    "OneHotMeanIoU", "CosineSimilarity", "R2Score", "PearsonCorrelation",
    "ConcordanceCorrelation", "SensitivityAtSpecificity", "SpecificityAtSensitivity",
    "PrecisionAtRecall", "RecallAtPrecision",
})
_DOWN = frozenset({
    "MeanSquaredError", "MeanAbsoluteError", "RootMeanSquaredError",
    "MeanAbsolutePercentageError", "MeanSquaredLogarithmicError", "LogCoshError",
    "SparseCategoricalCrossentropy", "CategoricalCrossentropy", "BinaryCrossentropy",
    "Hinge", "SquaredHinge", "CategoricalHinge", "KLDivergence", "Poisson",
})


def metric_direction(metric) -> str | None:
    """``'up'``, ``'down'`` or None (unknown), as Keras's ``Metric._direction``."""
    direction = getattr(metric, "_direction", None)
    if direction in ("up", "down"):
        return direction
    name = type(metric).__name__
    if name in _UP:
        return "up"
    if name in _DOWN:
        return "down"
    # a MeanMetricWrapper around a loss function is minimised, as in Keras
    fn = getattr(metric, "_fn", None)
    if fn is not None:
        from tinyann import losses

        if isinstance(fn, losses.Loss) or getattr(fn, "__module__", None) == losses.__name__:
            return "down"
    return None


class MonitorCallback(Callback):
    """Base class of callbacks that watch one value of the epoch logs.

    Args:
        monitor: the logs key, e.g. ``'val_loss'`` or ``'val_accuracy'``.
        mode: ``'auto'``, ``'min'`` or ``'max'`` (anything else warns and falls
            back to ``'auto'``, as Keras).
        baseline: initial best value, or None (the first value is the best).
        min_delta: the smallest change that counts as an improvement.
    """

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in ("auto", "min", "max"):
            warnings.warn(
                f"{type(self).__name__} mode '{mode}' is unknown, fallback to auto mode.",
                stacklevel=3,
            )
            mode = "auto"
        if not isinstance(monitor, str):
            raise ValueError(
                f"Argument `monitor` must be the name of a logged metric (a string such as "
                f"'val_loss'). Received: monitor={monitor!r}"
            )
        check_number("min_delta", min_delta)
        check_baseline(baseline)
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _monitored_value(self, logs, what, end=""):
        """``logs[monitor]``, or None with Keras's warning that ``what`` (e.g. 'Early
        stopping') cannot work without it (``end``: Keras's final punctuation)."""
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"{what} conditioned on metric `{self.monitor}` which is not available. "
                f"Available metrics are: {','.join(list(logs.keys()))}{end}", stacklevel=3)
        return value

    def _set_monitor_op(self):
        if self.mode == "min":
            self.monitor_op = operator.lt
        elif self.mode == "max":
            self.monitor_op = operator.gt
        else:
            metric_name = self.monitor.removeprefix("val_")
            if metric_name == "loss":
                self.monitor_op = operator.lt
            found = []
            for m in getattr(self.model, "metrics", None) or []:
                # Keras 3's model.metrics holds the compiled metrics as one
                # CompileMetrics: the metrics to look up are its own `metrics`
                found.extend(getattr(m, "metrics", None) or [m])
            for m in found:
                if m.name == metric_name:
                    direction = metric_direction(m)
                    if direction is not None:
                        self.monitor_op = operator.gt if direction == "up" else operator.lt
            if self.monitor_op is None:
                raise ValueError(
                    f"{type(self).__name__} callback received monitor={self.monitor}, but "
                    "Keras isn't able to automatically determine whether that metric should "
                    "be maximized or minimized. Pass `mode='max'` in order to monitor based "
                    "on the highest metric value, or pass `mode='min'` in order to use the "
                    "lowest value."
                )
        # minimising: an improvement is `current + |min_delta| < best`
        if self.monitor_op is operator.lt:
            self.min_delta = -abs(self.min_delta)

    def _is_improvement(self, monitor_value, reference_value) -> bool:
        if reference_value is None:
            return True
        if self.monitor_op is None:
            self._set_monitor_op()
        return bool(self.monitor_op(monitor_value - self.min_delta, reference_value))


def check_baseline(baseline):
    """None (no baseline), or any number (inf included)."""
    if baseline is not None:
        check_number("baseline", baseline, finite=False)


def check_number(name, value, finite=True):
    ok = not isinstance(value, bool) and isinstance(value, (int, float, np.number))
    if not ok or (finite and not np.isfinite(value)):
        raise ValueError(f"Argument `{name}` must be a number. Received: {name}={value!r}")


def check_non_negative_int(name, value):
    """Keras leaves these unchecked; a negative count is always a mistake."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(
            f"Argument `{name}` must be a non-negative integer. Received: {name}={value!r}"
        )


def check_save_freq(save_freq, allow_false=False):
    """``'epoch'`` or a positive integer (Keras's message otherwise)."""
    if save_freq == "epoch" or (allow_false and save_freq is False):
        return
    if isinstance(save_freq, bool) or not isinstance(save_freq, (int, np.integer)):
        raise ValueError(
            f"Unrecognized save_freq: {save_freq}. Expected save_freq are 'epoch' or "
            "integer values"
        )
    if save_freq <= 0:
        raise ValueError(
            f"Argument `save_freq` must be 'epoch' or a positive number of batches. "
            f"Received: save_freq={save_freq}"
        )


class BatchCounter:
    """Counts training batches across epochs for ``save_freq=<int>`` (Keras's rule:
    a batch index not above the last one seen starts a new epoch)."""

    def __init__(self, every):
        self.every = every
        self.seen = 0
        self.last = None

    def step(self, batch) -> bool:
        add = batch + 1 if self.last is None or batch <= self.last else batch - self.last
        self.seen += add
        self.last = batch
        if self.seen >= self.every:
            self.seen = 0
            return True
        return False
