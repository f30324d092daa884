"""Keras's data helpers: ``pack_x_y_sample_weight`` / ``unpack_x_y_sample_weight`` (for
a ``train_step`` of one's own), ``split_dataset``, and ``get_source_inputs``.
"""

from __future__ import annotations

import random

import numpy as np

from tinyann import backend
from tinyann.utils.batched_dataset import SampleDataset
from tinyann.utils.py_dataset import PyDataset


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """``x`` (``(x,)`` when x is a tuple or list), ``(x, y)`` or ``(x, y, sample_weight)``:
    the forms ``fit`` takes."""
    if y is None:
        # a single x is not wrapped (no ambiguity), unless it is a tuple or list
        return (x,) if isinstance(x, (tuple, list)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


def unpack_x_y_sample_weight(data):
    """``(x, y, sample_weight)`` from ``x``, ``(x,)``, ``(x, y)`` or
    ``(x, y, sample_weight)``, with None for what is missing."""
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return (data, None, None)
    if len(data) == 1:
        return (data[0], None, None)
    if len(data) == 2:
        return (data[0], data[1], None)
    if len(data) == 3:
        return (data[0], data[1], data[2])
    raise ValueError("Data is expected to be in format `x`, `(x,)`, `(x, y)`, or "
                     f"`(x, y, sample_weight)`, found: {data}")


def get_source_inputs(tensor):
    """The ``Input`` tensors ``tensor`` is computed from (a list, without repeats); a
    value that is not a symbolic tensor is returned as it is."""
    from tinyann.layers.keras_tensor import KerasTensor

    if not isinstance(tensor, KerasTensor):
        return tensor
    node = tensor.node
    if node is None:
        return [tensor]
    if not node.inputs:  # an Input's node
        return list(node.outputs)
    sources = []
    for parent in node.inputs:
        for x in get_source_inputs(parent):
            if all(x is not t for t in sources):
                sources.append(x)
    return sources


# ---------------------------------------------------------------- split_dataset
def _rescale_split_sizes(left_size, right_size, total_length):
    """Keras's checks and rounding of ``left_size`` / ``right_size`` (ints or fractions)
    into two sample counts."""
    left_type, right_type = type(left_size), type(right_size)
    if (left_size is not None and left_type not in (int, float)) and (
            right_size is not None and right_type not in (int, float)):
        raise TypeError("Invalid `left_size` and `right_size` Types. Expected: integer or "
                        f"float or None, Received: type(left_size)={left_type} and "
                        f"type(right_size)={right_type}")
    if left_size is not None and left_type not in (int, float):
        raise TypeError("Invalid `left_size` Type. Expected: int or float or None, "
                        f"Received: type(left_size)={left_type}.  ")
    if right_size is not None and right_type not in (int, float):
        raise TypeError("Invalid `right_size` Type. Expected: int or float or None,"
                        f"Received: type(right_size)={right_type}.")
    if left_size == 0 and right_size == 0:
        raise ValueError("Both `left_size` and `right_size` are zero. At least one of the "
                         "split sizes must be non-zero.")
    if (left_type is int and (left_size <= 0 or left_size >= total_length)) or (
            left_type is float and (left_size <= 0 or left_size >= 1)):
        raise ValueError("`left_size` should be either a positive integer smaller than "
                         f"{total_length}, or a float within the range `[0, 1]`. "
                         f"Received: left_size={left_size}")
    if (right_type is int and (right_size <= 0 or right_size >= total_length)) or (
            right_type is float and (right_size <= 0 or right_size >= 1)):
        raise ValueError("`right_size` should be either a positive integer and smaller "
                         f"than {total_length} or a float within the range `[0, 1]`. "
                         f"Received: right_size={right_size}")
    if right_type is left_type is float and right_size + left_size > 1:
        raise ValueError("The sum of `left_size` and `right_size` is greater than 1. It "
                         "must be less than or equal to 1.")
    if left_type is float:
        left_size = round(left_size * total_length)
    if right_type is float:
        right_size = round(right_size * total_length)
    if left_size is None:
        left_size = total_length - right_size
    elif right_size is None:
        right_size = total_length - left_size
    if left_size + right_size > total_length:
        raise ValueError("The sum of `left_size` and `right_size` should be smaller than "
                         f"the {total_length}. Received: left_size + right_size = "
                         f"{left_size + right_size}and total_length = {total_length}")
    for split, side in ((left_size, "left"), (right_size, "right")):
        if split == 0:
            raise ValueError(
                f"With `dataset` of length={total_length}, `left_size`={left_size} and "
                f"`right_size`={right_size}.Resulting {side} side dataset split will be "
                "empty. Adjust any of the aforementioned parameters")
    return int(left_size), int(right_size)


def _as_structure(value):
    """A sample or a batch as an array, a tuple of arrays or a dict of arrays."""
    if isinstance(value, (tuple, list)):
        return tuple(np.asarray(v) for v in value)
    if isinstance(value, dict):
        return {key: np.asarray(v) for key, v in value.items()}
    return np.asarray(value)


def _concatenate(parts, stack):
    """The arrays of a list of samples (``stack``) or batches, joined on axis 0."""
    join = np.stack if stack else np.concatenate
    first = parts[0]
    if isinstance(first, tuple):
        return tuple(join([p[k] for p in parts]) for k in range(len(first)))
    if isinstance(first, dict):
        return {key: join([p[key] for p in parts]) for key in first}
    return join(parts)


def _length(arrays) -> int:
    if isinstance(arrays, tuple):
        return len(arrays[0])
    if isinstance(arrays, dict):
        return len(next(iter(arrays.values())))
    return len(arrays)


def _samples_of(dataset):
    """``(arrays, batch_size)``: the dataset's samples as arrays, and the size of its
    batches (None when its items are samples)."""
    if isinstance(dataset, np.ndarray):
        if dataset.ndim == 0 or not len(dataset):
            raise ValueError("Received an empty dataset. Argument `dataset` must be a "
                             "non-empty array, a list/tuple of arrays or a dataset.")
        return dataset, None
    if isinstance(dataset, (list, tuple)):
        if len(dataset) == 0:
            raise ValueError("Received an empty list dataset. Please provide a non-empty "
                             "list of arrays.")
        for i, element in enumerate(dataset):
            if not isinstance(element, np.ndarray):
                raise ValueError(f"Expected a {type(dataset).__name__} of `numpy.ndarray` "
                                 f"objects,Received: {type(element)} at index {i}.")
            if element.shape[:1] != dataset[0].shape[:1]:
                raise ValueError(
                    f"Received a {type(dataset).__name__} of NumPy arrays with different "
                    f"lengths.Mismatch found at index {i}, Expected shape="
                    f"{dataset[0].shape} Received shape={element.shape}.")
        return tuple(dataset), None
    if isinstance(dataset, SampleDataset):
        return dataset.arrays, None
    if isinstance(dataset, PyDataset) or hasattr(dataset, "__iter__"):
        # a PyDataset gives batches; a tf.data-like dataset gives batches when it says
        # its batch size (tf.data's `batch()`; Keras's `is_batched`)
        batch_size = getattr(dataset, "batch_size", None)
        batched = isinstance(dataset, PyDataset) or isinstance(batch_size, int)
        parts = [_as_structure(item) for item in dataset]
        if not parts:
            raise ValueError("Received an empty dataset. Argument `dataset` must be a "
                             "non-empty list/tuple of `numpy.ndarray` objects or a dataset.")
        if batched:
            batch_size = _length(parts[0])
        return _concatenate(parts, stack=not batched), (batch_size if batched else None)
    raise TypeError("The `dataset` argument must be either a dataset, an array, or a "
                    f"list/tuple of arrays. Received: dataset={dataset} of type "
                    f"{type(dataset)}")


def split_dataset(dataset, left_size=None, right_size=None, shuffle=False, seed=None,
                  preferred_backend=None):
    """Splits a dataset into a left part and a right part (train / validation).

    Args:
        dataset: an array, a list or tuple of arrays of the same length, or a dataset
            (``image_dataset_from_directory``'s, a PyDataset, a ``tf.data`` one under
            ``tinyann run``).
        left_size: a fraction in (0, 1) or a number of samples for the left part; None:
            what ``right_size`` leaves.
        right_size: the same for the right part.
        shuffle: whether to shuffle the samples before splitting (with ``seed``, the
            same order as Keras's for that seed: Python's ``random.shuffle``).
        seed: the shuffle's seed; None: drawn from tinyann's random state.
        preferred_backend: accepted for Keras compatibility.

    Returns:
        Two datasets. Of samples (``SampleDataset``: call ``.batch(n)`` before
        ``fit``, as with Keras's ``tf.data`` result) when ``dataset`` holds samples;
        of batches of the same size when it held batches.
    """
    if left_size is None and right_size is None:
        raise ValueError("At least one of the `left_size` or `right_size` must be "
                         "specified. Received: left_size=None and right_size=None")
    arrays, batch_size = _samples_of(dataset)
    total = _length(arrays)
    order = list(range(total))
    if shuffle:
        if seed is None:
            seed = int(backend.rng().integers(0, int(1e6)))
        random.Random(seed).shuffle(order)
    left_size, right_size = _rescale_split_sizes(left_size, right_size, total)
    order = np.asarray(order)
    # Keras's halves: the first left_size samples, and the last right_size
    left = SampleDataset(_take_rows(arrays, order[:left_size]))
    right = SampleDataset(_take_rows(arrays, order[total - right_size:]))
    if batch_size is not None:
        return left.batch(batch_size), right.batch(batch_size)
    return left, right


def _take_rows(arrays, index):
    if isinstance(arrays, tuple):
        return tuple(a[index] for a in arrays)
    if isinstance(arrays, dict):
        return {key: a[index] for key, a in arrays.items()}
    return arrays[index]
