"""BackupAndRestore: resume an interrupted ``fit`` where it stopped."""

from __future__ import annotations

import json
import os
import shutil

import numpy as np

from tinyann import backend
from tinyann.callbacks.callback import Callback
from tinyann.callbacks.monitor import BatchCounter, check_save_freq


class BackupAndRestore(Callback):
    """Backs up the training state in ``backup_dir`` at the end of every epoch
    (or every ``save_freq`` batches) and restores it when ``fit`` starts again,
    so an interrupted run resumes at the epoch after the last backup.

    The backup is Keras's: ``latest.weights.h5`` written by
    ``model.save_weights`` (the weights and, as in Keras 3, the optimizer's
    state), and ``training_metadata.json`` with the epoch to resume from. tinyann
    adds the state of its random generators (shuffling, Dropout masks) and the
    optimizer's iteration count and learning rate to that JSON file, so a resumed
    run gives the same weights as one that was never interrupted. The directory
    is deleted when training completes (``delete_checkpoint=True``).

    Args:
        backup_dir: a directory used by this callback only.
        save_freq: ``'epoch'``, a number of batches, or False (never back up).
        double_checkpoint: keep the previous backup too (``*.bkp``) and fall back
            to it when the latest one cannot be read.
        delete_checkpoint: delete ``backup_dir`` at the end of a completed ``fit``.

    Example:
        >>> backup = keras.callbacks.BackupAndRestore(backup_dir="/tmp/backup")
        >>> model.fit(x, y, epochs=10, callbacks=[backup])   # interrupted at epoch 4
        >>> model.fit(x, y, epochs=10, callbacks=[backup])   # runs epochs 5 to 10
    """

    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False,
                 delete_checkpoint=True):
        super().__init__()
        if not backup_dir:
            raise ValueError("Empty `backup_dir` argument passed")
        try:
            check_save_freq(save_freq, allow_false=True)
        except ValueError:
            raise ValueError(
                f"Invalid value for argument `save_freq`. Received: save_freq={save_freq}. "
                "Expected either 'epoch' or an integer value."
            ) from None
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._current_epoch = 0
        self._last_batch_seen = 0
        self._weights_path = os.path.join(self.backup_dir, "latest.weights.h5")
        self._training_metadata_path = os.path.join(self.backup_dir,
                                                    "training_metadata.json")
        self._prev_weights_path = self._weights_path + ".bkp"
        self._prev_training_metadata_path = self._training_metadata_path + ".bkp"
        if save_freq not in ("epoch", False):
            # an instance hook: with save_freq='epoch' fit never calls it per batch
            self._counter = BatchCounter(save_freq)
            self.on_train_batch_end = self._on_train_batch_end

    # ------------------------------------------------------------ restore
    def on_train_begin(self, logs=None):
        try:
            self._load_model()
        except (OSError, ValueError):
            # the latest backup may be corrupt: fall back to the previous one
            if not os.path.exists(self._prev_weights_path):
                raise
            shutil.copyfile(self._prev_weights_path, self._weights_path)
            if os.path.exists(self._prev_training_metadata_path):
                shutil.copyfile(self._prev_training_metadata_path,
                                self._training_metadata_path)
            elif os.path.exists(self._training_metadata_path):
                os.remove(self._training_metadata_path)
            self._load_model()

    def _load_model(self):
        model = self.model
        if not model.built:
            raise ValueError(
                "To use the BackupAndRestore callback, you model must be built before you "
                f"call `fit()`. Model {model} is unbuilt. You can build it beforehand by "
                "calling it on a batch of data."
            )
        metadata = None
        if os.path.exists(self._training_metadata_path):
            metadata = _read_json(self._training_metadata_path)
        if os.path.exists(self._weights_path):
            if model.optimizer is not None:
                # the optimizer's slots must exist before its state can be loaded
                model._packed_trainables()
            model.load_weights(self._weights_path)
            if metadata is not None:
                _restore_extra_state(model, metadata.get("tinyann", {}), self.backup_dir)
        if metadata is not None:
            self._current_epoch = int(metadata["epoch"])
            model._initial_epoch = self._current_epoch

    # ------------------------------------------------------------ backup
    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        self._last_batch_seen = 0
        if self.save_freq == "epoch":
            self._save_model()

    def _on_train_batch_end(self, batch, logs=None):
        if self._counter.step(batch):
            self._last_batch_seen = batch
            self._save_model()

    def _save_model(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint:
            for path, prev in ((self._weights_path, self._prev_weights_path),
                               (self._training_metadata_path,
                                self._prev_training_metadata_path)):
                if os.path.exists(path):
                    shutil.copyfile(path, prev)
        self.model.save_weights(self._weights_path, overwrite=True)
        metadata = {"epoch": self._current_epoch, "batch": self._last_batch_seen,
                    "tinyann": _extra_state(self.model)}
        _write_json(self._training_metadata_path, metadata)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and os.path.exists(self.backup_dir):
            shutil.rmtree(self.backup_dir)


# ---------------------------------------------------------------- extra state
def _generators(model):
    """``(key, Generator)`` for every random generator a layer owns (seeded Dropout).

    Keys are positions, not names: a model rebuilt in a new process has the same
    layers in the same order, but its automatic names may differ (``dropout_3``).
    """
    stack = [(str(i), layer) for i, layer in enumerate(model.layers)]
    while stack:
        prefix, layer = stack.pop(0)
        for attr, value in sorted(vars(layer).items()):
            if isinstance(value, np.random.Generator):
                yield f"{prefix}:{type(layer).__name__}/{attr}", value
        for i, sub in enumerate(getattr(layer, "layers", None) or []):
            stack.append((f"{prefix}.{i}", sub))


def _extra_state(model) -> dict:
    """What a resumed run needs beyond the weights file, as plain JSON values."""
    state = {"rng": backend.rng().bit_generator.state,
             "layer_rngs": {key: g.bit_generator.state for key, g in _generators(model)}}
    optimizer = model.optimizer
    if optimizer is not None:
        state["optimizer_iterations"] = int(optimizer.iterations)
        lr = getattr(optimizer, "_learning_rate", None)
        if lr is not None and not callable(lr):
            # a fixed rate may have been changed by ReduceLROnPlateau / a scheduler
            state["learning_rate"] = float(np.asarray(lr))
    return state


def _restore_extra_state(model, state, where):
    if "rng" in state:
        backend.rng().bit_generator.state = state["rng"]
    saved = state.get("layer_rngs", {})
    for key, generator in _generators(model):
        if key in saved:
            generator.bit_generator.state = saved[key]
    optimizer = model.optimizer
    if optimizer is not None and "optimizer_iterations" in state:
        if int(optimizer.iterations) != state["optimizer_iterations"]:
            raise ValueError(
                "The backup's weights file did not restore the optimizer's state: "
                f"expected {state['optimizer_iterations']} iterations, the optimizer has "
                f"{int(optimizer.iterations)}. Backup: {where}"
            )
        if "learning_rate" in state:
            optimizer.learning_rate = state["learning_rate"]


def _read_json(path) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            data = json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        raise OSError(f"Cannot read the BackupAndRestore metadata file {path}: {e}") from e
    if not isinstance(data, dict) or "epoch" not in data:
        raise OSError(
            f"The BackupAndRestore metadata file {path} is not valid: expected a JSON "
            f"object with an 'epoch' entry. Received: {str(data)[:100]}"
        )
    return data


def _write_json(path, data):
    """Writes ``data`` as JSON atomically (a temporary file, then rename)."""
    from tinyann.utils.files import atomic_path

    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f)
