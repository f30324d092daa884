"""A GradientTape training loop against tinyann's own fit, and a custom keras.ops
layer's training step.

The textbook ReLU network (Flatten -> Dense(100, relu) -> Dense(10, softmax), Adam,
batch 32) on synthetic 28x28 data: (1) `model.fit`, (2) the same steps written as
TensorFlow's custom training loop (`model(x, training=True)` and the loss on a tape,
`tape.gradient`, `optimizer.apply_gradients`), (3) fit with the first Dense replaced by a
layer whose `call` is written with keras.ops. Reports the time per step (median of 3).

    PYTHONPATH=. .venv/bin/python benchmarks/bench_tape.py
"""

from __future__ import annotations

import statistics
import time

import numpy as np

import tinyann as keras
from tinyann import ops
from tinyann.autodiff import GradientTape

N, BATCH = 6400, 32


class OpsDense(keras.layers.Layer):
    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), name="w")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", name="b")

    def call(self, x):
        return ops.relu(ops.matmul(x, self.w) + self.b)


def model(first):
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(), first,
                             keras.layers.Dense(10, activation="softmax")])


def time_fit(m, x, y):
    m.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    start = time.perf_counter()
    m.fit(x, y, batch_size=BATCH, epochs=1, verbose=0)
    return (time.perf_counter() - start) / (N // BATCH)


def time_tape_loop(m, x, y):
    loss_fn = keras.losses.SparseCategoricalCrossentropy()
    optimizer = keras.optimizers.Adam()
    start = time.perf_counter()
    for i in range(0, N, BATCH):
        xb, yb = x[i:i + BATCH], y[i:i + BATCH]
        with GradientTape() as tape:
            loss = loss_fn(yb, m(xb, training=True))
        grads = tape.gradient(loss, m.trainable_variables)
        optimizer.apply_gradients(zip(grads, m.trainable_variables))
    return (time.perf_counter() - start) / (N // BATCH)


def main():
    rng = np.random.default_rng(0)
    x = rng.random((N, 28, 28), dtype=np.float32)
    y = rng.integers(0, 10, N)
    cases = {
        "fit": lambda: time_fit(model(keras.layers.Dense(100, activation="relu")), x, y),
        "tape loop": lambda: time_tape_loop(
            model(keras.layers.Dense(100, activation="relu")), x, y),
        "fit, keras.ops layer": lambda: time_fit(model(OpsDense(100)), x, y),
    }
    results = {name: statistics.median(run() for _ in range(3)) for name, run in cases.items()}
    for name, seconds in results.items():
        print(f"{name:22s} {seconds * 1e6:8.0f} us/step  {seconds / results['fit']:.2f}x fit")


if __name__ == "__main__":
    main()
