"""Losses with Keras's names, formulas and ``sum_over_batch_size`` reduction.

Each loss is a class (``SparseCategoricalCrossentropy()``), a function
(``sparse_categorical_crossentropy(y_true, y_pred) -> per-sample losses``) and a
string for ``compile``. Modules: ``functions`` (per-sample values, target
checks), ``base`` (``Loss``, reductions, ``WeightedLoss``), ``probabilistic``
(the cross-entropies, with the fused softmax/sigmoid gradient) and
``regression`` (MSE, MAE, Huber).
"""

from __future__ import annotations

from tinyann import _identifiers
from tinyann.losses.base import (
    Loss,
    LossFunctionWrapper,
    WeightedLoss,
    _broadcast_weight,
    _grad_scale,
    _reduce,
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
           "LossFunctionWrapper",
           "mse", "MSE", "mae", "MAE", "get", "serialize", "deserialize"]
# the functions are tinyann.losses.X (callbacks and saving recognise them by module)
for _function in (sparse_categorical_crossentropy, categorical_crossentropy,
                  binary_crossentropy, mean_squared_error, mean_absolute_error, huber):
    _function.__module__ = __name__
# used by the training loops and target checks (the per-batch gradient scale, weights
# and label checks)
_PRIVATE_HELPERS = (_broadcast_weight, _grad_scale, _reduce, _check_sparse_labels,
                    _sparse_labels_shape)


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
