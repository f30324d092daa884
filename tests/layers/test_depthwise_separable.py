"""DepthwiseConv2D, SeparableConv2D and their 1-D versions: outputs, configs and three SGD
steps against Keras 3 (tests/fixtures/conv_more/, made by
tools/keras_reference/make_conv_more_facts.py), numerical gradient checks, errors, a
Keras .keras file of an Xception-like model, and a tiny SeparableConv2D model that learns."""

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers

from ._conv_more import ARRAYS, FOLDER, cases, check_output_and_config, check_training
from .conftest import check_layer

NAMES = cases("DepthwiseConv2D", "SeparableConv2D", "DepthwiseConv1D", "SeparableConv1D")


def test_the_fixture_covers_every_layer():
    assert {name.split("_")[0] for name in NAMES} == {"dw2d", "sep2d", "dw1d", "sep1d"}


@pytest.mark.parametrize("name", NAMES)
def test_outputs_shapes_and_configs_are_keras(name):
    check_output_and_config(name)


@pytest.mark.parametrize("name", NAMES)
def test_three_sgd_steps_are_keras(name):
    check_training(name)


def _seeded(layer, rng):
    layer.set_weights([rng.normal(0, 0.5, size=w.shape) for w in layer.weights])


GRADIENT_CASES = {
    "dw_same": (layers.DepthwiseConv2D, dict(kernel_size=3, padding="same"), (2, 5, 4, 3)),
    "dw_valid_dm2_tanh": (layers.DepthwiseConv2D, dict(kernel_size=(2, 3), depth_multiplier=2,
                                                       activation="tanh"), (2, 4, 5, 2)),
    "dw_stride2_same": (layers.DepthwiseConv2D, dict(kernel_size=3, strides=2, padding="same",
                                                     use_bias=False), (1, 5, 6, 2)),
    "dw_dilated_dm3": (layers.DepthwiseConv2D, dict(kernel_size=2, dilation_rate=(2, 1),
                                                    depth_multiplier=3), (2, 5, 4, 2)),
    "dw_gelu": (layers.DepthwiseConv2D, dict(kernel_size=2, activation="gelu"), (1, 3, 4, 2)),
    "sep_same": (layers.SeparableConv2D, dict(filters=3, kernel_size=3, padding="same"),
                 (2, 4, 5, 2)),
    "sep_stride2_dm2_sigmoid": (layers.SeparableConv2D, dict(
        filters=2, kernel_size=3, strides=2, depth_multiplier=2, activation="sigmoid"),
        (2, 6, 5, 3)),
    "sep_dilated_nobias": (layers.SeparableConv2D, dict(
        filters=2, kernel_size=2, dilation_rate=2, use_bias=False), (1, 5, 5, 2)),
    "dw1d_same_dm2": (layers.DepthwiseConv1D, dict(kernel_size=3, padding="same",
                                                   depth_multiplier=2), (2, 6, 3)),
    "dw1d_first_stride2": (layers.DepthwiseConv1D, dict(
        kernel_size=2, strides=2, data_format="channels_first"), (2, 3, 7)),
    "sep1d_dilated_tanh": (layers.SeparableConv1D, dict(
        filters=3, kernel_size=2, dilation_rate=2, activation="tanh"), (2, 7, 2)),
    "sep1d_first_same": (layers.SeparableConv1D, dict(
        filters=2, kernel_size=3, padding="same", depth_multiplier=2,
        data_format="channels_first"), (1, 2, 5)),
}


@pytest.mark.parametrize("case", GRADIENT_CASES.values(), ids=GRADIENT_CASES.keys())
def test_numerical_gradients_of_inputs_and_weights(gradcheck, case):
    cls, kwargs, shape = case
    rng = np.random.default_rng(3)
    layer = cls(dtype="float64", **kwargs)
    layer.build(shape)
    _seeded(layer, rng)
    check_layer(gradcheck, layer, rng.normal(size=shape), rng)


def test_without_the_input_gradient_the_weights_still_get_theirs(float64):
    rng = np.random.default_rng(4)
    layer = layers.SeparableConv2D(3, 3, padding="same", dtype="float64")
    x = rng.normal(size=(2, 5, 5, 2))
    layer.build(x.shape)
    g = rng.normal(size=(2, 5, 5, 3))
    layer(x, training=True)
    layer.backward(g.copy())
    expected = [v.grad.copy() for v in layer.trainable_weights]
    layer._needs_input_grad = False
    layer(x, training=True)
    assert layer.backward(g.copy()) is None
    for v, grad in zip(layer.trainable_weights, expected):
        np.testing.assert_allclose(v.grad, grad, rtol=1e-12)


def test_a_depthwise_filter_sees_only_its_own_channel():
    layer = layers.DepthwiseConv2D(1, depth_multiplier=2, use_bias=False)
    layer.build((None, 2, 2, 2))
    layer.set_weights([np.array([[[[1.0, 2.0], [3.0, 4.0]]]], "float32")])
    x = np.zeros((1, 2, 2, 2), "float32")
    x[..., 1] = 1.0  # only the second channel is on
    # channel ch's filters k land at ch * depth_multiplier + k
    np.testing.assert_array_equal(layer(x)[0, 0, 0], [0.0, 0.0, 3.0, 4.0])


def test_weight_shapes_names_and_counts():
    sep = layers.SeparableConv2D(8, 3, depth_multiplier=2)
    sep.build((None, 10, 10, 4))
    assert [(w.name, w.shape) for w in sep.weights] == [
        ("depthwise_kernel", (3, 3, 4, 2)), ("pointwise_kernel", (1, 1, 8, 8)), ("bias", (8,))]
    assert sep.count_params() == 3 * 3 * 4 * 2 + 8 * 8 + 8
    dw = layers.DepthwiseConv1D(5, depth_multiplier=3, use_bias=False)
    dw.build((None, 10, 4))
    assert [(w.name, w.shape) for w in dw.weights] == [("kernel", (5, 4, 3))]


@pytest.mark.parametrize("make, message", [
    (lambda: layers.DepthwiseConv2D(3, depth_multiplier=0), "depth_multiplier"),
    (lambda: layers.SeparableConv2D(4, 3, depth_multiplier=-1), "depth_multiplier"),
    (lambda: layers.SeparableConv2D(0, 3), "filters"),
    (lambda: layers.DepthwiseConv2D((3, 0)), "kernel_size"),
    (lambda: layers.SeparableConv1D(2, 3, strides=0), "strides"),
    (lambda: layers.DepthwiseConv2D(3, padding="full"), "padding"),
    (lambda: layers.DepthwiseConv1D(3, data_format="channels_middle"), "data_format"),
])
def test_bad_arguments_say_what_was_received(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_inputs_say_what_was_expected():
    layer = layers.DepthwiseConv2D(3)
    with pytest.raises(ValueError, match="expected min_ndim=4, found ndim=3"):
        layer(np.zeros((2, 5, 5), "float32"))
    layer(np.zeros((1, 5, 5, 2), "float32"))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 2"):
        layer(np.zeros((1, 5, 5, 3), "float32"))
    with pytest.raises(ValueError, match="Computed output size would be zero or negative"):
        layers.SeparableConv1D(2, 4)(np.zeros((1, 3, 2), "float32"))
    with pytest.raises(NotImplementedError, match="channels_last"):
        layers.SeparableConv2D(2, 3, data_format="channels_first")


def test_keras_xception_file_loads_and_predicts_the_same():
    model = keras.saving.load_model(FOLDER / "xception_tiny.keras")
    kinds = {type(layer).__name__ for layer in model.layers}
    assert {"SeparableConv2D", "DepthwiseConv2D", "BatchNormalization", "Add"} <= kinds
    np.testing.assert_allclose(model.predict(ARRAYS["xception/x"], verbose=0),
                               ARRAYS["xception/prediction"], atol=1e-5)


def test_saved_and_loaded_model_predicts_the_same(tmp_path):
    model = keras.Sequential([keras.Input((6, 6, 2)),
                              layers.SeparableConv2D(3, 3, depth_multiplier=2,
                                                     activation="relu"),
                              layers.DepthwiseConv2D(2, padding="same"), layers.Flatten(),
                              layers.Dense(2)])
    x = np.random.default_rng(5).random((3, 6, 6, 2), dtype=np.float32)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    assert [w.name for w in loaded.weights] == [w.name for w in model.weights]


def _xception_like(size):
    """Deep Learning with Python's chapter 9 convnet, small: SeparableConv2D +
    BatchNormalization blocks with residual Adds."""
    inputs = keras.Input((size, size, 1))
    x = layers.Conv2D(8, 3, use_bias=False)(inputs)
    for filters in (8, 16):
        residual = x
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.SeparableConv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
        residual = layers.Conv2D(filters, 1, strides=2, padding="same", use_bias=False)(residual)
        x = layers.add([x, residual])
    x = layers.GlobalAveragePooling2D()(x)
    outputs = layers.Dense(1, activation="sigmoid")(x)
    return keras.Model(inputs, outputs)


def test_a_tiny_xception_learns_bars_from_columns():
    """Horizontal against vertical bars: the separable blocks must see the orientation."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    size, n = 12, 96
    x = 0.1 * rng.random((n, size, size, 1), dtype=np.float32)
    y = rng.integers(0, 2, n)
    for k in range(n):
        lines = rng.choice(size, 2, replace=False)
        if y[k]:
            x[k, lines, :, 0] += 1.0
        else:
            x[k, :, lines, 0] += 1.0
    model = _xception_like(size)
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=8, batch_size=16, verbose=0).history
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["accuracy"][-1] >= 0.9
