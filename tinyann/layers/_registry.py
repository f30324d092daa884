"""Which class a Keras ``class_name`` names: the built-in layers plus registered ones.

``tinyann.layers`` fills in the built-in classes when it is imported, so this module
imports nothing (the symbolic tensors' ``+`` and ``*`` find their merge layers here).
"""

from __future__ import annotations

_BUILTIN: dict[str, type] = {}
_CUSTOM: dict[str, type] = {}


def register_builtin(classes: dict) -> None:
    """Called by ``tinyann.layers`` with its public layer classes."""
    _BUILTIN.update(classes)


def builtin_class(name: str) -> type:
    return _BUILTIN[name]


def register(cls, name=None) -> type:
    _CUSTOM[name or cls.__name__] = cls
    return cls


def get_class(name: str) -> type:
    classes = {**_BUILTIN, **_CUSTOM}
    if name not in classes:
        raise ValueError(
            f"Unknown layer class {name!r}. Known: {sorted(classes)}; register your own "
            "with tinyann.saving.register_keras_serializable or pass custom_objects."
        )
    return classes[name]
