"""Losses with Keras's names, formulas and ``sum_over_batch_size`` reduction.

Each loss is a class (``SparseCategoricalCrossentropy()``), a function
(``sparse_categorical_crossentropy(y_true, y_pred) -> per-sample losses``) and a
string for ``compile``. Modules: ``functions`` (per-sample values, target
checks), ``base`` (``Loss``, reductions, ``WeightedLoss``), ``probabilistic``
(the cross-entropies, with the fused softmax/sigmoid gradient) and
``regression`` (MSE, MAE, Huber), ``elementwise`` (log-cosh, MSLE, MAPE, hinge, squared
hinge, Poisson, KL divergence, cosine similarity).
"""

from __future__ import annotations

from tinyann import _identifiers
from tinyann.losses import elementwise as _elementwise
from tinyann.losses import focal as _focal
from tinyann.losses import generalized as _generalized
from tinyann.losses import overlap as _overlap
from tinyann.losses.base import (
    Loss,
    LossFunctionWrapper,
    WeightedLoss,
    _broadcast_weight,
    _grad_scale,
    _reduce,
)
from tinyann.losses.elementwise import (
    CategoricalHinge,
    CosineSimilarity,
    Hinge,
    KLDivergence,
    LogCosh,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    Poisson,
    SquaredHinge,
    categorical_hinge,
    cosine_similarity,
    hinge,
    kl_divergence,
    log_cosh,
    mean_absolute_percentage_error,
    mean_squared_logarithmic_error,
    poisson,
    squared_hinge,
)
from tinyann.losses.focal import (
    BinaryFocalCrossentropy,
    CategoricalFocalCrossentropy,
    binary_focal_crossentropy,
    categorical_focal_crossentropy,
)
from tinyann.losses.functions import (
    _check_sparse_labels,
    _sparse_labels_shape,
    binary_crossentropy,
    categorical_crossentropy,
    huber,
    mean_absolute_error,
    mean_squared_error,
    sparse_categorical_crossentropy,
)
from tinyann.losses.generalized import (
    CategoricalGeneralizedCrossEntropy,
    categorical_generalized_cross_entropy,
)
from tinyann.losses.overlap import Dice, Tversky, dice, tversky
from tinyann.losses.probabilistic import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
)
from tinyann.losses.regression import Huber, MeanAbsoluteError, MeanSquaredError

__all__ = ["Loss", "WeightedLoss", "SparseCategoricalCrossentropy", "CategoricalCrossentropy",
           "BinaryCrossentropy", "MeanSquaredError", "MeanAbsoluteError", "Huber",
           "sparse_categorical_crossentropy", "categorical_crossentropy",
           "binary_crossentropy", "mean_squared_error", "mean_absolute_error", "huber",
           "LossFunctionWrapper", "LogCosh", "MeanSquaredLogarithmicError",
           "MeanAbsolutePercentageError", "Hinge", "SquaredHinge", "Poisson", "KLDivergence",
           "CosineSimilarity", "log_cosh", "mean_squared_logarithmic_error",
           "mean_absolute_percentage_error", "hinge", "squared_hinge", "poisson",
           "kl_divergence", "cosine_similarity", "msle", "MSLE", "mape", "MAPE", "kld", "KLD",
           "mse", "MSE", "mae", "MAE", "get", "serialize", "deserialize",
           "BinaryFocalCrossentropy", "CategoricalFocalCrossentropy", "CategoricalHinge", "Dice",
           "Tversky", "binary_focal_crossentropy", "categorical_focal_crossentropy",
           "categorical_hinge", "dice", "tversky", "CategoricalGeneralizedCrossEntropy",
           "categorical_generalized_cross_entropy"]
# the functions are tinyann.losses.X (callbacks and saving recognise them by module)
for _function in (sparse_categorical_crossentropy, categorical_crossentropy,
                  binary_crossentropy, mean_squared_error, mean_absolute_error, huber,
                  *_elementwise.FUNCTIONS, *_focal.FUNCTIONS, *_overlap.FUNCTIONS,
                  *_generalized.FUNCTIONS):
    _function.__module__ = __name__
# used by the training loops and target checks (the per-batch gradient scale, weights
# and label checks)
_PRIVATE_HELPERS = (_broadcast_weight, _grad_scale, _reduce, _check_sparse_labels,
                    _sparse_labels_shape)


_CLASSES = {
    cls.__name__: cls
    for cls in (SparseCategoricalCrossentropy, CategoricalCrossentropy, BinaryCrossentropy,
                MeanSquaredError, MeanAbsoluteError, Huber, *_elementwise.CLASSES,
                *_focal.CLASSES, *_overlap.CLASSES, *_generalized.CLASSES)
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
    "log_cosh": LogCosh,
    "logcosh": LogCosh,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError,
    "msle": MeanSquaredLogarithmicError,
    "MSLE": MeanSquaredLogarithmicError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "mape": MeanAbsolutePercentageError,
    "MAPE": MeanAbsolutePercentageError,
    "hinge": Hinge,
    "squared_hinge": SquaredHinge,
    "poisson": Poisson,
    "kl_divergence": KLDivergence,
    "kld": KLDivergence,
    "KLD": KLDivergence,
    "cosine_similarity": CosineSimilarity,
    "categorical_hinge": CategoricalHinge,
    "binary_focal_crossentropy": BinaryFocalCrossentropy,
    "categorical_focal_crossentropy": CategoricalFocalCrossentropy,
    "dice": Dice,
    "tversky": Tversky,
    "categorical_generalized_cross_entropy": CategoricalGeneralizedCrossEntropy,
}
_FUNCTIONS = {
    sparse_categorical_crossentropy: SparseCategoricalCrossentropy,
    categorical_crossentropy: CategoricalCrossentropy,
    binary_crossentropy: BinaryCrossentropy,
    mean_squared_error: MeanSquaredError,
    mean_absolute_error: MeanAbsoluteError,
    huber: Huber,
    **_elementwise.FUNCTIONS,
    **_focal.FUNCTIONS,
    **_overlap.FUNCTIONS,
    **_generalized.FUNCTIONS,
}
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
msle = MSLE = mean_squared_logarithmic_error
mape = MAPE = mean_absolute_percentage_error
kld = KLD = kl_divergence
_IDENTIFIERS = _identifiers.Identifiers("loss", Loss, _STRINGS, _CLASSES, classes_too=True)


def get(identifier) -> Loss:
    """A loss object from a string, a Keras config dict, a loss function or an instance."""
    found = _IDENTIFIERS.lookup(identifier)
    if found is not None:
        return found
    if callable(identifier) and identifier in _FUNCTIONS:
        return _FUNCTIONS[identifier]()
    if callable(identifier) and not isinstance(identifier, type):
        # a user's function written with keras.ops: differentiated by the tape
        return LossFunctionWrapper(identifier)
    raise _identifiers.not_understood("loss", identifier, (
        "a string such as 'sparse_categorical_crossentropy', a Loss instance or a tinyann "
        "loss function."))


def serialize(loss: Loss) -> dict:
    return _identifiers.serialize(loss, "keras.losses")


def deserialize(config, custom_objects=None) -> Loss:
    """A loss from ``serialize``'s output (or a name)."""
    return get(_identifiers.deserializable(config, "loss"))
