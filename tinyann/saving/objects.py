"""Keras's object entries: ``{"module", "class_name", "config", "registered_name"}``.

Layers, optimizers, losses, metrics and functions are written in this form and
read back by looking their names up in tinyann's tables or in the registry;
nothing in a file is imported or executed. Also the compile config (optimizer,
loss, metrics) of ``config.json``.
"""

from __future__ import annotations

from tinyann.saving import registry
from tinyann.saving.errors import InvalidFileError, UnknownObjectError, UnsafeObjectError

# keys Keras 3.15 writes that tinyann's constructors take only at these values
_IGNORABLE = {"quantization_config": None, "ragged": False, "optional": False,
              "input_axes": None, "output_axes": None, "lora_rank": None,
              "lora_alpha": None, "activity_regularizer": None}


def dtype_policy(name) -> dict:
    """Keras 3's ``DTypePolicy`` entry for a dtype name."""
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": name},
            "registered_name": None}


def serialize_object(obj, module) -> dict:
    """Keras's entry for an object with ``get_config``; registered classes carry
    their ``'package>name'``."""
    cls = type(obj)
    registered = registry._GLOBAL_CUSTOM_NAMES.get(cls)
    return {"module": None if registered else module, "class_name": cls.__name__,
            "config": obj.get_config(), "registered_name": registered}


def serialize_function(fn, module, builtins) -> dict | str:
    """A function as Keras writes it: a built-in by name, a registered one by key."""
    registered = registry._GLOBAL_CUSTOM_NAMES.get(fn)
    if registered:
        return {"module": None, "class_name": "function", "config": registered,
                "registered_name": "function"}
    name = getattr(fn, "__name__", None)
    if name in builtins:
        return {"module": module, "class_name": "function", "config": name,
                "registered_name": "function"}
    raise ValueError(
        f"Cannot save the function {fn!r}: it is not built in, so register it with "
        "`@tinyann.saving.register_keras_serializable()` to save it by name.")


def check_entry(entry, what) -> None:
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
        text = repr(entry)
        raise InvalidFileError(
            f"Expected a {what} entry with a 'class_name'. Received: "
            f"{text[:300] + '...' if len(text) > 300 else text}")


def _refuse_code(entry) -> None:
    name = entry.get("class_name")
    config = entry.get("config")
    if name == "Lambda" and isinstance(config, dict) and not any(
            isinstance(v, dict) and v.get("class_name") == "__lambda__"
            for v in config.values()):
        return  # a Lambda of named functions (keras.ops.relu): found by name, no code
    if name in ("__lambda__", "Lambda", "TFOpLambda", "__typespec__"):
        raise UnsafeObjectError(
            f"Requested the deserialization of a {name!r} object, which holds Python code "
            "stored in the file. tinyann never runs code from a model file, with or "
            "without safe_mode. Define the layer or function in your program and pass it "
            f"in `custom_objects={{'{name}': ...}}` (or register it).")


def _unknown(kind, entry):
    text = repr(entry)
    name = entry.get("config") if entry.get("class_name") == "function" else entry.get(
        "class_name")
    raise UnknownObjectError(
        f"Could not locate {kind} '{name}'. Make sure custom classes and "
        "functions are decorated with `@tinyann.saving.register_keras_serializable()` "
        "(or passed in `custom_objects`), and imported before loading. Full object "
        f"config: {text[:500] + '...' if len(text) > 500 else text}")


def resolve_layer_class(entry, custom_objects=None):
    """The class for a layer or model entry: registered/custom first, then built in."""
    from tinyann.layers import _registry  # layers and models (registered by tinyann.models)

    check_entry(entry, "layer")
    found = registry.lookup(entry["class_name"], entry.get("registered_name"), custom_objects)
    if found is not None:
        return found
    _refuse_code(entry)
    try:
        return _registry.get_class(entry["class_name"])
    except ValueError:
        _unknown("class", entry)


# the dtypes a layer entry may have: the float ones tinyann computes in, and the int,
# bool and string ones of Keras's typed Inputs and of the lookup / hashing layers
_LOADABLE_DTYPES = frozenset(
    ["float16", "float32", "float64", "bool", "string"]
    + [f"{kind}{bits}" for kind in ("int", "uint") for bits in (8, 16, 32, 64)])


def layer_config_for_tinyann(entry, custom_objects=None) -> dict:
    """The ``config`` of a layer entry, ready for ``from_config``: functions resolved,
    and keys Keras writes at values meaning 'off' dropped."""
    config = entry.get("config")
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise InvalidFileError(f"The config of layer {entry.get('class_name')!r} must be a dict.")
    dtype = config.get("dtype")
    name = (dtype.get("config") or {}).get("name") if isinstance(dtype, dict) else dtype
    if name is not None and name not in _LOADABLE_DTYPES:
        raise NotImplementedError(
            f"Layer {config.get('name')!r} uses the dtype policy {name!r}; tinyann computes "
            "in float32 (or float64) only, with int, bool and string inputs and lookups")
    config = resolve_functions(_strip_ignorable(config), custom_objects)
    activation = config.get("activation")
    if isinstance(activation, str):  # a custom activation saved by its name
        from tinyann import activations

        if activation.lower() not in activations._INSTANCES:
            found = registry.lookup(activation, None, custom_objects)
            if found is None:
                _unknown("function", {"class_name": "function", "config": activation})
            config["activation"] = found
    return config


def _strip_ignorable(config):
    """``config`` without the ignorable keys, also in nested entries (initializers)."""
    out = {}
    for key, value in config.items():
        if key in _IGNORABLE and value == _IGNORABLE[key] and (
                type(value) is type(_IGNORABLE[key])):
            continue
        if isinstance(value, dict) and isinstance(value.get("config"), dict) and (
                "class_name" in value):
            value = dict(value, config=_strip_ignorable(value["config"]))
        out[key] = value
    return out


def resolve_functions(value, custom_objects=None):
    """Replaces function entries by the function (built-in name or registered object)."""
    if isinstance(value, list):
        return [resolve_functions(v, custom_objects) for v in value]
    if not isinstance(value, dict):
        return value
    if value.get("class_name") in ("__lambda__",):
        _refuse_code(value)
    if value.get("class_name") == "function":
        from tinyann import activations

        name = value.get("config")
        found = registry.lookup(name, value.get("registered_name") if value.get(
            "registered_name") != "function" else None, custom_objects)
        if found is not None:
            return found
        if isinstance(name, str) and name.lower() in activations._INSTANCES:
            return name
        _unknown("function", value)
    return {k: resolve_functions(v, custom_objects) for k, v in value.items()}


# ---------------------------------------------------------------- compile config
def compile_config(model) -> dict:
    """Keras's ``compile_config``: ``{}`` for a model that was never compiled."""
    from tinyann import optimizers

    state = getattr(model, "_compile_state", None)
    if state is None or model.optimizer is None:
        return {}
    saved = state.config  # compile's arguments as given (a loss stays 'mse')
    loss = saved["loss"]
    metrics = saved["metrics"]
    optimizer = model.optimizer
    if type(optimizer).__name__ in optimizers._CLASSES:
        opt_entry = optimizers.serialize(optimizer)
    else:
        opt_entry = serialize_object(optimizer, "keras.optimizers")
    return {"optimizer": opt_entry, "loss": _serialize_loss(loss),
            "loss_weights": saved.get("loss_weights"), "metrics": _serialize_metrics(metrics),
            "weighted_metrics": None, "run_eagerly": False, "steps_per_execution": 1,
            "jit_compile": False}


def _serialize_loss(loss):
    from tinyann import losses

    if loss is None or isinstance(loss, str):
        return loss
    # one loss per output of a model with several outputs
    if isinstance(loss, (list, tuple)):
        return [_serialize_loss(item) for item in loss]
    if isinstance(loss, dict):
        return {key: _serialize_loss(item) for key, item in loss.items()}
    if isinstance(loss, losses.Loss):
        return serialize_object(loss, "keras.losses")
    if callable(loss):
        return serialize_function(loss, "keras.losses",
                                  {f.__name__ for f in losses._FUNCTIONS})
    return loss


def _serialize_metrics(metrics):
    from tinyann import metrics as metrics_module

    if not metrics:
        return None
    if isinstance(metrics, dict):  # per output name
        return {key: _serialize_metrics(value if isinstance(value, (list, tuple)) else [value])
                for key, value in metrics.items()}
    out = []
    for m in metrics:
        if isinstance(m, (list, tuple)):  # one list per output
            out.append(_serialize_metrics(m) or [])
        elif isinstance(m, (str, dict)):
            out.append(m)
        elif isinstance(m, metrics_module.Metric):
            out.append(serialize_object(m, "keras.metrics"))
        elif callable(m):
            out.append(serialize_function(m, "keras.metrics", {
                name for name in dir(metrics_module) if callable(getattr(metrics_module, name))
                and not isinstance(getattr(metrics_module, name), type)}))
        else:
            out.append(m)
    return out


def deserialize_optimizer(entry, custom_objects=None):
    from tinyann import optimizers

    if isinstance(entry, str):
        return optimizers.get(entry)
    check_entry(entry, "optimizer")
    found = registry.lookup(entry["class_name"], entry.get("registered_name"), custom_objects)
    if found is not None:
        return found.from_config(entry.get("config") or {})
    _refuse_code(entry)
    if entry["class_name"] not in optimizers._CLASSES and (
            str(entry["class_name"]).lower() not in optimizers._STRINGS):
        _unknown("optimizer", entry)
    config = dict(entry.get("config") or {})
    # Keras 2 (tf.keras) optimizer configs
    if "lr" in config and "learning_rate" not in config:
        config["learning_rate"] = config.pop("lr")
    for key in ("is_legacy_optimizer", "jit_compile"):
        config.pop(key, None)
    if config.get("decay") in (0, 0.0):
        config.pop("decay")
    return optimizers.deserialize({"class_name": entry["class_name"], "config": config})


def deserialize_loss(entry, custom_objects=None):
    from tinyann import losses

    if isinstance(entry, list):
        return [deserialize_loss(item, custom_objects) for item in entry]
    if isinstance(entry, dict) and "class_name" not in entry:
        return {key: deserialize_loss(item, custom_objects) for key, item in entry.items()}
    if entry is None or isinstance(entry, str):
        if isinstance(entry, str):
            found = registry.lookup(entry, None, custom_objects)
            if found is not None:
                return found
            losses.get(entry)  # unknown names fail here, at load
        return entry
    found = _function_or_registered(entry, custom_objects, "loss", losses)
    if found is not None:
        return found
    if entry["class_name"] not in losses._CLASSES and entry["class_name"] not in (
            losses._STRINGS):
        _unknown("loss", entry)
    return losses.get(entry)


def _function_or_registered(entry, custom_objects, kind, module):
    """A loss / metric entry that names a function or a registered class, made; else
    None, after refusing entries that would run code (the caller tries built-ins)."""
    check_entry(entry, kind)
    if entry["class_name"] == "function":
        return _function_entry(entry, custom_objects, kind, module)
    found = registry.lookup(entry["class_name"], entry.get("registered_name"), custom_objects)
    if found is not None:
        return found.from_config(entry.get("config") or {})
    _refuse_code(entry)
    return None


def deserialize_metric(entry, custom_objects=None):
    from tinyann import metrics as metrics_module

    if isinstance(entry, str):
        found = registry.lookup(entry, None, custom_objects)
        return found if found is not None else entry
    if isinstance(entry, list):  # one list per output (Keras 2 wrote them too)
        return [deserialize_metric(e, custom_objects) for e in entry]
    if isinstance(entry, dict) and "class_name" not in entry:  # per output name
        return {key: deserialize_metric(value, custom_objects) for key, value in entry.items()}
    found = _function_or_registered(entry, custom_objects, "metric", metrics_module)
    if found is not None:
        return found
    if entry["class_name"] == "MeanMetricWrapper":  # Keras 2: {"name": ..., "fn": ...}
        config = entry.get("config") or {}
        return config.get("name") or config.get("fn")
    if entry["class_name"] not in metrics_module._CLASSES:
        _unknown("metric", entry)
    return metrics_module.get(entry)


def _function_entry(entry, custom_objects, kind, module):
    name = entry.get("config")
    found = registry.lookup(name, None, custom_objects)
    if found is not None:
        return found
    if isinstance(name, str) and not name.startswith("_") and callable(
            getattr(module, name, None)):
        return name
    _unknown(kind, entry)


def compile_from_config(model, config, custom_objects=None) -> None:
    """``model.compile(**config)`` with the optimizer, loss and metrics rebuilt."""
    if not isinstance(config, dict):
        raise InvalidFileError(f"The compile config must be a dict. Received: {config!r}"[:400])
    if not config.get("optimizer"):
        return
    optimizer = deserialize_optimizer(config["optimizer"], custom_objects)
    loss = deserialize_loss(config.get("loss"), custom_objects)
    metrics = config.get("metrics")
    if metrics is not None:
        per_output = isinstance(metrics, dict) and "class_name" not in metrics
        metrics = deserialize_metric(metrics if isinstance(metrics, list) or per_output
                                     else [metrics], custom_objects)
        # Keras 2 nested the metrics per output: a single output's list is flattened
        if len(metrics) == 1 and isinstance(metrics[0], list):
            metrics = metrics[0]
    if isinstance(loss, list) and len(loss) == 1 and len(model.outputs) == 1:
        loss = loss[0]
    # passed on so that compile refuses what tinyann cannot do, instead of dropping it
    extra = {k: config[k] for k in ("loss_weights", "weighted_metrics")
             if config.get(k) is not None}
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics, **extra)
