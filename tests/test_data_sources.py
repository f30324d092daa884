"""fit / evaluate / predict on generators, lists of batches and keras.utils.PyDataset,
with steps_per_epoch / steps / validation_steps as Keras reads them."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pytest

import tinyann as keras

FACTS = json.loads((Path(__file__).parent / "fixtures" / "keras" /
                    "callback_facts.json").read_text(encoding="utf-8"))["fit"]


def _data(n=64, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.random((n, 4)).astype("float32")
    y = (x.sum(1) > 2).astype("int64")
    return x, y


def _model(seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


class Batches(keras.utils.PyDataset):
    def __init__(self, x, y, batch_size, weights=None, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size, self.weights = x, y, batch_size, weights
        self.order = []
        self.epoch_ends = 0

    def __len__(self):
        return math.ceil(len(self.x) / self.batch_size)

    def __getitem__(self, idx):
        self.order.append(idx)
        sl = slice(idx * self.batch_size, (idx + 1) * self.batch_size)
        if self.weights is not None:
            return self.x[sl], self.y[sl], self.weights[sl]
        return self.x[sl], self.y[sl]

    def on_epoch_end(self):
        self.epoch_ends += 1


def _equal_weights(a, b):
    for u, v in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(u, v)


def test_generator_with_steps_per_epoch_is_consumed_across_epochs_as_keras():
    x, y = _data()
    facts = FACTS["generator_steps_per_epoch"]
    batches = [(x[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16)]
    drawn = []

    def gen():
        for i, b in enumerate(batches * 3):
            drawn.append(i)
            yield b

    history = _model().fit(gen(), epochs=facts["epochs"], steps_per_epoch=facts[
        "steps_per_epoch"], verbose=0)
    assert len(history.history["loss"]) == facts["epochs_run"]
    assert len(drawn) == facts["batches_drawn"]
    assert history.params["steps"] == facts["params_steps"]


def test_a_generator_that_runs_dry_stops_training_with_keras_warning():
    x, y = _data()
    batches = [(x[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16)]
    with pytest.warns(UserWarning, match=r"Your input ran out of data; interrupting training"):
        history = _model().fit(iter(batches * 2), epochs=5, steps_per_epoch=3, verbose=0)
    # 8 batches: epochs of 3, 3 and 2 batches, then nothing
    assert len(history.history["loss"]) == 3
    with pytest.warns(UserWarning, match=r"ran out of data"):
        history = _model().fit(iter(batches), epochs=3, verbose=0)
    assert len(history.history["loss"]) == 1


def test_an_iterable_of_batches_is_read_again_each_epoch():
    x, y = _data()
    batches = [(x[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16)]
    a, b = _model(), _model()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = a.fit(iter_again(batches), epochs=3, verbose=0)
    b.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    assert len(history.history["loss"]) == 3
    _equal_weights(a, b)


class iter_again:  # noqa: N801 - reads like the function it stands for
    """An iterable (not an iterator) over a list: a fresh pass each time."""

    def __init__(self, items):
        self.items = items

    def __iter__(self):
        return iter(self.items)


def test_py_dataset_trains_like_the_same_arrays():
    x, y = _data()
    ds = Batches(x, y, 16)
    a, b = _model(), _model()
    history = a.fit(ds, epochs=3, shuffle=False, verbose=0)
    b.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0)
    _equal_weights(a, b)
    assert history.params["steps"] == FACTS["py_dataset"]["params_steps"] == 4
    assert ds.order == [0, 1, 2, 3] * 3
    assert ds.epoch_ends == 3


def test_py_dataset_shuffle_follows_the_seed():
    x, y = _data()
    orders = []
    for _ in range(2):
        ds = Batches(x, y, 8)
        _model(seed=5).fit(ds, epochs=2, shuffle=True, verbose=0)
        orders.append(ds.order)
    assert orders[0] == orders[1]
    assert sorted(orders[0][:8]) == list(range(8)) and orders[0][:8] != list(range(8))
    assert orders[0][:8] != orders[0][8:]


def test_py_dataset_with_class_weight_and_sample_weights():
    x, y = _data()
    weights = np.where(y == 1, 2.0, 0.5).astype("float32")
    a, b = _model(), _model()
    a.fit(Batches(x, y, 16), epochs=2, shuffle=False, class_weight={1: 2.0, 0: 0.5},
          verbose=0)
    b.fit(Batches(x, y, 16, weights=weights), epochs=2, shuffle=False, verbose=0)
    _equal_weights(a, b)
    with pytest.raises(ValueError, match=r"You cannot specify `class_weight` and "
                                         r"`sample_weight` at the same time"):
        _model().fit(Batches(x, y, 16, weights=weights), class_weight={0: 1.0}, verbose=0)


def test_evaluate_and_predict_on_py_dataset_and_generators():
    x, y = _data()
    model = _model()
    expected = model.evaluate(x, y, batch_size=16, verbose=0)
    assert model.evaluate(Batches(x, y, 16), verbose=0) == pytest.approx(expected, rel=1e-6)
    gen = ((x[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16))
    assert model.evaluate(gen, steps=2, verbose=0) == pytest.approx(
        model.evaluate(x[:32], y[:32], verbose=0), rel=1e-6)
    probs = model.predict(x, verbose=0)
    np.testing.assert_allclose(model.predict(Batches(x, y, 16), verbose=0), probs, rtol=1e-6)
    only_x = (x[i:i + 16] for i in range(0, 64, 16))
    np.testing.assert_allclose(model.predict(only_x, steps=3, verbose=0), probs[:48],
                               rtol=1e-6)


def test_validation_on_py_dataset_and_generator_with_validation_steps():
    x, y = _data()
    model = _model()
    history = model.fit(x, y, epochs=2, verbose=0, validation_data=Batches(x, y, 16))
    assert history.history["val_loss"][-1] == pytest.approx(
        model.evaluate(x, y, verbose=0)[0], rel=1e-6)

    def forever():
        while True:
            yield x[:16], y[:16]

    history = model.fit(x, y, epochs=2, verbose=0, validation_data=forever(),
                        validation_steps=2)
    assert history.history["val_loss"][-1] == pytest.approx(
        model.evaluate(x[:16], y[:16], verbose=0)[0], rel=1e-6)


def test_an_exhausted_generator_cannot_be_evaluated():
    x, y = _data()
    gen = ((x[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16))
    model = _model()
    model.evaluate(gen, verbose=0)
    with pytest.raises(ValueError, match=r"The evaluation data yielded no batches"):
        model.evaluate(gen, verbose=0)


@pytest.mark.parametrize("kwargs, match", [
    ({"y": np.zeros(4)}, r"`y` must be None when `x` is a dataset or generator"),
    ({"class_weight": {0: 1.0}}, r"Argument `class_weight` is not supported for Python "
                                 r"generator inputs"),
    ({"sample_weight": np.ones(4)}, r"`sample_weight` is not supported when `x` is a dataset"),
    ({"steps_per_epoch": 0}, r"Expected `steps` / `steps_per_epoch` to be a positive integer"),
    ({"steps_per_epoch": 2.5}, r"Expected `steps` / `steps_per_epoch` to be a positive"),
])
def test_bad_arguments_with_a_generator(kwargs, match):
    x, y = _data()
    gen = ((x[i:i + 16], y[i:i + 16]) for i in range(0, 64, 16))
    with pytest.raises(ValueError, match=match):
        _model().fit(gen, epochs=1, verbose=0, **kwargs)


def test_py_dataset_base_class():
    class NoSuper(keras.utils.PyDataset):
        def __init__(self):
            pass

        def __len__(self):
            return 2

        def __getitem__(self, i):
            return np.zeros((1, 4)), np.zeros(1)

    with pytest.warns(UserWarning, match=r"should call `super\(\).__init__\(\*\*kwargs\)`"):
        assert NoSuper().workers == 1
    ds = Batches(*_data(), batch_size=32, workers=2, max_queue_size=4)
    assert (ds.workers, ds.use_multiprocessing, ds.max_queue_size) == (2, False, 4)
    assert ds.num_batches == 2 and len(list(ds)) == 2
    assert keras.utils.Sequence is keras.utils.PyDataset
    with pytest.raises(NotImplementedError, match=r"must implement `__getitem__"):
        keras.utils.PyDataset()[0]


def test_py_dataset_with_num_batches_instead_of_len():
    x, y = _data()

    class Endless(keras.utils.PyDataset):
        def __init__(self):
            super().__init__()
            self.calls = []

        @property
        def num_batches(self):
            return None

        def __getitem__(self, idx):
            self.calls.append(idx)
            i = idx % 4
            return x[16 * i:16 * (i + 1)], y[16 * i:16 * (i + 1)]

    class Three(Endless):
        @property
        def num_batches(self):
            return 3

    endless = Endless()
    history = _model().fit(endless, epochs=2, steps_per_epoch=5, verbose=0)
    assert endless.calls == list(range(10))  # read on across epochs, never shuffled
    assert history.params["steps"] == 5
    three = Three()
    history = _model().fit(three, epochs=2, shuffle=False, class_weight={0: 2.0}, verbose=0)
    assert three.calls == [0, 1, 2, 0, 1, 2]
    assert history.params["steps"] == 3
