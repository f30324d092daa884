"""Shuffled batches from the helper thread: float64 inputs train as their float32 cast."""

import numpy as np
import pytest

import tinyann as keras
from tinyann.trainers.data_adapters import prefetch


def _model():
    keras.utils.set_random_seed(2)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def _data(n=200):
    rng = np.random.default_rng(0)
    return rng.standard_normal((n, 5)), rng.integers(0, 3, n)


@pytest.mark.parametrize("steps_per_epoch", [None, 3])
def test_float64_inputs_train_as_their_float32_cast(steps_per_epoch, monkeypatch):
    # small chunks: the first epoch fills the float32 copy over several chunks,
    # later ones read it (or, when epochs stop early, fill it again)
    monkeypatch.setattr(prefetch, "_CHUNK_BYTES", 16 * 5 * 4 * 3)
    x, y = _data()
    # each model made just before its fit: the seed also sets the shuffling
    a = _model()
    ha = a.fit(x, y, batch_size=16, epochs=4, verbose=0, steps_per_epoch=steps_per_epoch)
    b = _model()
    hb = b.fit(x.astype("float32"), y, batch_size=16, epochs=4, verbose=0,
               steps_per_epoch=steps_per_epoch)
    for u, v in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(u, v)
    assert ha.history == hb.history


def test_the_copy_is_used_once_an_epoch_has_filled_it():
    from tinyann.trainers.data_adapters import ArrayData

    x, y = _data()
    data = ArrayData([x], y)
    floatx = np.dtype("float32")
    order = data.epoch_order(True)
    batches = list(prefetch.prefetched(data, order, 32, floatx))
    copy = data.float_copy(floatx)
    assert copy.position is not None
    np.testing.assert_array_equal(copy.arrays[0][copy.position], x.astype("float32"))
    # a second epoch in another order reads the copy
    order2 = data.epoch_order(True)
    first = next(iter(prefetch.prefetched(data, order2, 32, floatx)))
    np.testing.assert_array_equal(first[0][0], x[order2[:32]].astype("float32"))
    np.testing.assert_array_equal(first[1], y[order2[:32]])
    assert len(batches) == 7


def test_no_copy_of_narrow_or_float32_inputs():
    from tinyann.trainers.data_adapters import ArrayData

    x, y = _data()
    for arr in (x.astype("float32"), (x * 10).astype("uint8")):
        data = ArrayData([arr], y)
        list(prefetch.prefetched(data, data.epoch_order(True), 32, np.dtype("float32")))
        assert data.float_copy(np.dtype("float32")).arrays == [None]


def test_no_copy_for_a_single_epoch():
    from tinyann.trainers.data_adapters import ArrayData

    x, y = _data()
    data = ArrayData([x], y)
    data.epochs_ahead = 1  # as fit(epochs=1) sets it
    list(prefetch.prefetched(data, data.epoch_order(True), 32, np.dtype("float32")))
    assert data.float_copy(np.dtype("float32")).arrays == [None]


def test_no_float32_copy_of_inputs_over_a_gibibyte():
    """Chapter 9's one-hot reviews (float64, 3 GiB) are converted a batch at a time: a
    float32 copy of the whole array would add 1.5 GiB (a view stands in for it here)."""
    from tinyann.trainers.data_adapters.prefetch import FloatCopy

    floatx = np.dtype("float32")
    big = np.broadcast_to(np.zeros(1), (20_000, 100, 200))  # 3 GiB of float64, no memory
    small = np.zeros((60, 784))
    copies = FloatCopy([big, small], floatx)
    assert copies.arrays[0] is None and copies.arrays[1].dtype == floatx
