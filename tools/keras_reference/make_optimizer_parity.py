"""Reference fixture: Keras 3 optimizer trajectories for tinyann parity tests.

Runs ONLY in the separate Keras venv (see README.md beside this file); it
never imports tinyann.  Writes

    tests/fixtures/keras/optimizer_parity.npz   (np.savez, no object arrays)
    tests/fixtures/keras/optimizer_parity.json  (cases, optimizer configs, versions)

Every case starts from weights drawn with NumPy (not Keras initializers), takes
10 ``train_on_batch`` steps on consecutive batches of 8 rows (no shuffling) and
records the loss returned by each step (the loss of that batch computed in the
forward pass, i.e. *before* that step's update) and the final weights.

Usage:  /work/kerasenv/bin/python tools/keras_reference/make_optimizer_parity.py
"""

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # plain, reproducible kernels

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)
keras.utils.set_random_seed(0)

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "keras"
N, D, C, BATCH, STEPS = 80, 6, 3, 8, 10

# ---------------------------------------------------------------- data
# Draw order from Generator(seed 0) -- documented in the json too:
#   x (80,6) standard_normal float32; y (80,) integers(0, 3);
#   main init: kernel0 N(0,.5) (6,5), bias0 N(0,.1) (5,), kernel1 N(0,.5) (5,3), bias1 N(0,.1) (3,);
#   bce init:  same recipe with shapes (6,5),(5,),(5,1),(1,);
#   mse init:  same recipe with shapes (6,5),(5,),(5,2),(2,);
#   y_mse (80,2) standard_normal float32.
rng = np.random.default_rng(0)
x = rng.standard_normal((N, D)).astype(np.float32)
y = rng.integers(0, C, size=N).astype(np.int64)


def draw_init(n_out):
    k0 = rng.normal(0.0, 0.5, size=(D, 5)).astype(np.float32)
    b0 = rng.normal(0.0, 0.1, size=(5,)).astype(np.float32)
    k1 = rng.normal(0.0, 0.5, size=(5, n_out)).astype(np.float32)
    b1 = rng.normal(0.0, 0.1, size=(n_out,)).astype(np.float32)
    return [k0, b0, k1, b1]


init_main = draw_init(C)
init_bce = draw_init(1)
init_mse = draw_init(2)
y_mse = rng.standard_normal((N, 2)).astype(np.float32)
y_onehot = np.eye(C, dtype=np.float32)[y]
y_bin = (y % 2).astype(np.float32)


def build(hidden_act, n_out, out_act, init):
    model = keras.Sequential(
        [
            keras.Input((D,)),
            layers.Dense(5, activation=hidden_act),
            layers.Dense(n_out, activation=out_act),
        ]
    )
    model.set_weights([w.copy() for w in init])
    return model


OPT = keras.optimizers
# name -> (optimizer factory, model kind)
CASES = {
    "sgd": (lambda: OPT.SGD(learning_rate=0.1), "sparse"),
    "sgd_momentum": (lambda: OPT.SGD(learning_rate=0.1, momentum=0.9), "sparse"),
    "sgd_nesterov": (lambda: OPT.SGD(learning_rate=0.1, momentum=0.9, nesterov=True), "sparse"),
    "rmsprop": (lambda: OPT.RMSprop(learning_rate=0.01), "sparse"),
    "rmsprop_centered_momentum": (
        lambda: OPT.RMSprop(learning_rate=0.01, momentum=0.5, centered=True),
        "sparse",
    ),
    "adam": (lambda: OPT.Adam(learning_rate=0.01), "sparse"),
    "adam_amsgrad": (lambda: OPT.Adam(learning_rate=0.01, amsgrad=True), "sparse"),
    "adagrad": (lambda: OPT.Adagrad(learning_rate=0.1), "sparse"),
    "sgd_default": (lambda: OPT.SGD(), "sparse"),
    "rmsprop_default": (lambda: OPT.RMSprop(), "sparse"),
    "adam_default": (lambda: OPT.Adam(), "sparse"),
    "adagrad_default": (lambda: OPT.Adagrad(), "sparse"),
    "categorical_adam": (lambda: OPT.Adam(learning_rate=0.01), "categorical"),
    "bce_sgd": (lambda: OPT.SGD(learning_rate=0.1), "bce"),
    "mse_rmsprop": (lambda: OPT.RMSprop(learning_rate=0.01), "mse"),
}

KINDS = {
    # kind: (hidden act, n_out, out act, init, loss, metrics, targets, model text)
    "sparse": ("relu", C, "softmax", init_main, "sparse_categorical_crossentropy",
               ["accuracy"], y, "Dense(5, relu) -> Dense(3, softmax)"),
    "categorical": ("relu", C, "softmax", init_main, "categorical_crossentropy",
                    ["accuracy"], y_onehot, "Dense(5, relu) -> Dense(3, softmax)"),
    "bce": ("relu", 1, "sigmoid", init_bce, "binary_crossentropy",
            ["accuracy"], y_bin, "Dense(5, relu) -> Dense(1, sigmoid)"),
    "mse": ("tanh", 2, None, init_mse, "mse",
            ["mae"], y_mse, "Dense(5, tanh) -> Dense(2, linear)"),
}
TARGET_KEY = {"sparse": "y", "categorical": "y_onehot", "bce": "y_bin", "mse": "y_mse"}
INIT_PREFIX = {"sparse": "init_", "categorical": "init_", "bce": "bce_sgd__init_",
               "mse": "mse_rmsprop__init_"}


def jsonable(v):
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, np.ndarray):
        return v.tolist()
    return str(v)


def main():
    arrays = {"x": x, "y": y, "y_onehot": y_onehot, "y_bin": y_bin, "y_mse": y_mse}
    for i, w in enumerate(init_main):
        arrays[f"init_{i}"] = w
    for i, w in enumerate(init_bce):
        arrays[f"bce_sgd__init_{i}"] = w
    for i, w in enumerate(init_mse):
        arrays[f"mse_rmsprop__init_{i}"] = w

    cases_meta = []
    for name, (make_opt, kind) in CASES.items():
        hid, n_out, out_act, init, loss, metrics, targets, text = KINDS[kind]
        model = build(hid, n_out, out_act, init)
        opt = make_opt()
        model.compile(optimizer=opt, loss=loss, metrics=metrics)
        losses, mets, metric_names = [], [], None
        for i in range(STEPS):
            sl = slice(BATCH * i, BATCH * i + BATCH)
            logs = model.train_on_batch(x[sl], targets[sl], return_dict=True)
            metric_names = list(logs.keys())
            losses.append(float(logs["loss"]))
            mets.append([float(logs[k]) for k in metric_names if k != "loss"])
        final = model.get_weights()
        for i, w in enumerate(final):
            arrays[f"{name}__w_{i}"] = w.astype(np.float32)
        arrays[f"{name}__loss"] = np.asarray(losses, dtype=np.float32)
        arrays[f"{name}__metric"] = np.asarray(mets, dtype=np.float32).reshape(STEPS, -1)
        pred = model.predict(x, verbose=0, batch_size=N)
        arrays[f"{name}__pred"] = pred.astype(np.float32)
        cases_meta.append(
            {
                "name": name,
                "model": text,
                "loss": loss,
                "compile_metrics": metrics,
                "targets_key": TARGET_KEY[kind],
                "init_keys": [f"{INIT_PREFIX[kind]}{i}" for i in range(4)],
                "optimizer_class": type(opt).__name__,
                "optimizer_config": opt.get_config(),
                "optimizer_iterations_after": int(opt.iterations.numpy()),
                "train_on_batch_logs_keys": metric_names,
                "losses": losses,
                "metric_per_step": mets,
            }
        )
        print(f"{name:28s} loss {losses[0]:.6f} -> {losses[-1]:.6f}")

    for k, v in arrays.items():
        assert v.dtype != object, k
    np.savez(OUT / "optimizer_parity.npz", **arrays)
    meta = {
        "script": "tools/keras_reference/make_optimizer_parity.py",
        "versions": {
            "keras": keras.__version__,
            "tensorflow": tf.__version__,
            "numpy": np.__version__,
            "python": sys.version.split()[0],
            "keras_backend": keras.backend.backend(),
            "floatx": keras.backend.floatx(),
        },
        "env": {"TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS")},
        "protocol": {
            "rng": "numpy.random.default_rng(0)",
            "draw_order": [
                "x = standard_normal((80,6)).astype(float32)",
                "y = integers(0, 3, size=80)",
                "init_0..3: normal(0,.5,(6,5)), normal(0,.1,(5,)), normal(0,.5,(5,3)), normal(0,.1,(3,)) as float32",
                "bce_sgd__init_0..3: same recipe, shapes (6,5),(5,),(5,1),(1,)",
                "mse_rmsprop__init_0..3: same recipe, shapes (6,5),(5,),(5,2),(2,)",
                "y_mse = standard_normal((80,2)).astype(float32)",
            ],
            "derived": {"y_onehot": "eye(3)[y]", "y_bin": "(y % 2) as float32, shape (80,)"},
            "steps": "for i in range(10): model.train_on_batch(x[8*i:8*i+8], t[8*i:8*i+8])",
            "loss_semantics": "value returned by train_on_batch = mean loss of that batch, "
                              "computed before that step's weight update",
            "keys": {
                "<case>__w_<i>": "final weights, get_weights() order (kernel0, bias0, kernel1, bias1)",
                "<case>__loss": "(10,) per-step losses",
                "<case>__metric": "(10, k) per-step compile metrics (accuracy, or mae for mse_rmsprop)",
                "<case>__pred": "model.predict(x) after the 10 steps",
            },
        },
        "cases": cases_meta,
    }
    with open(OUT / "optimizer_parity.json", "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1, default=jsonable, ensure_ascii=False)
        f.write("\n")
    print("wrote", OUT / "optimizer_parity.npz", (OUT / "optimizer_parity.npz").stat().st_size, "bytes")


if __name__ == "__main__":
    main()
