"""Sequential: the ways the seeds build it, the layer stack, weights and calling."""

from __future__ import annotations

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers
from tinyann.layers.keras_tensor import KerasTensor


def seed_model():
    return keras.Sequential([keras.Input((784,)), layers.Dense(10, activation="softmax")])


# ---------------------------------------------------------------- construction
def test_list_with_input_is_built_at_once():
    dense = layers.Dense(10, activation="softmax")
    model = keras.Sequential([keras.Input((784,)), dense])
    assert model.built and dense.built
    assert model.layers == [dense]  # no InputLayer in Sequential.layers
    assert [t.shape for t in model.inputs] == [(None, 784)]
    assert [t.shape for t in model.outputs] == [(None, 10)]
    assert model.count_params() == 784 * 10 + 10
    assert [w.shape for w in model.weights] == [(784, 10), (10,)]
    assert [w.name for w in model.weights] == ["kernel", "bias"]


@pytest.mark.parametrize("as_list", [False, True], ids=["single_layer", "list"])
def test_legacy_input_shape_builds_like_seeds_001_and_003(as_list):
    # seeds 001/003: Dense(10, activation='softmax', input_shape=(784,)); Sequential(dense)
    dense = layers.Dense(10, activation="softmax", input_shape=(784,))
    model = keras.Sequential([dense] if as_list else dense)
    assert model.built
    assert model.layers == [dense]
    assert model.inputs[0].shape == (None, 784)
    assert model.output_shape == (None, 10)
    assert model.count_params() == 7850


def test_empty_then_add_like_seed_004():
    model = keras.Sequential()
    assert not model.built and model.layers == []
    model.add(layers.Flatten(input_shape=(28, 28)))
    assert model.built and model.inputs[0].shape == (None, 28, 28)
    model.add(layers.Dense(20, activation="relu"))
    model.add(layers.Dense(10, activation="softmax"))
    assert model.output_shape == (None, 10)
    assert model.count_params() == 784 * 20 + 20 + 20 * 10 + 10


def test_add_input_then_layers_and_pop():
    model = keras.Sequential()
    model.add(keras.Input((4,)))
    assert model.built and model.layers == []
    first, second = layers.Dense(3, activation="relu"), layers.Dense(2)
    model.add(first)
    model.add(second)
    assert model.layers == [first, second]
    assert model.count_params() == (4 * 3 + 3) + (3 * 2 + 2)
    popped = model.pop()
    assert popped is second
    assert model.layers == [first]
    assert model.outputs[0].shape == (None, 3)
    assert model.count_params() == 15
    model.add(second)  # a popped layer can come back
    assert model.predict(np.ones((5, 4)), verbose=0).shape == (5, 2)


def test_pop_on_empty_model_raises():
    with pytest.raises(TypeError, match="There are no layers in the model"):
        keras.Sequential().pop()


def test_add_rejects_what_is_not_a_layer():
    model = keras.Sequential()
    with pytest.raises(ValueError, match="Only instances of `keras.Layer`.*'dense'"):
        model.add("dense")


def test_input_must_come_first():
    model = keras.Sequential([layers.Dense(3)])
    with pytest.raises(ValueError, match="only be the first layer"):
        model.add(keras.Input((4,)))


@pytest.mark.parametrize("name", ["hidden", "출력층"])
def test_layer_names_must_be_unique(name):
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, name=name)])
    with pytest.raises(ValueError, match=f"unique names.*'{name}'"):
        model.add(layers.Dense(2, name=name))
    with pytest.raises(ValueError, match="unique names"):
        keras.Sequential([layers.Dense(3, name=name), layers.Dense(2, name=name)])


# ---------------------------------------------------------------- lazy building
def test_without_input_shape_built_from_first_call():
    model = keras.Sequential([layers.Dense(3), layers.Dense(1)])
    assert not model.built
    assert model.weights == [] and model.trainable_weights == []
    with pytest.raises(ValueError, match="isn't built"):
        model.count_params()
    with pytest.raises(ValueError, match="not been built yet"):
        _ = model.inputs
    out = model(np.ones((2, 5)))
    assert out.shape == (2, 1)
    assert model.built
    assert model.inputs[0].shape == (None, 5)
    assert model.count_params() == (5 * 3 + 3) + (3 + 1)


def test_without_input_shape_built_by_fit():
    model = keras.Sequential([layers.Dense(4, activation="relu"), layers.Dense(3,
                                                                              activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.fit(np.ones((10, 6)), np.arange(10) % 3, verbose=0)
    assert model.inputs[0].shape == (None, 6)
    assert [w.shape for w in model.weights] == [(6, 4), (4,), (4, 3), (3,)]


def test_build_with_shape():
    model = keras.Sequential([layers.Dense(3)])
    model.build((None, 7))
    assert model.built and model.count_params() == 24
    with pytest.raises(ValueError, match="input_shape"):
        keras.Sequential([layers.Dense(3)]).build()


# ---------------------------------------------------------------- weights
def test_weights_and_trainable_weights():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.Dense(2)])
    first, second = model.layers
    assert model.weights == [first.kernel, first.bias, second.kernel, second.bias]
    assert model.trainable_weights == model.weights
    first.trainable = False
    assert model.trainable_weights == [second.kernel, second.bias]
    assert model.non_trainable_weights == [first.kernel, first.bias]
    model.trainable = False
    assert model.trainable_weights == []
    assert len(model.non_trainable_weights) == 4


def test_get_and_set_weights_round_trip():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.Dense(2)])
    weights = model.get_weights()
    assert [w.shape for w in weights] == [(4, 3), (3,), (3, 2), (2,)]
    assert all(w.dtype == np.float32 for w in weights)
    rng = np.random.default_rng(1)
    new = [rng.standard_normal(w.shape) for w in weights]
    model.set_weights(new)
    for got, want in zip(model.get_weights(), new):
        np.testing.assert_allclose(got, want, rtol=1e-6)
    # get_weights returns copies: changing them does not change the model
    copies = model.get_weights()
    copies[0][...] = 0
    assert np.any(model.get_weights()[0] != 0)


def test_set_weights_checks_count_and_shapes():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3)])
    with pytest.raises(ValueError, match="weight list of length 1.*expecting 2"):
        model.set_weights([np.zeros((4, 3))])
    with pytest.raises(ValueError, match=r"\(4, 3\).*\(3, 4\)"):
        model.set_weights([np.zeros((3, 4)), np.zeros(3)])


# ---------------------------------------------------------------- calling
@pytest.mark.parametrize("dtype", ["float64", "float32", "uint8"])
def test_call_on_arrays_computes_in_float32(dtype, reference):
    model = seed_model()
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, size=(3, 784)).astype(dtype)
    out = model(x)
    # a Tensor, as Keras 3 returns (NumPy code takes it as an array)
    assert isinstance(np.asarray(out), np.ndarray) and out.dtype == np.float32
    assert out.shape == (3, 10)
    kernel, bias = model.get_weights()
    want = reference.softmax(x.astype(np.float64) @ kernel.astype(np.float64) + bias)
    # unscaled pixels (0-255) give logits in the hundreds: their float32 sums carry
    # ~1e-4 of absolute error, which the softmax turns into ~1e-4 relative error
    np.testing.assert_allclose(out, want, rtol=1e-3, atol=1e-6)
    np.testing.assert_array_equal(model.predict(x, verbose=0), out)


def test_call_on_symbolic_tensor_nests_the_model():
    inner = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="relu")])
    inputs = keras.Input((4,))
    hidden = inner(inputs)
    assert isinstance(hidden, KerasTensor) and hidden.shape == (None, 3)
    outputs = layers.Dense(2)(hidden)
    outer = keras.Model(inputs, outputs)
    x = np.random.default_rng(0).standard_normal((5, 4))
    want = outer.layers[-1](inner(x))
    np.testing.assert_allclose(outer.predict(x, verbose=0), want, rtol=1e-6)
