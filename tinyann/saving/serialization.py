"""``serialize_keras_object`` / ``deserialize_keras_object`` for every kind of object
Keras writes: layers and models, losses, metrics, optimizers and their schedules,
initializers, regularizers, constraints, activations and loss functions, dtype
policies, and plain values (numbers, strings, lists, dicts, NumPy arrays).

The entries are Keras 3's (``{"module", "class_name", "config", "registered_name"}``).
Reading one resolves a name only to a registered or ``custom_objects`` entry, or to
a class or function of tinyann's own public modules named like Keras's
(``keras.layers`` -> ``tinyann.layers``); nothing else is imported or run.
"""

from __future__ import annotations

import importlib

import numpy as np

from tinyann.saving import registry
from tinyann.saving.errors import UnknownObjectError

# the Keras modules whose classes and functions an entry may name, and tinyann's
_MODULES = {
    "keras": "tinyann", "keras.layers": "tinyann.layers", "keras.models": "tinyann.models",
    "keras.losses": "tinyann.losses", "keras.metrics": "tinyann.metrics",
    "keras.optimizers": "tinyann.optimizers",
    "keras.optimizers.schedules": "tinyann.optimizers.schedules",
    "keras.initializers": "tinyann.initializers",
    "keras.regularizers": "tinyann.regularizers", "keras.constraints": "tinyann.constraints",
    "keras.activations": "tinyann.activations",
    "keras.dtype_policies": "tinyann.dtype_policies",
}
# where Keras looks up a function written with module 'builtins' (its BUILTIN_MODULES)
_BUILTIN_FUNCTION_MODULES = ("activations", "losses", "metrics")


def _families():
    """(base class, Keras module) of each kind of object with a config, in the order
    they are tried."""
    from tinyann import (
        constraints,
        dtype_policies,
        initializers,
        losses,
        metrics,
        optimizers,
        regularizers,
    )
    from tinyann.optimizers import schedules

    return ((optimizers.Optimizer, "keras.optimizers"), (losses.Loss, "keras.losses"),
            (metrics.Metric, "keras.metrics"),
            (initializers.Initializer, "keras.initializers"),
            (regularizers.Regularizer, "keras.regularizers"),
            (constraints.Constraint, "keras.constraints"),
            (schedules.LearningRateSchedule, "keras.optimizers.schedules"),
            (dtype_policies.DTypePolicy, "keras"))


def _function_entry(name, module="builtins"):
    return {"module": module, "class_name": "function", "config": name,
            "registered_name": "function"}


def serialize_keras_object(obj):
    """Keras's entry for ``obj`` (plain values are returned as they are)."""
    from tinyann import activations, losses
    from tinyann.layers.layer import Layer
    from tinyann.saving import config, objects

    if obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, np.ndarray):
        if obj.ndim == 0:
            return obj.item()
        return {"class_name": "__numpy__", "config": {"value": obj.tolist(),
                                                       "dtype": str(obj.dtype)}}
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, (list, tuple)):
        items = [serialize_keras_object(item) for item in obj]
        return tuple(items) if isinstance(obj, tuple) else items
    if isinstance(obj, dict):
        return {key: serialize_keras_object(value) for key, value in obj.items()}
    if isinstance(obj, Layer):
        return config.serialize_layer(obj)
    registered = registry._GLOBAL_CUSTOM_NAMES.get(obj)
    if registered is not None and not isinstance(obj, type) and callable(obj) and not (
            hasattr(obj, "get_config")):
        return _function_entry(registered)  # a registered function: by its key
    for base, module in _families():
        if isinstance(obj, base):
            return objects.serialize_object(obj, module)
    if isinstance(obj, activations.Activation):
        name = getattr(obj, "name", None)
        fn = getattr(obj, "fn", None)  # a user's function wrapped by activations.get
        if fn is not None:
            return serialize_keras_object(fn)
        return _function_entry(name)
    if callable(obj) and not isinstance(obj, type) and obj in losses._FUNCTIONS:
        return _function_entry(obj.__name__)
    if hasattr(obj, "get_config"):  # a user's class that is not registered
        cls = type(obj)
        return {"module": None, "class_name": cls.__name__, "config": obj.get_config(),
                "registered_name": registry.get_registered_name(cls)}
    if callable(obj) and hasattr(obj, "__name__") and obj.__name__ != "<lambda>":
        return _function_entry(registry.get_registered_name(obj))
    raise TypeError(f"Cannot serialize object {obj!r} of type {type(obj)}.")


def _tinyann_symbol(module, name):
    """The class or function ``name`` of the tinyann module standing for the Keras
    ``module`` (None when there is none)."""
    target = _MODULES.get(module)
    if target is None or not isinstance(name, str) or name.startswith("_"):
        return None
    return getattr(importlib.import_module(target), name, None)


def _builtin_function(name):
    for part in _BUILTIN_FUNCTION_MODULES:
        found = _tinyann_symbol(f"keras.{part}", name)
        if found is not None and callable(found) and not isinstance(found, type):
            return found
    return None


def _unknown(kind, name, config):
    text = repr(config)
    raise UnknownObjectError(
        f"Could not locate {kind} '{name}'. Make sure custom classes and functions are "
        "decorated with `@keras.saving.register_keras_serializable()` (or passed in "
        "`custom_objects`), and imported before loading. Full object config: "
        f"{text[:500] + '...' if len(text) > 500 else text}")


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, **kwargs):
    """The object of a ``serialize_keras_object`` entry (plain values as they are).

    Args:
        config: an entry, or a plain value (a string is returned as it is, unless
            ``module_objects`` names it).
        custom_objects: ``{name: class or function}`` tried before the built-ins.
        safe_mode: accepted for Keras compatibility: nothing from the entry is run.
        module_objects: (Keras's keyword) ``{name: class or function}`` searched
            after ``custom_objects``.
    """
    module_objects = kwargs.pop("module_objects", None) or {}
    kwargs.pop("printable_module_name", None)
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {sorted(kwargs)}")
    if config is None or isinstance(config, (bool, int, float)):
        return config
    if isinstance(config, str):
        found = registry.get_registered_object(config, custom_objects, module_objects)
        return config if found is None else found
    if isinstance(config, (list, tuple)):
        return [deserialize_keras_object(item, custom_objects, module_objects=module_objects)
                for item in config]
    if not isinstance(config, dict):
        raise TypeError(f"Could not parse config: {config!r}")
    if "class_name" not in config or "config" not in config:
        return {key: deserialize_keras_object(value, custom_objects,
                                              module_objects=module_objects)
                for key, value in config.items()}
    class_name, inner = config["class_name"], config["config"]
    module = config.get("module")
    if class_name == "__numpy__":
        return np.array(inner["value"], dtype=inner["dtype"])
    if class_name == "function":
        found = registry.get_registered_object(inner, custom_objects, module_objects)
        if found is None and module in (None, "builtins"):
            found = _builtin_function(inner)
        elif found is None:
            found = _tinyann_symbol(module, inner)
        if found is None or isinstance(found, type):
            _unknown("function", inner, config)
        return found
    return _deserialize_class(config, class_name, inner, module, custom_objects,
                              module_objects)


def _deserialize_class(config, class_name, inner, module, custom_objects, module_objects):
    from tinyann import optimizers
    from tinyann.layers.layer import Layer
    from tinyann.saving import config as config_module
    from tinyann.saving import objects

    objects._refuse_code(config)
    registered = config.get("registered_name")
    cls = registry.lookup(class_name, registered, custom_objects)
    if cls is None:
        cls = module_objects.get(class_name)
    builtin = cls is None
    if builtin:
        cls = _tinyann_symbol(module, class_name)
        if cls is None and module is None:  # tinyann's earlier entries: a layer
            return config_module.deserialize_layer(config, custom_objects)
    if not isinstance(cls, type):
        _unknown("class", class_name, config)
    if issubclass(cls, Layer):
        return config_module.deserialize_layer(config, custom_objects)
    if builtin and issubclass(cls, optimizers.Optimizer):
        return objects.deserialize_optimizer(config, custom_objects)  # Keras 2's keys too
    if not hasattr(cls, "from_config"):
        _unknown("class", class_name, config)
    return cls.from_config(inner or {})
