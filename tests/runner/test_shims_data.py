"""The served ``tf.data.Dataset``: tf.data's semantics (facts recorded from TensorFlow
in tests/fixtures/keras/tf_data_facts.json) and use with fit / evaluate / predict."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tinyann as keras
from tinyann.runner.shims import tensorflow as tf
from tinyann.runner.shims._errors import NotServedError
from tinyann.runner.shims.data import Dataset

FACTS = json.loads((Path(__file__).parents[1] / "fixtures" / "keras" / "tf_data_facts.json")
                   .read_text())


def ints(ds):
    return [int(v) for v in ds.as_numpy_iterator()]


# ---------------------------------------------------------------------- cardinality
def _pipelines():
    r = Dataset.range(100)
    return {
        "range(100)": r, "shuffle(10)": r.shuffle(10), "take(70)": r.take(70),
        "skip(70)": r.skip(70), "take(-1)": r.take(-1), "skip(-1)": r.skip(-1),
        "take(200)": r.take(200), "skip(200)": r.skip(200),
        "shuffle(10).take(70).batch(20)": r.shuffle(10).take(70).batch(20),
        "shuffle(10).skip(70).batch(20)": r.shuffle(10).skip(70).batch(20),
        "batch(30, drop_remainder=True)": r.batch(30, drop_remainder=True),
        "repeat()": r.repeat(), "repeat(3)": r.repeat(3), "repeat().take(5)": r.repeat().take(5),
        "repeat().batch(3)": r.repeat().batch(3), "repeat().skip(5)": r.repeat().skip(5),
        "filter": r.filter(lambda x: x > 3), "filter.take(5)": r.filter(lambda x: x > 3).take(5),
        "map": r.map(lambda x: x * 2),
        "cache.prefetch(AUTOTUNE)": r.cache().prefetch(tf.data.AUTOTUNE),
    }


@pytest.mark.parametrize("name", sorted(FACTS["cardinality"]))
def test_cardinality_matches_tensorflow(name):
    ds = _pipelines()[name]
    expected = FACTS["cardinality"][name]
    assert int(ds.cardinality()) == expected
    assert int(tf.data.experimental.cardinality(ds).numpy()) == expected
    if expected >= 0:
        assert len(ds) == expected
        # the cardinality is what a pass really yields (finite pipelines)
        assert sum(1 for _ in ds) == expected


@pytest.mark.parametrize("kind", ["infinite", "unknown"])
def test_len_of_infinite_or_unknown_raises_tensorflows_error(kind):
    ds = Dataset.range(3).repeat() if kind == "infinite" else Dataset.range(3).filter(
        lambda x: x > 0)
    fact = FACTS["len_errors"][kind]
    with pytest.raises(TypeError, match=f"^{fact['message']}$"):
        len(ds)


# ---------------------------------------------------------------------- shuffle
@pytest.mark.parametrize("key,reshuffle,seed", [
    ("split_reshuffle", True, None), ("split_reshuffle_seeded", True, 7),
    ("split_no_reshuffle", False, None)])
def test_take_skip_split_of_a_shuffled_dataset_behaves_as_in_tensorflow(key, reshuffle, seed):
    fact = FACTS[key]
    ds = Dataset.range(100).shuffle(30, seed=seed, reshuffle_each_iteration=reshuffle)
    take, skip = ds.take(70), ds.skip(70)
    overlaps, orders, skip_sets = [], [], []
    for _ in range(fact["passes"]):
        t, s = ints(take), ints(skip)
        assert len(t) == fact["take_len"] and len(s) == fact["skip_len"]
        overlaps.append(len(set(t) & set(s)))
        orders.append(tuple(t))
        skip_sets.append(frozenset(s))
    # TF: with reshuffling every pass draws a new order, so take and skip overlap
    # (50 of 50 passes); without it they are a fixed, disjoint split
    assert sum(o > 0 for o in overlaps) == fact["passes_with_overlap"]
    assert len(set(orders)) == fact["distinct_take_orders"]
    assert len(set(skip_sets)) == fact["distinct_skip_sets"]


def test_shuffle_buffer_limits_how_far_ahead_an_element_moves():
    fact = FACTS["buffer"]
    ds = Dataset.range(fact["range"]).shuffle(fact["buffer_size"])
    ahead, first = 0, set()
    for _ in range(fact["passes"] * 4):
        order = ints(ds)
        assert sorted(order) == list(range(fact["range"]))
        ahead = max(ahead, max(i - p for p, i in enumerate(order)))
        first.add(order[0])
    assert ahead == fact["max_ahead"]
    assert sorted(first) == fact["first_elements"]


def test_full_buffer_shuffle_is_uniform_over_positions():
    # buffer >= size: every element is equally likely first (chi-square-free check:
    # 4000 passes, each of 5 elements should come first ~800 times)
    ds = Dataset.range(5).shuffle(5, seed=1)
    counts = np.bincount([next(iter(ds.as_numpy_iterator())) for _ in range(4000)],
                         minlength=5)
    assert counts.min() > 650 and counts.max() < 950


def test_seeded_facts_match_tensorflow():
    fact = FACTS["seeded"]

    def orders():
        ds = Dataset.range(20).shuffle(20, seed=7)
        return [ints(ds) for _ in range(3)]

    a, b = orders(), orders()
    assert (a == b) is fact["same_seed_same_orders"]
    assert (a[0] != a[1]) is fact["passes_differ"]
    cached = Dataset.range(20).shuffle(20, seed=7).cache()
    assert (ints(cached) == ints(cached)) is fact["cache_replays_first_pass"]
    repeated = ints(Dataset.range(10).shuffle(10, seed=3).repeat(2))
    assert (repeated[:10] != repeated[10:]) is fact["repeat_reshuffles_each_repetition"]
    assert sorted(repeated[:10]) == sorted(repeated[10:]) == list(range(10))


def test_unseeded_shuffle_follows_the_global_seed():
    tf.random.set_seed(5)
    first = ints(Dataset.range(50).shuffle(50))
    keras.utils.set_random_seed(5)
    second = ints(Dataset.range(50).shuffle(50))
    keras.utils.set_random_seed(6)
    third = ints(Dataset.range(50).shuffle(50))
    assert first == second
    assert first != third


def test_shuffle_of_mapped_elements_uses_the_same_buffer_rule():
    ds = Dataset.range(30).map(lambda x: x * 10).shuffle(3, seed=0)
    out = ints(ds)
    assert sorted(out) == list(range(0, 300, 10))
    assert max(v // 10 - p for p, v in enumerate(out)) <= 2


# ---------------------------------------------------------------------- elements
def test_batches_have_tensorflows_shapes_and_dtypes():
    ds = Dataset.from_tensor_slices((np.zeros((5, 2)), np.arange(5)))
    got = [[[list(t.shape), t.dtype.name] for t in b] for b in ds.batch(2)]
    assert got == FACTS["batch"]["batches"]
    assert len(list(ds.batch(2, drop_remainder=True))) == FACTS["batch"]["drop_remainder_batches"]
    mapped = [[int(v) for v in b[1]] for b in ds.map(lambda x, y: (x + 1, y * 10)).batch(5)]
    assert mapped == FACTS["batch"]["map_then_batch_y"]


def test_elements_answer_numpy_and_batches_gather_the_right_rows():
    x = np.arange(24, dtype="float64").reshape(12, 2)
    y = np.arange(12)
    ds = Dataset.from_tensor_slices((x, y)).shuffle(12, seed=3).batch(5)
    seen = []
    for xb, yb in ds:
        np.testing.assert_array_equal(xb.numpy(), x[yb.numpy()])
        seen.extend(yb.numpy().tolist())
    assert sorted(seen) == list(range(12))
    first = next(iter(Dataset.from_tensor_slices(y)))
    assert first.numpy() == 0 and isinstance(first.numpy(), np.integer)
    assert "tf.Tensor" in repr(first)


def test_dict_elements_and_filter_and_skip_of_everything():
    ds = Dataset.from_tensor_slices({"a": np.arange(6), "b": np.arange(6) * 2})
    evens = ds.filter(lambda e: e["a"] % 2 == 0)
    assert [int(e["b"]) for e in evens] == [0, 4, 8]
    assert list(ds.skip(-1)) == []
    assert ints(Dataset.range(3).repeat().take(7)) == [0, 1, 2, 0, 1, 2, 0]


def test_from_tensor_slices_checks_sizes():
    with pytest.raises(ValueError, match=r"same size in its first dimension. Received sizes "
                                         r"\[3, 4\]"):
        Dataset.from_tensor_slices((np.zeros(3), np.zeros(4)))
    with pytest.raises(ValueError, match="rank >= 1"):
        Dataset.from_tensor_slices(np.float64(1.0))


@pytest.mark.parametrize("call,match", [
    (lambda: Dataset.range(3).shuffle(0), "buffer_size must be greater than zero"),
    (lambda: Dataset.range(3).batch(0), "`batch_size` must be positive"),
    (lambda: Dataset.range(3).take(1.5), "`count` must be an integer"),
    (lambda: Dataset.range(3).map(3), "`map_func` must be callable"),
    (lambda: Dataset.range(3).shuffle(3, seed=-1), r"`seed` must be >= 0"),
])
def test_bad_arguments_get_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_unserved_dataset_method_names_itself_and_an_equivalent():
    with pytest.raises(NotServedError, match=r"`tf.data.Dataset.from_generator` is not served "
                                             r".*Use model.fit\(generator\)"):
        _ = Dataset.from_generator
    with pytest.raises(AttributeError, match="padded_batch"):
        Dataset.range(3).padded_batch(2)


# ---------------------------------------------------------------------- with models
def _model(seed=0):
    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _data(n=90):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 4))  # float64, as `x / 255.0` gives
    return x, (x[:, 0] > 0).astype(int) + (x[:, 1] > 0)


def test_evaluate_and_predict_on_a_dataset_equal_the_array_results():
    x, y = _data()
    model = _model()
    ds = Dataset.from_tensor_slices((x, y)).batch(16)
    np.testing.assert_allclose(model.evaluate(ds, verbose=0),
                               model.evaluate(x, y, batch_size=16, verbose=0), rtol=1e-6)
    np.testing.assert_allclose(model.predict(ds, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)
    np.testing.assert_allclose(model.predict(Dataset.from_tensor_slices(x).batch(7), verbose=0),
                               model.predict(x, verbose=0), rtol=1e-6)


def test_fit_on_unshuffled_batches_equals_fit_on_arrays_without_shuffling():
    x, y = _data()
    a, b = _model(), _model()
    ha = a.fit(Dataset.from_tensor_slices((x, y)).batch(10), epochs=2, verbose=0)
    hb = b.fit(x, y, batch_size=10, epochs=2, shuffle=False, verbose=0)
    np.testing.assert_allclose(ha.history["loss"], hb.history["loss"], rtol=1e-6)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-6)


def test_fit_redraws_the_take_skip_split_every_epoch_as_tensorflow_does():
    x, y = _data()
    idx = np.arange(len(x))
    passes = {"train": [], "val": []}

    def record(which):
        def fn(xi, yi, i):
            passes[which][-1].append(int(i))
            return xi, yi
        return fn

    class NewPass(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            passes["train"].append([])
            passes["val"].append([])

    ds = Dataset.from_tensor_slices((x, y, idx)).shuffle(len(x))
    train_ds = ds.take(60).map(record("train")).batch(10)
    val_ds = ds.skip(60).map(record("val")).batch(10)
    history = _model().fit(train_ds, validation_data=val_ds, epochs=3, verbose=0,
                           callbacks=[NewPass()])
    assert len(history.history["val_accuracy"]) == 3
    assert [len(p) for p in passes["train"]] == [60, 60, 60]
    assert [len(p) for p in passes["val"]] == [30, 30, 30]
    val_sets = [frozenset(p) for p in passes["val"]]
    assert len(set(val_sets)) == 3  # a new "validation set" each epoch
    assert any(set(t) & set(v) for t, v in zip(passes["train"], passes["val"]))
