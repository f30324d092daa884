"""Reference facts about Keras 3's API outside layers, losses, metrics and ops.

Runs ONLY in the separate Keras venv (see README.md beside this file); it never
imports tinyann. Writes tests/fixtures/keras/api_facts.json:

- ``result_type``: keras.backend.result_type for every pair of 12 dtypes and for each
  dtype with Python ``int`` / ``float``;
- ``schedules``: PolynomialDecay and CosineDecayRestarts values at steps 0..399 and a
  few large ones, and their configs;
- ``orthogonal_regularizer``: the penalty and its gradient (GradientTape) for both modes;
- ``split_dataset``: the halves of ``np.arange(20)`` split 0.7 with shuffle, seed 42;
- ``serialize``: keras.utils.serialize_keras_object of a few objects.

Usage:  /work/kerasenv/bin/python tools/keras_reference/make_api_facts.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "keras" / "api_facts.json"

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

DTYPES = ["bool", "uint8", "uint16", "uint32", "int8", "int16", "int32", "int64", "float16",
          "float32", "float64", "bfloat16"]
STEPS = list(range(400)) + [1000, 5000, 12345]
S = keras.optimizers.schedules
SCHEDULES = {
    "poly": lambda: S.PolynomialDecay(0.1, 100, 0.001, power=0.5),
    "poly_cycle": lambda: S.PolynomialDecay(0.1, 30, 0.01, power=2.0, cycle=True),
    "poly_default": lambda: S.PolynomialDecay(1.0, 7),
    "sgdr": lambda: S.CosineDecayRestarts(0.1, 10),
    "sgdr_t1": lambda: S.CosineDecayRestarts(0.05, 7, t_mul=1.0, m_mul=0.8, alpha=0.1),
    "sgdr_t3": lambda: S.CosineDecayRestarts(0.2, 5, t_mul=3.0, m_mul=0.5, alpha=0.01),
    "sgdr_t15": lambda: S.CosineDecayRestarts(0.2, 13, t_mul=1.5, m_mul=0.9),
}


def result_types():
    table = {}
    for a in DTYPES:
        for b in DTYPES:
            table[f"{a},{b}"] = keras.backend.result_type(a, b)
        for weak in (int, float):
            table[f"{a},{weak.__name__}"] = keras.backend.result_type(a, weak)
    return table


def schedules():
    out = {}
    for name, make in SCHEDULES.items():
        schedule = make()
        out[name] = {"values": [float(schedule(step)) for step in STEPS],
                     "config": schedule.get_config()}
    return {"steps": STEPS, "cases": out}


def orthogonal():
    w = np.random.default_rng(0).normal(size=(4, 3)).astype("float32")
    out = {"w": w.tolist()}
    for mode in ("rows", "columns"):
        regularizer = keras.regularizers.OrthogonalRegularizer(0.1, mode=mode)
        v = keras.Variable(w)
        with tf.GradientTape() as tape:
            loss = regularizer(v)
        out[mode] = {"penalty": float(loss), "gradient": tape.gradient(loss, v.value).numpy()
                     .tolist(), "config": regularizer.get_config()}
    return out


def split():
    left, right = keras.utils.split_dataset(np.arange(20), left_size=0.7, shuffle=True,
                                            seed=42)
    return {"left": [int(v) for v in left], "right": [int(v) for v in right]}


def serialized():
    s = keras.utils.serialize_keras_object
    return {"relu": s(keras.activations.relu), "mse_function": s(keras.losses.mean_squared_error),
            "max_norm": s(keras.constraints.MaxNorm(3)),
            "exponential_decay": s(S.ExponentialDecay(0.1, 10, 0.9)),
            "policy": s(keras.DTypePolicy("mixed_float16")), "l2": s(keras.regularizers.L2(0.1)),
            "array": s(np.array([1, 2], dtype="int64"))}


def main():
    facts = {"keras": keras.__version__, "result_type": result_types(),
             "schedules": schedules(), "orthogonal_regularizer": orthogonal(),
             "split_dataset": split(), "serialize": serialized()}
    OUT.write_text(json.dumps(facts, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
