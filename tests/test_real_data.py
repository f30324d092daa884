"""The seeds' recipes on the real Fashion-MNIST reach Keras's accuracy.

Marked slow (about 10 s together); they need the data set installed (Debian's
``dataset-fashion-mnist`` or the user cache) and never skip: CI installs it.
"""

from __future__ import annotations

import pytest
from sklearn.model_selection import train_test_split

import tinyann as keras


@pytest.fixture(params=["numpy", "fast"])
def kernels(request):
    """Each recipe on the NumPy kernels and on the fast set (compiled, with numba)."""
    previous = keras.config.kernels()
    keras.config.set_kernels(request.param)
    yield request.param
    keras.config.set_kernels(previous)


@pytest.fixture(scope="module")
def fashion():
    (train_input, train_target), (test_input, test_target) = (
        keras.datasets.fashion_mnist.load_data())
    assert train_input.shape == (60000, 28, 28) and test_input.shape == (10000, 28, 28)
    return train_input, train_target


@pytest.mark.slow
def test_seed_002_recipe(fashion, kernels):
    # seed 002, unchanged but for the import (Keras 3 on TensorFlow: 0.8458)
    train_input, train_target = fashion
    keras.utils.set_random_seed(42)
    train_scaled = train_input / 255.0
    train_scaled = train_scaled.reshape(-1, 28 * 28)
    train_scaled, val_scaled, train_target, val_target = train_test_split(
        train_scaled, train_target, test_size=0.2, random_state=42)
    inputs = keras.layers.Input(shape=(784,))
    dense = keras.layers.Dense(10, activation="softmax")
    model = keras.Sequential([inputs, dense])
    model.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(train_scaled, train_target, epochs=5, verbose=0)
    loss, accuracy = model.evaluate(val_scaled, val_target, verbose=0)
    assert 0.83 <= accuracy <= 0.86
    assert history.history["loss"][-1] < history.history["loss"][0]


@pytest.mark.slow
def test_relu_network_with_adam(fashion, kernels):
    # Flatten -> Dense(100, relu) -> Dense(10, softmax), 'adam' (Keras 3: 0.8723)
    train_input, train_target = fashion
    keras.utils.set_random_seed(42)
    train_scaled, val_scaled, train_target, val_target = train_test_split(
        train_input / 255.0, train_target, test_size=0.2, random_state=42)
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),
                              keras.layers.Dense(100, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(train_scaled, train_target, epochs=5, verbose=0)
    loss, accuracy = model.evaluate(val_scaled, val_target, verbose=0)
    assert accuracy >= 0.86
