"""The hooks fit / evaluate / predict call, their order, params, errors, and the
per-batch dispatch that costs nothing for callbacks that do nothing per batch."""

from __future__ import annotations

import numpy as np
import pytest

import tinyann as keras
from tinyann.callbacks.callback import CallbackList


class Recorder(keras.callbacks.Callback):
    HOOKS = ("on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
             "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
             "on_test_batch_begin", "on_test_batch_end", "on_predict_begin",
             "on_predict_end", "on_predict_batch_begin", "on_predict_batch_end")

    def __init__(self):
        super().__init__()
        self.calls = []

    def __getattribute__(self, name):
        if name in Recorder.HOOKS:
            calls = object.__getattribute__(self, "calls")
            return lambda *args, **kwargs: calls.append((name,) + args[:1])
        return object.__getattribute__(self, name)


for _hook in Recorder.HOOKS:  # class-level overrides, so CallbackList sends every hook
    setattr(Recorder, _hook, lambda self, *args, **kwargs: None)


def test_fit_calls_every_hook_in_keras_order(make_model, make_data):
    x, y = make_data(n=40)
    model = make_model()
    rec = Recorder()
    model.fit(x, y, epochs=2, batch_size=16, validation_data=(x[:20], y[:20]),
              callbacks=[rec], verbose=0)
    epoch = ["on_epoch_begin", *[h for s in range(3) for h in ("on_train_batch_begin",
                                                                 "on_train_batch_end")],
             "on_test_begin", "on_test_batch_begin", "on_test_batch_end",
             "on_test_batch_begin", "on_test_batch_end", "on_test_end", "on_epoch_end"]
    assert [c[0] for c in rec.calls] == ["on_train_begin", *epoch, *epoch, "on_train_end"]
    assert [c[1] for c in rec.calls if c[0] == "on_train_batch_end"] == [0, 1, 2] * 2
    assert [c[1] for c in rec.calls if c[0] == "on_epoch_end"] == [0, 1]
    assert rec.params["epochs"] == 2 and rec.params["steps"] == 3
    assert rec.params["verbose"] == 0
    assert rec.model is model


def test_evaluate_and_predict_hooks(make_model, make_data):
    x, y = make_data(n=40)
    model = make_model()
    rec = Recorder()
    model.evaluate(x, y, batch_size=32, callbacks=[rec], verbose=0)
    assert [c[0] for c in rec.calls] == ["on_test_begin", "on_test_batch_begin",
                                         "on_test_batch_end", "on_test_batch_begin",
                                         "on_test_batch_end", "on_test_end"]
    rec.calls.clear()
    model.predict(x, batch_size=32, callbacks=[rec], verbose=0)
    assert [c[0] for c in rec.calls] == ["on_predict_begin", "on_predict_batch_begin",
                                         "on_predict_batch_end", "on_predict_batch_begin",
                                         "on_predict_batch_end", "on_predict_end"]


def test_values_added_to_the_logs_reach_history(make_model, make_data):
    x, y = make_data()
    model = make_model()

    class AddKey(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["extra"] = epoch * 2.0

    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[AddKey()])
    assert history.history["extra"] == [0.0, 2.0, 4.0]


def test_callback_errors_propagate_with_the_callbacks_name(make_model, make_data):
    x, y = make_data()
    model = make_model()

    class Boom(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyError("no such thing")

    with pytest.raises(KeyError, match=r"no such thing.*raised in callback Boom\.on_epoch_end"):
        model.fit(x, y, epochs=3, verbose=0, callbacks=[Boom()])
    assert model.history.epoch == [0]


def test_batch_errors_name_the_hook(make_model, make_data):
    x, y = make_data()
    model = make_model()
    bad = keras.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: 1 / 0)
    with pytest.raises(ZeroDivisionError,
                       match=r"raised in callback LambdaCallback\.on_train_batch_end"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[bad])


def test_stop_training_from_a_batch_hook_ends_the_epoch_there(make_model, make_data):
    x, y = make_data(n=96)
    model = make_model()
    seen = []

    def on_batch(batch, logs):
        seen.append(batch)
        if batch == 2:
            model.stop_training = True

    history = model.fit(x, y, epochs=5, batch_size=16, verbose=0,
                        callbacks=[keras.callbacks.LambdaCallback(on_train_batch_end=on_batch)])
    assert seen == [0, 1, 2]
    assert len(history.history["loss"]) == 1
    assert model.optimizer.iterations == 3


def test_legacy_on_batch_end_is_called(make_model, make_data):
    x, y = make_data(n=64)
    model = make_model()

    class Old(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.batches = []

        def on_batch_end(self, batch, logs=None):
            self.batches.append((batch, round(logs["loss"], 6)))

    old = Old()
    model.fit(x, y, epochs=1, batch_size=32, verbose=0, callbacks=[old])
    assert [b for b, _ in old.batches] == [0, 1]
    assert all(np.isfinite(loss) for _, loss in old.batches)


def test_callbacks_that_do_nothing_per_batch_are_not_called_per_batch(tmp_path):
    quiet = [keras.callbacks.EarlyStopping(), keras.callbacks.History(),
             keras.callbacks.ModelCheckpoint(str(tmp_path / "m.keras")),
             keras.callbacks.ReduceLROnPlateau(), keras.callbacks.CSVLogger(tmp_path / "l"),
             keras.callbacks.LearningRateScheduler(lambda e, lr: lr),
             keras.callbacks.BackupAndRestore(tmp_path / "b"),
             keras.callbacks.LambdaCallback(on_epoch_end=lambda e, l: None)]
    cbl = CallbackList(quiet)
    for hook in ("on_train_batch_begin", "on_train_batch_end", "on_test_batch_end",
                 "on_predict_batch_end"):
        assert not cbl.wants(hook), hook
    busy = [keras.callbacks.ModelCheckpoint(str(tmp_path / "m.keras"), save_freq=3),
            keras.callbacks.BackupAndRestore(tmp_path / "b", save_freq=5),
            keras.callbacks.TerminateOnNaN(),
            keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, l: None)]
    for cb in busy:
        assert CallbackList([cb]).wants("on_train_batch_end"), cb


def test_lambda_callback_hooks_and_arguments(make_model, make_data):
    x, y = make_data(n=32)
    model = make_model()
    calls = []
    lam = keras.callbacks.LambdaCallback(
        on_train_begin=lambda logs: calls.append("train_begin"),
        on_epoch_begin=lambda epoch, logs: calls.append(("epoch_begin", epoch)),
        on_epoch_end=lambda epoch, logs: calls.append(("epoch_end", epoch, sorted(logs))),
        on_train_batch_begin=lambda batch, logs: calls.append(("batch_begin", batch)),
        on_train_batch_end=lambda batch, logs: calls.append(("batch_end", batch)),
        on_train_end=lambda logs: calls.append("train_end"),
        on_test_end=lambda logs: calls.append("test_end"))
    model.fit(x, y, epochs=1, batch_size=32, verbose=0, validation_data=(x, y),
              callbacks=[lam])
    assert calls == ["train_begin", ("epoch_begin", 0), ("batch_begin", 0), ("batch_end", 0),
                     "test_end", ("epoch_end", 0, ["accuracy", "loss", "val_accuracy",
                                                    "val_loss"]), "train_end"]
    with pytest.raises(ValueError, match=r"LambdaCallback expects a function for "
                                         r"`on_epoch_end`\. Received: 3"):
        keras.callbacks.LambdaCallback(on_epoch_end=3)


def test_progress_bar_shows_values_callbacks_add(make_model, make_data, capsys):
    x, y = make_data(n=32)
    model = make_model()
    model.fit(x, y, epochs=1, batch_size=32, verbose=2,
              callbacks=[keras.callbacks.LearningRateScheduler(lambda e, lr: 0.5)])
    out = capsys.readouterr().out
    assert "learning_rate: 0.5000" in out
