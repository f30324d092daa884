"""``clone_model``: the same architecture with new layers (new weights, not compiled)."""

from __future__ import annotations

from tinyann.layers.input_layer import Input, InputLayer
from tinyann.layers.keras_tensor import KerasTensor, flatten
from tinyann.models.model import Model
from tinyann.models.sequential import Sequential
from tinyann.saving.config import _graph_order


def _default_clone(layer):
    return type(layer).from_config(layer.get_config())


def clone(model, input_tensors=None, clone_function=None):
    """See ``tinyann.models.clone_model``."""
    if not isinstance(model, Model):
        raise ValueError(
            "Arguments `model` must be a Keras model instance. "
            f"Received: model={model!r}")
    clone_function = clone_function or _default_clone

    def clone_layer(layer):
        if isinstance(layer, Model):
            return clone(layer, clone_function=clone_function)
        new = clone_function(layer)
        if not callable(new) or not hasattr(new, "get_config"):
            raise ValueError(f"`clone_function` must return a layer. Received: {new!r}")
        return new

    if isinstance(model, Sequential):
        layers = [clone_layer(layer) for layer in model.layers]
        if input_tensors is not None:
            tensors = flatten(input_tensors)
            if len(tensors) != 1 or not isinstance(tensors[0], KerasTensor):
                raise ValueError(
                    "To clone a `Sequential` model, pass a single `Input` tensor as "
                    f"`input_tensors`. Received: {input_tensors!r}")
            layers = [tensors[0]] + layers
        elif model._input_layer is not None:
            layers = [Input(batch_shape=model._input_layer.batch_shape,
                            dtype=model._input_layer.dtype,
                            name=model._input_layer.name)] + layers
        return Sequential(layers, name=model.name, trainable=model.trainable)
    if model._graph is None:
        raise ValueError(f"Model '{model.name}' has no graph to clone; build it first.")
    new_inputs = _new_inputs(model, input_tensors)
    tensor_map = {id(old): new for old, new in zip(model.inputs, flatten(new_inputs))}
    new_layers = {}
    layers, own_nodes = _graph_order(model)
    nodes = [node for layer in layers for node in layer._inbound_nodes
             if id(node) in own_nodes and node.inputs]
    pending = list(nodes)
    while pending:
        progressed = False
        for node in list(pending):
            if not all(id(t) in tensor_map for t in node.inputs):
                continue
            layer = node.layer
            if id(layer) not in new_layers:
                new_layers[id(layer)] = clone_layer(layer)
            args = [tensor_map[id(t)] for t in node.inputs]
            kwargs = {}
            # tensors given as keyword arguments (initial_state=[h, c]): the last inputs
            for key, (count, as_list) in reversed(list(node.tensor_kwargs.items())):
                kwargs[key] = args[-count:] if as_list else args[-1]
                args = args[:-count]
            out = new_layers[id(layer)](args[0] if len(args) == 1 else args,
                                        training=node.training, **kwargs)
            for old, new in zip(node.outputs, flatten(out)):
                tensor_map[id(old)] = new
            pending.remove(node)
            progressed = True
        if not progressed:  # pragma: no cover - the model's own graph is connected
            raise ValueError(f"Could not clone the graph of model '{model.name}'.")
    outputs = _map(model._outputs_struct, tensor_map)
    return Model(new_inputs, outputs, name=model.name, trainable=model.trainable)


def _new_inputs(model, input_tensors):
    if input_tensors is None:
        made = [Input(batch_shape=t.shape, dtype=t.dtype, name=t.node.layer.name)
                for t in model.inputs]
        return _restructure(model._inputs_struct, made)
    given = flatten(input_tensors)
    if len(given) != len(model.inputs) or not all(
            isinstance(t, KerasTensor) and isinstance(t.node.layer, InputLayer) for t in given):
        raise ValueError(
            f"`input_tensors` must be {len(model.inputs)} `Input` tensor(s), as the model's "
            f"inputs. Received: {input_tensors!r}")
    return _restructure(model._inputs_struct, given)


def _restructure(structure, flat):
    items = iter(flat)

    def build(s):
        if isinstance(s, KerasTensor):
            return next(items)
        if isinstance(s, dict):
            return {k: build(v) for k, v in s.items()}
        return [build(v) for v in s]

    return build(structure)


def _map(structure, tensor_map):
    if isinstance(structure, KerasTensor):
        return tensor_map[id(structure)]
    if isinstance(structure, dict):
        return {k: _map(v, tensor_map) for k, v in structure.items()}
    return [_map(v, tensor_map) for v in structure]
