"""The functional API: Model(inputs, outputs), layer.input / layer.output, sub-models."""

from __future__ import annotations

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers


def test_chain_of_layers():
    inputs = keras.Input((4,), name="pixels")
    hidden_layer = layers.Dense(5, activation="relu")
    output_layer = layers.Dense(3, activation="softmax")
    outputs = output_layer(hidden_layer(inputs))
    model = keras.Model(inputs, outputs)
    assert model.name == "functional"
    assert model.inputs[0] is inputs and model.outputs[0] is outputs
    assert model.input is inputs and model.output is outputs
    # a functional model's layers start with its InputLayer, as in Keras
    assert [layer.name for layer in model.layers] == ["pixels", "dense", "dense_1"]
    assert model.layers[1:] == [hidden_layer, output_layer]
    assert model.count_params() == (4 * 5 + 5) + (5 * 3 + 3)
    assert model.get_layer("dense_1") is output_layer
    assert model.get_layer(index=1) is hidden_layer


def test_predict_matches_hand_computation(reference):
    inputs = keras.Input((4,))
    outputs = layers.Dense(3, activation="softmax")(layers.Dense(5, activation="relu")(inputs))
    model = keras.Model(inputs=inputs, outputs=outputs)
    x = np.random.default_rng(0).standard_normal((6, 4))
    k1, b1, k2, b2 = [w.astype(np.float64) for w in model.get_weights()]
    want = reference.softmax(np.maximum(x @ k1 + b1, 0) @ k2 + b2)
    np.testing.assert_allclose(model.predict(x, verbose=0), want, rtol=1e-5, atol=1e-7)


def test_layer_input_and_output_are_the_symbolic_tensors():
    inputs = keras.Input((4,))
    dense = layers.Dense(5)
    hidden = dense(inputs)
    assert dense.input is inputs
    assert dense.output is hidden
    fresh = layers.Dense(2)
    with pytest.raises(AttributeError, match="no defined input"):
        _ = fresh.input


def test_sequential_layers_have_inputs_and_outputs():
    model = keras.Sequential([keras.Input((28, 28)), layers.Flatten(),
                              layers.Dense(8, activation="relu"), layers.Dense(3)])
    flatten, hidden, last = model.layers
    assert flatten.input is model.inputs[0]
    assert hidden.input is flatten.output
    assert last.output is model.outputs[0]
    assert hidden.output.shape == (None, 8)


def test_sub_model_predicts_without_compile():
    # keras.Model(model.inputs[0], model.layers[0].output): the hidden activations
    model = keras.Sequential([keras.Input((6,)), layers.Dense(4, activation="relu"),
                              layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((20, 6))
    model.fit(x, rng.integers(0, 3, 20), epochs=2, verbose=0)
    sub = keras.Model(model.inputs[0], model.layers[0].output)
    kernel, bias = [w.astype(np.float64) for w in model.layers[0].get_weights()]
    got = sub.predict(x, verbose=0)
    assert got.dtype == np.float32 and got.shape == (20, 4)
    np.testing.assert_allclose(got, np.maximum(x @ kernel + bias, 0), rtol=1e-5, atol=1e-6)
    # the sub-model shares the weights: training the model changes what it gives
    model.fit(x, rng.integers(0, 3, 20), epochs=1, verbose=0)
    assert not np.allclose(sub.predict(x, verbose=0), got)


def test_two_outputs_predict_a_list():
    inputs = keras.Input((4,))
    hidden = layers.Dense(3)(inputs)
    out = layers.Dense(2)(hidden)
    model = keras.Model(inputs, [hidden, out])
    preds = model.predict(np.ones((5, 4)), verbose=0)
    assert isinstance(preds, list) and [p.shape for p in preds] == [(5, 3), (5, 2)]
    np.testing.assert_allclose(model.layers[-1](preds[0]), preds[1], rtol=1e-6)


def test_functional_model_trains():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, layers.Dense(3, activation="softmax")(inputs))
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    rng = np.random.default_rng(0)
    history = model.fit(rng.standard_normal((32, 4)), rng.integers(0, 3, 32), epochs=2,
                        verbose=0)
    assert list(history.history) == ["accuracy", "loss"]
    assert len(history.history["loss"]) == 2


def test_needs_both_inputs_and_outputs():
    with pytest.raises(ValueError, match="both `inputs` and `outputs`"):
        keras.Model(inputs=keras.Input((4,)))


def test_outputs_must_be_symbolic():
    with pytest.raises(ValueError, match="symbolic tensors"):
        keras.Model(keras.Input((4,)), np.zeros((1, 4)))


def test_disconnected_graph_is_rejected():
    a, b = keras.Input((4,)), keras.Input((4,))
    out = layers.Dense(2)(b)
    with pytest.raises(ValueError, match="Graph disconnected"):
        keras.Model(a, out)


def test_duplicate_layer_names_are_rejected():
    inputs = keras.Input((4,))
    out = layers.Dense(2, name="same")(layers.Dense(3, name="same")(inputs))
    with pytest.raises(ValueError, match="'same' is used 2 times"):
        keras.Model(inputs, out)


def test_get_layer_errors():
    inputs = keras.Input((4,))
    model = keras.Model(inputs, layers.Dense(2)(inputs))
    with pytest.raises(ValueError, match="No such layer: nope"):
        model.get_layer("nope")
    with pytest.raises(ValueError, match="index 5"):
        model.get_layer(index=5)
