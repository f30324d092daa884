"""The fusion table, tinyann.kernels.FUSIONS, is what the graph and the losses read."""

import numpy as np

import tinyann as keras
from tinyann import kernels, losses


def test_the_table_declares_every_fusion():
    assert kernels.FUSIONS[("conv2d+relu", "max_pooling2d")] == "relu_after_max_pool"
    for loss in ("sparse_categorical_crossentropy", "categorical_crossentropy"):
        assert kernels.FUSIONS[("softmax", loss)] == "softmax_cross_entropy_grad"
    assert kernels.layer_fusion("conv2d+tanh", "max_pooling2d") is None
    assert kernels.layer_fusion(None, "max_pooling2d") is None


def test_losses_take_their_fused_activation_from_the_table():
    assert losses.SparseCategoricalCrossentropy.fused_activation == "softmax"
    assert losses.CategoricalCrossentropy.fused_activation == "softmax"
    assert losses.BinaryCrossentropy.fused_activation == "sigmoid"
    assert losses.MeanSquaredError.fused_activation is None
    assert kernels.fused_activation("huber") is None


def _chain(conv):
    return keras.Sequential([keras.Input((6, 6, 1)), conv, keras.layers.MaxPooling2D(2)])


def test_a_subclass_keeping_tinyanns_math_fuses_one_with_its_own_call_does_not():
    class Tagged(keras.layers.Conv2D):
        pass

    class Doubled(keras.layers.Conv2D):
        def call(self, inputs, training=False):
            return 2 * super().call(inputs, training)

    assert _chain(Tagged(2, 3, activation="relu"))._graph.relu_pools == {0}
    doubled = _chain(Doubled(2, 3, activation="relu"))
    assert doubled._graph.relu_pools == set()
    x = np.random.default_rng(0).normal(size=(2, 6, 6, 1)).astype("float32")
    conv = doubled.layers[0]
    expected = keras.layers.MaxPooling2D(2)(conv(x))
    np.testing.assert_allclose(doubled.predict(x, verbose=0), expected, rtol=1e-6)


def test_the_fused_pair_gives_the_layer_by_layer_numbers_with_either_set():
    x = np.random.default_rng(1).normal(size=(3, 6, 6, 1)).astype("float32")
    previous = kernels.kernels()
    try:
        for name in ("reference", "fast"):
            kernels.set_kernels(name)
            keras.utils.set_random_seed(0)
            model = _chain(keras.layers.Conv2D(2, 3, activation="relu"))
            assert model._graph.relu_pools == {0}
            conv, pool = model.layers
            fused = model._graph.forward([x], training=True)[0]
            if kernels.kernel_set() == "compiled":
                # the compiled set's conv2d_max_pool sums each pixel's products in
                # another order than the layer's GEMM (winograd.py, conv_pool.py)
                np.testing.assert_allclose(fused, pool(conv(x)), rtol=1e-5, atol=1e-6)
            else:
                np.testing.assert_array_equal(fused, pool(conv(x)))
    finally:
        kernels.set_kernels(previous)
