"""Layers with Keras's names and arguments."""

from tinyann.layers.core import Activation, Dense
from tinyann.layers.input_layer import Input, InputLayer
from tinyann.layers.layer import Layer
from tinyann.layers.regularization import Dropout
from tinyann.layers.reshaping import Flatten, Reshape

__all__ = ["Layer", "Input", "InputLayer", "Dense", "Activation", "Flatten", "Reshape",
           "Dropout", "serialize", "deserialize", "get_class"]


def get_class(name):
    """The layer class for a Keras ``class_name`` (``'Dense'``)."""
    from tinyann.layers import _registry

    return _registry.get_class(name)


def serialize(layer):
    return {"module": "keras.layers", "class_name": type(layer).__name__,
            "config": layer.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    cls = get_class(config["class_name"]) if not custom_objects or (
        config["class_name"] not in custom_objects) else custom_objects[config["class_name"]]
    return cls.from_config(config.get("config") or {})
