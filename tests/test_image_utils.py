"""keras.utils.load_img / img_to_array / array_to_img / save_img against Keras 3's
answers (tests/fixtures/keras/image_utils.json, made by
tools/keras_reference/make_image_utils_facts.py), and their errors."""

import io
import json
from pathlib import Path

import numpy as np
import pytest

import tinyann as keras

pytest.importorskip("PIL")
FIXTURE = Path(__file__).parent / "fixtures" / "keras" / "image_utils.json"


def test_every_case_is_keras(keras_maker):
    expected = json.loads(FIXTURE.read_text(encoding="utf-8"))
    got = json.loads(json.dumps(keras_maker("make_image_utils_facts.py").facts(keras.utils)))
    assert got.keys() == expected.keys()
    for key in expected:
        assert got[key] == expected[key], key


def test_the_tutorial_pattern_predicts_on_a_photo(tmp_path):
    from PIL import Image

    path = tmp_path / "photo.jpg"
    Image.fromarray((np.random.default_rng(0).random((90, 120, 3)) * 255).astype("uint8")
                    ).save(path)
    img = keras.preprocessing.image.load_img(path, target_size=(28, 28),
                                             color_mode="grayscale")
    batch = keras.utils.img_to_array(img)[None] / 255.0
    assert batch.shape == (1, 28, 28, 1) and batch.dtype == np.float32
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Flatten(),
                              keras.layers.Dense(10, activation="softmax")])
    assert model.predict(batch, verbose=0).shape == (1, 10)


def test_save_img_round_trip_and_formats(tmp_path):
    x = np.random.default_rng(0).random((8, 9, 3)) * 255
    keras.utils.save_img(tmp_path / "a.png", x, scale=False)
    back = keras.utils.img_to_array(keras.utils.load_img(tmp_path / "a.png"))
    np.testing.assert_array_equal(back, x.astype("uint8"))
    with pytest.warns(UserWarning, match="RGBA"):
        keras.utils.save_img(tmp_path / "b.jpg", np.zeros((4, 4, 4)))
    assert keras.utils.load_img(tmp_path / "b.jpg").size == (4, 4)
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_errors_say_what_was_expected():
    with pytest.raises(ValueError, match='color_mode must be "grayscale", "rgb", or "rgba"'):
        keras.utils.load_img(io.BytesIO(_png()), color_mode="cmyk")
    with pytest.raises(ValueError, match="Invalid interpolation method"):
        keras.utils.load_img(io.BytesIO(_png()), target_size=(2, 2), interpolation="cubic")
    with pytest.raises(TypeError, match="path-like"):
        keras.utils.load_img(3)
    with pytest.raises(ValueError, match="rank 3"):
        keras.utils.array_to_img(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="Unsupported channel number: 2"):
        keras.utils.array_to_img(np.zeros((2, 2, 2)))
    with pytest.raises(ValueError, match="Unsupported image shape"):
        keras.utils.img_to_array(np.zeros((2, 2, 2, 2)))


def test_channels_first():
    x = keras.utils.img_to_array(np.zeros((3, 5), "uint8"), data_format="channels_first")
    assert x.shape == (1, 3, 5)
    image = keras.utils.array_to_img(np.zeros((3, 4, 5)), data_format="channels_first")
    assert image.size == (5, 4)


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.zeros((3, 3, 3), "uint8")).save(buf, "PNG")
    return buf.getvalue()
