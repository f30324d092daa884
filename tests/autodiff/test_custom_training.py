"""What trains through the tape with fit: a custom Layer written with keras.ops, a Loss
subclass and a loss function written with ops; saving and loading the custom layer."""

from __future__ import annotations

import numpy as np
import pytest

import tinyann as keras
from tinyann import ops
from tinyann.autodiff import GradientTape, Tensor


@keras.saving.register_keras_serializable(package="tests_autodiff")
class OpsDense(keras.layers.Layer):
    """y = relu(x W + b), written with keras.ops and no backward."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units),
                                 initializer="glorot_uniform", name="w")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", name="b")

    def call(self, x):
        return ops.relu(ops.matmul(x, self.w) + self.b)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


class OpsMSE(keras.losses.Loss):
    def call(self, y_true, y_pred):
        return ops.mean(ops.square(y_pred - y_true), axis=-1)


def _model():
    return keras.Sequential([keras.Input((4,)), OpsDense(8), keras.layers.Dense(3)])


def test_custom_ops_layer_trains_with_fit_and_its_gradient_is_exact(tiny_data, float64):
    model = _model()
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss=keras.losses.MeanSquaredError())
    x, y = tiny_data.x[:16], np.eye(3)[tiny_data.y[:16]]
    before = [w.copy() for w in model.get_weights()]
    # the step fit takes, computed independently with a tape over the whole model
    w, b = model.layers[0].w, model.layers[0].b
    with GradientTape() as tape:
        loss = ops.mean(ops.square(model.layers[1](model.layers[0](x)) - y))
    gw, gb = tape.gradient(loss, [w, b])
    model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
    np.testing.assert_allclose(model.get_weights()[0], before[0] - 0.1 * gw.numpy(), atol=1e-10)
    np.testing.assert_allclose(model.get_weights()[1], before[1] - 0.1 * gb.numpy(), atol=1e-10)


def test_custom_loss_subclass_and_function_train_like_the_built_in_loss(tiny_data):
    x, y = tiny_data.x, np.eye(3)[tiny_data.y].astype("float32")
    finals = []
    for loss in (keras.losses.MeanSquaredError(), OpsMSE(),
                 lambda t, p: ops.mean(ops.square(p - t), axis=-1)):
        keras.utils.set_random_seed(3)
        model = _model()
        model.compile(optimizer="adam", loss=loss)
        history = model.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0)
        finals.append(history.history["loss"])
    np.testing.assert_allclose(finals[1], finals[0], rtol=1e-5)
    np.testing.assert_allclose(finals[2], finals[0], rtol=1e-5)
    assert finals[0][-1] < finals[0][0]


def test_custom_ops_layer_saves_and_loads(tmp_path, tiny_data):
    model = _model()
    model.compile(optimizer="adam", loss="mse")
    model.fit(tiny_data.x, np.eye(3)[tiny_data.y], epochs=1, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    np.testing.assert_allclose(loaded.predict(tiny_data.x, verbose=0),
                               model.predict(tiny_data.x, verbose=0), rtol=1e-6)
    loaded.fit(tiny_data.x, np.eye(3)[tiny_data.y], epochs=1, verbose=0)


def test_built_in_loss_on_a_tape_is_one_node_with_its_own_gradient(float64):
    logits = Tensor(np.array([[2.0, -1.0, 0.5], [0.1, 0.2, 0.3]]))
    labels = np.array([0, 2])
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    with GradientTape() as tape:
        tape.watch(logits)
        loss = loss_fn(labels, logits)
    grad = tape.gradient(loss, logits).numpy()
    p = np.exp(logits.numpy()) / np.exp(logits.numpy()).sum(1, keepdims=True)
    np.testing.assert_allclose(grad, (p - np.eye(3)[labels]) / 2, rtol=1e-10)


def test_a_numpy_only_loss_says_what_to_do():
    class NumpyLoss(keras.losses.Loss):
        def call(self, y_true, y_pred):
            return np.mean((np.asarray(y_pred) - y_true) ** 2, axis=-1)

    with pytest.raises(NotImplementedError, match="recorded no keras.ops operation"):
        NumpyLoss().value_and_grad(np.zeros((2, 3)), np.ones((2, 3)))
