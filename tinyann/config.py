"""``keras.config``: which backend runs, float type, epsilon, image data format, and
tinyann's kernel set (``set_kernels('reference' | 'fast')``, see tinyann.kernels)."""

from tinyann.backend import (
    backend,
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
)
from tinyann.kernels import kernels, set_kernels

__all__ = ["backend", "epsilon", "floatx", "image_data_format", "set_epsilon", "set_floatx",
           "kernels", "set_kernels", "enable_unsafe_deserialization", "disable_interactive_logging",
           "enable_interactive_logging", "is_interactive_logging_enabled"]

_INTERACTIVE_LOGGING = True


def enable_unsafe_deserialization():
    """Accepted for Keras compatibility; tinyann never runs code from model files."""


def disable_interactive_logging():
    global _INTERACTIVE_LOGGING
    _INTERACTIVE_LOGGING = False


def enable_interactive_logging():
    global _INTERACTIVE_LOGGING
    _INTERACTIVE_LOGGING = True


def is_interactive_logging_enabled():
    return _INTERACTIVE_LOGGING
