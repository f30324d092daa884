"""Keras's regression datasets (Boston and California housing): one ``.npz`` of ``x``
(samples, features) and ``y`` (samples,), shuffled and cut into train and test.

Keras shuffles ``arange(len(x))`` with ``np.random.RandomState(seed)`` and cuts at
``int(len(x) * (1 - test_split))``. The file holds plain float arrays, so it is read with
no unpickling at all: an array of pickled objects is refused.
"""

from __future__ import annotations

import warnings

import numpy as np

from tinyann.datasets import _keras_files


def check_test_split(test_split) -> None:
    """Keras's rule: ``0 <= test_split < 1``."""
    if not (0 <= test_split < 1):
        raise ValueError(f"Invalid `test_split` argument: {test_split}. "
                         "It must be between 0 and 1 (exclusive of 1).")


def read(path, kind: str, features: int | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``(x, y)`` of a housing ``.npz``, checked: ``x`` 2-D, ``y`` 1-D, equal lengths."""
    arrays = _keras_files.read_npz(path, kind, f"a {kind} holds only arrays of numbers")
    _keras_files.require(arrays, ("x", "y"), path, kind)
    x, y = arrays["x"], arrays["y"]
    if x.ndim != 2 or y.ndim != 1 or len(x) != len(y):
        raise ValueError(f"{path}: expected x of shape (samples, features) and y of shape "
                         f"(samples,), received x {x.shape} and y {y.shape}")
    if features is not None and x.shape[1] != features:
        warnings.warn(f"{path}: Keras's {kind} has {features} features, this file "
                      f"{x.shape[1]}", stacklevel=3)
    return x, y


def shuffle_split(x, y, test_split, seed):
    """``((x_train, y_train), (x_test, y_test))``, Keras's shuffle then cut."""
    order = np.arange(len(x))
    np.random.RandomState(seed).shuffle(order)
    x, y = x[order], y[order]
    cut = int(len(x) * (1 - test_split))
    return (x[:cut], y[:cut]), (x[cut:], y[cut:])
