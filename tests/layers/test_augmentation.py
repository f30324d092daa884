"""RandomFlip, RandomContrast, RandomRotation, RandomTranslation and RandomZoom:
training-only, seeded, what they do to images
(TensorFlow's random streams cannot be matched, so properties are tested), gradients."""

from pathlib import Path

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras"


def _images(n=64, rows=5, cols=6, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, size=(n, rows, cols, 3)).astype("float32")


@pytest.mark.parametrize("mode", ["horizontal", "vertical", "horizontal_and_vertical"])
def test_flips_are_flips_about_half_the_time(mode):
    x = _images(400)
    y = layers.RandomFlip(mode, seed=1)(x)  # a direct call trains, as in Keras
    kinds = []
    for a, b in zip(x, y):
        options = {"none": a, "horizontal": a[:, ::-1], "vertical": a[::-1],
                   "both": a[::-1, ::-1]}
        found = [k for k, v in options.items() if np.array_equal(v, b)]
        assert len(found) == 1
        kinds.append(found[0])
    allowed = {"horizontal": {"none", "horizontal"}, "vertical": {"none", "vertical"},
               "horizontal_and_vertical": {"none", "horizontal", "vertical", "both"}}[mode]
    assert set(kinds) == allowed
    # each flip with probability 1/2: 400 draws keep every share within 4 sigma
    share = sum(k != "none" for k in kinds) / len(kinds)
    expected = 0.75 if mode == "horizontal_and_vertical" else 0.5
    assert abs(share - expected) < 4 * np.sqrt(expected * (1 - expected) / len(kinds))


@pytest.mark.parametrize("make", [lambda: layers.RandomFlip(seed=2),
                                  lambda: layers.RandomContrast(0.5, seed=2),
                                  lambda: layers.RandomRotation(0.3, seed=2),
                                  lambda: layers.RandomTranslation(0.3, 0.3, seed=2),
                                  lambda: layers.RandomZoom(0.3, seed=2)])
def test_identity_at_inference_and_in_predict(make):
    x = _images(8)
    layer = make()
    np.testing.assert_array_equal(layer(x, training=False), x)
    model = keras.Sequential([keras.Input((5, 6, 3)), layer])
    np.testing.assert_array_equal(model.predict(x, verbose=0), x)
    assert not np.array_equal(layer(x, training=True), x)


def test_seeds_reproduce():
    x = _images(16)
    a = layers.RandomFlip(seed=5)(x)
    b = layers.RandomFlip(seed=5)(x)
    np.testing.assert_array_equal(a, b)
    keras.utils.set_random_seed(11)
    c = layers.RandomContrast(0.4)(x)
    keras.utils.set_random_seed(11)
    d = layers.RandomContrast(0.4)(x)
    np.testing.assert_array_equal(c, d)


def test_contrast_scales_distance_to_the_mean_within_the_range():
    x = _images(200, seed=3)
    y = layers.RandomContrast((0.1, 0.3), seed=4, value_range=(-1e6, 1e6))(x)
    x, y = x.astype("float64"), y.astype("float64")
    mean = x.mean(axis=(1, 2), keepdims=True)
    # one factor per image, shared by its channels and pixels: least squares, then the fit
    d = x - mean
    factor = (np.sum((y - mean) * d, axis=(1, 2, 3)) / np.sum(d * d, axis=(1, 2, 3)))
    np.testing.assert_allclose(y, mean + factor[:, None, None, None] * d, atol=1e-3)
    per_image = factor[:, None]
    assert per_image.min() >= 0.9 - 1e-4 and per_image.max() <= 1.3 + 1e-4
    assert per_image[:, 0].max() - per_image[:, 0].min() > 0.2  # spread over the range


def test_contrast_clips_to_value_range_and_factor_zero_is_keras_identity():
    with np.load(FIXTURES / "image_layers.npz", allow_pickle=False) as data:
        image, expected = data["image"], data["random_contrast_zero_training"]
    np.testing.assert_allclose(layers.RandomContrast(0.0)(image), expected, rtol=1e-6)
    y = layers.RandomContrast((1.0, 1.0), seed=0)(_images(20))
    assert y.min() >= 0 and y.max() <= 255


def test_bad_arguments():
    with pytest.raises(ValueError, match="unknown mode argument 'diagonal'"):
        layers.RandomFlip("diagonal")
    with pytest.raises(ValueError, match="rank 3 or 4"):
        layers.RandomFlip()(np.zeros((4, 4)))
    # RandomContrast's factor errors: test_activation_layers.py, against Keras's messages


@pytest.mark.parametrize("make", [
    lambda: layers.RandomFlip(seed=3),
    lambda: layers.RandomContrast((0.2, 0.6), seed=3, value_range=(-1e3, 1e3)),
    lambda: layers.RandomRotation(0.2, seed=3),
    lambda: layers.RandomRotation(0.4, seed=3, fill_mode="constant", fill_value=2.0),
    lambda: layers.RandomRotation(0.3, seed=3, fill_mode="wrap"),
    lambda: layers.RandomRotation(0.3, seed=3, fill_mode="nearest", interpolation="nearest"),
    lambda: layers.RandomTranslation(0.3, (-0.2, 0.4), seed=3, fill_mode="constant"),
    lambda: layers.RandomZoom((-0.5, 0.5), width_factor=0.2, seed=3),
], ids=["flip", "contrast", "rotation", "rotation_constant", "rotation_wrap",
        "rotation_nearest", "translation", "zoom"])
def test_gradients(gradcheck, helpers, make):
    rng = np.random.default_rng(6)
    x = rng.normal(size=(4, 3, 5, 2))

    class Replay:
        """The layer with its generator reset before each call: the same draw, so the
        numerical derivative sees the same function."""

        def __init__(self, layer):
            self.layer, self.trainable_weights = layer, []

        def __call__(self, inputs, training=True):
            self.layer._rng = np.random.default_rng(3)
            return self.layer(inputs, training=training)

        def backward(self, g):
            return self.layer.backward(g)

    helpers.check_layer(gradcheck, Replay(make()), x, rng)


def test_single_image_and_saving(tmp_path):
    image = _images(1)[0]
    flipped = layers.RandomFlip("horizontal", seed=0)
    outs = {flipped(image).tobytes() for _ in range(20)}
    assert outs == {image.tobytes(), image[:, ::-1].copy().tobytes()}
    model = keras.Sequential([keras.Input((5, 6, 3)), layers.RandomFlip("vertical", seed=4),
                              layers.RandomRotation(0.1, fill_mode="constant", seed=1),
                              layers.RandomTranslation((-0.1, 0.2), 0.1, seed=2),
                              layers.RandomZoom(0.2, width_factor=(0.1, 0.3), seed=5),
                              layers.RandomContrast((0.1, 0.2), seed=9), layers.Flatten(),
                              layers.Dense(2)])
    for suffix in (".keras", ".h5"):
        model.save(tmp_path / f"m{suffix}")
        loaded = keras.models.load_model(tmp_path / f"m{suffix}")
        for a, b in zip(loaded.layers, model.layers):
            assert a.get_config() == b.get_config()
        x = _images(3)
        np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                                   rtol=1e-6)


def test_fit_runs_the_augmentation():
    x = _images(32) / 255
    y = (x.mean(axis=(1, 2, 3)) > 0.5).astype("int64")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((5, 6, 3)), layers.RandomFlip(),
                              layers.RandomContrast(0.2, value_range=(0, 1)), layers.Flatten(),
                              layers.Dense(2, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=3, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))


def test_rotation_by_the_sampled_angle():
    # a quarter turn of a square image is exact: counter-clockwise, as np.rot90
    x = _images(3, rows=5, cols=5)
    y = layers.RandomRotation((0.25, 0.25))(x)
    np.testing.assert_allclose(y, np.rot90(x, k=1, axes=(1, 2)), atol=1e-3)
    # a random angle within the range: the centre pixel stays (odd size), and the
    # sampled angles spread over [-f, f]
    layer = layers.RandomRotation(0.1, seed=0)
    transforms = layer._transforms(500, 5, 5)  # rows [cos, -sin, ., sin, cos, ...]
    angles = np.degrees(np.arctan2(transforms[:, 3], transforms[:, 0]))
    assert angles.min() < -30 and angles.max() > 30 and np.abs(angles).max() <= 36 + 1e-6
    np.testing.assert_allclose(layer(x)[:, 2, 2], x[:, 2, 2], rtol=1e-5)


def test_rotation_fill_modes_differ_only_outside():
    x = _images(1, rows=6, cols=6)
    constant = layers.RandomRotation((0.125, 0.125), fill_mode="constant", fill_value=-7.0)(x)
    reflect = layers.RandomRotation((0.125, 0.125))(x)
    corners = constant[0, [0, 0, -1, -1], [0, -1, 0, -1]]
    np.testing.assert_allclose(corners, -7.0)  # the corners read from outside
    assert np.all(reflect[0, [0, 0, -1, -1], [0, -1, 0, -1]] >= 0)
    np.testing.assert_allclose(constant[0, 2:4, 2:4], reflect[0, 2:4, 2:4], rtol=1e-6)
    with pytest.raises(ValueError, match="fill_mode"):
        layers.RandomRotation(0.1, fill_mode="mirror")
    with pytest.raises(ValueError, match="interpolation"):
        layers.RandomRotation(0.1, interpolation="bicubic")
    with pytest.raises(ValueError, match=r"range \[-1, 1\]"):
        layers.RandomRotation(1.5)


def test_translation_by_whole_pixels_is_a_shift():
    x = _images(2, rows=5, cols=10)
    # 0.2 of 5 rows down, -0.3 of 10 columns (left): whole pixels, no interpolation
    y = layers.RandomTranslation((0.2, 0.2), (-0.3, -0.3), fill_mode="constant",
                                 fill_value=-1.0)(x)
    np.testing.assert_allclose(y[:, 1:, :7], x[:, :4, 3:], atol=1e-4)
    np.testing.assert_allclose(y[:, 0], -1.0)
    np.testing.assert_allclose(y[:, :, 7:], -1.0)


def test_zoom_keeps_the_centre_and_width_follows_height():
    x = _images(4, rows=7, cols=7)
    layer = layers.RandomZoom((-0.5, 0.5), seed=1)
    transforms = layer._transforms(200, 7, 7)
    np.testing.assert_array_equal(transforms[:, 0], transforms[:, 4])  # one zoom, both axes
    assert transforms[:, 0].min() >= 0.5 and transforms[:, 0].max() <= 1.5
    np.testing.assert_allclose(layer(x)[:, 3, 3], x[:, 3, 3], rtol=1e-5)
    # zooming in by 2 about the centre: output (r, c) reads input (3 + (r - 3) / 2, ...)
    y = layers.RandomZoom((-0.5, -0.5), interpolation="nearest")(x)
    np.testing.assert_allclose(y[:, 3, 3], x[:, 3, 3])
    with pytest.raises(ValueError, match="height_factor"):
        layers.RandomZoom((-1.5, 0.2))
    with pytest.raises(ValueError, match="width_factor"):
        layers.RandomTranslation(0.1, "wide")


@pytest.mark.parametrize("make", [lambda: layers.RandomFlip(seed=1),
                                  lambda: layers.RandomContrast(0.5, seed=1),
                                  lambda: layers.RandomRotation(0.2, seed=1),
                                  lambda: layers.RandomTranslation(0.2, 0.2, seed=1),
                                  lambda: layers.RandomZoom(0.3, seed=1)])
def test_frozen_calls_are_the_identity(make):
    """``layer(x, training=False)`` inside a training step: no augmentation, and the
    gradient passes through unchanged."""
    x = _images(4)
    layer = make()
    layer(x, training=True)
    np.testing.assert_array_equal(layer._frozen_call(x), x)
    g = np.ones_like(x)
    np.testing.assert_array_equal(layer.backward(g), g)


def test_fit_augments_and_predict_does_not():
    seen = []

    class Spy(keras.layers.Layer):
        """Records what reaches it; the identity both ways."""

        def call(self, x, training=False):
            seen.append(np.array(x))
            return x

        def backward(self, g):
            return g

    x = _images(8) / 255
    model = keras.Sequential([keras.Input((5, 6, 3)), layers.RandomFlip(seed=1), Spy(),
                              layers.Flatten(), layers.Dense(1)])
    model.compile("sgd", "mse")
    model.fit(x, np.zeros((8, 1)), epochs=1, batch_size=8, verbose=0, shuffle=False)
    assert not np.array_equal(seen[-1], x)
    model.predict(x, verbose=0)
    np.testing.assert_array_equal(seen[-1], x)
