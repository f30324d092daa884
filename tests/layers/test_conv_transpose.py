"""Conv2DTranspose against Keras 3 on JAX (tests/fixtures/keras/conv_transpose.json, made
by tools/keras_reference/make_conv_transpose_facts.py): outputs, configs and three SGD
steps; numerical gradient checks of the reference op; a DCGAN-style upsampler trains."""

import json
from pathlib import Path

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers

from .conftest import check_layer

FACTS = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "keras" /
                    "conv_transpose.json").read_text(encoding="utf-8"))


def _data():
    rng = np.random.default_rng(0)
    return (rng.standard_normal((6, 5, 4, 3)).astype("float32"),
            rng.standard_normal((6, 1)).astype("float32"))


def _seeded(shapes, seed):
    rng = np.random.default_rng(seed)
    return [(0.3 * rng.standard_normal(s)).astype("float32") for s in shapes]


@pytest.mark.parametrize("k", range(len(FACTS)), ids=[json.dumps(f["kwargs"]) for f in FACTS])
def test_outputs_configs_and_training_are_keras(k):
    case = FACTS[k]
    x, y = _data()
    layer = layers.Conv2DTranspose(**case["kwargs"])
    model = keras.Sequential([keras.Input((5, 4, 3)), layer, layers.Flatten(), layers.Dense(1)])
    model.set_weights(_seeded([w.shape for w in model.get_weights()], k))
    np.testing.assert_allclose(np.asarray(layer(x[:2])), np.array(case["output"]), rtol=1e-5,
                               atol=1e-5)
    config = {key: (list(v) if isinstance(v, tuple) else v)
              for key, v in layer.get_config().items() if key not in ("name", "dtype")}
    expected = dict(case["config"])
    # Keras 3.15's initializer configs add input_axes / output_axes (None: the default
    # fans, which tinyann computes the same way for this kernel layout)
    expected["kernel_initializer"] = dict(expected["kernel_initializer"], config={
        key: v for key, v in expected["kernel_initializer"]["config"].items()
        if not (key in ("input_axes", "output_axes") and v is None)})
    assert config == expected
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    losses = [model.train_on_batch(x, y) for _ in range(3)]
    # the steps grow some weights into the hundreds: float32 sums in another order differ
    # there in the fifth digit
    np.testing.assert_allclose(losses, case["losses"], rtol=1e-4)
    for got, expected in zip(model.get_weights(), case["weights"]):
        np.testing.assert_allclose(got, np.array(expected), rtol=1e-4, atol=1e-4)


GRADIENT_CASES = {
    "stride1": dict(filters=2, kernel_size=3),
    "same_stride2": dict(filters=2, kernel_size=3, strides=2, padding="same"),
    "output_padding": dict(filters=2, kernel_size=3, strides=2, output_padding=1),
    "dilated_tanh": dict(filters=2, kernel_size=2, dilation_rate=2, activation="tanh"),
    "crop_same_even": dict(filters=1, kernel_size=4, strides=2, padding="same", use_bias=False),
}


@pytest.mark.parametrize("kwargs", GRADIENT_CASES.values(), ids=GRADIENT_CASES.keys())
def test_numerical_gradients(gradcheck, kwargs):
    rng = np.random.default_rng(1)
    layer = layers.Conv2DTranspose(dtype="float64", **kwargs)
    x = rng.normal(size=(2, 3, 4, 2))
    layer.build(x.shape)
    check_layer(gradcheck, layer, x, rng)


def test_errors():
    with pytest.raises(ValueError, match="Strides must be greater than output padding"):
        layers.Conv2DTranspose(2, 3, strides=2, output_padding=2)
    with pytest.raises(ValueError, match="filters"):
        layers.Conv2DTranspose(0, 3)


def test_a_generator_upsamples_and_trains():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((8,)), layers.Dense(7 * 7 * 4, use_bias=False), layers.Reshape((7, 7, 4)),
        layers.Conv2DTranspose(4, 5, strides=1, padding="same", use_bias=False),
        layers.Conv2DTranspose(2, 5, strides=2, padding="same", activation="relu"),
        layers.Conv2DTranspose(1, 5, strides=2, padding="same", activation="tanh")])
    assert model.output_shape == (None, 28, 28, 1)
    rng = np.random.default_rng(0)
    z = rng.standard_normal((32, 8)).astype("float32")
    target = np.tanh(rng.standard_normal((32, 28, 28, 1))).astype("float32") * 0.5
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(z, target, epochs=5, verbose=0).history["loss"]
    assert history[-1] < history[0]
