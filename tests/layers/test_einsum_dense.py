"""EinsumDense: shapes from the equation, Keras's errors, config, numerical gradients."""

from __future__ import annotations

import numpy as np
import pytest

import tinyann as keras
from tinyann.layers.einsum_dense import analyze_equation


@pytest.mark.parametrize("equation,output_shape,bias_axes,in_shape,kernel,bias,out", [
    ("ab,bc->ac", 4, "c", (2, 3), (3, 4), (4,), (2, 4)),
    ("abc,cde->abde", (5, 2, 3), "de", (2, 5, 8), (8, 2, 3), (2, 3), (2, 5, 2, 3)),
    ("abcd,cde->abe", (5, 8), "e", (2, 5, 2, 3), (2, 3, 8), (8,), (2, 5, 8)),
    ("...b,bc->...c", 4, "c", (2, 5, 3), (3, 4), (4,), (2, 5, 4)),
    ("abc,cd->abd", (None, 4), "b", (2, 5, 3), (3, 4), (5, 1), (2, 5, 4)),
    ("ab...,bc->ac...", 4, "c", (2, 3, 6), (3, 4), (4, 1), (2, 4, 6)),
])
def test_shapes_follow_the_equation(equation, output_shape, bias_axes, in_shape, kernel,
                                    bias, out):
    layer = keras.layers.EinsumDense(equation, output_shape, bias_axes=bias_axes)
    y = layer(np.ones(in_shape, "float32"))
    assert layer.kernel.shape == kernel and layer.bias.shape == bias
    assert tuple(y.shape) == out == layer.compute_output_shape(in_shape)


def test_value_is_einsum_plus_bias_then_activation():
    rng = np.random.default_rng(0)
    layer = keras.layers.EinsumDense("abc,cde->abde", (5, 2, 3), bias_axes="de",
                                     activation="relu")
    x = rng.normal(size=(2, 5, 4)).astype("float32")
    layer.build(x.shape)
    k, b = rng.normal(size=(4, 2, 3)), rng.normal(size=(2, 3))
    layer.set_weights([k, b])
    want = np.maximum(np.einsum("abc,cde->abde", x, k) + b, 0)
    np.testing.assert_allclose(np.asarray(layer(x)), want, rtol=1e-5, atol=1e-6)


def test_initializer_fans_are_the_projection_sizes():
    # glorot over fan_in 64, fan_out 2 * 32 (Keras's input_axes / output_axes), not the
    # last two axes: the limit sqrt(6 / (64 + 64))
    layer = keras.layers.EinsumDense("abc,cde->abde", (5, 2, 32), bias_axes="de")
    layer.build((None, 5, 64))
    limit = np.sqrt(6.0 / 128)
    k = layer.kernel.numpy()
    assert np.abs(k).max() <= limit and np.abs(k).max() > 0.8 * limit


@pytest.mark.parametrize("equation,output_shape,bias_axes,message", [
    ("ab,bc->ac->d", 4, None, "Invalid einsum equation"),
    ("abc,cd->abde", (5, 4, 3), None, "Dimension 'e'"),
    ("abc,cd->abd", (5, 4), "z", "Bias dimension 'z'"),
    ("abc,bd->abd", (7, 4), None, "do not match at shared dimension 'b'"),
    ("abc,cd->abd", 4, None, "expected 2 sizes"),
    ("ab,bc->ac", 4, None, "expects inputs of rank 2"),
])
def test_bad_equations_say_what_is_wrong(equation, output_shape, bias_axes, message):
    with pytest.raises(ValueError, match=message):
        keras.layers.EinsumDense(equation, output_shape, bias_axes=bias_axes).build((2, 5, 3))


def test_equation_must_be_a_string():
    with pytest.raises(ValueError, match="Invalid einsum equation"):
        keras.layers.EinsumDense(3, 4)


def test_config_round_trip_matches_keras_keys():
    layer = keras.layers.EinsumDense("abc,cde->abde", (5, 2, 3), bias_axes="de",
                                     activation="tanh", name="proj")
    config = layer.get_config()
    assert config["output_shape"] == (5, 2, 3) and config["equation"] == "abc,cde->abde"
    assert list(config)[3:7] == ["output_shape", "equation", "activation", "bias_axes"]
    again = keras.layers.EinsumDense.from_config(config)
    assert again.get_config() == config


def test_analyze_gives_the_kernel_axes_roles():
    kernel, bias, full, ins, outs = analyze_equation("abcd,cde->abe", "e", (2, 5, 2, 3), (5, 8))
    assert (kernel, bias, full, ins, outs) == ((2, 3, 8), (8,), (2, 5, 8), [0, 1], [2])


@pytest.mark.parametrize("equation,output_shape,bias_axes,in_shape,activation", [
    ("abc,cde->abde", (3, 2, 2), "de", (2, 3, 4), "tanh"),
    ("abcd,cde->abe", (3, 4), "e", (2, 3, 2, 2), None),
    ("...b,bc->...c", 3, "c", (2, 3, 4), "sigmoid"),
    ("abc,cd->abd", (None, 3), "b", (2, 4, 3), None),
    ("abc,d->abd", (None, 3), None, (2, 2, 3), None),   # an input axis summed away
])
def test_numerical_gradients(gradcheck, helpers, equation, output_shape, bias_axes,
                             in_shape, activation):
    rng = np.random.default_rng(1)
    layer = keras.layers.EinsumDense(equation, output_shape, bias_axes=bias_axes,
                                     activation=activation, bias_initializer="random_normal")
    x = rng.normal(size=in_shape)
    layer.build(x.shape)
    helpers.check_layer(gradcheck, layer, x, rng)


def test_trains_under_fit():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(64, 3, 4)).astype("float32")
    y = np.einsum("abc,cd->abd", x, rng.normal(size=(4, 2))).astype("float32")
    model = keras.Sequential([keras.Input((3, 4)),
                              keras.layers.EinsumDense("abc,cd->abd", (3, 2), bias_axes="d")])
    model.compile("adam", "mse")
    model.optimizer.learning_rate = 0.05
    history = model.fit(x, y, epochs=30, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.05 * history.history["loss"][0]


@pytest.mark.parametrize("name,equation,output_shape,bias_axes", [
    ("heads", "abc,cde->abde", (5, 2, 3), "de"),
    ("ellipsis", "...b,bc->...c", 3, "c"),
    ("partial_bias", "abc,cd->abd", (5, 3), "b"),
])
def test_same_weights_give_keras_outputs(name, equation, output_shape, bias_axes):
    """Fixtures made by tools/keras_reference/make_attention_facts.py."""
    from pathlib import Path

    ref = np.load(Path(__file__).resolve().parents[1] / "fixtures" / "attention" /
                  "einsum_cases.npz")
    layer = keras.layers.EinsumDense(equation, output_shape, bias_axes=bias_axes,
                                     activation="tanh")
    x = ref[f"{name}_x"]
    layer(x)
    layer.set_weights([ref[f"{name}_w0"], ref[f"{name}_w1"]])
    np.testing.assert_allclose(np.asarray(layer(x)), ref[f"{name}_output"], atol=1e-5)
