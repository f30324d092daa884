"""In-memory arrays, batched by index.

Arrays are checked once per call: ``ArrayData.batches`` gathers the rows of a
chunk of batches through a shuffled index array, converting them to float32 on
the way, in a background thread while the previous chunk trains (``prefetch``).
"""

from __future__ import annotations

import math
import threading

import numpy as np

from tinyann import backend
from tinyann.trainers.data_adapters.finite import raise_if_nonfinite
from tinyann.trainers.data_adapters.inputs import cast_inputs, check_lengths
from tinyann.trainers.data_adapters.prefetch import FloatCopy, prefetched


class ArrayData:
    """In-memory arrays, batched by index.

    Args:
        xs: list of input arrays, each (N, ...).
        y: targets (N, ...) or None.
        sample_weight: (N,) or None.
    """

    in_memory = True  # checked once per call, batches cut from known arrays

    def __init__(self, xs, y=None, sample_weight=None, kept=None):
        self.xs = xs
        # the declared dtypes of int / bool / string inputs (see cast_inputs)
        self.kept = kept
        self.y = y
        self.sample_weight = sample_weight
        self.num_samples = check_lengths(xs, y, sample_weight)
        self.epochs_ahead = 2  # epochs fit will run on these arrays (set by fit)
        self._scanned = False

    def scan_inputs(self, xs=None):
        """After a non-finite training loss: NaN or inf inputs are named (all the
        inputs scanned, once); else the model diverged, which is the caller's to report."""
        if not self._scanned:
            self._scanned = True
            raise_if_nonfinite(self.xs)

    def num_steps(self, batch_size):
        return math.ceil(self.num_samples / batch_size)

    def float_copy(self, floatx):
        """The float32 copy of wide inputs that shuffled epochs fill and reuse."""
        if getattr(self, "_float_copy", None) is None:
            self._float_copy = FloatCopy(self.xs, floatx, self.epochs_ahead > 1)
        return self._float_copy

    def epoch_order(self, shuffle, rng=None):
        """The sample order of one epoch: a permutation, or None for 0..N-1."""
        return (rng or backend.rng()).permutation(self.num_samples) if shuffle else None

    def batches(self, batch_size, shuffle=False, rng=None, order=None):
        """Yields ``(xs, y, sample_weight)`` for each batch, inputs as float arrays.

        ``order``: the samples' order (from ``epoch_order``; shuffled if not given and
        ``shuffle``). The arrays yielded are reused buffers: valid until the next chunk is needed,
        which is after the layers' backward pass has used them.
        """
        n = self.num_samples
        floatx = np.dtype(backend.floatx())
        if order is None and shuffle:
            order = self.epoch_order(True, rng)
        if self.kept is not None:
            yield from self._typed_batches(batch_size, order, floatx)
            return
        if order is not None:
            yield from prefetched(self, order, batch_size, floatx)
            return
        for start in range(0, n, batch_size):
            stop = start + batch_size
            self.last_indices = np.arange(start, min(stop, n))
            xs = [np.asarray(a[start:stop], dtype=floatx) for a in self.xs]
            yield (xs, None if self.y is None else self.y[start:stop],
                   None if self.sample_weight is None else self.sample_weight[start:stop])

    def _typed_batches(self, batch_size, order, floatx):
        """Batches of a model with int or string inputs: each gathered as it comes,
        those inputs in their declared dtypes (the prefetching converts all to float)."""
        n = self.num_samples
        for start in range(0, n, batch_size):
            rows = (np.arange(start, min(start + batch_size, n)) if order is None
                    else order[start:start + batch_size])
            self.last_indices = rows
            yield (cast_inputs([a[rows] for a in self.xs], self.kept, floatx),
                   None if self.y is None else self.y[rows],
                   None if self.sample_weight is None else self.sample_weight[rows])

    def split(self, fraction):
        """Keras's ``validation_split``: the last ``fraction`` of the samples, unshuffled
        (training keeps the first ``floor(n * (1 - fraction))``)."""
        n = self.num_samples
        cut = int(math.floor(n * (1.0 - fraction)))
        if cut == 0 or cut == n:
            raise ValueError(
                f"Training data contains {n} samples, which is not sufficient to split it "
                "into a validation and training set as specified by "
                f"`validation_split={fraction}`. Either provide more data, or a different "
                "value for the `validation_split` argument."
            )

        def part(a, sl):
            return None if a is None else a[sl]

        train = ArrayData([a[:cut] for a in self.xs], part(self.y, slice(None, cut)),
                          part(self.sample_weight, slice(None, cut)), self.kept)
        val = ArrayData([a[cut:] for a in self.xs], part(self.y, slice(cut, None)),
                        part(self.sample_weight, slice(cut, None)), self.kept)
        return train, val


# per thread: the app's server runs predictions in several threads at once
_SCRATCH = threading.local()


def as_float_chunk(a, slot=0) -> np.ndarray:
    """``a`` as a float array, converted into a buffer kept between calls.

    Fresh multi-megabyte arrays cost page faults each time (about as much as the
    conversion itself here); the buffer is reused by the next call in this thread,
    so the result is only valid until then (predict copies it out at once).
    """
    floatx = np.dtype(backend.floatx())
    if a.dtype == floatx:
        return a
    out = scratch(slot, a.shape, floatx)
    np.copyto(out, a, casting="unsafe")
    return out


def scratch(slot, shape, dtype) -> np.ndarray:
    """A buffer of ``shape`` kept per thread and ``slot``, regrown when too small."""
    buffers = _SCRATCH.__dict__
    need = math.prod(shape)
    buf = buffers.get(slot)
    if buf is None or buf.size < need or buf.dtype != dtype:
        buf = buffers[slot] = np.empty(need, dtype=dtype)
    return buf[:need].reshape(shape)


