"""Small models and data for the saving tests, and the Keras-made fixture files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras" / "saving"


class Models:
    """Builders of small compiled models, with matching data."""

    @staticmethod
    def mlp(optimizer="adam", dropout=0.25, metrics=("accuracy",)):
        """Flatten -> Dense(8, relu) -> Dropout -> Dense(3, softmax), sparse labels."""
        stack = [keras.Input((6, 4)), layers.Flatten(), layers.Dense(8, activation="relu")]
        if dropout:
            stack.append(layers.Dropout(dropout))
        stack.append(layers.Dense(3, activation="softmax"))
        model = keras.Sequential(stack)
        model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy",
                      metrics=list(metrics))
        return model

    @staticmethod
    def mlp_data(n=48, seed=0):
        rng = np.random.default_rng(seed)
        return rng.random((n, 6, 4), dtype=np.float32), rng.integers(0, 3, n)

    @staticmethod
    def functional(optimizer="rmsprop"):
        """Two inputs, two Dense branches, Concatenate, Dense(2): regression (mse)."""
        a, b = keras.Input((5,), name="a"), keras.Input((3,), name="b")
        joined = layers.Concatenate()([layers.Dense(4, activation="relu")(b),
                                       layers.Dense(40, activation="tanh")(a)])
        model = keras.Model([a, b], layers.Dense(2)(joined))
        model.compile(optimizer=optimizer, loss="mse", metrics=["mae"])
        return model

    @staticmethod
    def functional_data(n=32, seed=1):
        rng = np.random.default_rng(seed)
        return ([rng.standard_normal((n, 5)).astype(np.float32),
                 rng.standard_normal((n, 3)).astype(np.float32)],
                rng.standard_normal((n, 2)).astype(np.float32))


@pytest.fixture
def models():
    keras.utils.set_random_seed(0)
    return Models()


@pytest.fixture
def trained_mlp(models):
    model = models.mlp()
    x, y = models.mlp_data()
    model.fit(x, y, batch_size=16, epochs=1, verbose=0)
    return model, x, y


@pytest.fixture(scope="session")
def keras_reference():
    """(arrays from reference.npz, the parsed reference.json) made by real Keras."""
    arrays = np.load(FIXTURES / "reference.npz", allow_pickle=False)
    return arrays, json.loads((FIXTURES / "reference.json").read_text())


def files_in(directory) -> list[str]:
    return sorted(p.name for p in Path(directory).iterdir())
