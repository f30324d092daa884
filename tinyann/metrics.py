"""Stateful metrics: ``update_state(y_true, y_pred, sample_weight)``, ``result()``,
``reset_state()``, with Keras's names.

Every metric here is a weighted mean (``total / count``), so one epoch's value
is the true mean over the samples seen, whatever the batch sizes.
"""

from __future__ import annotations

import numpy as np

from tinyann import _identifiers, backend, losses

# the confusion-matrix metrics (Precision, Recall, AUC, ...) are public here too, as in
# keras.metrics
from tinyann.confusion_metrics import (  # noqa: F401
    AUC,
    FalseNegatives,
    FalsePositives,
    Precision,
    PrecisionAtRecall,
    Recall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
    TrueNegatives,
    TruePositives,
)
from tinyann.confusion_metrics import CLASSES as _CONFUSION
from tinyann.correlation_metrics import CLASSES as _CORRELATIONS
from tinyann.correlation_metrics import (  # noqa: F401
    ConcordanceCorrelation,
    PearsonCorrelation,
    concordance_correlation,
    pearson_correlation,
)
from tinyann.iou_metrics import CLASSES as _IOUS
from tinyann.iou_metrics import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU  # noqa: F401
from tinyann.metric_base import Metric, result_value  # noqa: F401 - keras.metrics.Metric
from tinyann.score_metrics import CLASSES as _SCORES
from tinyann.score_metrics import F1Score, FBetaScore, R2Score  # noqa: F401


class Mean(Metric):
    """The weighted mean of the values given to ``update_state(values, sample_weight)``."""

    def update_state(self, values, sample_weight=None):
        values = np.asarray(values, dtype="float64")
        if sample_weight is None:
            self.total += float(values.sum())
            self.count += float(values.size)
        else:
            w = np.broadcast_to(np.asarray(sample_weight, dtype="float64"), values.shape)
            self.total += float((values * w).sum())
            self.count += float(w.sum())


class MeanMetricWrapper(Metric):
    """The mean of ``fn(y_true, y_pred)`` per sample, weighted by ``sample_weight``."""

    # the keyword arguments of ``fn`` that a built-in metric's config lists
    _config_kwargs: tuple[str, ...] = ()

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        self._fn = fn
        self._fn_kwargs = kwargs
        super().__init__(name or getattr(fn, "__name__", "mean_metric_wrapper"), dtype)

    def _values(self, y_true, y_pred):
        return self._fn(y_true, y_pred, **self._fn_kwargs)

    def get_config(self):
        config = super().get_config()
        config.update((key, self._fn_kwargs[key]) for key in self._config_kwargs)
        return config

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = np.asarray(self._values(y_true, y_pred))
        if sample_weight is None:
            self.total += float(values.sum())
            self.count += float(values.size)
            return
        w = np.asarray(sample_weight, dtype="float64")
        while w.ndim < values.ndim:
            w = w[..., None]
        w = np.broadcast_to(w, values.shape)
        self.total += float((values * w).sum())
        self.count += float(w.sum())


# ---------------------------------------------------------------- accuracy
def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) equals the integer label. (N,), (N, C) -> (N,)."""
    y_pred = np.asarray(y_pred)
    y = np.asarray(y_true)
    if y.ndim == y_pred.ndim and y.shape[-1] == 1:
        y = y[..., 0]
    return (y_pred.argmax(axis=-1) == y).astype("float32")


def categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) equals argmax(y_true). (N, C), (N, C) -> (N,)."""
    return (np.asarray(y_pred).argmax(axis=-1) == np.asarray(y_true).argmax(axis=-1)).astype(
        "float32")


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """Mean over the last axis of (y_pred > threshold) == y_true."""
    y_pred = np.asarray(y_pred)
    y = np.asarray(y_true)
    if y.ndim == y_pred.ndim - 1:
        y = y[..., None]
    return ((y_pred > threshold) == (y > 0.5)).astype("float32").mean(axis=-1)


def accuracy(y_true, y_pred):
    """1.0 where y_pred equals y_true exactly."""
    return (np.asarray(y_true) == np.asarray(y_pred)).astype("float32")


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5):
    y_pred = np.asarray(y_pred)
    y = np.asarray(y_true).reshape(y_pred.shape[0]).astype(np.intp)
    true_score = y_pred[np.arange(len(y)), y][:, None]
    # ties count in favour of the true class, as Keras's in_top_k
    return ((y_pred > true_score).sum(axis=-1) < k).astype("float32")


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    return sparse_top_k_categorical_accuracy(np.asarray(y_true).argmax(axis=-1), y_pred, k)


class Accuracy(MeanMetricWrapper):
    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name, dtype)


class SparseCategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name, dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        if sample_weight is None and isinstance(y_true, np.ndarray) and y_true.ndim == 1 and (
                isinstance(y_pred, np.ndarray) and y_pred.ndim == 2):
            # the training hot path: three NumPy calls
            self.total += int(np.count_nonzero(y_pred.argmax(axis=1) == y_true))
            self.count += y_true.shape[0]
            return
        super().update_state(y_true, y_pred, sample_weight)


class CategoricalAccuracy(MeanMetricWrapper):
    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name, dtype)


class BinaryAccuracy(MeanMetricWrapper):
    _config_kwargs = ("threshold",)

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name, dtype, threshold=threshold)
        self.threshold = threshold


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    _config_kwargs = ("k",)

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None):
        super().__init__(sparse_top_k_categorical_accuracy, name, dtype, k=k)
        self.k = k


class TopKCategoricalAccuracy(MeanMetricWrapper):
    _config_kwargs = ("k",)

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name, dtype, k=k)
        self.k = k


# ---------------------------------------------------------------- regression
def _regression_pair(y_true, y_pred):
    """``y_true`` and ``y_pred`` as float arrays of broadcastable shapes, as Keras's
    metrics take them: (N, 1) against (N, C) broadcasts over C.

    (N,) against (N, C) is read as (N, 1): fit hands metrics integer labels of
    shape (N,) even when the user gave (N, 1), as Keras's 'mae' with sparse labels.
    """
    y_pred = np.asarray(y_pred)
    if y_pred.dtype.kind != "f":
        y_pred = y_pred.astype(backend.floatx())
    y = np.asarray(y_true).astype(y_pred.dtype, copy=False)
    if y.ndim == y_pred.ndim - 1:
        y = y[..., None]
    elif y.ndim == y_pred.ndim + 1 and y.shape[-1] == 1:
        y = y[..., 0]
    try:
        np.broadcast_shapes(y.shape, y_pred.shape)
    except ValueError:
        raise ValueError(
            "Arguments `y_true` and `y_pred` must have broadcastable shapes. "
            f"Received: y_true.shape={np.shape(y_true)}, y_pred.shape={y_pred.shape}"
        ) from None
    return y, y_pred


def mean_squared_error(y_true, y_pred):
    """mean((y_true - y_pred)^2, axis=-1). (N, ..., C) -> (N, ...)."""
    y, y_pred = _regression_pair(y_true, y_pred)
    return np.square(y_pred - y).mean(axis=-1)


def mean_absolute_error(y_true, y_pred):
    """mean(|y_true - y_pred|, axis=-1). (N, ..., C) -> (N, ...)."""
    y, y_pred = _regression_pair(y_true, y_pred)
    return np.abs(y_pred - y).mean(axis=-1)


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error


class MeanSquaredError(MeanMetricWrapper):
    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name, dtype)


class MeanAbsoluteError(MeanMetricWrapper):
    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name, dtype)


class RootMeanSquaredError(Mean):
    """sqrt of the mean squared error over all elements seen."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name, dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        super().update_state(mean_squared_error(y_true, y_pred), sample_weight)

    def result(self):
        return float(np.sqrt(Mean.result.raw(self)))


# the per-sample functions keras.metrics shares with keras.losses
from tinyann.losses import (  # noqa: E402, F401
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_percentage_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)


class Sum(Metric):
    """The weighted sum of the values given to ``update_state(values, sample_weight)``."""

    def update_state(self, values, sample_weight=None):
        values = np.asarray(values, dtype="float64")
        if sample_weight is not None:
            w = np.asarray(sample_weight, "float64")
            while w.ndim < values.ndim:  # one weight per sample: over its other axes
                w = w[..., None]
            values = values * np.broadcast_to(w, values.shape)
        self.total += float(values.sum())

    def result(self):
        return self.total


def _cosine_similarity(y_true, y_pred, axis=-1):
    """sum(normalize(y_true) * normalize(y_pred), axis): 1 when they point the same way."""
    return -losses.cosine_similarity(y_true, y_pred, axis=axis)


def _wrapper(class_name, fn, keras_name, doc):
    """A MeanMetricWrapper of ``fn`` with Keras's default name."""
    def __init__(self, name=keras_name, dtype=None):
        MeanMetricWrapper.__init__(self, fn, name, dtype)

    return type(class_name, (MeanMetricWrapper,), {
        "__init__": __init__, "__doc__": doc, "__module__": __name__})


Hinge = _wrapper("Hinge", hinge, "hinge", "The mean of max(1 - y p, 0) (labels 0/1 as -1/1).")
SquaredHinge = _wrapper("SquaredHinge", squared_hinge, "squared_hinge",
                        "The mean of max(1 - y p, 0)^2 (labels 0/1 as -1/1).")
CategoricalHinge = _wrapper("CategoricalHinge", categorical_hinge, "categorical_hinge",
                            "The mean of max(max((1 - y) p) - sum(y p) + 1, 0).")
KLDivergence = _wrapper("KLDivergence", kl_divergence, "kl_divergence",
                        "The mean of sum(y log(y / p)) (both clipped to [eps, 1]).")
Poisson = _wrapper("Poisson", poisson, "poisson", "The mean of p - y log(p + eps).")
LogCoshError = _wrapper("LogCoshError", log_cosh, "logcosh",
                        "The mean of log(cosh(p - y)).")
MeanAbsolutePercentageError = _wrapper(
    "MeanAbsolutePercentageError", mean_absolute_percentage_error,
    "mean_absolute_percentage_error", "The mean of 100 |y - p| / max(|y|, eps).")
MeanSquaredLogarithmicError = _wrapper(
    "MeanSquaredLogarithmicError", mean_squared_logarithmic_error,
    "mean_squared_logarithmic_error",
    "The mean of (log(max(p, eps) + 1) - log(max(y, eps) + 1))^2.")


class CosineSimilarity(MeanMetricWrapper):
    """The mean cosine similarity of ``y_true`` and ``y_pred`` along ``axis`` (1: the
    same direction, -1: opposite)."""

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(_cosine_similarity, name, dtype, axis=axis)
        self.axis = axis

    def get_config(self):
        config = super().get_config()
        if self.axis != -1:
            config["axis"] = self.axis
        return config


def _pop_defaults(cls, config, **defaults) -> dict:
    """``config`` without Keras's keys that tinyann supports only at their defaults."""
    config = dict(config)
    for key, default in defaults.items():
        value = config.pop(key, default)
        if value != default:
            raise NotImplementedError(
                f"{key}={value!r} is not supported by tinyann's {cls.__name__} metric yet")
    return config


class _CrossentropyMetric(MeanMetricWrapper):
    # Keras's extra config keys, with the only values tinyann's metric supports
    _keras_defaults: dict = {}
    _config_kwargs = ("from_logits",)

    def get_config(self):
        return {**super().get_config(), **self._keras_defaults}

    @classmethod
    def from_config(cls, config):
        return cls(**_pop_defaults(cls, config, **cls._keras_defaults))


class SparseCategoricalCrossentropy(_CrossentropyMetric):
    _keras_defaults = {"ignore_class": None, "axis": -1}

    def __init__(self, name="sparse_categorical_crossentropy", dtype=None, from_logits=False):
        super().__init__(losses.sparse_categorical_crossentropy, name, dtype,
                         from_logits=from_logits)


class CategoricalCrossentropy(_CrossentropyMetric):
    _keras_defaults = {"label_smoothing": 0, "axis": -1}

    def __init__(self, name="categorical_crossentropy", dtype=None, from_logits=False):
        super().__init__(losses.categorical_crossentropy, name, dtype, from_logits=from_logits)


class BinaryCrossentropy(_CrossentropyMetric):
    _keras_defaults = {"label_smoothing": 0}

    def __init__(self, name="binary_crossentropy", dtype=None, from_logits=False):
        super().__init__(losses.binary_crossentropy, name, dtype, from_logits=from_logits)


_MORE = (Sum, Hinge, SquaredHinge, CategoricalHinge, KLDivergence, Poisson, LogCoshError,
         MeanAbsolutePercentageError, MeanSquaredLogarithmicError, CosineSimilarity,
         *_CORRELATIONS, *_IOUS)
_CLASSES = {
    cls.__name__: cls
    for cls in (Mean, Accuracy, SparseCategoricalAccuracy, CategoricalAccuracy, BinaryAccuracy,
                SparseTopKCategoricalAccuracy, TopKCategoricalAccuracy, MeanSquaredError,
                MeanAbsoluteError, RootMeanSquaredError, SparseCategoricalCrossentropy,
                CategoricalCrossentropy, BinaryCrossentropy, *_CONFUSION, *_SCORES, *_MORE)
}
# string -> (class, the name Keras reports in the history)
_STRINGS = {
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "binary_accuracy": BinaryAccuracy,
    "sparse_top_k_categorical_accuracy": SparseTopKCategoricalAccuracy,
    "top_k_categorical_accuracy": TopKCategoricalAccuracy,
    "mean_squared_error": MeanSquaredError,
    "mse": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
    "mae": MeanAbsoluteError,
    "root_mean_squared_error": RootMeanSquaredError,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "binary_crossentropy": BinaryCrossentropy,
    "bce": BinaryCrossentropy,
    "BCE": BinaryCrossentropy,
    "MSE": MeanSquaredError,
    "MAE": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError,
    "MAPE": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError,
    "MSLE": MeanSquaredLogarithmicError,
    # Keras finds every metric class by its snake_case name too
    **{backend.to_snake_case(cls.__name__): cls for cls in (*_CONFUSION, *_SCORES, *_MORE)},
}
_ACCURACY_STRINGS = ("accuracy", "acc")
# every string get() reads; the metric takes the string as its name (the history's key)
_NAMED = {**dict.fromkeys(_ACCURACY_STRINGS, Accuracy), **_STRINGS}
_IDENTIFIERS = _identifiers.Identifiers("metric", Metric, _NAMED, _CLASSES,
                                        names_in_configs=False, classes_too=True)


def get(identifier) -> Metric:
    """A metric from a string, a config dict or an instance (not 'accuracy': see resolve)."""
    if isinstance(identifier, str) and identifier in _NAMED:
        return _NAMED[identifier](name=identifier)
    found = _IDENTIFIERS.lookup(identifier)
    if found is not None:
        return found
    if callable(identifier):
        return MeanMetricWrapper(identifier)
    raise _identifiers.not_understood("metric", identifier)


def resolve(identifier, y_true_shape, y_pred_shape) -> Metric:
    """``get`` with Keras's reading of 'accuracy' / 'acc' from the label and output shapes.

    Binary when the output has one unit; sparse when the labels have one axis fewer
    than the output (or a last axis of 1); categorical otherwise.
    """
    if isinstance(identifier, str) and identifier in _ACCURACY_STRINGS:
        if y_pred_shape[-1] == 1:
            return BinaryAccuracy(name=identifier)
        if len(y_true_shape) < len(y_pred_shape) or (
            len(y_true_shape) == len(y_pred_shape) and y_true_shape[-1] == 1
        ):
            return SparseCategoricalAccuracy(name=identifier)
        return CategoricalAccuracy(name=identifier)
    return get(identifier)


class CompileMetrics(Metric):
    """The metrics given to ``compile``, as one metric: Keras 3's ``model.metrics[1]``.

    Built at the first data (``'accuracy'`` resolves from the shapes of the targets and
    outputs); ``metrics`` is then the flat list of metric objects and ``result()`` a
    dict ``{name: value}``. With several outputs each name is prefixed with its
    output's (``out_a_accuracy``); a name met twice gets ``_1``, ``_2``... as in Keras.

    Args:
        metrics: per output, the list of metric identifiers given to compile.
        output_names: the outputs' names, or None for a single output.
    """

    def __init__(self, metrics=(), output_names=None):
        self.configure(metrics, output_names)
        super().__init__(name="compile_metrics")

    def configure(self, metrics, output_names=None) -> None:
        """Sets the identifiers per output (the model's outputs are known); unbuilt."""
        self._ids = [list(ids) for ids in metrics]
        self.output_names = output_names
        self._per_output = None

    @property
    def built(self) -> bool:
        return self._per_output is not None

    def build(self, y_true_shapes, y_pred_shapes) -> None:
        """Resolves the identifiers against one target and output shape per output."""
        self._per_output = [
            [resolve(m, y_shape, p_shape) for m in ids]
            for ids, y_shape, p_shape in zip(self._ids, y_true_shapes, y_pred_shapes)
        ]

    @property
    def metrics(self) -> list:
        return [m for ms in self._per_output or [] for m in ms]

    @property
    def per_output(self) -> list:
        """One list of metric objects per output (empty lists before ``build``)."""
        return self._per_output or [[] for _ in self._ids]

    def reset_state(self) -> None:
        for m in self.metrics:
            m.reset_state()

    def update_state(self, y_true, y_pred, sample_weight=None, metric_masks=None) -> None:
        """``y_true`` and ``y_pred``: one array per output (lists), or the arrays of a
        model with one output (a user's ``train_step`` passes them so).
        ``metric_masks``: per output, None or the weights of its values (a sequence
        mask, as Keras weighs compiled metrics by the output's mask)."""
        if not isinstance(y_pred, (list, tuple)):
            y_true, y_pred = [y_true], [y_pred]
        if not self.built:
            self.build([np.shape(y) for y in y_true], [np.shape(p) for p in y_pred])
        weights = metric_masks or [None] * len(y_pred)
        for ms, y, p, w in zip(self.per_output, y_true, y_pred, weights):
            for m in ms:
                if w is None:
                    m.update_state(y, p)
                else:
                    m.update_state(y, p, w)

    def result(self) -> dict:
        if not self.built:
            raise ValueError("Cannot get result() since the metric has not yet been built.")
        results = {}
        seen = {}
        for k, ms in enumerate(self._per_output):
            prefix = f"{self.output_names[k]}_" if self.output_names else ""
            for m in ms:
                name = prefix + m.name
                if name in seen:
                    seen[name] += 1
                    name = f"{name}_{seen[name] - 1}"
                else:
                    seen[name] = 1
                value = result_value(m)
                # a metric at several thresholds gives one value each (Keras logs the array)
                results[name] = float(value) if np.ndim(value) == 0 else np.asarray(value)
        return results

    @property
    def variables(self):
        return [v for m in self.metrics for v in m.variables]

    def get_config(self) -> dict:
        raise NotImplementedError("CompileMetrics is made by `compile()`, not from a config")


def serialize(metric: Metric) -> dict:
    return _identifiers.serialize(metric, "keras.metrics")


def deserialize(config, custom_objects=None) -> Metric:
    """A metric from ``serialize``'s output, a class name or a string ``get`` reads."""
    config = _identifiers.deserializable(config, "metric")
    if isinstance(config, dict) and custom_objects and config.get("class_name") in (
            custom_objects):
        return custom_objects[config["class_name"]].from_config(config.get("config") or {})
    return get(config)
