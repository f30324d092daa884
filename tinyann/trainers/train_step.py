"""One training step, for every kind of data and any number of outputs.

    forward -> the loss and dL/doutput -> backward through the layers (the weights'
    gradients land in the packed gradient buffer) -> the regularizers' gradients ->
    one optimizer update over the packed weights

The loss part has three forms, chosen once per epoch:

- softmax + sparse cross-entropy on in-memory arrays: dL/dlogits straight from the
  epoch's one-hot targets (``kernels.softmax_cross_entropy_grad``), the loss value computed
  later in bulk from the kept outputs (``EpochOutputs``);
- one output: the loss's ``value_and_grad`` (dL/dlogits when the output's
  activation fuses with the loss);
- several outputs: Keras's weighted sum of the outputs' losses, then one backward
  pass from all the outputs at once (no fusion: each output layer's activation has
  its own derivative). The ``<output>_loss`` means record the unweighted losses.

The step is a closure over what it reads (the graph, the packed buffers, the loss):
a small model's step is overhead-bound (~50 us), so it looks nothing up per step
and allocates nothing beyond what the layers do.
"""

from __future__ import annotations

import math

import numpy as np

from tinyann import kernels, losses
from tinyann.layers import added_losses
from tinyann.trainers import masks
from tinyann.trainers.half_batches import HalfBatches
from tinyann.trainers.outputs import Targets


def make_train_step(model, state, on_nonfinite, outputs=None, onehot=None):
    """The step ``train_step(xs, y, sample_weight, position) -> n`` for one epoch.

    Args:
        model: the model trained (built: it has its graph).
        state: its ``CompileState`` (built for the data).
        on_nonfinite: called with the batch's inputs when a step's loss is NaN or inf.
        outputs: an ``EpochOutputs`` keeping each step's output for the loss and
            metrics in bulk; None: the metrics are updated at each step.
        onehot: a ``SparseTargets`` of the epoch (softmax + sparse cross-entropy on
            arrays): the loss value is then left to ``outputs``.
    """
    graph = model._graph
    forward, backward = graph.forward, graph.backward
    values, grads, variables = model._packed_trainables()
    if state.half_batches:  # two half-batches in two threads (half_batches.py)
        runner = state.half_batch_runner
        if runner is None or runner.grads is not grads or runner.graph is not graph:
            runner = state.half_batch_runner = HalfBatches(model, grads)
        forward, backward = runner.forward, runner.backward
    apply_update = model.optimizer.apply_packed
    reg_vars = [v for v in variables if getattr(v, "regularizer", None) is not None]
    # layers whose call adds loss terms (add_loss): their terms join each batch's loss
    # (their gradient comes with the layers' backward, see tracing._taped_call_and_backward)
    loss_layers = added_losses.loss_layers(model)
    loss_fn, fused, spec, tracker = state.loss, state.fused, state.output_spec, state.loss_tracker
    metrics = state.metric_list
    compile_metrics = state.metrics
    cached = [0, None]  # the rows of the last batch and its 1 / n
    # (p - onehot) * scale, the one fused gradient (tinyann.kernels), bound for the epoch
    fused_grad = kernels.softmax_cross_entropy_grad
    masked = graph.masked_outputs[0]  # a mask may reach the (first) output

    def train_step(xs, y, sw, position):
        outs = forward(xs, training=True)
        if spec is not None:
            preds = [outs[i] for i in spec.order]
            n = preds[0].shape[0]
            if compile_metrics is not None:
                # before backward, which may reuse the output buffers
                compile_metrics.update_state(y.arrays, preds,
                                             metric_masks=output_masks(spec, graph))
            loss, out_grads = output_losses(spec, y, preds, sw, n, graph)
        else:
            out = outs[0]
            n = out.shape[0]
            mask = graph.output_masks[0] if masked else None
            if mask is not None:  # Keras's masked loss: masked steps weigh 0
                sw = masks.loss_weights(mask, sw, loss_fn.reduction, out.dtype)
            if outputs is not None:
                outputs.add(out)  # a copy: the gradient below may overwrite `out`
            elif mask is not None:
                weights = masks.metric_weights(mask)
                for m in metrics:
                    m.update_state(y, out, weights)
            else:
                for m in metrics:
                    m.update_state(y, out)
            if onehot is not None:
                if sw is not None:
                    scale = losses._grad_scale(sw, (n,), out.dtype)
                elif n == cached[0]:
                    scale = cached[1]
                else:
                    cached[0], cached[1] = n, scale = n, np.asarray(1.0 / n, dtype=out.dtype)
                out_grads = [fused_grad(out, onehot.rows(position, n), scale, out=out)]
                loss = None
            else:
                loss, grad = loss_fn.value_and_grad(y, out, sw, fused, True)
                out_grads = [grad]
        if loss is not None and (loss != loss or loss in (math.inf, -math.inf)):
            on_nonfinite(xs)
        backward(out_grads, fused)
        penalty = added_losses.total(loss_layers) if loss_layers else 0.0
        for v in reg_vars:
            v.grad += v.regularizer.gradient(v.value)
            penalty += v.regularizer(v.value)
        apply_update(values, grads)
        if loss is None:  # the loss itself comes with the outputs' flush
            if penalty:
                tracker.total += penalty * n
        else:
            tracker.total += (loss + penalty) * n
            tracker.count += n
        return n

    train_step.weights = values
    return train_step


def output_losses(spec, y, preds, sw, n, graph):
    """The weighted total loss of a batch and dL/doutput per graph output slot; the
    per-output means get the unweighted losses."""
    total = 0.0
    grads = [None] * len(graph.outputs)
    for k, (loss_fn, weight) in enumerate(zip(spec.losses, spec.weights)):
        w_k = sw.arrays[k] if isinstance(sw, Targets) else sw
        slot = spec.order[k]
        if graph.masked_outputs[slot] and graph.output_masks[slot] is not None:
            w_k = masks.loss_weights(graph.output_masks[slot], w_k, loss_fn.reduction,
                                     preds[k].dtype)
        value, grad = loss_fn.value_and_grad(y.arrays[k], preds[k], w_k, False, True)
        tracker = spec.loss_trackers[k]
        tracker.total += value * n
        tracker.count += n
        if weight is not None:
            value *= weight
            grad = grad * grad.dtype.type(weight)
        total += value
        grads[spec.order[k]] = grad
    return total, _per_slot(graph, grads)


def output_masks(spec, graph):
    """The metrics' weights per output (None where no mask reaches it), or None."""
    if not any(graph.masked_outputs):
        return None
    found = []
    for slot in spec.order:
        mask = graph.output_masks[slot] if graph.masked_outputs[slot] else None
        found.append(None if mask is None else masks.metric_weights(mask))
    return found


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
