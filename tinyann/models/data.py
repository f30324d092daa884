"""Checking and batching the data given to ``fit`` / ``evaluate`` / ``predict``.

Arrays are checked once per call: ``ArrayData.batches`` gathers the rows of a
chunk of batches through a shuffled index array, converting them to float32 on
the way, in a background thread while the previous chunk trains (``prefetch``).
Iterables of ``(x, y)`` batches (generators, ``PyDataset``-style sequences,
``tf.data``-like objects) are passed through with the same checks per batch.
"""

from __future__ import annotations

import itertools
import math
import threading

import numpy as np

from tinyann import backend
from tinyann.models.prefetch import FloatCopy, prefetched


def _name(i, n):
    return "x" if n == 1 else f"x[{i}]"


def as_input_arrays(x, what="x") -> list[np.ndarray]:
    """``x`` as a list of C-contiguous float arrays with at least one axis."""
    items = list(x) if isinstance(x, (list, tuple)) else [x]
    if isinstance(x, dict):
        raise ValueError("Dict inputs are not supported by tinyann yet; pass arrays or a list.")
    out = []
    for i, item in enumerate(items):
        if item is None:
            raise ValueError(f"Expected `{what}` to be an array. Received: None")
        arr = np.asarray(item)
        label = _name(i, len(items)) if what == "x" else what
        if arr.dtype.kind not in "biuf":
            raise ValueError(
                f"Expected `{label}` to be a numeric array (float, int, uint8 or bool). "
                f"Received: an array of dtype {arr.dtype}"
            )
        if arr.ndim == 0:
            raise ValueError(
                f"Expected `{label}` to have a batch axis. Received: a scalar {arr!r}"
            )
        if arr.shape[0] == 0:
            raise ValueError(
                f"Expected `{label}` to hold at least one sample. Received: an empty array "
                f"of shape {arr.shape}"
            )
        # the float conversion happens batch by batch (see ArrayData.batches): a
        # 150 MB float32 copy of a training set costs more than the whole fit here
        out.append(arr)
    return out


def as_target_array(y, name="y") -> np.ndarray:
    arr = np.asarray(y)
    if arr.dtype.kind not in "biuf":
        raise ValueError(
            f"Expected `{name}` to be a numeric array. Received: an array of dtype {arr.dtype}"
        )
    if arr.ndim == 0 or arr.shape[0] == 0:
        raise ValueError(
            f"Expected `{name}` to hold at least one sample. Received: shape {arr.shape}"
        )
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError(f"`{name}` contains NaN or infinite values.")
    return arr


def check_lengths(xs, y=None, sample_weight=None) -> int:
    n = xs[0].shape[0]
    for i, a in enumerate(xs):
        if a.shape[0] != n:
            raise ValueError(
                "Data cardinality is ambiguous: all inputs must have the same number of "
                f"samples. Received: x[0] with {n} samples and x[{i}] with {a.shape[0]}"
            )
    for label, arr in (("y", y), ("sample_weight", sample_weight)):
        if arr is not None and arr.shape[0] != n:
            raise ValueError(
                "Data cardinality is ambiguous. Make sure all arrays contain the same number "
                f"of samples. Received: x sizes: {n}, {label} sizes: {arr.shape[0]}"
            )
    return n


def check_batch_size(batch_size, default=32) -> int:
    if batch_size is None:
        return default
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or (
            batch_size <= 0):
        raise ValueError(
            f"Expected `batch_size` to be a positive integer. Received: batch_size={batch_size!r}"
        )
    return int(batch_size)


class ArrayData:
    """In-memory arrays, batched by index.

    Args:
        xs: list of input arrays, each (N, ...).
        y: targets (N, ...) or None.
        sample_weight: (N,) or None.
    """

    def __init__(self, xs, y=None, sample_weight=None):
        self.xs = xs
        self.y = y
        self.sample_weight = sample_weight
        self.num_samples = check_lengths(xs, y, sample_weight)
        self.epochs_ahead = 2  # epochs fit will run on these arrays (set by fit)

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
        if order is not None:
            yield from prefetched(self, order, batch_size, floatx)
            return
        for start in range(0, n, batch_size):
            stop = start + batch_size
            self.last_indices = np.arange(start, min(stop, n))
            xs = [np.asarray(a[start:stop], dtype=floatx) for a in self.xs]
            yield (xs, None if self.y is None else self.y[start:stop],
                   None if self.sample_weight is None else self.sample_weight[start:stop])

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
                          part(self.sample_weight, slice(None, cut)))
        val = ArrayData([a[cut:] for a in self.xs], part(self.y, slice(cut, None)),
                        part(self.sample_weight, slice(cut, None)))
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


def probe_finite(xs, indices=None, offset=0):
    """Raises if float inputs hold NaN or inf, at the cost of one matrix-vector
    product per array (NaN and inf survive the row sums; a saturating activation
    could hide them from the outputs). The exact scan runs only if the probe fails."""
    for a in xs:
        if a.dtype.kind != "f" or a.size == 0:
            continue
        flat = a.reshape(len(a), -1)
        if not np.isfinite(flat @ np.ones(flat.shape[1], dtype=a.dtype)).all():
            raise_if_nonfinite(xs, indices, offset)


def raise_if_nonfinite_data(data):
    """Scans all of ``data``'s inputs once, after a non-finite training loss: NaN or
    inf inputs are named; else the model diverged, which is the caller's to report."""
    if not getattr(data, "_scanned", False):
        data._scanned = True
        raise_if_nonfinite(data.xs)


def raise_if_nonfinite(xs, indices=None, offset=0):
    """Raises, naming the first sample and position, if any input holds NaN or inf.

    ``indices``: the rows' indices in the user's data (else ``offset`` + row).
    """
    for k, a in enumerate(xs):
        bad = ~np.isfinite(a)
        if bad.any():
            where = np.argwhere(bad)[0]
            row = int(indices[where[0]]) if indices is not None else offset + int(where[0])
            label = "x" if len(xs) == 1 else f"x[{k}]"
            raise ValueError(
                f"`{label}` contains NaN or infinite values: sample {row} has "
                f"{a[tuple(where)]} at position {tuple(int(i) for i in where[1:])}. "
                "Clean or impute the data first."
            )


class IterableData:
    """Batches from an iterable of ``x`` or ``(x, y)`` or ``(x, y, sample_weight)``.

    Args:
        source: a generator, a list of batches, a sequence with ``__getitem__`` and
            ``__len__`` (Keras's ``PyDataset``), or an object with ``__iter__``.
        steps: batches per epoch (needed for a generator with no length).
    """

    def __init__(self, source, steps=None, class_weight=None):
        if steps is not None and (isinstance(steps, bool) or not isinstance(
                steps, (int, np.integer)) or steps <= 0):
            raise ValueError(
                f"Expected `steps` / `steps_per_epoch` to be a positive integer or None. "
                f"Received: {steps!r}"
            )
        if class_weight is not None and not _is_sequence(source):
            raise ValueError(
                "Argument `class_weight` is not supported for Python generator inputs. "
                f"Received: class_weight={class_weight}"
            )
        self.source = source
        self.steps = steps
        self.class_weight = class_weight
        self._iterator = None
        self.num_samples = None

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
            xs, y, w = unpack_batch(item)
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


def class_weight_to_sample_weights(class_weight, y) -> np.ndarray:
    """Per-sample weights from ``{class: weight}`` for integer or one-hot targets;
    classes not in the dict weigh 1.0 (Keras's rule, labels rounded)."""
    if not isinstance(class_weight, dict):
        raise ValueError(
            "`class_weight` must be a dict mapping class indices to weights. "
            f"Received: class_weight={class_weight!r}"
        )
    y = np.asarray(y)
    if y.ndim > 1:
        y = y.argmax(axis=-1) if y.shape[-1] != 1 else y[..., 0]
    labels = np.round(y).astype(np.int64).reshape(len(y))
    weights = np.ones(len(labels), dtype=backend.floatx())
    for cls, w in class_weight.items():
        weights[labels == int(cls)] = w
    return weights


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


def unpack_batch(item):
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
    xs = [a if a.dtype == floatx else a.astype(floatx) for a in as_input_arrays(x)]
    y = None if y is None else as_target_array(y)
    w = None if w is None else np.asarray(w, dtype=floatx)
    check_lengths(xs, y, w)
    return xs, y, w


def is_iterable_data(x) -> bool:
    """Whether ``x`` is a source of batches rather than an array or list of arrays."""
    if isinstance(x, (np.ndarray, list, tuple)) or x is None:
        return False
    if hasattr(x, "__array__") or np.isscalar(x):
        return False
    return hasattr(x, "__iter__") or hasattr(x, "__getitem__")
