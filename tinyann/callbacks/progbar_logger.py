"""ProgbarLogger: Keras's ``Epoch 1/5`` and progress bar lines."""

from __future__ import annotations

import sys

from tinyann.callbacks.callback import Callback
from tinyann.utils.progbar import Progbar


class ProgbarLogger(Callback):
    """Prints progress for ``fit``, ``evaluate`` and ``predict`` at ``params['verbose']``."""

    def __init__(self, stream=None):
        super().__init__()
        self.stream = stream
        self.progbar = None
        self.verbose = 1
        self.epochs = 1
        self._seen = 0
        # validation inside fit is silent (Keras's rule); set by on_train_begin
        self._called_in_fit = False

    def set_params(self, params):
        super().set_params(params)
        self.verbose = params.get("verbose", 1)
        self.epochs = params.get("epochs", 1)

    def _new_bar(self, steps):
        # the logs are already running means: shown as given, read only when drawn
        self.progbar = Progbar(steps, verbose=self.verbose, stateless_metrics=set(),
                               stream=self.stream or sys.stdout)

    def on_train_begin(self, logs=None):
        self._called_in_fit = True

    def on_epoch_begin(self, epoch, logs=None):
        if self.verbose and self.epochs > 1:
            (self.stream or sys.stdout).write(f"Epoch {epoch + 1}/{self.epochs}\n")
        self._seen = 0
        self._new_bar(self.params.get("steps"))

    def on_train_batch_end(self, batch, logs=None):
        self._seen = batch + 1
        self.progbar.update(batch + 1, logs, finalize=False)

    def on_epoch_end(self, epoch, logs=None):
        self.progbar.update(self.params.get("steps") or self._seen, logs, finalize=True)

    def on_test_begin(self, logs=None):
        if self._called_in_fit:
            return
        self._new_bar(self.params.get("test_steps", self.params.get("steps")))

    def on_test_batch_end(self, batch, logs=None):
        if not self._called_in_fit:
            self.progbar.update(batch + 1, logs, finalize=False)

    def on_test_end(self, logs=None):
        if not self._called_in_fit:
            self.progbar.update(self.progbar.target, logs, finalize=True)

    def on_predict_begin(self, logs=None):
        self._new_bar(self.params.get("steps"))

    def on_predict_batch_end(self, batch, logs=None):
        self.progbar.update(batch + 1, finalize=False)

    def on_predict_end(self, logs=None):
        self.progbar.update(self.progbar.target, finalize=True)
