"""What iterating a served ``tf.data.Dataset`` yields: NumPy arrays with ``.numpy()``."""

from __future__ import annotations

import numpy as np


class EagerTensor(np.ndarray):
    """A NumPy array that also answers TensorFlow's ``.numpy()``.

    Scripts written for TensorFlow call ``images.numpy()`` on dataset elements;
    everything else (``.shape``, slicing, ``np.*``, matplotlib) sees an ndarray.
    """

    def numpy(self):
        """The value as a plain ndarray (a NumPy scalar for a 0-d tensor), as TF returns."""
        value = np.asarray(self)
        return value[()] if value.ndim == 0 else value

    def __repr__(self):
        value = np.asarray(self)
        return f"<tf.Tensor: shape={value.shape}, dtype={value.dtype.name}, numpy={value!r}>"

    def __str__(self):
        value = np.asarray(self)
        return f"tf.Tensor({value}, shape={value.shape}, dtype={value.dtype.name})"


def map_structure(func, structure):
    """``func`` applied to every leaf of nested tuples and dicts (lists are leaves, as in tf)."""
    if isinstance(structure, tuple):
        return tuple(map_structure(func, s) for s in structure)
    if isinstance(structure, dict):
        return {k: map_structure(func, v) for k, v in structure.items()}
    return func(structure)


def to_numpy(value):
    """An element's leaf as ``as_numpy_iterator`` gives it: ndarray or NumPy scalar."""
    value = np.asarray(value)
    return value[()] if value.ndim == 0 else value
