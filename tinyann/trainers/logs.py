"""The logs callbacks, History and ``evaluate`` get, read from the model's metrics in
Keras 3's form: the loss tracker, the ``CompileMetrics`` and, with several outputs,
one ``<output>_loss`` tracker per output.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from tinyann import metrics as metrics_module


class RunningLogs(Mapping):
    """The running means of this epoch, computed only when read (progress bar redraws)."""

    def __init__(self, model, outputs=None):
        self.model = model
        self.outputs = outputs  # EpochOutputs still to be counted, if any

    def _dict(self):
        if self.outputs is not None:
            self.outputs.flush()
        return model_logs(self.model)

    def __getitem__(self, key):
        if key == "loss":
            if self.outputs is not None:
                self.outputs.flush()
            return float(metrics_module.result_value(
                self.model._compile_state.loss_tracker))
        return self._dict()[key]

    def __iter__(self):
        return iter(self._dict())

    def __len__(self):
        return len(self._dict())


def python_logs(returned) -> dict:
    """What a user's ``train_step`` / ``test_step`` returned as logs of Python floats:
    Tensors and arrays as floats, a nested dict (``CompileMetrics.result()`` in
    ``{m.name: m.result() for m in self.metrics}``) flattened into its entries, as
    Keras does."""
    logs = {}
    for key, value in returned.items():
        if isinstance(value, Mapping):
            logs.update(python_logs(value))
        else:
            logs[key] = float(np.asarray(value))
    return logs


def metrics_result(model) -> dict:
    """``get_metrics_result()``: each of ``model.metrics``'s results, a
    ``CompileMetrics`` contributing one entry per metric."""
    found = {}
    for m in model.metrics:
        value = metrics_module.result_value(m)
        if isinstance(value, dict):
            found.update(value)
        else:
            found[m.name] = float(value)
    return found


def model_logs(model, prefix="") -> dict:
    """The logs callbacks and History get: ``metrics_result`` with its keys sorted, as
    Keras 3 gives them (``accuracy``, ``loss``; ``out_a_accuracy``, ``out_a_loss``...)."""
    state = model._compile_state
    if state.metrics is not None and not state.metrics.built:
        # before the first data (Keras raises here): the loss alone
        return {prefix + "loss": float(metrics_module.result_value(state.loss_tracker))}
    return {prefix + k: v for k, v in sorted(metrics_result(model).items())}


def values_in_order(model, logs):
    """evaluate()'s list, as Keras 3 orders it: the names of ``model.metrics`` (a
    CompileMetrics by its metrics' own names) found in the logs, then the other keys
    sorted. A single value alone."""
    names = []
    for m in model.metrics:
        if isinstance(m, metrics_module.CompileMetrics):
            names.extend(sub.name for sub in m.metrics)
        else:
            names.append(m.name)
    values = [logs[n] for n in names if n in logs]
    values += [logs[k] for k in sorted(logs) if k not in names]
    return values[0] if len(values) == 1 else values


def reset_metrics(model):
    for m in model.metrics:
        m.reset_state()
