"""Checks made once per call of fit / evaluate / predict: the model is built and
compiled, the inputs fit its layers, the targets fit its loss and output.

Each raises Keras's message (what was expected, what was received) where the user's
mistake is, before any batch runs.
"""

from __future__ import annotations

import numpy as np

from tinyann import backend, losses
from tinyann import metrics as metrics_module
from tinyann.models import data as data_module
from tinyann.models.outputs import (
    Targets,
    _check_same_length,
    resolve_outputs,
    split_per_output,
)


def _verbose(verbose):
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2, True, False):
        raise ValueError(f"`verbose` must be 0, 1, 2 or 'auto'. Received: verbose={verbose!r}")
    return int(verbose)


def ensure_built(model, xs):
    """Builds a Sequential without an input shape, or a subclassed model, from the
    first data it sees."""
    if model._graph is None:
        if getattr(model, "_subclassed", False):
            model.build([(None,) + a.shape[1:] for a in xs])
            return
        if not hasattr(model, "_build_from_shape"):
            raise ValueError(f"The model '{model.name}' has no layers graph to run.")
        model._build_from_shape((None,) + xs[0].shape[1:])


def check_input_shapes(model, shapes):
    """Raises Keras's message at the first layer that cannot take these input shapes."""
    graph = model._graph
    if len(shapes) != len(graph.inputs):
        raise ValueError(
            f"Model '{model.name}' expects {len(graph.inputs)} input(s), but it received "
            f"{len(shapes)} input arrays."
        )
    slot_shapes = [None] * graph.num_slots
    for i, (shape, tensor) in enumerate(zip(shapes, graph.inputs)):
        shape = tuple(shape)  # the real batch size, so errors show the shape received
        expected = tensor.shape
        if len(expected) != len(shape) or any(
                e is not None and e != s for e, s in zip(expected[1:], shape[1:])):
            # the layers decide; Keras only warns at the model's input
            slot_shapes[i] = shape
        else:
            slot_shapes[i] = shape
    for layer, ins, out in graph.steps:
        in_shape = slot_shapes[ins[0]] if len(ins) == 1 else [slot_shapes[i] for i in ins]
        if len(ins) == 1:
            layer._check_input(in_shape)
        slot_shapes[out] = layer.compute_output_shape(in_shape)
    return [slot_shapes[i] for i in graph.output_slots]


def prepare_inputs(model, x, what="x"):
    xs = data_module.as_input_arrays(x, what)
    ensure_built(model, xs)
    check_input_shapes(model, [a.shape for a in xs])
    return xs


def _require_compiled(model, what):
    if not model.compiled:
        raise ValueError(
            f"You must call `compile()` before using the model in `{what}()`. "
            f"Model: '{model.name}'"
        )
    if model.loss is None:
        raise ValueError(
            "No loss to compute. Provide a `loss` argument in `compile()`. "
            f"Model: '{model.name}'"
        )
    if model._graph is not None:
        resolve_outputs(model)


def prepare_targets(model, y):
    """Checks targets against the loss and the output once; returns them ready to use
    (``Targets`` for a model with several outputs)."""
    resolve_outputs(model)
    spec = model._output_spec
    if spec is None:
        return _prepare_target(model.loss, model._graph.outputs[0].shape, y)
    arrays = split_per_output(y, spec.names, "y")
    prepared = []
    for name, index, loss, arr in zip(spec.names, spec.order, spec.losses, arrays):
        try:
            prepared.append(_prepare_target(loss, model._graph.outputs[index].shape, arr))
        except ValueError as e:
            raise ValueError(f"Targets for output '{name}': {e}") from None
    _check_same_length(prepared, spec.names, "y")
    return Targets(prepared)


def _prepare_target(loss, out_shape, y):
    if isinstance(loss, losses.WeightedLoss):
        loss = loss.loss  # checked as the loss it weighs
    y = data_module.as_target_array(y)
    classes = out_shape[-1]
    if isinstance(loss, losses.SparseCategoricalCrossentropy):
        y_checked = losses._sparse_labels_shape(y, np.empty((y.shape[0],) + out_shape[1:],
                                                            dtype="float32"))
        return losses._check_sparse_labels(y_checked, classes, loss.name)
    if isinstance(loss, losses.CategoricalCrossentropy):
        if y.ndim != len(out_shape) or y.shape[-1] != classes:
            hint = ""
            if y.ndim == len(out_shape) - 1 or (y.ndim == len(out_shape) and y.shape[-1] == 1):
                hint = (" Integer labels need loss='sparse_categorical_crossentropy', or "
                        "one-hot encode them with keras.utils.to_categorical.")
            raise ValueError(
                f"Targets for categorical_crossentropy must be one-hot of width {classes} "
                f"(the model's output). Received: targets of shape {y.shape}.{hint}"
            )
    elif y.ndim == len(out_shape) - 1 and classes == 1:
        y = y[..., None]
    elif y.shape[1:] != tuple(out_shape[1:]):
        raise ValueError(
            f"Targets of shape {y.shape} do not match the model's output shape "
            f"{out_shape} for loss '{loss.name}'."
        )
    return y.astype(backend.floatx(), copy=False)


def _resolve_metrics(model, y):
    """Builds the compiled metrics (and the per-output loss trackers) from the first
    targets, as Keras builds them at the first batch."""
    resolve_outputs(model)
    spec = model._output_spec
    cm = model._compile_metrics
    if spec is None:
        if cm is not None and not cm.built:
            cm.build([y.shape], [model._graph.outputs[0].shape])
        model._fused = _is_fused(model)
    else:
        if cm is not None and not cm.built:
            cm.build([a.shape for a in y.arrays],
                     [model._graph.outputs[i].shape for i in spec.order])
        if not spec.loss_trackers:
            spec.loss_trackers = [metrics_module.Mean(name=f"{n}_loss") for n in spec.names]
        model._fused = False
    model.compiled_metrics = cm.metrics if cm is not None else []


def _is_fused(model) -> bool:
    """Softmax (sigmoid) output + categorical (binary) cross-entropy on probabilities."""
    loss = model.loss
    last = model._graph.steps[-1][0] if model._graph.steps else None
    activation = getattr(last, "activation", None)
    return bool(
        loss.fused_activation and not getattr(loss, "from_logits", False)
        and activation is not None and getattr(activation, "name", None) == loss.fused_activation
        and hasattr(last, "backward_preactivation")
    )
