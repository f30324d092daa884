"""Reference fixture: a structured-data model with string, int64 and float inputs,
saved by real Keras 3 (the "classify structured data" tutorial's form).

Runs ONLY in the separate Keras venv (see README.md beside this file); it never
imports tinyann. Writes into ``tests/fixtures/keras/typed_inputs/``:

    model.keras     dict inputs "Type" (string), "Age" (int64), "Fee" (float32);
                    StringLookup / IntegerLookup with given vocabularies (in the
                    config, not in assets), Normalization with given statistics,
                    CategoryEncoding, concatenate, Dense; outputs [probability,
                    Hashing(7) ids of "Age" (int mode, int64)]
    reference.npz   the inputs (Type as unicode strings) and Keras's two outputs

Usage:  /work/kerasenv/bin/python tools/keras_reference/make_typed_inputs_file.py
"""

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "keras" / "typed_inputs"


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(0)
    layers = keras.layers
    kind = keras.Input(shape=(1,), name="Type", dtype="string")
    age = keras.Input(shape=(1,), name="Age", dtype="int64")
    fee = keras.Input(shape=(1,), name="Fee")
    features = layers.concatenate([
        layers.StringLookup(vocabulary=["Cat", "Dog"], output_mode="one_hot")(kind),
        layers.IntegerLookup(vocabulary=[1, 2, 3], output_mode="one_hot")(age),
        layers.CategoryEncoding(num_tokens=6, output_mode="one_hot")(age),
        layers.Normalization(mean=2.0, variance=4.0)(fee),
    ])
    hidden = layers.Dense(4, activation="relu")(features)
    prob = layers.Dense(1, activation="sigmoid")(hidden)
    ids = layers.Hashing(7)(age)
    model = keras.Model({"Type": kind, "Age": age, "Fee": fee}, [prob, ids])
    model.save(OUT / "model.keras")
    rng = np.random.default_rng(0)
    kinds = rng.choice(["Cat", "Dog", "Bird"], (10, 1))
    ages = rng.integers(0, 6, (10, 1))
    fees = rng.normal(2.0, 2.0, (10, 1)).astype("float32")
    out = model({"Type": tf.constant(kinds.astype(object)), "Age": tf.constant(ages),
                 "Fee": tf.constant(fees)})
    np.savez(OUT / "reference.npz", Type=kinds, Age=ages, Fee=fees,
             prob=np.asarray(out[0]), ids=np.asarray(out[1]))


if __name__ == "__main__":
    main()
