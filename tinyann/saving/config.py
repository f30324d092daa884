"""Model configs in Keras 3's JSON form, and models rebuilt from them.

``serialize_model(model)`` gives what Keras writes in a ``.keras`` file's
``config.json`` (and ``model.to_json()``): ``{"module", "class_name", "config",
"registered_name", "build_config", "compile_config"}``. A Sequential's config
lists its layers; a functional model's config lists them in Keras's order with
the calls (``inbound_nodes``) that connect them.

Rebuilding never runs code from the config: class names resolve to tinyann's
layers and models or to objects the program registered (see ``registry``).
"""

from __future__ import annotations

import inspect

from tinyann.layers.input_layer import InputLayer
from tinyann.layers.keras_tensor import KerasTensor
from tinyann.saving import objects, registry
from tinyann.saving.errors import InvalidFileError


# ---------------------------------------------------------------- Keras's layer order
# saving sits below the models (Model.save calls it): it knows a model by its duck
# type, never importing tinyann.models; the classes come from the layer registry
def is_model(obj) -> bool:
    """Whether ``obj`` (an instance or a class) is a model: it has a layer graph."""
    return hasattr(obj, "_set_graph")


def _is_sequential(obj) -> bool:
    return getattr(obj, "_sequential", False)


def _is_functional(layer) -> bool:
    return is_model(layer) and not _is_sequential(layer)


def keras_layers(model) -> list:
    """``model.layers`` in Keras's order: a Sequential's stack (no InputLayer); a
    subclassed model's tracked layers; a functional model's layers by decreasing depth
    from the outputs, ties in the order a depth-first walk from the outputs first
    meets them (Keras's ``map_graph``)."""
    if _is_sequential(model) or getattr(model, "_subclassed", False):
        return list(model.layers)
    if model._graph is None:
        return []
    return _graph_order(model)[0]


def _graph_order(model):
    """(layers in Keras's order, the set of ids of the model's nodes)."""
    finished, in_progress, ordered, first_seen = set(), set(), [], {}

    def visit(node):
        if id(node) in finished:
            return
        if id(node) in in_progress:
            raise ValueError(f"The graph of model '{model.name}' has a cycle.")
        first_seen.setdefault(id(node.layer), len(first_seen))
        in_progress.add(id(node))
        for t in node.inputs:
            if t.node is not None:
                visit(t.node)
        in_progress.discard(id(node))
        finished.add(id(node))
        ordered.append(node)

    for t in model.outputs:
        visit(t.node)
    node_depth, layer_depth, layers = {}, {}, {}
    for node in reversed(ordered):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(id(node.layer), 0))
        layer_depth[id(node.layer)] = depth
        layers[id(node.layer)] = node.layer
        node_depth[id(node)] = depth
        for t in node.inputs:
            if t.node is not None and id(t.node) in finished:
                node_depth[id(t.node)] = max(depth + 1, node_depth.get(id(t.node), 0))
    for t in model.inputs:  # inputs the outputs do not use
        if id(t.node.layer) not in layer_depth:
            layer_depth[id(t.node.layer)] = 0
            first_seen[id(t.node.layer)] = -1
            layers[id(t.node.layer)] = t.node.layer
            finished.add(id(t.node))
    order = sorted(layers, key=lambda k: (-layer_depth[k], first_seen[k]))
    return [layers[k] for k in order], finished


# ---------------------------------------------------------------- saving
def serialize_layer(layer) -> dict:
    """``{"module", "class_name", "config", "registered_name"[, "build_config"]}``."""
    if is_model(layer):
        return serialize_model(layer, include_compile=False)
    entry = objects.serialize_object(layer, "keras.layers")
    fn = getattr(getattr(layer, "activation", None), "fn", None)
    if fn is not None and isinstance(entry["config"].get("activation"), str):
        # a user's activation function: by its registered key when it has one
        registered = registry._GLOBAL_CUSTOM_NAMES.get(fn)
        if registered:
            entry["config"]["activation"] = {"module": None, "class_name": "function",
                                             "config": registered,
                                             "registered_name": "function"}
    shape = getattr(layer, "_build_shape", None)
    if layer.built and shape is not None and not isinstance(layer, InputLayer):
        own = getattr(layer, "build_config", None)  # Keras's shapes_dict (initial states)
        entry["build_config"] = (own() if own is not None else None) or {
            "input_shape": _jsonable_shape(shape)}
    return entry


def serialize_model(model, include_compile=True) -> dict:
    """The whole model entry of ``config.json`` (also ``model.to_json()``)."""
    entry = objects.serialize_object(model, "keras")
    if type(model).__name__ in ("Sequential", "Model"):
        entry["class_name"] = "Sequential" if _is_sequential(model) else "Functional"
    if entry["class_name"] == "Functional":
        entry["module"] = "keras.src.models.functional"
        entry["registered_name"] = "Functional"
        entry["build_config"] = {"input_shape": None}
    elif _is_sequential(model) and model._input_layer is not None:
        entry["build_config"] = {"input_shape": list(model._input_layer.batch_shape)}
    elif getattr(model, "_subclassed", False) and model._graph is not None:
        # the shape its `call` was traced with, to trace it again when loading
        shapes = [list(t.shape) for t in model._graph.inputs]
        entry["build_config"] = {"input_shape": shapes[0] if len(shapes) == 1 else shapes}
    entry["compile_config"] = objects.compile_config(model) if include_compile else {}
    return entry


def sequential_config(model) -> dict:
    """``Sequential.get_config()``: name, trainable, dtype, layers, build_input_shape."""
    layers = []
    if model._input_layer is not None:
        layers.append(serialize_layer(model._input_layer))
    layers.extend(serialize_layer(layer) for layer in model._stack)
    config = {"name": model.name, "trainable": model.trainable,
              "dtype": objects.dtype_policy(model.dtype), "layers": layers}
    if model._input_layer is not None:
        config["build_input_shape"] = list(model._input_layer.batch_shape)
    return config


def functional_config(model) -> dict:
    """``Model.get_config()`` of a functional model: layers with their inbound nodes,
    and the input and output tensors as ``[layer_name, node_index, tensor_index]``."""
    if model._graph is None:
        return {"name": model.name, "trainable": model.trainable}
    layers, own_nodes = _graph_order(model)
    new_index = {}
    for layer in layers:
        kept = 0
        for node in layer._inbound_nodes:
            if id(node) in own_nodes:
                new_index[id(node)] = kept
                kept += 1

    def tensor_ref(t):
        return [t.node.layer.name, new_index[id(t.node)], t.node.outputs.index(t)]

    def io_ref(t):
        # Keras 3 counts a nested functional model's own first node in the model's
        # input_layers / output_layers, not in the calls' arguments
        name, index, position = tensor_ref(t)
        return [name, index + 1 if _is_functional(t.node.layer) else index, position]

    def tensor_config(t):
        return {"class_name": "__keras_tensor__",
                "config": {"shape": list(t.shape), "dtype": t.dtype,
                           "keras_history": tensor_ref(t)}}

    entries = []
    for layer in layers:
        entry = serialize_layer(layer)
        entry["name"] = layer.name
        entry["inbound_nodes"] = []
        for node in layer._inbound_nodes:
            if id(node) in own_nodes and node.inputs:
                tensors, kwargs = list(node.inputs), dict(node.call_kwargs)
                # tensors given as keyword arguments (initial_state=[h, c]) are the
                # last inputs, and Keras writes them among the kwargs
                for key, (count, as_list) in reversed(list(node.tensor_kwargs.items())):
                    given = [tensor_config(t) for t in tensors[-count:]]
                    kwargs[key] = given if as_list else given[0]
                    tensors = tensors[:-count]
                args = [tensor_config(t) for t in tensors]
                # Keras's form of the call's arguments: {"training": false} for
                # `layer(x, training=False)`, which a loaded model keeps
                # (a layer called as layer(a, b), MultiHeadAttention's query and value,
                # has them as positional arguments; the others take one list)
                positional = getattr(layer, "_positional_inputs", False)
                entry["inbound_nodes"].append(
                    {"args": args if len(args) == 1 or positional else [args],
                     "kwargs": kwargs})
        entries.append(entry)
    return {"name": model.name, "trainable": model.trainable, "layers": entries,
            "input_layers": _map_structure(io_ref, model._inputs_struct),
            "output_layers": _map_structure(io_ref, model._outputs_struct)}


def _map_structure(fn, structure):
    if isinstance(structure, KerasTensor):
        return fn(structure)
    if isinstance(structure, dict):
        return {k: _map_structure(fn, v) for k, v in structure.items()}
    return [_map_structure(fn, v) for v in structure]


def _jsonable_shape(shape):
    if isinstance(shape, list):
        return [_jsonable_shape(s) for s in shape]
    return list(shape)


# ---------------------------------------------------------------- loading
def deserialize_layer(entry, custom_objects=None):
    """A layer (or nested model) from its entry in a model config."""
    cls = objects.resolve_layer_class(entry, custom_objects)
    if isinstance(cls, type) and is_model(cls):
        return deserialize_model(entry, custom_objects, compile=False, cls=cls)
    config = objects.layer_config_for_tinyann(entry, custom_objects)
    layer = cls.from_config(config)
    _build_alone(layer, entry.get("build_config"))
    return layer


def _build_alone(layer, build_config) -> None:
    """Builds ``layer`` for its saved input shape now, on its own, as Keras does when it
    makes a layer from a config: its weights' paths then have no model name
    (``dense/kernel``), as in Keras after ``load_model`` or ``model_from_json``."""
    if layer.built or not isinstance(build_config, dict):
        return
    shape = build_config.get("input_shape")
    shapes = build_config.get("shapes_dict")
    if shape is None and isinstance(shapes, dict) and "sequences_shape" in shapes:
        # a recurrent layer built with initial states: [sequences, *states]
        states = shapes.get("initial_state_shape")
        if isinstance(states, list) and states and not _is_shape(states):
            shape = [shapes["sequences_shape"], *states]
        else:
            shape = [shapes["sequences_shape"]] + ([states] if states else [])
            layer._states_as_list = False
    if not _is_shape(shape) and not (isinstance(shape, list) and shape
                                     and all(_is_shape(s) for s in shape)):
        return  # none saved: the layer is built when its model calls it
    try:
        layer._maybe_build(shape)
    except (ValueError, TypeError, IndexError) as e:
        raise InvalidFileError(
            f"Layer {layer.name!r} cannot be built for the input shape of its "
            f"build_config, {_short(shape)}: {e}") from e


def _is_shape(value) -> bool:
    return isinstance(value, (list, tuple)) and all(
        d is None or (isinstance(d, int) and not isinstance(d, bool) and d >= 0)
        for d in value)


def deserialize_model(entry, custom_objects=None, compile=True, cls=None):
    """A model from its whole config entry; compiled when ``compile`` and the entry has
    a ``compile_config``."""
    objects.check_entry(entry, "model")
    if cls is None:
        cls = objects.resolve_layer_class(entry, custom_objects)
    if not (isinstance(cls, type) and is_model(cls)):
        raise InvalidFileError(
            f"The file describes a {entry.get('class_name')!r}, not a model "
            "(Sequential or Functional).")
    config = entry.get("config")
    params = inspect.signature(cls.from_config).parameters
    if "custom_objects" in params:
        model = cls.from_config(config, custom_objects=custom_objects)
    else:
        model = cls.from_config(config)
    if getattr(model, "_subclassed", False) and model._graph is None:
        _build_alone(model, entry.get("build_config"))
    if compile and entry.get("compile_config"):
        objects.compile_from_config(model, entry["compile_config"], custom_objects)
    return model


def sequential_from_config(cls, config, custom_objects=None):
    """A Sequential from its config (Keras 3's dict, or Keras 2's list of layers)."""
    if isinstance(config, list):  # Keras 2 wrote the bare list of layers
        config = {"layers": config}
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise InvalidFileError(
            "A Sequential config needs a 'layers' list. Received: "
            f"{_short(config)}")
    model = cls(name=config.get("name"), trainable=config.get("trainable", True))
    for layer_entry in config["layers"]:
        model.add(deserialize_layer(layer_entry, custom_objects), rebuild=False)
    model._maybe_rebuild()
    shape = config.get("build_input_shape")
    if model._input_layer is None and isinstance(shape, (list, tuple)) and len(shape) > 1:
        model.build(tuple(shape))
    return model


def functional_from_config(cls, config, custom_objects=None):
    """A functional model: makes the layers, then replays their calls in order."""
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        raise InvalidFileError(
            f"A functional model config needs a 'layers' list. Received: {_short(config)}")
    created, pending, order = {}, {}, []
    for layer_entry in config["layers"]:
        layer = deserialize_layer(layer_entry, custom_objects)
        name = layer_entry.get("name", layer.name)
        if name in created:
            raise InvalidFileError(f"The layer name {name!r} appears twice in the config.")
        created[name] = layer
        order.append(name)
        nodes = layer_entry.get("inbound_nodes") or []
        if not isinstance(nodes, list):
            raise InvalidFileError(f"'inbound_nodes' of layer {name!r} must be a list.")
        pending[name] = list(nodes)
    while any(pending.values()):
        progressed = False
        for name in order:
            while pending[name]:
                try:
                    args, training, tensor_kwargs = _node_args(pending[name][0], created)
                except _NotReady:
                    break
                created[name](args, training=training, **tensor_kwargs)
                pending[name].pop(0)
                progressed = True
        if not progressed:
            stuck = {k: v for k, v in pending.items() if v}
            raise InvalidFileError(
                "Invalid Functional model configuration. The graph of the Functional model "
                "either has loops or disconnected nodes. The following nodes failed to be "
                f"resolved: {_short(stuck)}")
    inputs = _tensors_from_refs(config.get("input_layers"), created)
    outputs = _tensors_from_refs(config.get("output_layers"), created)
    return cls(inputs=inputs, outputs=outputs, name=config.get("name"),
               trainable=config.get("trainable", True))


class _NotReady(Exception):
    """A node reads a tensor whose layer call has not been replayed yet."""


def _get_tensor(ref, created, own_node_first=True):
    """The tensor of ``[layer_name, node_index, tensor_index]``. ``own_node_first``: a
    nested functional model's index counts a node of its own first (Keras 3's
    input_layers / output_layers, and every reference of Keras 2), which the
    arguments of Keras 3's calls do not."""
    if not (isinstance(ref, (list, tuple)) and len(ref) >= 3 and isinstance(ref[0], str)
            and all(isinstance(i, int) and not isinstance(i, bool) for i in ref[1:3])):
        raise InvalidFileError(
            f"A tensor reference must be [layer_name, node_index, tensor_index]. "
            f"Received: {_short(ref)}")
    name, node_index, tensor_index = ref[0], ref[1], ref[2]
    if name not in created:
        raise InvalidFileError(
            f"Invalid Functional model configuration. Missing node: {name}")
    layer = created[name]
    if own_node_first and _is_functional(layer):
        node_index -= 1
    if node_index < 0 or tensor_index < 0:
        raise InvalidFileError(f"Invalid node or tensor index in {_short(ref)}")
    if node_index >= len(layer._inbound_nodes):
        raise _NotReady()
    outputs = layer._inbound_nodes[node_index].outputs
    if tensor_index >= len(outputs):
        raise InvalidFileError(f"Invalid tensor index in {_short(ref)}")
    return outputs[tensor_index]


def _node_args(node_data, created):
    """The input (a tensor or a list of them) of one recorded layer call, the
    ``training`` it was called with (None when not given), and its keyword arguments
    holding tensors (``{"initial_state": [h, c]}``)."""
    if isinstance(node_data, list):  # Keras 2: [[layer, node, tensor, kwargs], ...]
        tensors = [_get_tensor(item, created) for item in node_data]
        first = node_data[0] if node_data else None
        kwargs = first[3] if isinstance(first, list) and len(first) > 3 else None
        training, tensor_kwargs = _call_kwargs(kwargs, created)
        return tensors[0] if len(tensors) == 1 else tensors, training, tensor_kwargs
    if not isinstance(node_data, dict) or not isinstance(node_data.get("args"), list):
        raise InvalidFileError(f"Cannot read the layer call {_short(node_data)}")
    training, tensor_kwargs = _call_kwargs(node_data.get("kwargs"), created)
    args = node_data["args"]
    if len(args) > 1:  # mha(query, value): the layer takes them as one list
        return [_tensor_structure(a, created) for a in args], training, tensor_kwargs
    if len(args) != 1:
        raise NotImplementedError(
            f"tinyann layers take one positional input; the config passes {len(args)}")
    return _tensor_structure(args[0], created), training, tensor_kwargs


# keyword arguments of a layer call that hold tensors (a recurrent layer's states)
_TENSOR_KWARGS = ("initial_state", "key", "attention_mask")
# keyword arguments of a layer call that are options, passed on as given
_OPTION_KWARGS = ("use_causal_mask", "return_attention_scores")


def _call_kwargs(kwargs, created):
    """``(training, {argument: tensors})`` of a recorded call's keyword arguments
    (``{"training": false}``, ``{"initial_state": [...]}``)."""
    if kwargs is None:
        return None, {}
    if not isinstance(kwargs, dict):
        raise InvalidFileError(
            f"The keyword arguments of a layer call must be a dict. Received: {_short(kwargs)}")
    tensor_kwargs = {}
    for key, value in kwargs.items():
        if key in _TENSOR_KWARGS and value is not None:
            tensor_kwargs[key] = _tensor_structure(value, created)
        elif key in _OPTION_KWARGS and isinstance(value, bool):
            tensor_kwargs[key] = value
        elif not (key == "training" and (value is None or isinstance(value, bool))
                  or key in ("mask", ) + _TENSOR_KWARGS and value is None):
            raise NotImplementedError(
                f"tinyann cannot replay a layer call with the argument {key}={value!r}")
    return kwargs.get("training"), tensor_kwargs


def _tensor_structure(value, created):
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        history = (value.get("config") or {}).get("keras_history")
        return _get_tensor(history, created, own_node_first=False)
    if isinstance(value, list):
        return [_tensor_structure(v, created) for v in value]
    raise InvalidFileError(f"Expected a symbolic tensor in a layer call: {_short(value)}")


def _tensors_from_refs(refs, created):
    if isinstance(refs, list) and len(refs) >= 3 and isinstance(refs[0], str):
        return _get_tensor(refs, created)
    if isinstance(refs, dict):
        return {k: _tensors_from_refs(v, created) for k, v in refs.items()}
    if isinstance(refs, list) and refs:
        return [_tensors_from_refs(r, created) for r in refs]
    raise InvalidFileError(f"Invalid model inputs or outputs in the config: {_short(refs)}")


def _short(value, limit=300) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
