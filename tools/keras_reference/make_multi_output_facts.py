"""Reference facts from real Keras 3 for models with several outputs, and for
``metrics_names`` / ``model.metrics`` / ``get_metrics_result()``.

Runs ONLY in the separate Keras venv (see README.md beside this file); it never
imports tinyann. Writes tests/fixtures/keras/multi_output_facts.json:

    data        a two-output functional model's initial weights (set_weights order),
                inputs and targets, all small
    cases       per compile setting: history keys and values (2 epochs, SGD, batch 8,
                unshuffled, with validation data), evaluate() list and dict,
                metrics_names and model.metrics before and after fit,
                train_on_batch / test_on_batch results, predict's type and shapes,
                and the names on fit(verbose=2)'s epoch line in their order
    single      metrics_names, model.metrics, metrics[1].result() and
                get_metrics_result() of a single-output model
    errors      exception class and message for bad targets, losses, metrics,
                loss_weights and class_weight

Usage:  /work/kerasenv/bin/python tools/keras_reference/make_multi_output_facts.py
"""

import contextlib
import io
import json
import os
import re
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)
import keras  # noqa: E402
from keras import layers  # noqa: E402

OUT = (Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "keras"
       / "multi_output_facts.json")

N = 16
RNG = np.random.default_rng(20240611)
X = RNG.normal(size=(N, 4)).astype("float32")
Y_A = RNG.integers(0, 3, N).astype("int64")
Y_B = RNG.normal(size=(N, 1)).astype("float32")
SW = np.linspace(0.25, 2.0, N).astype("float32")
# kernel, bias of 'hidden' (4 -> 6, relu), 'out_a' (6 -> 3, softmax), 'out_b' (6 -> 1)
WEIGHTS = [RNG.uniform(-0.6, 0.6, size=s).astype("float32")
           for s in [(4, 6), (6,), (6, 3), (3,), (6, 1), (1,)]]


def make_model(dict_outputs=False, l2=None):
    inp = keras.Input((4,), name="x")
    reg = keras.regularizers.L2(l2) if l2 else None
    h = layers.Dense(6, activation="relu", name="hidden", kernel_regularizer=reg)(inp)
    a = layers.Dense(3, activation="softmax", name="out_a")(h)
    b = layers.Dense(1, name="out_b")(h)
    outputs = {"b_key": b, "a_key": a} if dict_outputs else [a, b]
    model = keras.Model(inp, outputs)
    model.set_weights(WEIGHTS)
    return model


def floats(values):
    if isinstance(values, dict):
        return {k: float(v) for k, v in values.items()}
    if isinstance(values, (list, tuple)):
        return [float(v) for v in values]
    return float(values)


def epoch_line_names(text):
    """The names on fit(verbose=2)'s last epoch line, in order."""
    lines = [line for line in text.splitlines() if "/step" in line]
    return re.findall(r" - ([A-Za-z_0-9]+): ", lines[-1])


# each case: what compile gets, as JSON, and how y is given
ONE_HOT_A = np.eye(3, dtype="float32")[Y_A]
CASES = {
    "loss_list": dict(compile=dict(loss=["sparse_categorical_crossentropy", "mse"])),
    "loss_dict_weights_dict_metrics_dict": dict(compile=dict(
        loss={"out_a": "sparse_categorical_crossentropy", "out_b": "mse"},
        loss_weights={"out_a": 1.0, "out_b": 0.5},
        metrics={"out_a": "accuracy", "out_b": ["mae"]})),
    "weights_list_metrics_nested_l2": dict(l2=0.01, compile=dict(
        loss=["sparse_categorical_crossentropy", "mse"], loss_weights=[0.3, 2.0],
        metrics=[["accuracy"], ["mae", "mse"]])),
    "metrics_flat_one_per_output": dict(compile=dict(
        loss=["sparse_categorical_crossentropy", "mse"], metrics=["accuracy", "mae"])),
    "metrics_dict_partial": dict(compile=dict(
        loss=["sparse_categorical_crossentropy", "mse"], metrics={"out_a": ["accuracy"]})),
    "single_loss_for_all": dict(y="one_hot", compile=dict(loss="mse", metrics=["mae", "mae"])),
    "y_dict": dict(y="dict", compile=dict(
        loss=["sparse_categorical_crossentropy", "mse"], metrics=[["accuracy"], []])),
    "sample_weight": dict(sample_weight=True, compile=dict(
        loss=["sparse_categorical_crossentropy", "mse"], loss_weights=[1.0, 0.25],
        metrics=[["accuracy"], ["mae"]])),
    "dict_outputs": dict(dict_outputs=True, y="dict_keys", compile=dict(
        loss={"a_key": "sparse_categorical_crossentropy", "b_key": "mse"},
        loss_weights={"a_key": 0.5, "b_key": 1.0},
        metrics={"a_key": ["accuracy"]})),
}


def targets(kind):
    if kind == "one_hot":
        return [ONE_HOT_A, Y_B]
    if kind == "dict":
        return {"out_a": Y_A, "out_b": Y_B}
    if kind == "dict_keys":
        return {"a_key": Y_A, "b_key": Y_B}
    return [Y_A, Y_B]


def run_case(spec):
    model = make_model(spec.get("dict_outputs", False), spec.get("l2"))
    names_before_compile = list(model.metrics_names)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.1), **spec["compile"])
    y = targets(spec.get("y"))
    sw = SW if spec.get("sample_weight") else None
    fact = {"compile": spec["compile"], "y": spec.get("y", "list"),
            "l2": spec.get("l2"), "dict_outputs": spec.get("dict_outputs", False),
            "sample_weight": bool(sw is not None),
            "metrics_names_before_compile": names_before_compile,
            "metrics_names_after_compile": list(model.metrics_names)}
    initial = model.evaluate(X, y, sample_weight=sw, batch_size=8, verbose=0,
                             return_dict=True)
    fact["evaluate_initial"] = floats(initial)
    fact["metrics_names_after_evaluate"] = list(model.metrics_names)
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        history = model.fit(X, y, sample_weight=sw, batch_size=8, epochs=2, shuffle=False,
                            validation_data=(X, y) if sw is None else (X, y, SW),
                            verbose=2)
    fact["history_keys"] = list(history.history)
    fact["history"] = {k: floats(v) for k, v in history.history.items()}
    fact["epoch_line_names"] = epoch_line_names(buf.getvalue())
    fact["metrics_names_after_fit"] = list(model.metrics_names)
    fact["metrics_classes"] = [type(m).__name__ for m in model.metrics]
    result = model.metrics[1].result() if len(model.metrics) > 1 else None
    fact["metrics_1_result"] = (floats(result) if result is not None else None)
    fact["get_metrics_result"] = floats(model.get_metrics_result())
    values = model.evaluate(X, y, sample_weight=sw, batch_size=8, verbose=0)
    fact["evaluate_list"] = floats(values)
    fact["evaluate_dict"] = floats(model.evaluate(X, y, sample_weight=sw, batch_size=8,
                                                  verbose=0, return_dict=True))
    fact["train_on_batch"] = floats(model.train_on_batch(X[:8], targets_rows(y, 8),
                                                         sample_weight=None if sw is None
                                                         else sw[:8]))
    fact["test_on_batch_dict"] = floats(model.test_on_batch(
        X[8:], targets_rows(y, slice(8, None)), return_dict=True))
    pred = model.predict(X, verbose=0)
    fact["predict_type"] = type(pred).__name__
    fact["predict_keys"] = list(pred) if isinstance(pred, dict) else None
    fact["predict_shapes"] = ([list(p.shape) for p in pred.values()] if isinstance(pred, dict)
                              else [list(p.shape) for p in pred])
    fact["final_weights"] = [w.ravel().tolist() for w in model.get_weights()]
    return fact


def targets_rows(y, rows):
    rows = slice(None, rows) if isinstance(rows, int) else rows
    if isinstance(y, dict):
        return {k: v[rows] for k, v in y.items()}
    return [v[rows] for v in y]


def single_output():
    """metrics_names and model.metrics of a single-output model, in Keras 3's form."""
    facts = {}
    for label, metrics in [("none", None), ("empty", []), ("accuracy_topk",
                           ["accuracy", "sparse_top_k_categorical_accuracy"]),
                           ("duplicate", ["accuracy", "accuracy"])]:
        inp = keras.Input((4,))
        model = keras.Model(inp, layers.Dense(3, activation="softmax", name="d")(inp))
        model.set_weights([WEIGHTS[2][:4], WEIGHTS[3]])
        kwargs = {} if metrics is None else {"metrics": metrics}
        model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", **kwargs)
        fact = {"metrics": metrics, "names_after_compile": list(model.metrics_names),
                "classes_after_compile": [type(m).__name__ for m in model.metrics]}
        try:
            model.get_metrics_result()
            fact["get_metrics_result_before_fit"] = "ok"
        except Exception as e:  # noqa: BLE001 - the fact is the error
            fact["get_metrics_result_before_fit"] = {"type": type(e).__name__,
                                                     "message": str(e)}
        model.fit(X, Y_A, batch_size=8, epochs=1, shuffle=False, verbose=0)
        fact["names_after_fit"] = list(model.metrics_names)
        fact["metrics_0_result"] = float(model.metrics[0].result())
        if len(model.metrics) > 1:
            fact["metrics_1_result"] = floats(model.metrics[1].result())
            fact["metrics_1_sub_names"] = [m.name for m in model.metrics[1].metrics]
        fact["get_metrics_result"] = floats(model.get_metrics_result())
        fact["evaluate_list"] = floats(model.evaluate(X, Y_A, verbose=0))
        fact["evaluate_dict"] = floats(model.evaluate(X, Y_A, verbose=0, return_dict=True))
        facts[label] = fact
    # loss_weights on a single output scale the loss
    inp = keras.Input((4,))
    model = keras.Model(inp, layers.Dense(3, activation="softmax", name="d")(inp))
    model.set_weights([WEIGHTS[2][:4], WEIGHTS[3]])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy", loss_weights=2.0,
                  metrics=[["accuracy"]])
    facts["loss_weight_2"] = {"evaluate_dict": floats(model.evaluate(
        X, Y_A, verbose=0, return_dict=True)), "names": list(model.metrics_names)}
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    facts["loss_weight_none"] = {"evaluate_dict": floats(model.evaluate(
        X, Y_A, verbose=0, return_dict=True))}
    return facts


def error(fn):
    try:
        fn()
    except Exception as e:  # noqa: BLE001 - the fact is the error
        return {"type": type(e).__name__, "message": str(e).split("\n\nDetected")[0]}
    return None


def errors():
    def compiled(**kwargs):
        model = make_model()
        model.compile(optimizer="sgd", **kwargs)
        return model

    two = ["sparse_categorical_crossentropy", "mse"]
    return {
        "y_three_arrays": error(lambda: compiled(loss=two).evaluate(
            X, [Y_A, Y_B, Y_B], verbose=0)),
        "y_one_array_in_list": error(lambda: compiled(loss=two).evaluate(
            X, [Y_A], verbose=0)),
        "y_single_array": error(lambda: compiled(loss=two).evaluate(X, Y_B, verbose=0)),
        "y_dict_unknown_name": error(lambda: compiled(loss=two).evaluate(
            X, {"out_a": Y_A, "zz": Y_B}, verbose=0)),
        "loss_list_too_long": error(lambda: compiled(loss=two + ["mse"]).evaluate(
            X, [Y_A, Y_B], verbose=0)),
        "loss_dict_unknown_name": error(lambda: compiled(
            loss={"out_a": "sparse_categorical_crossentropy", "zzz": "mse"}).evaluate(
            X, [Y_A, Y_B], verbose=0)),
        "loss_weights_wrong_length": error(lambda: compiled(
            loss=two, loss_weights=[1.0]).evaluate(X, [Y_A, Y_B], verbose=0)),
        "metrics_flat_list_wrong_length": error(lambda: compiled(
            loss=two, metrics=["accuracy"]).evaluate(X, [Y_A, Y_B], verbose=0)),
        "metrics_dict_unknown_name": error(lambda: compiled(
            loss=two, metrics={"out_a": "accuracy", "zz": "mae"}).evaluate(
            X, [Y_A, Y_B], verbose=0)),
        "class_weight": error(lambda: compiled(loss=two).fit(
            X, [Y_A, Y_B], class_weight={0: 1.0, 1: 2.0}, verbose=0)),
        # mode='auto' looks names up among the compiled metrics' own (unprefixed) names
        "early_stopping_auto_on_output_metric": error(lambda: compiled(
            loss=two, metrics=[["accuracy"], []]).fit(
            X, [Y_A, Y_B], epochs=2, verbose=0, validation_data=(X, [Y_A, Y_B]),
            callbacks=[keras.callbacks.EarlyStopping("val_out_a_accuracy")])),
    }


def main():
    keras.utils.set_random_seed(0)
    facts = {
        "versions": {"keras": keras.__version__, "tensorflow": tf.__version__,
                     "numpy": np.__version__, "python": sys.version.split()[0]},
        "data": {"x": X.tolist(), "y_a": Y_A.tolist(), "y_b": Y_B.ravel().tolist(),
                 "sample_weight": SW.tolist(),
                 "weights": [{"shape": list(w.shape), "values": w.ravel().tolist()}
                             for w in WEIGHTS],
                 "model": "x (4,) -> Dense(6, relu, 'hidden') -> [Dense(3, softmax, 'out_a'),"
                          " Dense(1, 'out_b')]; dict_outputs: {'b_key': out_b, "
                          "'a_key': out_a}; fit: SGD(0.1), batch 8, 2 epochs, "
                          "shuffle=False, validation_data=(x, y)"},
        "cases": {name: run_case(spec) for name, spec in CASES.items()},
        "single": single_output(),
        "errors": errors(),
    }
    text = json.dumps(facts, indent=1, allow_nan=True, default=float)
    OUT.write_text(text + "\n", encoding="utf-8")
    print(f"wrote {OUT} ({len(text)} bytes)", file=sys.stderr)


if __name__ == "__main__":
    main()
