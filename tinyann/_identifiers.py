"""Keras's way of naming and rebuilding its small objects (initializers, regularizers,
losses, metrics, optimizers, schedules): ``get(identifier)``, ``serialize`` and the
``get_config`` / ``from_config`` round trip.

A building block: it imports nothing of tinyann.
"""

from __future__ import annotations

from dataclasses import dataclass


class Configurable:
    """An object rebuilt from its config: ``cls.from_config(obj.get_config())``."""

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def serialize(obj, module: str) -> dict:
    """Keras's config form, ``{'module', 'class_name', 'config', 'registered_name'}``."""
    return {"module": module, "class_name": type(obj).__name__,
            "config": obj.get_config(), "registered_name": None}


def not_understood(kind: str, identifier, expected: str | None = None) -> ValueError:
    """Keras's error for an identifier ``get`` cannot read (``expected``: what it reads)."""
    message = f"Could not interpret {kind} identifier: {identifier!r}"
    return ValueError(message if expected is None else f"{message}. Expected {expected}")


def deserializable(config, kind: str):
    """``config``, which ``deserialize`` takes as a name or a config dict: anything
    else is an error."""
    if not isinstance(config, (str, dict)):
        raise ValueError(
            f"Could not deserialize {kind}: expected a name or a config dict. "
            f"Received: {config!r} of type {type(config).__name__}"
        )
    return config


@dataclass(frozen=True)
class Identifiers:
    """The identifiers one family's ``get`` reads the same way: an instance of
    ``base``, a name, a config dict (and, with ``classes_too``, a class).

    ``names`` are the strings listed in the error (``'mse'``); ``classes`` the class
    names (``'MeanSquaredError'``), which strings may name too. A config's
    ``class_name`` is looked up in ``classes``, then (``names_in_configs``) ``names``.
    """

    kind: str  # "loss": for the messages
    base: type
    names: dict
    classes: dict
    names_in_configs: bool = True
    classes_too: bool = False

    def lookup(self, identifier):
        """The object ``identifier`` stands for, or None when it is none of the
        forms above (the family's ``get`` reads the rest its own way)."""
        if isinstance(identifier, self.base):
            return identifier
        if self.classes_too and isinstance(identifier, type) and issubclass(
                identifier, self.base):
            return identifier()
        if isinstance(identifier, str):
            cls = self.names.get(identifier) or self.classes.get(identifier)
            if cls is None:
                raise not_understood(self.kind, identifier, f"one of {sorted(self.names)}")
            return cls()
        if isinstance(identifier, dict) and "class_name" in identifier:
            name = identifier["class_name"]
            cls = self.classes.get(name) or (
                self.names.get(name) if self.names_in_configs else None)
            if cls is None:
                raise ValueError(
                    f"Unknown {self.kind} class {name!r}. Expected one of {sorted(self.classes)}"
                )
            return cls.from_config(identifier.get("config") or {})
        return None
