"""``metric.result()`` returns a scalar Tensor, as Keras 3's (``.numpy()``, float(),
NumPy and f-strings take it), for built-in metrics and a subclass's own ``result``;
fit's and evaluate's logs stay Python floats."""

from __future__ import annotations

import numpy as np
import pytest

import tinyann as keras
from tinyann.autodiff import Tensor


class Ratio(keras.metrics.Metric):
    """A user's metric whose result is a plain Python float."""

    def __init__(self, name="ratio", **kwargs):
        super().__init__(name=name, **kwargs)
        self.up = 0.0
        self.seen = 0.0

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.up += float(np.sum(np.asarray(y_pred) > 0.5))
        self.seen += float(np.size(y_pred))

    def result(self):
        return self.up / self.seen if self.seen else 0.0

    def reset_state(self):
        self.up = self.seen = 0.0


BUILT_IN = [
    (keras.metrics.Mean(), ([1.0, 2.0, 4.0],), 7 / 3),
    (keras.metrics.SparseCategoricalAccuracy(),
     (np.array([0, 1]), np.array([[0.9, 0.1], [0.8, 0.2]])), 0.5),
    (keras.metrics.MeanSquaredError(), (np.zeros((2, 2)), np.ones((2, 2))), 1.0),
    (keras.metrics.RootMeanSquaredError(), (np.zeros((1, 4)), np.full((1, 4), 2.0)), 2.0),
    (keras.metrics.BinaryAccuracy(), (np.array([[1.0], [0.0]]), np.array([[0.7], [0.6]])), 0.5),
]


@pytest.mark.parametrize("metric, args, expected", BUILT_IN,
                         ids=[type(m).__name__ for m, _, _ in BUILT_IN])
def test_built_in_metric_result_is_a_scalar_tensor(metric, args, expected):
    metric.reset_state()
    metric.update_state(*args)
    value = metric.result()
    assert isinstance(value, Tensor) and value.shape == () and value.dtype == np.float32
    assert isinstance(value.numpy(), np.ndarray)
    assert float(value) == pytest.approx(expected, rel=1e-6)
    assert np.asarray(value) == pytest.approx(expected, rel=1e-6)
    assert f"{value:.3f}" == f"{expected:.3f}"


def test_subclass_result_and_call_return_tensors():
    metric = Ratio()
    out = metric(None, np.array([0.2, 0.9, 0.7, 0.1]))
    assert isinstance(out, Tensor) and float(out) == 0.5
    assert isinstance(metric.result(), Tensor) and metric.result().numpy() == 0.5


def test_fit_and_evaluate_logs_stay_python_floats(tiny_data):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy", Ratio()])
    seen = []

    class Keep(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(dict(logs))

    history = model.fit(tiny_data.x, tiny_data.y, epochs=1, batch_size=64, verbose=0,
                        callbacks=[Keep()])
    for logs in [*seen, {k: v[0] for k, v in history.history.items()},
                 model.evaluate(tiny_data.x, tiny_data.y, verbose=0, return_dict=True),
                 model.get_metrics_result()]:
        assert set(logs) >= {"loss", "accuracy", "ratio"}
        assert all(type(v) is float for v in logs.values()), logs


def test_train_step_returning_each_metrics_result_gives_float_logs():
    # Keras's documented `return {m.name: m.result() for m in self.metrics}`: the
    # compiled metrics' entry is a dict of results, flattened into the logs
    class Stepped(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = keras.layers.Dense(3)

        def call(self, x):
            return self.dense(x)

        def train_step(self, data):
            x, y = data
            with keras.autodiff.GradientTape() as tape:
                pred = self(x, training=True)
                loss = self.compute_loss(y=y, y_pred=pred)
            grads = tape.gradient(loss, self.trainable_weights)
            self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
            for m in self.metrics:
                if m.name == "loss":
                    m.update_state(loss)
                else:
                    m.update_state(y, pred)
            results = {m.name: m.result() for m in self.metrics}
            assert isinstance(results["loss"], Tensor)
            return results

    rng = np.random.default_rng(0)
    model = Stepped()
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(rng.random((16, 4)), rng.integers(0, 3, 16), epochs=2, verbose=0)
    assert set(history.history) == {"loss", "accuracy"}
    assert all(type(v) is float for values in history.history.values() for v in values)
