"""Discretization: bins by given boundaries (right-open, float32), Keras's quantile
summary for adapt, the errors, configs and models."""

from __future__ import annotations

import json

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers


def test_bins_are_right_open():
    layer = layers.Discretization(bin_boundaries=[0.0, 1.0])
    out = layer(np.array([[-0.5, 0.0, 0.99, 1.0, 7.0]])).numpy()
    np.testing.assert_array_equal(out, [[0, 1, 1, 2, 2]])
    assert out.dtype == np.int32


def test_adapt_matches_exact_quantiles_on_a_small_uniform_grid():
    # fewer values than 1 / epsilon: the summary is the data itself
    layer = layers.Discretization(num_bins=4)
    layer.adapt(np.arange(1.0, 101.0))
    np.testing.assert_allclose(layer.bin_boundaries, [25.0, 50.0, 75.0], rtol=1e-6)


def test_adapt_from_batches_is_close_to_the_quantiles():
    rng = np.random.default_rng(0)
    data = rng.normal(size=5000).astype("float32")
    layer = layers.Discretization(num_bins=4, epsilon=0.001)
    layer.adapt([data[:2000], data[2000:]])
    np.testing.assert_allclose(layer.bin_boundaries, np.quantile(data, [0.25, 0.5, 0.75]),
                               atol=0.05)
    counts = np.bincount(layer(data).numpy(), minlength=4)
    assert counts.min() > 1100


@pytest.mark.parametrize("kwargs, match", [
    ({}, "either `num_bins` or `bin_boundaries`"),
    ({"num_bins": 3, "bin_boundaries": [1.0]}, "Both `num_bins` and `bin_boundaries`"),
    ({"num_bins": -1}, "Received: `num_bins=-1`"),
    ({"num_bins": 3, "output_mode": "tf_idf"}, "Received: output_mode=tf_idf"),
    ({"bin_boundaries": [2.0, 1.0]}, "sorted in increasing order"),
])
def test_argument_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        layers.Discretization(**kwargs)


def test_use_and_adapt_errors():
    with pytest.raises(ValueError, match="call `adapt\\(dataset\\)` before"):
        layers.Discretization(num_bins=3)(np.array([1.0]))
    with pytest.raises(ValueError, match="initialized with `bin_boundaries`"):
        layers.Discretization(bin_boundaries=[1.0]).adapt(np.array([1.0]))
    with pytest.raises(ValueError, match="NaN or infinite"):
        layers.Discretization(num_bins=3).adapt(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="expected numeric input.*dtype <U1"):
        layers.Discretization(bin_boundaries=[1.0])(np.array(["a"]))


def test_adapted_config_round_trips():
    layer = layers.Discretization(num_bins=3, output_mode="one_hot")
    layer.adapt(np.arange(30.0))
    config = json.loads(json.dumps(layer.get_config()))
    assert config["dtype"] == "float32" and config["num_bins"] == 3
    rebuilt = layers.Discretization.from_config(config)
    assert rebuilt.bin_boundaries == layer.bin_boundaries
    x = np.array([[1.0], [15.0], [29.0]])
    np.testing.assert_array_equal(rebuilt(x).numpy(), layer(x).numpy())


def test_in_a_model_and_a_keras_file(tmp_path):
    layer = layers.Discretization(num_bins=4, output_mode="multi_hot")
    layer.adapt(np.linspace(0.0, 1.0, 50))
    inputs = keras.Input(shape=(1,))
    model = keras.Model(inputs, layers.Dense(2)(layer(inputs)))
    path = tmp_path / "discretization.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.layers[1].bin_boundaries == layer.bin_boundaries
    x = np.array([[0.1], [0.6], [0.9]])
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
