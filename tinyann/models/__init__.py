"""Models: ``Model`` (functional API), ``Sequential``, and loading helpers."""

from tinyann.layers import _registry
from tinyann.models.model import Model
from tinyann.models.sequential import Sequential

__all__ = ["Model", "Sequential", "load_model", "save_model", "model_from_json",
           "clone_model"]


# the class names a saved file may give a model (Keras 3 writes "Functional")
_registry.register_builtin({"Sequential": Sequential, "Functional": Model, "Model": Model})


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    from tinyann import saving

    return saving.load_model(filepath, custom_objects=custom_objects, compile=compile,
                             safe_mode=safe_mode)


def save_model(model, filepath, overwrite=True, **kwargs):
    from tinyann import saving

    return saving.save_model(model, filepath, overwrite=overwrite, **kwargs)


def model_from_json(json_string, custom_objects=None):
    from tinyann import saving

    return saving.model_from_json(json_string, custom_objects=custom_objects)


def clone_model(model, input_tensors=None, clone_function=None):
    """A new model with the same architecture and new weights (not compiled).

    Args:
        input_tensors: optional ``Input`` tensor(s) for the clone.
        clone_function: ``layer -> new layer``; default ``cls.from_config(get_config())``.
    """
    from tinyann.models.cloning import clone

    return clone(model, input_tensors, clone_function)
