"""Do files written by tinyann load in real Keras 3 and predict the same? Two steps:

    .venv/bin/python tools/keras_reference/check_tinyann_files_in_keras.py write DIR
    /work/kerasenv/bin/python tools/keras_reference/check_tinyann_files_in_keras.py check DIR

``write`` (tinyann's environment; imports tinyann, never Keras) trains small models,
saves each as ``.keras``, ``.h5`` and ``.weights.h5`` and records in
``DIR/tinyann_reference.npz`` the input, tinyann's predictions, its optimizer
variables, and its predictions after one more ``train_on_batch``.

``check`` (the Keras environment; imports Keras, never tinyann) loads every file in
Keras, compares the predictions (and, for ``.keras``, the optimizer variables and
the predictions after the same extra training step) and prints the largest
differences. It exits with status 1 if a prediction differs by more than 1e-6.
"""

import json
import os
import sys
from pathlib import Path

TOLERANCE = 1e-6
# the extra training step compares two implementations of the optimizer update
STEP_TOLERANCE = 1e-5


def _cases(keras, layers, rng):
    """(name, model, inputs, targets) built with ``keras`` (tinyann here)."""
    import numpy as np

    mlp = keras.Sequential([keras.Input((6, 4)), layers.Flatten(),
                            layers.Dense(8, activation="relu"), layers.BatchNormalization(),
                            layers.Dropout(0.25),
                            layers.Dense(3, activation="softmax")])
    mlp.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    yield "mlp", mlp, [rng.random((16, 6, 4), dtype=np.float32)], rng.integers(0, 3, 16)

    wide = keras.Sequential([layers.Dense(40, activation="tanh", input_shape=(5,)),
                             layers.Dense(4, activation="softmax")])
    wide.compile(optimizer=keras.optimizers.RMSprop(momentum=0.5, centered=True),
                 loss="categorical_crossentropy", metrics=["categorical_accuracy"])
    yield "wide", wide, [rng.standard_normal((16, 5)).astype(np.float32)], np.eye(
        4, dtype=np.float32)[rng.integers(0, 4, 16)]

    a, b = keras.Input((5,), name="a"), keras.Input((3,), name="b")
    joined = layers.Concatenate()([layers.Dense(4, activation="relu")(b),
                                   layers.Dense(4, activation="relu")(a)])
    branches = keras.Model([a, b], layers.Dense(2)(joined))
    branches.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
                     loss="mse", metrics=[keras.metrics.MeanAbsoluteError()])
    yield "branches", branches, [rng.standard_normal((16, 5)).astype(np.float32),
                                 rng.standard_normal((16, 3)).astype(np.float32)], \
        rng.standard_normal((16, 2)).astype(np.float32)

    conv = keras.Sequential([keras.Input((6, 6, 1)), layers.Conv2D(2, 3, activation="relu"),
                             layers.MaxPooling2D(2), layers.Flatten(),
                             layers.Dense(3, activation="softmax")])
    conv.compile(optimizer=keras.optimizers.Adam(amsgrad=True),
                 loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    yield "conv", conv, [rng.random((16, 6, 6, 1), dtype=np.float32)], rng.integers(0, 3, 16)

    # chapter 9: an Embedding into recurrent layers (RMSprop: the book's optimizer)
    for name, body in (("lstm", [layers.LSTM(4)]), ("gru", [layers.GRU(4)]),
                       ("stacked_lstm", [layers.LSTM(4, return_sequences=True),
                                         layers.LSTM(4)])):
        rnn = keras.Sequential([keras.Input((7,)), layers.Embedding(20, 5)] + body +
                               [layers.Dense(1, activation="sigmoid")])
        rnn.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-2),
                    loss="binary_crossentropy", metrics=["accuracy"])
        yield name, rnn, [rng.integers(0, 20, (16, 7)).astype(np.float32)], \
            rng.integers(0, 2, 16)
    simple = keras.Sequential([keras.Input((7, 3)), layers.SimpleRNN(4),
                               layers.Dense(1, activation="sigmoid")])
    simple.compile(optimizer="adam", loss="binary_crossentropy")
    yield "simple_rnn", simple, [rng.random((16, 7, 3), dtype=np.float32)], \
        rng.integers(0, 2, 16)
    # Bidirectional and TimeDistributed (tinyann/layers/wrappers.py)
    bidi = keras.Sequential([keras.Input((7,)), layers.Embedding(20, 5, mask_zero=True),
                             layers.Bidirectional(layers.LSTM(4)),
                             layers.Dense(1, activation="sigmoid")])
    bidi.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-2),
                 loss="binary_crossentropy")
    yield "bidirectional", bidi, [rng.integers(0, 20, (16, 7)).astype(np.float32)], \
        rng.integers(0, 2, 16)
    steps = keras.Sequential([keras.Input((7, 3)),
                              layers.Bidirectional(layers.GRU(3, return_sequences=True),
                                                   merge_mode="sum"),
                              layers.TimeDistributed(layers.Dense(1, activation="sigmoid"))])
    steps.compile(optimizer="adam", loss="binary_crossentropy")
    yield "time_distributed", steps, [rng.random((16, 7, 3), dtype=np.float32)], \
        rng.integers(0, 2, (16, 7, 1))

    plain = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    yield "uncompiled", plain, [rng.standard_normal((4, 3)).astype(np.float32)], None

    classes = _subclassed(keras)
    for name, model, features in (("subclassed", classes["Classifier"](units=4), 6),
                                  ("residual", classes["ResidualNet"](), 5)):
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                      metrics=["accuracy"])
        yield name, model, [rng.random((16, features), dtype=np.float32)], rng.integers(
            0, 3, 16)


def _subclassed(keras):
    """The subclassed models of ``subclassed_models.py``, made with ``keras`` (and
    registered with it, so that it can load them)."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from subclassed_models import define

    return define(keras)


def write(directory):
    """Saves tinyann models and their reference numbers into ``directory``."""
    import numpy as np

    import tinyann as keras
    from tinyann import layers

    keras.utils.set_random_seed(0)
    directory.mkdir(parents=True, exist_ok=True)
    arrays, cases = {}, {}
    for name, model, xs, y in _cases(keras, layers, np.random.default_rng(0)):
        inputs = xs if len(xs) > 1 else xs[0]
        if y is not None:
            model.fit(inputs, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
        for suffix in (".keras", ".h5"):
            model.save(directory / f"{name}{suffix}")
        model.save_weights(directory / f"{name}.weights.h5")
        for i, x in enumerate(xs):
            arrays[f"{name}__x{i}"] = x
        arrays[f"{name}__pred"] = model.predict(inputs, verbose=0)
        if model.optimizer is not None:
            for i, v in enumerate(model.optimizer.variables):
                arrays[f"{name}__opt_{i}"] = np.array(v)  # a copy: slots change in place
        if y is not None:
            arrays[f"{name}__y"] = y
            model.train_on_batch([x[:8] for x in xs] if len(xs) > 1 else xs[0][:8], y[:8])
            arrays[f"{name}__pred_after_step"] = model.predict(inputs, verbose=0)
        # dropout masks are random in either library: no step-by-step comparison
        cases[name] = {"inputs": len(xs), "trained": y is not None,
                       "subclassed": bool(getattr(model, "_subclassed", False)),
                       "dropout": any(isinstance(layer, layers.Dropout)
                                      for layer in model.layers)}
    np.savez(directory / "tinyann_reference.npz", **arrays)
    (directory / "tinyann_reference.json").write_text(json.dumps(cases, indent=1))
    print(f"wrote {len(cases)} models x 3 files into {directory}")


def check(directory):
    """Loads every file in Keras and compares; returns the process exit status."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import keras
    import numpy as np

    # Keras's legacy .h5 loader finds a user's class by its bare name only
    legacy_objects = _subclassed(keras)
    ref = np.load(directory / "tinyann_reference.npz", allow_pickle=False)
    cases = json.loads((directory / "tinyann_reference.json").read_text())
    worst, failures = 0.0, []
    print(f"Keras {keras.__version__} ({keras.backend.backend()})")
    for name, info in cases.items():
        xs = [ref[f"{name}__x{i}"] for i in range(info["inputs"])]
        inputs = xs if len(xs) > 1 else xs[0]
        for suffix in (".keras", ".h5", ".weights.h5"):
            if suffix == ".h5" and info.get("subclassed"):
                # Keras cannot load a legacy .h5 of a subclassed model (not even its
                # own: the model it makes from the config has no layers yet)
                continue
            path = directory / f"{name}{suffix}"
            if suffix == ".weights.h5":
                model = keras.models.load_model(directory / f"{name}.keras")
                model.set_weights([np.zeros_like(w) for w in model.get_weights()])
                model.load_weights(path)
            else:
                model = keras.models.load_model(path, custom_objects=legacy_objects)
            diff = float(np.abs(model.predict(inputs, verbose=0) - ref[f"{name}__pred"]).max())
            line = f"{path.name:24s} predict max |diff| = {diff:.3g}"
            worst = max(worst, diff)
            if diff > TOLERANCE:
                failures.append(line)
            if suffix == ".keras" and info["trained"]:
                opt = [np.asarray(v.numpy()) for v in model.optimizer.variables]
                opt_diff = max(float(np.abs(v - ref[f"{name}__opt_{i}"]).max())
                               for i, v in enumerate(opt))
                line += f"; {len(opt)} optimizer variables, max |diff| = {opt_diff:.3g}"
                step = 0.0
                if not info["dropout"]:
                    model.train_on_batch([x[:8] for x in xs] if len(xs) > 1 else xs[0][:8],
                                         ref[f"{name}__y"][:8])
                    step = float(np.abs(model.predict(inputs, verbose=0)
                                        - ref[f"{name}__pred_after_step"]).max())
                    line += f"; after one more step: {step:.3g}"
                if opt_diff > TOLERANCE or step > STEP_TOLERANCE:
                    failures.append(line)
            print(line)
    print(f"largest prediction difference: {worst:.3g} (tolerance {TOLERANCE})")
    for line in failures:
        print("FAILED:", line)
    return 1 if failures else 0


def main(argv):
    if len(argv) != 3 or argv[1] not in ("write", "check"):
        print(__doc__)
        return 2
    directory = Path(argv[2])
    if argv[1] == "write":
        write(directory)
        return 0
    return check(directory)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
