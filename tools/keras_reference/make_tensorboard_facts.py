"""Records what real Keras 3's TensorBoard callback writes: per run directory, the
(step, tag, plugin) of every summary, for a few settings of update_freq and histogram_freq.

Run from the repo root: /work/kerasenv/bin/python tools/keras_reference/make_tensorboard_facts.py
Writes tests/fixtures/keras/tensorboard_facts.json.
"""

import glob
import json
import os
import tempfile

import keras
import numpy as np
import tensorflow as tf

OUT = os.path.join("tests", "fixtures", "keras", "tensorboard_facts.json")


def read_events(log_dir):
    runs = {}
    for path in sorted(glob.glob(os.path.join(log_dir, "**", "events.out.tfevents.*"),
                                 recursive=True)):
        run = os.path.relpath(os.path.dirname(path), log_dir)
        rows = runs.setdefault(run, [])
        for event in tf.compat.v1.train.summary_iterator(path):
            for value in event.summary.value:
                rows.append([int(event.step), value.tag,
                             value.metadata.plugin_data.plugin_name])
    return runs


def case(name, **kwargs):
    keras.utils.set_random_seed(0)
    x = np.random.rand(40, 4).astype("float32")
    y = (x.sum(axis=1) > 2).astype("int32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    with tempfile.TemporaryDirectory() as log_dir:
        tb = keras.callbacks.TensorBoard(log_dir=log_dir, **kwargs)
        # 40 samples, validation_split 0.25 -> 30 train = 3 batches of 10, 10 val = 1 batch
        model.fit(x, y, epochs=2, batch_size=10, validation_split=0.25, callbacks=[tb],
                  verbose=0)
        return {"kwargs": kwargs, "runs": read_events(log_dir)}


def main():
    facts = {
        "keras": keras.__version__, "tensorflow": tf.__version__,
        "cases": {
            "default": case("default"),
            "batch": case("batch", update_freq="batch"),
            "every2": case("every2", update_freq=2),
            "histograms": case("histograms", histogram_freq=1, write_graph=False),
        },
    }
    with open(OUT, "w") as f:
        json.dump(facts, f, indent=1)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
