"""Shuffled batches gathered by a helper thread while the previous chunk trains.

The training thread must wait neither for data nor for the GIL. The helper
gathers a chunk of batches (8 MB) at a time, in a few long NumPy calls that
release the GIL: a helper that needs the GIL often waits for each forced switch
(the training loop's small NumPy calls never release it), and then falls behind.

The seeds' ``x / 255.0`` is float64: converting it to float32 each epoch reads
300 MB in many short calls. So the first epoch converts its chunks straight into
a float32 copy (``FloatCopy``, in that epoch's order) and yields batches from
there; later epochs gather from the copy with one ``np.take`` per chunk.
"""

from __future__ import annotations

import math
from concurrent.futures import ThreadPoolExecutor

import numpy as np

_CHUNK_BYTES = 8 << 20
# rows gathered and converted per call. np.take casts float64 rows straight into a
# float32 output: 2048 rows a call are as fast per row as 256, and 8x fewer calls,
# each of which needs the GIL (the training thread holds it between its own calls,
# so every handover costs both threads). np.take cannot write other dtypes (uint8,
# int64) into float32: those go through a 256-row staging buffer that stays in the
# core's L2 cache between the gather and the conversion.
_CONVERT_ROWS = 2048
_STAGED_ROWS = 256
# no float32 copy beyond this size: memory matters more than speed then. Chapter 9's
# one-hot reviews (20,000 x 100 x 200 float64, 3.0 GiB, from to_categorical) would
# make a 1.5 GiB copy: at 1 GiB they are converted a batch at a time instead (the
# cell's peak measured 4.7 GiB with the copy, 3.1 without)
_MAX_COPY_BYTES = 1 << 30


class FloatCopy:
    """float32 copies of an ``ArrayData``'s wider inputs, rows in the order of the
    epoch that made them (``position[i]``: where sample i is)."""

    def __init__(self, xs, floatx, reused=True):
        # only worth its memory (and the first touch of it) when later epochs read it
        # zeros, not empty: np.take casting into it reads the output first, and stray
        # signalling-NaN bit patterns there raise "invalid value" warnings (calloc's
        # zero pages cost nothing until written, as empty's)
        self.arrays = [
            np.zeros(a.shape, dtype=floatx)
            if reused and a.dtype.itemsize > floatx.itemsize
            and a.size * floatx.itemsize <= _MAX_COPY_BYTES
            else None
            for a in xs
        ]
        self.wanted = any(a is not None for a in self.arrays)
        self.position = None  # set once a whole epoch has filled the copies


def prefetched(data, order, batch_size, floatx):
    """Yields ``(xs, y, sample_weight)`` batches of ``data`` in ``order`` (a permutation
    of its rows)."""
    n = len(order)
    copy = data.float_copy(floatx)
    ready = copy.position is not None
    filling = copy.wanted and not ready and n == data.num_samples
    row_bytes = sum(math.prod(a.shape[1:]) for a in data.xs) * floatx.itemsize
    per_chunk = max(1, _CHUNK_BYTES // max(row_bytes * batch_size, 1)) * batch_size
    per_chunk = min(per_chunk, -(-n // batch_size) * batch_size)
    where = copy.position[order] if ready else None
    # each chunk has its own place in the copy: the helper may run ahead
    run_ahead = filling and all(a is not None for a in copy.arrays)
    # zeros, not empty: a cast into a buffer holding stray NaN bit patterns raised
    # "invalid value encountered in cast" warnings now and then
    buffers = [[np.zeros((per_chunk,) + a.shape[1:], dtype=floatx) for a in data.xs]
               for _ in range(1 if run_ahead else 2)]
    staging = [np.zeros((min(per_chunk, _STAGED_ROWS),) + a.shape[1:], dtype=a.dtype)
               if not np.can_cast(floatx, a.dtype) and not (ready and made is not None)
               else None for a, made in zip(data.xs, copy.arrays)]

    def gather(start, bufs):
        idx = order[start:start + per_chunk]
        m = len(idx)
        out = []
        for a, buf, stage, made in zip(data.xs, bufs, staging, copy.arrays):
            if made is not None and ready:
                # mode="clip": np.take buffers its whole output when it may raise
                np.take(made, where[start:start + m], axis=0, out=buf[:m], mode="clip")
            elif a.dtype == floatx:
                np.take(a, idx, axis=0, out=buf[:m], mode="clip")
            else:
                if made is not None and filling:
                    buf = made[start:start + m]  # this chunk's place in the copy
                step = _CONVERT_ROWS if stage is None else _STAGED_ROWS
                for j in range(0, m, step):
                    piece = idx[j:j + step]
                    if stage is None:
                        np.take(a, piece, axis=0, out=buf[j:j + len(piece)], mode="clip")
                    else:
                        np.take(a, piece, axis=0, out=stage[: len(piece)], mode="clip")
                        np.copyto(buf[j:j + len(piece)], stage[: len(piece)],
                                  casting="unsafe")
            out.append(buf[:m])
        # the batches themselves are cut here too, off the training thread
        y = None if data.y is None else data.y[idx]
        sw = None if data.sample_weight is None else data.sample_weight[idx]
        return [([c[b:b + batch_size] for c in out],
                 None if y is None else y[b:b + batch_size],
                 None if sw is None else sw[b:b + batch_size])
                for b in range(0, m, batch_size)]

    starts = list(range(0, n, per_chunk))
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        if run_ahead:
            pending = [pool.submit(gather, start, buffers[0]) for start in starts]
        else:
            # two buffers: the helper fills one while the other trains
            pending = [pool.submit(gather, starts[0], buffers[0])]
        for k in range(len(starts)):
            batches = pending[k].result()
            if k + 1 < len(starts):
                if not run_ahead:
                    pending.append(pool.submit(gather, starts[k + 1], buffers[(k + 1) % 2]))
            elif filling:
                # every row is in the copy now
                copy.position = np.empty(n, dtype=np.intp)
                copy.position[order] = np.arange(n)
            yield from batches
    finally:
        # training stopped early: drop the chunks not started
        pool.shutdown(wait=True, cancel_futures=True)
