"""Reference numbers of Keras's 1-D layers: Conv1D, (Global)Max/AveragePooling1D.

Runs ONLY in the separate Keras/TensorFlow venv (see README.md beside this file); it
never imports tinyann. Writes tests/fixtures/keras/layers_1d.npz (plain arrays:
inputs, weights, outputs, input and weight gradients by jax.vjp, weights
before and after training small models) and layers_1d.json (configs, weight paths,
summaries' shapes and parameter counts, error messages).

Usage:  /work/kerasenv/bin/python tools/keras_reference/make_layers_1d_fixtures.py  (~10 s)
"""

import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
# JAX: TensorFlow's CPU convolution refuses channels_first
os.environ["KERAS_BACKEND"] = "jax"

import jax  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "keras"
L = keras.layers

# name -> (class name, kwargs, input shape); each layer is called on one input
CASES = {
    "gap": ("GlobalAveragePooling1D", {}, (2, 5, 3)),
    "gap_keepdims": ("GlobalAveragePooling1D", {"keepdims": True}, (2, 5, 3)),
    "gap_first": ("GlobalAveragePooling1D", {"data_format": "channels_first"}, (2, 3, 5)),
    "gap_first_keepdims": ("GlobalAveragePooling1D", {"data_format": "channels_first",
                                                      "keepdims": True}, (2, 3, 5)),
    "gmp": ("GlobalMaxPooling1D", {}, (2, 5, 3)),
    "gmp_keepdims": ("GlobalMaxPooling1D", {"keepdims": True}, (2, 5, 3)),
    "gmp_first": ("GlobalMaxPooling1D", {"data_format": "channels_first"}, (2, 3, 5)),
    "maxpool": ("MaxPooling1D", {}, (2, 7, 3)),
    "maxpool_3_s2_same": ("MaxPooling1D", {"pool_size": 3, "strides": 2, "padding": "same"},
                          (2, 8, 3)),
    "maxpool_3_s1": ("MaxPooling1D", {"pool_size": 3, "strides": 1}, (1, 6, 2)),
    "maxpool_first": ("MaxPooling1D", {"pool_size": 2, "data_format": "channels_first"},
                      (2, 3, 7)),
    "avgpool": ("AveragePooling1D", {"pool_size": 2}, (2, 7, 3)),
    "avgpool_3_s2_same": ("AveragePooling1D", {"pool_size": 3, "strides": 2,
                                               "padding": "same"}, (2, 8, 3)),
    "avgpool_4_s3_same": ("AveragePooling1D", {"pool_size": 4, "strides": 3,
                                               "padding": "same"}, (1, 10, 2)),
    "avgpool_first_same": ("AveragePooling1D", {"pool_size": 3, "padding": "same",
                                                "data_format": "channels_first"}, (2, 3, 7)),
    "conv": ("Conv1D", {"filters": 4, "kernel_size": 3}, (2, 9, 3)),
    "conv_same_relu": ("Conv1D", {"filters": 4, "kernel_size": 4, "padding": "same",
                                  "activation": "relu"}, (2, 9, 3)),
    "conv_causal_dilated": ("Conv1D", {"filters": 3, "kernel_size": 3, "padding": "causal",
                                       "dilation_rate": 2, "activation": "tanh"}, (2, 10, 2)),
    "conv_causal_s2": ("Conv1D", {"filters": 2, "kernel_size": 2, "strides": 2,
                                  "padding": "causal"}, (1, 9, 3)),
    "conv_s2_same": ("Conv1D", {"filters": 5, "kernel_size": 3, "strides": 2,
                                "padding": "same", "use_bias": False}, (2, 10, 3)),
    "conv_s3_valid": ("Conv1D", {"filters": 2, "kernel_size": 2, "strides": 3}, (2, 11, 2)),
    "conv_dilated_valid": ("Conv1D", {"filters": 3, "kernel_size": 3, "dilation_rate": 3,
                                      "activation": "sigmoid"}, (1, 12, 2)),
    "conv_first": ("Conv1D", {"filters": 4, "kernel_size": 3, "padding": "same",
                              "data_format": "channels_first"}, (2, 3, 8)),
}

ERRORS = {
    "conv_filters_0": lambda: L.Conv1D(0, 3),
    "conv_strides_dilation": lambda: L.Conv1D(2, 3, strides=2, dilation_rate=2),
    "conv_bad_padding": lambda: L.Conv1D(2, 3, padding="full"),
    "pool_causal": lambda: L.MaxPooling1D(2, padding="causal"),
    "pool_bad_format": lambda: L.AveragePooling1D(2, data_format="channels_middle"),
    "conv_short_input": lambda: L.Conv1D(2, 5)(np.zeros((1, 3, 2), "float32")),
    "pool_short_input": lambda: L.MaxPooling1D(4)(np.zeros((1, 3, 2), "float32")),
    "conv_ndim": lambda: L.Conv1D(2, 3)(np.zeros((4, 3), "float32")),
    "gap_ndim": lambda: L.GlobalAveragePooling1D()(np.zeros((2, 4, 4, 3), "float32")),
    "maxpool_ndim": lambda: L.MaxPooling1D()(np.zeros((4, 3), "float32")),
}


def _error(make):
    try:
        make()
    except Exception as e:  # noqa: BLE001 - recording its type and message
        return [type(e).__name__, str(e)]
    return None


def _vjp(layer, rng, x, **kwargs):
    """``layer(x)`` and ``[G, dL/dx, *dL/dweights]`` for ``L = sum(G * layer(x))``."""
    weights = [w.value for w in layer.trainable_weights]

    def run(x, weights):
        return layer.stateless_call(weights, [], x, **kwargs)[0]

    y, pullback = jax.vjp(run, x, weights)
    g = rng.normal(size=y.shape).astype("float32")
    dx, dws = pullback(g)
    return np.asarray(y), [g, np.asarray(dx)] + [np.asarray(d) for d in dws]


def layer_cases(rng, arrays, facts):
    for name, (cls_name, kwargs, shape) in CASES.items():
        layer = getattr(L, cls_name)(**kwargs)
        x = rng.normal(size=shape).astype("float32")
        layer.build(shape)
        for w in layer.weights:
            w.assign(rng.normal(scale=0.5, size=w.shape).astype("float32"))
        y, grads = _vjp(layer, rng, x)
        arrays[f"{name}/x"], arrays[f"{name}/y"], arrays[f"{name}/g"] = x, y, grads[0]
        arrays[f"{name}/dx"] = grads[1]
        for k, (w, dw) in enumerate(zip(layer.weights, grads[2:])):
            arrays[f"{name}/w{k}"], arrays[f"{name}/dw{k}"] = np.asarray(w.value), dw
        facts["cases"][name] = {
            "class_name": cls_name, "kwargs": kwargs, "shape": list(shape),
            "config": layer.get_config(), "weights": len(layer.weights),
            "paths": [w.path for w in layer.weights],
            "output_shape": list(layer.compute_output_shape(shape)),
        }


def masked_gap(rng, arrays):
    """GlobalAveragePooling1D with a mask: the masked steps are left out of the mean."""
    x = rng.normal(size=(3, 6, 4)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0, 0], [1, 0, 1, 1, 0, 1], [1, 1, 1, 1, 1, 1]], bool)
    for fmt, xin in (("last", x), ("first", x.transpose(0, 2, 1).copy())):
        layer = L.GlobalAveragePooling1D(data_format=f"channels_{fmt}")
        y, (g, dx) = _vjp(layer, rng, xin, mask=mask)
        arrays[f"masked_{fmt}/x"], arrays[f"masked_{fmt}/mask"] = xin, mask
        arrays[f"masked_{fmt}/y"], arrays[f"masked_{fmt}/g"] = y, g
        arrays[f"masked_{fmt}/dx"] = dx


def ties(rng, arrays):
    """Tied maxima: the global max shares the gradient among them, the local max
    pooling gives it to the first of each window."""
    x = rng.integers(0, 3, (2, 6, 3)).astype("float32")
    for name, layer in (("ties_gmp", L.GlobalMaxPooling1D()),
                        ("ties_maxpool", L.MaxPooling1D(3, strides=2, padding="same"))):
        y, (g, dx) = _vjp(layer, rng, x)
        arrays[f"{name}/x"], arrays[f"{name}/y"] = x, y
        arrays[f"{name}/g"], arrays[f"{name}/dx"] = g, dx


def text_model():
    return keras.Sequential([keras.Input((12,)), L.Embedding(30, 8, mask_zero=True),
                             L.GlobalAveragePooling1D(), L.Dense(8, activation="relu"),
                             L.Dense(1)])


def conv_model():
    return keras.Sequential([
        keras.Input((20, 3)),
        L.Conv1D(6, 3, padding="causal", activation="relu"),
        L.MaxPooling1D(2),
        L.Conv1D(4, 3, strides=2, padding="same", activation="tanh"),
        L.AveragePooling1D(2, padding="same"),
        L.Conv1D(5, 2, dilation_rate=2, use_bias=False),
        L.GlobalMaxPooling1D(),
        L.Dense(1)])


def conv_gap_model():
    return keras.Sequential([
        keras.Input((16, 2)),
        L.Conv1D(4, 5, padding="same", activation="relu"),
        L.AveragePooling1D(3, strides=2),
        L.Conv1D(3, 3, data_format="channels_first", activation="sigmoid"),
        L.GlobalAveragePooling1D(data_format="channels_first"),
        L.Dense(3, activation="softmax")])


def trained(name, model, x, y, optimizer, loss, arrays, facts):
    """10 steps of batch 16 (no shuffling) from the model's initial weights; arrays
    under ``model_<name>/``."""
    keras.utils.set_random_seed(3)
    model.compile(optimizer=optimizer, loss=loss)
    for k, w in enumerate(model.get_weights()):
        arrays[f"model_{name}/initial_{k}"] = w
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    for k, w in enumerate(model.get_weights()):
        arrays[f"model_{name}/trained_{k}"] = w
    arrays[f"model_{name}/x"], arrays[f"model_{name}/y"] = x, y
    arrays[f"model_{name}/pred"] = model.predict(x[:20], verbose=0)
    facts["models"][name] = {
        "count": len(model.weights),
        "paths": [w.path for w in model.weights],
        "layers": [[layer.name, type(layer).__name__, list(layer.output.shape),
                    layer.count_params()] for layer in model.layers],
        "total_params": model.count_params(),
    }


def main():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    arrays, facts = {}, {"cases": {}, "models": {}, "errors": {}}
    layer_cases(rng, arrays, facts)
    masked_gap(rng, arrays)
    ties(rng, arrays)

    ids = rng.integers(1, 30, (160, 12))
    lengths = rng.integers(1, 13, 160)
    ids[np.arange(12)[None, :] >= lengths[:, None]] = 0  # padded after each sequence
    labels = (ids[:, 0] % 2).astype("float32")[:, None]
    trained("text", text_model(), ids.astype("int32"), labels, keras.optimizers.Adam(0.01),
            keras.losses.BinaryCrossentropy(from_logits=True), arrays, facts)
    x = rng.normal(size=(160, 20, 3)).astype("float32")
    trained("conv", conv_model(), x, x[:, :5, 0].sum(1, keepdims=True),
            keras.optimizers.SGD(0.05), "mse", arrays, facts)
    x = rng.normal(size=(160, 16, 2)).astype("float32")
    trained("conv_gap", conv_gap_model(), x, rng.integers(0, 3, 160),
            keras.optimizers.Adam(0.01), "sparse_categorical_crossentropy", arrays, facts)
    facts["errors"] = {name: _error(make) for name, make in ERRORS.items()}

    np.savez_compressed(OUT / "layers_1d.npz", **arrays)
    with open(OUT / "layers_1d.json", "w", encoding="utf-8") as f:
        json.dump(facts, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
