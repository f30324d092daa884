"""Numerical gradient checks of every layer's ``backward`` and of one whole model.

Each check runs in float64 with a random output gradient ``G`` (the scalar is
``sum(G * layer(x))``), tiny shapes, and inputs whose pre-activations stay away
from ReLU's kink, and compares dL/dinput and every dL/dweight (``Variable.grad``)
with central differences.
"""

import numpy as np
import pytest

import tinyann as keras
from tinyann import losses
from tinyann.layers import Activation, Dense, Dropout, Flatten, Reshape

ACTIVATIONS = ["linear", "relu", "sigmoid", "tanh", "softmax", "exponential"]


def _draw_dense_input(rng, layer, shape, margin=0.05):
    """An input whose pre-activations are all at least ``margin`` from 0."""
    for _ in range(200):
        x = rng.normal(size=shape)
        z = x.reshape(-1, shape[-1]) @ layer.kernel.value
        if layer.use_bias:
            z = z + layer.bias.value
        if np.min(np.abs(z)) > margin:
            return x
    raise AssertionError("could not draw an input away from the kink")


def _dense(rng, units, activation, use_bias, in_dim):
    layer = Dense(units, activation=activation, use_bias=use_bias)
    layer.build((None, in_dim))
    weights = [rng.normal(0.0, 0.6, size=(in_dim, units))]
    if use_bias:
        weights.append(rng.normal(0.0, 0.3, size=(units,)))
    layer.set_weights(weights)
    return layer


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("use_bias", [True, False], ids=["bias", "no_bias"])
@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4)], ids=["2d", "3d"])
def test_dense_backward(gradcheck, activation, use_bias, shape):
    rng = np.random.default_rng(10)
    layer = _dense(rng, 3, activation, use_bias, shape[-1])
    assert layer.kernel.value.dtype == np.float64
    x = _draw_dense_input(rng, layer, shape)
    g = rng.normal(size=shape[:-1] + (3,))

    layer(x, training=True)
    dx = layer.backward(g.copy())
    assert dx.shape == x.shape

    def loss():
        return np.sum(g * layer(x))

    gradcheck.assert_close(dx, gradcheck.numerical_grad(loss, x))
    gradcheck.assert_close(layer.kernel.grad, gradcheck.numerical_grad(loss, layer.kernel.value))
    if use_bias:
        gradcheck.assert_close(layer.bias.grad, gradcheck.numerical_grad(loss, layer.bias.value))
    else:
        assert layer.bias is None and len(layer.weights) == 1


def test_dense_backward_overwrites_weight_gradients(gradcheck):
    """A second backward of the same batch gives the same gradients, not twice them."""
    rng = np.random.default_rng(11)
    layer = _dense(rng, 3, "tanh", True, 4)
    x = rng.normal(size=(5, 4))
    g = rng.normal(size=(5, 3))
    layer(x, training=True)
    layer.backward(g.copy())
    first = [layer.kernel.grad.copy(), layer.bias.grad.copy()]
    layer.backward(g.copy())
    np.testing.assert_array_equal(layer.kernel.grad, first[0])
    np.testing.assert_array_equal(layer.bias.grad, first[1])


@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4)], ids=["2d", "3d"])
@pytest.mark.parametrize("activation", ["softmax", "sigmoid", "relu"])
def test_dense_backward_preactivation(gradcheck, shape, activation):
    """From dL/dz (z = x @ kernel + bias) straight to dL/dx and dL/dweights,
    whatever the layer's activation."""
    rng = np.random.default_rng(12)
    layer = _dense(rng, 3, activation, True, shape[-1])
    x = rng.normal(size=shape)
    dz = rng.normal(size=shape[:-1] + (3,))

    layer(x, training=True)
    dx = layer.backward_preactivation(dz.copy())
    assert dx.shape == x.shape

    def loss():
        return np.sum(dz * (x @ layer.kernel.value + layer.bias.value))

    gradcheck.assert_close(dx, gradcheck.numerical_grad(loss, x))
    gradcheck.assert_close(layer.kernel.grad, gradcheck.numerical_grad(loss, layer.kernel.value))
    gradcheck.assert_close(layer.bias.grad, gradcheck.numerical_grad(loss, layer.bias.value))


def _check_weightless(gradcheck, layer, x, rng):
    y = layer(x, training=True)
    g = rng.normal(size=y.shape)
    dx = layer.backward(g.copy())
    assert dx.shape == x.shape
    numeric = gradcheck.numerical_grad(lambda: np.sum(g * layer(x)), x)
    gradcheck.assert_close(dx, numeric)


def test_flatten_backward(gradcheck):
    rng = np.random.default_rng(13)
    _check_weightless(gradcheck, Flatten(), rng.normal(size=(2, 3, 4)), rng)


@pytest.mark.parametrize("target_shape, in_shape", [((3, 4), (2, 12)), ((-1, 2), (2, 3, 4)),
                                                    ((6,), (3, 2, 3))])
def test_reshape_backward(gradcheck, target_shape, in_shape):
    rng = np.random.default_rng(14)
    _check_weightless(gradcheck, Reshape(target_shape), rng.normal(size=in_shape), rng)


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("shape", [(3, 4), (2, 2, 3)], ids=["2d", "3d"])
def test_activation_layer_backward(gradcheck, activation, shape):
    rng = np.random.default_rng(15)
    x = gradcheck.away_from_zero(rng, shape)
    _check_weightless(gradcheck, Activation(activation), x, rng)


def test_dropout_backward_with_fixed_mask(gradcheck):
    """A seeded Dropout: backward equals d/dx of x * mask for the mask of that call."""
    rng = np.random.default_rng(16)
    rate = 0.4
    layer = Dropout(rate, seed=3)
    x = gradcheck.away_from_zero(rng, (4, 6))
    out = layer(x, training=True)
    mask = out / x
    # inverted dropout: every entry is dropped or scaled by 1 / (1 - rate)
    assert np.all(np.isclose(mask, 0.0) | np.isclose(mask, 1.0 / (1.0 - rate)))
    assert 0 < np.count_nonzero(mask) < mask.size
    g = rng.normal(size=x.shape)
    dx = layer.backward(g.copy())
    numeric = gradcheck.numerical_grad(lambda: np.sum(g * x * mask), x)
    gradcheck.assert_close(dx, numeric)


def test_dropout_same_seed_same_mask_and_identity_in_inference(float64):
    x = np.random.default_rng(17).normal(size=(5, 7))
    a = Dropout(0.5, seed=9)(x, training=True)
    b = Dropout(0.5, seed=9)(x, training=True)
    np.testing.assert_array_equal(a, b)
    layer = Dropout(0.5, seed=9)
    np.testing.assert_array_equal(layer(x, training=False), x)
    g = np.random.default_rng(18).normal(size=x.shape)
    np.testing.assert_array_equal(layer.backward(g.copy()), g)


# ------------------------------------------------------------------ whole model
def _small_model(rng, x, regularized=False):
    reg = {"kernel_regularizer": keras.regularizers.L2(0.05),
           "bias_regularizer": keras.regularizers.L1(0.02)} if regularized else {}
    model = keras.Sequential([
        keras.Input((5,)),
        Dense(4, activation="relu", **reg),
        Dense(3, activation="softmax"),
    ])
    model.set_weights([rng.normal(0.0, 0.7, size=w.shape) for w in model.get_weights()])
    hidden = model.layers[0]
    for _ in range(200):
        z = x @ hidden.kernel.value + hidden.bias.value
        if np.min(np.abs(z)) > 0.05:
            return model
        x[...] = rng.normal(size=x.shape)
    raise AssertionError("could not draw an input away from the ReLU kink")


@pytest.mark.parametrize("fused", [True, False], ids=["fused", "through_softmax"])
def test_whole_model_packed_gradient(gradcheck, fused):
    """One training step's forward / value_and_grad / backward, as trainer runs it,
    gives the gradient of the loss for every weight in the packed buffer."""
    rng = np.random.default_rng(19)
    x = rng.normal(size=(6, 5))
    y = rng.integers(0, 3, size=6)
    model = _small_model(rng, x)
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    loss_fn = model.loss
    values, grads, variables = model._packed_trainables()
    assert values.dtype == np.float64 and len(variables) == 4
    graph = model._graph

    out = graph.forward([x], training=True)[0]
    value, grad = loss_fn.value_and_grad(y, out, None, fused)
    graph.backward([grad], fused)
    analytic = grads.copy()

    def loss():
        return loss_fn(y, graph.forward([x], training=False)[0])

    np.testing.assert_allclose(value, loss(), rtol=1e-12)
    numeric = gradcheck.numerical_grad(loss, values)
    gradcheck.assert_close(analytic, numeric)
    assert np.count_nonzero(analytic) > len(analytic) // 2


def test_whole_model_train_step_with_regularizers(gradcheck):
    """train_on_batch with SGD(learning_rate=1): the weight change is minus the gradient
    of the loss plus the weight penalties (the trainer's full path)."""
    rng = np.random.default_rng(20)
    x = rng.normal(size=(6, 5))
    y = rng.integers(0, 3, size=6)
    model = _small_model(rng, x, regularized=True)
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0),
                  loss="sparse_categorical_crossentropy")
    values, _, _ = model._packed_trainables()
    graph = model._graph
    ce = losses.SparseCategoricalCrossentropy()

    def loss():
        penalty = sum(sum(layer.losses) for layer in model.layers)
        return ce(y, graph.forward([x], training=False)[0]) + penalty

    numeric = gradcheck.numerical_grad(loss, values)
    expected_loss = loss()
    before = values.copy()
    reported = model.train_on_batch(x, y)
    np.testing.assert_allclose(reported, expected_loss, rtol=1e-10)
    gradcheck.assert_close(before - values, numeric)
