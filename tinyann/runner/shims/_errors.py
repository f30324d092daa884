"""The error for TensorFlow and Keras symbols that tinyann does not serve."""

from __future__ import annotations

SERVED_TF = ("tf.keras, tensors and tf.GradientTape, TensorFlow's everyday math "
             "(tf.*, tf.math, tf.nn, tf.linalg, tf.random; see "
             "tinyann.runner.shims.tensorflow), tf.config.list_physical_devices, "
             "tf.data.Dataset (in-memory), tf.cast and the dtypes")


class NotServedError(AttributeError):
    """A TensorFlow or Keras name that ``tinyann run`` does not provide.

    An ``AttributeError``, so ``hasattr`` and ``getattr(module, name, default)`` keep
    working (matplotlib probes ``tensorflow.is_tensor`` this way).
    """


def not_served(symbol, hint=None, served=SERVED_TF) -> NotServedError:
    """The error for ``symbol`` (``'tf.reduce_mean'``), naming an equivalent if any.

    ``hint`` is the equivalent (``'numpy.mean'``), or ``'not needed: <why>'``.
    """
    message = (f"`{symbol}` is not served by tinyann: TensorFlow is not installed for this "
               f"run, and tinyann provides only {served}.")
    if hint and hint.startswith("not needed: "):
        message += f" It is not needed here: {hint[len('not needed: '):]}."
    elif hint:
        message += f" Use {hint} instead."
    return NotServedError(message)
