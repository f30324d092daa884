"""``keras.config``: which backend runs, float type, epsilon, image data format, the
global dtype policy, logging settings, and tinyann's kernel set
(``set_kernels('reference' | 'fast')``, see tinyann.kernels)."""

from tinyann.backend import (
    backend,
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)
from tinyann.dtype_policies import dtype_policy, set_dtype_policy
from tinyann.kernels import kernels, set_kernels

__all__ = ["backend", "epsilon", "floatx", "image_data_format", "set_epsilon", "set_floatx",
           "set_image_data_format", "dtype_policy", "set_dtype_policy",
           "kernels", "set_kernels", "enable_unsafe_deserialization", "disable_interactive_logging",
           "enable_interactive_logging", "is_interactive_logging_enabled",
           "enable_traceback_filtering", "disable_traceback_filtering",
           "is_traceback_filtering_enabled"]

_INTERACTIVE_LOGGING = True
_TRACEBACK_FILTERING = True


def enable_unsafe_deserialization():
    """Accepted for Keras compatibility; tinyann never runs code from model files."""


def disable_interactive_logging():
    """Progress bars and summaries go to the ``tinyann`` logger (INFO) instead of
    standard output, as Keras sends them to logging."""
    global _INTERACTIVE_LOGGING
    _INTERACTIVE_LOGGING = False


def enable_interactive_logging():
    global _INTERACTIVE_LOGGING
    _INTERACTIVE_LOGGING = True


def is_interactive_logging_enabled():
    return _INTERACTIVE_LOGGING


def enable_traceback_filtering():
    """Kept for code that sets it: tinyann's tracebacks are never filtered (they are
    short already: no graph tracing), so the setting changes nothing but its value."""
    global _TRACEBACK_FILTERING
    _TRACEBACK_FILTERING = True


def disable_traceback_filtering():
    """See ``enable_traceback_filtering``."""
    global _TRACEBACK_FILTERING
    _TRACEBACK_FILTERING = False


def is_traceback_filtering_enabled():
    return _TRACEBACK_FILTERING
