"""``predict`` called from several threads at once on one model gives, in each thread,
exactly what it gives alone (the app's server predicts in a thread pool)."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers

THREADS, CALLS = 4, 20


def _mlp():
    return keras.Sequential([keras.Input((20,)), layers.Dense(16, activation="relu"),
                             layers.Dense(40, activation="tanh"),
                             layers.Dense(10, activation="softmax")])


def _cnn():
    return keras.Sequential([
        keras.Input((12, 12, 1)),
        layers.Conv2D(4, 3, activation="relu"), layers.MaxPooling2D(),
        layers.Conv2D(6, 3, padding="same", activation="relu"),
        layers.BatchNormalization(), layers.Dropout(0.3), layers.Flatten(),
        layers.Dense(5, activation="softmax")])


def _functional():
    a = keras.Input((8,))
    b = keras.Input((8,))
    h = layers.Dense(12, activation="relu")(layers.Add()([a, b]))
    out1 = layers.Dense(3, activation="softmax", name="p")(h)
    out2 = layers.Dense(1, name="r")(layers.Concatenate()([h, a]))
    return keras.Model([a, b], [out1, out2])


def _inputs(kind, rng, rows):
    if kind == "cnn":
        # uint8 images: predict converts them to float32 in per-thread buffers
        return rng.integers(0, 256, (rows, 12, 12, 1)).astype("uint8")
    if kind == "functional":
        return [rng.standard_normal((rows, 8)), rng.standard_normal((rows, 8))]
    return rng.standard_normal((rows, 20))  # float64, converted chunk by chunk


def _as_list(out):
    return out if isinstance(out, list) else [out]


@pytest.mark.parametrize("kind", ["mlp", "cnn", "functional"])
def test_predict_from_several_threads_equals_single_thread_results(kind):
    model = {"mlp": _mlp, "cnn": _cnn, "functional": _functional}[kind]()
    rng = np.random.default_rng(0)
    # batch sizes that make several chunks, one chunk, and a single short batch
    sizes = [(int(rng.integers(1, 300)), int(rng.choice([7, 32, 256])))
             for _ in range(THREADS * CALLS)]
    inputs = [_inputs(kind, rng, rows) for rows, _ in sizes]
    expected = [_as_list(model.predict(x, batch_size=b, verbose=0))
                for x, (_, b) in zip(inputs, sizes)]
    results = [None] * len(inputs)
    errors = []
    start = threading.Barrier(THREADS)

    def work(t):
        try:
            start.wait()
            for i in range(t, len(inputs), THREADS):
                results[i] = _as_list(model.predict(inputs[i], batch_size=sizes[i][1],
                                                    verbose=0))
        except Exception as error:  # noqa: BLE001 - reported by the main thread
            errors.append(error)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert errors == []
    for got, want in zip(results, expected):
        for g, w in zip(got, want):
            np.testing.assert_array_equal(g, w)


def test_predict_while_another_thread_calls_the_model():
    """``model(x)`` (``Model.__call__``) and ``predict`` share the layers: neither
    disturbs the other."""
    model = _cnn()
    rng = np.random.default_rng(1)
    xs = [rng.random((9, 12, 12, 1)).astype("float32") for _ in range(CALLS)]
    expected = [model.predict(x, verbose=0) for x in xs]
    got_call, got_predict = [None] * CALLS, [None] * CALLS

    def by_call():
        for i, x in enumerate(xs):
            got_call[i] = model(x)

    def by_predict():
        for i, x in enumerate(xs):
            got_predict[i] = model.predict(x, verbose=0)

    threads = [threading.Thread(target=by_call), threading.Thread(target=by_predict)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    for a, b, want in zip(got_call, got_predict, expected):
        np.testing.assert_array_equal(a, want)
        np.testing.assert_array_equal(b, want)
