"""Reference fixture: a compiled two-output functional model saved by real Keras 3.

Runs ONLY in the separate Keras venv (see README.md beside this file); it never
imports tinyann. Writes into ``tests/fixtures/keras/multi_output/``:

    model.keras     dict outputs, a loss / loss weight / metrics per output, trained
    reference.npz   plain arrays: ``x``, ``y_a``, ``y_b`` and ``pred_a``, ``pred_b``
    reference.json  versions, Keras's ``evaluate(return_dict=True)`` on that data and
                    the ``compile_config`` Keras wrote

Usage:  /work/kerasenv/bin/python tools/keras_reference/make_multi_output_file.py
"""

import json
import os
import zipfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "keras" / "multi_output"


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(0)
    layers = keras.layers
    inputs = keras.Input((4,))
    hidden = layers.Dense(8, activation="relu")(inputs)
    out_a = layers.Dense(3, activation="softmax", name="out_a")(hidden)
    out_b = layers.Dense(1, name="out_b")(hidden)
    model = keras.Model(inputs, {"out_a": out_a, "out_b": out_b})
    model.compile(optimizer="adam",
                  loss={"out_a": "sparse_categorical_crossentropy", "out_b": "mse"},
                  loss_weights={"out_a": 1.0, "out_b": 0.5},
                  metrics={"out_a": ["accuracy"], "out_b": ["mae"]})
    rng = np.random.default_rng(0)
    x = rng.random((16, 4), dtype=np.float32)
    y = {"out_a": rng.integers(0, 3, 16), "out_b": rng.random((16, 1), dtype=np.float32)}
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    model.save(OUT / "model.keras")
    pred = model.predict(x, verbose=0)
    np.savez(OUT / "reference.npz", x=x, y_a=y["out_a"], y_b=y["out_b"],
             pred_a=pred["out_a"], pred_b=pred["out_b"])
    with zipfile.ZipFile(OUT / "model.keras") as archive:
        compile_config = json.loads(archive.read("config.json"))["compile_config"]
    report = {"keras": keras.__version__, "tensorflow": tf.__version__,
              "evaluate": model.evaluate(x, y, verbose=0, return_dict=True),
              "compile_config": compile_config}
    (OUT / "reference.json").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
