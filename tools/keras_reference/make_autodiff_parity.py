"""Real Keras 3 trains a custom keras.ops layer through a GradientTape train_step; the
weights after 12 steps, the step losses and a Metric subclass's result are written to
tests/fixtures/keras/autodiff_parity.json (read by tests/autodiff/test_keras_parity.py).

    /work/kerasenv/bin/python tools/keras_reference/make_autodiff_parity.py
"""

import json
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf
from keras import ops

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "keras" / "autodiff_parity.json"


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
        with tf.GradientTape() as tape:
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


def main():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 4)).astype("float32")
    y = rng.integers(0, 3, 32)
    init = [rng.standard_normal((4, 5)).astype("float32") * 0.5, np.zeros(5, "float32"),
            rng.standard_normal((5, 3)).astype("float32") * 0.5, np.zeros(3, "float32")]
    model = TapeModel([keras.Input((4,)), OpsDense(5), keras.layers.Dense(3)])
    model.set_weights(init)
    model.compile(optimizer=keras.optimizers.Adam(0.05),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    history = model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    metric = Hits()
    metric.update_state(y[:20], model.predict(x[:20], verbose=0))
    metric.update_state(y[20:], model.predict(x[20:], verbose=0))
    OUT.write_text(json.dumps({
        "versions": {"keras": keras.__version__, "tensorflow": tf.__version__},
        "x": x.tolist(), "y": y.tolist(), "initial_weights": [w.tolist() for w in init],
        "final_weights": [w.tolist() for w in model.get_weights()],
        "epoch_step_loss": [float(v) for v in history.history["step_loss"]],
        "hits_result": float(metric.result()),
    }), encoding="utf-8")
    print("wrote", OUT)


if __name__ == "__main__":
    main()
