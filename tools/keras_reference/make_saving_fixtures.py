"""Reference fixture: model files written by real Keras 3, for tinyann's loading tests.

Runs ONLY in the separate Keras venv (see README.md beside this file); it never
imports tinyann. Writes into ``tests/fixtures/keras/saving/``:

    <case>.keras, <case>.h5, <case>.weights.h5   files as Keras 3 writes them
    reference.npz   plain arrays (``np.load(..., allow_pickle=False)`` works):
                    ``<case>__x`` (or ``__x0``, ``__x1`` for two inputs): a fixed input;
                    ``<case>__pred``: Keras's ``predict`` on it;
                    ``<case>__opt_<i>``: the optimizer's variables in Keras's order;
                    ``<case>__xb``/``__yb``, ``<case>__pred_after_step``: predictions after
                    one more ``train_on_batch`` on that batch, made by a model loaded
                    back from the ``.keras`` file (checks the optimizer state resumes)
    reference.json  versions, per case: files, layer names, optimizer class, notes

Every case is trained a few steps (so the optimizer has slots), except
``unbuilt_opt``, saved after ``compile`` only.

Usage:  /work/kerasenv/bin/python tools/keras_reference/make_saving_fixtures.py
"""

import json
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # plain, reproducible kernels

import h5py  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from keras import layers  # noqa: E402

tf.config.threading.set_intra_op_parallelism_threads(1)
tf.config.threading.set_inter_op_parallelism_threads(1)
keras.utils.set_random_seed(0)

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "tests" / "fixtures" / "keras" / "saving"
rng = np.random.default_rng(0)


def mlp():
    """The textbook classifier: Flatten, Dense, BatchNormalization (non-trainable moving
    statistics after its trainable weights), Dropout, Dense softmax; Adam."""
    model = keras.Sequential([keras.Input((6, 4)), layers.Flatten(),
                              layers.Dense(8, activation="relu"), layers.BatchNormalization(),
                              layers.Dropout(0.25),
                              layers.Dense(3, activation="softmax")], name="mlp")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    x = rng.random((16, 6, 4), dtype=np.float32)
    return model, [x], rng.integers(0, 3, 16), False


def wide():
    """Dense(40) (more than 32 units) and RMSprop with momentum and centering: three
    slots, which Keras stores group by group (all velocities, then momentums...)."""
    model = keras.Sequential([keras.Input((5,)), layers.Dense(40, activation="tanh"),
                              layers.Dense(4, activation="softmax")], name="wide")
    model.compile(optimizer=keras.optimizers.RMSprop(momentum=0.5, centered=True),
                  loss="categorical_crossentropy", metrics=["categorical_accuracy"])
    x = rng.standard_normal((16, 5)).astype(np.float32)
    y = np.eye(4, dtype=np.float32)[rng.integers(0, 4, 16)]
    return model, [x], y, True


def branches():
    """Two inputs, two branches, Concatenate: Keras orders the layers by depth."""
    a = keras.Input((5,), name="a")
    b = keras.Input((3,), name="b")
    zz = layers.Dense(4, activation="relu", name="zz")(a)
    aa = layers.Dense(4, activation="relu", name="aa")(b)
    joined = layers.Concatenate(name="join")([aa, zz])
    out = layers.Dense(2, name="out")(joined)
    model = keras.Model([a, b], out, name="branches")
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
                  loss="mse", metrics=[keras.metrics.MeanAbsoluteError()])
    x0 = rng.standard_normal((16, 5)).astype(np.float32)
    x1 = rng.standard_normal((16, 3)).astype(np.float32)
    return model, [x0, x1], rng.standard_normal((16, 2)).astype(np.float32), True


def conv():
    """Conv2D, MaxPooling2D, Flatten, Dense; Adam with amsgrad (velocity_hat slots)."""
    model = keras.Sequential([keras.Input((6, 6, 1)), layers.Conv2D(2, 3, activation="relu"),
                              layers.MaxPooling2D(2), layers.Flatten(),
                              layers.Dense(3, activation="softmax")], name="conv")
    model.compile(optimizer=keras.optimizers.Adam(amsgrad=True),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    x = rng.random((16, 6, 6, 1), dtype=np.float32)
    return model, [x], rng.integers(0, 3, 16), True


def unbuilt_opt():
    """Compiled, never trained: the optimizer holds only iterations and learning rate."""
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)], name="unbuilt_opt")
    model.compile(optimizer="sgd", loss="mse")
    return model, [rng.standard_normal((4, 3)).astype(np.float32)], None, False


CASES = {"mlp": (mlp, (".keras", ".h5", ".weights.h5")),
         "wide": (wide, (".keras",)),
         "branches": (branches, (".keras", ".h5", ".weights.h5")),
         "conv": (conv, (".keras", ".h5")),
         "unbuilt_opt": (unbuilt_opt, (".keras",))}


def main():
    if OUT.exists():
        shutil.rmtree(OUT)
    OUT.mkdir(parents=True)
    arrays, info = {}, {}
    for name, (make, suffixes) in CASES.items():
        model, xs, y, resume = make()
        if y is not None:
            model.fit(xs if len(xs) > 1 else xs[0], y, batch_size=8, epochs=2, shuffle=False,
                      verbose=0)
        inputs = xs if len(xs) > 1 else xs[0]
        for i, x in enumerate(xs):
            arrays[f"{name}__x{i if len(xs) > 1 else ''}"] = x
        arrays[f"{name}__pred"] = model.predict(inputs, verbose=0)
        for i, v in enumerate(model.optimizer.variables):
            arrays[f"{name}__opt_{i}"] = np.asarray(v.numpy())
        files = []
        for suffix in suffixes:
            path = OUT / f"{name}{suffix}"
            if suffix == ".weights.h5":
                model.save_weights(path)
            else:
                model.save(path)
            files.append(path.name)
        if resume:
            loaded = keras.models.load_model(OUT / f"{name}.keras")
            xb = [x[:8] for x in xs]
            yb = y[:8]
            loaded.train_on_batch(xb if len(xb) > 1 else xb[0], yb)
            arrays[f"{name}__yb"] = yb
            arrays[f"{name}__pred_after_step"] = loaded.predict(inputs, verbose=0)
        info[name] = {
            "files": files,
            "layers": [layer.name for layer in model.layers],
            "layer_classes": [type(layer).__name__ for layer in model.layers],
            "optimizer": type(model.optimizer).__name__,
            "optimizer_variables": [v.path for v in model.optimizer.variables],
            "iterations": int(model.optimizer.iterations),
            "resume_checked": resume,
            "doc": (make.__doc__ or "").strip(),
        }
    np.savez(OUT / "reference.npz", **arrays)
    meta = {
        "versions": {"keras": keras.__version__, "tensorflow": tf.__version__,
                     "numpy": np.__version__, "h5py": h5py.__version__,
                     "python": sys.version.split()[0], "backend": keras.backend.backend()},
        "cases": info,
        "note": "Made by tools/keras_reference/make_saving_fixtures.py; inputs from "
                "numpy.random.default_rng(0) in case order.",
    }
    (OUT / "reference.json").write_text(json.dumps(meta, indent=1) + "\n")
    total = sum(p.stat().st_size for p in OUT.iterdir())
    print(f"wrote {len(list(OUT.iterdir()))} files, {total / 1024:.0f} KiB, into {OUT}")


if __name__ == "__main__":
    main()
