"""Reference facts of Keras 3's Normalization, LayerNormalization and the reshaping layers.

- Normalization: the mean and variance ``adapt`` learns (arrays, several ``axis``
  values, a list of batches), outputs (and ``invert``), given ``mean`` / ``variance``,
  the weights (path, shape, dtype) and the configs;
- LayerNormalization: outputs and ``tf.GradientTape`` gradients (dx, dgamma, dbeta) of
  ``sum(G * layer(x))`` for several ``axis`` / ``center`` / ``scale`` / ``rms_scaling``,
  and a small model's weights after 3 SGD steps;
- ZeroPadding2D, Cropping2D, UpSampling2D, RepeatVector, Permute: outputs and dx;
- ActivityRegularization and Masking (before an LSTM): a model's weights after 3 SGD
  steps, its logged and evaluated losses;
- every layer's config;
- a Keras-written ``.keras`` file and ``.weights.h5`` of an adapted Normalization before
  a LayerNormalization and a Dense, with the model's predictions.

Runs ONLY in the separate Keras/TensorFlow venv (see README.md beside this file); it
never imports tinyann. Writes tests/fixtures/keras/norm_layers.{json,npz},
saving/norm_layers_model.keras and saving/norm_layers_model.weights.h5.

Usage:  /work/kerasenv/bin/python tools/keras_reference/make_norm_layers_fixtures.py  (~10 s)
"""

import json
import os
import warnings
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "keras"
L = keras.layers


def plain(value):
    """A config made JSON-safe (tuples become lists)."""
    return json.loads(json.dumps(value))


def normalization_cases(rng, arrays, facts):
    data = (rng.normal(size=(40, 3, 4)) * rng.uniform(0.5, 20, size=(3, 4))
            + rng.uniform(-50, 50, size=(3, 4)))
    arrays["norm:data"] = data
    arrays["norm:x"] = data[:5] + rng.normal(size=(5, 3, 4))
    adapted = {"last": {"axis": -1}, "none": {"axis": None}, "two": {"axis": (1, 2)},
               "middle": {"axis": 1}, "invert": {"axis": -1, "invert": True}}
    for name, kwargs in adapted.items():
        layer = L.Normalization(**kwargs)
        layer.adapt(data)
        arrays[f"norm_{name}:mean"] = layer.adapt_mean.numpy()
        arrays[f"norm_{name}:variance"] = layer.adapt_variance.numpy()
        arrays[f"norm_{name}:y"] = layer(arrays["norm:x"]).numpy()
        facts["normalization"][name] = {
            "kwargs": kwargs, "config": plain(layer.get_config()),
            "broadcast_mean_shape": list(layer.mean.shape),
            "weights": [[w.path, list(w.shape), w.dtype, w.trainable] for w in layer.weights]}
    # a list of batches: Keras's running combination
    layer = L.Normalization(axis=-1)
    layer.adapt([data[:16], data[16:30], data[30:]])
    arrays["norm_batches:mean"] = layer.adapt_mean.numpy()
    arrays["norm_batches:variance"] = layer.adapt_variance.numpy()
    # given statistics: a vector aligned from the right, and scalars
    given = {"vector": {"axis": -1, "mean": [1.0, -2.0, 3.0, 0.5],
                        "variance": [4.0, 0.25, 1.0, 9.0]},
             "scalar": {"axis": None, "mean": 3.0, "variance": 2.0},
             "scalar_invert": {"axis": -1, "mean": 3.0, "variance": 2.0, "invert": True}}
    for name, kwargs in given.items():
        layer = L.Normalization(**kwargs)
        arrays[f"norm_{name}:y"] = layer(arrays["norm:x"]).numpy()
        facts["normalization"][name] = {"kwargs": kwargs, "config": plain(layer.get_config()),
                                        "weights": len(layer.weights)}
    # a zero variance: the denominator is epsilon, not 0
    layer = L.Normalization(axis=-1)
    constant = np.concatenate([data[:, :1], np.full((40, 1, 4), 7.0)], axis=1)
    layer.adapt(constant)
    arrays["norm_constant:x"] = constant[:3] + 1e-6
    arrays["norm_constant:y"] = layer(arrays["norm_constant:x"]).numpy()


def gradients(layer, x, rng):
    """Output, G, dx and the trainable weights' gradients of sum(G * layer(x))."""
    x = tf.constant(x)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        y = layer(x)
        g = tf.constant(rng.normal(size=tuple(y.shape)).astype("float32"))
        total = tf.reduce_sum(g * y)
    dx = tape.gradient(total, x)
    dws = tape.gradient(total, layer.trainable_weights)
    return y.numpy(), g.numpy(), dx.numpy(), [d.numpy() for d in dws]


def layer_norm_cases(rng, arrays, facts):
    x = (rng.normal(size=(4, 3, 5)) * 3.0 + 1.0).astype("float32")
    arrays["ln:x"] = x
    cases = {"last": {}, "axes": {"axis": [1, 2]}, "middle": {"axis": 1, "epsilon": 0.1},
             "no_center": {"center": False}, "no_scale": {"scale": False},
             "plain": {"center": False, "scale": False}, "rms": {"rms_scaling": True}}
    for name, kwargs in cases.items():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            layer = L.LayerNormalization(**kwargs)
        layer.build(x.shape)
        # weights away from 1 / 0, so a gradient that ignores them shows
        layer.set_weights([rng.uniform(0.5, 2.0, size=w.shape).astype("float32")
                           for w in layer.weights])
        y, g, dx, dws = gradients(layer, x, rng)
        arrays[f"ln_{name}:y"], arrays[f"ln_{name}:G"], arrays[f"ln_{name}:dx"] = y, g, dx
        for w, value, d in zip(layer.trainable_weights, layer.get_weights(), dws):
            arrays[f"ln_{name}:{w.name}"] = value
            arrays[f"ln_{name}:d{w.name}"] = d
        facts["layer_normalization"][name] = {
            "kwargs": kwargs, "config": plain(layer.get_config()),
            "weights": [w.name for w in layer.trainable_weights]}
    # a model trained for 3 SGD steps
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((6,)), L.Dense(5), L.LayerNormalization(),
                              L.Dense(2)])
    model.layers[1].set_weights([rng.uniform(0.5, 2.0, size=(5,)).astype("float32"),
                                 rng.normal(size=(5,)).astype("float32")])
    xs = rng.normal(size=(24, 6)).astype("float32")
    ys = rng.normal(size=(24, 2)).astype("float32")
    arrays["ln_train:x"], arrays["ln_train:y"] = xs, ys
    for k, w in enumerate(model.get_weights()):
        arrays[f"ln_train:initial_{k}"] = w
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.fit(xs, ys, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for k, w in enumerate(model.get_weights()):
        arrays[f"ln_train:trained_{k}"] = w
    arrays["ln_train:pred"] = model.predict(xs[:5], verbose=0)


def reshaping_cases(rng, arrays, facts):
    image = rng.normal(size=(2, 4, 5, 3)).astype("float32")
    seq = rng.normal(size=(2, 4, 3)).astype("float32")
    arrays["image"], arrays["seq"], arrays["vec"] = image, seq, seq[:, 0]
    cases = {
        "zero_padding_int": ("ZeroPadding2D", {"padding": 2}, "image"),
        "zero_padding_pair": ("ZeroPadding2D", {"padding": (1, 3)}, "image"),
        "zero_padding_pairs": ("ZeroPadding2D", {"padding": ((0, 2), (3, 1))}, "image"),
        "cropping_int": ("Cropping2D", {"cropping": 1}, "image"),
        "cropping_pairs": ("Cropping2D", {"cropping": ((1, 0), (2, 1))}, "image"),
        "up_nearest": ("UpSampling2D", {"size": (2, 3)}, "image"),
        "up_bilinear": ("UpSampling2D", {"size": 2, "interpolation": "bilinear"}, "image"),
        "repeat_vector": ("RepeatVector", {"n": 3}, "vec"),
        "permute": ("Permute", {"dims": (2, 1)}, "seq"),
        "permute_image": ("Permute", {"dims": (3, 1, 2)}, "image"),
        "identity": ("Identity", {}, "seq"),
    }
    for name, (class_name, kwargs, key) in cases.items():
        layer = getattr(L, class_name)(**kwargs)
        y, g, dx, _ = gradients(layer, arrays[key], rng)
        arrays[f"{name}:y"], arrays[f"{name}:G"], arrays[f"{name}:dx"] = y, g, dx
        facts["reshaping"][name] = {"class_name": class_name, "kwargs": kwargs, "input": key,
                                    "config": plain(layer.get_config())}
    # the noise layers: configs, and inference is the identity
    for class_name, kwargs in (("GaussianNoise", {"stddev": 0.3, "seed": 2}),
                               ("GaussianDropout", {"rate": 0.2, "seed": 2}),
                               ("SpatialDropout1D", {"rate": 0.4, "seed": 1}),
                               ("SpatialDropout2D", {"rate": 0.4, "seed": 1})):
        layer = getattr(L, class_name)(**kwargs)
        facts["noise"][class_name] = {"kwargs": kwargs, "config": plain(layer.get_config())}


def trained(name, model, rng, arrays, xs, ys, loss="mse"):
    """Keras's weights after one epoch of 3 SGD steps from recorded initial weights, the
    logged loss, evaluate's loss and predictions."""
    for k, w in enumerate(model.get_weights()):
        arrays[f"{name}:initial_{k}"] = w
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=loss)
    history = model.fit(xs, ys, batch_size=8, epochs=1, shuffle=False, verbose=0)
    for k, w in enumerate(model.get_weights()):
        arrays[f"{name}:trained_{k}"] = w
    arrays[f"{name}:x"], arrays[f"{name}:y"] = xs, ys
    arrays[f"{name}:pred"] = model.predict(xs[:5], verbose=0)
    return {"loss": history.history["loss"][0],
            "evaluate": model.evaluate(xs, ys, batch_size=8, verbose=0)}


def masking_and_activity_cases(rng, arrays, facts):
    keras.utils.set_random_seed(7)
    model = keras.Sequential([keras.Input((6,)), L.Dense(5, activation="tanh"),
                              L.ActivityRegularization(l1=0.01, l2=0.05), L.Dense(2)])
    xs = rng.normal(size=(24, 6)).astype("float32")
    ys = rng.normal(size=(24, 2)).astype("float32")
    facts["activity"] = trained("activity", model, rng, arrays, xs, ys)
    facts["activity"]["config"] = plain(model.layers[1].get_config())
    layer = L.ActivityRegularization(l1=0.1, l2=0.2)
    layer(xs[:4])
    facts["activity"]["term"] = float(layer.losses[0])
    # padded sequences: the steps of zeros are skipped by the LSTM and by the loss
    keras.utils.set_random_seed(8)
    seqs = rng.normal(size=(24, 5, 3)).astype("float32")
    lengths = rng.integers(2, 6, size=24)
    for i, n in enumerate(lengths):
        seqs[i, n:] = 0.0
    targets = rng.normal(size=(24, 5, 2)).astype("float32")
    model = keras.Sequential([keras.Input((5, 3)), L.Masking(mask_value=0.0),
                              L.LSTM(4, return_sequences=True), L.Dense(2)])
    facts["masking"] = trained("masking", model, rng, arrays, seqs, targets)
    facts["masking"]["config"] = plain(model.layers[0].get_config())
    arrays["masking:mask"] = keras.ops.convert_to_numpy(
        model.layers[0].compute_mask(seqs[:5])).astype("int8")
    summary = keras.Sequential([keras.Input((5, 3)), L.Masking(), L.LSTM(4), L.Dense(1)])
    facts["masking_last"] = trained("masking_last", summary, rng, arrays, seqs,
                                    rng.normal(size=(24, 1)).astype("float32"))


def saved_model(rng, arrays):
    """A Keras-written model holding an adapted Normalization and a LayerNormalization."""
    keras.utils.set_random_seed(5)
    data = rng.normal(size=(50, 4)) * [1.0, 10.0, 100.0, 0.1] + [0.0, 5.0, -20.0, 1.0]
    norm = L.Normalization()
    norm.adapt(data)
    model = keras.Sequential([keras.Input((4,)), norm, L.Dense(3, activation="relu"),
                              L.LayerNormalization(), L.Dense(1)], name="regression")
    model.layers[2].set_weights([rng.uniform(0.5, 2.0, size=(3,)).astype("float32"),
                                 rng.normal(size=(3,)).astype("float32")])
    arrays["saved:x"] = data[:6].astype("float32")
    arrays["saved:pred"] = model.predict(arrays["saved:x"], verbose=0)
    model.save(OUT / "saving" / "norm_layers_model.keras")
    model.save_weights(OUT / "saving" / "norm_layers_model.weights.h5")
    return [[w.path, list(w.shape), w.dtype] for w in model.weights]


def main():
    rng = np.random.default_rng(3107)
    arrays = {}
    facts = {"keras_version": keras.__version__, "tensorflow_version": tf.__version__,
             "normalization": {}, "layer_normalization": {}, "reshaping": {}, "noise": {}}
    normalization_cases(rng, arrays, facts)
    layer_norm_cases(rng, arrays, facts)
    reshaping_cases(rng, arrays, facts)
    masking_and_activity_cases(rng, arrays, facts)
    facts["saved_model_weights"] = saved_model(rng, arrays)
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez(OUT / "norm_layers.npz", **arrays)
    with open(OUT / "norm_layers.json", "w", encoding="utf-8") as f:
        json.dump(facts, f, indent=1, sort_keys=True)


if __name__ == "__main__":
    main()
