"""Callbacks with Keras's names and hooks."""

from tinyann.callbacks.callback import Callback, CallbackList
from tinyann.callbacks.history import History
from tinyann.callbacks.progbar_logger import ProgbarLogger

__all__ = ["Callback", "CallbackList", "History", "ProgbarLogger"]
