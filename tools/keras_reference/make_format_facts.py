"""Reference facts about Keras 3 output formats, names, defaults and errors.

Runs ONLY in the separate Keras venv (see README.md beside this file); it
never imports tinyann.  Writes small text/json files into
tests/fixtures/keras/:

    summary_seed.txt, summary_mlp.txt, summary_mlp_compiled.txt
    summary_seed_wide.txt            (same model, terminal >= 92 columns)
    history_keys.json
    progress_lines.txt, progress_lines_repr.txt
    auto_names.json
    accuracy_resolution.json
    errors.txt, errors.json
    defaults.json
    format_facts.json                (versions + notes on how the above were made)

Each group that depends on process state (auto names, progress output) runs in
its own fresh child process: ``python make_format_facts.py --part NAME``.
The parent runs every part with stdout a pipe (NOT a terminal) and with
COLUMNS/LINES removed from the environment, so shutil.get_terminal_size()
falls back to 80x24.

Usage:  /work/kerasenv/bin/python tools/keras_reference/make_format_facts.py
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "keras"
SCRIPT = Path(__file__).resolve()


def _quiet_env():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def _import_keras():
    _quiet_env()
    import keras
    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.get_logger().setLevel("ERROR")
    return np, tf, keras


def _dump(name, obj):
    with open(OUT / name, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=1, ensure_ascii=False, default=_jsonable)
        f.write("\n")


def _jsonable(v):
    try:
        import numpy as np

        if isinstance(v, np.generic):
            return v.item()
        if isinstance(v, np.ndarray):
            return v.tolist()
    except ImportError:  # pragma: no cover
        pass
    return repr(v)


# ------------------------------------------------------------------ summary
def part_summary():
    """Fresh process: first model is 'sequential' with layer 'dense'."""
    np, tf, keras = _import_keras()
    from keras import layers

    seed = keras.Sequential([keras.Input((784,)), layers.Dense(10, activation="softmax")])
    mlp = keras.Sequential(
        [
            keras.Input((28, 28)),
            layers.Flatten(),
            layers.Dense(100, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )

    def capture(model):
        calls = []
        model.summary(print_fn=lambda *a, **k: calls.append((a, k)))
        assert len(calls) == 1 and len(calls[0][0]) == 1 and not calls[0][1], calls
        return calls[0][0][0]

    texts = {"summary_seed.txt": capture(seed), "summary_mlp.txt": capture(mlp)}
    rng = np.random.default_rng(0)
    mlp.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    mlp.fit(
        rng.standard_normal((32, 28, 28)).astype("float32"),
        rng.integers(0, 10, 32),
        batch_size=32,
        epochs=1,
        verbose=0,
    )
    texts["summary_mlp_compiled.txt"] = capture(mlp)
    for name, text in texts.items():
        with open(OUT / name, "w", encoding="utf-8", newline="") as f:
            f.write(text)
    # Also what model.summary() writes to a redirected (non-tty) stdout.
    sys.stdout.write("<<<STDOUT_SUMMARY>>>\n")
    seed.summary()
    sys.stdout.flush()


def part_summary_wide():
    """Same seed model with COLUMNS=200: default line_length is then 88."""
    np, tf, keras = _import_keras()
    from keras import layers

    seed = keras.Sequential([keras.Input((784,)), layers.Dense(10, activation="softmax")])
    calls = []
    seed.summary(print_fn=lambda s: calls.append(s))
    with open(OUT / "summary_seed_wide.txt", "w", encoding="utf-8", newline="") as f:
        f.write(calls[0])


def part_summary_tty():
    """Run under a pseudo-terminal by the parent: shows rich's ANSI output."""
    np, tf, keras = _import_keras()
    from keras import layers

    seed = keras.Sequential([keras.Input((784,)), layers.Dense(10, activation="softmax")])
    seed.summary()


# ------------------------------------------------------------------ progress
def _tiny_data(np):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((64, 4)).astype("float32")
    y = rng.integers(0, 3, 64)
    xv = rng.standard_normal((16, 4)).astype("float32")
    yv = rng.integers(0, 3, 16)
    return x, y, xv, yv


def part_progress(mode):
    np, tf, keras = _import_keras()
    from keras import layers

    keras.utils.set_random_seed(0)
    x, y, xv, yv = _tiny_data(np)
    m = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="softmax")])
    m.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    kw = dict(batch_size=32, epochs=2, validation_data=(xv, yv))
    if mode == "fit_verbose1":
        m.fit(x, y, verbose=1, **kw)
    elif mode == "fit_verbose2":
        m.fit(x, y, verbose=2, **kw)
    elif mode == "fit_verbose_auto":
        m.fit(x, y, **kw)  # verbose="auto"
    elif mode == "evaluate_verbose1":
        m.evaluate(x, y, batch_size=32, verbose=1)
    elif mode == "predict_verbose1":
        m.predict(x, batch_size=32, verbose=1)
    sys.stdout.flush()


PROGRESS_MODES = [
    ("fit_verbose1", "model.fit(x, y, batch_size=32, epochs=2, validation_data=(xv, yv), verbose=1)"),
    ("fit_verbose2", "model.fit(x, y, batch_size=32, epochs=2, validation_data=(xv, yv), verbose=2)"),
    ("fit_verbose_auto", "model.fit(x, y, batch_size=32, epochs=2, validation_data=(xv, yv))  # verbose='auto'"),
    ("evaluate_verbose1", "model.evaluate(x, y, batch_size=32, verbose=1)"),
    ("predict_verbose1", "model.predict(x, batch_size=32, verbose=1)"),
]


# ------------------------------------------------------------------ names
def part_names():
    np, tf, keras = _import_keras()
    from keras import layers

    r = {}
    d = [layers.Dense(2) for _ in range(3)]
    r["Dense() x3"] = [l.name for l in d]
    s = [keras.Sequential() for _ in range(2)]
    r["Sequential() x2"] = [m.name for m in s]
    a = layers.Dense(2, name="출력층")
    b = layers.Dense(2)
    r["Dense(name='출력층') then Dense()"] = [a.name, b.name]
    a = layers.Dense(2, name="dense_7")
    b = [layers.Dense(2) for _ in range(5)]
    r["Dense(name='dense_7') then Dense() x5 (explicit names are not reserved)"] = [a.name] + [
        l.name for l in b
    ]
    r["Flatten() x2"] = [layers.Flatten().name for _ in range(2)]
    i1 = keras.Input((4,))
    i2 = keras.Input((4,))
    i3 = keras.Input((4,), name="pixels")
    r["keras.Input((4,)) x2 then Input(name='pixels'): layer names"] = [
        t._keras_history[0].name for t in (i1, i2, i3)
    ]
    r["keras.Input((4,)) x2 then Input(name='pixels'): tensor .name"] = [t.name for t in (i1, i2, i3)]
    seq = keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.Dense(1)])
    r["Sequential([Input((4,)), Dense(3), Dense(1)])"] = {
        "model.name": seq.name,
        "[l.name for l in model.layers]": [l.name for l in seq.layers],
        "model.inputs[0].name": seq.inputs[0].name,
        "input layer name (model._layers[0] in get_config)": seq.get_config()["layers"][0]["config"]["name"],
        "weight paths": [w.path for w in seq.weights],
        "weight names": [w.name for w in seq.weights],
    }
    lazy = keras.Sequential([layers.Dense(3)])
    lazy(np.zeros((2, 4), "float32"))
    r["Sequential([Dense(3)]) built by calling on data"] = {
        "model.name": lazy.name,
        "layers": [l.name for l in lazy.layers],
        "get_config layers[0] (input layer)": lazy.get_config()["layers"][0]["config"]["name"],
    }
    inp = keras.Input((4,))
    fm = keras.Model(inp, layers.Dense(2)(inp))
    r["functional keras.Model(inputs, outputs)"] = {"model.name": fm.name, "layers": [l.name for l in fm.layers]}
    lone = layers.Dense(2)
    lone.build((None, 4))
    r["standalone Dense(2).build((None, 4)) weight paths"] = [w.path for w in lone.weights]
    r["class -> default name"] = {
        c.__name__: c(**kw).name
        for c, kw in [
            (layers.Dropout, {"rate": 0.5}),
            (layers.Activation, {"activation": "relu"}),
            (layers.BatchNormalization, {}),
            (layers.Conv2D, {"filters": 2, "kernel_size": 3}),
            (layers.MaxPooling2D, {}),
            (layers.ReLU, {}),
            (layers.Softmax, {}),
        ]
    }
    r["optimizer names"] = {
        c.__name__: c().name
        for c in (keras.optimizers.SGD, keras.optimizers.RMSprop, keras.optimizers.Adam, keras.optimizers.Adagrad)
    }
    r["optimizer names, second instance"] = {
        c.__name__: c().name for c in (keras.optimizers.SGD, keras.optimizers.Adam)
    }

    keras.backend.clear_session()
    after = {
        "Dense()": layers.Dense(2).name,
        "Dense() again": layers.Dense(2).name,
        "Sequential()": keras.Sequential().name,
        "Flatten()": layers.Flatten().name,
        "Input((4,)) layer": keras.Input((4,))._keras_history[0].name,
        "Model(functional)": None,
    }
    inp = keras.Input((4,))
    after["Model(functional)"] = keras.Model(inp, layers.Dense(2)(inp)).name
    r["after keras.backend.clear_session()"] = after
    r["rules"] = [
        "Default name = snake_case(class name) for the first instance, then '<prefix>_1', '<prefix>_2', ...; "
        "one counter per prefix, per process (keras.backend.get_uid(prefix)).",
        "An explicit name= does NOT advance or reserve the counter (duplicates are possible).",
        "keras.Input layers are named 'input_layer', 'input_layer_1', ...",
        "Functional models are named 'functional', 'functional_1', ...; every Sequential that gets "
        "built (with an Input or by calling it) creates an internal functional model, which uses up a "
        "'functional' name, and a built Sequential without an explicit Input makes an 'input_layer_N'.",
        "keras.backend.clear_session() resets all the counters (next Dense is 'dense' again).",
        "Weight .name is 'kernel'/'bias'; weight .path is '<layer>/kernel' for a layer built on its "
        "own and '<model>/<layer>/kernel' for a layer built inside a Sequential.",
        "Optimizers are named by the same rule (RMSprop -> 'rm_sprop', ReLU -> 're_lu').",
    ]
    _dump("auto_names.json", r)


# ------------------------------------------------------------------ history / evaluate
def part_history():
    np, tf, keras = _import_keras()
    from keras import layers

    keras.utils.set_random_seed(0)
    x, y, xv, yv = _tiny_data(np)
    out = {"cases": [], "notes": []}
    zz = ["accuracy", keras.metrics.MeanSquaredError(name="zz_mse")]
    for metrics in (["accuracy"], ["mae", "accuracy"], None, ["accuracy", "mae"], zz):
        for with_val in (False, True):
            m = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="softmax")])
            m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=metrics)
            names_before = list(m.metrics_names)
            # 'mae' cannot broadcast y (n,) against y_pred (n,3): use y of shape (n,1) there.
            col = metrics is not None and ("mae" in metrics or metrics is zz)
            yt, yvt = (y[:, None], yv[:, None]) if col else (y, yv)
            h = m.fit(
                x, yt, batch_size=32, epochs=1, verbose=0,
                validation_data=(xv, yvt) if with_val else None,
            )
            y_eval = yt
            ev = m.evaluate(x, y_eval, batch_size=32, verbose=0)
            evd = m.evaluate(x, y_eval, batch_size=32, verbose=0, return_dict=True)
            ev_list = ev if isinstance(ev, list) else [ev]
            order = []
            for v in ev_list:
                match = [k for k, dv in evd.items() if abs(float(dv) - float(v)) < 1e-6 and k not in order]
                order.append(match[0] if match else "?")
            out["cases"].append(
                {
                    "compile": "compile(optimizer='sgd', loss='sparse_categorical_crossentropy', metrics=%s)"
                    % ("['accuracy', keras.metrics.MeanSquaredError(name='zz_mse')]" if metrics is zz else repr(metrics)),
                    "validation_data": with_val,
                    "y_shape": list(yt.shape),
                    "history_keys": list(h.history.keys()),
                    "history_value_type": type(next(iter(h.history.values()))[0]).__name__,
                    "evaluate_return_type": type(ev).__name__,
                    "evaluate_list_order": order,
                    "evaluate_values": ev,
                    "evaluate_return_dict_keys": list(evd.keys()),
                    "metrics_names_before_fit": names_before,
                    "metrics_names_after_fit": list(m.metrics_names),
                    "h.params": h.params,
                }
            )
    out["notes"] += [
        "evaluate_list_order was found by matching list values to the return_dict values.",
        "RULES (TF backend): history keys = ALL keys (training and val_) in one alphabetical sort, "
        "e.g. ['accuracy', 'loss', 'val_accuracy', 'val_loss', 'val_zz_mse', 'zz_mse'] (see the "
        "zz_mse case). The sorting is a TF-backend artifact (dicts pass through tf.nest, which sorts "
        "keys). "
        "evaluate() list = ['loss', compile metrics in compile order] "
        "(Trainer._flatten_metrics_in_order follows model.metrics = [loss tracker, compile_metrics]); "
        "a single value (loss only) is returned as a float, not a list. evaluate(return_dict=True) "
        "keys are sorted alphabetically like history. model.metrics_names is "
        "['loss', 'compile_metrics'] once compiled with metrics (['loss'] without).",
    ]
    m = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="softmax")])
    m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=["mae", "accuracy"])
    try:
        m.fit(x, y, batch_size=32, epochs=1, verbose=0)
        out["notes"].append("metrics=['mae','accuracy'] with y of shape (n,) and 3 outputs: no error")
    except Exception as e:  # noqa: BLE001
        out["notes"].append(
            "metrics=['mae','accuracy'] with sparse y of shape (n,) and 3 outputs FAILS in fit: "
            f"{type(e).__name__}: {str(e).splitlines()[0]}  (so those cases use y of shape (n,1))"
        )
    _dump("history_keys.json", out)


# ------------------------------------------------------------------ accuracy resolution
def part_accuracy():
    np, tf, keras = _import_keras()
    from keras import layers

    rng = np.random.default_rng(0)
    x = rng.standard_normal((16, 4)).astype("float32")
    lab = rng.integers(0, 3, 16)
    cases = [
        ("sparse_categorical_crossentropy", 3, "softmax", lab, "y int (16,), output (16,3)"),
        ("sparse_categorical_crossentropy", 3, "softmax", lab[:, None], "y int (16,1), output (16,3)"),
        ("categorical_crossentropy", 3, "softmax", np.eye(3, dtype="float32")[lab], "y one-hot (16,3), output (16,3)"),
        ("binary_crossentropy", 1, "sigmoid", (lab % 2).astype("float32"), "y (16,), output (16,1)"),
        ("binary_crossentropy", 1, "sigmoid", (lab % 2).astype("float32")[:, None], "y (16,1), output (16,1)"),
        ("binary_crossentropy", 3, "sigmoid", (rng.random((16, 3)) > 0.5).astype("float32"), "multi-label y (16,3), output (16,3)"),
        ("mse", 1, None, rng.standard_normal(16).astype("float32"), "y float (16,), output (16,1)"),
        ("mse", 2, None, rng.standard_normal((16, 2)).astype("float32"), "y float (16,2), output (16,2)"),
    ]
    out = {"rule": (
        "Keras 3 resolves 'accuracy'/'acc' from SHAPES, not from the loss "
        "(keras/src/trainers/compile_utils.py get_metric): if y_pred.shape[-1] == 1 -> BinaryAccuracy; "
        "elif rank(y_true) < rank(y_pred) or (y_true.shape[-1] == 1 and y_pred.shape[-1] > 1) -> "
        "SparseCategoricalAccuracy; else CategoricalAccuracy. The metric keeps the user's string as its "
        "name ('accuracy' -> 'accuracy', 'acc' -> 'acc'); history keys use that name."
    ), "cases": []}
    for loss, n_out, act, yy, shapes in cases:
        for ident in ("accuracy", "acc"):
            m = keras.Sequential([keras.Input((4,)), layers.Dense(n_out, activation=act)])
            m.compile(optimizer="sgd", loss=loss, metrics=[ident])
            h = m.fit(x, yy, batch_size=16, epochs=1, verbose=0, validation_data=(x, yy))
            resolved = m._compile_metrics.metrics
            out["cases"].append(
                {
                    "loss": loss,
                    "shapes": shapes,
                    "metric_string": ident,
                    "resolved_class": [type(r).__name__ for r in resolved],
                    "resolved_name": [r.name for r in resolved],
                    "history_keys": list(h.history.keys()),
                    "model.metrics names": [mm.name for mm in m.metrics],
                }
            )
    for ident in ("sparse_categorical_accuracy", "categorical_accuracy", "binary_accuracy"):
        m = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="softmax")])
        m.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", metrics=[ident])
        case = {
            "loss": "sparse_categorical_crossentropy",
            "shapes": "y int (16,), output (16,3)",
            "metric_string": ident,
        }
        try:
            h = m.fit(x, lab, batch_size=16, epochs=1, verbose=0)
        except Exception as e:  # noqa: BLE001
            case["fit_error"] = f"{type(e).__name__}: {str(e).splitlines()[0]}"
            out["cases"].append(case)
            continue
        resolved = m._compile_metrics.metrics
        case.update(
            {
                "resolved_class": [type(r).__name__ for r in resolved],
                "resolved_name": [r.name for r in resolved],
                "history_keys": list(h.history.keys()),
                "model.metrics names": [mm.name for mm in m.metrics],
            }
        )
        out["cases"].append(case)
    _dump("accuracy_resolution.json", out)


# ------------------------------------------------------------------ errors
def _elide_tf_traceback(msg):
    """Drop the 'defined at (most recent call last):' frames TF puts in graph errors."""
    lines = msg.split("\n")
    out, frames, skipping = [], 0, False
    for line in lines:
        if line.rstrip().endswith("defined at (most recent call last):"):
            out.append(line)
            skipping = True
            continue
        if skipping:
            if line.startswith("  File ") or line.strip() == "":
                frames += line.startswith("  File ")
                continue
            out.append(f"  [... {frames} traceback frames elided by make_format_facts.py ...]")
            out.append("")
            skipping = False
        out.append(line)
    return "\n".join(out)


def part_errors():
    np, tf, keras = _import_keras()
    from keras import layers

    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)

    def seed_model(compiled=True, loss="sparse_categorical_crossentropy", opt="sgd"):
        m = keras.Sequential([keras.Input((784,)), layers.Dense(10, activation="softmax")])
        if compiled:
            m.compile(optimizer=opt, loss=loss)
        return m

    x = rng.standard_normal((32, 784)).astype("float32")
    y = rng.integers(0, 10, 32)

    def c_wrong_shape():
        seed_model().fit(rng.standard_normal((32, 28, 28)).astype("float32"), y, verbose=0)

    def c_fit_before_compile():
        seed_model(compiled=False).fit(x, y, verbose=0)

    def c_evaluate_before_compile():
        seed_model(compiled=False).evaluate(x, y, verbose=0)

    def c_unknown_opt():
        m = seed_model(compiled=False)
        m.compile(optimizer="sgdd", loss="sparse_categorical_crossentropy")
        return "compile() accepted it"

    def c_unknown_loss():
        m = seed_model(compiled=False)
        m.compile(optimizer="sgd", loss="foo")
        stage = "compile() accepted it; "
        m.fit(x, y, verbose=0)
        return stage + "fit() accepted it"

    def c_negative_lr_int():
        keras.optimizers.SGD(learning_rate=-1)
        return "no error"

    def c_negative_lr():
        opt = keras.optimizers.SGD(learning_rate=-1.0)
        m = seed_model(opt=opt)
        h = m.fit(x, y, verbose=0, epochs=1)
        return (
            f"no error; optimizer.learning_rate={float(opt.learning_rate.numpy())}; "
            f"fit ran, loss={h.history['loss'][0]:.4f}"
        )

    def c_batch0():
        h = seed_model().fit(x, y, batch_size=0, verbose=0)
        return f"no error; history.params={h.params}; history keys={list(h.history)}"

    def c_valsplit():
        h = seed_model().fit(x, y, validation_split=1.5, verbose=0)
        return f"no error; history.params={h.params}; history={h.history}"

    def c_label_oob():
        yy = y.copy()
        yy[0] = 10
        m = seed_model()
        h = m.fit(x, yy, batch_size=32, epochs=1, verbose=0)
        ev = m.evaluate(x, yy, verbose=0)
        return f"no error; fit loss={h.history['loss'][0]!r}; evaluate loss={ev!r}"

    def c_len_mismatch():
        seed_model().fit(x, y[:31], verbose=0)

    def c_predict_wrong_shape():
        seed_model().predict(rng.standard_normal((4, 28, 28)).astype("float32"), verbose=0)

    cases = [
        ("Dense(0)", lambda: layers.Dense(0)),
        ("Dense(-1)", lambda: layers.Dense(-1)),
        ("fit on Input((784,)) model with x of shape (32, 28, 28)", c_wrong_shape),
        ("fit before compile", c_fit_before_compile),
        ("evaluate before compile", c_evaluate_before_compile),
        ("compile(optimizer='sgdd')", c_unknown_opt),
        ("compile(loss='foo') then fit", c_unknown_loss),
        ("Dense(10, activation='relux')", lambda: layers.Dense(10, activation="relux")),
        ("SGD(learning_rate=-1)  (an int)", c_negative_lr_int),
        ("SGD(learning_rate=-1.0) then fit", c_negative_lr),
        ("fit(batch_size=0)", c_batch0),
        ("fit(validation_split=1.5)", c_valsplit),
        ("sparse CE with label 10 and 10 classes (fit + evaluate)", c_label_oob),
        ("fit with len(x)=32, len(y)=31", c_len_mismatch),
        ("predict on Input((784,)) model with x of shape (4, 28, 28)", c_predict_wrong_shape),
    ]
    results = []
    for title, fn in cases:
        try:
            ret = fn()
            res = {"case": title, "raises": None,
                   "result": ret if isinstance(ret, str) else "no error"}
        except Exception as e:  # noqa: BLE001
            msg = _elide_tf_traceback(str(e))
            res = {"case": title, "raises": type(e).__name__,
                   "exception_module": type(e).__module__, "message": msg}
        results.append(res)
    with open(OUT / "errors.txt", "w", encoding="utf-8") as f:
        f.write(f"# Keras {keras.__version__} / TensorFlow {tf.__version__}: exact exception messages (str(e)).\n")
        f.write("# Each case: '## <case>', then 'raises: <ExceptionType>' and the message between the\n")
        f.write("# '-----' lines, or 'raises: nothing' and what happened. Messages may contain ANSI\n")
        f.write("# escapes (ESC[1m ... ESC[0m) exactly as Keras puts them; TF graph tracebacks are elided.\n\n")
        for r in results:
            f.write(f"## {r['case']}\n")
            if r["raises"]:
                f.write(f"raises: {r['raises']}\n-----\n{r['message']}\n-----\n\n")
            else:
                f.write(f"raises: nothing\nresult: {r['result']}\n\n")
    _dump("errors.json", results)


# ------------------------------------------------------------------ defaults
def part_defaults():
    np, tf, keras = _import_keras()
    from keras import layers

    inp = keras.Input((784,))
    seed = keras.Sequential([keras.Input((784,)), layers.Dense(10, activation="softmax")])
    out = {
        "optimizers": {
            c.__name__: c().get_config()
            for c in (keras.optimizers.SGD, keras.optimizers.RMSprop, keras.optimizers.Adam, keras.optimizers.Adagrad)
        },
        "layers": {
            "Dense(10)": layers.Dense(10).get_config(),
            "Flatten()": layers.Flatten().get_config(),
            "Dropout(0.3)": layers.Dropout(0.3).get_config(),
            "InputLayer from Input((784,))": inp._keras_history[0].get_config(),
        },
        "Sequential([Input((784,)), Dense(10, activation='softmax')]).get_config()": seed.get_config(),
        "note": "Layer/model names inside depend on how many objects were made before in this process.",
    }
    _dump("defaults.json", out)


# ------------------------------------------------------------------ driver
PARTS = {
    "summary": part_summary,
    "summary_wide": part_summary_wide,
    "summary_tty": part_summary_tty,
    "names": part_names,
    "history": part_history,
    "accuracy": part_accuracy,
    "errors": part_errors,
    "defaults": part_defaults,
}


def child_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    env.update({"TF_CPP_MIN_LOG_LEVEL": "3", "TF_ENABLE_ONEDNN_OPTS": "0", "PYTHONIOENCODING": "utf-8"})
    env.update(extra)
    return env


def run_child(args, **extra_env):
    p = subprocess.run(
        [sys.executable, str(SCRIPT), "--part", *args],
        capture_output=True, env=child_env(**extra_env),
        stdin=subprocess.DEVNULL,
    )
    if p.returncode != 0:
        sys.stderr.write(p.stderr.decode("utf-8", "replace")[-4000:])
        raise SystemExit(f"part {args} failed")
    return p.stdout


def run_child_tty(args, cols=120):
    """Run a part with stdout on a pseudo-terminal of `cols` columns."""
    import fcntl
    import pty
    import struct
    import termios

    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, cols, 0, 0))
    p = subprocess.Popen(
        [sys.executable, str(SCRIPT), "--part", *args],
        stdout=slave, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
        env=child_env(TERM="xterm-256color"),
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            b = os.read(master, 65536)
        except OSError:
            break
        if not b:
            break
        chunks.append(b)
    p.wait()
    os.close(master)
    return b"".join(chunks)


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    notes = {}

    stdout_summary = run_child(["summary"])
    marker = b"<<<STDOUT_SUMMARY>>>\n"
    redirected = stdout_summary.split(marker, 1)[1].decode("utf-8")
    seed_pf = (OUT / "summary_seed.txt").read_text(encoding="utf-8")
    run_child(["summary_wide"], COLUMNS="200")
    tty = run_child_tty(["summary_tty"]).decode("utf-8", "replace")
    notes["summary"] = {
        "print_fn_call": "print_fn is called ONCE with the whole table as one string (ending in '\\n'), no kwargs",
        "print_fn_has_ansi": "\x1b[" in seed_pf,
        "redirected_stdout_equals_print_fn_text": redirected == seed_pf,
        "redirected_stdout_has_ansi": "\x1b[" in redirected,
        "tty_has_ansi": "\x1b[" in tty,
        "tty_output_repr_first_3_lines (pty with 120 columns)": [repr(l) for l in tty.splitlines()[:3]],
        "tty_output_repr_last_3_lines": [repr(l) for l in tty.splitlines()[-3:]],
        "line_length_rule": (
            "default line_length = min(88, shutil.get_terminal_size().columns - 4) for Sequential-like "
            "models (108 for functional graphs); non-tty without COLUMNS -> fallback 80 columns -> 76. "
            "Column widths from positions [0.45, 0.80, 1.0] of line_length."
        ),
        "widths": {
            "summary_seed.txt (non-tty, COLUMNS unset)": max(len(l) for l in seed_pf.splitlines()),
            "summary_seed_wide.txt (COLUMNS=200)": max(
                len(l) for l in (OUT / "summary_seed_wide.txt").read_text(encoding="utf-8").splitlines()
            ),
        },
    }

    # progress lines: stdout is a pipe (not a tty)
    raw_parts, repr_parts = [], []
    for mode, call in PROGRESS_MODES:
        data = run_child(["progress", mode])
        raw_parts.append(b"===== " + call.encode() + b" =====\n" + data)
        repr_parts.append(f"===== {call} =====\n")
        for line in data.splitlines(keepends=True):
            repr_parts.append(repr(line) + "\n")
        repr_parts.append("\n")
    with open(OUT / "progress_lines.txt", "wb") as f:
        f.write(
            b"# stdout of each call run in a fresh child process with stdout a pipe (not a tty);\n"
            b"# model: Sequential([Input((4,)), Dense(3, softmax)]), sgd, sparse CE, metrics=['accuracy'],\n"
            b"# x (64,4), batch_size=32 -> 2 steps per epoch, validation_data 16 rows.\n"
            b"# Sections start with '===== <call> =====\\n'; what follows up to the next '=====' line is\n"
            b"# the exact bytes. Timings (e.g. 251ms/step, 0s) vary from run to run.\n"
        )
        f.write(b"".join(raw_parts))
    with open(OUT / "progress_lines_repr.txt", "w", encoding="utf-8") as f:
        f.write("# repr() of each line (bytes, split after '\\n') of progress_lines.txt sections\n")
        f.write("".join(repr_parts))
    notes["progress"] = {
        "dynamic_display_rule": (
            "keras.utils.Progbar._dynamic_display = stdout.isatty() or 'ipykernel' in sys.modules or "
            "'posix' in sys.modules or 'PYCHARM_HOSTED' in os.environ -> always True on Linux/macOS, so "
            "output to a pipe/file is the SAME as to a terminal: ANSI codes, '\\r', and '\\b' * previous width."
        ),
        "verbose1_update": (
            "each update writes '\\b'*prev_visible_width + '\\r' + '\\x1b[1m{cur:>n}/{target}\\x1b[0m ' + "
            "'\\x1b[32m' + '━'*int(20*cur/target) + '\\x1b[0m' + '\\x1b[37m' + '━'*(20-done) + '\\x1b[0m' + "
            "' \\x1b[1m{ETA}s\\x1b[0m' (or elapsed '{t:.0f}s' on the final update) + ' {N}ms/step' + "
            "' - {name}: {avg:.4f}' per metric; pad with spaces if shorter than previous; final update ends "
            "with '\\n'. Updates closer than 0.05 s apart are skipped except the final one."
        ),
        "verbose2_line": "'{cur}/{target} - {elapsed:.0f}s - {N}ms/step - {name}: {avg:.4f} ...\\n' once per epoch",
        "epoch_header": "'Epoch {i}/{epochs}\\n' before each epoch for verbose 1 and 2",
        "metric_order_in_logs": "alphabetical, like history keys (accuracy, loss, val_accuracy, val_loss)",
        "value_format": "'{:.4f}' if |avg| > 1e-3 else '{:.4e}'",
    }

    for part in ("names", "history", "accuracy", "errors", "defaults"):
        run_child([part])

    # versions
    vers = run_child(["versions"]).decode().strip().splitlines()[-1]
    meta = {"script": "tools/keras_reference/make_format_facts.py", "versions": json.loads(vers),
            "env": {"TF_ENABLE_ONEDNN_OPTS": "0", "COLUMNS": "unset", "stdout": "pipe (not a tty)"},
            "notes": notes}
    _dump("format_facts.json", meta)
    print("wrote", sorted(p.name for p in OUT.iterdir()))


def part_versions():
    np, tf, keras = _import_keras()
    print(json.dumps({"keras": keras.__version__, "tensorflow": tf.__version__, "numpy": np.__version__,
                      "python": sys.version.split()[0], "keras_backend": keras.backend.backend()}))


PARTS["versions"] = part_versions

if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--part":
        name = sys.argv[2]
        if name == "progress":
            part_progress(sys.argv[3])
        else:
            PARTS[name]()
    else:
        main()
