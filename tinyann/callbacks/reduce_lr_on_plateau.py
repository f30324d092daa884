"""ReduceLROnPlateau: lower the learning rate when a monitored value stalls."""

from __future__ import annotations

import warnings

import numpy as np

from tinyann.callbacks.monitor import MonitorCallback, check_non_negative_int


class ReduceLROnPlateau(MonitorCallback):
    """Multiplies the learning rate by ``factor`` after ``patience`` epochs without
    an improvement (by more than ``min_delta``) of ``monitor``, never below
    ``min_lr``; then waits ``cooldown`` epochs before counting again. Keras 3's
    rules; the rate is logged as ``learning_rate`` at each epoch's end.

    Args:
        monitor: the logs key to watch. Default ``'val_loss'``.
        factor: new_lr = lr * factor, with 0 <= factor < 1. Default 0.1.
        patience: epochs without improvement before reducing. Default 10.
        verbose: 1 prints each reduction.
        mode: ``'auto'``, ``'min'`` or ``'max'``.
        min_delta: smallest change counted as an improvement. Default 1e-4.
        cooldown: epochs to wait after a reduction. Default 0.
        min_lr: lower bound of the learning rate. Default 0.

    Example:
        >>> reduce = keras.callbacks.ReduceLROnPlateau(factor=0.2, patience=5, min_lr=1e-5)
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs):
        super().__init__(monitor, mode, min_delta=min_delta)
        if kwargs:
            # Keras 3 accepts and ignores them (Keras 2's `epsilon`...); say so
            warnings.warn(f"ReduceLROnPlateau ignores the argument(s) {sorted(kwargs)}.",
                          stacklevel=2)
        if factor >= 1.0:
            raise ValueError(
                f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}"
            )
        if factor < 0:
            raise ValueError(
                f"ReduceLROnPlateau needs a factor in [0, 1). Received factor={factor}"
            )
        check_non_negative_int("patience", patience)
        check_non_negative_int("cooldown", cooldown)
        if min_lr < 0:
            raise ValueError(f"Argument `min_lr` must be >= 0. Received: min_lr={min_lr}")
        self.factor = factor
        self.min_lr = min_lr
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.cooldown_counter = self.wait = 0

    def _reset(self):
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        self._reset()

    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def _reduce_optimizer_lr(self, optimizer, epoch) -> bool:
        old_lr = float(np.asarray(optimizer.learning_rate))
        if old_lr > np.float32(self.min_lr):
            new_lr = max(old_lr * self.factor, self.min_lr)
            optimizer.learning_rate = new_lr
            if self.verbose > 0:
                print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to "
                      f"{new_lr}.")
            return True
        return False

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        logs = logs if logs is not None else {}
        logs["learning_rate"] = float(np.asarray(self.model.optimizer.learning_rate))
        current = self._monitored_value(logs, "Learning rate reduction is", end=".")
        if current is None:
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and self._reduce_optimizer_lr(
                    self.model.optimizer, epoch):
                self.cooldown_counter = self.cooldown
                self.wait = 0
