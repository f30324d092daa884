"""ZeroPadding2D, Cropping2D, UpSampling2D, RepeatVector, Permute, Identity and the noise
layers: outputs, input gradients and configs against real Keras 3
(tests/fixtures/keras/norm_layers.*, tools/keras_reference/make_norm_layers_fixtures.py),
numerical gradients, and the noise layers' training-only behaviour."""

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


@pytest.mark.parametrize("case", sorted(FACTS["reshaping"]))
def test_outputs_gradients_and_configs_match_keras(case, ref):
    fact = FACTS["reshaping"][case]
    layer = getattr(layers, fact["class_name"])(**fact["kwargs"])
    x = ref[fact["input"]]
    y = np.asarray(layer(x, training=True))
    np.testing.assert_allclose(y, ref[f"{case}:y"], atol=1e-5, rtol=1e-5)
    dx = layer.backward(ref[f"{case}:G"].copy())
    assert dx.shape == x.shape
    np.testing.assert_allclose(dx, ref[f"{case}:dx"], atol=1e-5, rtol=1e-5)
    assert layer.compute_output_shape((None,) + x.shape[1:]) == (None,) + y.shape[1:]
    assert json.loads(json.dumps(layer.get_config())) == dict(fact["config"],
                                                              name=layer.name)


@pytest.mark.parametrize("name", sorted(FACTS["noise"]))
def test_noise_configs_match_keras(name):
    fact = FACTS["noise"][name]
    layer = getattr(layers, name)(**fact["kwargs"])
    assert json.loads(json.dumps(layer.get_config())) == dict(fact["config"], name=layer.name)


GRADIENT_CASES = {
    "zero_padding": (lambda: layers.ZeroPadding2D(((0, 2), (3, 1))), (2, 3, 4, 2)),
    "zero_padding_first": (lambda: layers.ZeroPadding2D(1, data_format="channels_first"),
                           (2, 2, 3, 4)),
    "cropping": (lambda: layers.Cropping2D(((1, 0), (2, 1))), (2, 4, 5, 2)),
    "cropping_first": (lambda: layers.Cropping2D(1, data_format="channels_first"),
                       (2, 2, 4, 5)),
    "up_nearest": (lambda: layers.UpSampling2D((2, 3)), (2, 3, 2, 2)),
    "up_nearest_first": (lambda: layers.UpSampling2D(2, data_format="channels_first"),
                         (2, 2, 3, 2)),
    "up_bilinear": (lambda: layers.UpSampling2D(2, interpolation="bilinear"), (2, 3, 3, 2)),
    "repeat_vector": (lambda: layers.RepeatVector(3), (4, 5)),
    "permute": (lambda: layers.Permute((3, 1, 2)), (2, 3, 4, 5)),
    "identity": (layers.Identity, (3, 4)),
    "gaussian_noise": (lambda: layers.GaussianNoise(0.5, seed=1), (3, 4)),
}


@pytest.mark.parametrize("case", sorted(GRADIENT_CASES))
def test_gradient(case, gradcheck, helpers):
    make, shape = GRADIENT_CASES[case]
    rng = np.random.default_rng(0)
    layer = make()
    x = rng.normal(size=shape)
    layer(x)  # built
    if case == "gaussian_noise":
        # a fresh draw per call: check dx = dy directly
        g = rng.normal(size=shape)
        layer(x, training=True)
        np.testing.assert_array_equal(layer.backward(g.copy()), g)
        return
    helpers.check_layer(gradcheck, layer, x, rng)


@pytest.mark.parametrize("make", [lambda: layers.GaussianDropout(0.3, seed=2),
                                  lambda: layers.SpatialDropout1D(0.4, seed=2),
                                  lambda: layers.SpatialDropout2D(0.4, seed=2)])
def test_multiplicative_noise_backward_uses_the_same_draw(make):
    layer = make()
    x = np.random.default_rng(1).normal(size=(4, 3, 5, 6) if "2D" in type(layer).__name__
                                        else (4, 5, 6)).astype("float32")
    y = layer(x, training=True)
    g = np.ones_like(x)
    # y = x * noise, so dx = noise = y / x
    np.testing.assert_allclose(layer.backward(g), np.asarray(y) / x, rtol=1e-5, atol=1e-6)


def test_noise_layers_are_the_identity_in_inference_and_frozen_steps():
    x = np.random.default_rng(2).normal(size=(6, 4, 5)).astype("float32") + 3.0
    for layer in (layers.GaussianNoise(0.5), layers.GaussianDropout(0.5),
                  layers.SpatialDropout1D(0.5)):
        np.testing.assert_array_equal(np.asarray(layer(x)), x)
        np.testing.assert_array_equal(layer._frozen_call(x), x)
        assert not np.allclose(np.asarray(layer(x, training=True)), x)


def test_noise_statistics():
    rng = np.random.default_rng(3)
    x = np.ones((200, 50), "float32")
    noisy = np.asarray(layers.GaussianNoise(0.3, seed=4)(x, training=True)) - 1.0
    assert abs(noisy.std() - 0.3) < 0.01 and abs(noisy.mean()) < 0.01
    scaled = np.asarray(layers.GaussianDropout(0.2, seed=4)(x, training=True))
    assert abs(scaled.std() - np.sqrt(0.2 / 0.8)) < 0.01 and abs(scaled.mean() - 1) < 0.01
    images = rng.normal(size=(20, 4, 4, 30)).astype("float32")
    dropped = np.asarray(layers.SpatialDropout2D(0.5, seed=5)(images, training=True))
    zero = np.all(dropped == 0, axis=(1, 2))  # whole maps, per sample and channel
    assert 0.35 < zero.mean() < 0.65
    kept = ~zero
    np.testing.assert_allclose(dropped.transpose(0, 3, 1, 2)[kept],
                               2.0 * images.transpose(0, 3, 1, 2)[kept], rtol=1e-6)
    seq = rng.normal(size=(20, 6, 30)).astype("float32")
    out = np.asarray(layers.SpatialDropout1D(0.5, seed=5)(seq, training=True))
    assert np.array_equal(np.all(out == 0, axis=1), np.any(out == 0, axis=1))


def test_seeded_layers_repeat_their_draws():
    x = np.ones((3, 4), "float32")
    for make in (lambda: layers.GaussianNoise(0.5, seed=7),
                 lambda: layers.GaussianDropout(0.5, seed=7)):
        first, second = make(), make()
        np.testing.assert_array_equal(np.asarray(first(x, training=True)),
                                      np.asarray(second(x, training=True)))


def test_in_a_model_noise_is_active_in_fit_only():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(64, 8, 8, 3)).astype("float32")
    y = rng.normal(size=(64, 2)).astype("float32")
    model = keras.Sequential([
        keras.Input((8, 8, 3)), layers.GaussianNoise(0.1), layers.ZeroPadding2D(1),
        layers.Conv2D(4, 3, activation="relu"), layers.SpatialDropout2D(0.2),
        layers.Cropping2D(1), layers.UpSampling2D(2), layers.GaussianDropout(0.1),
        layers.Permute((3, 1, 2)), layers.Flatten(), layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=2, batch_size=16, verbose=0)
    first = model.predict(x[:4], verbose=0)
    np.testing.assert_array_equal(model.predict(x[:4], verbose=0), first)
    model(x[:4], training=True)  # the noise draws, without error


def test_repeat_vector_in_an_encoder_decoder():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(32, 5, 3)).astype("float32")
    model = keras.Sequential([keras.Input((5, 3)), layers.LSTM(8), layers.RepeatVector(5),
                              layers.LSTM(8, return_sequences=True),
                              layers.TimeDistributed(layers.Dense(3))])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(x, x, epochs=3, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.predict(x[:2], verbose=0).shape == (2, 5, 3)


def test_errors_as_keras():
    with pytest.raises(ValueError, match="`padding` should have two elements"):
        layers.ZeroPadding2D((1, 2, 3))
    with pytest.raises(ValueError, match="`cropping` cannot be negative"):
        layers.Cropping2D(-1)
    with pytest.raises(ValueError, match="Values in `cropping` argument should be smaller"):
        layers.Cropping2D(2)(keras.Input((4, 6, 1)))
    with pytest.raises(ValueError, match="The `size` argument must be a tuple of 2 integers"):
        layers.UpSampling2D((1, 2, 3))
    with pytest.raises(TypeError, match="Expected an integer value for `n`"):
        layers.RepeatVector(2.0)
    with pytest.raises(ValueError, match="Argument `n` should be a positive integer"):
        layers.RepeatVector(0)
    with pytest.raises(ValueError, match="Invalid permutation argument `dims`"):
        layers.Permute((0, 1))
    with pytest.raises(ValueError, match="Invalid value received for argument `stddev`"):
        layers.GaussianNoise(1.5)
    with pytest.raises(ValueError, match="Invalid value received for argument `rate`"):
        layers.GaussianDropout(-0.1)
    with pytest.raises(ValueError, match="expected ndim=4, found ndim=3"):
        layers.ZeroPadding2D()(keras.Input((4, 4)))
