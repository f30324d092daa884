"""Masking and ActivityRegularization against real Keras 3: models trained 3 SGD steps
from Keras's initial weights give Keras's weights, logged loss and evaluate loss
(tests/fixtures/keras/norm_layers.*, tools/keras_reference/make_norm_layers_fixtures.py);
numerical gradients."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras"
FACTS = json.loads((FIXTURES / "norm_layers.json").read_text())


@pytest.fixture(scope="module")
def ref():
    return dict(np.load(FIXTURES / "norm_layers.npz"))


def _trains_as_keras(name, model, ref):
    count = sum(1 for key in ref if key.startswith(f"{name}:initial_"))
    model.set_weights([ref[f"{name}:initial_{k}"] for k in range(count)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    history = model.fit(ref[f"{name}:x"], ref[f"{name}:y"], batch_size=8, epochs=1,
                        shuffle=False, verbose=0)
    for k, (got, variable) in enumerate(zip(model.get_weights(), model.weights)):
        np.testing.assert_allclose(got, ref[f"{name}:trained_{k}"], atol=1e-5, rtol=0,
                                   err_msg=variable.path)
    np.testing.assert_allclose(model.predict(ref[f"{name}:x"][:5], verbose=0),
                               ref[f"{name}:pred"], atol=1e-5)
    np.testing.assert_allclose(history.history["loss"][0], FACTS[name]["loss"], rtol=1e-5)
    np.testing.assert_allclose(model.evaluate(ref[f"{name}:x"], ref[f"{name}:y"],
                                              batch_size=8, verbose=0),
                               FACTS[name]["evaluate"], rtol=1e-5)


# ---------------------------------------------------------------- ActivityRegularization
def test_activity_regularization_trains_as_keras(ref):
    model = keras.Sequential([keras.Input((6,)), layers.Dense(5, activation="tanh"),
                              layers.ActivityRegularization(l1=0.01, l2=0.05),
                              layers.Dense(2)])
    _trains_as_keras("activity", model, ref)
    config = model.layers[1].get_config()
    assert config == dict(FACTS["activity"]["config"], name=config["name"])


def test_activity_regularization_term_is_keras_s(ref):
    layer = layers.ActivityRegularization(l1=0.1, l2=0.2)
    x = ref["activity:x"][:4]
    np.testing.assert_array_equal(np.asarray(layer(x)), x)
    assert len(layer.losses) == 1
    np.testing.assert_allclose(float(layer.losses[0]), FACTS["activity"]["term"], rtol=1e-6)
    layer(x)  # a new call replaces the term
    assert len(layer.losses) == 1


def test_activity_regularization_gradient(gradcheck, helpers):
    """The penalty is part of the loss: d/dx [sum(G * y) + penalty(x)]."""
    rng = np.random.default_rng(0)
    layer = layers.ActivityRegularization(l1=0.3, l2=0.7)
    x = rng.normal(size=(4, 5))
    g = rng.normal(size=x.shape)
    layer(x, training=True)
    dx = layer.backward(g.copy())

    def loss():
        y = np.asarray(layer(x, training=True))
        return float(np.sum(g * y) + float(layer.losses[0]))

    gradcheck.assert_close(dx, gradcheck.numerical_grad(loss, x), rtol=1e-6)


# ---------------------------------------------------------------- Masking
def test_masking_before_an_lstm_trains_as_keras(ref):
    model = keras.Sequential([keras.Input((5, 3)), layers.Masking(mask_value=0.0),
                              layers.LSTM(4, return_sequences=True), layers.Dense(2)])
    _trains_as_keras("masking", model, ref)
    mask = model.layers[0].compute_mask(ref["masking:x"][:5])
    np.testing.assert_array_equal(mask, ref["masking:mask"].astype(bool))
    config = model.layers[0].get_config()
    assert config == dict(FACTS["masking"]["config"], name=config["name"])


def test_masking_before_a_last_step_lstm_trains_as_keras(ref):
    model = keras.Sequential([keras.Input((5, 3)), layers.Masking(), layers.LSTM(4),
                              layers.Dense(1)])
    _trains_as_keras("masking_last", model, ref)


def test_masking_in_a_functional_model_saves_and_loads(ref, tmp_path):
    inputs = keras.Input((5, 3))
    outputs = layers.Dense(1)(layers.GRU(3)(layers.Masking(-1.0)(inputs)))
    model = keras.Model(inputs, outputs)
    x = ref["masking:x"][:6].copy()
    x[x == 0] = -1.0
    before = model.predict(x, verbose=0)
    model.save(tmp_path / "masked.keras")
    again = keras.models.load_model(tmp_path / "masked.keras")
    np.testing.assert_allclose(again.predict(x, verbose=0), before, rtol=1e-6)
    assert again.layers[1].mask_value == -1.0


def test_masking_gradient(gradcheck, helpers):
    rng = np.random.default_rng(1)
    helpers.check_layer(gradcheck, layers.Masking(), rng.normal(size=(3, 4, 2)), rng)
    # a masked step's output is a constant 0 (a numerical check would step off the
    # mask value): its gradient is 0, as Keras's `where`
    x = rng.normal(size=(3, 4, 2))
    x[0, 1] = 0.0
    layer = layers.Masking()
    layer(x, training=True)
    g = rng.normal(size=x.shape)
    expected = g.copy()
    expected[0, 1] = 0.0
    np.testing.assert_array_equal(layer.backward(g), expected)


def test_masking_zeroes_the_masked_steps():
    x = np.array([[[1.0, 2.0], [5.0, 5.0], [0.0, 3.0]]], "float32")
    layer = layers.Masking(mask_value=5.0)
    np.testing.assert_array_equal(np.asarray(layer(x)), [[[1, 2], [0, 0], [0, 3]]])
    np.testing.assert_array_equal(layer.compute_mask(x), [[True, False, True]])
