"""An epoch's training outputs, kept so the loss and metrics are computed in bulk.

At batch 32 a small model's step is a few dozen NumPy calls, and the running
loss and accuracy would add a dozen more. Instead each step copies its output
(one call) into a buffer, and the loss and metrics are brought up to date over
thousands of rows at once: when the buffer is full, when someone reads the logs
(a progress-bar redraw, a per-batch callback) and at the end of the epoch. The
means are the same as per-batch updates give (sums over samples), up to float
rounding.
"""

from __future__ import annotations

import math

import numpy as np

from tinyann import backend, losses

# floats held per buffer (4 MB): big enough to amortise, small enough for any output
_BUFFER_ELEMENTS = 1 << 20


def _epoch_rows(order, start, stop):
    """The samples at epoch positions ``start .. stop`` (``order`` None: in order)."""
    return slice(start, stop) if order is None else order[start:stop]


class EpochOutputs:
    """Outputs of the batches of one epoch, in the order of ``order``.

    Args:
        data: the ``ArrayData`` trained on (its ``y`` and ``sample_weight``).
        order: the epoch's sample order (None: 0..N-1).
        state: the model's ``CompileState``: its loss (used when ``defer_loss``),
            metrics (updated on flush) and loss tracker.
        out_shape: the model output's shape, ``(None, ...)``.
        defer_loss: compute the loss here (the step computed only the gradient).
    """

    def __init__(self, data, order, state, out_shape, defer_loss):
        self.data, self.order = data, order
        self.state = state
        self.defer_loss = defer_loss
        row = math.prod(d or 1 for d in out_shape[1:])
        rows = min(data.num_samples, max(1, _BUFFER_ELEMENTS // row))
        self.buffer = np.empty((rows,) + tuple(out_shape[1:]), dtype=backend.floatx())
        self.start = 0  # position in the epoch of buffer[0]
        self.filled = 0

    def add(self, out):
        """Keeps a batch's output ``out`` (n, ...); the next batch follows it."""
        n = out.shape[0]
        if self.filled + n > self.buffer.shape[0]:
            self.flush()
            if n > self.buffer.shape[0]:  # a batch bigger than the buffer
                self.buffer = np.empty_like(out, order="C")
        self.buffer[self.filled:self.filled + n] = out
        self.filled += n

    def flush(self):
        """Updates the loss and metrics with the outputs kept since the last flush."""
        if not self.filled:
            return
        start, stop = self.start, self.start + self.filled
        rows = _epoch_rows(self.order, start, stop)
        y = self.data.y[rows]
        out = self.buffer[: self.filled]
        if self.defer_loss:
            per_sample = self.state.loss.call(y, out)
            sw = self.data.sample_weight
            if sw is not None:
                per_sample = per_sample * losses._broadcast_weight(sw[rows], per_sample)
            n = out.shape[0]
            # Keras's batch loss is a mean over the batch's elements: summed per
            # sample here, as the running mean weighs each batch by its size
            inner = max(per_sample.size // n, 1)
            total = float(np.add.reduce(per_sample, axis=None, dtype=np.float64))
            if not math.isfinite(total):
                # NaN or inf inputs are named; else the model diverged (fit warns)
                self.data.scan_inputs()
            tracker = self.state.loss_tracker
            tracker.total += total / inner
            tracker.count += n
        for m in self.state.metric_list:
            m.update_state(y, out)
        self.start = stop
        self.filled = 0


class SparseTargets:
    """One-hot targets of an epoch's integer labels, built a block at a time.

    The fused softmax + cross-entropy gradient (``softmax_cross_entropy_grad``) is
    then two NumPy calls per batch instead of a gather and a scatter.
    """

    def __init__(self, labels, order, classes, batch_size):
        self.labels = labels
        self.order = order
        self.classes = classes
        # whole batches per block, so no batch straddles two blocks
        per_block = max(1, (_BUFFER_ELEMENTS // classes) // batch_size) * batch_size
        self.block = np.zeros((per_block, classes), dtype=backend.floatx())
        self.block_start = 0
        self.block_stop = 0

    def rows(self, start, n):
        """The one-hot rows for epoch positions ``start .. start + n``."""
        if start + n > self.block_stop:
            self._fill(start)
        offset = start - self.block_start
        return self.block[offset:offset + n]

    def _fill(self, start):
        stop = min(start + self.block.shape[0], len(self.labels))
        rows = _epoch_rows(self.order, start, stop)
        labels = self.labels[rows]
        block = self.block
        block.fill(0.0)
        block[np.arange(len(labels)), labels] = 1.0
        self.block_start, self.block_stop = start, stop
