"""``tf.data.Dataset`` for in-memory data, with tf.data's semantics.

    ds = Dataset.from_tensor_slices((x, y)).shuffle(10000)
    train_ds = ds.take(42000).batch(20)     # `model.fit(train_ds, validation_data=val_ds)`
    val_ds = ds.skip(42000).batch(20)

What tf.data does, and so does this (checked against TensorFlow 2.x):

- ``shuffle(buffer_size)`` keeps a buffer of ``buffer_size`` elements and emits one
  chosen uniformly from it, refilling from the input; a buffer smaller than the data
  gives a partial shuffle (an element cannot move more than ``buffer_size`` ahead).
- Every iteration of a dataset is a new pass over its whole pipeline. With
  ``reshuffle_each_iteration=True`` (the default) each pass draws the next seed from one
  seed stream per ``shuffle`` call, shared by every dataset derived from it. So
  ``ds.take(n)`` and ``ds.skip(n)`` are two passes with two different orders: they
  overlap, and ``fit`` redraws both at every epoch. ``reshuffle_each_iteration=False``
  replays one order, which makes take/skip a true split.
- ``seed=None`` follows the global seed (``tf.random.set_seed`` /
  ``keras.utils.set_random_seed``), drawn when ``shuffle`` is called.
- ``cache()`` replays its first complete pass; ``len(ds)`` is the cardinality and raises
  ``TypeError`` for an infinite or unknown one.

Pipelines of slices, shuffle, take, skip, repeat, cache and prefetch are evaluated on
index arrays, and ``batch`` gathers rows with one fancy index per batch, so a 60,000
image pipeline costs milliseconds per pass; ``map`` and ``filter`` run per element.
The random streams are NumPy's, so orders differ from TensorFlow's for the same seed.
"""

from __future__ import annotations

import itertools

import numpy as np

from tinyann import backend
from tinyann.runner.shims._errors import not_served
from tinyann.runner.shims._tensor import EagerTensor, map_structure, to_numpy

AUTOTUNE = -1
INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2

# unserved Dataset methods -> what to use instead
_DATASET_HINTS = {
    "from_generator": "model.fit(generator) with a generator yielding (x, y) batches",
    "padded_batch": "numpy.pad on the arrays, then .batch()",
    "unbatch": "from_tensor_slices on the unbatched arrays",
    "zip": "Dataset.from_tensor_slices((x, y)) with a tuple",
    "list_files": None, "interleave": None, "flat_map": None, "window": None,
    "shard": "slices of the arrays (x[i::n]) and from_tensor_slices",
    "save": "numpy.save of the arrays", "load": "numpy.load of the arrays",
}


def _count(value, what, allow_negative=True):
    if isinstance(value, EagerTensor):
        value = value.numpy()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"`{what}` must be an integer. Received: {what}={value!r}")
    if not allow_negative and value < 0:
        raise ValueError(f"`{what}` must be >= 0. Received: {what}={value}")
    return int(value)


class _Plan:
    """The rows of a slices dataset that one pass yields, in order."""

    def __init__(self, source, index):
        self.source, self.index = source, index

    def rows(self):
        tensors = self.source.tensors
        for i in self.index.tolist():
            yield map_structure(lambda a, i=i: np.asarray(a[i]).view(EagerTensor), tensors)

    def gather(self, index):
        return map_structure(lambda a: a[index].view(EagerTensor), self.source.tensors)


class _DatasetType(type):
    # `tf.data.Dataset.from_generator` (a class attribute) gets the clear error too
    def __getattr__(cls, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise not_served(f"tf.data.Dataset.{name}", _DATASET_HINTS.get(name))


class Dataset(metaclass=_DatasetType):
    """An in-memory ``tf.data.Dataset``; build one with :meth:`from_tensor_slices`."""

    # ------------------------------------------------------------- constructors
    @staticmethod
    def from_tensor_slices(tensors, name=None):
        """One element per row of ``tensors`` (an array, or a tuple / dict of arrays)."""
        return _Slices(tensors)

    @staticmethod
    def from_tensors(tensors, name=None):
        """A dataset of one element: ``tensors`` itself."""
        return _Slices(map_structure(lambda a: np.asarray(a)[None], tensors))

    @staticmethod
    def range(*args, dtype="int64", name=None):
        """``Dataset.range(5)`` -> 0, 1, 2, 3, 4, as Python's ``range``."""
        return _Slices(np.arange(*args, dtype=np.dtype(dtype)))

    # ------------------------------------------------------------- transformations
    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=True, name=None):
        """Samples each element uniformly from a buffer of ``buffer_size`` elements."""
        return _Shuffle(self, buffer_size, seed, reshuffle_each_iteration)

    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None,
              deterministic=None, name=None):
        """Stacks ``batch_size`` consecutive elements (fewer in the last batch)."""
        return _Batch(self, batch_size, drop_remainder)

    def take(self, count, name=None):
        """The first ``count`` elements (all when ``count`` is -1)."""
        return _Take(self, _count(count, "count"))

    def skip(self, count, name=None):
        """All but the first ``count`` elements (none when ``count`` is -1)."""
        return _Skip(self, _count(count, "count"))

    def repeat(self, count=None, name=None):
        """``count`` passes (forever when None or -1), each a new iteration."""
        return _Repeat(self, -1 if count is None else _count(count, "count"))

    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None):
        """``map_func(*element)`` for tuple elements, ``map_func(element)`` otherwise."""
        if not callable(map_func):
            raise ValueError(f"`map_func` must be callable. Received: {map_func!r}")
        return _Map(self, map_func)

    def filter(self, predicate, name=None):
        """The elements for which ``predicate`` is true."""
        return _Filter(self, predicate)

    def prefetch(self, buffer_size, name=None):
        """Accepted for compatibility: elements are already in memory."""
        _count(buffer_size, "buffer_size")
        return _Passthrough(self)

    def cache(self, filename="", name=None):
        """Replays the first complete pass (kept in memory, whatever ``filename`` says)."""
        return _Cache(self)

    # ------------------------------------------------------------- inspection
    def cardinality(self):
        """Number of elements; -1 when infinite, -2 when unknown (after ``filter``)."""
        return np.asarray(self._cardinality(), dtype=np.int64).view(EagerTensor)

    def __len__(self):
        n = self._cardinality()
        if n == INFINITE_CARDINALITY:
            raise TypeError("The dataset is infinite.")
        if n == UNKNOWN_CARDINALITY:
            raise TypeError("The dataset length is unknown.")
        return n

    def __iter__(self):
        # a generator: nothing (no shuffle seed) is drawn until the first element
        return self._elements()

    def as_numpy_iterator(self):
        """The elements as NumPy arrays (scalars as NumPy scalars)."""
        for element in self:
            yield map_structure(to_numpy, element)

    def __bool__(self):
        return True

    def __repr__(self):
        return f"<{type(self).__name__.lstrip('_')}Dataset cardinality={self._cardinality()}>"

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise not_served(f"tf.data.Dataset.{name}", _DATASET_HINTS.get(name))

    # ------------------------------------------------------------- internals
    def _elements(self):
        plan = self._plan(None)
        if plan is not None:
            yield from plan.rows()
        else:
            yield from self._iter_elements()

    def _plan(self, limit):
        """A :class:`_Plan` for one pass (at most ``limit`` rows), or None."""
        return None

    def _iter_elements(self):
        raise NotImplementedError


class _Slices(Dataset):
    def __init__(self, tensors):
        if isinstance(tensors, list):  # tf converts a list to one tensor
            tensors = np.asarray(tensors)
        self.tensors = map_structure(np.asarray, tensors)
        sizes = []

        def size(a):
            if a.ndim == 0:
                raise ValueError("Unbatching a tensor is only supported for rank >= 1: "
                                 f"from_tensor_slices received a scalar {a!r}")
            sizes.append(a.shape[0])

        map_structure(size, self.tensors)
        if len(set(sizes)) > 1:
            raise ValueError(
                "from_tensor_slices needs every component to have the same size in its first "
                f"dimension. Received sizes {sizes}")
        self.n = sizes[0] if sizes else 0

    def _cardinality(self):
        return self.n

    def _plan(self, limit):
        n = self.n if limit is None else min(self.n, limit)
        return _Plan(self, np.arange(n))


class _Unary(Dataset):
    def __init__(self, child):
        self.child = child

    def _cardinality(self):
        return self.child._cardinality()


class _Passthrough(_Unary):
    def _plan(self, limit):
        return self.child._plan(limit)

    def _iter_elements(self):
        return iter(self.child)


class _Shuffle(_Unary):
    def __init__(self, child, buffer_size, seed, reshuffle):
        super().__init__(child)
        self.buffer_size = _count(buffer_size, "buffer_size")
        if self.buffer_size <= 0:
            raise ValueError(f"buffer_size must be greater than zero. Received: {buffer_size}")
        if seed is not None:
            seed = _count(seed, "seed", allow_negative=False)
        # tf draws the op seed when shuffle() is called, from the global seed
        self.seed = int(backend.rng().integers(2**63)) if seed is None else seed
        self.reshuffle = bool(reshuffle)
        self._seeds = np.random.default_rng(self.seed)  # one stream for every pass

    def _next_rng(self):
        if not self.reshuffle:
            return np.random.default_rng(self.seed)
        return np.random.default_rng(self._seeds.integers(2**63))

    def _plan(self, limit):
        need = None if limit is None else limit + self.buffer_size - 1
        plan = self.child._plan(need)
        if plan is None:
            return None
        picks = _buffer_shuffle(plan.index.tolist(), self.buffer_size, self._next_rng())
        order = np.fromiter(itertools.islice(picks, limit), dtype=np.int64)
        return _Plan(plan.source, order)

    def _iter_elements(self):
        return _buffer_shuffle(self.child, self.buffer_size, self._next_rng())


def _buffer_shuffle(items, buffer_size, rng):
    """tf.data's shuffle, lazily: fill a buffer, emit a uniform pick, refill its slot."""
    source = iter(items)
    buffer = list(itertools.islice(source, buffer_size))
    while buffer:
        # uniforms drawn in blocks: one NumPy call per 4096 picks instead of one per pick
        for u in rng.random(4096).tolist():
            j = int(u * len(buffer))
            yield buffer[j]
            nxt = next(source, _END)
            if nxt is _END:
                buffer[j] = buffer[-1]
                buffer.pop()
                if not buffer:
                    return
            else:
                buffer[j] = nxt


_END = object()


class _Counted(_Unary):
    """take, skip and repeat: an op with a count of elements (or of repetitions),
    negative for all of them."""

    def __init__(self, child, count):
        super().__init__(child)
        self.count = count


class _Take(_Counted):
    def _cardinality(self):
        n = self.child._cardinality()
        if self.count < 0:
            return n
        if n == INFINITE_CARDINALITY:
            return self.count
        return n if n == UNKNOWN_CARDINALITY else min(n, self.count)

    def _plan(self, limit):
        if self.count >= 0:
            limit = self.count if limit is None else min(limit, self.count)
        return self.child._plan(limit)

    def _iter_elements(self):
        return iter(self.child) if self.count < 0 else itertools.islice(self.child, self.count)


class _Skip(_Counted):
    def _cardinality(self):
        n = self.child._cardinality()
        if n < 0:
            return n
        return 0 if self.count < 0 else max(0, n - self.count)

    def _plan(self, limit):
        if self.count < 0:
            plan = self.child._plan(0)
            return None if plan is None else _Plan(plan.source, plan.index[:0])
        plan = self.child._plan(None if limit is None else limit + self.count)
        return None if plan is None else _Plan(plan.source, plan.index[self.count:])

    def _iter_elements(self):
        if self.count < 0:
            return iter(())
        return itertools.islice(self.child, self.count, None)


class _Repeat(_Counted):
    def _cardinality(self):
        n = self.child._cardinality()
        if self.count < 0:
            return INFINITE_CARDINALITY if n != 0 else 0
        return n if n < 0 else n * self.count

    def _plan(self, limit):
        if self.count < 0 and limit is None:
            return None
        parts, total, source = [], 0, None
        for _ in range(self.count) if self.count >= 0 else itertools.count():
            if limit is not None and total >= limit:
                break
            plan = self.child._plan(None if limit is None else limit - total)
            if plan is None:
                return None
            source = plan.source
            if not len(plan.index):
                break  # an empty pass: stop rather than loop forever
            parts.append(plan.index)
            total += len(plan.index)
        if source is None:
            return self.child._plan(0)
        return _Plan(source, np.concatenate(parts) if parts else np.arange(0))

    def _iter_elements(self):
        passes = range(self.count) if self.count >= 0 else itertools.count()
        for _ in passes:
            empty = True
            for element in self.child:
                empty = False
                yield element
            if empty:
                return


class _Cache(_Unary):
    def __init__(self, child):
        super().__init__(child)
        self._plan_cache = None
        self._elements_cache = None

    def _plan(self, limit):
        if self._plan_cache is None:
            plan = self.child._plan(limit)
            if plan is None or limit is not None:
                return plan  # a partial pass is not cached, as in tf.data
            self._plan_cache = plan
        plan = self._plan_cache
        return plan if limit is None else _Plan(plan.source, plan.index[:limit])

    def _iter_elements(self):
        if self._elements_cache is not None:
            yield from self._elements_cache
            return
        seen = []
        for element in self.child:
            seen.append(element)
            yield element
        self._elements_cache = seen


def _apply(func, element):
    out = func(*element) if isinstance(element, tuple) else func(element)
    return tuple(out) if isinstance(out, list) else out


class _Map(_Unary):
    def __init__(self, child, func):
        super().__init__(child)
        self.func = func

    def _iter_elements(self):
        for element in self.child:
            yield map_structure(_as_tensor, _apply(self.func, element))


def _as_tensor(value):
    return value if isinstance(value, EagerTensor) else np.asarray(value).view(EagerTensor)


class _Filter(_Unary):
    def __init__(self, child, predicate):
        super().__init__(child)
        self.predicate = predicate

    def _cardinality(self):
        n = self.child._cardinality()
        return n if n == INFINITE_CARDINALITY else UNKNOWN_CARDINALITY

    def _iter_elements(self):
        for element in self.child:
            if bool(np.asarray(_apply(self.predicate, element))):
                yield element


class _Batch(_Unary):
    def __init__(self, child, batch_size, drop_remainder):
        super().__init__(child)
        self.batch_size = _count(batch_size, "batch_size")
        if self.batch_size <= 0:
            raise ValueError(f"`batch_size` must be positive. Received: {batch_size}")
        self.drop_remainder = bool(drop_remainder)

    def _cardinality(self):
        n = self.child._cardinality()
        if n < 0:
            return n
        return n // self.batch_size if self.drop_remainder else -(-n // self.batch_size)

    def _iter_elements(self):
        size = self.batch_size
        plan = self.child._plan(None)
        if plan is not None:
            stop = len(plan.index)
            if self.drop_remainder:
                stop -= stop % size
            for start in range(0, stop, size):
                yield plan.gather(plan.index[start:start + size])
            return
        chunk = []
        for element in self.child:
            chunk.append(element)
            if len(chunk) == size:
                yield _stack(chunk)
                chunk = []
        if chunk and not self.drop_remainder:
            yield _stack(chunk)


def _stack(elements):
    first = elements[0]
    if isinstance(first, tuple):
        return tuple(_stack([e[k] for e in elements]) for k in range(len(first)))
    if isinstance(first, dict):
        return {k: _stack([e[k] for e in elements]) for k in first}
    try:
        return np.stack([np.asarray(e) for e in elements]).view(EagerTensor)
    except ValueError as error:
        raise ValueError(
            "Cannot batch elements of different shapes: "
            f"{sorted({np.shape(e) for e in elements})}. Resize them in .map() first."
        ) from error
