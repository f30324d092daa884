"""History: the epoch logs of ``fit``, returned by it."""

from __future__ import annotations

from tinyann.callbacks.callback import Callback


class History(Callback):
    """``history.history`` maps each metric name to its list of epoch values;
    ``history.epoch`` lists the epochs run."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)

    def __repr__(self):
        return f"<History epochs={len(self.epoch)} keys={list(self.history)}>"
