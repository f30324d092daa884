"""CSVLogger: one CSV row of epoch results per epoch."""

from __future__ import annotations

import collections.abc
import csv
import io
import os

import numpy as np

from tinyann.callbacks.callback import Callback


class CSVLogger(Callback):
    """Writes ``epoch`` (0-based) and the sorted logs keys as CSV, one row per epoch.

    Keras's columns: ``epoch`` then the logs keys sorted; when the first epoch has
    no ``val_`` keys, ``val_<key>`` columns are added anyway and hold ``NA`` where
    there is no value (so ``validation_freq > 1`` keeps one layout). Rows end in
    ``\\r\\n`` (the csv module's excel dialect). The file is rewritten atomically
    (temporary file, then rename) after every epoch, so it is never half written.

    Args:
        filename: path of the CSV file.
        separator: the delimiter. Default ``','``.
        append: keep an existing file's rows and add to them (no second header).

    Example:
        >>> model.fit(x, y, epochs=5, callbacks=[keras.callbacks.CSVLogger("log.csv")])
    """

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        if not isinstance(separator, str) or len(separator) != 1:
            raise ValueError(
                f"Argument `separator` must be a single character. Received: "
                f"separator={separator!r}"
            )
        self.sep = separator
        self.filename = os.fspath(filename)
        self.append = append
        self.keys = None
        self.append_header = True
        self._previous = ""
        self._buffer = None
        self.writer = None

    def on_train_begin(self, logs=None):
        self._previous = ""
        self.append_header = True
        if self.append and os.path.exists(self.filename):
            with open(self.filename, newline="") as f:
                self._previous = f.read()
            # a header only when the file is empty, as Keras
            self.append_header = not self._previous
        self._buffer = io.StringIO(newline="")
        self.writer = None
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if self._buffer is None:
            self.on_train_begin()
        if self.keys is None:
            self.keys = sorted(logs.keys())
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                self.keys.extend([f"val_{k}" for k in self.keys])
        if self.writer is None:

            class Dialect(csv.excel):
                delimiter = self.sep

            self.writer = csv.DictWriter(self._buffer, fieldnames=["epoch"] + self.keys,
                                         dialect=Dialect)
            if self.append_header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((key, _handle_value(logs.get(key, "NA"))) for key in self.keys)
        self.writer.writerow(row)
        self._write()

    def _write(self):
        from tinyann.utils.files import atomic_path

        with atomic_path(self.filename) as tmp, open(tmp, "w", newline="") as f:
            f.write(self._previous)
            f.write(self._buffer.getvalue())

    def on_train_end(self, logs=None):
        self.writer = None


def _handle_value(value):
    if isinstance(value, str):
        return value
    if isinstance(value, collections.abc.Iterable) and not (
            isinstance(value, np.ndarray) and value.ndim == 0):
        return f'"[{", ".join(map(str, value))}]"'
    return value
