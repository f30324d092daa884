"""Conv3D, the 3-D pooling layers and ZeroPadding3D / Cropping3D / UpSampling3D:
outputs, configs and three SGD steps against Keras 3 (tests/fixtures/conv_more/, made by
tools/keras_reference/make_conv_more_facts.py), numerical gradient checks of the layers
and of the volume ops, errors, and a tiny 3-D convnet that learns."""

import numpy as np
import pytest

import tinyann as keras
from tinyann import kernels, layers

from ._conv_more import FACTS, cases, check_output_and_config, check_training
from .conftest import check_layer, distinct_values

CLASSES = ("Conv3D", "MaxPooling3D", "AveragePooling3D", "GlobalAveragePooling3D",
           "GlobalMaxPooling3D", "UpSampling3D", "ZeroPadding3D", "Cropping3D")
NAMES = cases(*CLASSES)


def test_the_fixture_covers_every_layer():
    assert {FACTS[name]["class_name"] for name in NAMES} == set(CLASSES)


@pytest.mark.parametrize("name", NAMES)
def test_outputs_shapes_and_configs_are_keras(name):
    check_output_and_config(name)


@pytest.mark.parametrize("name", [name for name in NAMES if FACTS[name]["paths"]])
def test_three_sgd_steps_are_keras(name):
    check_training(name)


GRADIENT_CASES = {
    "conv_valid": (layers.Conv3D, dict(filters=2, kernel_size=2), (2, 3, 4, 3, 2)),
    "conv_same_stride2_tanh": (layers.Conv3D, dict(
        filters=2, kernel_size=3, strides=(2, 1, 2), padding="same", activation="tanh"),
        (1, 4, 3, 5, 2)),
    "conv_dilated_first": (layers.Conv3D, dict(
        filters=2, kernel_size=2, dilation_rate=(1, 2, 1), data_format="channels_first",
        use_bias=False), (2, 2, 3, 4, 3)),
    "max_valid": (layers.MaxPooling3D, dict(pool_size=2), (2, 4, 4, 2, 2)),
    "max_same_first": (layers.MaxPooling3D, dict(pool_size=(2, 3, 2), strides=(1, 2, 2),
                                                 padding="same", data_format="channels_first"),
                       (1, 2, 3, 5, 3)),
    "avg_valid_stride1": (layers.AveragePooling3D, dict(pool_size=2, strides=1),
                          (2, 3, 3, 3, 2)),
    "avg_same": (layers.AveragePooling3D, dict(pool_size=(3, 2, 3), strides=2,
                                               padding="same"), (1, 4, 3, 5, 2)),
    "global_avg": (layers.GlobalAveragePooling3D, dict(), (2, 2, 3, 2, 3)),
    "global_avg_first_keepdims": (layers.GlobalAveragePooling3D, dict(
        data_format="channels_first", keepdims=True), (2, 3, 2, 3, 2)),
    "global_max": (layers.GlobalMaxPooling3D, dict(), (2, 2, 3, 2, 3)),
    "up": (layers.UpSampling3D, dict(size=(2, 1, 3)), (2, 2, 3, 2, 2)),
    "pad": (layers.ZeroPadding3D, dict(padding=((1, 0), (0, 2), (1, 1))), (1, 2, 3, 2, 2)),
    "crop_first": (layers.Cropping3D, dict(cropping=((1, 0), (0, 1), (1, 1)),
                                           data_format="channels_first"), (1, 2, 3, 4, 4)),
}


@pytest.mark.parametrize("case", GRADIENT_CASES.values(), ids=GRADIENT_CASES.keys())
def test_numerical_gradients_of_inputs_and_weights(gradcheck, case):
    cls, kwargs, shape = case
    rng = np.random.default_rng(8)
    layer = cls(dtype="float64", **kwargs)
    layer.build(shape)
    layer.set_weights([rng.normal(0, 0.5, size=w.shape) for w in layer.weights])
    # distinct values: no ties nor near ties in the max pooling windows
    check_layer(gradcheck, layer, distinct_values(rng, shape, step=0.1), rng)


def test_max_pooling_gives_a_tie_to_its_first_maximum():
    layer = layers.MaxPooling3D(2)
    x = np.ones((1, 2, 2, 2, 1), "float32")
    layer(x, training=True)
    dx = layer.backward(np.ones((1, 1, 1, 1, 1), "float32"))
    assert dx.sum() == 1.0 and dx[0, 0, 0, 0, 0] == 1.0


def test_the_reference_ops_match_a_direct_loop():
    rng = np.random.default_rng(9)
    x = rng.normal(size=(2, 4, 5, 3, 2))
    kernel = rng.normal(size=(2, 3, 2, 2, 3))
    z, _ = kernels.functions_of("reference")["conv3d_forward"](x, kernel, None, (2, 1, 1),
                                                               "valid", (1, 1, 1))
    assert z.shape == (2, 2, 3, 2, 3)
    for d in range(2):
        for r in range(3):
            for c in range(2):
                patch = x[:, 2 * d:2 * d + 2, r:r + 3, c:c + 2]
                np.testing.assert_allclose(z[:, d, r, c], np.tensordot(patch, kernel, 4),
                                           rtol=1e-12)


@pytest.mark.parametrize("make, message", [
    (lambda: layers.Conv3D(0, 3), "filters"),
    (lambda: layers.Conv3D(2, (3, 3)), "kernel_size"),
    (lambda: layers.Conv3D(2, 3, strides=2, dilation_rate=2), "strides > 1"),
    (lambda: layers.MaxPooling3D(2, padding="full"), "padding"),
    (lambda: layers.ZeroPadding3D((1, 2)), "should have 3 elements"),
    (lambda: layers.Cropping3D("a"), "cropping"),
    (lambda: layers.UpSampling3D((1, 0, 1)), "size"),
])
def test_bad_arguments_say_what_was_received(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_inputs_say_what_was_expected():
    with pytest.raises(ValueError, match="expected min_ndim=5, found ndim=4"):
        layers.Conv3D(2, 2)(np.zeros((1, 3, 3, 3), "float32"))
    with pytest.raises(ValueError, match="Computed output size would be zero or negative"):
        layers.Conv3D(2, 3)(np.zeros((1, 2, 4, 4, 1), "float32"))
    with pytest.raises(ValueError, match="expected ndim=5"):
        layers.GlobalMaxPooling3D()(np.zeros((1, 3, 3, 3), "float32"))
    with pytest.raises(ValueError, match="must be smaller than the input size"):
        layers.Cropping3D(1)(np.zeros((1, 2, 4, 4, 1), "float32"))


def test_a_tiny_volume_convnet_learns():
    """Is the bright blob in the front half or the back half of the volume?"""
    keras.utils.set_random_seed(2)
    rng = np.random.default_rng(2)
    n = 64
    x = 0.1 * rng.random((n, 6, 6, 6, 1), dtype=np.float32)
    y = rng.integers(0, 2, n)
    for k in range(n):
        depth = rng.integers(3, 6) if y[k] else rng.integers(0, 3)
        row, col = rng.integers(0, 5, 2)
        x[k, depth, row:row + 2, col:col + 2, 0] += 1.0
    model = keras.Sequential([
        keras.Input((6, 6, 6, 1)), layers.Conv3D(4, 3, padding="same", activation="relu"),
        layers.MaxPooling3D(2), layers.ZeroPadding3D(1), layers.Cropping3D(1),
        layers.AveragePooling3D(1), layers.UpSampling3D(1), layers.Flatten(),
        layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.02), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(x, y, epochs=20, batch_size=16, verbose=0).history
    assert history["loss"][-1] < 0.5 * history["loss"][0]
    assert history["accuracy"][-1] >= 0.9
