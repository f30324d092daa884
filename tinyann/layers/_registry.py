"""Which class a Keras ``class_name`` names: the built-in layers plus registered ones."""

from __future__ import annotations

_CUSTOM: dict[str, type] = {}


def _builtin() -> dict[str, type]:
    from tinyann import layers

    return {name: getattr(layers, name) for name in layers.__all__
            if isinstance(getattr(layers, name), type)}


def register(cls, name=None) -> type:
    _CUSTOM[name or cls.__name__] = cls
    return cls


def get_class(name: str) -> type:
    classes = {**_builtin(), **_CUSTOM}
    if name not in classes:
        raise ValueError(
            f"Unknown layer class {name!r}. Known: {sorted(classes)}; register your own "
            "with tinyann.saving.register_keras_serializable or pass custom_objects."
        )
    return classes[name]
