"""Conv2D(relu) -> MaxPooling2D trains as pooling then ReLU: the same numbers."""

import numpy as np
import pytest

import tinyann as keras
from tinyann.kernels import jit


def _model(seed=3):
    keras.utils.set_random_seed(seed)
    layers = keras.layers
    model = keras.Sequential([
        keras.Input((8, 8, 2)),
        layers.Conv2D(4, 3, activation="relu", padding="same"),
        layers.MaxPooling2D(2),
        layers.Conv2D(3, 3, activation="relu"),
        layers.MaxPooling2D(2, strides=1),
        layers.Flatten(),
        layers.Dense(3, activation="softmax"),
    ])
    model.compile("adam", "sparse_categorical_crossentropy")
    return model


def _data():
    rng = np.random.default_rng(0)
    # whole rows of zeros: windows whose maximum is 0 or negative before the ReLU,
    # and ties between equal pixels
    x = rng.standard_normal((24, 8, 8, 2)).astype("float32")
    x[:, :4] = 0.0
    return x, rng.integers(0, 3, 24)


def test_the_pair_is_found_in_a_chain():
    model = _model()
    assert model._graph.relu_pools == {0, 2}


def _kernel_sets():
    return ["numpy", "reference"] + (["compiled"] if jit.available() else [])


@pytest.mark.parametrize("kernel_set", _kernel_sets())
def test_fused_training_equals_the_layer_by_layer_one(kernel_set, use_kernels):
    # the NumPy and reference sets run the fused pair as their two ops: the same
    # numbers bit for bit; the compiled set's conv2d_max_pool sums each pixel's
    # products in another order than the convolution's GEMM: the same to rounding
    if kernel_set == "compiled":
        def same(a, b):
            np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6)
    else:
        same = np.testing.assert_array_equal
    use_kernels(kernel_set)
    x, y = _data()
    fused, plain = _model(), _model()
    plain._graph.relu_pools = set()
    fused.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
    plain.fit(x, y, batch_size=8, epochs=2, verbose=0, shuffle=False)
    for a, b in zip(fused.get_weights(), plain.get_weights()):
        same(a, b)
    # and both forward passes give the layers' outputs
    for training in (True, False):
        same(fused._graph.forward([x], training=training)[0],
             plain._graph.forward([x], training=training)[0])
    same(fused.predict(x, verbose=0), plain.predict(x, verbose=0))


def test_other_activations_and_graphs_are_left_alone():
    keras.utils.set_random_seed(0)
    layers = keras.layers
    tanh = keras.Sequential([keras.Input((8, 8, 1)), layers.Conv2D(2, 3, activation="tanh"),
                             layers.MaxPooling2D(2)])
    assert tanh._graph.relu_pools == set()
    average = keras.Sequential([keras.Input((8, 8, 1)), layers.Conv2D(2, 3, activation="relu"),
                                layers.AveragePooling2D(2)])
    assert average._graph.relu_pools == set()
    inputs = keras.Input((8, 8, 1))
    conv = layers.Conv2D(2, 3, activation="relu")(inputs)
    branch = keras.Model(inputs, layers.Add()([layers.MaxPooling2D(2, strides=1,
                                                                   padding="same")(conv), conv]))
    assert branch._graph.relu_pools == set()
