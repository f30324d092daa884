"""Two half-batches in two threads: each training step's forward and backward passes
run over the batch's first half in the calling thread and, at the same time, over
its second half in a worker thread, on a replica of the model; ``predict`` and
``evaluate`` run the same model's inference on the two halves (``split_forward``).

    batch (32) -> first 16: the model's graph         -> outputs, concatenated -> loss
               -> last 16:  the replica's, in a thread   and dL/doutput (32 rows)
    dL/doutput halves -> both graphs' backward at once -> gradients summed -> update

The replica's layers share the model's weight arrays (the optimizer updates them in
place) and have their own gradients, buffers and random streams. The loss, metrics
and update see the whole batch, so a step computes what the one-thread step does,
up to the rounding of the two gradient halves' sum (the same from run to run).

Why: on two cores, a convolutional network's step is mostly memory-bound passes
(Winograd transforms, pooling, ReLU, Adam) that run on one core, between matrix
products that OpenBLAS splits over both. Two half-steps at once use both cores for
everything, with OpenBLAS held to one thread per product meanwhile (two threads
each would fight over the cores). The textbook CNN measured 9.1-12.2 ms a step in
one thread, 6.4-8.5 ms in two (benchmarks/cnn_steps.py, fresh processes taking turns).

Taken (``applies``) only where it pays and computes the same: the compiled kernel
set (its kernels release the GIL; NumPy's release it too, but the NumPy set's step
is what ``TINYANN_KERNELS=numpy`` promises to keep as it was), threadpoolctl
installed, two or more CPUs, batches of ``2 * MIN_HALF`` or more, and a chain of
layers (a Sequential model, or a functional one layer after layer) of tinyann's own
per-sample layers (``PER_SAMPLE``: no BatchNormalization, whose statistics would be
the halves') with a convolution (the seeds' Dense model takes ~50 us a step: the
hand-over to the thread would cost it more than it gains).
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from tinyann import backend, kernels, layers
from tinyann.kernels import jit
from tinyann.kernels.cores import usable_cores

# each half at least this many samples
MIN_HALF = 8

# layers that compute each sample apart from the others (exact types: a subclass may
# compute anything)
PER_SAMPLE = (layers.InputLayer, layers.Conv2D, layers.Dense, layers.Activation,
              layers.MaxPooling2D, layers.AveragePooling2D, layers.GlobalAveragePooling2D,
              layers.GlobalMaxPooling2D, layers.Flatten, layers.Reshape, layers.Dropout)

_enabled = os.environ.get("TINYANN_HALF_BATCHES", "1").strip() != "0"
_pool = None
_pool_lock = threading.Lock()


def set_enabled(flag: bool) -> None:
    """Turns the two-thread steps on or off (``TINYANN_HALF_BATCHES=0`` starts off)."""
    global _enabled
    _enabled = bool(flag)


@functools.cache
def _have_threadpoolctl() -> bool:
    return importlib.util.find_spec("threadpoolctl") is not None


def applies(model, batch_size) -> bool:
    """Whether ``fit`` on ``model`` with this batch size runs two half-batches at once."""
    graph = model._graph
    # the cheap tests first: predict calls this for every call, one sample included
    return (_enabled and batch_size >= 2 * MIN_HALF and graph is not None
            and graph.is_chain and kernels.kernel_set() == "compiled"
            and len(graph.inputs) == 1 and len(graph.outputs) == 1
            and any(type(step[0]) is layers.Conv2D for step in graph.steps)
            and all(type(step[0]) in PER_SAMPLE for step in graph.steps)
            and usable_cores() >= 2 and _have_threadpoolctl())


def has_recurrent_chunks(model) -> bool:
    """Whether ``model`` has recurrent layers whose compiled kernels run a batch in two
    chunks, one in a worker thread (tinyann/kernels/compiled/recurrent.py). ``fit``,
    ``evaluate`` and ``predict`` then hold BLAS to one thread, as for half-batches: its
    threads, spinning after each product, would take the core the worker needs (the
    chapter's LSTM measured 9x the CPU time a batch with both on a busy machine)."""
    if not (kernels.kernel_set() == "compiled" and usable_cores() >= 2
            and _have_threadpoolctl()):
        return False
    from tinyann.layers.recurrent import _Recurrent

    stack, seen = list(getattr(model, "layers", [])), set()
    while stack:
        layer = stack.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        if isinstance(layer, _Recurrent):
            return True
        stack.extend(layer._sublayers())
        stack.extend(getattr(layer, "layers", []))
    return False


_blas_lock = threading.Lock()
_blas_users = 0  # blocks inside blas_one_thread, in any thread
_blas_limits = None  # threadpoolctl's limits, while there are any


@contextlib.contextmanager
def blas_one_thread(active):
    """OpenBLAS (any BLAS threadpoolctl knows) at one thread inside, when ``active``;
    its thread count restored after, also when the block raises. The library's count
    is one per process: the first block in sets it, the last one out restores it
    (threads predicting at once, an evaluate inside fit)."""
    if not active:
        yield
        return
    global _blas_users, _blas_limits
    with _blas_lock:
        if _blas_users == 0:
            from threadpoolctl import threadpool_limits

            _blas_limits = threadpool_limits(1, user_api="blas")
        _blas_users += 1
    try:
        yield
    finally:
        with _blas_lock:
            _blas_users -= 1
            if _blas_users == 0:
                _blas_limits.restore_original_limits()
                _blas_limits = None


def _forget_worker():
    global _pool
    _pool = None


# a forked child has none of the parent's threads: it would make its own worker (but
# numba's OpenMP layer, once used, aborts a forked child anyway: see the README)
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_worker)


def _worker():
    """The one worker thread of the process (made on first use)."""
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(1, thread_name_prefix="tinyann-half-batch")
    return _pool


def _in_thread(function, *args):
    jit.thread_setup()  # numba's thread count is per thread
    return function(*args)


class HalfBatches:
    """The forward and backward of a training step over two half-batches at once.

    Args:
        model: the model trained; its trainable weights packed into ``values`` and
            ``grads`` (``Model._packed_trainables``).
    """

    def __init__(self, model, grads):
        self.graph = model._graph
        # the replica's initializers, and its random streams below, must not move the
        # global generator on: the next epoch's shuffle would differ from one thread's
        state = backend.rng().bit_generator.state
        try:
            replica = self._make_replica(model, grads)
        finally:
            backend.rng().bit_generator.state = state
        self.replica = replica._graph
        self.grads = grads
        self.half = None  # the first half's rows in the running step (None: not split)

    def _make_replica(self, model, grads):
        replica = model._replica()
        pairs = list(zip(model.weights, replica.weights))
        if len(replica.weights) != len(model.weights) or any(
                a.shape != b.shape for a, b in pairs):  # a config that does not rebuild
            raise RuntimeError(f"The replica of model '{model.name}' has other weights "
                               "than the model: cannot train it in two half-batches.")
        self.replica_grads = np.zeros_like(grads)
        packed = {id(v) for v in model._packed_trainables()[2]}
        for original, copy in pairs:
            copy.value = original.value  # shared: updated in place by the optimizer
            # a trained weight's gradient: the same place in the replica's buffer as
            # the model's in its own (a frozen weight's stays the replica's own)
            if id(original) in packed:
                copy.grad = _same_layout_view(original.grad, grads, self.replica_grads)
        for original, copy in zip(model.layers, replica.layers):
            if isinstance(copy, layers.Dropout):
                # the replica's own random stream (the generator is not shared between
                # two threads), from the layer's seed or the global generator: the
                # same masks for the same seed
                seed = original.seed if original.seed is not None else int(
                    backend.rng().integers(2**63))
                copy._rng = np.random.default_rng([seed, 1])
        return replica

    def forward(self, xs, training=True):
        half = self.half = _first_half(xs[0])
        if half is None:
            return self.graph.forward(xs, training=training)
        first, second = _both_halves(self.graph.forward, self.replica.forward, xs[0], half,
                                     training)
        return [np.concatenate([first[0], second[0]])]

    def backward(self, grads, first_preactivation=False):
        half = self.half
        if half is None:
            return self.graph.backward(grads, first_preactivation)
        _both_halves(self.graph.backward, self.replica.backward, grads[0], half,
                     first_preactivation)
        np.add(self.grads, self.replica_grads, out=self.grads)
        return [None]


def split_forward(graph):
    """``forward(xs, training=False)``: inference over the two halves of each batch at
    once, the second in the worker thread (no replica: inference keeps its buffers
    per thread)."""

    def forward(xs, training=False):
        half = _first_half(xs[0])
        if half is None:
            return graph.forward(xs, training=training)
        first, second = _both_halves(graph.forward, graph.forward, xs[0], half, training)
        return [np.concatenate([first[0], second[0]])]

    return forward


def _first_half(x):
    """The rows of the batch ``x``'s first half, or None when too small to split."""
    n = x.shape[0]
    return None if n < 2 * MIN_HALF else n - n // 2


def _both_halves(first, second, x, half, *args):
    """``first([x[:half]], *args)`` in this thread and ``second([x[half:]], *args)`` in
    the worker, at the same time: both results."""
    jit.thread_setup()
    pending = _worker().submit(_in_thread, second, [x[half:]], *args)
    mine = first([x[:half]], *args)
    return mine, pending.result()


def _same_layout_view(view, buffer, other):
    """The view of ``other`` that ``view`` is of ``buffer`` (same offset and strides)."""
    offset = view.__array_interface__["data"][0] - buffer.__array_interface__["data"][0]
    return np.ndarray(view.shape, view.dtype, buffer=other, offset=offset,
                      strides=view.strides)
