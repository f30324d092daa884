"""A layer called on a symbolic tensor with ``training=True`` / ``training=False`` keeps
that mode inside the model, as in Keras (3.16; 3.15.1 lets fit / predict override it).

Facts checked with real Keras: in a functional model, ``Dropout(0.5)(x, training=False)``
passes data through during ``fit``; ``BatchNormalization()(x, training=False)`` keeps its
moving statistics in ``fit`` while gamma and beta train; ``training=True`` makes Dropout
drop in ``predict``; ``base(inputs, training=False)`` runs every layer of ``base`` in
inference mode, except one called with ``training=True`` inside it; a subclassed
model's ``self.bn(x, training=False)`` does the same; the config keeps the argument
as the node's ``"kwargs": {"training": false}``.
"""

import json

import numpy as np
import pytest

import tinyann as keras
from tinyann import losses
from tinyann.layers import BatchNormalization, Dense, Dropout


def _data(rng, n=32, features=6, units=4):
    return (rng.normal(size=(n, features)).astype("float32"),
            rng.normal(size=(n, units)).astype("float32"))


def _randomize_bn(layer, rng):
    """Gamma, beta and moving statistics away from their initial 1 / 0, so a
    gradient or an output that ignores one of them shows."""
    layer.set_weights([rng.uniform(0.5, 2.0, size=w.shape) if w.name in (
        "gamma", "moving_variance") else rng.normal(size=w.shape) for w in layer.weights])


def _moving(layer):
    return [layer.moving_mean.numpy().copy(), layer.moving_variance.numpy().copy()]


# ---------------------------------------------------------------- functional models
def test_dropout_called_with_training_false_passes_data_through_in_fit():
    rng = np.random.default_rng(0)
    x, y = _data(rng)
    inputs = keras.Input((6,))
    model = keras.Model(inputs, Dense(4)(Dropout(0.5)(inputs, training=False)))
    np.testing.assert_array_equal(model(x, training=True), model(x, training=False))
    # a training step's loss (before its update, which is zero here) is evaluate's:
    # with the dropout active it would not be
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="mse")
    np.testing.assert_allclose(model.train_on_batch(x, y), model.evaluate(x, y, verbose=0),
                               rtol=1e-6)


def test_dropout_called_with_training_true_drops_in_predict():
    rng = np.random.default_rng(1)
    x = np.abs(rng.normal(size=(64, 8))).astype("float32") + 1.0
    inputs = keras.Input((8,))
    model = keras.Model(inputs, Dropout(0.5)(inputs, training=True))
    first, second = model.predict(x, verbose=0), model.predict(x, verbose=0)
    assert 0.3 < np.mean(first == 0) < 0.7
    assert not np.array_equal(first, second)
    kept = first != 0
    np.testing.assert_allclose(first[kept], 2.0 * x[kept], rtol=1e-6)


def test_batchnorm_called_with_training_false_keeps_its_statistics_in_fit():
    rng = np.random.default_rng(2)
    x, y = _data(rng)
    inputs = keras.Input((6,))
    bn = BatchNormalization()
    outputs = Dense(4)(bn(Dense(5)(inputs), training=False))
    model = keras.Model(inputs, outputs)
    _randomize_bn(bn, rng)
    moving = _moving(bn)
    gamma, beta = bn.gamma.numpy().copy(), bn.beta.numpy().copy()
    np.testing.assert_array_equal(model(x, training=True), model(x, training=False))
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), moving[0])
    np.testing.assert_array_equal(bn.moving_variance.numpy(), moving[1])
    assert not np.allclose(bn.gamma.numpy(), gamma)
    assert not np.allclose(bn.beta.numpy(), beta)


def test_batchnorm_without_the_argument_still_follows_fit():
    rng = np.random.default_rng(3)
    x, y = _data(rng)
    inputs = keras.Input((6,))
    bn = BatchNormalization()
    model = keras.Model(inputs, Dense(4)(bn(inputs, training=None)))
    assert model._graph.fixed_modes is None  # the plain loops, as before
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert not np.allclose(bn.moving_mean.numpy(), 0.0)


def test_batchnorm_called_with_training_true_uses_batch_statistics_in_predict():
    rng = np.random.default_rng(4)
    x = (rng.normal(size=(16, 3)) * 3.0 + 5.0).astype("float32")
    inputs = keras.Input((3,))
    bn = BatchNormalization()
    model = keras.Model(inputs, bn(inputs, training=True))
    out = model.predict(x, batch_size=16, verbose=0)
    np.testing.assert_allclose(out.mean(axis=0), 0.0, atol=1e-5)
    # the moving statistics follow the batch, as a training step does (Keras does too)
    np.testing.assert_allclose(bn.moving_mean.numpy(), 0.01 * x.mean(axis=0), rtol=1e-4)


def test_nested_model_called_with_training_false_runs_in_inference_mode():
    rng = np.random.default_rng(5)
    x, y = _data(rng)
    base_in = keras.Input((5,))
    base_bn = BatchNormalization()
    base = keras.Model(base_in, Dropout(0.5)(base_bn(Dense(5)(base_in))), name="base")
    _randomize_bn(base_bn, rng)
    inputs = keras.Input((6,))
    first = Dense(5)
    model = keras.Model(inputs, Dense(4)(base(first(inputs), training=False)))
    moving = _moving(base_bn)
    np.testing.assert_array_equal(model(x, training=True), model(x, training=False))
    kernel = first.kernel.numpy().copy()
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    np.testing.assert_array_equal(base_bn.moving_mean.numpy(), moving[0])
    # the layers before the base still learn through it
    assert not np.allclose(first.kernel.numpy(), kernel)


def test_inside_a_model_called_with_training_false_an_explicit_true_still_trains():
    rng = np.random.default_rng(6)
    x = np.abs(rng.normal(size=(64, 8))).astype("float32") + 1.0
    base_in = keras.Input((8,))
    base = keras.Model(base_in, Dropout(0.5)(base_in, training=True))
    inputs = keras.Input((8,))
    model = keras.Model(inputs, base(inputs, training=False))
    assert 0.3 < np.mean(model.predict(x, verbose=0) == 0) < 0.7
    assert 0.3 < np.mean(model(x, training=True) == 0) < 0.7


def test_nested_sequential_called_with_training_false():
    rng = np.random.default_rng(7)
    x = np.abs(rng.normal(size=(64, 8))).astype("float32") + 1.0
    seq = keras.Sequential([keras.Input((8,)), Dropout(0.5)])
    inputs = keras.Input((8,))
    model = keras.Model(inputs, seq(inputs, training=False))
    np.testing.assert_array_equal(model(x, training=True), x)
    plain = keras.Model(inputs, seq(inputs))
    assert np.mean(plain(x, training=True) == 0) > 0.3


# ---------------------------------------------------------------- gradients
def _check_graph_gradients(gradcheck, model, x, rng):
    """Backward after a training forward pass against central differences of that
    same pass: every trainable weight, and the input."""
    graph = model._graph
    graph.set_needs_input_grad(True)
    out = graph.forward([x], training=True)[0]
    g = rng.normal(size=out.shape)
    dx = graph.backward([g.copy()])[0]
    variables = model.trainable_weights
    analytic = [v.grad.copy() for v in variables]

    def loss():
        return float(np.sum(g * graph.forward([x], training=True)[0]))

    gradcheck.assert_close(dx, gradcheck.numerical_grad(loss, x))
    for v, grad in zip(variables, analytic):
        gradcheck.assert_close(grad, gradcheck.numerical_grad(loss, v.value))
    return variables


def _frozen_names(variables):
    return {v.path.split("/")[-2] + "/" + v.name for v in variables}


def test_gradients_of_frozen_dropout_and_batchnorm_in_a_chain(gradcheck):
    rng = np.random.default_rng(8)
    inputs = keras.Input((4,))
    bn = BatchNormalization(name="bn")
    dropout = Dropout(0.5)
    h = Dense(5, activation="tanh")(inputs)
    h = dropout(h, training=False)
    h = bn(h, training=False)
    model = keras.Model(inputs, Dense(3, activation="tanh")(h))
    assert model._graph.is_chain
    _randomize_bn(bn, rng)
    x = rng.normal(size=(6, 4))
    dropout(np.ones((6, 5)), training=True)  # a mask of an earlier call must not stay
    variables = _check_graph_gradients(gradcheck, model, x, rng)
    assert {"bn/gamma", "bn/beta"} <= _frozen_names(variables)
    # dL/dgamma and dL/dbeta are not zero: the check compared something
    assert np.abs(bn.gamma.grad).max() > 1e-3 and np.abs(bn.beta.grad).max() > 1e-3


def test_gradients_of_frozen_layers_in_a_branching_graph(gradcheck):
    rng = np.random.default_rng(9)
    inputs = keras.Input((4,))
    bn = BatchNormalization(name="bn")
    h = Dense(5, activation="tanh")(inputs)
    left = Dense(5)(bn(h, training=False))
    right = Dropout(0.4)(h, training=False)
    model = keras.Model(inputs, Dense(2)(keras.layers.Add()([left, right])))
    assert not model._graph.is_chain
    _randomize_bn(bn, rng)
    x = rng.normal(size=(5, 4))
    _check_graph_gradients(gradcheck, model, x, rng)
    assert np.abs(bn.gamma.grad).max() > 1e-3


@pytest.mark.parametrize("center, scale", [(True, True), (False, True), (True, False)])
def test_gradient_of_batchnorm_in_inference_mode_is_the_affine_map(gradcheck, center,
                                                                    scale):
    """dL/dx = dy * gamma / sqrt(moving_var + eps); dL/dgamma = sum(dy * xhat);
    dL/dbeta = sum(dy), with the moving statistics constants; on 4-d input."""
    rng = np.random.default_rng(10)
    inputs = keras.Input((3, 3, 2))
    bn = BatchNormalization(center=center, scale=scale)
    model = keras.Model(inputs, bn(inputs, training=False))
    _randomize_bn(bn, rng)
    moving = _moving(bn)
    x = rng.normal(size=(4, 3, 3, 2))
    _check_graph_gradients(gradcheck, model, x, rng)
    np.testing.assert_array_equal(bn.moving_mean.numpy(), moving[0])
    # by hand, from the formula
    g = rng.normal(size=x.shape)
    model._graph.forward([x], training=True)
    dx = model._graph.backward([g.copy()])[0]
    inv_std = 1.0 / np.sqrt(moving[1] + bn.epsilon)
    gamma = bn.gamma.numpy() if scale else 1.0
    np.testing.assert_allclose(dx, g * gamma * inv_std, rtol=1e-10)
    if scale:
        xhat = (x - moving[0]) * inv_std
        np.testing.assert_allclose(bn.gamma.grad, np.sum(g * xhat, axis=(0, 1, 2)),
                                   rtol=1e-10)
    if center:
        np.testing.assert_allclose(bn.beta.grad, np.sum(g, axis=(0, 1, 2)), rtol=1e-10)


def test_gradients_through_a_frozen_nested_cnn_with_fused_relu_pooling(gradcheck):
    rng = np.random.default_rng(11)
    base_in = keras.Input((6, 6, 2))
    h = keras.layers.Conv2D(3, 3, activation="relu")(base_in)
    h = keras.layers.MaxPooling2D()(h)
    base_bn = BatchNormalization(name="base_bn")
    base = keras.Model(base_in, Dropout(0.5)(base_bn(h)), name="base")
    assert base._graph.relu_pools  # the fused forward runs in the frozen pass too
    inputs = keras.Input((6, 6, 2))
    out = keras.layers.Flatten()(base(inputs, training=False))
    model = keras.Model(inputs, Dense(2, activation="tanh")(out))
    _randomize_bn(base_bn, rng)
    moving = _moving(base_bn)
    x = rng.normal(size=(2, 6, 6, 2))
    variables = _check_graph_gradients(gradcheck, model, x, rng)
    assert "conv2d/kernel" in _frozen_names(variables)
    np.testing.assert_array_equal(base_bn.moving_mean.numpy(), moving[0])


def test_gradients_of_a_fused_chain_with_frozen_steps(gradcheck):
    rng = np.random.default_rng(12)
    inputs = keras.Input((6, 6, 2))
    h = keras.layers.Conv2D(3, 3, activation="relu")(inputs, training=False)
    h = keras.layers.MaxPooling2D()(h, training=False)
    bn = BatchNormalization()
    h = keras.layers.Flatten()(bn(h, training=False))
    model = keras.Model(inputs, Dense(2, activation="tanh")(h))
    assert model._graph.relu_pools and model._graph.fixed_modes is not None
    _randomize_bn(bn, rng)
    x = rng.normal(size=(2, 6, 6, 2))
    _check_graph_gradients(gradcheck, model, x, rng)


def test_fused_softmax_cross_entropy_through_a_frozen_nested_model(gradcheck):
    """train_on_batch with SGD(learning_rate=1): the weight change is minus the gradient
    of the loss; the softmax output layer sits inside the frozen base."""
    rng = np.random.default_rng(13)
    base_in = keras.Input((5,))
    base_bn = BatchNormalization()
    h = Dropout(0.5)(base_bn(base_in))
    base = keras.Model(base_in, Dense(3, activation="softmax")(h))
    _randomize_bn(base_bn, rng)
    inputs = keras.Input((4,))
    model = keras.Model(inputs, base(Dense(5, activation="tanh")(inputs), training=False))
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=1.0),
                  loss="sparse_categorical_crossentropy")
    x = rng.normal(size=(6, 4))
    y = rng.integers(0, 3, size=6)
    values, _, _ = model._packed_trainables()
    ce = losses.SparseCategoricalCrossentropy()

    def loss():
        return ce(y, model(x, training=True))

    numeric = gradcheck.numerical_grad(loss, values)
    before = values.copy()
    model.train_on_batch(x, y)
    gradcheck.assert_close(before - values, numeric)


# ---------------------------------------------------------------- the other layers
def _merge_inputs(rng):
    return [rng.normal(size=(3, 4)), rng.normal(size=(3, 4))]


_SAME_IN_BOTH_MODES = {
    "Dense": (lambda: Dense(3, activation="relu"), lambda r: r.normal(size=(3, 4))),
    "Activation": (lambda: keras.layers.Activation("tanh"), lambda r: r.normal(size=(3, 4))),
    "Flatten": (keras.layers.Flatten, lambda r: r.normal(size=(3, 2, 2))),
    "Reshape": (lambda: keras.layers.Reshape((4, 1)), lambda r: r.normal(size=(3, 2, 2))),
    "Conv2D": (lambda: keras.layers.Conv2D(2, 3, activation="relu"),
               lambda r: r.normal(size=(2, 5, 5, 2))),
    "MaxPooling2D": (keras.layers.MaxPooling2D, lambda r: r.normal(size=(2, 4, 4, 2))),
    "AveragePooling2D": (lambda: keras.layers.AveragePooling2D(2),
                         lambda r: r.normal(size=(2, 4, 4, 2))),
    "GlobalAveragePooling2D": (keras.layers.GlobalAveragePooling2D,
                               lambda r: r.normal(size=(2, 4, 4, 2))),
    "GlobalMaxPooling2D": (keras.layers.GlobalMaxPooling2D,
                           lambda r: r.normal(size=(2, 4, 4, 2))),
    "Add": (keras.layers.Add, _merge_inputs),
    "Subtract": (keras.layers.Subtract, _merge_inputs),
    "Multiply": (keras.layers.Multiply, _merge_inputs),
    "Average": (keras.layers.Average, _merge_inputs),
    "Maximum": (keras.layers.Maximum, _merge_inputs),
    "Minimum": (keras.layers.Minimum, _merge_inputs),
    "Concatenate": (keras.layers.Concatenate, _merge_inputs),
    "Embedding": (lambda: keras.layers.Embedding(5, 3),
                  lambda r: r.integers(0, 5, (3, 4)).astype("float32")),
    "Softmax": (keras.layers.Softmax, lambda r: r.normal(size=(3, 4))),
    "ReLU": (lambda: keras.layers.ReLU(max_value=1.0), lambda r: r.normal(size=(3, 4))),
    "LeakyReLU": (keras.layers.LeakyReLU, lambda r: r.normal(size=(3, 4))),
    "ELU": (keras.layers.ELU, lambda r: r.normal(size=(3, 4))),
    "PReLU": (lambda: keras.layers.PReLU(alpha_initializer="ones"),
              lambda r: r.normal(size=(3, 4))),
    "Rescaling": (lambda: keras.layers.Rescaling(0.5), lambda r: r.normal(size=(3, 4))),
    "Resizing": (lambda: keras.layers.Resizing(3, 5), lambda r: r.normal(size=(2, 4, 4, 2))),
    "CenterCrop": (lambda: keras.layers.CenterCrop(2, 3),
                   lambda r: r.normal(size=(2, 4, 4, 2))),
    "Conv2DTranspose": (lambda: keras.layers.Conv2DTranspose(2, 3, strides=2),
                        lambda r: r.normal(size=(2, 4, 4, 2))),
    "Conv1D": (lambda: keras.layers.Conv1D(2, 3, padding="causal", activation="relu"),
               lambda r: r.normal(size=(2, 6, 3))),
    "MaxPooling1D": (keras.layers.MaxPooling1D, lambda r: r.normal(size=(2, 6, 3))),
    "AveragePooling1D": (lambda: keras.layers.AveragePooling1D(3, padding="same"),
                         lambda r: r.normal(size=(2, 6, 3))),
    "GlobalAveragePooling1D": (keras.layers.GlobalAveragePooling1D,
                               lambda r: r.normal(size=(2, 6, 3))),
    "GlobalMaxPooling1D": (keras.layers.GlobalMaxPooling1D,
                           lambda r: r.normal(size=(2, 6, 3))),
    "Normalization": (lambda: keras.layers.Normalization(mean=[1.0, 2.0, 0.0, -1.0],
                                                         variance=[4.0, 1.0, 0.5, 2.0]),
                      lambda r: r.normal(size=(3, 4))),
    "LayerNormalization": (keras.layers.LayerNormalization, lambda r: r.normal(size=(3, 4))),
    "ZeroPadding2D": (keras.layers.ZeroPadding2D, lambda r: r.normal(size=(2, 4, 4, 2))),
    "Cropping2D": (lambda: keras.layers.Cropping2D(1), lambda r: r.normal(size=(2, 4, 4, 2))),
    "UpSampling2D": (keras.layers.UpSampling2D, lambda r: r.normal(size=(2, 4, 4, 2))),
    "RepeatVector": (lambda: keras.layers.RepeatVector(2), lambda r: r.normal(size=(3, 4))),
    "Permute": (lambda: keras.layers.Permute((2, 1)), lambda r: r.normal(size=(3, 2, 4))),
    "Identity": (keras.layers.Identity, lambda r: r.normal(size=(3, 4))),
    "Masking": (keras.layers.Masking, lambda r: r.normal(size=(3, 2, 4)) * (
        r.random((3, 2, 1)) > 0.5)),
    "ActivityRegularization": (lambda: keras.layers.ActivityRegularization(0.1, 0.2),
                               lambda r: r.normal(size=(3, 4))),
    "StringLookup": (lambda: keras.layers.StringLookup(vocabulary=["a", "b"]),
                     lambda r: r.choice(["a", "b", "c"], size=(3, 4))),
    "IntegerLookup": (lambda: keras.layers.IntegerLookup(vocabulary=[1, 2],
                                                         output_mode="count"),
                      lambda r: r.integers(0, 4, (3, 4))),
    "CategoryEncoding": (lambda: keras.layers.CategoryEncoding(5),
                         lambda r: r.integers(0, 5, (3, 4))),
    "Hashing": (lambda: keras.layers.Hashing(7), lambda r: r.integers(0, 100, (3, 4))),
    "Discretization": (lambda: keras.layers.Discretization(bin_boundaries=[-0.5, 0.5]),
                       lambda r: r.normal(size=(3, 4))),
    "HashedCrossing": (lambda: keras.layers.HashedCrossing(7),
                       lambda r: [r.integers(0, 9, (3,)), r.integers(0, 9, (3,))]),
    "DepthwiseConv2D": (lambda: keras.layers.DepthwiseConv2D(3, depth_multiplier=2),
                        lambda r: r.normal(size=(2, 5, 5, 2))),
    "SeparableConv2D": (lambda: keras.layers.SeparableConv2D(3, 3, activation="relu"),
                        lambda r: r.normal(size=(2, 5, 5, 2))),
    "SeparableConvolution2D": (lambda: keras.layers.SeparableConvolution2D(3, 3),
                               lambda r: r.normal(size=(2, 5, 5, 2))),
    "DepthwiseConv1D": (lambda: keras.layers.DepthwiseConv1D(3, padding="same"),
                        lambda r: r.normal(size=(2, 6, 3))),
    "SeparableConv1D": (lambda: keras.layers.SeparableConv1D(2, 3, activation="gelu"),
                        lambda r: r.normal(size=(2, 6, 3))),
    "SeparableConvolution1D": (lambda: keras.layers.SeparableConvolution1D(2, 3),
                               lambda r: r.normal(size=(2, 6, 3))),
    "Conv1DTranspose": (lambda: keras.layers.Conv1DTranspose(2, 3, strides=2),
                        lambda r: r.normal(size=(2, 6, 3))),
    "Convolution1DTranspose": (lambda: keras.layers.Convolution1DTranspose(2, 3),
                               lambda r: r.normal(size=(2, 6, 3))),
    "Cropping1D": (keras.layers.Cropping1D, lambda r: r.normal(size=(2, 6, 3))),
    "ZeroPadding1D": (keras.layers.ZeroPadding1D, lambda r: r.normal(size=(2, 6, 3))),
    "UpSampling1D": (keras.layers.UpSampling1D, lambda r: r.normal(size=(2, 6, 3))),
    "Cropping3D": (keras.layers.Cropping3D, lambda r: r.normal(size=(2, 4, 4, 3, 2))),
    "ZeroPadding3D": (keras.layers.ZeroPadding3D, lambda r: r.normal(size=(2, 4, 4, 3, 2))),
    "UpSampling3D": (keras.layers.UpSampling3D, lambda r: r.normal(size=(2, 4, 4, 3, 2))),
    "Conv3D": (lambda: keras.layers.Conv3D(2, 2, activation="relu"),
               lambda r: r.normal(size=(2, 4, 4, 3, 2))),
    "Convolution3D": (lambda: keras.layers.Convolution3D(2, 2),
                      lambda r: r.normal(size=(2, 4, 4, 3, 2))),
    "MaxPooling3D": (keras.layers.MaxPooling3D, lambda r: r.normal(size=(2, 4, 4, 3, 2))),
    "MaxPool3D": (keras.layers.MaxPool3D, lambda r: r.normal(size=(2, 4, 4, 3, 2))),
    "AveragePooling3D": (lambda: keras.layers.AveragePooling3D(2, padding="same"),
                         lambda r: r.normal(size=(2, 4, 4, 3, 2))),
    "AvgPool3D": (lambda: keras.layers.AvgPool3D(2), lambda r: r.normal(size=(2, 4, 4, 3, 2))),
    "GlobalAveragePooling3D": (keras.layers.GlobalAveragePooling3D,
                               lambda r: r.normal(size=(2, 4, 4, 3, 2))),
    "GlobalAvgPool3D": (keras.layers.GlobalAvgPool3D, lambda r: r.normal(size=(2, 4, 4, 3, 2))),
    "GlobalMaxPooling3D": (keras.layers.GlobalMaxPooling3D,
                           lambda r: r.normal(size=(2, 4, 4, 3, 2))),
    "GlobalMaxPool3D": (keras.layers.GlobalMaxPool3D, lambda r: r.normal(size=(2, 4, 4, 3, 2))),
    "EinsumDense": (lambda: keras.layers.EinsumDense("ab,bc->ac", 3, bias_axes="c"),
                    lambda r: r.normal(size=(3, 4))),
    "Dot": (lambda: keras.layers.Dot(axes=1, normalize=True), _merge_inputs),
    "UnitNormalization": (keras.layers.UnitNormalization, lambda r: r.normal(size=(3, 4))),
    "GroupNormalization": (lambda: keras.layers.GroupNormalization(2),
                           lambda r: r.normal(size=(3, 4))),
}


def test_every_layer_class_is_covered_here():
    """A new layer whose output depends on `training` needs `_frozen_call`; one whose
    output does not goes in the table above."""
    classes = {name for name in keras.layers.__all__
               if isinstance(getattr(keras.layers, name), type)
               and issubclass(getattr(keras.layers, name), keras.layers.Layer)}
    aliases = {"Convolution2D", "MaxPool2D", "AvgPool2D", "GlobalAvgPool2D",
               "GlobalMaxPool2D", "Convolution2DTranspose", "Convolution1D", "MaxPool1D",
               "AvgPool1D", "GlobalAvgPool1D", "GlobalMaxPool1D"}
    # the recurrent layers' dropout depends on `training`: they have `_frozen_call`
    special = {"Layer", "Input", "InputLayer", "Dropout", "BatchNormalization", "SimpleRNN",
               "LSTM", "GRU", "GaussianNoise", "GaussianDropout", "SpatialDropout1D",
               "SpatialDropout2D",
               # wrappers: their `_frozen_call` runs the wrapped layers' own
               "Bidirectional", "TimeDistributed",
               # a user's function: it gets the mode as a user's layer does
               "Lambda",
               # strings to ids on data, never inside a model
               "TextVectorization",
               # dropout on the attention scores: tests/layers/test_attention_*.py
               "MultiHeadAttention", "Attention", "AdditiveAttention"}
    # the random augmentation layers: tests/layers/test_augmentation.py
    special |= {"RandomFlip", "RandomContrast", "RandomRotation", "RandomTranslation",
                "RandomZoom"}
    # the cells' dropout depends on `training`; RNN has the recurrent layers' `_frozen_call`
    special |= {"RNN", "SimpleRNNCell", "LSTMCell", "GRUCell", "StackedRNNCells"}
    assert classes - aliases - special == set(_SAME_IN_BOTH_MODES)


@pytest.mark.parametrize("name", sorted(_SAME_IN_BOTH_MODES))
def test_other_layers_compute_the_same_in_both_modes(name):
    """So a frozen step may run them with training=True, which only records."""
    make, draw = _SAME_IN_BOTH_MODES[name]
    rng = np.random.default_rng(14)
    layer = make()
    x = draw(rng)
    inference = layer(x, training=False)
    np.testing.assert_array_equal(layer(x, training=True), inference)
    assert not hasattr(layer, "_frozen_call")


@pytest.mark.parametrize("make", [lambda: Dropout(0.5), BatchNormalization])
def test_dropout_and_batchnorm_frozen_calls_equal_inference(make):
    rng = np.random.default_rng(15)
    layer = make()
    x = rng.normal(size=(8, 3)).astype("float32") + 2.0
    inference = layer(x, training=False)
    np.testing.assert_array_equal(layer._frozen_call(x), inference)
    assert not np.allclose(layer(x, training=True), inference)


# ---------------------------------------------------------------- subclassed models
class _FrozenBN(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.dense = Dense(5)
        self.bn = BatchNormalization()
        self.dropout = Dropout(0.5)
        self.out = Dense(4)

    def call(self, x, training=None):
        h = self.bn(self.dense(x), training=False)
        return self.out(self.dropout(h, training=training))


def test_subclassed_call_with_a_constant_keeps_it_and_training_follows():
    rng = np.random.default_rng(16)
    x, y = _data(rng)
    model = _FrozenBN()
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    assert [n.training for n in model._graph.nodes] == [None, False, None, None]
    np.testing.assert_array_equal(model.bn.moving_mean.numpy(), 0.0)
    assert not np.allclose(model.bn.gamma.numpy(), 1.0)
    # the dropout follows the model: active in a training call only
    big = np.abs(x) + 1.0
    assert not np.array_equal(model(big, training=True), model(big, training=True))
    np.testing.assert_array_equal(model(big), model.predict(big, verbose=0))


def test_subclassed_call_without_training_parameter_forcing_dropout():
    class Noisy(keras.Model):
        def __init__(self):
            super().__init__()
            self.dropout = Dropout(0.5)

        def call(self, x):
            return self.dropout(x, training=True)

    x = np.ones((64, 8), dtype="float32")
    out = Noisy().predict(x, verbose=0)
    assert 0.3 < np.mean(out == 0) < 0.7


def test_subclassed_call_inverting_training_is_refused():
    class Inverted(keras.Model):
        def __init__(self):
            super().__init__()
            self.dropout = Dropout(0.5)

        def call(self, x, training=None):
            return self.dropout(x, training=not training)

    with pytest.raises(NotImplementedError, match="inference mode when the model trains"):
        Inverted().predict(np.ones((2, 3), dtype="float32"), verbose=0)


def test_subclassed_call_with_a_frozen_functional_base(gradcheck):
    rng = np.random.default_rng(17)
    base_in = keras.Input((5,))
    base_bn = BatchNormalization()
    base = keras.Model(base_in, Dropout(0.5)(base_bn(Dense(5)(base_in))))
    _randomize_bn(base_bn, rng)
    moving = _moving(base_bn)

    class Head(keras.Model):
        def __init__(self):
            super().__init__()
            self.first = Dense(5, activation="tanh")
            self.base = base
            self.last = Dense(2)

        def call(self, x, training=None):
            return self.last(self.base(self.first(x), training=False))

    model = Head()
    x = rng.normal(size=(6, 4))
    model.build((None, 4))
    _check_graph_gradients(gradcheck, model, x, rng)
    np.testing.assert_array_equal(base_bn.moving_mean.numpy(), moving[0])


def test_layer_made_of_layers_called_with_training_false_and_inside():
    class Block(keras.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = Dense(6)  # the width kept: fit checks shapes with the input's
            self.bn = BatchNormalization()
            self.dropout = Dropout(0.5)

        def call(self, x, training=None):
            return self.dropout(self.bn(self.dense(x), training=False), training=training)

    rng = np.random.default_rng(18)
    x, y = _data(rng)
    inputs = keras.Input((6,))
    inner = Block()
    outer = Block()
    model = keras.Model(inputs, Dense(4)(outer(inner(inputs), training=False)))
    model.compile(optimizer="adam", loss="mse")
    kernel = inner.dense.kernel.numpy().copy()
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    for block in (inner, outer):
        np.testing.assert_array_equal(block.bn.moving_mean.numpy(), 0.0)
    assert not np.allclose(inner.dense.kernel.numpy(), kernel)
    # the inner block's dropout follows fit; the outer one is frozen
    big = np.abs(x) + 1.0
    hidden = keras.Input((6,))
    frozen_outer = keras.Model(hidden, outer(hidden, training=False))
    h = inner(big)
    np.testing.assert_array_equal(frozen_outer(h, training=True), frozen_outer(h))
    assert not np.array_equal(inner(big, training=True), inner(big, training=True))


# ---------------------------------------------------------------- user layers, errors
class _Scale(keras.layers.Layer):
    """A user's layer with its own backward, recording only in training."""

    def build(self, input_shape):
        self.factor = self.add_weight((input_shape[-1],), "ones", name="factor")

    def call(self, x, training=False):
        self.modes.append(training)
        if training:
            self._x = x
        return x * self.factor.value

    def backward(self, grad_output):
        self.factor.grad[...] = np.sum(grad_output * self._x, axis=0)
        return grad_output * self.factor.value


def test_user_layer_in_inference_mode_predicts_but_refuses_to_train():
    rng = np.random.default_rng(19)
    x, y = _data(rng)
    inputs = keras.Input((6,))
    scale = _Scale(name="scale")
    scale.modes = []
    model = keras.Model(inputs, Dense(4)(scale(Dense(6)(inputs), training=False)))
    scale.modes.clear()
    model(x, training=True)
    model.predict(x, verbose=0)
    assert set(scale.modes) == {False}
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(NotImplementedError, match="'scale' \\(_Scale\\) runs in inference"):
        model.fit(x, y, epochs=1, verbose=0)


def test_user_layer_in_a_frozen_nested_model_refuses_to_train():
    rng = np.random.default_rng(20)
    x, y = _data(rng)
    base_in = keras.Input((6,))
    scale = _Scale()
    scale.modes = []
    base = keras.Model(base_in, scale(base_in))
    inputs = keras.Input((6,))
    model = keras.Model(inputs, Dense(4)(base(inputs, training=False)))
    model.compile(optimizer="sgd", loss="mse")
    with pytest.raises(NotImplementedError, match="runs in inference mode"):
        model.train_on_batch(x, y)
    # trained without the argument, it records and trains
    plain = keras.Model(inputs, Dense(4)(base(inputs)))
    plain.compile(optimizer="sgd", loss="mse")
    before = scale.factor.numpy().copy()
    plain.train_on_batch(x, y)
    assert not np.allclose(scale.factor.numpy(), before)


@pytest.mark.parametrize("value", ["no", 1, 0.0, np.array([True])])
def test_training_must_be_a_boolean_or_none(value):
    inputs = keras.Input((3,))
    with pytest.raises(ValueError, match="`training` must be True, False or None"):
        Dense(2)(inputs, training=value)


# ---------------------------------------------------------------- saving
def _frozen_model():
    base_in = keras.Input((5,))
    base = keras.Model(base_in, BatchNormalization(name="base_bn")(Dense(5)(base_in)),
                       name="base")
    inputs = keras.Input((6,))
    h = Dropout(0.5, name="drop")(Dense(5, name="first")(inputs), training=False)
    h = BatchNormalization(name="bn")(h, training=False)
    h = base(h, training=False)
    return keras.Model(inputs, Dense(4, name="last")(h), name="frozen")


def _node_kwargs(config):
    return {entry["name"]: [node["kwargs"] for node in entry["inbound_nodes"]]
            for entry in config["layers"]}


def test_config_writes_the_training_argument_as_keras_does():
    kwargs = _node_kwargs(_frozen_model().get_config())
    assert kwargs == {"input_layer_1": [], "first": [{}], "drop": [{"training": False}],
                      "bn": [{"training": False}], "base": [{"training": False}],
                      "last": [{}]}


def _assert_keeps_frozen_mode(model, rng):
    x, y = _data(rng)
    bns = [model.get_layer("bn"), model.get_layer("base").get_layer("base_bn")]
    for bn in bns:
        _randomize_bn(bn, rng)
    moving = [_moving(bn) for bn in bns]
    np.testing.assert_array_equal(model(x, training=True), model(x, training=False))
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    for bn, before in zip(bns, moving):
        np.testing.assert_array_equal(bn.moving_mean.numpy(), before[0])
        np.testing.assert_array_equal(bn.moving_variance.numpy(), before[1])


@pytest.mark.parametrize("how", ["keras_file", "h5_file", "json"])
def test_saved_and_loaded_model_keeps_the_frozen_mode(tmp_path, how):
    rng = np.random.default_rng(21)
    model = _frozen_model()
    if how == "json":
        loaded = keras.models.model_from_json(model.to_json())
    else:
        path = tmp_path / ("m.keras" if how == "keras_file" else "m.h5")
        model.save(path)
        loaded = keras.models.load_model(path)
    assert _node_kwargs(loaded.get_config()) == _node_kwargs(model.get_config())
    _assert_keeps_frozen_mode(loaded, rng)


def test_loads_keras_forms_of_the_call_arguments():
    """Keras 3 writes {"training": false, "mask": null} for a nested model's call;
    Keras 2 wrote the arguments as the fourth item of each inbound tensor."""
    rng = np.random.default_rng(22)
    config = json.loads(_frozen_model().to_json())
    for entry in config["config"]["layers"]:
        for node in entry["inbound_nodes"]:
            if entry["name"] == "base":
                node["kwargs"] = {"training": False, "mask": None}
    for entry in config["config"]["layers"]:
        if entry["name"] == "bn":
            history = entry["inbound_nodes"][0]["args"][0]["config"]["keras_history"]
            entry["inbound_nodes"] = [[history + [{"training": False}]]]
    loaded = keras.models.model_from_json(json.dumps(config))
    assert _node_kwargs(loaded.get_config())["base"] == [{"training": False}]
    assert _node_kwargs(loaded.get_config())["bn"] == [{"training": False}]
    _assert_keeps_frozen_mode(loaded, rng)


@pytest.mark.parametrize("kwargs", [{"training": 1}, {"training": "false"},
                                    {"mask": True}, {"scale": 2}])
def test_unknown_call_arguments_in_a_config_are_refused(kwargs):
    config = json.loads(_frozen_model().to_json())
    for entry in config["config"]["layers"]:
        if entry["name"] == "bn":
            entry["inbound_nodes"][0]["kwargs"] = kwargs
    with pytest.raises(NotImplementedError, match="cannot replay a layer call"):
        keras.models.model_from_json(json.dumps(config))


def test_nested_functional_model_references_are_keras_3s():
    """Keras 3 numbers a nested functional model's calls from 0 in the calls'
    arguments, and from 1 in output_layers (its own first node counted there)."""
    base_in = keras.Input((5,))
    base = keras.Model(base_in, Dense(5)(base_in), name="base")
    inputs = keras.Input((5,))
    a = base(inputs, training=False)
    b = base(a)
    model = keras.Model(inputs, [Dense(2, name="last")(b), b, a])
    config = model.get_config()
    history = {entry["name"]: [node["args"][0]["config"]["keras_history"]
                               for node in entry["inbound_nodes"]]
               for entry in config["layers"]}
    assert history == {"input_layer_1": [], "base": [["input_layer_1", 0, 0], ["base", 0, 0]],
                       "last": [["base", 1, 0]]}
    assert config["output_layers"] == [["last", 0, 0], ["base", 2, 0], ["base", 1, 0]]
    loaded = keras.Model.from_config(config)
    assert _node_kwargs(loaded.get_config()) == _node_kwargs(config)
    x = np.random.default_rng(23).normal(size=(3, 5)).astype("float32")
    loaded.set_weights(model.get_weights())
    for got, expected in zip(loaded.predict(x, verbose=0), model.predict(x, verbose=0)):
        np.testing.assert_allclose(got, expected, rtol=1e-6)


def test_clone_model_keeps_the_frozen_mode():
    rng = np.random.default_rng(24)
    model = _frozen_model()
    clone = keras.models.clone_model(model)
    assert _node_kwargs(clone.get_config()) == _node_kwargs(model.get_config())
    _assert_keeps_frozen_mode(clone, rng)


def test_preprocessing_layers_keep_the_argument_and_compute_the_same():
    # a lookup called with training=False (as the structured-data tutorial's encoders
    # may be) keeps it in the config and gives the same encodings in fit and predict
    lookup = keras.layers.IntegerLookup(vocabulary=[3, 5], output_mode="one_hot")
    inputs = keras.Input((1,))
    model = keras.Model(inputs, Dense(2)(lookup(inputs, training=False)))
    config = model.get_config()
    assert _node_kwargs(config)[lookup.name] == [{"training": False}]
    x = np.array([[3], [5], [9]], "float32")
    np.testing.assert_array_equal(model(x, training=True), model(x, training=False))
    loaded = keras.Model.from_config(json.loads(json.dumps(config)))
    loaded.set_weights(model.get_weights())
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
