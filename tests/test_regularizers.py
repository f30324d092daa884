"""Regularizers: Keras's penalties, their gradients, errors and lookups."""

import numpy as np
import pytest

from tinyann import regularizers
from tinyann.layers import Dense


@pytest.mark.parametrize("reg, l1, l2", [
    (regularizers.L1(0.3), 0.3, 0.0),
    (regularizers.L2(0.2), 0.0, 0.2),
    (regularizers.L1L2(l1=0.1, l2=0.4), 0.1, 0.4),
])
def test_penalty_and_gradient(gradcheck, reg, l1, l2):
    rng = np.random.default_rng(0)
    w = gradcheck.away_from_zero(rng, (4, 3))
    np.testing.assert_allclose(reg(w), l1 * np.abs(w).sum() + l2 * np.square(w).sum(),
                               rtol=1e-12)
    numeric = gradcheck.numerical_grad(lambda: reg(w), w)
    gradcheck.assert_close(reg.gradient(w), numeric)


def test_keras_defaults():
    assert regularizers.L1().get_config() == {"l1": 0.01}
    assert regularizers.L2().get_config() == {"l2": 0.01}
    assert regularizers.L1L2().get_config() == {"l1": 0.0, "l2": 0.0}
    assert regularizers.L1L2()(np.ones(3)) == 0.0


def test_gradient_keeps_dtype():
    w = np.array([[-1.0, 2.0]], dtype="float32")
    assert regularizers.L1L2(0.1, 0.1).gradient(w).dtype == np.float32


@pytest.mark.parametrize("kwargs, name", [({"l1": -0.1}, "l1"), ({"l2": float("nan")}, "l2")])
def test_invalid_factors(kwargs, name):
    with pytest.raises(ValueError, match=f"Value for argument `{name}` must be a non-negative"):
        regularizers.L1L2(**kwargs)


def test_dense_layer_losses_hold_the_penalties(float64):
    layer = Dense(3, kernel_regularizer=regularizers.L2(0.1),
                  bias_regularizer=regularizers.L1(0.2), bias_initializer="ones")
    layer.build((None, 4))
    kernel, bias = layer.kernel.value, layer.bias.value
    expected = [0.1 * np.square(kernel).sum(), 0.2 * np.abs(bias).sum()]
    np.testing.assert_allclose(layer.losses, expected, rtol=1e-12)


@pytest.mark.parametrize("reg", [regularizers.L1(0.05), regularizers.L2(0.02),
                                 regularizers.L1L2(0.01, 0.03)], ids=lambda r: type(r).__name__)
def test_serialize_deserialize_round_trip(reg):
    config = regularizers.serialize(reg)
    assert config["class_name"] == type(reg).__name__
    for restored in (regularizers.deserialize(config), regularizers.get(config)):
        assert type(restored) is type(reg)
        assert restored.get_config() == reg.get_config()


def test_get_from_strings_and_none():
    assert regularizers.get(None) is None
    assert regularizers.serialize(None) is None
    assert type(regularizers.get("l2")) is regularizers.L2
    assert type(regularizers.get("l1_l2")) is regularizers.L1L2
    assert type(regularizers.deserialize("L1")) is regularizers.L1


def test_dense_config_round_trip_keeps_regularizers():
    layer = Dense(2, kernel_regularizer=regularizers.L2(0.03))
    restored = Dense.from_config(layer.get_config())
    assert isinstance(restored.kernel_regularizer, regularizers.L2)
    assert restored.kernel_regularizer.l2 == pytest.approx(0.03)
    assert restored.bias_regularizer is None


def test_unknown_string_lists_valid_names():
    with pytest.raises(ValueError, match=r"regularizer identifier: 'l3'.*'l1'.*'l2'"):
        regularizers.get("l3")
