"""The test loop behind ``evaluate``, ``test_on_batch`` and fit's validation: the
loss and metrics over a data adapter, in chunks of whole batches for arrays."""

from __future__ import annotations

import math

import numpy as np

from tinyann import losses
from tinyann.callbacks.progbar_logger import ProgbarLogger
from tinyann.layers import added_losses
from tinyann.trainers import half_batches, masks
from tinyann.trainers.data_adapters import probe_finite, raise_if_nonfinite
from tinyann.trainers.epoch_loop import check_batch
from tinyann.trainers.logs import RunningLogs, python_logs, reset_metrics
from tinyann.trainers.outputs import Targets
from tinyann.trainers.train_step import output_masks

# rough number of floats one evaluate/predict chunk may hold per layer output
_CHUNK_ELEMENTS = 1_000_000


def chunk_size(model, batch_size):
    """Rows per evaluate/predict chunk: whole batches, a few MB per layer output;
    one batch for a model with a stateful layer (its batch size is fixed)."""
    if any(getattr(layer, "stateful", False) for layer, _, _ in model._graph.steps):
        return batch_size
    widest = 1
    nodes = [layer._inbound_nodes[0] for layer, _, _ in model._graph.steps
             if layer._inbound_nodes]
    for t in [*model._graph.inputs, *[n.outputs[0] for n in nodes]]:
        widest = max(widest, math.prod(d or 1 for d in t.shape[1:]))
    rows = max(1, _CHUNK_ELEMENTS // widest)
    return max(batch_size, (rows // batch_size) * batch_size)


def _user_test_loop(model, data, batch_size, cbl):
    """Calls the user's ``model.test_step(data)`` per batch (Keras's contract, as
    ``train_step``); the last step's logs become the result (``_user_step_logs``)."""
    logs = {}
    for step, (xs, y, sw) in enumerate(data.batches(batch_size)):
        cbl.on_test_batch_begin(step, None)
        x = xs[0] if isinstance(xs, (list, tuple)) and len(xs) == 1 else xs
        returned = model.test_step((x, y) if sw is None else (x, y, sw)) or {}
        logs = python_logs(returned)
        cbl.on_test_batch_end(step, logs)
    model.__dict__["_user_step_logs"] = logs


def run_test_loop(model, state, data, batch_size, cbl):
    """Loss and metrics over ``data`` (no callbacks per batch unless asked), into the
    model's metrics (reset first, as Keras's evaluate does)."""
    reset_metrics(model)
    if any("test_step" in vars(k) for k in type(model).__mro__
           if not k.__module__.startswith("tinyann.")):
        return _user_test_loop(model, data, batch_size, cbl)
    tracker = state.loss_tracker
    spec = state.output_spec
    graph = model._graph
    per_batch = cbl.wants("on_test_batch_begin") or any(
        not isinstance(c, ProgbarLogger) for c in cbl._batch["on_test_batch_end"])
    checked = data.in_memory
    # add_loss terms are per batch (Keras adds each batch's): no chunks of batches then
    loss_layers = added_losses.loss_layers(model)
    chunk = chunk_size(model, batch_size) if checked and not per_batch and not loss_layers \
        else batch_size
    # integer inputs (uint8 images) cannot hold NaN or inf
    probe = not checked or any(a.dtype.kind == "f" for a in data.xs)
    logs = RunningLogs(model)
    step = 0
    split = graph is not None and half_batches.applies(model, batch_size)
    forward = half_batches.split_forward(graph) if split else None
    with half_batches.blas_one_thread(split or half_batches.has_recurrent_chunks(model)):
        for xs, y, sw in data.batches(chunk):
            if cbl.wants("on_test_batch_begin"):
                cbl.on_test_batch_begin(step, None)
            if not checked:
                y = check_batch(model, state, xs, y)
                graph = model._graph
            indices = getattr(data, "last_indices", None)
            if probe:
                probe_finite(xs, indices)
            outs = (forward or graph.forward)(xs, training=False)
            n = outs[0].shape[0]
            if spec is None:
                mask = graph.output_masks[0] if graph.masked_outputs[0] else None
                tracker.total += _summed_loss(state.loss, y, outs[0], sw, n, xs, indices,
                                              mask, batch_size)
                for m in state.metric_list:
                    if mask is None:
                        m.update_state(y, outs[0])
                    else:
                        m.update_state(y, outs[0], masks.metric_weights(mask))
            else:
                preds = [outs[i] for i in spec.order]
                for k, (loss_fn, weight) in enumerate(zip(spec.losses, spec.weights)):
                    w_k = sw.arrays[k] if isinstance(sw, Targets) else sw
                    slot = spec.order[k]
                    mask = graph.output_masks[slot] if graph.masked_outputs[slot] else None
                    total = _summed_loss(loss_fn, y.arrays[k], preds[k], w_k, n, xs, indices,
                                         mask, batch_size)
                    spec.loss_trackers[k].total += total
                    spec.loss_trackers[k].count += n
                    tracker.total += total if weight is None else total * weight
                if state.metrics is not None:
                    state.metrics.update_state(y.arrays, preds,
                                               metric_masks=output_masks(spec, graph))
            if loss_layers:
                tracker.total += added_losses.total(loss_layers) * n
            tracker.count += n
            step += max(1, math.ceil(n / batch_size))
            if cbl.wants("on_test_batch_end"):
                cbl.on_test_batch_end(step - 1, logs)
    if not tracker.count:
        raise ValueError(
            "The evaluation data yielded no batches. A generator can be iterated only "
            "once: pass a list of batches or a keras.utils.PyDataset, or a generator that "
            "repeats together with `steps` / `validation_steps`."
        )
    reg = sum(layer._regularization_penalty() for layer in model.layers)
    if reg:
        tracker.total += reg * tracker.count
    return tracker


def _summed_loss(loss_fn, y, out, sw, n, xs, indices, mask=None, batch_size=None):
    """A chunk's loss summed over its samples (each sample's mean over inner axes):
    a running mean of per-batch ``sum_over_batch_size`` losses gives the same. With
    an output ``mask``, Keras's masked loss of each batch (its mean over the batch's
    unmasked steps) times the batch's size."""
    if mask is not None:
        return _summed_masked_loss(loss_fn, y, out, sw, n, xs, indices, mask, batch_size)
    per_sample = loss_fn.call(y, out)
    if not np.isfinite(np.add.reduce(per_sample, axis=None)):
        raise_if_nonfinite(xs, indices)
    if sw is not None:
        per_sample = per_sample * losses._broadcast_weight(sw, per_sample)
    return float(per_sample.sum()) / max(per_sample.size // n, 1)


def _summed_masked_loss(loss_fn, y, out, sw, n, xs, indices, mask, batch_size):
    per_sample = loss_fn.call(y, out)
    if not np.isfinite(np.add.reduce(per_sample, axis=None)):
        raise_if_nonfinite(xs, indices)
    total = 0.0
    for start in range(0, n, batch_size):
        rows = slice(start, start + batch_size)
        weights = masks.loss_weights(mask[rows], None if sw is None else sw[rows],
                                     loss_fn.reduction, per_sample.dtype)
        per = per_sample[rows]
        batch_loss = float((per * losses._broadcast_weight(weights, per)).sum())
        if loss_fn.reduction in ("sum_over_batch_size", "mean"):
            batch_loss /= max(per.size, 1)
        total += batch_loss * per.shape[0]
    return total
