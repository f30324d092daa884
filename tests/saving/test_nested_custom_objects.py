"""A user's layer nested in a built-in one (an RNN's cell, a wrapper's layer) loads back
with ``custom_objects``, ``custom_object_scope`` or a registration, as in Keras."""

import numpy as np
import pytest

import tinyann as keras
from tinyann import ops


class MinimalRNNCell(keras.layers.Layer):
    """keras.io's "Working with RNNs" cell."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units),
                                      initializer="uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units),
                                                initializer="uniform",
                                                name="recurrent_kernel")

    def call(self, inputs, states):
        prev_output = states[0]
        h = ops.matmul(inputs, self.kernel)
        output = h + ops.matmul(prev_output, self.recurrent_kernel)
        return output, [output]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class Doubling(keras.layers.Layer):
    def call(self, x):
        return x * 2.0


def _rnn_model():
    keras.utils.set_random_seed(1)
    return keras.Sequential([keras.Input((4, 3)), keras.layers.RNN(MinimalRNNCell(5)),
                             keras.layers.Dense(2)])


def test_an_rnn_with_a_users_cell_loads_with_custom_objects(tmp_path):
    model = _rnn_model()
    x = np.random.default_rng(0).normal(size=(2, 4, 3)).astype("float32")
    path = tmp_path / "cell.keras"
    model.save(path)
    with pytest.raises(Exception, match="MinimalRNNCell"):
        keras.models.load_model(path)
    loaded = keras.models.load_model(path, custom_objects={"MinimalRNNCell": MinimalRNNCell})
    np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)),
                               np.asarray(model.predict(x, verbose=0)), rtol=1e-6)
    with keras.saving.custom_object_scope({"MinimalRNNCell": MinimalRNNCell}):
        again = keras.models.load_model(path)
    assert type(again.layers[0].cell) is MinimalRNNCell


def test_a_wrapped_users_layer_loads_with_custom_objects_and_from_json(tmp_path):
    model = keras.Sequential([keras.Input((3, 2)), keras.layers.TimeDistributed(Doubling()),
                              keras.layers.Flatten()])
    x = np.ones((1, 3, 2), "float32")
    path = tmp_path / "wrapped.keras"
    model.save(path)
    loaded = keras.models.load_model(path, custom_objects={"Doubling": Doubling})
    np.testing.assert_array_equal(np.asarray(loaded.predict(x, verbose=0)), 2 * x.reshape(1, 6))
    rebuilt = keras.models.model_from_json(model.to_json(), custom_objects={"Doubling": Doubling})
    assert type(rebuilt.layers[0].layer) is Doubling


def test_a_registered_cell_needs_no_custom_objects(tmp_path):
    registered = keras.saving.register_keras_serializable("nested_test")(
        type("RegisteredCell", (MinimalRNNCell,), {}))
    model = keras.Sequential([keras.Input((4, 3)), keras.layers.RNN(registered(2))])
    path = tmp_path / "registered.keras"
    model.save(path)
    assert type(keras.models.load_model(path).layers[0].cell) is registered
