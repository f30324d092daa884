"""A model called on values while a GradientTape records: one recorded node whose
gradient is the graph's hand-written backward, or, when a step runs a user's own
``call`` (keras.ops), the graph step by step on Tensors so that the user's ops record
themselves on the caller's tape."""

from __future__ import annotations

import numpy as np

from tinyann import backend
from tinyann.autodiff import Tensor
from tinyann.autodiff.tape import labelled
from tinyann.layers import added_losses
from tinyann.layers.layer import output_activation
from tinyann.layers.taped_call import taped_call
from tinyann.layers.taped_packing import taped_multi_call
from tinyann.trainers import checks, predicting
from tinyann.trainers.data_adapters.inputs import as_declared, flatten_inputs, is_float_dtype
from tinyann.trainers.train_step import _per_slot as _summed
from tinyann.variables import structure_version


def call_on_tape(model, inputs, arrays, training):
    """``model(inputs)`` with a tape open (``arrays``: the inputs as arrays): its
    output Tensor(s), recorded."""
    graph = model._graph
    plan = model.__dict__.get("_tape_plan")
    version = structure_version()
    if plan is None or plan["version"] != version or plan["graph"] is not graph:
        # what the graph runs on a tape, found again only when the model changes
        # (a dict: the tape's copies of layer caches leave dicts out)
        plan = model.__dict__["_tape_plan"] = {
            "version": version, "graph": graph, "user_code": _runs_user_code(graph),
            "activation": output_activation(model)}
    if plan["user_code"]:
        # Keras's eager semantics: the user's ops (and their add_loss terms) are
        # recorded on the caller's tape, the built-in layers as one node each
        operands = flatten_inputs(inputs, checks.input_names(model))
        return predicting.as_structure(model, _steps_on_tape(graph, operands, training))
    kept = checks.kept_dtypes(model)
    if len(arrays) == 1 and len(graph.output_slots) == 1 and kept is None:
        # one recorded node whose gradient is the graph's backward
        run = (lambda a: graph.forward([a], training=True)[0]) if training else (
            lambda a: graph.forward_frozen([a])[0])
        activation = plan["activation"]
        return taped_call(model, inputs, arrays[0], run,
                          lambda g: graph.backward([g])[0], (activation, lambda dz: (
                              graph.backward([dz], first_preactivation=True)[0]))
                          if activation else None, label=model._tape_label())
    # several inputs or outputs: still one node, packed (else the weights'
    # gradients would be None)
    run = (lambda xs: graph.forward(xs, training=True)) if training else (
        graph.forward_frozen)
    operands = flatten_inputs(inputs, checks.input_names(model))
    backward = lambda gs: graph.backward(_summed(graph, gs))  # noqa: E731
    if kept is not None:
        operands, arrays, run, backward = _float_operands(kept, operands, arrays, run,
                                                          backward)
    with labelled(model._tape_label()):
        outs = taped_multi_call(model, operands, arrays, run, backward)
    return predicting.as_structure(model, outs)


def _runs_user_code(graph) -> bool:
    """Whether a step of ``graph`` (or of a model inside it) runs a user's ``call`` on
    values (keras.ops) at each step."""
    for layer, _, _ in graph.steps:
        if getattr(layer.__dict__.get("call"), "runs_user_code", False):
            return True
        inner = getattr(layer, "_graph", None)
        if inner is not None and inner is not graph and _runs_user_code(inner):
            return True
    return False


def _float_operands(kept, operands, arrays, run, backward):
    """``taped_multi_call``'s arguments for a model with int or string inputs
    (``kept``, see checks.kept_dtypes): only the float inputs are recorded operands
    (the others get no gradient, as in Keras), the rest are constants of ``run``; a
    model without float inputs records a zero column for the batch size."""
    floats = [i for i, d in enumerate(kept) if d is None]
    fixed = list(arrays)

    def typed_run(float_arrays):
        full = list(fixed)
        for i, a in zip(floats, float_arrays):
            full[i] = a
        return run(full)

    def typed_backward(grads):
        full = backward(grads)
        return [full[i] for i in floats] if floats else [None]

    if not floats:
        placeholder = np.zeros((arrays[0].shape[0], 1), dtype=backend.floatx())
        return [placeholder], [placeholder], typed_run, typed_backward
    return ([operands[i] for i in floats], [arrays[i] for i in floats], typed_run,
            typed_backward)


def _steps_on_tape(graph, operands, training) -> list:
    """The graph run step by step on Tensors (each step recorded on the open tapes);
    the outputs in the graph's order."""
    floatx = backend.floatx()
    values = {i: x if isinstance(x, Tensor) or hasattr(x, "trainable") else Tensor(
        np.asarray(x, dtype=floatx) if is_float_dtype(t.dtype) else as_declared(x, t.dtype))
        for i, (x, t) in enumerate(zip(operands, graph.inputs))}
    for (layer, ins, out), node in zip(graph.steps, graph.nodes):
        mode = bool(training) if node.training is None else node.training
        args = [values[i] for i in ins]
        x = args[0] if len(args) == 1 else args
        if getattr(layer.__dict__.get("call"), "runs_user_code", False):
            with added_losses.outermost_call(layer):
                values[out] = layer.call(x, training=mode)
        else:
            values[out] = layer(x, training=mode)
    return [values[i] for i in graph.output_slots]
