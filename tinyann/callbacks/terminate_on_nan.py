"""TerminateOnNaN: stop ``fit`` at the first batch whose loss is NaN or infinite."""

from __future__ import annotations

import math

from tinyann.callbacks.callback import Callback


class TerminateOnNaN(Callback):
    """Stops training as soon as the running loss becomes NaN or infinite.

    By default it prints ``Batch N: Invalid loss, terminating training`` and sets
    ``model.stop_training``, so the epoch ends there and ``on_train_end`` still
    runs for every callback. With ``raise_error=True`` it raises a
    ``RuntimeError`` instead, skipping that cleanup (Keras 3's option).

    Args:
        raise_error: raise instead of stopping gracefully.

    Example:
        >>> model.fit(x, y, callbacks=[keras.callbacks.TerminateOnNaN()])
    """

    def __init__(self, raise_error: bool = False):
        super().__init__()
        self.raise_error = raise_error

    def on_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is None or math.isfinite(loss):
            return
        if self.raise_error:
            raise RuntimeError(
                f"NaN or Inf loss encountered at batch {batch}. Loss value: {loss}. "
                "Terminating training immediately."
            )
        print(f"Batch {batch}: Invalid loss, terminating training")
        self.model.stop_training = True
