"""Checks made once per call of fit / evaluate / predict: the model is built and
compiled, the inputs fit its layers, the targets fit its loss and output.

Each raises Keras's message (what was expected, what was received) where the user's
mistake is, before any batch runs.
"""

from __future__ import annotations

import numpy as np

from tinyann import backend, losses
from tinyann.trainers.data_adapters import as_input_arrays, as_target_array
from tinyann.trainers.data_adapters.inputs import is_float_dtype
from tinyann.trainers.outputs import Targets, _check_same_length, split_per_output


def check_verbose(verbose):
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2, True, False):
        raise ValueError(f"`verbose` must be 0, 1, 2 or 'auto'. Received: verbose={verbose!r}")
    return int(verbose)


def ensure_built(model, xs, keys=None):
    """Builds a Sequential without an input shape, or a subclassed model, from the
    first data it sees (``keys``: the sorted keys of a dict of inputs, which a
    subclassed model's ``call`` then gets as a dict)."""
    if model._graph is None:
        if getattr(model, "_subclassed", False):
            shapes = [(None,) + a.shape[1:] for a in xs]
            if keys is not None:
                model._trace(shapes, keys)
                model.built = True
            else:
                model.build(shapes)
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
        shape = layer.compute_output_shape(in_shape)
        if isinstance(out, tuple):  # one shape per output
            for slot, one in zip(out, shape):
                slot_shapes[slot] = one
        else:
            slot_shapes[out] = shape
    return [slot_shapes[i] for i in graph.output_slots]


def input_names(model):
    """The names a dict of inputs is keyed by, in the graph's input order: the keys
    of a model made on a dict of inputs, else its ``Input`` layers' names (None
    while the model has no graph)."""
    graph = model._graph
    if graph is None:
        return None
    struct = getattr(model, "_inputs_struct", None)
    if isinstance(struct, dict) and len(struct) == len(graph.inputs):
        return sorted(struct)  # the graph's inputs are the dict's in sorted key order
    return [t.node.layer.name if t.node is not None else t.name for t in graph.inputs]


def kept_dtypes(model):
    """The declared dtypes of the model's int, bool and string inputs, one entry per
    input (None for a float one); None when all are float (or no graph yet)."""
    graph = model._graph
    if graph is None:
        return None
    dtypes = [None if is_float_dtype(t.dtype) else t.dtype for t in graph.inputs]
    return dtypes if any(d is not None for d in dtypes) else None


def prepare_inputs(model, x, what="x"):
    xs = as_input_arrays(x, what, input_names(model), kept_dtypes(model))
    ensure_built(model, xs)
    check_input_shapes(model, [a.shape for a in xs])
    return xs


def require_compiled(model, what):
    """The model's ``CompileState``, its outputs resolved if the model has its graph."""
    state = model._compile_state
    if state is None:
        raise ValueError(
            f"You must call `compile()` before using the model in `{what}()`. "
            f"Model: '{model.name}'"
        )
    own_step = overrides_step(model, what)
    if state.loss is None and not own_step:
        # (a user's train_step / test_step computes its own loss, as Keras allows)
        raise ValueError(
            "No loss to compute. Provide a `loss` argument in `compile()`. "
            f"Model: '{model.name}'"
        )
    if model._graph is not None or not own_step:
        state.resolve_outputs(model)
    return state


_STEPS = {"fit": "train_step", "evaluate": "test_step", "predict": "predict_step"}


def overrides_step(model, what) -> bool:
    """Whether the model's class defines the step of ``what`` itself (``train_step``
    for fit, ``test_step`` for evaluate...)."""
    name = _STEPS.get(what)
    return name is not None and any(name in vars(k) for k in type(model).__mro__
                                    if not k.__module__.startswith("tinyann."))


def prepare_targets(model, y):
    """Checks targets against the loss and the output once; returns them ready to use
    (``Targets`` for a model with several outputs)."""
    state = model._compile_state
    state.resolve_outputs(model)
    spec = state.output_spec
    if spec is None:
        return _prepare_target(state.loss, model._graph.outputs[0].shape, y)
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
    y = as_target_array(y)
    classes = out_shape[-1]
    if isinstance(loss, (losses.SparseCategoricalCrossentropy,
                         losses.CategoricalGeneralizedCrossEntropy)):
        # (both take class indices)
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
