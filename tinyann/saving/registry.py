"""Custom classes and functions that model files may name.

A file never makes tinyann import a module or run code: a name in it resolves
only to a built-in tinyann object, to something registered with
``register_keras_serializable``, or to an entry of ``custom_objects`` /
``custom_object_scope`` given by the program loading it.
"""

from __future__ import annotations

import contextlib
import inspect

from tinyann.layers import _registry as _layer_registry

_GLOBAL_CUSTOM_OBJECTS: dict[str, object] = {}
_GLOBAL_CUSTOM_NAMES: dict[object, str] = {}
_SCOPES: list[dict] = []


def register_keras_serializable(package="Custom", name=None):
    """Registers a class or function under ``'package>name'``, as Keras does.

    Args:
        package: the package part of the key (default ``'Custom'``).
        name: the name part; the object's ``__name__`` if None.

    Example:
        >>> @register_keras_serializable("my_package")
        ... class MyDense(tinyann.layers.Dense):
        ...     pass
    """

    def decorator(arg):
        class_name = name if name is not None else arg.__name__
        registered_name = f"{package}>{class_name}"
        if inspect.isclass(arg) and not hasattr(arg, "get_config"):
            raise ValueError("Cannot register a class that does not have a get_config() method.")
        _GLOBAL_CUSTOM_OBJECTS[registered_name] = arg
        _GLOBAL_CUSTOM_NAMES[arg] = registered_name
        return arg

    return decorator


def get_custom_objects() -> dict:
    """The global dict of registered objects (``{'package>name': obj}``); you may add
    entries to it directly, e.g. ``get_custom_objects()['MyLayer'] = MyLayer``."""
    return _GLOBAL_CUSTOM_OBJECTS


def get_registered_name(obj) -> str:
    """``'package>name'`` for a registered object, else its ``__name__``."""
    if obj in _GLOBAL_CUSTOM_NAMES:
        return _GLOBAL_CUSTOM_NAMES[obj]
    return obj.__name__


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The object registered (or passed in ``custom_objects``) as ``name``, else None."""
    tables = [custom_objects or {}, *reversed(_SCOPES), _GLOBAL_CUSTOM_OBJECTS,
              module_objects or {}]
    for table in tables:
        if name in table:
            return table[name]
    return None


def clear_custom_objects() -> None:
    """Forgets every registration (for tests)."""
    _GLOBAL_CUSTOM_OBJECTS.clear()
    _GLOBAL_CUSTOM_NAMES.clear()


@contextlib.contextmanager
def custom_object_scope(custom_objects):
    """Within the ``with`` block, ``custom_objects`` resolve names in loaded files.

    Example:
        >>> with custom_object_scope({"MyLayer": MyLayer}):
        ...     model = load_model("model.keras")
    """
    _SCOPES.append(dict(custom_objects or {}))
    try:
        yield
    finally:
        _SCOPES.pop()


CustomObjectScope = custom_object_scope


def lookup(class_name, registered_name=None, custom_objects=None):
    """The user-provided object for a config's names, or None if there is none."""
    for key in (registered_name, class_name):
        if key:
            found = get_registered_object(key, custom_objects)
            if found is not None:
                return found
    return None


# a nested layer's class (a wrapper's layer, an RNN's cell) is found by tinyann.layers,
# which cannot import this package: it asks here first
_layer_registry.add_lookup(lookup, _GLOBAL_CUSTOM_NAMES.get)
