"""LearningRateScheduler: set the learning rate at the start of every epoch."""

from __future__ import annotations

import numpy as np

from tinyann.callbacks.callback import Callback


class LearningRateScheduler(Callback):
    """Calls ``schedule(epoch, lr)`` (epoch 0-based, ``lr`` the current rate as a
    float) at each epoch's start and sets the optimizer's learning rate to the
    float it returns. A ``schedule(epoch)`` of one argument also works (Keras's
    old API). The rate is logged as ``learning_rate`` at each epoch's end.

    Args:
        schedule: function ``(epoch, lr) -> float``.
        verbose: 1 prints the rate set at each epoch.

    Example:
        >>> def schedule(epoch, lr):
        ...     return lr if epoch < 10 else lr * 0.9
        >>> model.fit(x, y, epochs=15,
        ...           callbacks=[keras.callbacks.LearningRateScheduler(schedule)])
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        if not callable(schedule):
            raise ValueError(
                "Argument `schedule` must be a function `schedule(epoch, lr) -> float`. "
                f"Received: schedule={schedule!r}"
            )
        self.schedule = schedule
        self.verbose = verbose

    def _update_optimizer_lr(self, optimizer, epoch):
        if not hasattr(optimizer, "learning_rate"):
            raise ValueError('Optimizer must have a "learning_rate" attribute.')
        try:
            learning_rate = self.schedule(epoch, float(np.asarray(optimizer.learning_rate)))
        except TypeError:
            # Keras's fallback for schedules written as `schedule(epoch)`
            learning_rate = self.schedule(epoch)
        if isinstance(learning_rate, np.ndarray) and learning_rate.ndim == 0:
            learning_rate = learning_rate[()]
        if not isinstance(learning_rate, (float, np.float32, np.float64)):
            raise ValueError(
                f"The output of the `schedule` function should be a float. Got: {learning_rate}"
            )
        optimizer.learning_rate = learning_rate
        return learning_rate

    def on_epoch_begin(self, epoch, logs=None):
        learning_rate = self._update_optimizer_lr(self.model.optimizer, epoch)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to "
                  f"{learning_rate}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(np.asarray(self.model.optimizer.learning_rate))
