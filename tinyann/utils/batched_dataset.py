"""The datasets tinyann's loaders return (``image_dataset_from_directory``,
``timeseries_dataset_from_array``) with the tf.data methods tutorials chain on them:

    train_ds = train_ds.cache().shuffle(1000).prefetch(buffer_size=tf.data.AUTOTUNE)
    train_ds = train_ds.map(lambda x, y: (normalization_layer(x), y))
    for images, labels in train_ds.take(1): ...

In Keras 3 these loaders return a ``tf.data.Dataset`` of batches; here each is a
``PyDataset`` of batches (``fit`` takes it), and each method returns another one:

- ``take(n)`` / ``skip(n)``: the first n batches / all but them;
- ``map(fn)``: ``fn(*batch)`` (``fn(batch)`` for a batch that is not a tuple), its
  Tensors turned into arrays;
- ``shuffle(buffer_size, seed)``: tf.data's buffer shuffle of the batches, a new order
  every pass (orders differ from TensorFlow's for a seed: NumPy's random streams);
- ``cache()``: the first complete pass kept in memory and replayed;
- ``prefetch(n)``: the dataset itself (batches are read in the training thread);
- ``repeat(n)``, ``as_numpy_iterator()``, ``cardinality()``; ``unbatch()`` (the
  samples one by one) and ``batch(n)`` (n consecutive items stacked, as tf.data).

``SampleDataset`` holds in-memory samples (``keras.utils.split_dataset`` returns two):
its items are single samples, and ``batch(n)`` makes the batches ``fit`` takes.

Every pass asks the source again, so a shuffled source gives a new order each epoch,
as tf.data's ``reshuffle_each_iteration``.
"""

from __future__ import annotations

import math

import numpy as np

from tinyann import backend
from tinyann.utils.py_dataset import PyDataset


class Batch(np.ndarray):
    """An array a loop over a dataset gives: NumPy's, plus TensorFlow's ``.numpy()``
    (tutorials write ``images[i].numpy()``, ``text_batch.numpy()[0]``)."""

    def numpy(self):
        return self.view(np.ndarray)


def _batches(value):
    """``value``'s arrays as ``Batch`` arrays (in tuples and dicts too)."""
    if isinstance(value, tuple):
        return tuple(_batches(v) for v in value)
    if isinstance(value, dict):
        return {k: _batches(v) for k, v in value.items()}
    return value.view(Batch) if isinstance(value, np.ndarray) else value


def _arrays(value):
    """A batch's Tensors (a layer's output in ``map``) as NumPy arrays."""
    if isinstance(value, (tuple, list)):
        return type(value)(_arrays(v) for v in value)
    if isinstance(value, dict):
        return {k: _arrays(v) for k, v in value.items()}
    return np.asarray(value) if hasattr(value, "numpy") else value


class BatchedDataset(PyDataset):
    """A dataset of batches with tf.data's chainable methods (module docstring)."""

    def take(self, count, name=None):
        return _Window(self, 0, None if count is None or count < 0 else int(count))

    def skip(self, count, name=None):
        return _Window(self, max(int(count), 0), None)

    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None):
        return _Mapped(self, map_func)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=True, name=None):
        return _Shuffled(self, int(buffer_size), seed, reshuffle_each_iteration)

    def cache(self, filename="", name=None):
        return _Cached(self)

    def prefetch(self, buffer_size, name=None):
        return self

    def repeat(self, count=None, name=None):
        if count is None or count < 0:
            raise NotImplementedError(
                "repeat() without a count makes an endless dataset; tinyann's loaders "
                "give finite ones: pass `repeat(n)`, or fit with `epochs`.")
        return _Repeated(self, int(count))

    def unbatch(self, name=None):
        return _Unbatched(self)

    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None,
              deterministic=None, name=None):
        """``batch_size`` consecutive items stacked (the samples of an ``unbatch()``ed
        or split dataset, as tf.data's ``batch``)."""
        return _Rebatched(self, int(batch_size), drop_remainder)

    def cardinality(self):
        return len(self)

    def as_numpy_iterator(self):
        return iter(self)

    def __iter__(self):
        for index in range(len(self)):
            yield _batches(self[index])
        self.on_epoch_end()  # the next pass is a new one (a new shuffle)


class _Derived(BatchedDataset):
    """A dataset made from ``source``; a new pass of it is a new pass of the source."""

    def __init__(self, source):
        super().__init__()
        self.source = source
        self.class_names = getattr(source, "class_names", None)

    def on_epoch_begin(self):
        self.source.on_epoch_begin()

    def on_epoch_end(self):
        self.source.on_epoch_end()


class _Window(_Derived):
    def __init__(self, source, start, count):
        super().__init__(source)
        self.start, self.count = start, count

    def __len__(self):
        rest = max(len(self.source) - self.start, 0)
        return rest if self.count is None else min(self.count, rest)

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"Batch index {index} out of range for {len(self)} batches.")
        return self.source[self.start + index]


class _Mapped(_Derived):
    def __init__(self, source, fn):
        super().__init__(source)
        self.fn = fn
        self.class_names = None  # tf.data's map drops it too

    def __len__(self):
        return len(self.source)

    def __getitem__(self, index):
        batch = self.source[index]
        return _arrays(self.fn(*batch) if isinstance(batch, tuple) else self.fn(batch))


class _Shuffled(_Derived):
    def __init__(self, source, buffer_size, seed, reshuffle):
        super().__init__(source)
        if buffer_size < 1:
            raise ValueError(f"`buffer_size` must be at least 1. Received: {buffer_size}")
        self.buffer_size = buffer_size
        self._rng = np.random.default_rng(seed if seed is not None else backend.rng().integers(
            2**31))
        self._reshuffle = reshuffle
        self._order = None

    def __len__(self):
        return len(self.source)

    def _new_order(self):
        """tf.data's buffer: hold ``buffer_size`` items, emit a random one, refill."""
        count = len(self.source)
        buffer = list(range(min(self.buffer_size, count)))
        following = len(buffer)
        order = []
        while buffer:
            pick = int(self._rng.integers(len(buffer)))
            order.append(buffer[pick])
            if following < count:
                buffer[pick] = following
                following += 1
            else:
                buffer.pop(pick)
        return order

    def __getitem__(self, index):
        if self._order is None:
            self._order = self._new_order()
        return self.source[self._order[index]]

    def on_epoch_end(self):
        super().on_epoch_end()
        if self._reshuffle:
            self._order = None


class _Cached(_Derived):
    def __init__(self, source):
        super().__init__(source)
        self._batches = {}
        self._complete = False

    def __len__(self):
        return len(self.source)

    def __getitem__(self, index):
        if index not in self._batches:
            self._batches[index] = self.source[index]
        return self._batches[index]

    def on_epoch_end(self):
        # once every batch is kept, the source is not asked again (nor reshuffled)
        if len(self._batches) < len(self):
            super().on_epoch_end()
            self._batches.clear()


class _Repeated(_Derived):
    def __init__(self, source, count):
        super().__init__(source)
        self.times = count

    def __len__(self):
        return len(self.source) * self.times

    def __getitem__(self, index):
        size = len(self.source)
        if index and index % size == 0:
            self.source.on_epoch_end()  # each repetition is a new pass
        return self.source[index % size]


class _Unbatched(_Derived):
    """The samples one by one; ``batch(n)`` groups them again."""

    def __init__(self, source):
        super().__init__(source)
        self._rows = None

    def _all_rows(self):
        if self._rows is None:
            rows = []
            for index in range(len(self.source)):
                batch = self.source[index]
                parts = batch if isinstance(batch, tuple) else (batch,)
                for k in range(len(parts[0])):
                    row = tuple(np.asarray(p)[k] for p in parts)
                    rows.append(row if isinstance(batch, tuple) else row[0])
            self._rows = rows
        return self._rows

    def __len__(self):
        return len(self._all_rows())

    def __getitem__(self, index):
        return self._all_rows()[index]

    def on_epoch_end(self):
        super().on_epoch_end()
        self._rows = None


class _Rebatched(_Derived):
    def __init__(self, source, batch_size, drop_remainder):
        super().__init__(source)
        self.batch_size, self.drop = batch_size, drop_remainder

    def __len__(self):
        n = len(self.source)
        return n // self.batch_size if self.drop else math.ceil(n / self.batch_size)

    def __getitem__(self, index):
        rows = [self.source[i] for i in range(index * self.batch_size,
                                              min((index + 1) * self.batch_size,
                                                  len(self.source)))]
        return _stack(rows)


def _stack(rows):
    if isinstance(rows[0], tuple):
        return tuple(np.stack(part) for part in zip(*rows))
    if isinstance(rows[0], dict):
        return {key: np.stack([row[key] for row in rows]) for key in rows[0]}
    return np.stack(rows)


def _take(structure, index):
    """The rows ``index`` (an int or an index array) of an array, or of each array in a
    tuple or dict."""
    if isinstance(structure, tuple):
        return tuple(a[index] for a in structure)
    if isinstance(structure, dict):
        return {key: a[index] for key, a in structure.items()}
    return structure[index]


class SampleDataset(BatchedDataset):
    """In-memory samples: ``arrays`` is an array, or a tuple or dict of arrays of the
    same length; each item is one sample (a row of each). ``batch(n)`` slices them
    into batches of n."""

    def __init__(self, arrays):
        super().__init__()
        self.arrays = arrays
        first = arrays[0] if isinstance(arrays, tuple) else (
            next(iter(arrays.values())) if isinstance(arrays, dict) else arrays)
        self._size = len(first)

    def __len__(self):
        return self._size

    def __getitem__(self, index):
        if not 0 <= index < self._size:
            raise IndexError(f"Sample index {index} out of range for {self._size} samples.")
        return _take(self.arrays, index)

    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None,
              deterministic=None, name=None):
        return _SliceBatches(self, int(batch_size), drop_remainder)

    def __repr__(self):
        return f"<SampleDataset cardinality={self._size}>"


class _SliceBatches(_Rebatched):
    """``SampleDataset.batch``: each batch one slice of the arrays."""

    def __getitem__(self, index):
        if not 0 <= index < len(self):
            raise IndexError(f"Batch index {index} out of range for {len(self)} batches.")
        size = self.batch_size
        return _take(self.source.arrays, slice(index * size, (index + 1) * size))
