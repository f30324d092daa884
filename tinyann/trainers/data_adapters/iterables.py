"""Batches from iterables of ``(x, y)``: generators, ``PyDataset``-style sequences,
``tf.data``-like objects, each batch checked as it comes."""

from __future__ import annotations

import itertools

import numpy as np

from tinyann import backend
from tinyann.trainers.data_adapters.finite import raise_if_nonfinite
from tinyann.trainers.data_adapters.inputs import (
    as_input_arrays,
    as_target_array,
    cast_inputs,
    check_lengths,
    class_weight_to_sample_weights,
)


class IterableData:
    """Batches from an iterable of ``x`` or ``(x, y)`` or ``(x, y, sample_weight)``.

    Args:
        source: a generator, a list of batches, a sequence with ``__getitem__`` and
            ``__len__`` (Keras's ``PyDataset``), or an object with ``__iter__``.
        steps: batches per epoch (needed for a generator with no length).
    """

    in_memory = False  # each batch checked as it comes

    num_samples = None  # unknown until read

    def __init__(self, source, steps=None, class_weight=None, input_names=None, kept=None):
        _check_steps(steps)
        if class_weight is not None and not _is_sequence(source):
            raise ValueError(
                "Argument `class_weight` is not supported for Python generator inputs. "
                f"Received: class_weight={class_weight}"
            )
        self.source, self.steps, self.class_weight = source, steps, class_weight
        # a callable giving the model's input names once it is built (dict batches)
        self.input_names = input_names or (lambda: None)
        # a callable giving the declared dtypes of int / string inputs (cast_inputs)
        self.kept = kept or (lambda: None)
        self._iterator = None

    @staticmethod
    def scan_inputs(xs=None):
        """After a non-finite training loss: names NaN or inf in the batch ``xs``."""
        if xs is not None:
            raise_if_nonfinite(xs)

    def num_steps(self, batch_size=None):
        if self.steps is not None:
            return self.steps
        if _is_sequence(self.source):
            return _sequence_length(self.source)
        try:
            return len(self.source)
        except TypeError:
            return None

    def _fresh_iterator(self, shuffle=False, rng=None):
        src = self.source
        if _is_sequence(src):
            # a PyDataset: batch i is src[i]; fit(shuffle=True) shuffles their order
            count = _sequence_length(src)
            if count is None:  # endless: read in order, as Keras
                return (src[i] for i in itertools.count())
            order = range(count)
            if shuffle:
                order = (rng or backend.rng()).permutation(count).tolist()
            return (src[i] for i in order)
        return iter(src)

    def batches(self, batch_size=None, shuffle=False, rng=None):
        # with `steps` the iterator carries on across epochs (Keras's EpochIterator):
        # a list of 10 batches with steps_per_epoch=5 gives batches 0-4, then 5-9
        if hasattr(self.source, "on_epoch_begin"):
            self.source.on_epoch_begin()
        if self.steps is None or self._iterator is None:
            self._iterator = self._fresh_iterator(shuffle, rng)
        count = 0
        while self.steps is None or count < self.steps:
            try:
                item = next(self._iterator)
            except StopIteration:
                # fit() warns and stops when an epoch gets no batch at all
                self._iterator = None
                break
            xs, y, w = unpack_batch(item, self.input_names(), self.kept())
            if self.class_weight is not None and y is not None:
                if w is not None:
                    raise ValueError(
                        "You cannot specify `class_weight` and `sample_weight` at the same "
                        "time."
                    )
                w = class_weight_to_sample_weights(self.class_weight, y)
            yield xs, y, w
            count += 1
        if hasattr(self.source, "on_epoch_end"):
            self.source.on_epoch_end()


def _check_steps(steps):
    if steps is not None and (isinstance(steps, bool) or not isinstance(
            steps, (int, np.integer)) or steps <= 0):
        raise ValueError(
            f"Expected `steps` / `steps_per_epoch` to be a positive integer or None. "
            f"Received: {steps!r}"
        )


def _is_sequence(source) -> bool:
    """A PyDataset-style sequence: batches by index (not a plain list of batches)."""
    from tinyann.utils.py_dataset import PyDataset

    return isinstance(source, PyDataset) or (
        hasattr(source, "__getitem__") and hasattr(source, "__len__")
        and not isinstance(source, (list, tuple)))


def _sequence_length(source):
    """Batches in a sequence: ``num_batches`` (None: endless) or ``len``."""
    if hasattr(source, "num_batches"):
        try:
            return source.num_batches
        except NotImplementedError:
            return None
    return len(source)


def unpack_batch(item, input_names=None, kept=None):
    """``x`` / ``(x,)`` / ``(x, y)`` / ``(x, y, w)`` -> ``(xs, y, w)`` checked arrays."""
    if isinstance(item, tuple):
        if not 1 <= len(item) <= 3:
            raise ValueError(
                "Each batch must be `x`, `(x,)`, `(x, y)` or `(x, y, sample_weight)`. "
                f"Received a tuple of length {len(item)}"
            )
        x, y, w = (tuple(item) + (None, None))[:3]
    else:
        x, y, w = item, None, None
    # float32 as ArrayData gives: the layers' preallocated buffers reject float64
    # (tf.data pipelines yield float64 batches after `x / 255.0`)
    floatx = np.dtype(backend.floatx())
    xs = as_input_arrays(x, names=input_names, kept=kept)
    if kept is None:
        xs = [a if a.dtype == floatx else a.astype(floatx) for a in xs]
    else:  # int and string inputs keep their dtypes, as in Keras
        xs = cast_inputs(xs, kept, floatx)
    # several outputs' targets stay a list / dict: prepare_targets splits them
    y = None if y is None else _per_output(y, as_target_array)
    w = None if w is None else _per_output(w, lambda a: np.asarray(a, dtype=floatx))
    check_lengths(xs, _first(y), _first(w))
    return xs, y, w




def _first(value):
    """One array of ``value`` (targets or weights, perhaps one per output) for the
    length check."""
    while isinstance(value, (list, tuple, dict)) and len(value):
        value = next(iter(value.values())) if isinstance(value, dict) else value[0]
    return None if value is None else np.asarray(value)


def _per_output(value, convert):
    if isinstance(value, dict):
        return {k: convert(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [convert(v) for v in value]
    return convert(value)
