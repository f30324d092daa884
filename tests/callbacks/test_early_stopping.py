"""EarlyStopping inside real fit() calls (the rules themselves are compared with
Keras in test_callback_keras_parity.py)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinyann as keras


def _assert_weights_equal(a, b):
    assert len(a) == len(b)
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)


def test_stops_and_restores_the_best_epoch(make_model, make_data, script):
    x, y = make_data()
    model = make_model()
    scripted = script([1.0, 0.8, 0.9, 0.95, 0.7, 0.6])
    stop = keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    history = model.fit(x, y, epochs=6, batch_size=16, verbose=0,
                        validation_data=(x, y), callbacks=[scripted, stop])
    assert stop.stopped_epoch == 3
    assert len(history.history["loss"]) == stop.stopped_epoch + 1 == 4
    assert history.history["val_loss"] == [1.0, 0.8, 0.9, 0.95]
    assert stop.best_epoch == 1
    _assert_weights_equal(model.get_weights(), scripted.weights[1])
    assert model.stop_training is True


def test_restores_the_best_weights_also_without_stopping(make_model, make_data, script):
    x, y = make_data()
    model = make_model()
    scripted = script([1.0, 0.5, 0.7, 0.8])
    stop = keras.callbacks.EarlyStopping(patience=5, restore_best_weights=True)
    history = model.fit(x, y, epochs=4, batch_size=16, verbose=0, validation_data=(x, y),
                        callbacks=[scripted, stop])
    assert stop.stopped_epoch == 0
    assert len(history.history["loss"]) == 4
    _assert_weights_equal(model.get_weights(), scripted.weights[1])


def test_without_restore_the_last_weights_stay(make_model, make_data, script):
    x, y = make_data()
    model = make_model()
    scripted = script([1.0, 0.5, 0.7, 0.8])
    stop = keras.callbacks.EarlyStopping(patience=2)
    model.fit(x, y, epochs=4, batch_size=16, verbose=0, validation_data=(x, y),
              callbacks=[scripted, stop])
    assert stop.stopped_epoch == 3
    _assert_weights_equal(model.get_weights(), scripted.weights[-1])


def test_an_instance_serves_two_fits(make_model, make_data, script):
    x, y = make_data()
    model = make_model()
    stop = keras.callbacks.EarlyStopping(patience=1)
    model.fit(x, y, epochs=5, verbose=0, validation_data=(x, y),
              callbacks=[script([1.0, 2.0, 3.0, 4.0, 5.0]), stop])
    assert stop.stopped_epoch == 1
    history = model.fit(x, y, epochs=3, verbose=0, validation_data=(x, y),
                        callbacks=[script([3.0, 2.0, 1.0]), stop])
    assert stop.stopped_epoch == 0 and stop.wait == 0 and stop.best == 1.0
    assert len(history.history["loss"]) == 3


def test_monitor_on_training_accuracy_auto_mode_maximises(make_model, make_data, script):
    x, y = make_data()
    model = make_model()
    stop = keras.callbacks.EarlyStopping(monitor="accuracy", patience=1)
    model.fit(x, y, epochs=5, verbose=0,
              callbacks=[script([0.5, 0.6, 0.55, 0.7, 0.8], key="accuracy"), stop])
    assert stop.stopped_epoch == 2


def test_missing_monitor_warns_with_the_available_metrics(make_model, make_data):
    x, y = make_data()
    model = make_model()
    with pytest.warns(UserWarning, match=r"Early stopping conditioned on metric `val_loss` "
                                         r"which is not available\. Available metrics are: "
                                         r"accuracy,loss$"):
        history = model.fit(x, y, epochs=2, verbose=0,
                            callbacks=[keras.callbacks.EarlyStopping()])
    assert len(history.history["loss"]) == 2


def test_unknown_monitor_in_auto_mode_fails_at_the_first_epoch_end(make_model, make_data):
    x, y = make_data()
    model = make_model()
    with pytest.raises(ValueError, match=r"EarlyStopping callback received monitor=val_f1, "
                                         r"but Keras isn't able to automatically determine.*"
                                         r"raised in callback EarlyStopping\.on_epoch_end"):
        model.fit(x, y, epochs=3, verbose=0, validation_data=(x, y),
                  callbacks=[keras.callbacks.EarlyStopping(monitor="val_f1")])
    assert model.history.epoch == []


@pytest.mark.parametrize("kwargs, match", [
    ({"patience": -1}, r"`patience` must be a non-negative integer. Received: patience=-1"),
    ({"patience": 1.5}, r"`patience` must be a non-negative integer. Received: patience=1.5"),
    ({"start_from_epoch": -2}, r"`start_from_epoch` must be a non-negative integer"),
    ({"min_delta": "0.1"}, r"`min_delta` must be a number. Received: min_delta='0.1'"),
    ({"monitor": None}, r"`monitor` must be the name of a logged metric"),
    ({"baseline": "low"}, r"`baseline` must be a number. Received: baseline='low'"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        keras.callbacks.EarlyStopping(**kwargs)


def test_unknown_mode_warns_like_keras_and_falls_back_to_auto():
    with pytest.warns(UserWarning, match=r"^EarlyStopping mode 'maximum' is unknown, "
                                         r"fallback to auto mode\.$"):
        stop = keras.callbacks.EarlyStopping(mode="maximum")
    assert stop.mode == "auto"


def test_verbose_messages(make_model, make_data, script, capsys):
    x, y = make_data()
    model = make_model()
    stop = keras.callbacks.EarlyStopping(patience=1, verbose=1, restore_best_weights=True)
    model.fit(x, y, epochs=5, verbose=0, validation_data=(x, y),
              callbacks=[script([1.0, 0.5, 0.6, 0.7, 0.8]), stop])
    assert capsys.readouterr().out == ("Epoch 3: early stopping\n"
                                       "Restoring model weights from the end of the best "
                                       "epoch: 2.\n")


def test_quiet_when_the_monitor_is_present(make_model, make_data):
    x, y = make_data()
    model = make_model()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(x, y, epochs=2, verbose=0, validation_split=0.25,
                  callbacks=[keras.callbacks.EarlyStopping(patience=3)])
