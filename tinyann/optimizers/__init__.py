"""Optimizers with Keras 3's names, defaults and update formulas.

    optimizers.get("adam") -> Adam()
"""

from tinyann import _identifiers
from tinyann.optimizers import schedules
from tinyann.optimizers.adafactor import Adafactor
from tinyann.optimizers.adagrad import Adadelta, Adagrad
from tinyann.optimizers.adam import Adam, Adamax, AdamW, Nadam
from tinyann.optimizers.base import Optimizer
from tinyann.optimizers.ftrl import Ftrl
from tinyann.optimizers.lamb import Lamb
from tinyann.optimizers.lion import Lion
from tinyann.optimizers.rmsprop import RMSprop
from tinyann.optimizers.sgd import SGD

_CLASSES = {c.__name__: c for c in (SGD, RMSprop, Adam, AdamW, Adamax, Adagrad, Adadelta,
                                     Nadam, Ftrl, Lion, Lamb, Adafactor)}
_STRINGS = {name.lower(): cls for name, cls in _CLASSES.items()}

__all__ = ["Optimizer", "SGD", "RMSprop", "Adam", "AdamW", "Adamax", "Adagrad", "Adadelta", "Nadam",
           "Ftrl", "Lion", "Lamb", "Adafactor",
           "schedules", "get", "serialize", "deserialize"]


def get(identifier) -> Optimizer:
    """An optimizer from a string (``'adam'``), a Keras config dict or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, str):
        cls = _STRINGS.get(identifier.lower())
        if cls is None:
            raise _identifiers.not_understood("optimizer", identifier,
                                              f"one of {sorted(_STRINGS)}")
        return cls()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise _identifiers.not_understood("optimizer", identifier,
                                      "a string, a config dict or an Optimizer instance.")


def serialize(optimizer: Optimizer) -> dict:
    return _identifiers.serialize(optimizer, "keras.optimizers")


def deserialize(config: dict) -> Optimizer:
    name = config.get("class_name")
    cls = _CLASSES.get(name) or _STRINGS.get(str(name).lower())
    if cls is None:
        raise ValueError(f"Unknown optimizer {name!r}. Expected one of {sorted(_CLASSES)}")
    return cls.from_config(config.get("config") or {})
