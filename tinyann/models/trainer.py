"""The loops behind ``fit``, ``evaluate`` and ``predict``.

One training step: forward (caching for backward) -> the loss's value and
gradient (dL/dlogits directly for softmax + cross-entropy) -> backward through
the layers into the packed gradient buffer -> one optimizer update over the
packed weights -> the output kept for the loss and metrics (``EpochOutputs``).
Everything that can be checked once per call (shapes, label ranges, dtypes) is
checked before the loop (``checks``). A model with several outputs trains in its
own loop (``multi_output.py``).
"""

from __future__ import annotations

import math
import sys
import warnings

import numpy as np

from tinyann import backend, losses
from tinyann.callbacks.callback import CallbackList
from tinyann.callbacks.history import History
from tinyann.callbacks.progbar_logger import ProgbarLogger
from tinyann.models import data as data_module
from tinyann.models.checks import (
    _require_compiled,
    _resolve_metrics,
    _verbose,
    check_input_shapes,
    ensure_built,
    prepare_inputs,
    prepare_targets,
)
from tinyann.models.data import probe_finite, raise_if_nonfinite, raise_if_nonfinite_data
from tinyann.models.epoch_outputs import (
    EpochOutputs,
    SparseTargets,
    _reset_metrics,
    _RunningLogs,
    _values_in_order,
    metrics_result,  # noqa: F401 - Model.get_metrics_result
    model_logs,
)
from tinyann.models.multi_output import train_epoch_outputs
from tinyann.models.outputs import Targets, split_per_output
from tinyann.utils.denormals import flush_denormals

# rough number of floats one evaluate/predict chunk may hold per layer output
_CHUNK_ELEMENTS = 1_000_000

_class_weights = data_module.class_weight_to_sample_weights


# ---------------------------------------------------------------------- callbacks
def _make_callbacks(model, callbacks, verbose, **params):
    callbacks = list(callbacks or [])
    history = next((c for c in callbacks if isinstance(c, History)), None)
    if history is None:
        history = History()
        callbacks.append(history)
    if verbose and not any(isinstance(c, ProgbarLogger) for c in callbacks):
        callbacks.append(ProgbarLogger())
    return CallbackList(callbacks, model=model, verbose=verbose, **params), history


# ---------------------------------------------------------------------- steps
def _train_epoch(model, data, batch_size, shuffle, cbl, tracker, steps_per_epoch=None):
    """One epoch of training steps; returns the number of steps run."""
    if model._output_spec is not None:
        return train_epoch_outputs(model, data, batch_size, shuffle, cbl, tracker,
                                   steps_per_epoch)
    if isinstance(data, data_module.ArrayData):
        return _train_epoch_arrays(model, data, batch_size, shuffle, cbl, tracker,
                                   steps_per_epoch)
    return _train_epoch_iterable(model, data, batch_size, shuffle, cbl, tracker,
                                 steps_per_epoch)


def _train_epoch_arrays(model, data, batch_size, shuffle, cbl, tracker, steps_per_epoch):
    """The hot loop: in-memory arrays, checked once before the first epoch.

    Per step: forward, dL/dz, backward, one optimizer update over the packed
    weights, and one copy of the output; the loss and metrics follow in bulk
    (``EpochOutputs``). A non-finite loss has the inputs scanned for NaN / inf once.
    """
    graph = model._graph
    loss_fn = model.loss
    fused = model._fused
    values, grads, variables = model._packed_trainables()
    reg_vars = [v for v in variables if getattr(v, "regularizer", None) is not None]
    optimizer = model.optimizer
    order = data.epoch_order(shuffle)
    out_shape = graph.outputs[0].shape
    # softmax + sparse cross-entropy on (N, C): the gradient without the loss value
    targets = None
    if fused and isinstance(loss_fn, losses.SparseCategoricalCrossentropy) and (
            len(out_shape) == 2 and data.y.ndim == 1):
        targets = SparseTargets(data.y, order, out_shape[-1], batch_size)
    outputs = EpochOutputs(data, order, loss_fn, model.compiled_metrics, tracker,
                           out_shape, defer_loss=targets is not None)
    want_begin = cbl.wants("on_train_batch_begin")
    want_end = cbl.wants("on_train_batch_end")
    # callbacks other than the progress bar may read the metrics themselves
    flush_each_step = want_end and any(
        not isinstance(c, ProgbarLogger) for c in cbl._batch["on_train_batch_end"])
    logs = _RunningLogs(model, outputs)
    position = 0
    scale_rows = scale = None  # the gradient's 1 / n for batches of n rows
    step = -1
    for step, (xs, y, sw) in enumerate(data.batches(batch_size, order=order)):
        if steps_per_epoch is not None and step >= steps_per_epoch:
            break
        if want_begin:
            cbl.on_train_batch_begin(step, None)
        out = graph.forward(xs, training=True)[0]
        outputs.add(out)
        n = out.shape[0]
        if targets is not None:
            # dL/dz = (p - onehot) * w / n, in the output's buffer (copied out above)
            np.subtract(out, targets.rows(position, n), out=out)
            if sw is not None:
                scale = losses._grad_scale(sw, (n,), out.dtype)
            elif n != scale_rows:
                scale_rows, scale = n, np.asarray(1.0 / n, dtype=out.dtype)
            np.multiply(out, scale, out=out)
            grad = out
        else:
            loss, grad = loss_fn.value_and_grad(y, out, sw, fused, True)
            if loss != loss or loss in (math.inf, -math.inf):
                raise_if_nonfinite_data(data)
            tracker.total += loss * n
            tracker.count += n
        position += n
        graph.backward([grad], fused)
        if reg_vars:
            penalty = 0.0
            for v in reg_vars:
                v.grad += v.regularizer.gradient(v.value)
                penalty += v.regularizer(v.value)
            tracker.total += penalty * n
        optimizer.apply_packed(values, grads)
        if want_end:
            if flush_each_step:
                outputs.flush()
            cbl.on_train_batch_end(step, logs)
        if model.stop_training:
            break
    outputs.flush()
    # an inf input behind a saturating activation (tanh, sigmoid) leaves the outputs
    # finite: it shows only in the weights, perhaps after the epoch's last output
    if not np.isfinite(np.add.reduce(values)):
        raise_if_nonfinite_data(data)
    return step + 1


def _train_epoch_iterable(model, data, batch_size, shuffle, cbl, tracker, steps_per_epoch):
    """Batches from a generator or dataset: each checked as it comes."""
    values = grads = graph = None
    optimizer = model.optimizer
    want_begin = cbl.wants("on_train_batch_begin")
    want_end = cbl.wants("on_train_batch_end")
    logs = _RunningLogs(model)
    step = -1
    for step, (xs, y, sw) in enumerate(data.batches(batch_size, shuffle)):
        if steps_per_epoch is not None and step >= steps_per_epoch:
            break
        if want_begin:
            cbl.on_train_batch_begin(step, None)
        y = _check_batch(model, xs, y)
        graph, fused, metrics = model._graph, model._fused, model.compiled_metrics
        if values is None:
            values, grads, variables = model._packed_trainables()
            reg_vars = [v for v in variables if getattr(v, "regularizer", None)]
        out = graph.forward(xs, training=True)[0]
        loss, grad = model.loss.value_and_grad(y, out, sw, fused, False)
        if loss != loss or loss in (math.inf, -math.inf):
            raise_if_nonfinite(xs)
        graph.backward([grad], fused)
        for v in reg_vars:
            v.grad += v.regularizer.gradient(v.value)
            loss += v.regularizer(v.value)
        optimizer.apply_packed(values, grads)
        n = out.shape[0]
        tracker.total += loss * n
        tracker.count += n
        for m in metrics:
            m.update_state(y, out)
        if want_end:
            cbl.on_train_batch_end(step, logs)
        if model.stop_training:
            break
    return step + 1


def _check_batch(model, xs, y):
    if y is None:
        raise ValueError("Training needs targets: the data yielded batches without `y`.")
    ensure_built(model, xs)
    check_input_shapes(model, [a.shape for a in xs])
    _check_single_output(model, "a dataset or generator")
    y = prepare_targets(model, y)
    _resolve_metrics(model, y)
    return y


def _check_single_output(model, what):
    if model._graph is not None and len(model._graph.outputs) > 1:
        raise NotImplementedError(
            f"Models with several outputs take their data as arrays in tinyann "
            f"(x, [y1, y2] or a dict of targets): {what} is not supported for them yet."
        )


def _chunk_size(model, batch_size):
    """Rows per evaluate/predict chunk: whole batches, a few MB per layer output."""
    widest = 1
    for t in [*model._graph.inputs, *[n.outputs[0] for n in _nodes(model)]]:
        widest = max(widest, math.prod(d or 1 for d in t.shape[1:]))
    rows = max(1, _CHUNK_ELEMENTS // widest)
    return max(batch_size, (rows // batch_size) * batch_size)


def _nodes(model):
    return [layer._inbound_nodes[0] for layer, _, _ in model._graph.steps
            if layer._inbound_nodes]


def _test_loop(model, data, batch_size, cbl, sample_weight_used=True):
    """Loss and metrics over ``data`` (no callbacks per batch unless asked), into the
    model's metrics (reset first, as Keras's evaluate does)."""
    _reset_metrics(model)
    tracker = model._loss_tracker
    spec = model._output_spec
    graph = model._graph
    per_batch = cbl.wants("on_test_batch_begin") or any(
        not isinstance(c, ProgbarLogger) for c in cbl._batch["on_test_batch_end"])
    chunk = batch_size if per_batch or not isinstance(data, data_module.ArrayData) else (
        _chunk_size(model, batch_size))
    checked = isinstance(data, data_module.ArrayData)
    # integer inputs (uint8 images) cannot hold NaN or inf
    probe = not checked or any(a.dtype.kind == "f" for a in data.xs)
    logs = _RunningLogs(model)
    step = 0
    for xs, y, sw in data.batches(chunk):
        if cbl.wants("on_test_batch_begin"):
            cbl.on_test_batch_begin(step, None)
        if not checked:
            y = _check_batch(model, xs, y)
        if probe:
            probe_finite(xs, getattr(data, "last_indices", None))
        outs = graph.forward(xs, training=False)
        n = outs[0].shape[0]
        if spec is None:
            tracker.total += _summed_loss(model.loss, y, outs[0], sw, n, xs, data)
            for m in model.compiled_metrics:
                m.update_state(y, outs[0])
        else:
            preds = [outs[i] for i in spec.order]
            for k, (loss_fn, weight) in enumerate(zip(spec.losses, spec.weights)):
                w_k = sw.arrays[k] if isinstance(sw, Targets) else sw
                total = _summed_loss(loss_fn, y.arrays[k], preds[k], w_k, n, xs, data)
                spec.loss_trackers[k].total += total
                spec.loss_trackers[k].count += n
                tracker.total += total if weight is None else total * weight
            if model._compile_metrics is not None:
                model._compile_metrics.update_state(y.arrays, preds)
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
    reg = sum(sum(layer.losses) for layer in model.layers)
    if reg:
        tracker.total += reg * tracker.count
    return tracker


def _summed_loss(loss_fn, y, out, sw, n, xs, data):
    """A chunk's loss summed over its samples (each sample's mean over inner axes):
    a running mean of per-batch ``sum_over_batch_size`` losses gives the same."""
    per_sample = loss_fn.call(y, out)
    if not np.isfinite(np.add.reduce(per_sample, axis=None)):
        raise_if_nonfinite(xs, getattr(data, "last_indices", None))
    if sw is not None:
        per_sample = per_sample * losses._broadcast_weight(sw, per_sample)
    return float(per_sample.sum()) / max(per_sample.size // n, 1)


# ---------------------------------------------------------------------- fit
def _make_data(model, x, y, sample_weight, class_weight, steps, what):
    if data_module.is_iterable_data(x):
        if y is not None:
            raise ValueError(
                f"`y` must be None when `x` is a dataset or generator. Received y of type "
                f"{type(y).__name__}"
            )
        if sample_weight is not None:
            raise ValueError(
                "`sample_weight` is not supported when `x` is a dataset or generator: "
                "yield (x, y, sample_weight) batches instead."
            )
        _check_single_output(model, "a dataset or generator")
        return data_module.IterableData(x, steps, class_weight=class_weight)
    if y is None:
        raise ValueError(f"`{what}()` needs targets: received x but y=None.")
    if sample_weight is not None and class_weight is not None:
        raise ValueError("You cannot `class_weight` and `sample_weight` at the same time.")
    xs = prepare_inputs(model, x)
    y = prepare_targets(model, y)
    sw = None if sample_weight is None else _sample_weights(sample_weight, model)
    data = data_module.ArrayData(xs, y, sw)
    if class_weight is not None:
        data.sample_weight = _class_weights(class_weight, y)
    return data


def _check_class_weight(model, class_weight):
    if class_weight is not None and model._output_spec is not None:
        raise ValueError("`class_weight` is only supported for Models with a single output.")


def _sample_weights(sample_weight, model=None):
    """One weight per sample (float32); for a model with several outputs also one
    array per output, as a list or a dict keyed by output name."""
    spec = None if model is None else model._output_spec
    if spec is not None and (isinstance(sample_weight, dict) or (
            isinstance(sample_weight, (list, tuple)) and len(sample_weight)
            and all(np.ndim(w) for w in sample_weight))):
        arrays = [_sample_weights(w) for w in
                  split_per_output(sample_weight, spec.names, "sample_weight")]
        n = arrays[0].shape[0]
        if any(a.shape[0] != n for a in arrays):
            raise ValueError(
                "Each output's `sample_weight` must have one weight per sample. Received "
                f"lengths {[a.shape[0] for a in arrays]} for outputs {spec.names}"
            )
        return Targets(arrays)
    sw = np.asarray(sample_weight)
    if sw.dtype.kind not in "biuf" or sw.ndim == 0:
        raise ValueError(
            "Expected `sample_weight` to be a numeric array with one weight per sample. "
            f"Received: {type(sample_weight).__name__} of shape {sw.shape}, dtype {sw.dtype}"
        )
    return sw.astype(backend.floatx(), copy=False)


def fit(model, x, y, batch_size, epochs, verbose, callbacks, validation_split,
        validation_data, shuffle, class_weight, sample_weight, initial_epoch,
        steps_per_epoch, validation_steps, validation_batch_size, validation_freq):
    verbose = _verbose(verbose)
    batch_size = data_module.check_batch_size(batch_size)
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"`epochs` must be a non-negative integer. Received: epochs={epochs!r}")
    if not isinstance(validation_split, (int, float)) or not 0 <= validation_split < 1:
        raise ValueError(
            "`validation_split` must be a float in [0, 1). "
            f"Received: validation_split={validation_split!r}"
        )
    if x is None:
        raise ValueError("`fit()` needs training data: received x=None.")
    if model._graph is None and not data_module.is_iterable_data(x):
        ensure_built(model, data_module.as_input_arrays(x))
    _require_compiled(model, "fit")
    _check_class_weight(model, class_weight)
    _check_validation_freq(validation_freq)
    split = validation_split and validation_data is None
    # Keras ignores validation_split when validation_data is given
    data = _make_data(model, x, y, sample_weight, None if split else class_weight,
                      steps_per_epoch, "fit")
    if split:
        if not isinstance(data, data_module.ArrayData):
            raise ValueError(
                "Argument `validation_split` is only supported for tensors or NumPy arrays. "
                f"Received: x of type {type(x).__name__}"
            )
        # the last fraction, before shuffling; class weights weigh the training part only
        data, validation = data.split(validation_split)
        if class_weight is not None:
            data.sample_weight = _class_weights(class_weight, data.y)
    val = None
    if validation_data is not None:
        val = _validation_source(model, validation_data, validation_steps)
    elif validation_split:
        val = validation
    if isinstance(data, data_module.ArrayData):
        _resolve_metrics(model, data.y)
    steps = (steps_per_epoch if steps_per_epoch is not None else data.num_steps(batch_size))
    cbl, history = _make_callbacks(model, callbacks, verbose, epochs=epochs, steps=steps)
    model.history = history
    model.stop_training = False
    val_batch_size = data_module.check_batch_size(validation_batch_size, batch_size)
    model._initial_epoch = None
    cbl.on_train_begin(None)
    # BackupAndRestore sets the epoch to resume from in on_train_begin, as in Keras
    initial_epoch = model._initial_epoch or initial_epoch
    model._initial_epoch = None
    data.epochs_ahead = epochs - initial_epoch
    # the batch-gathering thread hands over chunks sooner with a short GIL switch
    # interval (Python's default 5 ms stalls it behind the training loop)
    switch = sys.getswitchinterval()
    sys.setswitchinterval(min(switch, 2e-4))
    try:
        with flush_denormals():
            logs = _fit_epochs(model, data, val, batch_size, val_batch_size, epochs,
                               initial_epoch, shuffle, cbl, steps_per_epoch,
                               validation_freq)
    finally:
        sys.setswitchinterval(switch)
    cbl.on_train_end(logs)
    return history


def _fit_epochs(model, data, val, batch_size, val_batch_size, epochs, initial_epoch, shuffle,
                cbl, steps_per_epoch, validation_freq):
    logs = {}
    warned_nan = False
    for epoch in range(initial_epoch, epochs):
        _reset_metrics(model)
        tracker = model._loss_tracker
        cbl.on_epoch_begin(epoch, None)
        steps_run = _train_epoch(model, data, batch_size, shuffle, cbl, tracker,
                                 steps_per_epoch)
        if steps_run == 0:
            warnings.warn(
                "Your input ran out of data; interrupting training. Make sure that your "
                "dataset or generator can generate at least `steps_per_epoch * epochs` "
                "batches. You may need to use the `.repeat()` function when building your "
                "dataset.", UserWarning, stacklevel=3)
            break
        logs = model_logs(model)
        if val is not None and _should_validate(epoch, validation_freq):
            cbl.on_test_begin(None)
            _test_loop(model, val, val_batch_size, cbl)
            val_logs = model_logs(model)
            cbl.on_test_end(val_logs)
            logs = dict(sorted({**logs, **{"val_" + k: v for k, v in val_logs.items()}}.items()))
        # (a TerminateOnNaN that stopped the epoch has said it already)
        if not warned_nan and not model.stop_training and not np.isfinite(logs["loss"]):
            warned_nan = True
            warnings.warn(
                f"The training loss became {logs['loss']} in epoch {epoch + 1}: the weights "
                "are no longer usable. Lower the learning rate, or add "
                "keras.callbacks.TerminateOnNaN() to stop at once.", RuntimeWarning,
                stacklevel=3)
        cbl.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    return logs


def _should_validate(epoch, freq):
    if isinstance(freq, int):
        return (epoch + 1) % freq == 0
    return epoch + 1 in freq


def _check_validation_freq(freq):
    """An int >= 1 (every ``freq`` epochs) or a list of 1-based epochs, as Keras."""
    if isinstance(freq, (list, tuple)):
        if all(isinstance(e, (int, np.integer)) and not isinstance(e, bool) for e in freq):
            return
    elif isinstance(freq, (int, np.integer)) and not isinstance(freq, bool):
        if freq >= 1:
            return
        raise ValueError(
            f"`validation_freq` must be a positive integer. Received: validation_freq={freq}"
        )
    raise ValueError(
        "Expected `validation_freq` to be a list or int. "
        f"Received: validation_freq={freq} of the type {type(freq)}."
    )


def _validation_source(model, validation_data, validation_steps):
    if data_module.is_iterable_data(validation_data):
        _check_single_output(model, "validation data from a dataset or generator")
        return data_module.IterableData(validation_data, validation_steps)
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError(
            "`validation_data` must be a tuple (x_val, y_val) or (x_val, y_val, "
            f"val_sample_weight), or a dataset. Received: {type(validation_data).__name__}"
            + (f" of length {len(validation_data)}" if hasattr(validation_data, "__len__")
               else "")
        )
    vx, vy = validation_data[0], validation_data[1]
    vw = validation_data[2] if len(validation_data) == 3 else None
    return _make_data(model, vx, vy, vw, None, None, "fit")


# ---------------------------------------------------------------------- evaluate
def evaluate(model, x, y, batch_size, verbose, sample_weight, steps, callbacks, return_dict):
    verbose = _verbose(verbose)
    batch_size = data_module.check_batch_size(batch_size)
    if x is None:
        raise ValueError("`evaluate()` needs data: received x=None.")
    if model._graph is None and not data_module.is_iterable_data(x):
        ensure_built(model, data_module.as_input_arrays(x))
    _require_compiled(model, "evaluate")
    data = _make_data(model, x, y, sample_weight, None, steps, "evaluate")
    if isinstance(data, data_module.ArrayData):
        _resolve_metrics(model, data.y)
    num_steps = steps or data.num_steps(batch_size)
    cbl, _ = _make_callbacks(model, callbacks, verbose, steps=num_steps, test_steps=num_steps)
    cbl.on_test_begin(None)
    _test_loop(model, data, batch_size, cbl)
    logs = model_logs(model)
    cbl.on_test_end(logs)
    return _format_result(model, logs, return_dict)


# ---------------------------------------------------------------------- on_batch
def train_on_batch(model, x, y, sample_weight, class_weight, return_dict):
    xs = prepare_inputs(model, x)
    _require_compiled(model, "train_on_batch")
    _check_class_weight(model, class_weight)
    data = _make_data(model, xs, y, sample_weight, class_weight, None, "train_on_batch")
    _resolve_metrics(model, data.y)
    _reset_metrics(model)
    cbl = CallbackList([], model=model)
    _train_epoch(model, data, data.num_samples, False, cbl, model._loss_tracker)
    return _format_result(model, model_logs(model), return_dict)


def test_on_batch(model, x, y, sample_weight, return_dict):
    xs = prepare_inputs(model, x)
    _require_compiled(model, "test_on_batch")
    data = _make_data(model, xs, y, sample_weight, None, None, "test_on_batch")
    _resolve_metrics(model, data.y)
    _test_loop(model, data, data.num_samples, CallbackList([], model=model))
    return _format_result(model, model_logs(model), return_dict)


def _format_result(model, logs, return_dict):
    return logs if return_dict else _values_in_order(model, logs)
