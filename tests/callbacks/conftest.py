"""Small models and data for the callback tests, and scripted monitor values."""

from __future__ import annotations

import numpy as np
import pytest

import tinyann as keras


def _make_data(n=96, features=6, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype("int64")
    return x, y


def _make_model(features=6, optimizer="sgd", metrics=("accuracy",), seed=0, dropout=0.0):
    keras.utils.set_random_seed(seed)
    layers = [keras.Input((features,)), keras.layers.Dense(8, activation="relu")]
    if dropout:
        layers.append(keras.layers.Dropout(dropout))
    layers.append(keras.layers.Dense(2, activation="softmax"))
    model = keras.Sequential(layers)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                  metrics=list(metrics))
    return model


class Script(keras.callbacks.Callback):
    """Overwrites ``logs[key]`` with scripted values at each epoch end (placed before
    the callback under test), and records the weights after every epoch."""

    def __init__(self, values, key="val_loss"):
        super().__init__()
        self.values = list(values)
        self.key = key
        self.weights = []

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]
        self.weights.append(self.model.get_weights())


@pytest.fixture
def make_data():
    """``make_data(n=96, features=6, seed=0) -> (x, y)``: a linearly separable task."""
    return _make_data


@pytest.fixture
def make_model():
    """``make_model(features=6, optimizer='sgd', metrics=('accuracy',), seed=0,
    dropout=0.0)``: Dense(8, relu) -> [Dropout] -> Dense(2, softmax), compiled."""
    return _make_model


@pytest.fixture
def script():
    """The ``Script`` callback class."""
    return Script
