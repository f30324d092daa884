"""A train_step override in TensorFlow's style under fit: tape, compute_loss, metrics'
update_state, logs returned, callbacks and the progress bar."""

from __future__ import annotations

import numpy as np
import pytest

import tinyann as keras
from tinyann import ops
from tinyann.autodiff import GradientTape


class TapeModel(keras.Sequential):
    steps = 0

    def train_step(self, data):
        x, y = data
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(grads, self.trainable_variables)
        type(self).steps += 1
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics if m.name == "loss"} | {
            "extra": ops.convert_to_tensor(1.5)}


def _layers():
    return [keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(3, activation="softmax")]


def test_tape_train_step_matches_the_built_in_step(tiny_data):
    keras.utils.set_random_seed(5)
    custom = TapeModel(_layers())
    keras.utils.set_random_seed(5)
    plain = keras.Sequential(_layers())
    for model in (custom, plain):
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="sparse_categorical_crossentropy")
    seen = []
    callback = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: seen.append(dict(logs)))
    h1 = custom.fit(tiny_data.x, tiny_data.y, epochs=2, batch_size=16, shuffle=False,
                    verbose=1, callbacks=[callback])
    h2 = plain.fit(tiny_data.x, tiny_data.y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    assert TapeModel.steps == 8 and len(seen) == 8 and seen[0]["extra"] == 1.5
    for a, b in zip(custom.get_weights(), plain.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(h1.history["loss"], h2.history["loss"], rtol=1e-4)
    assert h1.history["extra"] == [1.5, 1.5]


class EvalStepModel(keras.Sequential):
    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        return {"loss": loss, "mean_prediction": ops.mean(y_pred)}


def test_test_step_override_serves_evaluate_and_validation(tiny_data):
    keras.utils.set_random_seed(2)
    model = EvalStepModel(_layers())
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    history = model.fit(tiny_data.x, tiny_data.y, epochs=1, batch_size=16, verbose=0,
                        validation_data=(tiny_data.xv, tiny_data.yv))
    assert set(history.history) == {"loss", "val_loss", "val_mean_prediction"}
    logs = model.evaluate(tiny_data.xv, tiny_data.yv, batch_size=16, verbose=0,
                          return_dict=True)
    p = model.predict(tiny_data.xv, verbose=0)
    expected = -np.mean(np.log(p[np.arange(16), tiny_data.yv]))
    assert logs["loss"] == pytest.approx(expected, rel=1e-5)
    assert logs["mean_prediction"] == pytest.approx(float(p.mean()), rel=1e-5)
