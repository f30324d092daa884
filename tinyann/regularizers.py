"""Weight penalties added to the loss: ``L1``, ``L2``, ``L1L2`` (Keras's formulas)."""

from __future__ import annotations

import numpy as np

from tinyann import _identifiers


class Regularizer(_identifiers.Configurable):
    """``penalty = regularizer(w)``; ``gradient(w)`` is d penalty / dw."""

    def __call__(self, w) -> float:
        raise NotImplementedError

    def gradient(self, w) -> np.ndarray:
        raise NotImplementedError


class L1L2(Regularizer):
    """``l1 * sum(|w|) + l2 * sum(w^2)``."""

    def __init__(self, l1=0.0, l2=0.0):
        for name, value in (("l1", l1), ("l2", l2)):
            if value < 0 or not np.isfinite(value):
                raise ValueError(
                    f"Value for argument `{name}` must be a non-negative number. "
                    f"Received: {name}={value!r}"
                )
        self.l1, self.l2 = float(l1), float(l2)

    def __call__(self, w):
        w = np.asarray(w)
        total = 0.0
        if self.l1:
            total += self.l1 * float(np.abs(w).sum())
        if self.l2:
            total += self.l2 * float(np.square(w).sum())
        return total

    def gradient(self, w):
        w = np.asarray(w)
        grad = np.zeros_like(w)
        if self.l1:
            grad += np.sign(w) * w.dtype.type(self.l1)
        if self.l2:
            grad += w * w.dtype.type(2.0 * self.l2)
        return grad

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    def __init__(self, l1=0.01):
        super().__init__(l1=l1)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    def __init__(self, l2=0.01):
        super().__init__(l2=l2)

    def get_config(self):
        return {"l2": self.l2}


l1, l2, l1_l2 = L1, L2, L1L2
_CLASSES = {"L1": L1, "L2": L2, "L1L2": L1L2, "l1": L1, "l2": L2, "l1_l2": L1L2}


def get(identifier):
    """A regularizer from None, a string (``'l2'``), a config dict or an instance."""
    if identifier is None or isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, str) and identifier in _CLASSES:
        return _CLASSES[identifier]()
    if isinstance(identifier, dict) and identifier.get("class_name") in _CLASSES:
        return _CLASSES[identifier["class_name"]].from_config(identifier.get("config") or {})
    raise _identifiers.not_understood(
        "regularizer", identifier, f"one of {sorted(_CLASSES)}, a config dict or a Regularizer.")


def serialize(regularizer):
    if regularizer is None:
        return None
    return _identifiers.serialize(regularizer, "keras.regularizers")


def deserialize(config, custom_objects=None):
    """A regularizer from ``serialize``'s output (or a name)."""
    return get(_identifiers.deserializable(config, "regularizer"))
