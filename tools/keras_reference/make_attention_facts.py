"""Reference facts from real Keras 3 for the attention layers (MultiHeadAttention,
EinsumDense, Attention, AdditiveAttention).

Runs ONLY in the separate Keras venv (see README.md beside this file); it never
imports tinyann. Writes tests/fixtures/attention/:

    mha_cases.npz       per case ``<case>_<name>``: inputs, masks, weights (w0, w1...),
                        Keras's output and attention scores
    mha_cases.json      per case: the layer's config, the call's options, the weight paths
    mha_train.npz       tiny models trained 3 SGD steps (batch 8, unshuffled) from given
                        weights: initial_k, trained_k, the data and predictions
    mha_model.keras     a small Keras-made functional model with MultiHeadAttention
                        (checked to be < 50 KB) and mha_model_io.npz: its input and output
    attention_cases.npz Attention / AdditiveAttention outputs and scores
    einsum_cases.npz    EinsumDense outputs
    extras_cases.npz    Dot, UnitNormalization and GroupNormalization outputs (weights
                        set), and extras_configs.json: their configs

Usage:  /work/kerasenv/bin/python tools/keras_reference/make_attention_facts.py

Files the other way (tinyann writes, Keras reads), in two steps:

    .venv/bin/python tools/keras_reference/make_attention_facts.py write DIR
    /work/kerasenv/bin/python tools/keras_reference/make_attention_facts.py check DIR

``write`` (tinyann's environment; imports tinyann, never Keras) trains small models with
the attention layers and saves each as ``.keras`` and ``.weights.h5`` with its inputs
and predictions (``<name>_io.npz``); ``check`` (Keras's environment) loads them in
Keras, compares the predictions and exits with status 1 beyond 1e-5.
"""

import json
import os
import sys
from pathlib import Path

import numpy as np

if sys.argv[1:2] != ["write"]:
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    import keras
else:
    import tinyann as keras

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "attention"


def mha_cases(arrays, facts):
    rng = np.random.default_rng(0)

    def normal(*shape):
        return rng.normal(size=shape).astype("float32")

    def lengths_mask(batch, steps, lengths):
        return np.arange(steps)[None, :] < np.asarray(lengths)[:, None]

    cases = {
        "self": dict(layer=dict(num_heads=2, key_dim=3), query=normal(2, 4, 6)),
        "cross_key": dict(layer=dict(num_heads=2, key_dim=3, value_dim=4, output_shape=5),
                          query=normal(2, 4, 6), value=normal(2, 5, 3), key=normal(2, 5, 7)),
        "causal": dict(layer=dict(num_heads=3, key_dim=2), query=normal(2, 5, 4),
                       use_causal_mask=True),
        "attention_mask": dict(layer=dict(num_heads=2, key_dim=2, use_bias=False),
                               query=normal(2, 3, 4), value=normal(2, 5, 4),
                               attention_mask=rng.random((2, 3, 5)) > 0.3),
        "masks": dict(layer=dict(num_heads=2, key_dim=3), query=normal(3, 4, 6),
                      value=normal(3, 5, 6),
                      query_mask=lengths_mask(3, 4, [4, 2, 3]),
                      value_mask=lengths_mask(3, 5, [5, 1, 3]), use_causal_mask=True),
        "axes2d": dict(layer=dict(num_heads=2, key_dim=2, attention_axes=(1, 2)),
                       query=normal(2, 3, 2, 4)),
    }
    for name, case in cases.items():
        layer = keras.layers.MultiHeadAttention(**case["layer"])
        query = case["query"]
        value = case.get("value", query)
        kwargs = {k: case[k] for k in ("key", "attention_mask", "query_mask", "value_mask",
                                        "use_causal_mask") if k in case}
        layer(query, value, **kwargs)  # builds
        weights = [rng.normal(scale=0.5, size=w.shape).astype("float32")
                   for w in layer.get_weights()]
        layer.set_weights(weights)
        out, scores = layer(query, value, return_attention_scores=True, **kwargs)
        plain = layer(query, value, **kwargs)  # Keras's fused path (no scores asked)
        arrays[f"{name}_query"] = query
        arrays[f"{name}_value"] = value
        for k, v in kwargs.items():
            if not isinstance(v, bool):
                arrays[f"{name}_{k}"] = np.asarray(v)
        for i, w in enumerate(weights):
            arrays[f"{name}_w{i}"] = w
        arrays[f"{name}_output"] = np.asarray(out)
        arrays[f"{name}_output_plain"] = np.asarray(plain)
        arrays[f"{name}_scores"] = np.asarray(scores)
        facts[name] = {"layer": case["layer"], "use_causal_mask": bool(
            case.get("use_causal_mask", False)), "inputs": sorted(
            k for k in kwargs if not isinstance(kwargs[k], bool)),
            "weight_count": len(weights), "paths": [w.path for w in layer.weights],
            "config": layer.get_config()}


def train_cases(arrays):
    """Tiny models, 3 SGD steps of batch 8 from seeded weights."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(24, 5, 4)).astype("float32")
    y = (x[:, :, 0].mean(axis=1) > 0).astype("float32")[:, None]
    ids = rng.integers(1, 7, size=(24, 5))
    for i, n in enumerate(rng.integers(2, 6, size=24)):
        ids[i, n:] = 0

    def plain():
        inputs = keras.Input((5, 4))
        a = keras.layers.MultiHeadAttention(2, 3, name="mha")(inputs, inputs)
        h = keras.layers.LayerNormalization()(keras.layers.Add()([inputs, a]))
        h = keras.layers.GlobalAveragePooling1D()(h)
        return keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(h)), x

    def masked():
        inputs = keras.Input((5,))
        e = keras.layers.Embedding(7, 4, mask_zero=True)(inputs)
        a = keras.layers.MultiHeadAttention(2, 3, name="mha")(e, e, use_causal_mask=True)
        h = keras.layers.GlobalAveragePooling1D()(a)
        return keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(h)), ids

    for name, make in (("plain", plain), ("masked", masked)):
        model, data = make()
        weights = [rng.normal(scale=0.4, size=w.shape).astype("float32")
                   for w in model.get_weights()]
        model.set_weights(weights)
        model.compile(keras.optimizers.SGD(0.1), "binary_crossentropy")
        model.fit(data, y, batch_size=8, epochs=1, shuffle=False, verbose=0)
        arrays[f"{name}_x"] = data.astype("float32")
        for k, w in enumerate(weights):
            arrays[f"{name}_initial_{k}"] = w
        for k, w in enumerate(model.get_weights()):
            arrays[f"{name}_trained_{k}"] = w
        arrays[f"{name}_count"] = np.asarray(len(weights))
        arrays[f"{name}_predictions"] = model.predict(data, verbose=0)
    arrays["y"] = y


def keras_file():
    rng = np.random.default_rng(2)
    keras.utils.set_random_seed(3)
    inputs = keras.Input((4,))
    # (no mask_zero: Keras would save the mask's computation as a NotEqual op node)
    e = keras.layers.Embedding(9, 6)(inputs)
    a = keras.layers.MultiHeadAttention(2, 3)(e, e, use_causal_mask=True)
    h = keras.layers.GlobalAveragePooling1D()(a)
    model = keras.Model(inputs, keras.layers.Dense(2, activation="softmax")(h))
    model.compile("adam", "sparse_categorical_crossentropy")
    path = OUT / "mha_model.keras"
    model.save(path)
    size = path.stat().st_size
    assert size < 50_000, size
    x = rng.integers(0, 9, size=(5, 4)).astype("float32")
    x[:, 0] = np.maximum(x[:, 0], 1)
    np.savez(OUT / "mha_model_io.npz", x=x, y=model.predict(x, verbose=0))


def attention_cases(arrays):
    rng = np.random.default_rng(4)
    q = rng.normal(size=(2, 3, 4)).astype("float32")
    v = rng.normal(size=(2, 5, 4)).astype("float32")
    k = rng.normal(size=(2, 5, 4)).astype("float32")
    q_mask = np.array([[1, 1, 0], [1, 1, 1]], bool)
    v_mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], bool)
    arrays.update(q=q, v=v, k=k, q_mask=q_mask, v_mask=v_mask)
    layers = {
        "dot": keras.layers.Attention(),
        "dot_scale": keras.layers.Attention(use_scale=True),
        "concat": keras.layers.Attention(score_mode="concat", use_scale=True),
        "additive": keras.layers.AdditiveAttention(),
        "additive_noscale": keras.layers.AdditiveAttention(use_scale=False),
    }
    for name, layer in layers.items():
        layer([q, v, k])
        weights = [rng.normal(size=w.shape).astype("float32") + 1.0
                   for w in layer.get_weights()]
        layer.set_weights(weights)
        for i, w in enumerate(weights):
            arrays[f"{name}_w{i}"] = w
        for causal in (False, True):
            out, scores = layer([q, v, k], mask=[q_mask, v_mask], use_causal_mask=causal,
                                return_attention_scores=True)
            tag = f"{name}_{'causal' if causal else 'plain'}"
            arrays[f"{tag}_output"] = np.asarray(out)
            arrays[f"{tag}_scores"] = np.asarray(scores)
        arrays[f"{name}_nokey_output"] = np.asarray(layer([q, v]))


def einsum_cases(arrays):
    rng = np.random.default_rng(5)
    for name, (equation, shape, bias_axes, x_shape) in {
            "heads": ("abc,cde->abde", (5, 2, 3), "de", (2, 5, 4)),
            "ellipsis": ("...b,bc->...c", 3, "c", (2, 5, 4)),
            "partial_bias": ("abc,cd->abd", (5, 3), "b", (2, 5, 4)),
    }.items():
        layer = keras.layers.EinsumDense(equation, shape, bias_axes=bias_axes,
                                         activation="tanh")
        x = rng.normal(size=x_shape).astype("float32")
        layer(x)
        weights = [rng.normal(size=w.shape).astype("float32") for w in layer.get_weights()]
        layer.set_weights(weights)
        arrays[f"{name}_x"] = x
        for i, w in enumerate(weights):
            arrays[f"{name}_w{i}"] = w
        arrays[f"{name}_output"] = np.asarray(layer(x))


def extras_cases(arrays, configs):
    rng = np.random.default_rng(6)
    a = rng.normal(size=(3, 4, 5)).astype("float32")
    b = rng.normal(size=(3, 5, 4)).astype("float32")
    arrays.update(a=a, b=b, a2=a[:, 0], b2=b[:, :, 0])
    dots = {"dot_12": (dict(axes=(1, 2)), [a, b]), "dot_neg": (dict(axes=-1), [a, a]),
            "dot_norm": (dict(axes=(2, 1), normalize=True), [a, b]),
            "dot_vec": (dict(axes=1), [a[:, 0], b[:, :, 0]])}
    for name, (kwargs, inputs) in dots.items():
        layer = keras.layers.Dot(**kwargs)
        arrays[f"{name}_output"] = np.asarray(layer(inputs))
        configs[name] = layer.get_config()
    for name, layer in {"unit": keras.layers.UnitNormalization(),
                        "unit_axes": keras.layers.UnitNormalization(axis=[1, 2])}.items():
        arrays[f"{name}_output"] = np.asarray(layer(a))
        configs[name] = layer.get_config()
    x = rng.normal(size=(2, 3, 4, 6)).astype("float32")
    arrays["x4"] = x
    for name, layer in {"group": keras.layers.GroupNormalization(groups=3),
                        "group_axis1": keras.layers.GroupNormalization(groups=1, axis=1),
                        "group_instance": keras.layers.GroupNormalization(
                            groups=-1, epsilon=1e-5, center=False)}.items():
        layer(x)
        weights = [rng.normal(size=w.shape).astype("float32") for w in layer.get_weights()]
        layer.set_weights(weights)
        for i, w in enumerate(weights):
            arrays[f"{name}_w{i}"] = w
        arrays[f"{name}_output"] = np.asarray(layer(x))
        configs[name] = layer.get_config()


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    arrays, facts = {}, {}
    mha_cases(arrays, facts)
    np.savez(OUT / "mha_cases.npz", **arrays)
    (OUT / "mha_cases.json").write_text(json.dumps(facts, indent=1, default=list) + "\n")
    arrays = {}
    train_cases(arrays)
    np.savez(OUT / "mha_train.npz", **arrays)
    keras_file()
    arrays = {}
    attention_cases(arrays)
    np.savez(OUT / "attention_cases.npz", **arrays)
    arrays = {}
    einsum_cases(arrays)
    np.savez(OUT / "einsum_cases.npz", **arrays)
    arrays, configs = {}, {}
    extras_cases(arrays, configs)
    np.savez(OUT / "extras_cases.npz", **arrays)
    (OUT / "extras_configs.json").write_text(json.dumps(configs, indent=1) + "\n")


def _tinyann_models(rng):
    """(name, compiled model, inputs, targets), built with tinyann."""
    layers = keras.layers
    ids = rng.integers(1, 9, size=(32, 6)).astype("float32")
    inputs = keras.Input((6,))
    e = layers.Embedding(9, 8)(inputs)
    a = layers.MultiHeadAttention(2, 4, dropout=0.1)(e, e, use_causal_mask=True)
    h = layers.LayerNormalization()(layers.Add()([e, a]))
    h = layers.LayerNormalization()(layers.Add()([h, layers.EinsumDense(
        "abc,cd->abd", (6, 8), bias_axes="d", activation="relu")(h)]))
    out = layers.Dense(2, activation="softmax")(layers.GlobalAveragePooling1D()(h))
    encoder = keras.Model(inputs, out)
    encoder.compile("adam", "sparse_categorical_crossentropy")
    yield "encoder", encoder, [ids], (ids[:, 0] > 4).astype("int64")

    q, v, mask = keras.Input((4, 6)), keras.Input((5, 3)), keras.Input((4, 5))
    a = layers.MultiHeadAttention(2, 3, value_dim=2, output_shape=(4,))(
        q, v, key=v, attention_mask=mask)
    v6 = layers.Dense(6)(v)
    b = layers.Attention(use_scale=True, score_mode="concat")([q, v6, v6],
                                                              use_causal_mask=True)
    c = layers.AdditiveAttention()([layers.Dense(3)(q), v])
    d = layers.Dot(axes=(2, 2), normalize=True)([a, layers.Dense(4)(c)])
    g = layers.UnitNormalization()(layers.GroupNormalization(2)(layers.Concatenate()(
        [layers.Flatten()(d), layers.Flatten()(b)])))
    cross = keras.Model([q, v, mask], layers.Dense(1)(g))
    cross.compile("sgd", "mse")
    data = [rng.normal(size=(16, 4, 6)).astype("float32"),
            rng.normal(size=(16, 5, 3)).astype("float32"),
            (rng.random((16, 4, 5)) > 0.3).astype("float32")]
    yield "cross", cross, data, rng.normal(size=(16, 1)).astype("float32")


def write(folder):
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(7)
    for name, model, inputs, targets in _tinyann_models(rng):
        model.fit(inputs, targets, epochs=2, batch_size=8, verbose=0)
        model.save(folder / f"{name}.keras")
        model.save_weights(folder / f"{name}.weights.h5")
        np.savez(folder / f"{name}_io.npz", *inputs,
                 y=model.predict(inputs, verbose=0))
        print("wrote", name)


def check(folder):
    worst = 0.0
    for path in sorted(Path(folder).glob("*.keras")):
        io = np.load(path.with_name(path.stem + "_io.npz"))
        inputs = [io[f"arr_{i}"] for i in range(len(io.files) - 1)]
        model = keras.models.load_model(path)
        got = model.predict(inputs, verbose=0)
        model.load_weights(path.with_name(path.stem + ".weights.h5"))
        again = model.predict(inputs, verbose=0)
        diff = max(float(np.abs(got - io["y"]).max()), float(np.abs(again - io["y"]).max()))
        print(f"{path.name}: largest difference {diff:.2e}")
        worst = max(worst, diff)
    sys.exit(1 if worst > 1e-5 else 0)


if __name__ == "__main__":
    if sys.argv[1:2] == ["write"]:
        write(sys.argv[2])
    elif sys.argv[1:2] == ["check"]:
        check(sys.argv[2])
    else:
        main()
