"""BackupAndRestore: an interrupted fit resumed from its backup ends with exactly
the weights of a run that was never interrupted."""

from __future__ import annotations

import json

import numpy as np
import pytest

import tinyann as keras


class Interrupt(keras.callbacks.Callback):
    def __init__(self, at_epoch):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise RuntimeError("Interrupting!")


def _model(seed):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input((6,)), keras.layers.Dense(16, activation="relu"),
        keras.layers.Dropout(0.3), keras.layers.Dense(8, activation="relu"),
        keras.layers.Dropout(0.2, seed=11), keras.layers.Dense(2, activation="softmax")])
    model.compile(keras.optimizers.Adam(learning_rate=0.01), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _assert_weights_equal(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


@pytest.mark.parametrize("fresh_process", [False, True])
def test_resumed_run_equals_an_uninterrupted_one(make_data, tmp_path, fresh_process):
    x, y = make_data(n=120)
    fit = {"epochs": 6, "batch_size": 16, "verbose": 0, "validation_split": 0.2}

    reference = _model(seed=0)
    ref_history = reference.fit(x, y, **fit)

    backup = keras.callbacks.BackupAndRestore(tmp_path / "backup")
    model = _model(seed=0)
    with pytest.raises(RuntimeError, match="Interrupting!"):
        model.fit(x, y, callbacks=[backup, Interrupt(3)], **fit)
    metadata = json.loads((tmp_path / "backup" / "training_metadata.json").read_text())
    assert (metadata["epoch"], metadata["batch"]) == (3, 0)

    if fresh_process:
        # a new process: other weights, a new optimizer, another random state
        model = _model(seed=123)
        backup = keras.callbacks.BackupAndRestore(tmp_path / "backup")
    else:
        keras.utils.set_random_seed(99)
    history = model.fit(x, y, callbacks=[backup], **fit)
    assert history.epoch == [3, 4, 5]
    _assert_weights_equal(model.get_weights(), reference.get_weights())
    assert history.history["loss"] == ref_history.history["loss"][3:]
    assert model.optimizer.iterations == reference.optimizer.iterations
    assert not (tmp_path / "backup").exists()  # deleted once training completed


def test_without_a_backup_training_starts_at_epoch_0(make_data, tmp_path):
    x, y = make_data()
    model = _model(seed=0)
    history = model.fit(x, y, epochs=2, verbose=0, callbacks=[
        keras.callbacks.BackupAndRestore(tmp_path / "b", delete_checkpoint=False)])
    assert history.epoch == [0, 1]
    assert sorted(p.name for p in (tmp_path / "b").iterdir()) == [
        "latest.weights.h5", "training_metadata.json"]
    # a completed run's backup (kept) makes the next fit start where it ended
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[
        keras.callbacks.BackupAndRestore(tmp_path / "b")])
    assert history.epoch == [2]


def test_double_checkpoint_falls_back_to_the_previous_backup(make_data, tmp_path):
    x, y = make_data()
    model = _model(seed=0)
    backup = keras.callbacks.BackupAndRestore(tmp_path / "b", double_checkpoint=True)
    with pytest.raises(RuntimeError):
        model.fit(x, y, epochs=5, verbose=0, callbacks=[backup, Interrupt(3)])
    names = sorted(p.name for p in (tmp_path / "b").iterdir())
    assert names == ["latest.weights.h5", "latest.weights.h5.bkp",
                     "training_metadata.json", "training_metadata.json.bkp"]
    (tmp_path / "b" / "latest.weights.h5").write_bytes(b"garbage")
    history = model.fit(x, y, epochs=5, verbose=0, callbacks=[backup])
    assert history.epoch == [2, 3, 4]  # the previous backup was taken after epoch 2


def test_a_corrupt_backup_without_fallback_names_the_file(make_data, tmp_path):
    x, y = make_data()
    model = _model(seed=0)
    backup = keras.callbacks.BackupAndRestore(tmp_path / "b")
    with pytest.raises(RuntimeError):
        model.fit(x, y, epochs=5, verbose=0, callbacks=[backup, Interrupt(2)])
    (tmp_path / "b" / "training_metadata.json").write_text("{not json")
    with pytest.raises(OSError, match=r"training_metadata\.json"):
        model.fit(x, y, epochs=5, verbose=0, callbacks=[backup])


def test_save_freq_in_batches(make_data, tmp_path):
    x, y = make_data(n=64)
    model = _model(seed=0)
    saves = []
    backup = keras.callbacks.BackupAndRestore(tmp_path / "b", save_freq=3,
                                              delete_checkpoint=False)
    original = backup._save_model
    backup._save_model = lambda: (saves.append(model.optimizer.iterations), original())
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[backup])
    assert saves == [3, 6]
    metadata = json.loads((tmp_path / "b" / "training_metadata.json").read_text())
    assert metadata["epoch"] == 1  # mid-epoch backups resume at that epoch's start (Keras)


def test_an_unbuilt_model_is_refused(tmp_path):
    model = keras.Sequential([keras.layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    batches = [(np.zeros((4, 3), "float32"), np.zeros(4, "int64"))]
    with pytest.raises(ValueError, match=r"To use the BackupAndRestore callback, you model "
                                         r"must be built before you call `fit\(\)`"):
        model.fit(iter(batches), epochs=1, verbose=0,
                  callbacks=[keras.callbacks.BackupAndRestore(tmp_path / "b")])


@pytest.mark.parametrize("kwargs, match", [
    ({"backup_dir": ""}, r"^Empty `backup_dir` argument passed$"),
    ({"backup_dir": "b", "save_freq": "batch"}, r"Invalid value for argument `save_freq`"),
    ({"backup_dir": "b", "save_freq": -1}, r"Invalid value for argument `save_freq`"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        keras.callbacks.BackupAndRestore(**kwargs)
