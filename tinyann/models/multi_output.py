"""Training a model with several outputs: Keras's weighted sum of the outputs' losses,
then one backward pass from all the outputs at once.

Keras's total loss is the sum over outputs of ``loss_weight * loss`` (each reduced
over its batch); the ``<output>_loss`` means record the unweighted losses. There is
no softmax + cross-entropy fusion here: the plain gradient goes through each output
layer's activation.
"""

from __future__ import annotations

import math

import numpy as np

from tinyann.models.data import raise_if_nonfinite_data
from tinyann.models.epoch_outputs import _RunningLogs
from tinyann.models.outputs import Targets


def train_epoch_outputs(model, data, batch_size, shuffle, cbl, tracker, steps_per_epoch):
    """One epoch over in-memory arrays; returns the number of steps run."""
    spec = model._output_spec
    graph = model._graph
    values, grads, variables = model._packed_trainables()
    reg_vars = [v for v in variables if getattr(v, "regularizer", None) is not None]
    optimizer = model.optimizer
    metrics = model._compile_metrics
    want_begin = cbl.wants("on_train_batch_begin")
    want_end = cbl.wants("on_train_batch_end")
    logs = _RunningLogs(model)
    order = data.epoch_order(shuffle)
    step = -1
    for step, (xs, y, sw) in enumerate(data.batches(batch_size, order=order)):
        if steps_per_epoch is not None and step >= steps_per_epoch:
            break
        if want_begin:
            cbl.on_train_batch_begin(step, None)
        outs = graph.forward(xs, training=True)
        preds = [outs[i] for i in spec.order]
        n = preds[0].shape[0]
        if metrics is not None:
            # before backward, which may reuse the output buffers
            metrics.update_state(y.arrays, preds)
        loss, out_grads = _output_losses(spec, y, preds, sw, n, len(outs))
        if loss != loss or loss in (math.inf, -math.inf):
            raise_if_nonfinite_data(data)
        graph.backward(_per_slot(graph, out_grads))
        for v in reg_vars:
            v.grad += v.regularizer.gradient(v.value)
            loss += v.regularizer(v.value)
        optimizer.apply_packed(values, grads)
        tracker.total += loss * n
        tracker.count += n
        if want_end:
            cbl.on_train_batch_end(step, logs)
        if model.stop_training:
            break
    if not np.isfinite(np.add.reduce(values)):
        raise_if_nonfinite_data(data)
    return step + 1


def _output_losses(spec, y, preds, sw, n, num_outputs):
    """The weighted total loss of a batch and dL/doutput per graph output; the
    per-output means get the unweighted losses."""
    total = 0.0
    grads = [None] * num_outputs
    for k, (loss_fn, weight) in enumerate(zip(spec.losses, spec.weights)):
        w_k = sw.arrays[k] if isinstance(sw, Targets) else sw
        value, grad = loss_fn.value_and_grad(y.arrays[k], preds[k], w_k, False, True)
        tracker = spec.loss_trackers[k]
        tracker.total += value * n
        tracker.count += n
        if weight is not None:
            value *= weight
            grad = grad * grad.dtype.type(weight)
        total += value
        grads[spec.order[k]] = grad
    return total, grads


def _per_slot(graph, grads):
    """Output gradients for ``graph.backward``: one output tensor listed twice gets
    the sum of its gradients (backward sets, not adds, an output's gradient)."""
    slots = graph.output_slots
    if len(set(slots)) == len(slots):
        return grads
    summed = {}
    for slot, g in zip(slots, grads):
        summed[slot] = g if slot not in summed else summed[slot] + g
    return [summed[slot] for slot in slots]
