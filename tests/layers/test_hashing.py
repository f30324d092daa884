"""Hashing and HashedCrossing: FarmHash Fingerprint64 against TensorFlow's buckets
(tests/fixtures/lookups/farmhash.json), the mask bin, the encodings, the errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers
from tinyann.layers import _farmhash

FARMHASH = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "lookups"
                       / "farmhash.json").read_text(encoding="utf-8"))


def test_fingerprint64_gives_tensorflows_buckets_for_every_length():
    strings = FARMHASH["strings"]
    lengths = [len(s.encode()) for s in strings]
    # every branch of the hash: 0, 1-3, 4-7, 8-16, 17-32, 33-64 and > 64 bytes
    branches = {0: 0, 1: 1, 2: 1, 3: 1} | {n: 2 for n in range(4, 8)} | {
        n: 3 for n in range(8, 17)} | {n: 4 for n in range(17, 33)} | {
        n: 5 for n in range(33, 65)}
    assert {branches.get(n, 6) for n in lengths} == set(range(7))
    large = FARMHASH["num_buckets_large"]
    assert [_farmhash.hash_bucket(s, large) for s in strings] == FARMHASH["buckets_large"]
    assert [_farmhash.hash_bucket(s, 1000) for s in strings] == FARMHASH["buckets_1000"]


def test_siphash_gives_tensorflows_strong_buckets():
    large = FARMHASH["num_buckets_large"]
    for key, expected in zip(FARMHASH["siphash_keys"], FARMHASH["siphash_buckets_large"]):
        assert [_farmhash.strong_hash_bucket(s, large, key)
                for s in FARMHASH["strings"]] == expected


def test_a_salt_keys_the_hash():
    salted = layers.Hashing(num_bins=64, salt=1337)
    assert salted.get_config()["salt"] == [1337, 1337]
    words = [f"w{i}" for i in range(20)]
    np.testing.assert_array_equal(
        salted(words).numpy(), [_farmhash.strong_hash_bucket(w, 64, [1337, 1337]) for w in words])
    assert not np.array_equal(salted(words).numpy(), layers.Hashing(64)(words).numpy())
    rebuilt = layers.Hashing.from_config(salted.get_config())
    np.testing.assert_array_equal(rebuilt(words).numpy(), salted(words).numpy())


def test_cross_buckets_are_tensorflows():
    ints, texts = FARMHASH["cross_ints"], FARMHASH["cross_texts"]
    crosses = FARMHASH["crosses"]
    assert [_farmhash.cross_bucket([i, t], 1000) for i, t in zip(ints, texts)] == \
        crosses["int_str"]
    assert [_farmhash.cross_bucket([t, i, t], 997) for i, t in zip(ints, texts)] == \
        crosses["str_int_str"]
    assert [_farmhash.cross_bucket([i, i], 2**40) for i in ints] == crosses["int_int"]


def test_hashing_is_the_bucket_of_the_text():
    layer = layers.Hashing(num_bins=7)
    words = np.array([["alpha"], ["beta"], ["12"]])
    expected = [[_farmhash.hash_bucket(w, 7)] for w in ("alpha", "beta", "12")]
    np.testing.assert_array_equal(layer(words).numpy(), expected)
    # ints and floats hash as their (truncated) decimal text, as in Keras
    np.testing.assert_array_equal(layer(np.array([[12], [-3]])).numpy(),
                                  [[_farmhash.hash_bucket("12", 7)],
                                   [_farmhash.hash_bucket("-3", 7)]])
    np.testing.assert_array_equal(layer(np.array([[12.9]])).numpy(), expected[2:])


def test_mask_value_takes_bin_zero():
    layer = layers.Hashing(num_bins=4, mask_value="")
    out = layer(np.array(["", "a", "b", ""])).numpy()
    assert out[0] == 0 and out[3] == 0
    assert out[1] == 1 + _farmhash.hash_bucket("a", 3)


def test_one_bin_with_a_mask_hashes_everything_to_zero():
    np.testing.assert_array_equal(layers.Hashing(1, mask_value="a")(["a", "b"]).numpy(), [0, 0])


@pytest.mark.parametrize("kwargs, error, match", [
    ({"num_bins": 0}, ValueError, "non-positive values. Received: num_bins=0"),
    ({"num_bins": None}, ValueError, "Received: num_bins=None"),
    ({"num_bins": 3, "output_mode": "hot"}, ValueError, "Received: output_mode=hot"),
    ({"num_bins": 3, "dtype": "float32"}, ValueError, "should be an integer type"),
    ({"num_bins": 3, "salt": "x"}, ValueError, "tuple of size 2 integers, or a single "
                                                "integer. Received: salt=x"),
    ({"num_bins": 3, "salt": (1, 2, 3)}, ValueError, r"Received: salt=\(1, 2, 3\)"),
])
def test_hashing_argument_errors(kwargs, error, match):
    with pytest.raises(error, match=match):
        layers.Hashing(**kwargs)


def test_hashed_crossing_int_and_one_hot():
    a, b = np.array([1, 2, 3]), np.array(["A", "B", "C"])
    ids = layers.HashedCrossing(num_bins=5)([a, b]).numpy()
    np.testing.assert_array_equal(ids, [_farmhash.cross_bucket([x, y], 5)
                                        for x, y in zip(a.tolist(), b.tolist())])
    one_hot = layers.HashedCrossing(num_bins=5, output_mode="one_hot")([a, b]).numpy()
    assert one_hot.dtype == np.float32
    np.testing.assert_array_equal(one_hot.argmax(-1), ids)


def test_hashed_crossing_errors_say_what_was_received():
    layer = layers.HashedCrossing(num_bins=5)
    with pytest.raises(ValueError, match="at least two inputs"):
        layer([np.array([1])])
    with pytest.raises(ValueError, match="list or tuple of inputs"):
        layer.call(np.array([1]))
    with pytest.raises(ValueError, match=r"equal shape. Received shapes: \[\(2,\), \(3,\)\]"):
        layer([np.array([1, 2]), np.array([1, 2, 3])])
    with pytest.raises(ValueError, match=r"shape `\(\)`, `\(batch_size\)` or `\(batch_size, 1\)`"):
        layer([np.ones((2, 2), int), np.ones((2, 2), int)])
    with pytest.raises(ValueError, match="integer or string dtype"):
        layer([np.array([0.5]), np.array([1])])
    with pytest.raises(ValueError, match="output_mode=multi_hot"):
        layers.HashedCrossing(3, output_mode="multi_hot")


def test_hashed_crossing_in_a_functional_model():
    a, b = keras.Input(shape=(1,)), keras.Input(shape=(1,))
    crossed = layers.HashedCrossing(num_bins=6, output_mode="one_hot")([a, b])
    assert crossed.shape == (None, 6)
    model = keras.Model([a, b], layers.Dense(1)(crossed))
    x1, x2 = np.array([[1], [2]]), np.array([[3], [4]])
    out = model.predict([x1, x2], verbose=0)
    dense = model.layers[-1].get_weights()
    bins = [_farmhash.cross_bucket([1, 3], 6), _farmhash.cross_bucket([2, 4], 6)]
    np.testing.assert_allclose(out[:, 0], dense[0][bins, 0] + dense[1][0], rtol=1e-6)


def test_hashing_in_a_model_and_a_keras_file(tmp_path):
    inputs = keras.Input(shape=(2,))
    hashed = layers.Hashing(num_bins=8, output_mode="multi_hot")(inputs)
    model = keras.Model(inputs, layers.Dense(1)(hashed))
    path = tmp_path / "hashing.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    x = np.array([[1, 5], [7, 7]])
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_int_mode_entry_loads_through_saving():
    entry = keras.saving.serialize_keras_object(layers.Hashing(5))
    assert entry["config"]["dtype"]["config"]["name"] == "int64"
    rebuilt = keras.saving.deserialize_keras_object(json.loads(json.dumps(entry)))
    assert rebuilt.get_config() == layers.Hashing(5, name=rebuilt.name).get_config()
