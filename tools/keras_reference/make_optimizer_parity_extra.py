"""Reference fixture: more Keras 3 optimizer trajectories (AdamW, Adamax, Adadelta,
weight decay, gradient clipping, learning-rate schedules) for tinyann parity tests.

Runs ONLY in the separate Keras venv (see README.md beside this file); it never
imports tinyann.  It reuses the data and initial weights of
``optimizer_parity.npz`` (made by make_optimizer_parity.py, run that first) and
the same protocol: Input(6) -> Dense(5, relu) -> Dense(3, softmax), sparse
categorical cross-entropy, ``set_weights(init_0..3)``, then 10
``train_on_batch(x[8i:8i+8], y[8i:8i+8])`` steps.  Writes

    tests/fixtures/keras/optimizer_parity_extra.npz   (np.savez, no object arrays)
    tests/fixtures/keras/optimizer_parity_extra.json  (cases, optimizer configs, versions)

npz keys: ``<case>__w_<i>`` final weights (get_weights order), ``<case>__loss`` (10,).

Usage:  /work/kerasenv/bin/python tools/keras_reference/make_optimizer_parity_extra.py
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

tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)
keras.utils.set_random_seed(0)

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "keras"
BATCH, STEPS = 8, 10

OPT = keras.optimizers
SCHED = keras.optimizers.schedules
CASES = {
    "adamw": lambda: OPT.AdamW(learning_rate=0.01, weight_decay=0.1),
    "adamw_default": lambda: OPT.AdamW(),
    "adamax": lambda: OPT.Adamax(learning_rate=0.01),
    "adadelta": lambda: OPT.Adadelta(learning_rate=1.0),
    "nadam": lambda: OPT.Nadam(learning_rate=0.01),
    "nadam_betas": lambda: OPT.Nadam(learning_rate=0.02, beta_1=0.8, beta_2=0.99,
                                     epsilon=1e-5),
    "sgd_momentum_weight_decay": lambda: OPT.SGD(learning_rate=0.1, momentum=0.9,
                                                 weight_decay=0.05),
    "adam_clipnorm": lambda: OPT.Adam(learning_rate=0.01, clipnorm=0.1),
    "sgd_global_clipnorm": lambda: OPT.SGD(learning_rate=0.1, global_clipnorm=0.1),
    "rmsprop_clipvalue": lambda: OPT.RMSprop(learning_rate=0.01, clipvalue=0.02),
    "sgd_exponential_staircase": lambda: OPT.SGD(
        learning_rate=SCHED.ExponentialDecay(0.5, decay_steps=3, decay_rate=0.5,
                                             staircase=True)),
    "adam_cosine_warmup": lambda: OPT.Adam(
        learning_rate=SCHED.CosineDecay(0.001, decay_steps=6, alpha=0.1, warmup_target=0.02,
                                        warmup_steps=4)),
    "rmsprop_piecewise": lambda: OPT.RMSprop(
        learning_rate=SCHED.PiecewiseConstantDecay([3, 6], [0.02, 0.01, 0.001])),
    "adagrad_inverse_time": lambda: OPT.Adagrad(
        learning_rate=SCHED.InverseTimeDecay(0.2, decay_steps=2, decay_rate=0.5)),
}


def jsonable(v):
    if isinstance(v, np.floating):
        return float(v)
    if isinstance(v, np.integer):
        return int(v)
    if isinstance(v, np.ndarray):
        return v.tolist()
    return str(v)


def main():
    with np.load(OUT / "optimizer_parity.npz", allow_pickle=False) as base:
        x, y = base["x"], base["y"]
        init = [base[f"init_{i}"] for i in range(4)]
    arrays, cases_meta = {}, []
    for name, make_opt in CASES.items():
        model = keras.Sequential([
            keras.Input((x.shape[1],)),
            keras.layers.Dense(5, activation="relu"),
            keras.layers.Dense(3, activation="softmax"),
        ])
        model.set_weights([w.copy() for w in init])
        opt = make_opt()
        model.compile(optimizer=opt, loss="sparse_categorical_crossentropy")
        losses = []
        for i in range(STEPS):
            sl = slice(BATCH * i, BATCH * i + BATCH)
            losses.append(float(model.train_on_batch(x[sl], y[sl])))
        for i, w in enumerate(model.get_weights()):
            arrays[f"{name}__w_{i}"] = w.astype(np.float32)
        arrays[f"{name}__loss"] = np.asarray(losses, dtype=np.float32)
        cases_meta.append({
            "name": name,
            "optimizer_class": type(opt).__name__,
            "optimizer_config": opt.get_config(),
            "losses": losses,
        })
        print(f"{name:28s} loss {losses[0]:.6f} -> {losses[-1]:.6f}")

    for k, v in arrays.items():
        assert v.dtype != object, k
    np.savez(OUT / "optimizer_parity_extra.npz", **arrays)
    meta = {
        "script": "tools/keras_reference/make_optimizer_parity_extra.py",
        "versions": {
            "keras": keras.__version__,
            "tensorflow": tf.__version__,
            "numpy": np.__version__,
            "python": sys.version.split()[0],
            "keras_backend": keras.backend.backend(),
            "floatx": keras.backend.floatx(),
        },
        "protocol": {
            "data": "x, y and init_0..3 from optimizer_parity.npz",
            "model": "Input(6) -> Dense(5, relu) -> Dense(3, softmax), "
                     "loss sparse_categorical_crossentropy, no metrics",
            "steps": "for i in range(10): model.train_on_batch(x[8*i:8*i+8], y[8*i:8*i+8])",
            "keys": {"<case>__w_<i>": "final weights, get_weights() order",
                     "<case>__loss": "(10,) per-step losses (before each step's update)"},
        },
        "cases": cases_meta,
    }
    with open(OUT / "optimizer_parity_extra.json", "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1, default=jsonable, ensure_ascii=False)
        f.write("\n")
    size = (OUT / "optimizer_parity_extra.npz").stat().st_size
    print("wrote", OUT / "optimizer_parity_extra.npz", size, "bytes")


if __name__ == "__main__":
    main()
