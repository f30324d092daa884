"""Files in the layout tf.keras 2 wrote (seed 004 ran on it): 'mnist_model.h5' and
weights-only '.h5', built here with h5py as tf.keras 2.12 lays them out."""

from __future__ import annotations

import json

import h5py
import numpy as np
import pytest

import tinyann as keras

LAYERS = [
    {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 4, 3],
                                            "dtype": "float32", "sparse": False,
                                            "ragged": False, "name": "flatten_input"}},
    {"class_name": "Flatten", "config": {"name": "flatten", "trainable": True,
                                         "batch_input_shape": [None, 4, 3], "dtype": "float32",
                                         "data_format": "channels_last"}},
    {"class_name": "Dense", "config": {
        "name": "dense", "trainable": True, "dtype": "float32", "units": 5,
        "activation": "relu", "use_bias": True,
        "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
        "bias_initializer": {"class_name": "Zeros", "config": {}},
        "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
        "kernel_constraint": None, "bias_constraint": None}},
    {"class_name": "Dense", "config": {
        "name": "dense_1", "trainable": True, "dtype": "float32", "units": 3,
        "activation": "softmax", "use_bias": True,
        "kernel_initializer": {"class_name": "GlorotUniform", "config": {"seed": None}},
        "bias_initializer": {"class_name": "Zeros", "config": {}},
        "kernel_regularizer": None, "bias_regularizer": None, "activity_regularizer": None,
        "kernel_constraint": None, "bias_constraint": None}},
]
TRAINING = {
    "loss": "sparse_categorical_crossentropy",
    "metrics": [[{"class_name": "MeanMetricWrapper",
                  "config": {"name": "accuracy", "dtype": "float32",
                             "fn": "sparse_categorical_accuracy"}}]],
    "weighted_metrics": None, "loss_weights": None,
    "optimizer_config": {"class_name": "SGD", "config": {
        "name": "SGD", "lr": 0.05, "decay": 0.0, "momentum": 0.0, "nesterov": False}},
}


def _weights(seed=0):
    rng = np.random.default_rng(seed)
    return {"dense": [rng.standard_normal((12, 5)).astype(np.float32),
                      rng.standard_normal(5).astype(np.float32)],
            "dense_1": [rng.standard_normal((5, 3)).astype(np.float32),
                        rng.standard_normal(3).astype(np.float32)]}


def _write_weights(group, weights):
    group.attrs["layer_names"] = [b"flatten", b"dense", b"dense_1"]
    group.attrs["backend"] = b"tensorflow"
    group.attrs["keras_version"] = b"2.12.0"
    group.create_group("flatten").attrs["weight_names"] = []
    for name, (kernel, bias) in weights.items():
        g = group.create_group(name)
        g.attrs["weight_names"] = [f"{name}/kernel:0".encode(), f"{name}/bias:0".encode()]
        g[f"{name}/kernel:0"] = kernel
        g[f"{name}/bias:0"] = bias


def _reference_predictions(weights, x):
    h = np.maximum(x.reshape(len(x), -1) @ weights["dense"][0] + weights["dense"][1], 0)
    z = h @ weights["dense_1"][0] + weights["dense_1"][1]
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def test_tf_keras_2_model_file_loads_and_compiles(tmp_path):
    weights = _weights()
    with h5py.File(tmp_path / "mnist_model.h5", "w") as f:
        f.attrs["keras_version"] = "2.12.0"
        f.attrs["backend"] = "tensorflow"
        f.attrs["model_config"] = json.dumps({"class_name": "Sequential", "config": {
            "name": "sequential", "layers": LAYERS}}).encode()
        f.attrs["training_config"] = json.dumps(TRAINING).encode()
        _write_weights(f.create_group("model_weights"), weights)
        opt = f.create_group("optimizer_weights")  # tf.keras 2's names and order
        opt.attrs["weight_names"] = [b"SGD/iter:0"]
        opt["SGD/iter:0"] = np.int64(120)
    # tf.keras 2 kept other optimizer variables: Keras's warning, a fresh optimizer
    with pytest.warns(UserWarning, match="Skipping variable loading for optimizer 'SGD'"):
        model = keras.models.load_model(tmp_path / "mnist_model.h5")
    assert model.optimizer.iterations == 0
    x = np.random.default_rng(1).random((6, 4, 3)).astype(np.float32)
    np.testing.assert_allclose(model.predict(x, verbose=0), _reference_predictions(weights, x),
                               rtol=1e-5, atol=1e-6)
    assert [layer.name for layer in model.layers] == ["flatten", "dense", "dense_1"]
    assert type(model.optimizer).__name__ == "SGD"
    assert float(model.optimizer.learning_rate) == pytest.approx(0.05)
    loss, accuracy = model.evaluate(x, np.zeros(6, dtype=int), verbose=0)
    assert np.isfinite(loss) and 0 <= accuracy <= 1
    # Keras 3.15 gives ['loss', 'compile_metrics'] for this model (metrics=[['accuracy']]
    # in the file); the metric itself is the CompileMetrics's
    assert model.metrics_names == ["loss", "compile_metrics"]
    assert [m.name for m in model.metrics[1].metrics] == ["accuracy"]
    assert model.get_metrics_result() == {"loss": loss, "accuracy": accuracy}


def test_tf_keras_2_weights_file_loads(tmp_path):
    weights = _weights(3)
    with h5py.File(tmp_path / "w.h5", "w") as f:  # save_weights('w.h5') in tf.keras 2
        _write_weights(f, weights)
    model = keras.Sequential([keras.Input((4, 3)), keras.layers.Flatten(),
                              keras.layers.Dense(5, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.load_weights(tmp_path / "w.h5")
    np.testing.assert_array_equal(model.layers[1].kernel.numpy(), weights["dense"][0])
    np.testing.assert_array_equal(model.layers[2].bias.numpy(), weights["dense_1"][1])
