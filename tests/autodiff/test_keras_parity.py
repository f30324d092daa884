"""Parity with real Keras 3 (fixture: tools/keras_reference/make_autodiff_parity.py): a
custom keras.ops layer trained by a GradientTape train_step for 12 steps, and a Metric
subclass, give the same numbers to 1e-5."""

from __future__ import annotations

import numpy as np

import tinyann as keras
from tinyann import ops
from tinyann.autodiff import GradientTape


class OpsDense(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), name="w")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", name="b")

    def call(self, x):
        return ops.tanh(ops.matmul(x, self.w) + self.b) * 2.0 - ops.relu(x[:, :1])


class TapeModel(keras.Sequential):
    def train_step(self, data):
        x, y = data
        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply(grads, self.trainable_variables)
        return {"step_loss": loss}


class Hits(keras.metrics.Metric):
    def __init__(self, name="hits", **kwargs):
        super().__init__(name=name, **kwargs)
        self.hits = self.add_weight(shape=(), initializer="zeros", name="hits")
        self.seen = self.add_weight(shape=(), initializer="zeros", name="seen")

    def update_state(self, y_true, y_pred, sample_weight=None):
        pred = ops.cast(ops.argmax(y_pred, axis=-1), "int32")
        same = ops.cast(ops.equal(ops.cast(y_true, "int32"), pred), "float32")
        self.hits.assign_add(ops.sum(same))
        self.seen.assign_add(ops.cast(ops.shape(y_true)[0], "float32"))

    def result(self):
        return self.hits / self.seen


def test_tape_train_step_with_ops_layer_and_metric_match_keras(keras_fact):
    fact = keras_fact("autodiff_parity.json")
    x = np.array(fact["x"], dtype="float32")
    y = np.array(fact["y"])
    model = TapeModel([keras.Input((4,)), OpsDense(5), keras.layers.Dense(3)])
    model.set_weights([np.array(w, dtype="float32") for w in fact["initial_weights"]])
    model.compile(optimizer=keras.optimizers.Adam(0.05),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    for got, want in zip(model.get_weights(), fact["final_weights"]):
        np.testing.assert_allclose(got, np.array(want), atol=1e-5)
    np.testing.assert_allclose(history.history["step_loss"], fact["epoch_step_loss"],
                               atol=1e-5)
    metric = Hits()
    metric.update_state(y[:20], model.predict(x[:20], verbose=0))
    metric.update_state(y[20:], model.predict(x[20:], verbose=0))
    assert abs(float(metric.result()) - fact["hits_result"]) < 1e-6
