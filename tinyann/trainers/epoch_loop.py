"""One epoch of training over a data adapter: batches in, ``train_step`` per batch,
callbacks around it.

In-memory arrays were checked before the first epoch; their outputs are kept for
the loss and metrics in bulk (``EpochOutputs``), and softmax + sparse cross-entropy
gets the epoch's one-hot targets (``SparseTargets``). Batches from an iterable are
checked as they come, the first one building the model if it has no graph yet.
"""

from __future__ import annotations

import numpy as np

from tinyann import losses
from tinyann.callbacks.progbar_logger import ProgbarLogger
from tinyann.trainers.checks import check_input_shapes, ensure_built, prepare_targets
from tinyann.trainers.epoch_outputs import EpochOutputs, SparseTargets
from tinyann.trainers.logs import RunningLogs, python_logs
from tinyann.trainers.train_step import make_train_step


def train_epoch(model, state, data, batch_size, shuffle, cbl, steps_per_epoch=None):
    """One epoch of training steps; returns the number of steps run."""
    if _overrides(model, "train_step"):
        return _user_train_epoch(model, data, batch_size, shuffle, cbl, steps_per_epoch)
    outputs = None
    checks_each = not data.in_memory
    if data.in_memory:
        order = data.epoch_order(shuffle)
        batches = data.batches(batch_size, order=order)
        outputs, onehot = _kept_outputs(model, state, data, order, batch_size)
        train_step = make_train_step(model, state, data.scan_inputs, outputs, onehot)
    else:
        batches = data.batches(batch_size, shuffle)
        train_step = None  # made at the first batch, which may build the model
    want_begin = cbl.wants("on_train_batch_begin")
    want_end = cbl.wants("on_train_batch_end")
    # callbacks other than the progress bar may read the metrics themselves
    flush_each_step = outputs is not None and want_end and any(
        not isinstance(c, ProgbarLogger) for c in cbl._batch["on_train_batch_end"])
    logs = RunningLogs(model, outputs)
    position = 0
    step = -1
    for step, (xs, y, sw) in enumerate(batches):
        if steps_per_epoch is not None and step >= steps_per_epoch:
            break
        if want_begin:
            cbl.on_train_batch_begin(step, None)
        if checks_each:
            y = check_batch(model, state, xs, y)
            if train_step is None:
                train_step = make_train_step(model, state, data.scan_inputs)
        position += train_step(xs, y, sw, position)
        if want_end:
            if flush_each_step:
                outputs.flush()
            cbl.on_train_batch_end(step, logs)
        if model.stop_training:
            break
    if outputs is not None:
        outputs.flush()
    # an inf input behind a saturating activation (tanh, sigmoid) leaves the outputs
    # finite: it shows only in the weights, perhaps after the epoch's last output
    if data.in_memory and not np.isfinite(np.add.reduce(train_step.weights)):
        data.scan_inputs()
    return step + 1


def _overrides(model, name) -> bool:
    """Whether the model's class defines ``name`` itself (a user's ``train_step``)."""
    return any(name in vars(k) for k in type(model).__mro__
               if not k.__module__.startswith("tinyann."))


def _user_train_epoch(model, data, batch_size, shuffle, cbl, steps_per_epoch):
    """An epoch that calls the user's ``model.train_step(data)`` per batch (Keras's
    contract: ``data`` is ``(x, y)`` or ``(x, y, sample_weight)``, the step returns its
    logs); the last step's logs become the epoch's (``model._user_step_logs``)."""
    if data.in_memory:
        batches = data.batches(batch_size, order=data.epoch_order(shuffle))
    else:
        batches = data.batches(batch_size, shuffle)
    step = -1
    logs = {}
    for step, (xs, y, sw) in enumerate(batches):
        if steps_per_epoch is not None and step >= steps_per_epoch:
            break
        cbl.on_train_batch_begin(step, None)
        x = xs[0] if isinstance(xs, (list, tuple)) and len(xs) == 1 else xs
        # (Keras's packing: x alone without targets)
        batch = x if y is None and sw is None else (x, y) if sw is None else (x, y, sw)
        returned = model.train_step(batch) or {}
        logs = python_logs(returned)
        cbl.on_train_batch_end(step, logs)
        if model.stop_training:
            break
    model.__dict__["_user_step_logs"] = logs
    return step + 1


def _kept_outputs(model, state, data, order, batch_size):
    """``(EpochOutputs, SparseTargets)`` for an epoch over arrays (None, None: a model
    with several outputs updates its metrics at each step)."""
    if state.output_spec is not None or any(model._graph.masked_outputs):
        # (a masked output: its loss and metrics weigh the mask, step by step)
        return None, None
    out_shape = model._graph.outputs[0].shape
    onehot = None
    # softmax + sparse cross-entropy on (N, C): the gradient without the loss value
    if state.fused and isinstance(state.loss, losses.SparseCategoricalCrossentropy) and (
            len(out_shape) == 2 and data.y.ndim == 1):
        onehot = SparseTargets(data.y, order, out_shape[-1], batch_size)
    outputs = EpochOutputs(data, order, state, out_shape, defer_loss=onehot is not None)
    return outputs, onehot


def check_batch(model, state, xs, y):
    """A batch from an iterable, checked as fit checks arrays once: returns its targets."""
    if y is None:
        raise ValueError("Training needs targets: the data yielded batches without `y`.")
    ensure_built(model, xs)
    check_input_shapes(model, [a.shape for a in xs])
    y = prepare_targets(model, y)
    state.build(model, y)
    return y

