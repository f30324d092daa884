"""Two half-batches in two threads (tinyann/trainers/half_batches.py): when they are
taken, that they train what one thread trains, deterministically, and that fit gives
OpenBLAS its threads back."""

from __future__ import annotations

import threading

import numpy as np
import pytest

import tinyann as keras
from tinyann import kernels
from tinyann.kernels import jit
from tinyann.trainers import half_batches

pytestmark = pytest.mark.skipif(not jit.available(), reason="the compiled set needs numba "
                                "(CI installs it)")
threadpoolctl = pytest.importorskip("threadpoolctl")

layers = keras.layers


@pytest.fixture(autouse=True)
def compiled_set(use_kernels):
    use_kernels("compiled")
    yield
    half_batches.set_enabled(True)


def _cnn(dropout=0.0, seed=5, extra=()):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([
        keras.Input((8, 8, 1)),
        layers.Conv2D(4, 3, activation="relu", padding="same"),
        layers.MaxPooling2D(2),
        layers.Conv2D(8, 3, activation="relu", padding="same"),
        layers.MaxPooling2D(2),
        *extra,
        layers.Flatten(),
        layers.Dense(6, activation="relu"),
        layers.Dropout(dropout),
        layers.Dense(3, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _data(n=74):  # batches of 32, 32 and 10: the last one too small to split
    rng = np.random.default_rng(0)
    return rng.normal(size=(n, 8, 8, 1)).astype("float32"), rng.integers(0, 3, n)


def test_taken_for_a_chain_of_per_sample_layers_with_a_convolution():
    model = _cnn()
    assert half_batches.applies(model, 32)
    assert half_batches.applies(model, 2 * half_batches.MIN_HALF)
    assert not half_batches.applies(model, 2 * half_batches.MIN_HALF - 1)
    dense = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="softmax")])
    assert not half_batches.applies(dense, 32)  # no convolution: too little work a step
    normalized = _cnn(extra=[layers.BatchNormalization()])
    assert not half_batches.applies(normalized, 32)  # statistics over the whole batch

    class Scaled(layers.Conv2D):
        pass

    keras.utils.set_random_seed(0)
    custom = keras.Sequential([keras.Input((8, 8, 1)), Scaled(2, 3), layers.Flatten(),
                               layers.Dense(2)])
    assert not half_batches.applies(custom, 32)
    half_batches.set_enabled(False)
    assert not half_batches.applies(model, 32)
    half_batches.set_enabled(True)
    kernels.set_kernels("numpy")
    assert not half_batches.applies(model, 32)


def _fit(model, x, y, epochs=3):
    # shuffled: each epoch's order comes from the global generator, which making the
    # replica must leave where it was
    history = model.fit(x, y, batch_size=32, epochs=epochs, verbose=0, shuffle=True)
    return history.history, model.get_weights()


def test_training_in_two_halves_equals_one_thread_to_rounding():
    x, y = _data()
    split_history, split_weights = _fit(_cnn(), x, y)
    half_batches.set_enabled(False)
    one_history, one_weights = _fit(_cnn(), x, y)
    # the same sums in another order: the two halves' gradients are added
    for key in one_history:
        np.testing.assert_allclose(split_history[key], one_history[key], rtol=1e-4)
    for a, b in zip(split_weights, one_weights):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_the_second_half_runs_in_the_worker_thread():
    x, y = _data()
    model = _cnn()
    seen = set()
    forward = model._graph.forward

    def recording(xs, training=False):
        seen.add(threading.current_thread().name)
        return forward(xs, training=training)

    model._graph.forward = recording  # the main thread's half
    _fit(model, x, y, epochs=1)
    assert seen == {threading.current_thread().name}
    assert any(t.name.startswith("tinyann-half-batch") for t in threading.enumerate())


def test_the_same_seed_trains_the_same_weights_bit_for_bit():
    x, y = _data()
    first = _fit(_cnn(dropout=0.3, seed=11), x, y)[1]
    second = _fit(_cnn(dropout=0.3, seed=11), x, y)[1]
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    third = _fit(_cnn(dropout=0.3, seed=12), x, y)[1]
    assert not all(np.array_equal(a, b) for a, b in zip(first, third))


def _blas_threads():
    return [(i["internal_api"], i["num_threads"])
            for i in threadpoolctl.threadpool_info() if i["user_api"] == "blas"]


def test_fit_holds_blas_to_one_thread_and_restores_it_also_after_an_error():
    x, y = _data()
    before = _blas_threads()
    inside = []

    class Probe(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            inside.append(_blas_threads())
            if batch == 1:
                raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        _cnn().fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=[Probe()])
    assert inside and all(n == 1 for threads in inside for _, n in threads)
    assert _blas_threads() == before
    # and left alone where the halves are not taken
    inside.clear()
    dense = keras.Sequential([keras.Input((64,)), layers.Dense(3, activation="softmax")])
    dense.compile(optimizer="adam", loss="sparse_categorical_crossentropy")

    class Record(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            inside.append(_blas_threads())

    dense.fit(x.reshape(len(x), -1), y, batch_size=32, epochs=1, verbose=0,
              callbacks=[Record()])
    assert inside and all(threads == before for threads in inside)


def test_numba_threads_are_set_in_each_thread():
    jit.set_threads(1)
    kernels.functions_of("compiled")["max_pool2d_forward"](
        np.zeros((1, 4, 4, 8), np.float32), (2, 2), (2, 2), "valid")  # loads numba
    import numba

    counts = []

    def run():
        jit.thread_setup()
        counts.append(numba.get_num_threads())

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()
    assert counts == [1]


def test_predict_and_evaluate_split_their_batches_and_give_the_same_numbers():
    x, y = _data(100)
    model = _cnn()
    _fit(model, x, y, epochs=1)
    names = set()
    forward = model._graph.forward

    def recording(xs, training=False):
        names.add(threading.current_thread().name)
        return forward(xs, training=training)

    model._graph.forward = recording
    split = model.predict(x, batch_size=32, verbose=0), model.evaluate(x, y, verbose=0)
    assert any(name.startswith("tinyann-half-batch") for name in names)
    assert threading.current_thread().name in names
    model._graph.forward = forward
    half_batches.set_enabled(False)
    one = model.predict(x, batch_size=32, verbose=0), model.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(split[0], one[0], rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(split[1], one[1], rtol=1e-6)


def test_a_frozen_layer_stays_frozen_and_the_others_train_as_in_one_thread():
    x, y = _data()

    def frozen():
        model = _cnn()
        model.layers[0].trainable = False  # the first convolution
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        return model

    model = frozen()
    before = model.layers[0].get_weights()
    split = _fit(model, x, y, epochs=2)[1]
    for a, b in zip(model.layers[0].get_weights(), before):
        np.testing.assert_array_equal(a, b)
    half_batches.set_enabled(False)
    one = _fit(frozen(), x, y, epochs=2)[1]
    for a, b in zip(split, one):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)



def test_threads_predicting_at_once_leave_blas_as_it_was():
    x, y = _data(96)
    model = _cnn()
    _fit(model, x, y, epochs=1)
    before = _blas_threads()
    expected = model.predict(x, batch_size=32, verbose=0)
    results, start = [], threading.Barrier(4)

    def predict():
        start.wait()
        for _ in range(5):
            results.append(model.predict(x, batch_size=32, verbose=0))

    threads = [threading.Thread(target=predict) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 20
    for out in results:
        np.testing.assert_array_equal(out, expected)
    assert _blas_threads() == before


def test_recurrent_models_hold_blas_to_one_thread_in_fit_evaluate_and_predict():
    """Their compiled kernels run two chunks in two threads (kernels/compiled/recurrent.py)."""
    rng = np.random.default_rng(0)
    x, y = rng.integers(1, 50, (96, 7)), rng.integers(0, 2, 96)
    inner = keras.Sequential([layers.Embedding(50, 4), layers.Bidirectional(layers.GRU(3))])
    model = keras.Sequential([keras.Input((7,)), inner, layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    assert half_batches.has_recurrent_chunks(model)
    assert not half_batches.has_recurrent_chunks(_cnn())
    before = _blas_threads()
    inside = []

    class Probe(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            inside.append(_blas_threads())

        on_test_batch_end = on_predict_batch_end = on_train_batch_end

    model.fit(x, y, batch_size=32, epochs=1, verbose=0, callbacks=[Probe()])
    model.evaluate(x, y, batch_size=32, verbose=0, callbacks=[Probe()])
    model.predict(x, batch_size=32, verbose=0, callbacks=[Probe()])
    assert len(inside) == 9 and all(n == 1 for threads in inside for _, n in threads)
    assert _blas_threads() == before


def test_recurrent_models_on_the_numpy_set_leave_blas_alone(use_kernels):
    use_kernels("numpy")
    model = keras.Sequential([keras.Input((7,)), layers.Embedding(50, 4), layers.LSTM(3)])
    assert not half_batches.has_recurrent_chunks(model)
