"""Reference facts from real Keras 3 for the convolutional layers (issue 5).

Runs ONLY in the separate Keras venv (see README.md beside this file); it never
imports tinyann. Writes tests/fixtures/keras/cnn_facts.json:

    summaries   model.summary() text (print_fn, line_length given, COLUMNS=200) of
                the textbook CNN, a BatchNormalization model and a merge model
    configs     get_config() of each new layer, default and non-default arguments
    shapes      compute_output_shape for many (input, kernel, strides, padding,
                dilation) combinations
    numerics    small seeded inputs and weights, the layer outputs, and the
                gradients of sum(output * r) for a fixed random r (tf.GradientTape)
    errors      exception class and message for invalid arguments
    training    a small CNN trained 3 epochs with Adam, unshuffled, from given
                weights: the loss per epoch, the final weights and predictions

The auto-named summary runs in a fresh child process (``--part summary``) so the
names are conv2d, max_pooling2d, ... as in a user's first script.

Usage:  /work/kerasenv/bin/python tools/keras_reference/make_cnn_facts.py
"""

import json
import os
import subprocess
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "keras" / "cnn_facts.json"


def _import_keras():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    os.environ["COLUMNS"] = "200"
    import numpy as np
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras

    return np, tf, keras


def _summary_text(model, **kwargs):
    parts = []
    model.summary(print_fn=lambda s, **kw: parts.append(s), **kwargs)
    return "\n".join(parts)


def part_summary():
    """Fresh process: auto names as in a user's first script."""
    np, tf, keras = _import_keras()
    from keras import layers

    cnn = keras.Sequential([
        keras.Input((28, 28, 1)),
        layers.Conv2D(32, 3, activation="relu", padding="same"),
        layers.MaxPooling2D(2),
        layers.Conv2D(64, 3, activation="relu", padding="same"),
        layers.MaxPooling2D(2),
        layers.Flatten(),
        layers.Dense(100, activation="relu"),
        layers.Dropout(0.4),
        layers.Dense(10, activation="softmax"),
    ])
    bn = keras.Sequential([
        keras.Input((8, 8, 3)),
        layers.Conv2D(4, 3),
        layers.BatchNormalization(),
        layers.GlobalAveragePooling2D(),
        layers.Dense(2),
    ])
    inp = keras.Input((8, 8, 3))
    a = layers.Conv2D(4, 3, padding="same")(inp)
    b = layers.Conv2D(4, 1)(inp)
    s = layers.Add()([a, b])
    c = layers.Concatenate()([s, inp])
    out = layers.Dense(2)(layers.GlobalMaxPooling2D()(c))
    merge = keras.Model(inp, out)
    weights = {w.path: list(w.shape) for w in cnn.weights + bn.weights}
    return {
        "textbook_cnn": {"text": _summary_text(cnn, line_length=88),
                         "names": [layer.name for layer in cnn.layers]},
        "batchnorm": {"text": _summary_text(bn, line_length=88),
                      "weights": [w.path for w in bn.weights],
                      "trainable": [w.path for w in bn.trainable_weights],
                      "non_trainable": [w.path for w in bn.non_trainable_weights]},
        "merge": {"text": _summary_text(merge, line_length=108)},
        "weight_shapes": weights,
    }


def _configs(keras):
    L = keras.layers
    made = {
        "Conv2D": L.Conv2D(8, 3, name="c"),
        "Conv2D_args": L.Conv2D(4, (3, 2), strides=(2, 1), padding="same", activation="relu",
                                use_bias=False, kernel_initializer="he_uniform", name="c2"),
        "MaxPooling2D": L.MaxPooling2D(name="p"),
        "MaxPooling2D_args": L.MaxPooling2D(3, strides=2, padding="same", name="p2"),
        "AveragePooling2D": L.AveragePooling2D(2, name="a"),
        "GlobalAveragePooling2D": L.GlobalAveragePooling2D(name="g"),
        "GlobalMaxPooling2D": L.GlobalMaxPooling2D(keepdims=True, name="gm"),
        "BatchNormalization": L.BatchNormalization(name="bn"),
        "Add": L.Add(name="add"),
        "Concatenate": L.Concatenate(name="cat"),
        "Concatenate_axis": L.Concatenate(axis=1, name="cat1"),
    }
    return {key: layer.get_config() for key, layer in made.items()}


SHAPE_CASES = [
    # (input shape, filters, kernel, strides, padding, dilation)
    ((None, 28, 28, 1), 32, 3, 1, "same", 1),
    ((None, 28, 28, 1), 32, 3, 1, "valid", 1),
    ((None, 28, 28, 3), 8, 5, 2, "same", 1),
    ((None, 28, 28, 3), 8, 5, 2, "valid", 1),
    ((None, 27, 13, 2), 4, (3, 2), (2, 3), "same", 1),
    ((None, 27, 13, 2), 4, (3, 2), (2, 3), "valid", 1),
    ((None, 10, 9, 1), 2, 3, 1, "valid", 2),
    ((None, 10, 9, 1), 2, 3, 1, "same", (2, 3)),
    ((None, 7, 7, 4), 3, 7, 1, "valid", 1),
]
POOL_CASES = [
    ((None, 28, 28, 32), 2, None, "valid"),
    ((None, 7, 7, 64), 2, None, "valid"),
    ((None, 7, 7, 64), 2, None, "same"),
    ((None, 9, 11, 3), 3, 2, "valid"),
    ((None, 9, 11, 3), 3, 2, "same"),
    ((None, 9, 11, 3), (2, 3), (1, 2), "same"),
]


def _shapes(keras):
    L = keras.layers
    conv = []
    for shape, filters, kernel, strides, padding, dilation in SHAPE_CASES:
        layer = L.Conv2D(filters, kernel, strides=strides, padding=padding,
                         dilation_rate=dilation)
        conv.append({"input": list(shape), "filters": filters, "kernel_size": kernel,
                     "strides": strides, "padding": padding, "dilation_rate": dilation,
                     "output": list(layer.compute_output_shape(shape))})
    pool = []
    for shape, size, strides, padding in POOL_CASES:
        layer = L.MaxPooling2D(size, strides=strides, padding=padding)
        pool.append({"input": list(shape), "pool_size": size, "strides": strides,
                     "padding": padding, "output": list(layer.compute_output_shape(shape))})
    return {"conv": conv, "pool": pool}


NUMERIC_CASES = {
    # name: (layer expression, input shape)
    "conv_same": ("L.Conv2D(3, 3, padding='same', activation='relu')", (2, 5, 6, 2)),
    "conv_valid_stride2": ("L.Conv2D(2, (3, 2), strides=2)", (2, 7, 6, 3)),
    "conv_same_stride2_even": ("L.Conv2D(2, 4, strides=2, padding='same')", (1, 8, 7, 2)),
    "conv_dilated_same": ("L.Conv2D(2, 3, dilation_rate=2, padding='same')", (1, 7, 8, 2)),
    "conv_9ch": ("L.Conv2D(2, 3, padding='same', use_bias=False)", (1, 4, 4, 9)),
    "maxpool_2": ("L.MaxPooling2D(2)", (2, 6, 5, 3)),
    "maxpool_3s2_same": ("L.MaxPooling2D(3, strides=2, padding='same')", (1, 7, 6, 2)),
    "avgpool_2_same": ("L.AveragePooling2D(2, padding='same')", (2, 5, 5, 2)),
    "avgpool_3s1": ("L.AveragePooling2D(3, strides=1)", (1, 5, 6, 2)),
    "global_avg": ("L.GlobalAveragePooling2D()", (2, 3, 4, 5)),
    "global_max": ("L.GlobalMaxPooling2D()", (2, 3, 4, 5)),
    "batchnorm_train": ("L.BatchNormalization(momentum=0.9)", (4, 3, 3, 2)),
    "batchnorm_infer": ("L.BatchNormalization()", (4, 3, 3, 2)),
}


def _short(a):
    """Nested lists of 6 significant digits: enough for float32 comparisons at 1e-5."""
    import numpy as np

    return np.vectorize(lambda v: float(f"{v:.6g}"), otypes=[float])(np.asarray(a)).tolist()


def _numerics(np, tf, keras):
    L = keras.layers  # noqa: F841 (used by eval)
    rng = np.random.default_rng(5)
    out = {}

    def draw(low, high, size):
        # two decimals: the JSON stays small and both sides read the same float32
        return np.round(rng.uniform(low, high, size=size), 2).astype("float32")

    for name, (expr, shape) in NUMERIC_CASES.items():
        layer = eval(expr)
        x = draw(-2, 2, shape)
        layer.build(shape)
        weights = []
        for w in layer.weights:
            if "moving_variance" in w.path or "gamma" in w.path:
                weights.append(draw(0.5, 2.0, w.shape))
            else:
                weights.append(draw(-1, 1, w.shape))
        layer.set_weights(weights)
        training = name.endswith("_train")
        xt = tf.constant(x)
        with tf.GradientTape() as tape:
            tape.watch(xt)
            y = layer(xt, training=training)
            r = tf.constant(draw(-1, 1, y.shape))
            loss = tf.reduce_sum(y * r)
        grads = tape.gradient(loss, [xt] + layer.trainable_weights)
        out[name] = {
            "layer": expr, "training": training, "x": _short(x),
            "weights": [_short(w) for w in weights], "r": _short(r.numpy()),
            "y": _short(y.numpy()), "dx": _short(grads[0].numpy()),
            "dweights": [_short(g.numpy()) for g in grads[1:]],
        }
        if "batchnorm" in name:
            out[name]["weights_after"] = [_short(w.numpy()) for w in layer.weights]
    # max pooling with ties: which input gets the gradient
    x = np.array([[1.0, 3.0, 3.0, 0.0], [3.0, 3.0, 0.0, 0.0]], "float32").reshape(1, 2, 4, 1)
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = keras.layers.MaxPooling2D(2)(xt)
    out["maxpool_ties"] = {"x": x.tolist(), "y": y.numpy().tolist(),
                           "dx": tape.gradient(y, xt).numpy().tolist()}
    return out


def _training(np, keras):
    """A small CNN (conv, pool, conv, dense) fitted from known weights, no shuffling."""
    L = keras.layers
    rng = np.random.default_rng(11)
    x = np.round(rng.uniform(0, 1, size=(24, 8, 8, 1)), 2).astype("float32")
    y = rng.integers(0, 3, size=24)
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        L.Conv2D(4, 3, activation="relu", padding="same"),
        L.MaxPooling2D(2),
        L.Conv2D(6, 3, activation="relu"),
        L.Flatten(),
        L.Dense(3, activation="softmax"),
    ])
    weights = [np.round(rng.uniform(-0.5, 0.5, size=w.shape), 2).astype("float32")
               for w in model.weights]
    model.set_weights(weights)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=3, batch_size=4, shuffle=False, verbose=0)
    return {"x": _short(x), "y": y.tolist(), "weights": [_short(w) for w in weights],
            "loss": history.history["loss"],
            "weights_after": [_short(w.numpy()) for w in model.weights],
            "predictions": _short(model.predict(x[:6], verbose=0))}


ERROR_CASES = [
    "L.Conv2D(0, 3)",
    "L.Conv2D(8, (3,))",
    "L.Conv2D(8, 3, padding='full')",
    "L.Conv2D(8, 3, strides=0)",
    "L.Conv2D(8, 3, strides=2, dilation_rate=2)",
    "L.Conv2D(8, 5)(keras.Input((4, 4, 1)))",
    "L.Conv2D(8, 3)(keras.Input((28, 28)))",
    "L.MaxPooling2D(2)(keras.Input((1, 1, 3)))",
    "L.MaxPooling2D(0)",
    "L.Add()([keras.Input((4,)), keras.Input((5,))])",
    "L.Concatenate()([keras.Input((4, 2)), keras.Input((5, 3))])",
    "L.Subtract()([keras.Input((4,)), keras.Input((4,)), keras.Input((4,))])",
    "L.BatchNormalization(axis=3)(keras.Input((4, 4)))",
]


def _errors(keras):
    L = keras.layers  # noqa: F841 (used by eval)
    out = {}
    for expr in ERROR_CASES:
        try:
            eval(expr)
        except Exception as e:  # noqa: BLE001 - recording whatever Keras raises
            out[expr] = {"type": type(e).__name__, "message": str(e)}
        else:
            out[expr] = None
    return out


def main():
    if "--part" in sys.argv:
        print(json.dumps(part_summary()))
        return
    env = {k: v for k, v in os.environ.items() if k not in ("LINES",)}
    child = subprocess.run([sys.executable, __file__, "--part", "summary"], env=env,
                           capture_output=True, text=True, check=True)
    facts = {"summaries": json.loads(child.stdout.strip().splitlines()[-1])}
    np, tf, keras = _import_keras()
    facts["versions"] = {"keras": keras.__version__, "tensorflow": tf.__version__,
                         "numpy": np.__version__}
    facts["configs"] = _configs(keras)
    facts["shapes"] = _shapes(keras)
    facts["numerics"] = _numerics(np, tf, keras)
    facts["errors"] = _errors(keras)
    facts["training"] = _training(np, keras)
    tmp = OUT.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(facts, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    os.replace(tmp, OUT)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
