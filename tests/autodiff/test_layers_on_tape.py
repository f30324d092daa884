"""Built-in layers and models on a GradientTape: one recorded node whose gradient is
the hand-written backward; eager calls return Tensors; fit records nothing."""

from __future__ import annotations

import numpy as np
import pytest

import tinyann as keras
from tinyann import ops
from tinyann.autodiff import GradientTape, Tensor


def _dense_reference(x, w, b, g):
    """Gradients of sum(relu(x w + b) * g) in float64 by hand."""
    z = x @ w + b
    dz = g * (z > 0)
    return dz @ w.T, x.T @ dz, dz.sum(0)


def test_eager_layer_and_model_calls_return_tensors(float64):
    layer = keras.layers.Dense(3)
    out = layer(np.ones((2, 4)))
    assert isinstance(out, Tensor) and out.shape == (2, 3)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    assert isinstance(model(np.ones((1, 4))), Tensor)
    assert isinstance(model.predict(np.ones((1, 4)), verbose=0), np.ndarray)


def test_dense_call_is_one_node_with_the_hand_written_gradient(float64):
    rng = np.random.default_rng(0)
    layer = keras.layers.Dense(3, activation="relu")
    x = Tensor(rng.standard_normal((5, 4)))
    layer.build((None, 4))
    g = rng.standard_normal((5, 3))
    with GradientTape() as tape:
        tape.watch(x)
        y = layer(x)
    assert len(tape._entries) == 1
    dx, dw, db = tape.gradient(y, [x, layer.kernel, layer.bias], output_gradients=g)
    ex, ew, eb = _dense_reference(x.numpy(), layer.kernel.numpy(), layer.bias.numpy(), g)
    np.testing.assert_allclose(dx.numpy(), ex, rtol=1e-10)
    np.testing.assert_allclose(dw.numpy(), ew, rtol=1e-10)
    np.testing.assert_allclose(db.numpy(), eb, rtol=1e-10)


def test_same_layer_called_twice_keeps_each_calls_state(float64):
    rng = np.random.default_rng(1)
    layer = keras.layers.Dense(3, activation="relu")
    layer.build((None, 4))
    a, b = rng.standard_normal((2, 4)), rng.standard_normal((2, 4))
    with GradientTape() as tape:
        loss = ops.sum(layer(a)) + ops.sum(ops.square(layer(b)))
    dw = tape.gradient(loss, layer.kernel).numpy()
    w, bias = layer.kernel.numpy(), layer.bias.numpy()
    ya = np.maximum(b @ w + bias, 0)
    expected = _dense_reference(a, w, bias, np.ones((2, 3)))[1] + _dense_reference(
        b, w, bias, 2 * ya)[1]
    np.testing.assert_allclose(dw, expected, rtol=1e-10)


def test_model_call_is_one_node_and_matches_central_differences(gradcheck):
    rng = np.random.default_rng(2)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="tanh"),
                              keras.layers.Dropout(0.5), keras.layers.Dense(2)])
    x = rng.standard_normal((3, 3))
    g = rng.standard_normal((3, 2))
    with GradientTape() as tape:
        y = model(x)   # training=False: Dropout passes the data through
    assert len(tape._entries) == 1
    grads = tape.gradient(y, model.trainable_variables, output_gradients=g)
    for v, grad in zip(model.trainable_variables, grads):
        numeric = gradcheck.numerical_grad(
            lambda: float(np.sum(model.predict(x, verbose=0) * g)), v.value)
        gradcheck.assert_close(grad.numpy(), numeric)


def test_fit_over_built_in_layers_records_nothing(tiny_data):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with GradientTape() as tape:
        model.fit(tiny_data.x, tiny_data.y, epochs=1, batch_size=16, verbose=0)
    assert tape._entries == [] and tape.watched_variables() == ()


def test_tape_training_loop_with_apply_gradients_lowers_the_loss(tiny_data):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(3)])
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    optimizer = keras.optimizers.Adam(0.05)
    first = None
    for _ in range(30):
        with GradientTape() as tape:
            logits = model(tiny_data.x, training=True)
            loss = ops.mean(ops.sparse_categorical_crossentropy(
                tiny_data.y, logits, from_logits=True))
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        first = float(loss) if first is None else first
    assert float(loss) < 0.8 * first
    # the loss object gives the same number as the op
    assert float(loss_fn(tiny_data.y, model(tiny_data.x).numpy())) == pytest.approx(
        float(ops.mean(ops.sparse_categorical_crossentropy(
            tiny_data.y, model(tiny_data.x), from_logits=True))), rel=1e-5)
