"""Validation in fit (validation_split / validation_data / validation_batch_size /
validation_freq) and weighting (class_weight / sample_weight), with Keras's rules."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import tinyann as keras
from tinyann.trainers import data_adapters as data_module

FACTS = json.loads((Path(__file__).parent / "fixtures" / "keras" /
                    "callback_facts.json").read_text(encoding="utf-8"))


class Spy(keras.layers.Layer):
    """Records the first input feature of every training batch it sees."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen = []

    def call(self, inputs, training=False):
        if training:
            self.seen.append(inputs[:, 0].copy())
        return inputs

    def backward(self, grad_output):
        # NumPy in `call`: tinyann needs the gradient spelled out (here, the identity)
        return grad_output


def _data(n=100, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype("float32")
    x[:, 0] = np.arange(n)  # the sample's index, for the Spy
    y = (x[:, 1] > 0).astype("int64")
    return x, y


def _model(spy=None, seed=0, optimizer="sgd"):
    keras.utils.set_random_seed(seed)
    layers = [keras.Input((3,))]
    if spy is not None:
        layers.append(spy)
    layers.append(keras.layers.Dense(2, activation="softmax"))
    model = keras.Sequential(layers)
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def test_history_keys_without_and_with_validation():
    x, y = _data()
    model = _model()
    assert list(model.fit(x, y, epochs=1, verbose=0).history) == ["accuracy", "loss"]
    history = model.fit(x, y, epochs=1, verbose=0, validation_data=(x, y))
    assert list(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    history = model.fit(x, y, epochs=1, verbose=0, validation_split=0.2)
    assert list(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]


@pytest.mark.parametrize("case", FACTS["data"]["validation_split"],
                         ids=lambda c: f"n{c['n']}-{c['split']}")
def test_split_sizes_match_keras(case):
    data = data_module.ArrayData([np.arange(case["n"], dtype="float32")[:, None]])
    if "error" in case:
        with pytest.raises(ValueError) as info:
            data.split(case["split"])
        assert str(info.value) == case["error"]
        return
    train, val = data.split(case["split"])
    assert (train.num_samples, val.num_samples) == (case["train"], case["val"])
    assert val.xs[0][0, 0] == case["val_first"]


def test_validation_split_is_the_last_part_taken_before_shuffling():
    x, y = _data(n=100)
    spy = Spy()
    model = _model(spy)
    history = model.fit(x, y, epochs=2, batch_size=16, shuffle=True, validation_split=0.2,
                        verbose=0)
    epoch_one = np.concatenate(spy.seen[: math.ceil(80 / 16)])
    assert sorted(epoch_one.tolist()) == list(range(80))  # never a validation sample
    assert epoch_one.tolist() != list(range(80))  # shuffled
    loss, acc = model.evaluate(x[80:], y[80:], verbose=0)
    assert history.history["val_loss"][-1] == pytest.approx(loss, rel=1e-6)
    assert history.history["val_accuracy"][-1] == pytest.approx(acc, rel=1e-6)


def test_validation_split_is_ignored_when_validation_data_is_given():
    x, y = _data(n=100)
    spy = Spy()
    model = _model(spy)
    history = model.fit(x, y, epochs=1, batch_size=100, validation_split=0.5,
                        validation_data=(x[:10], y[:10]), verbose=0)
    assert len(spy.seen[0]) == 100
    assert history.history["val_loss"][0] == pytest.approx(
        model.evaluate(x[:10], y[:10], verbose=0)[0], rel=1e-6)


def test_validation_data_with_sample_weights():
    x, y = _data(n=60)
    w = np.linspace(0.0, 2.0, 60).astype("float32")
    model = _model()
    history = model.fit(x, y, epochs=1, verbose=0, validation_data=(x, y, w))
    assert history.history["val_loss"][0] == pytest.approx(
        model.evaluate(x, y, sample_weight=w, verbose=0)[0], rel=1e-6)
    assert history.history["val_loss"][0] != pytest.approx(
        model.evaluate(x, y, verbose=0)[0], rel=1e-3)


def test_validation_batch_size_sets_the_test_batches():
    x, y = _data(n=50)
    model = _model()
    sizes = []
    counter = keras.callbacks.LambdaCallback(
        on_test_batch_end=lambda batch, logs: sizes.append(batch))
    model.fit(x, y, epochs=1, batch_size=10, verbose=0, validation_data=(x[:45], y[:45]),
              validation_batch_size=20, callbacks=[counter])
    assert sizes == [0, 1, 2]


@pytest.mark.parametrize("freq, label", [(2, "validation_freq_2"),
                                         ([1, 5], "validation_freq_list")])
def test_validation_freq_matches_keras(freq, label):
    x, y = _data(n=64)
    model = _model()
    history = model.fit(x, y, epochs=5, batch_size=16, validation_data=(x, y),
                        validation_freq=freq, verbose=0)
    assert {k: len(v) for k, v in history.history.items()} == FACTS["fit"][label]


@pytest.mark.parametrize("freq, match", [
    (0, r"`validation_freq` must be a positive integer. Received: validation_freq=0"),
    ("2", r"Expected `validation_freq` to be a list or int. Received: validation_freq=2 of "
          r"the type <class 'str'>"),
    (1.5, r"Expected `validation_freq` to be a list or int"),
])
def test_bad_validation_freq(freq, match):
    x, y = _data(n=20)
    with pytest.raises(ValueError, match=match):
        _model().fit(x, y, epochs=1, verbose=0, validation_data=(x, y), validation_freq=freq)


@pytest.mark.parametrize("validation_data, match", [
    ((np.zeros((4, 3)),), r"`validation_data` must be a tuple \(x_val, y_val\).*of length 1"),
    (np.zeros((4, 3)), r"`validation_data` must be a tuple"),
])
def test_bad_validation_data(validation_data, match):
    x, y = _data(n=20)
    with pytest.raises(ValueError, match=match):
        _model().fit(x, y, epochs=1, verbose=0, validation_data=validation_data)


@pytest.mark.parametrize("split", [1.0, -0.1, "0.2"])
def test_bad_validation_split(split):
    x, y = _data(n=20)
    with pytest.raises(ValueError, match=r"`validation_split` must be a float in \[0, 1\)"):
        _model().fit(x, y, epochs=1, verbose=0, validation_split=split)


def test_validation_split_needs_arrays():
    x, y = _data(n=20)
    batches = [(x[:10], y[:10]), (x[10:], y[10:])]
    with pytest.raises(ValueError, match=r"`validation_split` is only supported for tensors "
                                         r"or NumPy arrays"):
        _model().fit(iter(batches), epochs=1, verbose=0, validation_split=0.2)


# ------------------------------------------------------------------ weights
@pytest.mark.parametrize("kind", ["sparse", "column", "onehot"])
def test_class_weight_to_sample_weights_matches_keras(kind):
    facts = FACTS["data"]["class_weight"]
    cw = {int(k): v for k, v in facts["class_weight"].items()}
    y = np.array([0, 1, 2, 1, 0])
    y = {"sparse": y, "column": y[:, None].astype("float32"),
         "onehot": np.eye(3, dtype="float32")[y]}[kind]
    np.testing.assert_array_equal(data_module.class_weight_to_sample_weights(cw, y),
                                  facts[kind])


def test_class_weight_equals_the_matching_sample_weight():
    x, y = _data(n=64)
    cw = {0: 3.0, 1: 0.5}
    a, b = _model(seed=2), _model(seed=2)
    a.fit(x, y, epochs=2, batch_size=16, shuffle=False, class_weight=cw, verbose=0)
    b.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0,
          sample_weight=np.where(y == 0, 3.0, 0.5))
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)
    c = _model(seed=2)
    c.fit(x, y, epochs=2, batch_size=16, shuffle=False, verbose=0)
    assert not np.array_equal(a.get_weights()[0], c.get_weights()[0])


def test_class_weight_weighs_training_only():
    x, y = _data(n=100)
    model = _model()
    history = model.fit(x, y, epochs=1, verbose=0, validation_split=0.3,
                        class_weight={0: 10.0, 1: 0.1})
    assert history.history["val_loss"][0] == pytest.approx(
        model.evaluate(x[70:], y[70:], verbose=0)[0], rel=1e-6)


def test_class_weight_and_sample_weight_together_is_keras_error():
    x, y = _data(n=20)
    with pytest.raises(ValueError) as info:
        _model().fit(x, y, epochs=1, verbose=0, class_weight={0: 2.0},
                     sample_weight=np.ones(20))
    assert str(info.value) == FACTS["data"]["class_and_sample_weight"]["message"]


def test_evaluate_with_sample_weight_is_the_weighted_mean_over_samples():
    x, y = _data(n=40)
    w = np.random.default_rng(1).uniform(0, 3, size=40).astype("float32")
    model = _model()
    per_sample = keras.losses.sparse_categorical_crossentropy(y, model.predict(x, verbose=0))
    # Keras's sum_over_batch_size: divided by the number of samples, not by sum(w)
    loss = model.evaluate(x, y, sample_weight=w, batch_size=40, verbose=0)[0]
    assert loss == pytest.approx(float(np.mean(w * per_sample)), rel=1e-5)


@pytest.mark.parametrize("sample_weight, match", [
    (np.ones(7), r"Data cardinality is ambiguous.*sample_weight sizes: 7"),
    (np.array(["a"] * 20), r"Expected `sample_weight` to be a numeric array"),
    (2.0, r"Expected `sample_weight` to be a numeric array"),
])
def test_bad_sample_weight(sample_weight, match):
    x, y = _data(n=20)
    with pytest.raises(ValueError, match=match):
        _model().fit(x, y, epochs=1, verbose=0, sample_weight=sample_weight)


def test_bad_class_weight():
    x, y = _data(n=20)
    with pytest.raises(ValueError, match=r"`class_weight` must be a dict mapping class "
                                         r"indices to weights\. Received: class_weight=\[1, 2\]"):
        _model().fit(x, y, epochs=1, verbose=0, class_weight=[1, 2])
