"""Reference outputs and training steps of Keras 3's Conv2DTranspose, for
tests/layers/test_conv_transpose.py.

Runs ONLY in the separate Keras venv (see README.md beside this file), on JAX. For each
set of arguments: the layer's output for a seeded input and seeded weights, its config,
and the weights of Input(5, 4, 3) -> Conv2DTranspose -> Flatten -> Dense(1) after three
SGD steps (mse) from seeded weights. Writes tests/fixtures/keras/conv_transpose.json.

Usage:  /work/kerasenv/bin/python tools/keras_reference/make_conv_transpose_facts.py
"""

from __future__ import annotations

import json
import os

os.environ["KERAS_BACKEND"] = "jax"

import keras  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "tests", "fixtures", "keras", "conv_transpose.json")
CASES = [dict(filters=3, kernel_size=3), dict(filters=2, kernel_size=3, strides=2, padding="same"),
         dict(filters=2, kernel_size=4, strides=2, padding="same", activation="relu"),
         dict(filters=2, kernel_size=(2, 3), strides=(2, 1), use_bias=False),
         dict(filters=2, kernel_size=3, strides=2, padding="valid", output_padding=1),
         dict(filters=2, kernel_size=5, strides=2, padding="same", output_padding=1),
         dict(filters=2, kernel_size=3, dilation_rate=2, activation="tanh"),
         dict(filters=2, kernel_size=2, strides=3, padding="same")]


def seeded(shapes, seed):
    rng = np.random.default_rng(seed)
    return [(0.3 * rng.standard_normal(s)).astype("float32") for s in shapes]


def data():
    rng = np.random.default_rng(0)
    return (rng.standard_normal((6, 5, 4, 3)).astype("float32"),
            rng.standard_normal((6, 1)).astype("float32"))


def main():
    x, y = data()
    facts = []
    for k, kwargs in enumerate(CASES):
        layer = keras.layers.Conv2DTranspose(**kwargs)
        model = keras.Sequential([keras.Input((5, 4, 3)), layer, keras.layers.Flatten(),
                                  keras.layers.Dense(1)])
        model.set_weights(seeded([w.shape for w in model.get_weights()], k))
        output = np.asarray(layer(x[:2]))
        model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
        losses = [float(model.train_on_batch(x, y)) for _ in range(3)]
        config = {key: (list(v) if isinstance(v, tuple) else v)
                  for key, v in layer.get_config().items() if key not in ("name", "dtype")}
        facts.append({"kwargs": kwargs, "output": output.tolist(), "losses": losses,
                      "weights": [w.tolist() for w in model.get_weights()], "config": config})
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(facts, f)
    print(f"wrote {len(facts)} cases to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
