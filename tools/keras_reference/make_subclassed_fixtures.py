"""Reference fixture: subclassed models saved by real Keras 3, for tinyann's tests.

Runs ONLY in the separate Keras venv (see README.md beside this file); it never
imports tinyann. The models come from ``subclassed_models.py``, which the tests run
with tinyann. Writes into ``tests/fixtures/keras/subclassed/``:

    <case>.keras, <case>.weights.h5   files as Keras 3 writes them
    reference.npz   plain arrays: ``<case>__x`` (a fixed input), ``<case>__pred``
                    (Keras's predict on it), ``<case>__opt_<i>`` (optimizer variables)
    reference.json  versions and, per case, every dataset of the .weights.h5 file
                    with its shape and the ``name`` attribute of each ``vars`` group

Usage:  /work/kerasenv/bin/python tools/keras_reference/make_subclassed_fixtures.py
"""

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from subclassed_models import define, weights_file_layout  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(1)
keras.utils.set_random_seed(0)
ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "keras" / "subclassed"


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    classes = define(keras)
    rng = np.random.default_rng(0)
    cases = {"classifier": (classes["Classifier"](units=4, name="clf"), 6),
             "residual": (classes["ResidualNet"](name="res"), 5)}
    arrays, report = {}, {"keras": keras.__version__, "tensorflow": tf.__version__,
                          "cases": {}}
    for case, (model, features) in cases.items():
        x = rng.random((8, features), dtype=np.float32)
        y = rng.integers(0, 3, 8)
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        model.fit(x, y, batch_size=4, epochs=2, verbose=0)
        model.save(OUT / f"{case}.keras")
        model.save_weights(OUT / f"{case}.weights.h5")
        arrays[f"{case}__x"] = x
        arrays[f"{case}__pred"] = model.predict(x, verbose=0)
        for i, v in enumerate(model.optimizer.variables):
            arrays[f"{case}__opt_{i}"] = np.asarray(v)
        datasets, names = weights_file_layout(OUT / f"{case}.weights.h5")
        report["cases"][case] = {"datasets": datasets, "vars_names": names,
                                 "weights": [w.path for w in model.weights]}
    np.savez(OUT / "reference.npz", **arrays)
    (OUT / "reference.json").write_text(json.dumps(report, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
