"""Dropout: inverted dropout in training steps only; identity everywhere else."""

from __future__ import annotations

import numpy as np
import pytest

import tinyann as keras
from tinyann.layers import Dropout


def _fixed_mask_layer(rate, seed, noise_shape=None):
    # a fresh generator with the same seed draws the same mask: f(x) has one fixed mask
    return Dropout(rate, noise_shape=noise_shape, seed=seed)


@pytest.mark.parametrize("noise_shape", [None, (None, 1, 3)])
def test_dropout_gradient_with_a_fixed_mask(gradcheck, noise_shape):
    rng = np.random.default_rng(0)
    x = gradcheck.away_from_zero(rng, (4, 2, 3))
    g = rng.normal(size=(4, 2, 3))

    def f():
        return float(np.sum(g * _fixed_mask_layer(0.4, 7, noise_shape)(x, training=True)))

    layer = _fixed_mask_layer(0.4, 7, noise_shape)
    out = layer(x, training=True)
    analytic = layer.backward(g.copy())
    numeric = gradcheck.numerical_grad(f, x)
    gradcheck.assert_close(analytic, numeric)
    # the mask really drops something and scales the rest by 1 / (1 - rate)
    kept = out != 0
    assert 0 < kept.sum() < out.size
    np.testing.assert_allclose(out[kept], x[kept] / 0.6, rtol=1e-12)


def test_dropout_inside_a_model_gradient_check(gradcheck):
    rng = np.random.default_rng(1)
    inputs = keras.Input((5,))
    h = keras.layers.Dense(6, activation="tanh")(inputs)
    h = keras.layers.Dropout(0.5, seed=3, name="drop")(h)
    outputs = keras.layers.Dense(2)(h)
    model = keras.Model(inputs, outputs)
    x = rng.normal(size=(3, 5))
    g = rng.normal(size=(3, 2))
    drop = model.get_layer("drop")
    graph = model._graph

    def f():
        drop._rng = np.random.default_rng(3)
        return float(np.sum(g * graph.forward([x], training=True)[0]))

    first = next(layer for layer in model.layers if getattr(layer, "units", None) == 6)
    kernel = first.kernel
    f()
    graph.backward([g.copy()])
    analytic = kernel.grad.copy()
    numeric = gradcheck.numerical_grad(f, kernel.value)
    gradcheck.assert_close(analytic, numeric)


def test_training_preserves_the_mean_activation():
    x = np.ones((1000, 1000), dtype="float32")
    out = Dropout(0.3, seed=0)(x, training=True)
    # 1e6 draws: the mean's standard deviation is about 7e-4
    assert abs(float(out.mean()) - 1.0) < 5e-3
    assert abs(float((out == 0).mean()) - 0.3) < 5e-3
    np.testing.assert_allclose(np.unique(out), [0.0, 1 / 0.7], rtol=1e-6)


def test_inference_is_the_identity_and_predict_is_deterministic():
    keras.utils.set_random_seed(0)
    x = np.random.default_rng(2).normal(size=(64, 8)).astype("float32")
    layer = Dropout(0.5)
    np.testing.assert_array_equal(layer(x), x)
    np.testing.assert_array_equal(layer(x, training=False), x)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dropout(0.5), keras.layers.Dense(3)])
    bare = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4, activation="relu"),
                             keras.layers.Dense(3)])
    bare.set_weights(model.get_weights())
    first = model.predict(x, verbose=0)
    np.testing.assert_array_equal(first, model.predict(x, verbose=0))
    np.testing.assert_allclose(first, bare.predict(x, verbose=0), rtol=1e-6)
    np.testing.assert_array_equal(model(x), model(x))
    # a sub-model sharing the layers is deterministic too
    sub = keras.Model(model.inputs, model.layers[1].output)
    np.testing.assert_array_equal(sub.predict(x, verbose=0), sub.predict(x, verbose=0))


def test_evaluate_and_validation_do_not_drop():
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(200, 6)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dropout(0.5),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=2, batch_size=32, validation_data=(x[:50], y[:50]),
                        verbose=0)
    first = model.evaluate(x[:50], y[:50], verbose=0)
    assert first == model.evaluate(x[:50], y[:50], verbose=0)
    # the last validation ran on the final weights without dropout
    np.testing.assert_allclose(history.history["val_loss"][-1], first[0], rtol=1e-6)
    np.testing.assert_allclose(history.history["val_accuracy"][-1], first[1], rtol=1e-6)


def test_the_mask_changes_between_training_steps_and_follows_the_seed():
    x = np.ones((8, 50), dtype="float32")
    layer = Dropout(0.5)
    keras.utils.set_random_seed(5)
    a, b = layer(x, training=True), layer(x, training=True)
    assert not np.array_equal(a, b)
    keras.utils.set_random_seed(5)
    np.testing.assert_array_equal(layer(x, training=True), a)
    np.testing.assert_array_equal(Dropout(0.5, seed=9)(x, training=True),
                                  Dropout(0.5, seed=9)(x, training=True))


def test_noise_shape_broadcasts_the_mask():
    x = np.ones((6, 4, 5), dtype="float32")
    out = Dropout(0.5, noise_shape=(None, 1, 5), seed=1)(x, training=True)
    # one mask per (sample, feature), shared along axis 1
    assert (out == out[:, :1, :]).all()
    assert 0 < (out == 0).sum() < out.size


def test_rate_zero_is_the_identity_in_training():
    x = np.arange(12, dtype="float32").reshape(3, 4)
    layer = Dropout(0.0)
    np.testing.assert_array_equal(layer(x, training=True), x)
    np.testing.assert_array_equal(layer.backward(np.ones_like(x)), np.ones_like(x))


@pytest.mark.parametrize("rate", [1.0, -0.1, 1.5, "0.5", None])
def test_invalid_rate(rate):
    with pytest.raises(ValueError, match=r"Invalid value received for argument `rate`.*"
                                         r"Received: rate="):
        Dropout(rate)


def test_config_round_trip():
    layer = Dropout(0.25, noise_shape=(None, 1), seed=4, name="d")
    config = layer.get_config()
    assert (config["rate"], config["noise_shape"], config["seed"]) == (0.25, [None, 1], 4)
    clone = Dropout.from_config(config)
    assert (clone.rate, clone.noise_shape, clone.seed, clone.name) == (0.25, (None, 1), 4, "d")
