"""``fit``, ``evaluate``, ``train_on_batch`` and ``test_on_batch``: the arguments
checked, the data adapters made, the callbacks around the epochs.

The path of ``fit``: ``Model.fit`` -> ``fit`` (checks, ``ArrayData`` or
``IterableData``, callbacks) -> per epoch ``train_epoch`` (``epoch_loop.py``) -> per
batch ``train_step`` (``train_step.py``); validation runs ``run_test_loop``
(``evaluating.py``). Everything that can be checked once per call (shapes, label
ranges, dtypes) is checked before the loop (``checks.py``).
"""

from __future__ import annotations

import contextlib
import sys
import warnings

import numpy as np

from tinyann import backend
from tinyann.callbacks.callback import CallbackList
from tinyann.callbacks.history import History
from tinyann.callbacks.progbar_logger import ProgbarLogger
from tinyann.trainers import data_adapters as adapters
from tinyann.trainers import half_batches
from tinyann.trainers.checks import (
    check_verbose,
    ensure_built,
    input_names,
    kept_dtypes,
    overrides_step,
    prepare_inputs,
    prepare_targets,
    require_compiled,
)
from tinyann.trainers.epoch_loop import train_epoch
from tinyann.trainers.evaluating import run_test_loop
from tinyann.trainers.logs import model_logs, reset_metrics, values_in_order
from tinyann.trainers.outputs import Targets, split_per_output
from tinyann.utils.denormals import flush_denormals


# ---------------------------------------------------------------------- callbacks
def make_callbacks(model, callbacks, verbose, **params):
    """The ``CallbackList`` of a call, with a ``History`` (and a progress bar when
    ``verbose``) added unless given; returns it and the History."""
    callbacks = list(callbacks or [])
    history = next((c for c in callbacks if isinstance(c, History)), None)
    if history is None:
        history = History()
        callbacks.append(history)
    if verbose and not any(isinstance(c, ProgbarLogger) for c in callbacks):
        callbacks.append(ProgbarLogger())
    return CallbackList(callbacks, model=model, verbose=verbose, **params), history


# ---------------------------------------------------------------------- data
def _make_data(model, state, x, y, sample_weight, class_weight, steps, what):
    """The data adapter for ``x`` (and ``y``, ``sample_weight``), checked."""
    if adapters.is_iterable_data(x):
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
        return adapters.IterableData(x, steps, class_weight=class_weight,
                                     input_names=lambda: input_names(model),
                                     kept=lambda: kept_dtypes(model))
    if y is None and model._graph is None and overrides_step(model, what):
        # a model that steps itself and has no graph (a VAE): its step gets x alone
        return adapters.ArrayData(adapters.as_input_arrays(x), None, None)
    if y is None:
        raise ValueError(f"`{what}()` needs targets: received x but y=None.")
    if sample_weight is not None and class_weight is not None:
        raise ValueError("You cannot `class_weight` and `sample_weight` at the same time.")
    xs = prepare_inputs(model, x)
    y = prepare_targets(model, y)
    sw = None if sample_weight is None else _sample_weights(sample_weight, state.output_spec)
    data = adapters.ArrayData(xs, y, sw, kept_dtypes(model))
    if class_weight is not None:
        data.sample_weight = adapters.class_weight_to_sample_weights(class_weight, y)
    # the metrics' shapes and the fusion are known from the first (here: all) targets
    state.build(model, y)
    return data


def _check_class_weight(state, class_weight):
    if class_weight is not None and state.output_spec is not None:
        raise ValueError("`class_weight` is only supported for Models with a single output.")


def _sample_weights(sample_weight, spec=None):
    """One weight per sample (float32); for a model with several outputs (``spec``)
    also one array per output, as a list or a dict keyed by output name."""
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


def _start(model, x, what):
    """Builds the model from ``x`` if it can, and returns its ``CompileState``."""
    if x is None:
        raise ValueError(f"`{what}()` needs {'training ' if what == 'fit' else ''}data: "
                         "received x=None.")
    if model._graph is None and not adapters.is_iterable_data(x) and not (
            what == "fit" and _steps_itself(model)):
        ensure_built(model, adapters.as_input_arrays(x),
                     sorted(x) if isinstance(x, dict) else None)
    return require_compiled(model, what)


def _steps_itself(model) -> bool:
    """A model with its own ``train_step`` and no ``call`` of its own (Deep Learning
    with Python's VAE and GAN): Keras fits it without building it; its step calls the
    models it holds."""
    return not getattr(model, "_subclassed", False) and overrides_step(model, "fit")


# ---------------------------------------------------------------------- fit
@contextlib.contextmanager
def training_settings():
    """The process-wide settings of a training call, restored after it (also when it
    raises): a short GIL switch interval, so the batch-gathering thread hands over
    chunks sooner (Python's default 5 ms stalls it behind the training loop), and
    denormal floats flushed to zero."""
    switch = sys.getswitchinterval()
    sys.setswitchinterval(min(switch, 2e-4))
    try:
        with flush_denormals():
            yield
    finally:
        sys.setswitchinterval(switch)


def fit(model, *, x, y, batch_size, epochs, verbose, callbacks, validation_split,
        validation_data, shuffle, class_weight, sample_weight, initial_epoch,
        steps_per_epoch, validation_steps, validation_batch_size, validation_freq):
    """``Model.fit`` (see its docstring): returns the ``History``."""
    verbose = check_verbose(verbose)
    batch_size = adapters.check_batch_size(batch_size)
    if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
        raise ValueError(f"`epochs` must be a non-negative integer. Received: epochs={epochs!r}")
    if not isinstance(validation_split, (int, float)) or not 0 <= validation_split < 1:
        raise ValueError(
            "`validation_split` must be a float in [0, 1). "
            f"Received: validation_split={validation_split!r}"
        )
    state = _start(model, x, "fit")
    _check_class_weight(state, class_weight)
    _check_validation_freq(validation_freq)
    split = validation_split and validation_data is None
    # Keras ignores validation_split when validation_data is given
    data = _make_data(model, state, x, y, sample_weight, None if split else class_weight,
                      steps_per_epoch, "fit")
    val = None
    if split:
        if not data.in_memory:
            raise ValueError(
                "Argument `validation_split` is only supported for tensors or NumPy arrays. "
                f"Received: x of type {type(x).__name__}"
            )
        # the last fraction, before shuffling; class weights weigh the training part only
        data, val = data.split(validation_split)
        if class_weight is not None:
            data.sample_weight = adapters.class_weight_to_sample_weights(class_weight, data.y)
    elif validation_data is not None:
        val = _validation_source(model, state, validation_data, validation_steps)
    steps = (steps_per_epoch if steps_per_epoch is not None else data.num_steps(batch_size))
    cbl, history = make_callbacks(model, callbacks, verbose, epochs=epochs, steps=steps)
    model.history = history
    model.stop_training = False
    val_batch_size = adapters.check_batch_size(validation_batch_size, batch_size)
    model._initial_epoch = None
    cbl.on_train_begin({})
    # BackupAndRestore sets the epoch to resume from in on_train_begin, as in Keras
    initial_epoch = model._initial_epoch or initial_epoch
    model._initial_epoch = None
    data.epochs_ahead = epochs - initial_epoch
    state.half_batches = half_batches.applies(model, batch_size)
    try:
        one_blas_thread = state.half_batches or half_batches.has_recurrent_chunks(model)
        with training_settings(), half_batches.blas_one_thread(one_blas_thread):
            logs = _fit_epochs(model, state, data, val, batch_size, val_batch_size, epochs,
                               initial_epoch, shuffle, cbl, steps_per_epoch,
                               validation_freq)
    finally:
        state.half_batches, state.half_batch_runner = False, None
    cbl.on_train_end(logs)
    return history


def _fit_epochs(model, state, data, val, batch_size, val_batch_size, epochs, initial_epoch,
                shuffle, cbl, steps_per_epoch, validation_freq):
    logs = {}
    warned_nan = False
    for epoch in range(initial_epoch, epochs):
        reset_metrics(model)
        cbl.on_epoch_begin(epoch, {})
        steps_run = train_epoch(model, state, data, batch_size, shuffle, cbl, steps_per_epoch)
        if steps_run == 0:
            warnings.warn(
                "Your input ran out of data; interrupting training. Make sure that your "
                "dataset or generator can generate at least `steps_per_epoch * epochs` "
                "batches. You may need to use the `.repeat()` function when building your "
                "dataset.", UserWarning, stacklevel=3)
            break
        # a user's train_step: its last logs, as Keras (else the metrics' results)
        logs = model.__dict__.pop("_user_step_logs", None) or model_logs(model)
        if val is not None and _should_validate(epoch, validation_freq):
            cbl.on_test_begin({})
            run_test_loop(model, state, val, val_batch_size, cbl)
            val_logs = model.__dict__.pop("_user_step_logs", None) or model_logs(model)
            cbl.on_test_end(val_logs)
            logs = dict(sorted({**logs, **{"val_" + k: v for k, v in val_logs.items()}}.items()))
        # (a TerminateOnNaN that stopped the epoch has said it already)
        if not warned_nan and not model.stop_training and not np.isfinite(logs.get("loss", 0.0)):
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


def _validation_source(model, state, validation_data, validation_steps):
    if adapters.is_iterable_data(validation_data):
        return adapters.IterableData(validation_data, validation_steps,
                                     input_names=lambda: input_names(model),
                                     kept=lambda: kept_dtypes(model))
    if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
        raise ValueError(
            "`validation_data` must be a tuple (x_val, y_val) or (x_val, y_val, "
            f"val_sample_weight), or a dataset. Received: {type(validation_data).__name__}"
            + (f" of length {len(validation_data)}" if hasattr(validation_data, "__len__")
               else "")
        )
    vx, vy = validation_data[0], validation_data[1]
    vw = validation_data[2] if len(validation_data) == 3 else None
    return _make_data(model, state, vx, vy, vw, None, None, "fit")


# ---------------------------------------------------------------------- evaluate
def evaluate(model, *, x, y, batch_size, verbose, sample_weight, steps, callbacks,
             return_dict):
    """``Model.evaluate``: ``[loss, *metrics]`` (one value alone), or a dict."""
    verbose = check_verbose(verbose)
    batch_size = adapters.check_batch_size(batch_size)
    state = _start(model, x, "evaluate")
    data = _make_data(model, state, x, y, sample_weight, None, steps, "evaluate")
    num_steps = steps or data.num_steps(batch_size)
    cbl, _ = make_callbacks(model, callbacks, verbose, epochs=1, steps=num_steps)
    cbl.on_test_begin({})
    run_test_loop(model, state, data, batch_size, cbl)
    logs = model.__dict__.pop("_user_step_logs", None) or model_logs(model)
    cbl.on_test_end(logs)
    return _format_result(model, logs, return_dict)


# ---------------------------------------------------------------------- on_batch
def train_on_batch(model, *, x, y, sample_weight, class_weight, return_dict):
    xs = prepare_inputs(model, x)
    state = require_compiled(model, "train_on_batch")
    _check_class_weight(state, class_weight)
    data = _make_data(model, state, xs, y, sample_weight, class_weight, None,
                      "train_on_batch")
    reset_metrics(model)
    train_epoch(model, state, data, data.num_samples, False, CallbackList([], model=model))
    return _format_result(model, model_logs(model), return_dict)


def test_on_batch(model, *, x, y, sample_weight, return_dict):
    xs = prepare_inputs(model, x)
    state = require_compiled(model, "test_on_batch")
    data = _make_data(model, state, xs, y, sample_weight, None, None, "test_on_batch")
    run_test_loop(model, state, data, data.num_samples, CallbackList([], model=model))
    return _format_result(model, model_logs(model), return_dict)


def _format_result(model, logs, return_dict):
    return logs if return_dict else values_in_order(model, logs)
