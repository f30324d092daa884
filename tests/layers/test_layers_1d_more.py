"""Conv1DTranspose, Cropping1D, ZeroPadding1D and UpSampling1D: outputs, configs and
three SGD steps against Keras 3 (tests/fixtures/conv_more/, made by
tools/keras_reference/make_conv_more_facts.py), numerical gradient checks, errors, and
a sequence autoencoder that learns. (DepthwiseConv1D and SeparableConv1D:
test_depthwise_separable.py.)"""

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers

from ._conv_more import FACTS, cases, check_output_and_config, check_training
from .conftest import check_layer

NAMES = cases("Conv1DTranspose", "Cropping1D", "ZeroPadding1D", "UpSampling1D")


@pytest.mark.parametrize("name", NAMES)
def test_outputs_shapes_and_configs_are_keras(name):
    check_output_and_config(name)


@pytest.mark.parametrize("name", [name for name in NAMES if FACTS[name]["paths"]])
def test_three_sgd_steps_are_keras(name):
    check_training(name)


def test_the_fixture_covers_every_layer():
    assert {FACTS[name]["class_name"] for name in NAMES} == {
        "Conv1DTranspose", "Cropping1D", "ZeroPadding1D", "UpSampling1D"}


GRADIENT_CASES = {
    "convt_valid": (layers.Conv1DTranspose, dict(filters=2, kernel_size=3), (2, 4, 3)),
    "convt_same_stride2_relu": (layers.Conv1DTranspose, dict(
        filters=2, kernel_size=3, strides=2, padding="same", activation="tanh"), (2, 5, 2)),
    "convt_output_padding": (layers.Conv1DTranspose, dict(
        filters=3, kernel_size=4, strides=3, output_padding=2), (1, 4, 2)),
    "convt_dilated_first_gelu": (layers.Conv1DTranspose, dict(
        filters=2, kernel_size=2, dilation_rate=2, data_format="channels_first",
        activation="gelu", use_bias=False), (2, 3, 4)),
    "crop": (layers.Cropping1D, dict(cropping=(2, 1)), (2, 6, 3)),
    "pad": (layers.ZeroPadding1D, dict(padding=(1, 3)), (2, 4, 3)),
    "pad_first": (layers.ZeroPadding1D, dict(padding=2, data_format="channels_first"),
                  (2, 3, 4)),
    "up": (layers.UpSampling1D, dict(size=3), (2, 4, 3)),
}


@pytest.mark.parametrize("case", GRADIENT_CASES.values(), ids=GRADIENT_CASES.keys())
def test_numerical_gradients_of_inputs_and_weights(gradcheck, case):
    cls, kwargs, shape = case
    rng = np.random.default_rng(7)
    layer = cls(dtype="float64", **kwargs)
    layer.build(shape)
    layer.set_weights([rng.normal(0, 0.5, size=w.shape) for w in layer.weights])
    check_layer(gradcheck, layer, rng.normal(size=shape), rng)


def test_hand_worked_values():
    x = np.arange(6, dtype="float32").reshape(1, 3, 2)
    np.testing.assert_array_equal(layers.UpSampling1D(2)(x)[0, :, 0], [0, 0, 2, 2, 4, 4])
    np.testing.assert_array_equal(layers.Cropping1D((1, 1))(x), x[:, 1:2])
    np.testing.assert_array_equal(layers.ZeroPadding1D((0, 2))(x)[0, :, 1], [1, 3, 5, 0, 0])
    convt = layers.Conv1DTranspose(1, 2, strides=2, use_bias=False)
    convt.build((None, 3, 1))
    convt.set_weights([np.array([[[1.0]], [[10.0]]], "float32")])
    # each step spreads into two: x * 1 then x * 10
    np.testing.assert_array_equal(convt(x[..., :1])[0, :, 0], [0, 0, 2, 20, 4, 40])


@pytest.mark.parametrize("make, error, message", [
    (lambda: layers.UpSampling1D(1.5), TypeError, "Expected an integer value for `size`"),
    (lambda: layers.UpSampling1D(0), ValueError, "positive integer"),
    (lambda: layers.Cropping1D((1, 2, 3)), ValueError, "cropping"),
    (lambda: layers.ZeroPadding1D(-1), ValueError, "padding"),
    (lambda: layers.ZeroPadding1D(1, data_format="channels_middle"), ValueError,
     "data_format"),
    (lambda: layers.Conv1DTranspose(2, 3, strides=2, output_padding=2), ValueError,
     "Strides must be greater than output padding"),
    (lambda: layers.Conv1DTranspose(0, 3), ValueError, "filters"),
])
def test_bad_arguments_say_what_was_received(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_bad_inputs_say_what_was_expected():
    with pytest.raises(ValueError, match="must be smaller than the input size"):
        layers.Cropping1D((2, 2))(np.zeros((1, 4, 2), "float32"))
    with pytest.raises(ValueError, match="expected ndim=3, found ndim=4"):
        layers.UpSampling1D()(np.zeros((1, 4, 2, 1), "float32"))
    convt = layers.Conv1DTranspose(2, 3)
    convt(np.zeros((1, 4, 2), "float32"))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 2"):
        convt(np.zeros((1, 4, 3), "float32"))


def test_a_sequence_autoencoder_learns():
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    steps = np.linspace(0, 2 * np.pi, 16)
    x = np.sin(steps[None, :] * rng.uniform(0.5, 1.5, (64, 1)) + rng.uniform(0, 3, (64, 1)))
    x = x[..., None].astype("float32")
    model = keras.Sequential([
        keras.Input((16, 1)), layers.ZeroPadding1D(1), layers.Conv1D(8, 3, activation="tanh"),
        layers.MaxPooling1D(2), layers.SeparableConv1D(8, 3, padding="same", activation="tanh"),
        layers.MaxPooling1D(2),
        layers.Conv1DTranspose(8, 3, strides=2, padding="same", activation="tanh"),
        layers.UpSampling1D(2), layers.Cropping1D((2, 2)),
        layers.ZeroPadding1D((2, 2)), layers.Conv1D(1, 3, padding="same")])
    assert model.output_shape == (None, 16, 1)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="mse")
    history = model.fit(x, x, epochs=15, batch_size=16, verbose=0).history["loss"]
    assert history[-1] < 0.3 * history[0]
