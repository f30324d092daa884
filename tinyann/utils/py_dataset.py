"""PyDataset: a dataset of batches by index, Keras's ``keras.utils.PyDataset``."""

from __future__ import annotations

import itertools
import warnings

_DEFAULTS = {"workers": 1, "use_multiprocessing": False, "max_queue_size": 10}


class _KerasOption:
    """``workers`` / ``use_multiprocessing`` / ``max_queue_size``: kept for Keras;
    reading one warns when the subclass skipped ``super().__init__()``."""

    def __set_name__(self, owner, name):
        self.private = "_" + name

    def __get__(self, dataset, owner=None):
        if dataset is None:
            return self
        dataset._warn_if_super_not_called()
        return getattr(dataset, self.private)

    def __set__(self, dataset, value):
        setattr(dataset, self.private, value)


class PyDataset:
    """Base class of a dataset written in Python: subclass it and implement
    ``__getitem__(index)`` (a whole batch: ``x``, ``(x, y)`` or
    ``(x, y, sample_weight)``) and ``__len__()`` (the number of batches).
    ``on_epoch_begin()`` / ``on_epoch_end()`` are called around every pass.

    ``fit(dataset)`` takes the batches in order, or in a shuffled order with
    ``shuffle=True`` (from tinyann's random state, so ``set_random_seed`` fixes
    it). ``workers``, ``use_multiprocessing`` and ``max_queue_size`` are kept
    for Keras compatibility; tinyann reads the batches in the training thread.

    Example:
        >>> class Batches(keras.utils.PyDataset):
        ...     def __init__(self, x, y, batch_size, **kwargs):
        ...         super().__init__(**kwargs)
        ...         self.x, self.y, self.batch_size = x, y, batch_size
        ...     def __len__(self):
        ...         return math.ceil(len(self.x) / self.batch_size)
        ...     def __getitem__(self, idx):
        ...         sl = slice(idx * self.batch_size, (idx + 1) * self.batch_size)
        ...         return self.x[sl], self.y[sl]
        >>> model.fit(Batches(x, y, 32), epochs=5)
    """

    workers = _KerasOption()
    use_multiprocessing = _KerasOption()
    max_queue_size = _KerasOption()

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    def _warn_if_super_not_called(self):
        missing = [name for name in _DEFAULTS if not hasattr(self, "_" + name)]
        for name in missing:
            setattr(self, "_" + name, _DEFAULTS[name])
        if missing:
            warnings.warn(
                "Your `PyDataset` class should call `super().__init__(**kwargs)` in its "
                "constructor. `**kwargs` can include `workers`, `use_multiprocessing`, "
                "`max_queue_size`. Do not pass these arguments to `fit()`, as they will be "
                "ignored.", stacklevel=3)

    def __getitem__(self, index):
        """The batch at position ``index``."""
        raise NotImplementedError(
            f"{type(self).__name__} must implement `__getitem__(index)` returning a batch."
        )

    @property
    def num_batches(self):
        """The number of batches (``len(self)``), or None for an endless dataset."""
        if hasattr(self, "__len__"):
            return len(self)
        raise NotImplementedError(
            "You need to implement the `num_batches` property:\n\n"
            "@property\ndef num_batches(self):\n  return ..."
        )

    def __iter__(self):
        try:
            count = self.num_batches
        except NotImplementedError:
            count = None
        indices = range(count) if count is not None else itertools.count()
        for index in indices:
            yield self[index]

    def on_epoch_begin(self):
        """Called at the start of every epoch."""

    def on_epoch_end(self):
        """Called at the end of every epoch."""


Sequence = PyDataset
