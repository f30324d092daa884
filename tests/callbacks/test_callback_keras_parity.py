"""The callbacks driven with the scripted epoch logs that real Keras 3 was driven
with (tools/keras_reference/make_callback_facts.py), compared fact by fact."""

from __future__ import annotations

import contextlib
import io
import json
import math
import os
import warnings
from pathlib import Path

import numpy as np
import pytest

import tinyann as keras

FACTS = json.loads((Path(__file__).parents[1] / "fixtures" / "keras" /
                    "callback_facts.json").read_text(encoding="utf-8"))

# the same functions as SCHEDULES in make_callback_facts.py
SCHEDULES = {
    "halve_from_2": lambda epoch, lr: lr if epoch < 2 else lr * 0.5,
    "old_api": lambda epoch: 0.1 / (epoch + 1),
    "returns_int": lambda epoch, lr: 1,
}


def tiny_model(metrics=None):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1),
                  loss="binary_crossentropy", metrics=metrics)
    model.evaluate(np.zeros((4, 2), "float32"), np.zeros((4, 1), "float32"), verbose=0)
    return model


def run_callback(cb, logs_list, model, mark=True, lr_trace=False):
    """The twin of make_callback_facts.run_callback."""
    out = io.StringIO()
    result = {}
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out):
        warnings.simplefilter("always")
        cb.set_model(model)
        model.stop_training = False
        epochs_run = 0
        lrs, logged = [], []
        try:
            cb.on_train_begin()
            for epoch, logs in enumerate(logs_list):
                cb.on_epoch_begin(epoch)
                if mark:
                    model.set_weights([np.full(v.shape, epoch + 1.0, "float32")
                                       for v in model.get_weights()])
                logs = dict(logs)
                cb.on_epoch_end(epoch, logs)
                epochs_run += 1
                if lr_trace:
                    lrs.append(float(np.asarray(model.optimizer.learning_rate)))
                    logged.append(logs.get("learning_rate"))
                if model.stop_training:
                    break
            cb.on_train_end()
        except Exception as e:  # noqa: BLE001 - compared with what Keras raised
            result["error"] = {"type": type(e).__name__, "message": str(e)}
    result.update(epochs_run=epochs_run, printed=out.getvalue(),
                  warnings=[str(w.message) for w in caught])
    if mark:
        result["final_weights_marker"] = float(model.get_weights()[0].flat[0])
    if lr_trace:
        result["lr_after_epoch"] = lrs
        result["logged_learning_rate"] = logged
    return result


def same(a, b):
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def by_name(group):
    return [pytest.param(case, id=case["name"]) for case in FACTS[group]]


@pytest.mark.parametrize("case", by_name("early_stopping"))
def test_early_stopping_matches_keras(case):
    want = case["result"]
    with warnings.catch_warnings(record=True) as init:
        warnings.simplefilter("always")
        cb = keras.callbacks.EarlyStopping(**case["kwargs"])
    got = run_callback(cb, case["logs"], tiny_model(case["metrics"]))
    assert [str(w.message) for w in init] == want["init_warnings"]
    for key in ("epochs_run", "printed", "warnings", "final_weights_marker", "error"):
        assert got.get(key) == want.get(key), key
    assert cb.stopped_epoch == want["stopped_epoch"]
    assert cb.wait == want["wait"]
    assert cb.best_epoch == want["best_epoch"]
    assert same(cb.best, want["best"])


@pytest.mark.parametrize("case", by_name("reduce_lr_on_plateau"))
def test_reduce_lr_on_plateau_matches_keras(case):
    want = case["result"]
    model = tiny_model()
    cb = keras.callbacks.ReduceLROnPlateau(**case["kwargs"])
    got = run_callback(cb, case["logs"], model, mark=False, lr_trace=True)
    for key in ("epochs_run", "printed", "warnings", "lr_after_epoch", "logged_learning_rate"):
        assert got[key] == want[key], key
    assert (cb.wait, cb.cooldown_counter) == (want["wait"], want["cooldown_counter"])


@pytest.mark.parametrize("case", by_name("learning_rate_scheduler"))
def test_learning_rate_scheduler_matches_keras(case):
    want = case["result"]
    name = case["name"].removesuffix("_verbose")
    verbose = int(case["name"].endswith("_verbose"))
    cb = keras.callbacks.LearningRateScheduler(SCHEDULES[name], verbose=verbose)
    n = 3 if verbose else 4
    got = run_callback(cb, [{"loss": 1.0}] * n, tiny_model(), mark=False, lr_trace=True)
    for key in ("epochs_run", "printed", "error", "lr_after_epoch", "logged_learning_rate"):
        assert got.get(key) == want.get(key), key


@pytest.mark.parametrize("case", by_name("csv_logger"))
def test_csv_logger_matches_keras_bytes(case, tmp_path):
    path = tmp_path / "log.csv"
    cb = keras.callbacks.CSVLogger(path, **case["kwargs"])
    run_callback(cb, case["logs"], tiny_model(), mark=False)
    assert path.read_bytes().decode() == case["text"]
    if "text_after_append_run" in case:
        cb = keras.callbacks.CSVLogger(path, append=True)
        run_callback(cb, case["logs"][:1], tiny_model(), mark=False)
        assert path.read_bytes().decode() == case["text_after_append_run"]


def test_terminate_on_nan_matches_keras(capsys):
    want = FACTS["terminate_on_nan"]
    model = tiny_model()
    cb = keras.callbacks.TerminateOnNaN()
    cb.set_model(model)
    model.stop_training = False
    cb.on_train_batch_end(0, {"loss": 1.0})
    assert model.stop_training == want["stopped_after_finite"]
    cb.on_train_batch_end(3, {"loss": float("nan")})
    assert model.stop_training == want["stopped_after_nan"]
    assert capsys.readouterr().out == want["printed"]
    raiser = keras.callbacks.TerminateOnNaN(raise_error=True)
    raiser.set_model(model)
    with pytest.raises(RuntimeError) as info:
        raiser.on_train_batch_end(5, {"loss": float("inf")})
    assert str(info.value) == want["raise_error"]["message"]


@pytest.mark.parametrize("label", sorted(FACTS["errors"]))
def test_constructor_errors_match_keras(label):
    want = FACTS["errors"][label]
    make = {
        "reduce_lr_factor_1": lambda: keras.callbacks.ReduceLROnPlateau(factor=1.0),
        "backup_empty_dir": lambda: keras.callbacks.BackupAndRestore(""),
        "backup_bad_freq": lambda: keras.callbacks.BackupAndRestore("/tmp/b", save_freq="x"),
        "early_stopping_unknown_mode": lambda: keras.callbacks.EarlyStopping(mode="bogus"),
    }[label]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if want["error"] is None:
            make()
        else:
            with pytest.raises(ValueError) as info:
                make()
            assert str(info.value) == want["error"]["message"]
    assert [str(w.message) for w in caught] == want["warnings"]


@pytest.mark.parametrize("case", FACTS["model_checkpoint_errors"],
                         ids=lambda c: json.dumps(c["kwargs"]))
def test_model_checkpoint_argument_errors_match_keras(case):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        if case["error"] is None:
            keras.callbacks.ModelCheckpoint(**case["kwargs"])
        else:
            with pytest.raises(ValueError) as info:
                keras.callbacks.ModelCheckpoint(**case["kwargs"])
            assert str(info.value) == case["error"]["message"]
    assert [str(w.message) for w in caught] == case["warnings"]


@pytest.mark.parametrize("case", by_name("model_checkpoint"))
def test_model_checkpoint_files_match_keras(case, tmp_path):
    want = case["result"]
    kwargs = dict(case["kwargs"], filepath=str(tmp_path / case["kwargs"]["filepath"]))
    model = tiny_model(case["metrics"])
    cb = keras.callbacks.ModelCheckpoint(**kwargs)
    files_after = []
    lister = keras.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: files_after.append(sorted(os.listdir(tmp_path))))
    out = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out):
        warnings.simplefilter("always")
        cb.set_model(model)
        cb.on_train_begin()
        error = None
        try:
            for epoch, logs in enumerate(case["logs"]):
                cb.on_epoch_begin(epoch)
                cb.on_epoch_end(epoch, dict(logs))
                lister.on_epoch_end(epoch, None)
        except KeyError as e:
            error = {"type": "KeyError", "message": str(e)}
    prefix = str(tmp_path) + os.sep
    assert out.getvalue().replace(prefix, "<dir>/") == want["printed"]
    assert [str(w.message) for w in caught] == want["warnings"]
    assert files_after == want["files_after_epoch"]
    assert same(cb.best, want["best"])
    if "error" in want:
        assert error["message"].replace(prefix, "<dir>/") == want["error"]["message"]
