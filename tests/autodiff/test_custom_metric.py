"""A Metric subclass in Keras's style (add_weight, assign_add, result) under fit and
evaluate."""

from __future__ import annotations

import numpy as np

import tinyann as keras
from tinyann import ops


class Hits(keras.metrics.Metric):
    """The number of correct argmax predictions, written with keras.ops."""

    def __init__(self, name="hits", **kwargs):
        super().__init__(name=name, **kwargs)
        self.hits = self.add_weight(shape=(), initializer="zeros", name="hits")

    def update_state(self, y_true, y_pred, sample_weight=None):
        pred = ops.cast(ops.argmax(y_pred, axis=-1), "int32")
        same = ops.cast(ops.equal(ops.cast(y_true, "int32"), pred), "float32")
        self.hits.assign_add(ops.sum(same))

    def result(self):
        return ops.convert_to_tensor(self.hits)


def test_metric_subclass_counts_like_accuracy_in_fit_and_evaluate(tiny_data):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy", Hits()])
    history = model.fit(tiny_data.x, tiny_data.y, epochs=2, batch_size=64, verbose=0)
    np.testing.assert_allclose(np.array(history.history["hits"]),
                               np.array(history.history["accuracy"]) * 64, rtol=1e-6)
    logs = model.evaluate(tiny_data.x, tiny_data.y, verbose=0, return_dict=True)
    predicted = model.predict(tiny_data.x, verbose=0).argmax(-1)
    assert logs["hits"] == float(np.sum(predicted == tiny_data.y))


def test_add_weight_state_resets_to_its_initial_value():
    metric = Hits()
    metric.update_state(np.array([0, 1]), np.array([[0.9, 0.1], [0.2, 0.8]]))
    assert float(metric.result()) == 2.0
    metric.update_state(np.array([0]), np.array([[0.1, 0.9]]))
    assert float(metric.result()) == 2.0
    metric.reset_state()
    assert float(metric.result()) == 0.0
