"""Weight constraints with Keras's names and formulas: ``MaxNorm``, ``MinMaxNorm``,
``NonNeg``, ``UnitNorm``.

A constraint is a projection ``w -> constraint(w)`` that the optimizer applies to a
weight right after each update, as Keras does (``Variable.constraint``, set by
``add_weight(constraint=...)``; see ``Optimizer._apply_constraints``). Only the
weights that have one pay for it.
"""

from __future__ import annotations

import inspect

import numpy as np

from tinyann import _identifiers, backend


class Constraint(_identifiers.Configurable):
    """Base class: ``constraint(w)`` returns the projected weight (``w`` itself here).

    Subclasses override ``__call__`` (NumPy or ``keras.ops`` on the array given)."""

    def __call__(self, w):
        return w


def _norms(w, axis):
    """The L2 norms of ``w`` along ``axis`` (an int or a list of ints), kept as axes."""
    axis = tuple(axis) if isinstance(axis, (list, tuple)) else axis
    return np.sqrt(np.sum(np.square(w), axis=axis, keepdims=True))


def _as_float(w):
    w = np.asarray(w)
    return w if w.dtype.kind == "f" else w.astype(backend.floatx())


class MaxNorm(Constraint):
    """Scales the weights incident to each unit down to a norm of at most ``max_value``
    (norms along ``axis``: 0 for a Dense kernel, ``[0, 1, 2]`` for a Conv2D kernel)."""

    def __init__(self, max_value=2, axis=0):
        self.max_value = max_value
        self.axis = axis

    def __call__(self, w):
        w = _as_float(w)
        norms = _norms(w, self.axis)
        desired = np.clip(norms, 0, self.max_value)
        return w * (desired / (norms.dtype.type(backend.epsilon()) + norms))

    def get_config(self):
        return {"max_value": self.max_value, "axis": self.axis}


class NonNeg(Constraint):
    """Negative weights set to zero."""

    def __call__(self, w):
        return np.maximum(_as_float(w), 0)


class UnitNorm(Constraint):
    """The weights incident to each unit scaled to unit norm (along ``axis``)."""

    def __init__(self, axis=0):
        self.axis = axis

    def __call__(self, w):
        w = _as_float(w)
        norms = _norms(w, self.axis)
        return w / (norms.dtype.type(backend.epsilon()) + norms)

    def get_config(self):
        return {"axis": self.axis}


class MinMaxNorm(Constraint):
    """Norms (along ``axis``) moved into ``[min_value, max_value]``: rescaled to
    ``rate * clip(norm, min_value, max_value) + (1 - rate) * norm``."""

    def __init__(self, min_value=0.0, max_value=1.0, rate=1.0, axis=0):
        self.min_value = min_value
        self.max_value = max_value
        self.rate = rate
        self.axis = axis

    def __call__(self, w):
        w = _as_float(w)
        norms = _norms(w, self.axis)
        kind = norms.dtype.type
        desired = kind(self.rate) * np.clip(norms, self.min_value, self.max_value) + kind(
            1 - self.rate) * norms
        return w * (desired / (kind(backend.epsilon()) + norms))

    def get_config(self):
        return {"min_value": self.min_value, "max_value": self.max_value, "rate": self.rate,
                "axis": self.axis}


# Keras's lowercase names (the same classes)
max_norm, non_neg, unit_norm, min_max_norm = MaxNorm, NonNeg, UnitNorm, MinMaxNorm

_CLASSES = {cls.__name__: cls for cls in (Constraint, MaxNorm, MinMaxNorm, NonNeg, UnitNorm)}
_CLASSES.update({backend.to_snake_case(name): cls for name, cls in list(_CLASSES.items())})

__all__ = ["Constraint", "MaxNorm", "MinMaxNorm", "NonNeg", "UnitNorm", "max_norm",
           "min_max_norm", "non_neg", "unit_norm", "get", "serialize", "deserialize"]


def get(identifier):
    """A constraint from None, a name (``'max_norm'``, ``'NonNeg'``), a config dict, a
    class, an instance or any callable ``w -> w``."""
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = _CLASSES.get(identifier)
        if obj is None:
            raise _identifiers.not_understood("constraint", identifier,
                                              f"one of {sorted(_CLASSES)}")
    else:
        obj = identifier
    if inspect.isclass(obj):
        return obj()
    if callable(obj):
        return obj
    raise _identifiers.not_understood("constraint", identifier)


def serialize(constraint):
    """Keras's entry ``{'module', 'class_name', 'config', 'registered_name'}`` (a
    registered class's ``'package>name'`` included)."""
    if constraint is None:
        return None
    from tinyann.saving import registry

    registered = registry._GLOBAL_CUSTOM_NAMES.get(type(constraint))
    entry = _identifiers.serialize(constraint, None if registered else "keras.constraints")
    entry["registered_name"] = registered
    return entry


def deserialize(config, custom_objects=None):
    """A constraint from ``serialize``'s output (or a name): a built-in, or a class
    registered or given in ``custom_objects``."""
    if isinstance(config, str):
        found = None
        if custom_objects or config not in _CLASSES:
            from tinyann.saving import registry

            found = registry.get_registered_object(config, custom_objects)
        return get(found if found is not None else config)
    config = _identifiers.deserializable(config, "constraint")
    if "class_name" not in config:
        raise ValueError(f"Could not deserialize constraint: no 'class_name' in {config!r}")
    from tinyann.saving import registry

    name = config["class_name"]
    cls = registry.lookup(name, config.get("registered_name"), custom_objects) or (
        _CLASSES.get(name))
    if cls is None:
        raise ValueError(f"Unknown constraint class {name!r}. Expected one of "
                         f"{sorted(_CLASSES)}, or a class registered with "
                         "`keras.saving.register_keras_serializable()`")
    return cls.from_config(config.get("config") or {})
