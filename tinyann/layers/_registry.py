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


# functions ``(class_name, registered_name) -> class or None`` consulted first:
# tinyann.saving installs one that looks in the running load's ``custom_objects``, in
# ``custom_object_scope`` and among registered classes (a nested layer's config, such as
# a wrapper's or an RNN's user-written cell, is resolved here)
_LOOKUPS: list = []


_NAMERS: list = []   # functions class -> its registered name ("package>Name") or None


def add_lookup(lookup, namer=None) -> None:
    if lookup not in _LOOKUPS:
        _LOOKUPS.append(lookup)
    if namer is not None and namer not in _NAMERS:
        _NAMERS.append(namer)


def registered_name(cls) -> str | None:
    """The name ``register_keras_serializable`` gave ``cls``, else None."""
    for namer in _NAMERS:
        found = namer(cls)
        if found:
            return found
    return None


def get_class(name: str, registered_name: str | None = None) -> type:
    for lookup in _LOOKUPS:
        found = lookup(name, registered_name)
        if isinstance(found, type):
            return found
    classes = {**_BUILTIN, **_CUSTOM}
    if name not in classes:
        raise ValueError(
            f"Unknown layer class {name!r}. Known: {sorted(classes)}; register your own "
            "with tinyann.saving.register_keras_serializable or pass custom_objects."
        )
    return classes[name]
