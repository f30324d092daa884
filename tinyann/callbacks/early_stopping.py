"""EarlyStopping: stop ``fit`` when a monitored value has stopped improving."""

from __future__ import annotations

from tinyann.callbacks.monitor import MonitorCallback, check_baseline, check_non_negative_int


class EarlyStopping(MonitorCallback):
    """Stops training when ``monitor`` has not improved for ``patience`` epochs.

    Keras 3's rules, exactly: every epoch end (from ``start_from_epoch`` on) adds
    one to ``wait``; an improvement (by more than ``min_delta``) resets it to 0,
    unless a ``baseline`` is set and not beaten; training stops when
    ``wait >= patience`` (never at epoch 0). ``stopped_epoch`` is the 0-based
    epoch at which it stopped (0 if it never did).

    With ``restore_best_weights=True`` the weights of the best epoch are set back
    at the end of training, also when training ran to its last epoch without
    stopping. This is deliberate and what Keras 3 does (Keras 2 restored only
    when it stopped early): after ``fit`` the model is the best one seen.

    Args:
        monitor: the logs key to watch. Default ``'val_loss'``.
        min_delta: smallest change counted as an improvement. Default 0.
        patience: epochs without improvement before stopping. Default 0.
        verbose: 1 prints when it stops and when it restores weights.
        mode: ``'auto'``, ``'min'`` or ``'max'``.
        baseline: a value the monitor must beat; ``wait`` is not reset until it does.
        restore_best_weights: set the best epoch's weights back at the end.
        start_from_epoch: epochs of warm-up before watching starts.

    Example:
        >>> stop = keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True)
        >>> model.fit(x, y, validation_split=0.2, epochs=20, callbacks=[stop])
    """

    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__(monitor, mode, min_delta=min_delta)
        check_non_negative_int("patience", patience)
        check_non_negative_int("start_from_epoch", start_from_epoch)
        check_baseline(baseline)
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.wait = 0
        self.stopped_epoch = 0
        self.restore_best_weights = restore_best_weights
        self.best_weights = None
        self.best_epoch = 0
        self.start_from_epoch = start_from_epoch

    def on_train_begin(self, logs=None):
        # the same instance may serve several fit() calls
        self.wait = 0
        self.stopped_epoch = 0
        self.best = None
        self.best_weights = None
        self.best_epoch = 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        current = self.get_monitor_value(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            # nothing better seen yet: the current weights are the best so far
            self.best_weights = self.model.get_weights()
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            # wait restarts only when both the baseline and the best are beaten
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print("Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)

    def get_monitor_value(self, logs):
        return self._monitored_value(logs or {}, "Early stopping")
