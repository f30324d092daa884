"""Softmax, ReLU, LeakyReLU, Rescaling, Resizing and CenterCrop against real Keras's outputs,
configs and errors (tests/fixtures/keras/image_layers.*), plus gradients and saving."""

import builtins
import json
from pathlib import Path

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras"
with open(FIXTURES / "image_layers.json", encoding="utf-8") as _f:
    FACTS = json.load(_f)


@pytest.fixture(scope="module")
def arrays():
    with np.load(FIXTURES / "image_layers.npz", allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def _without_name(config):
    return {k: v for k, v in config.items() if k != "name"}


def _one_point_factors(config):
    """Whether every random factor of a layer's config is a range of one point
    (``width_factor=None`` of RandomZoom follows the height)."""
    factors = [config[k] for k in ("factor", "height_factor", "width_factor")
               if config.get(k) is not None]
    return bool(factors) and all(isinstance(f, list) and f[0] == f[1] for f in factors)


@pytest.mark.parametrize("case", sorted(FACTS["configs"]))
def test_output_and_config_match_keras(arrays, case):
    fact = FACTS["configs"][case]
    layer = getattr(layers, fact["class_name"])(**fact["kwargs"])
    if case.startswith("random") and not _one_point_factors(fact["config"]):
        # a direct call trains, so the output is random (unless the factor's range is
        # one point): the config is the fact here
        # (tests/layers/test_augmentation.py checks what the random layers do)
        assert _without_name(layer.get_config()) == _without_name(fact["config"])
        return
    y = layer(arrays[fact["input"]])
    assert y.dtype == np.float32
    assert y.shape == arrays[case].shape
    # resizing sums its weighted pixels in another order than TensorFlow (float32)
    rtol = 1e-5 if case.startswith("resize") else 1e-6
    # a rotation's sampling points carry float32 sin/cos rounding in TensorFlow
    atol = 1e-3 if case.startswith("random_") else 1e-7
    np.testing.assert_allclose(y, arrays[case], rtol=rtol, atol=atol)
    assert _without_name(layer.get_config()) == _without_name(fact["config"])
    # and the config rebuilds an equal layer
    again = type(layer).from_config(layer.get_config())
    np.testing.assert_allclose(again(arrays[fact["input"]]), y)


@pytest.mark.parametrize("case", sorted(FACTS["errors"]))
def test_bad_arguments_raise_keras_errors(case):
    fact = FACTS["errors"][case]
    cls = getattr(layers, fact["class_name"])
    # the script passed tuples, which JSON kept as lists
    kwargs = {k: tuple(v) if isinstance(v, list) else v for k, v in fact["kwargs"].items()}
    with pytest.raises(getattr(builtins, fact["type"])) as info:
        cls(**kwargs)
    assert type(info.value).__name__ == fact["type"]
    assert str(info.value) == fact["message"]


def test_leaky_relu_accepts_alpha_with_keras_warning():
    fact = FACTS["leaky_relu_alpha"]
    with pytest.warns(UserWarning) as caught:
        layer = layers.LeakyReLU(alpha=0.2)
    assert [str(w.message) for w in caught] == fact["warnings"]
    assert _without_name(layer.get_config()) == _without_name(fact["config"])


def _away_from_kinks(rng, shape, kinks):
    """Random values at least 0.05 from every point where the function bends."""
    x = rng.uniform(-3, 8, size=shape)
    for k in kinks:
        near = np.abs(x - k) < 0.05
        x[near] = k + 0.1
    return x


GRAD_CASES = {
    "softmax": (lambda: layers.Softmax(), ()),
    "softmax_axis1": (lambda: layers.Softmax(axis=1), ()),
    "softmax_axes": (lambda: layers.Softmax(axis=(1, 2)), ()),
    "relu": (lambda: layers.ReLU(), (0.0,)),
    "relu_all": (lambda: layers.ReLU(max_value=1.5, negative_slope=0.1, threshold=0.5),
                 (0.5, 1.5)),
    "leaky_relu": (lambda: layers.LeakyReLU(), (0.0,)),
    "rescaling": (lambda: layers.Rescaling(0.5, offset=-1.0), ()),
    "center_crop": (lambda: layers.CenterCrop(2, 3), ()),
    "resize_up_bilinear": (lambda: layers.Resizing(7, 9), ()),
    "resize_down_bilinear": (lambda: layers.Resizing(3, 2), ()),
    "resize_nearest": (lambda: layers.Resizing(7, 3, interpolation="nearest"), ()),
    "resize_crop": (lambda: layers.Resizing(3, 6, crop_to_aspect_ratio=True), ()),
}


@pytest.mark.parametrize("case", sorted(GRAD_CASES))
def test_gradients(gradcheck, helpers, case):
    rng = np.random.default_rng(5)
    make, kinks = GRAD_CASES[case]
    x = _away_from_kinks(rng, (2, 5, 4, 3), kinks)
    layer = make()
    helpers.check_layer(gradcheck, layer, x, rng)


def test_relu_values_at_the_switch_points():
    layer = layers.ReLU(max_value=2.0, negative_slope=0.5, threshold=1.0)
    x = np.array([[-1.0, 0.0, 1.0, 1.5, 2.0, 3.0]], "float32")
    np.testing.assert_array_equal(layer(x), [[-1.0, -0.5, 0.0, 1.5, 2.0, 2.0]])


def test_center_crop_rejects_wrong_ranks():
    with pytest.raises(ValueError, match="rank 3 or 4"):
        layers.CenterCrop(1, 1)(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="channels_last"):
        layers.CenterCrop(1, 1, data_format="channels_first")


def test_center_crop_single_image_and_symbolic_shape():
    image = np.arange(5 * 6 * 2, dtype="float32").reshape(5, 6, 2)
    np.testing.assert_array_equal(layers.CenterCrop(3, 2)(image), image[1:4, 2:4])
    out = layers.CenterCrop(3, 2)(keras.Input((5, 6, 2)))
    assert tuple(out.shape) == (None, 3, 2, 2)


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_model_with_the_layers_saves_and_loads(tmp_path, suffix):
    model = keras.Sequential([
        keras.Input((6, 6, 3)),
        layers.Rescaling(1 / 255.0, offset=0.1),
        layers.Resizing(8, 7, interpolation="nearest"),
        layers.CenterCrop(4, 4),
        layers.Conv2D(2, 3),
        layers.ReLU(max_value=6.0, threshold=0.01),
        layers.LeakyReLU(negative_slope=0.2),
        layers.Flatten(),
        layers.Dense(3),
        layers.Softmax(),
    ])
    x = np.random.default_rng(0).uniform(0, 255, size=(4, 6, 6, 3)).astype("float32")
    path = tmp_path / f"m{suffix}"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert [type(layer).__name__ for layer in loaded.layers] == [
        type(layer).__name__ for layer in model.layers]
    for a, b in zip(loaded.layers, model.layers):
        assert a.get_config() == b.get_config()
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


def test_layers_train_in_a_model():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 8)).astype("float32")
    y = (x[:, 0] > 0).astype("int64")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8,)), layers.Rescaling(2.0), layers.Dense(8),
                              layers.LeakyReLU(), layers.Dense(2), layers.Softmax()])
    model.compile("adam", "sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=15, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_resizing_single_image_symbolic_shape_and_errors():
    image = np.random.default_rng(3).normal(size=(5, 6, 2)).astype("float32")
    batch = layers.Resizing(4, 9)(image[None])
    np.testing.assert_allclose(layers.Resizing(4, 9)(image), batch[0])
    assert tuple(layers.Resizing(4, 9)(keras.Input((5, 6, 2))).shape) == (None, 4, 9, 2)
    # the same size is the identity
    np.testing.assert_allclose(layers.Resizing(5, 6)(image), image, rtol=1e-6)
    with pytest.raises(ValueError, match="Received: interpolation='cubic'"):
        layers.Resizing(2, 2, interpolation="cubic")
    with pytest.raises(ValueError, match="Only `'constant'` is supported. Received: "
                       "fill_mode=reflect"):
        layers.Resizing(2, 2, pad_to_aspect_ratio=True, fill_mode="reflect")
    with pytest.raises(ValueError, match="Only one of"):
        layers.Resizing(2, 2, pad_to_aspect_ratio=True, crop_to_aspect_ratio=True)
    with pytest.raises(ValueError, match="rank 3 or 4"):
        layers.Resizing(2, 2)(np.zeros((4, 4)))
