"""Reference facts about Keras 3's training-control callbacks and fit arguments.

Runs ONLY in the separate Keras venv (see README.md beside this file); it never
imports tinyann. Writes tests/fixtures/keras/callback_facts.json.

The callbacks are driven directly with scripted epoch logs (no training), so
the facts are exact and independent of TensorFlow's numerics:

- EarlyStopping: epochs run, stopped_epoch, wait, best, best_epoch, which
  epoch's weights are left after on_train_end (each epoch's weights are set to
  a marker first), warnings and printed lines;
- ReduceLROnPlateau: the learning rate after each epoch and the logged value;
- ModelCheckpoint: the files present after each epoch, printed lines;
- CSVLogger: the exact file text;
- LearningRateScheduler: the learning rate set at each epoch, errors;
- TerminateOnNaN: printed line and stop flag;
- argument errors and warnings; validation_split sizes; class weights;
  validation_freq history lengths and generator consumption from real fits.

The named schedules below are mirrored in tests/callbacks/test_keras_parity.py.

Usage:  /work/kerasenv/bin/python tools/keras_reference/make_callback_facts.py
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import sys
import tempfile
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "keras" / "callback_facts.json"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)
tf.get_logger().setLevel("ERROR")

NAN = float("nan")

SCHEDULES = {
    "halve_from_2": lambda epoch, lr: lr if epoch < 2 else lr * 0.5,
    "old_api": lambda epoch: 0.1 / (epoch + 1),
    "returns_int": lambda epoch, lr: 1,
}


def seq(values, key="val_loss", extra=None):
    """Epoch logs with ``key`` taking ``values`` (and constant extra keys)."""
    return [dict(extra or {}, **{key: v}) for v in values]


def tiny_model(metrics=None):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), loss="binary_crossentropy",
                  metrics=metrics)
    x = np.zeros((4, 2), "float32")
    y = np.zeros((4, 1), "float32")
    model.evaluate(x, y, verbose=0)  # builds the compiled metrics
    return model


def _noise(warning):
    # NumPy 2 complains about TensorFlow's __array__; nothing to do with the callbacks
    return "__array__ implementation" in str(warning.message)


def run_callback(cb, logs_list, model, begin=True, end=True, mark=True, lr_trace=False):
    out = io.StringIO()
    caught = []
    result = {}
    with warnings.catch_warnings(record=True) as w, contextlib.redirect_stdout(out):
        warnings.simplefilter("always")
        cb.set_model(model)
        model.stop_training = False
        epochs_run = 0
        lrs = []
        logged = []
        try:
            if begin:
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
                    lrs.append(float(model.optimizer.learning_rate.numpy()))
                    logged.append(logs.get("learning_rate"))
                if model.stop_training:
                    break
            if end:
                cb.on_train_end()
        except Exception as e:  # noqa: BLE001
            result["error"] = {"type": type(e).__name__, "message": str(e)}
        caught = [str(x.message) for x in w if not _noise(x)]
    result.update(epochs_run=epochs_run, printed=out.getvalue(), warnings=caught)
    if mark:
        result["final_weights_marker"] = float(model.get_weights()[0].flat[0])
    if lr_trace:
        result["lr_after_epoch"] = lrs
        result["logged_learning_rate"] = logged
    return result


def early_stopping_cases():
    cases = [
        ("patience0", {}, seq([1.0, 0.9, 0.95, 0.8])),
        ("patience2", {"patience": 2}, seq([1.0, 0.9, 0.95, 0.96, 0.97, 0.5])),
        ("patience2_restore", {"patience": 2, "restore_best_weights": True},
         seq([1.0, 0.9, 0.95, 0.96, 0.97, 0.5])),
        ("restore_no_stop", {"patience": 5, "restore_best_weights": True},
         seq([1.0, 0.7, 0.8, 0.9])),
        ("min_delta", {"patience": 1, "min_delta": 0.1}, seq([1.0, 0.95, 0.85, 0.84, 0.83])),
        ("min_delta_negative", {"patience": 1, "min_delta": -0.1},
         seq([1.0, 0.95, 0.85, 0.84, 0.83])),
        ("equal_is_not_better", {"patience": 1}, seq([1.0, 1.0, 1.0])),
        ("baseline_never_beaten", {"patience": 2, "baseline": 0.5,
                                   "restore_best_weights": True},
         seq([1.0, 0.9, 0.8, 0.7, 0.6])),
        ("baseline_beaten", {"patience": 2, "baseline": 0.85},
         seq([1.0, 0.9, 0.8, 0.81, 0.82, 0.83])),
        ("start_from_epoch", {"patience": 1, "start_from_epoch": 2},
         seq([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])),
        ("max_mode", {"monitor": "val_accuracy", "mode": "max", "patience": 1},
         seq([0.5, 0.6, 0.55, 0.58, 0.7], "val_accuracy")),
        ("auto_accuracy", {"monitor": "val_accuracy", "patience": 1},
         seq([0.5, 0.6, 0.55, 0.58, 0.7], "val_accuracy"), ["accuracy"]),
        ("auto_loss_train", {"monitor": "loss", "patience": 1},
         seq([0.5, 0.6, 0.55, 0.58, 0.7], "loss")),
        ("missing_monitor", {"patience": 1}, seq([0.5, 0.4, 0.3], "loss")),
        ("unknown_monitor_auto", {"monitor": "foo"}, seq([0.5, 0.4], "loss")),
        ("unknown_monitor_min", {"monitor": "foo", "mode": "min"}, seq([0.5, 0.4], "loss")),
        ("unknown_mode", {"mode": "bogus", "patience": 1}, seq([1.0, 2.0, 3.0])),
        ("verbose", {"patience": 1, "verbose": 1, "restore_best_weights": True},
         seq([1.0, 0.9, 0.95, 0.97])),
        ("nan_values", {"patience": 1}, seq([1.0, NAN, NAN, 0.5])),
    ]
    out = []
    for case in cases:
        name, kwargs, logs = case[:3]
        metrics = case[3] if len(case) > 3 else None
        model = tiny_model(metrics)
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            cb = keras.callbacks.EarlyStopping(**kwargs)
        res = run_callback(cb, logs, model)
        res["init_warnings"] = [str(x.message) for x in w if not _noise(x)]
        res.update(stopped_epoch=cb.stopped_epoch, wait=cb.wait,
                   best=None if cb.best is None else float(cb.best),
                   best_epoch=getattr(cb, "best_epoch", None))
        out.append({"name": name, "kwargs": kwargs, "metrics": metrics, "logs": logs,
                    "result": res})
    return out


def reduce_lr_cases():
    cases = [
        ("default_patience2", {"patience": 2}, seq([1.0, 1.0, 1.0, 1.0, 1.0, 1.0])),
        ("cooldown", {"patience": 1, "cooldown": 2, "factor": 0.5},
         seq([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0])),
        ("min_lr", {"patience": 1, "factor": 0.1, "min_lr": 0.005},
         seq([1.0, 1.0, 1.0, 1.0, 1.0])),
        ("improving", {"patience": 1}, seq([1.0, 0.9, 0.8, 0.7])),
        ("min_delta_default", {"patience": 1}, seq([1.0, 0.99995, 0.9999, 0.5])),
        ("max_mode", {"monitor": "val_accuracy", "mode": "max", "patience": 1, "factor": 0.5},
         seq([0.5, 0.4, 0.6, 0.6, 0.6], "val_accuracy")),
        ("verbose", {"patience": 1, "verbose": 1, "factor": 0.5}, seq([1.0, 1.0, 1.0])),
        ("missing", {"patience": 1}, seq([1.0, 1.0], "loss")),
    ]
    out = []
    for name, kwargs, logs in cases:
        model = tiny_model()
        cb = keras.callbacks.ReduceLROnPlateau(**kwargs)
        res = run_callback(cb, logs, model, mark=False, lr_trace=True)
        res.update(wait=cb.wait, cooldown_counter=cb.cooldown_counter)
        out.append({"name": name, "kwargs": kwargs, "initial_lr": 0.1, "logs": logs,
                    "result": res})
    return out


def checkpoint_cases():
    logs = seq([1.0, 0.8, 0.9, 0.7], extra={"loss": 0.5})
    acc_logs = [{"val_accuracy": v, "loss": 0.5} for v in (0.5, 0.7, 0.6, 0.8)]
    cases = [
        ("every_epoch", {"filepath": "w-{epoch:02d}.weights.h5", "save_weights_only": True},
         logs, None),
        ("best_only_formatted", {"filepath": "w-{epoch:02d}-{val_loss:.4f}.weights.h5",
                                 "save_weights_only": True, "save_best_only": True,
                                 "verbose": 1}, logs, None),
        ("best_only_fixed_name", {"filepath": "best.weights.h5", "save_weights_only": True,
                                  "save_best_only": True}, logs, None),
        ("best_accuracy_auto", {"filepath": "a-{epoch}.weights.h5", "save_weights_only": True,
                                "save_best_only": True, "monitor": "val_accuracy"},
         acc_logs, ["accuracy"]),
        ("initial_value_threshold", {"filepath": "t-{epoch}.weights.h5",
                                     "save_weights_only": True, "save_best_only": True,
                                     "initial_value_threshold": 0.85}, logs, None),
        ("missing_monitor", {"filepath": "m-{epoch}.weights.h5", "save_weights_only": True,
                             "save_best_only": True}, [{"loss": 0.5}] * 2, None),
        ("missing_format_key", {"filepath": "k-{val_acc:.2f}.weights.h5",
                                "save_weights_only": True}, logs[:1], None),
        ("whole_model", {"filepath": "model-{epoch}.keras", "verbose": 1}, logs[:2], None),
    ]
    out = []
    for name, kwargs, case_logs, metrics in cases:
        tmp = tempfile.mkdtemp()
        try:
            kw = dict(kwargs, filepath=os.path.join(tmp, kwargs["filepath"]))
            model = tiny_model(metrics)
            cb = keras.callbacks.ModelCheckpoint(**kw)
            res = run_callback(cb, case_logs, model, mark=False)
            # replay for the listing (the callback is stateful: use a fresh one)
            files_after = []
            cb2 = keras.callbacks.ModelCheckpoint(**dict(kw, verbose=0))
            shutil.rmtree(tmp)
            os.makedirs(tmp)
            cb2.set_model(model)
            cb2.on_train_begin()
            try:
                for epoch, lg in enumerate(case_logs):
                    cb2.on_epoch_begin(epoch)
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore")
                        cb2.on_epoch_end(epoch, dict(lg))
                    files_after.append(sorted(os.listdir(tmp)))
            except Exception:  # noqa: BLE001
                pass
            res["printed"] = res["printed"].replace(tmp + os.sep, "<dir>/")
            if "error" in res:
                res["error"]["message"] = res["error"]["message"].replace(tmp + os.sep,
                                                                          "<dir>/")
            res["files_after_epoch"] = files_after
            res["best"] = None if cb.best is None else float(cb.best)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        out.append({"name": name, "kwargs": kwargs, "metrics": metrics, "logs": case_logs,
                    "result": res})
    return out


def checkpoint_errors():
    out = []
    for kwargs in ({"filepath": "x.weights.h5"}, {"filepath": "x.h6"},
                   {"filepath": "x.keras", "save_weights_only": True},
                   {"filepath": "x.keras", "save_freq": "batch"},
                   {"filepath": "x.keras", "mode": "bogus"}):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            try:
                keras.callbacks.ModelCheckpoint(**kwargs)
                err = None
            except Exception as e:  # noqa: BLE001
                err = {"type": type(e).__name__, "message": str(e)}
        out.append({"kwargs": kwargs, "error": err,
                    "warnings": [str(x.message) for x in w if not _noise(x)]})
    return out


def csv_cases():
    train = [{"loss": 0.5, "accuracy": 0.75}, {"loss": 0.25, "accuracy": 0.875}]
    val = [dict(lg, val_loss=lg["loss"] + 0.125, val_accuracy=lg["accuracy"] - 0.125)
           for lg in train]
    partial = [train[0], val[1]]  # validation_freq=2: no val keys at the first epoch
    cases = [("with_val", {}, val), ("without_val", {}, train),
             ("validation_freq_2", {}, partial), ("separator", {"separator": ";"}, val),
             ("list_value", {}, [{"loss": 0.5, "vec": [1, 2]}])]
    out = []
    for name, kwargs, logs in cases:
        tmp = tempfile.mkdtemp()
        path = os.path.join(tmp, "log.csv")
        cb = keras.callbacks.CSVLogger(path, **kwargs)
        run_callback(cb, logs, tiny_model(), mark=False)
        with open(path, newline="") as f:
            text = f.read()
        entry = {"name": name, "kwargs": kwargs, "logs": logs, "text": text}
        if name == "with_val":
            cb = keras.callbacks.CSVLogger(path, append=True)
            run_callback(cb, logs[:1], tiny_model(), mark=False)
            with open(path, newline="") as f:
                entry["text_after_append_run"] = f.read()
        shutil.rmtree(tmp)
        out.append(entry)
    return out


def scheduler_cases():
    out = []
    for name in SCHEDULES:
        model = tiny_model()
        cb = keras.callbacks.LearningRateScheduler(SCHEDULES[name])
        res = run_callback(cb, [{"loss": 1.0}] * 4, model, mark=False, lr_trace=True)
        out.append({"name": name, "initial_lr": 0.1, "result": res})
    model = tiny_model()
    cb = keras.callbacks.LearningRateScheduler(SCHEDULES["halve_from_2"], verbose=1)
    res = run_callback(cb, [{"loss": 1.0}] * 3, model, mark=False, lr_trace=True)
    out.append({"name": "halve_from_2_verbose", "initial_lr": 0.1, "result": res})
    return out


def terminate_on_nan_facts():
    model = tiny_model()
    cb = keras.callbacks.TerminateOnNaN()
    cb.set_model(model)
    model.stop_training = False
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        cb.on_train_batch_end(0, {"loss": 1.0})
        first = model.stop_training
        cb.on_train_batch_end(3, {"loss": NAN})
    raise_cb = keras.callbacks.TerminateOnNaN(raise_error=True)
    raise_cb.set_model(model)
    try:
        raise_cb.on_train_batch_end(5, {"loss": float("inf")})
        err = None
    except Exception as e:  # noqa: BLE001
        err = {"type": type(e).__name__, "message": str(e)}
    return {"stopped_after_finite": first, "stopped_after_nan": model.stop_training,
            "printed": out.getvalue(), "raise_error": err}


def misc_errors():
    out = {}
    for label, make in (
        ("reduce_lr_factor_1", lambda: keras.callbacks.ReduceLROnPlateau(factor=1.0)),
        ("backup_empty_dir", lambda: keras.callbacks.BackupAndRestore("")),
        ("backup_bad_freq", lambda: keras.callbacks.BackupAndRestore("/tmp/b",
                                                                     save_freq="x")),
        ("early_stopping_unknown_mode", lambda: keras.callbacks.EarlyStopping(mode="bogus")),
    ):
        with warnings.catch_warnings(record=True) as w:
            warnings.simplefilter("always")
            try:
                make()
                err = None
            except Exception as e:  # noqa: BLE001
                err = {"type": type(e).__name__, "message": str(e)}
        out[label] = {"error": err, "warnings": [str(x.message) for x in w if not _noise(x)]}
    return out


def split_and_weights():
    from keras.src.trainers.data_adapters import array_slicing, data_adapter_utils

    sizes = []
    for n in (10, 7, 100, 3):
        for split in (0.25, 0.2, 0.1, 0.33, 0.5):
            x = np.arange(n)
            try:
                (tr,), (va,) = array_slicing.train_validation_split((x,), split)
                sizes.append({"n": n, "split": split, "train": len(tr), "val": len(va),
                              "val_first": int(va[0])})
            except ValueError as e:
                sizes.append({"n": n, "split": split, "error": str(e)})
    cw = {0: 2.0, 2: 0.5}
    y_sparse = np.array([0, 1, 2, 1, 0])
    y_col = y_sparse[:, None].astype("float32")
    y_onehot = np.eye(3, dtype="float32")[y_sparse]
    weights = {
        "class_weight": {str(k): v for k, v in cw.items()},
        "sparse": data_adapter_utils.class_weight_to_sample_weights(y_sparse, cw).tolist(),
        "column": data_adapter_utils.class_weight_to_sample_weights(y_col, cw).tolist(),
        "onehot": data_adapter_utils.class_weight_to_sample_weights(y_onehot, cw).tolist(),
    }
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    try:
        model.fit(np.zeros((5, 2)), y_sparse, class_weight=cw, sample_weight=np.ones(5),
                  verbose=0)
        both = None
    except Exception as e:  # noqa: BLE001
        both = {"type": type(e).__name__, "message": str(e)}
    return {"validation_split": sizes, "class_weight": weights, "class_and_sample_weight": both}


def fit_facts():
    keras.utils.set_random_seed(1)
    x = np.random.rand(64, 4).astype("float32")
    y = (x.sum(1) > 2).astype("int32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    facts = {}
    h = model.fit(x, y, epochs=5, batch_size=16, validation_data=(x, y), validation_freq=2,
                  verbose=0)
    facts["validation_freq_2"] = {k: len(v) for k, v in h.history.items()}
    h = model.fit(x, y, epochs=5, batch_size=16, validation_data=(x, y),
                  validation_freq=[1, 5], verbose=0)
    facts["validation_freq_list"] = {k: len(v) for k, v in h.history.items()}

    batches = [(x[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16)]
    seen = []

    def gen():
        for i, b in enumerate(batches * 3):
            seen.append(i)
            yield b

    with warnings.catch_warnings(record=True) as w:
        warnings.simplefilter("always")
        h = model.fit(gen(), epochs=4, steps_per_epoch=3, verbose=0)
    facts["generator_steps_per_epoch"] = {
        "batches_available": 12, "steps_per_epoch": 3, "epochs": 4,
        "epochs_run": len(h.history["loss"]), "batches_drawn": len(seen),
        "params_steps": h.params.get("steps"),
        "warnings": sorted({str(m.message)[:60] for m in w if not _noise(m)})}

    class Counting(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.begin = 0
            self.end = 0

        def __len__(self):
            return 4

        def __getitem__(self, i):
            return batches[i]

        def on_epoch_begin(self):
            self.begin += 1

        def on_epoch_end(self):
            self.end += 1

    ds = Counting()
    h = model.fit(ds, epochs=3, verbose=0)
    facts["py_dataset"] = {"epochs_run": len(h.history["loss"]), "params_steps":
                           h.params.get("steps"), "on_epoch_end_calls": ds.end}
    return facts


def main():
    facts = {
        "versions": {"keras": keras.__version__, "tensorflow": tf.__version__,
                     "numpy": np.__version__, "python": sys.version.split()[0]},
        "early_stopping": early_stopping_cases(),
        "reduce_lr_on_plateau": reduce_lr_cases(),
        "model_checkpoint": checkpoint_cases(),
        "model_checkpoint_errors": checkpoint_errors(),
        "csv_logger": csv_cases(),
        "learning_rate_scheduler": scheduler_cases(),
        "terminate_on_nan": terminate_on_nan_facts(),
        "errors": misc_errors(),
        "data": split_and_weights(),
        "fit": fit_facts(),
    }
    text = json.dumps(facts, indent=1, allow_nan=True, default=float)
    OUT.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(text)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
