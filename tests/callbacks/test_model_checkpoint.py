"""ModelCheckpoint inside fit, writing through tinyann.saving (the file-naming and
decision rules are compared with Keras in test_callback_keras_parity.py)."""

from __future__ import annotations

import numpy as np
import pytest

import tinyann as keras


def _assert_weights_equal(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


def test_save_best_only_keeps_the_best_model(make_model, make_data, script, tmp_path):
    x, y = make_data()
    model = make_model()
    scripted = script([1.0, 0.6, 0.8, 0.5, 0.9])
    path = tmp_path / "best-model.keras"
    ckpt = keras.callbacks.ModelCheckpoint(path, save_best_only=True)
    model.fit(x, y, epochs=5, verbose=0, validation_data=(x, y), callbacks=[scripted, ckpt])
    assert ckpt.best == 0.5
    best = keras.saving.load_model(path)
    _assert_weights_equal(best.get_weights(), scripted.weights[3])
    np.testing.assert_array_equal(best.predict(x, verbose=0), _predict_with(
        model, scripted.weights[3], x))


def _predict_with(model, weights, x):
    saved = model.get_weights()
    model.set_weights(weights)
    out = model.predict(x, verbose=0)
    model.set_weights(saved)
    return out


def test_weights_every_epoch_with_formatted_names(make_model, make_data, script, tmp_path):
    x, y = make_data()
    model = make_model()
    scripted = script([0.25, 0.125, 0.5])
    ckpt = keras.callbacks.ModelCheckpoint(
        tmp_path / "ckpt" / "w-{epoch:02d}-{val_loss:.4f}.weights.h5", save_weights_only=True)
    model.fit(x, y, epochs=3, verbose=0, validation_data=(x, y), callbacks=[scripted, ckpt])
    names = sorted(p.name for p in (tmp_path / "ckpt").iterdir())
    assert names == ["w-01-0.2500.weights.h5", "w-02-0.1250.weights.h5",
                     "w-03-0.5000.weights.h5"]
    fresh = make_model(seed=9)
    fresh.load_weights(tmp_path / "ckpt" / "w-02-0.1250.weights.h5")
    _assert_weights_equal(fresh.get_weights(), scripted.weights[1])


def test_save_freq_in_batches_follows_keras_counting(make_model, make_data, tmp_path):
    x, y = make_data(n=64)
    model = make_model()
    ckpt = keras.callbacks.ModelCheckpoint(tmp_path / "b-{epoch}-{batch}.weights.h5",
                                           save_weights_only=True, save_freq=3)
    model.fit(x, y, epochs=2, batch_size=16, verbose=0, callbacks=[ckpt])
    # 4 batches an epoch: saves after 3 batches, then 3 more (1 + 2 of epoch 2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["b-1-3.weights.h5",
                                                          "b-2-2.weights.h5"]


def test_verbose_messages_in_fit(make_model, make_data, script, tmp_path, capsys):
    x, y = make_data()
    model = make_model()
    path = tmp_path / "m.weights.h5"
    ckpt = keras.callbacks.ModelCheckpoint(path, save_best_only=True, save_weights_only=True,
                                           verbose=1)
    model.fit(x, y, epochs=2, verbose=0, validation_data=(x, y),
              callbacks=[script([0.5, 0.75]), ckpt])
    assert capsys.readouterr().out == (
        f"\nEpoch 1: val_loss improved from None to 0.50000, saving model to {path}\n"
        f"\nEpoch 1: finished saving model to {path}\n"
        f"\nEpoch 2: val_loss did not improve from 0.50000\n")


def test_a_directory_as_filepath(make_model, make_data, tmp_path):
    x, y = make_data()
    (tmp_path / "dir.keras").mkdir()
    with pytest.raises(OSError, match=r"Please specify a non-directory filepath for "
                                      r"ModelCheckpoint\. Filepath used is an existing "
                                      r"directory: .*dir\.keras"):
        make_model().fit(x, y, epochs=1, verbose=0, callbacks=[
            keras.callbacks.ModelCheckpoint(tmp_path / "dir.keras")])


@pytest.mark.parametrize("kwargs, match", [
    ({"save_freq": 0}, r"`save_freq` must be 'epoch' or a positive number of batches"),
    ({"save_freq": 2.5}, r"Unrecognized save_freq: 2.5"),
    ({"monitor": 3}, r"`monitor` must be the name of a logged metric"),
])
def test_bad_arguments(kwargs, match, tmp_path):
    with pytest.raises(ValueError, match=match):
        keras.callbacks.ModelCheckpoint(tmp_path / "m.keras", **kwargs)


def test_save_best_only_with_an_unknown_monitor_fails_at_epoch_end(make_model, make_data,
                                                                    tmp_path):
    x, y = make_data()
    with pytest.raises(ValueError, match=r"ModelCheckpoint callback received monitor=val_auc"):
        make_model().fit(x, y, epochs=1, verbose=0, validation_data=(x, y), callbacks=[
            keras.callbacks.ModelCheckpoint(tmp_path / "m.keras", monitor="val_auc",
                                            save_best_only=True)])
