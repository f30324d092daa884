"""Resizing (every interpolation, antialiasing, cropping and padding to the aspect
ratio) and CenterCrop (images smaller than its window) against Keras 3 on TensorFlow:
outputs, configs and the input gradients TensorFlow computes
(tests/fixtures/keras/resizing.*, made by tools/keras_reference/make_resizing_fixtures.py),
plus numerical gradient checks."""

import json
from pathlib import Path

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras"
with open(FIXTURES / "resizing.json", encoding="utf-8") as _f:
    FACTS = json.load(_f)["configs"]


@pytest.fixture(scope="module")
def arrays():
    with np.load(FIXTURES / "resizing.npz", allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def _tolerance(x):
    # TensorFlow sums the weighted pixels in float32 in its own order: a few float32
    # roundings of the largest value involved
    return 1e-5 * max(1.0, float(np.abs(x).max()))


@pytest.mark.parametrize("case", sorted(FACTS))
def test_output_gradient_and_config_match_keras(arrays, case):
    fact = FACTS[case]
    layer = getattr(layers, fact["class_name"])(**fact["kwargs"])
    x = arrays[fact["input"]]
    y = layer(x, training=True)
    assert y.dtype == np.float32
    assert y.shape == arrays[case].shape
    np.testing.assert_allclose(y, arrays[case], rtol=0, atol=_tolerance(arrays[case]))
    if fact["gradient"]:
        dx = layer.backward(arrays[case + ":G"])
        assert dx.shape == x.shape
        expected = arrays[case + ":dx"]
        np.testing.assert_allclose(dx, expected, rtol=0, atol=_tolerance(expected))
    config = {k: v for k, v in layer.get_config().items() if k != "name"}
    assert config == {k: v for k, v in fact["config"].items() if k != "name"}


def test_the_cases_cover_every_interpolation_with_a_gradient():
    """TensorFlow has no gradient for 'area': the numerical checks below cover it."""
    with_gradient = {FACTS[c]["kwargs"].get("interpolation", "bilinear")
                     for c in FACTS if FACTS[c]["gradient"]}
    assert with_gradient == {"bilinear", "nearest", "bicubic", "lanczos3", "lanczos5"}


GRAD_CASES = {
    **{f"{interpolation}_{kind}": (lambda i=interpolation, s=size, a=antialias:
                                   layers.Resizing(*s, interpolation=i, antialias=a))
       for interpolation in ("bilinear", "nearest", "bicubic", "area", "lanczos3",
                             "lanczos5")
       for kind, size, antialias in (("up", (7, 9), False), ("down", (3, 2), False),
                                     ("down_antialias", (2, 3), True))},
    "crop_bicubic": lambda: layers.Resizing(3, 6, "bicubic", crop_to_aspect_ratio=True),
    "pad_area": lambda: layers.Resizing(3, 6, "area", pad_to_aspect_ratio=True,
                                        fill_value=2.0),
    "pad_lanczos3_tall": lambda: layers.Resizing(9, 2, "lanczos3", pad_to_aspect_ratio=True),
    "center_crop_larger": lambda: layers.CenterCrop(7, 6),
    "center_crop_taller": lambda: layers.CenterCrop(6, 2),
    "center_crop_odd": lambda: layers.CenterCrop(3, 1),
}


@pytest.mark.parametrize("case", sorted(GRAD_CASES))
def test_numerical_gradients(gradcheck, helpers, case):
    rng = np.random.default_rng(8)
    x = rng.normal(size=(2, 5, 4, 3))
    helpers.check_layer(gradcheck, GRAD_CASES[case](), x, rng)


def test_pad_fills_with_the_value_and_keeps_the_image():
    image = np.arange(2 * 3 * 1, dtype="float32").reshape(1, 2, 3, 1) + 1
    # 2 x 3 padded to the aspect ratio of 4 x 3 is 4 x 3: one row above and below
    y = layers.Resizing(4, 3, "nearest", pad_to_aspect_ratio=True, fill_value=-1.0)(image)
    np.testing.assert_array_equal(y[0, :, :, 0], [[-1, -1, -1], [1, 2, 3], [4, 5, 6],
                                                  [-1, -1, -1]])


def test_center_crop_of_a_smaller_image_is_the_aspect_crop_resized():
    image = np.random.default_rng(1).normal(size=(6, 5, 2)).astype("float32")
    # 6 x 5 into 8 x 4: the centred 6 x 3 window (the aspect ratio 2:1), resized
    expected = layers.Resizing(8, 4, crop_to_aspect_ratio=True)(image)
    np.testing.assert_array_equal(layers.CenterCrop(8, 4)(image), expected)
    # the same size is the identity
    np.testing.assert_array_equal(layers.CenterCrop(6, 5)(image), image)


# Keras 3.15 on TensorFlow, Resizing(1, 4) of this uint8 row (printed there): integer
# images stay integers, rounded and clipped (bicubic and lanczos undershoot below 0)
_UINT8_ROW = np.array([0, 3, 250, 255, 7, 100], np.uint8).reshape(1, 1, 6, 1)
_KERAS_UINT8 = {"nearest": [0, 250, 255, 100], "bilinear": [1, 188, 193, 77],
                "bicubic": [0, 200, 203, 77], "area": [1, 168, 172, 69],
                "lanczos3": [0, 192, 191, 69], "lanczos5": [0, 189, 188, 69]}


@pytest.mark.parametrize("interpolation", sorted(_KERAS_UINT8))
def test_integer_images_keep_their_dtype_as_keras(interpolation):
    out = layers.Resizing(1, 4, interpolation=interpolation)(_UINT8_ROW)
    assert out.dtype == np.uint8
    np.testing.assert_array_equal(np.asarray(out).ravel(), _KERAS_UINT8[interpolation])


def test_integer_images_are_clipped_to_their_dtype():
    row = np.array([0, 0, 127, -128, 127, 0], np.int8).reshape(1, 1, 6, 1)
    out = np.asarray(layers.Resizing(1, 9, interpolation="lanczos3")(row))
    assert out.dtype == np.int8
    floats = np.asarray(layers.Resizing(1, 9, interpolation="lanczos3")(row.astype("float32")))
    assert floats.max() > 127 or floats.min() < -128  # the case exercises the clip
    np.testing.assert_array_equal(out, np.clip(np.round(floats), -128, 127).astype(np.int8))


def test_float_images_and_models_stay_float():
    assert layers.Resizing(1, 4)(_UINT8_ROW.astype("float64")).dtype == np.float32
    model = keras.Sequential([keras.Input((1, 6, 1)), layers.Resizing(1, 4)])
    assert model.predict(_UINT8_ROW, verbose=0).dtype == np.float32
