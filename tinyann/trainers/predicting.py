"""``predict``: the model's outputs for in-memory arrays (in chunks of whole batches,
converted to float32 a chunk at a time) or for batches from a generator or dataset.

Several threads may predict with one model at once: nothing here writes to the
model, the float32 chunks go to per-thread buffers (``as_float_chunk``), and the
layers keep no state in inference (Conv2D's buffers are per thread).
"""

from __future__ import annotations

import math

import numpy as np

from tinyann import backend
from tinyann.callbacks.progbar_logger import ProgbarLogger
from tinyann.trainers import data_adapters as data_module
from tinyann.trainers import half_batches
from tinyann.trainers.checks import (
    check_input_shapes,
    check_verbose,
    ensure_built,
    input_names,
    kept_dtypes,
    prepare_inputs,
)
from tinyann.trainers.data_adapters import probe_finite, raise_if_nonfinite
from tinyann.trainers.evaluating import chunk_size
from tinyann.trainers.trainer import make_callbacks


def predict(model, x, batch_size, verbose, steps, callbacks, single_batch=False):
    verbose = check_verbose(verbose)
    batch_size = data_module.check_batch_size(batch_size)
    if data_module.is_iterable_data(x):
        return _predict_iterable(model, x, batch_size, verbose, steps, callbacks)
    xs = prepare_inputs(model, x)
    n = xs[0].shape[0]
    graph = model._graph
    if single_batch or n <= batch_size:
        probe_finite(xs)
    if single_batch:
        outs = graph.forward(data_module.cast_inputs(xs, kept_dtypes(model), backend.floatx()),
                             False)
        # row-major, as Keras returns them (a Dense of few units computes column-major)
        outs = [np.ascontiguousarray(o) for o in outs]
        return as_structure(model, outs)
    num_steps = math.ceil(n / batch_size)
    cbl, _ = make_callbacks(model, callbacks, verbose, epochs=1, steps=num_steps)
    if half_batches.applies(model, min(n, batch_size)):
        with half_batches.blas_one_thread(True):
            outs = _predict_arrays(model, xs, n, batch_size, cbl,
                                   half_batches.split_forward(graph))
    elif min(n, batch_size) >= 32 and half_batches.has_recurrent_chunks(model):
        # recurrent kernels run two chunks in two threads from 2 * MIN_CHUNK samples on
        with half_batches.blas_one_thread(True):
            outs = _predict_arrays(model, xs, n, batch_size, cbl, graph.forward)
    else:
        outs = _predict_arrays(model, xs, n, batch_size, cbl, graph.forward)
    if not all(np.isfinite(np.add.reduce(o, axis=None)) for o in outs):
        raise_if_nonfinite(xs)
    return as_structure(model, outs)


def _predict_arrays(model, xs, n, batch_size, cbl, forward):
    """The outputs for in-memory inputs ``xs`` of ``n`` rows, by ``forward``."""
    cbl.on_predict_begin(None)
    floatx = backend.floatx()
    kept = kept_dtypes(model)
    if n <= batch_size:
        outs = forward(data_module.cast_inputs(xs, kept, floatx), False)
        # (int outputs, a Hashing's ids, stay ints as in Keras)
        outs = [np.ascontiguousarray(o, dtype=floatx if o.dtype.kind == "f" else o.dtype)
                for o in outs]
        if cbl.wants("on_predict_batch_begin"):
            cbl.on_predict_batch_begin(0, None)
        if cbl.wants("on_predict_batch_end"):
            cbl.on_predict_batch_end(0, {"outputs": as_structure(model, outs)})
    else:
        per_batch = any(not isinstance(c, ProgbarLogger) for c in cbl._batch[
            "on_predict_batch_end"]) or cbl.wants("on_predict_batch_begin")
        chunk = batch_size if per_batch else chunk_size(model, batch_size)
        outs = None
        step = 0
        for start in range(0, n, chunk):
            if cbl.wants("on_predict_batch_begin"):
                cbl.on_predict_batch_begin(step, None)
            if kept is None:
                arrays = [data_module.as_float_chunk(a[start:start + chunk], k)
                          for k, a in enumerate(xs)]
            else:  # int and string inputs keep their dtypes
                arrays = data_module.cast_inputs([a[start:start + chunk] for a in xs], kept,
                                                 floatx)
            # probed after the float32 conversion, while the chunk is still in cache
            probe_finite(arrays, offset=start)
            part = forward(arrays, False)
            if outs is None:
                outs = [np.empty((n,) + p.shape[1:], dtype=floatx if p.dtype.kind == "f"
                                 else p.dtype) for p in part]
            for o, p in zip(outs, part):
                o[start:start + chunk] = p
            step += math.ceil(len(part[0]) / batch_size)
            if cbl.wants("on_predict_batch_end"):
                cbl.on_predict_batch_end(step - 1, {"outputs": as_structure(model, part)})
    cbl.on_predict_end(None)
    return outs


def _predict_iterable(model, x, batch_size, verbose, steps, callbacks):
    source = data_module.IterableData(x, steps, input_names=lambda: input_names(model),
                                      kept=lambda: kept_dtypes(model))
    cbl, _ = make_callbacks(model, callbacks, verbose, epochs=1, steps=source.num_steps())
    cbl.on_predict_begin(None)
    parts = []
    for step, (xs, _, _) in enumerate(source.batches()):
        if cbl.wants("on_predict_batch_begin"):
            cbl.on_predict_batch_begin(step, None)
        ensure_built(model, xs)
        check_input_shapes(model, [a.shape for a in xs])
        parts.append(model._graph.forward(xs, False))
        if cbl.wants("on_predict_batch_end"):
            cbl.on_predict_batch_end(step, {"outputs": as_structure(model, parts[-1])})
    cbl.on_predict_end(None)
    if not parts:
        raise ValueError("`predict()` received a dataset that yielded no batches.")
    outs = [np.concatenate([p[i] for p in parts]) for i in range(len(parts[0]))]
    return as_structure(model, outs)


def as_structure(model, outs):
    """predict's result: one array; a list; a dict for a model whose outputs are a
    dict (its keys in their order), as Keras."""
    struct = getattr(model, "_outputs_struct", None)
    if isinstance(struct, dict) and len(struct) == len(outs):
        by_key = dict(zip(sorted(struct), outs))  # the graph's order
        return {key: by_key[key] for key in struct}
    return outs[0] if len(outs) == 1 else outs
