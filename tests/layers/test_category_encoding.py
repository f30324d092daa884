"""CategoryEncoding and the shared encoder: hand-worked encodings, count weights, the
errors, configs and a model that trains through it."""

from __future__ import annotations

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers
from tinyann.layers.category_encoding import encode


def test_hand_worked_encodings():
    ids = np.array([[0, 2, 2], [3, 3, 1]])
    np.testing.assert_array_equal(encode(ids, "multi_hot", 4, "int64"),
                                  [[1, 0, 1, 0], [0, 1, 0, 1]])
    np.testing.assert_array_equal(encode(ids, "count", 4, "int64"),
                                  [[1, 0, 2, 0], [0, 1, 0, 2]])
    one_hot = encode(ids, "one_hot", 4, "float32")
    assert one_hot.shape == (2, 3, 4) and one_hot.dtype == np.float32
    np.testing.assert_array_equal(one_hot.argmax(-1), ids)
    np.testing.assert_array_equal(encode(np.array(2), "multi_hot", 3, "int64"), [0, 0, 1])


def test_count_weights_weigh_each_occurrence():
    layer = layers.CategoryEncoding(num_tokens=3, output_mode="count")
    out = layer(np.array([[0, 1, 1], [2, 2, 0]]),
                count_weights=np.array([[0.5, 1.0, 2.0], [0.25, 0.25, 4.0]])).numpy()
    np.testing.assert_allclose(out, [[0.5, 3.0, 0.0], [4.0, 0.0, 0.5]])
    with pytest.raises(ValueError, match="`count_weights` is not used when `output_mode` is "
                                         "not `'count'`"):
        layers.CategoryEncoding(3)(np.array([[1]]), count_weights=np.ones((1, 1)))
    with pytest.raises(ValueError, match=r"shape of the inputs \(1, 2\)"):
        layer(np.array([[1, 2]]), count_weights=np.ones((1, 3)))


@pytest.mark.parametrize("kwargs, match", [
    ({}, "num_tokens must be set"),
    ({"num_tokens": 0}, "must be >= 1. Received: num_tokens=0"),
    ({"num_tokens": 3, "output_mode": "int"}, "Unknown arg for output_mode: int"),
])
def test_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        layers.CategoryEncoding(**kwargs)


def test_input_errors_name_the_range_and_the_value():
    layer = layers.CategoryEncoding(num_tokens=4)
    with pytest.raises(ValueError, match=r"range \[0, 4\), but received values including 4"):
        layer(np.array([[1, 4]]))
    with pytest.raises(ValueError, match="including -1"):
        layer(np.array([[-1]]))
    with pytest.raises(ValueError, match="non-integer values"):
        layer(np.array([[0.5]]))
    with pytest.raises(ValueError, match="dtype <U1"):
        layer(np.array([["a"]]))


def test_binary_is_multi_hot_and_config_round_trips():
    layer = layers.CategoryEncoding(num_tokens=5, output_mode="binary")
    assert layer.output_mode == "multi_hot"
    rebuilt = layers.CategoryEncoding.from_config(layer.get_config())
    assert rebuilt.get_config() == layer.get_config()


def test_a_model_trains_through_it():
    keras.utils.set_random_seed(0)
    x = np.array([[0], [1], [2], [3]] * 10)
    y = (x[:, 0] % 2).astype("float32")
    inputs = keras.Input(shape=(1,))
    encoded = layers.CategoryEncoding(num_tokens=4, output_mode="one_hot")(inputs)
    model = keras.Model(inputs, layers.Dense(1, activation="sigmoid")(encoded))
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=30, verbose=0)
    assert history.history["accuracy"][-1] == 1.0


def test_gradients_of_a_model_behind_the_preprocessing_layers(gradcheck):
    """The layers pass no gradient back; the weights after them get theirs exactly
    (the model's update with SGD(1) is minus the numerical gradient)."""
    from tinyann import losses

    rng = np.random.default_rng(3)
    inputs = keras.Input(shape=(2,))
    lookup = layers.IntegerLookup(vocabulary=[1, 2, 3], output_mode="multi_hot")
    bins = layers.Discretization(bin_boundaries=[0.5, 1.5], output_mode="count")
    hidden = layers.Concatenate()([lookup(inputs), bins(inputs)])
    out = layers.Dense(1)(layers.Dense(3, activation="tanh")(hidden))
    model = keras.Model(inputs, out)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0), loss="mse")
    x = np.array([[1, 2], [3, 0], [2, 2], [0, 1]], "float64")
    y = rng.normal(size=(4, 1))
    values, _, _ = model._packed_trainables()
    mse = losses.MeanSquaredError()
    numeric = gradcheck.numerical_grad(lambda: mse(y, model(x, training=True)), values)
    before = values.copy()
    model.train_on_batch(x, y)
    gradcheck.assert_close(before - values, numeric)
