"""Reference results of Keras 3's categorical preprocessing layers (on TensorFlow), for
tests/layers/test_lookup*.py, test_hashing.py, test_discretization.py and
test_category_encoding.py.

Runs ONLY in the separate Keras venv (see README.md beside this file). Writes
tests/fixtures/lookups/facts.json: for each case (a layer's class and arguments, the
data ``adapt`` sees, if any, and the inputs it is called on) the vocabulary, IDF
weights, boundaries, config and each output's values, dtype and shape; and
tests/fixtures/lookups/farmhash.json: TensorFlow's hash buckets of many strings
(``to_hash_bucket_fast``) and crossed buckets (``sparse.cross_hashed``).

Usage:  /work/kerasenv/bin/python tools/keras_reference/make_lookup_facts.py
"""

from __future__ import annotations

import json
import os
import random

os.environ.setdefault("KERAS_BACKEND", "tensorflow")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "tests", "fixtures", "lookups")

WORDS = np.array([["cat", "dog"], ["dog", "bird"], ["bird", "dog"], ["émeu", "cat"],
                  ["ant", "bee"], ["bee", "ant"], ["", "cat"]])
QUERY = np.array([["cat", "zebra"], ["dog", "dog"], ["", "émeu"], ["ant", "yak"]])
INTS = np.array([[3, 5, 5], [7, 3, 5], [11, 3, 0], [7, 7, 2]])
INT_QUERY = np.array([[3, 4, 0], [5, 5, 11], [-6, 2, 99]])

# (class, arguments, adapt data or None, inputs to call it on)
CASES = [
    ("StringLookup", {}, WORDS, [QUERY, QUERY[:, 0], QUERY[0, 0]]),
    ("StringLookup", {"max_tokens": 4}, WORDS, [QUERY]),
    ("StringLookup", {"mask_token": ""}, WORDS, [QUERY]),
    ("StringLookup", {"num_oov_indices": 0}, WORDS, [WORDS]),
    ("StringLookup", {"num_oov_indices": 3}, WORDS, [QUERY, np.array(["q", "r", "s", "t"])]),
    ("StringLookup", {"oov_token": "<?>", "num_oov_indices": 2}, WORDS, [QUERY]),
    ("StringLookup", {"num_oov_indices": 5, "salt": 9}, WORDS,
     [np.array(["q", "r", "s", "t", "cat"])]),
    ("StringLookup", {"output_mode": "one_hot"}, WORDS, [QUERY, QUERY[:, :1], QUERY[:, 0]]),
    ("StringLookup", {"output_mode": "multi_hot"}, WORDS, [QUERY, QUERY[0], QUERY[:, None]]),
    ("StringLookup", {"output_mode": "count"}, WORDS, [QUERY]),
    ("StringLookup", {"output_mode": "count", "mask_token": ""}, WORDS, [QUERY]),
    ("StringLookup", {"output_mode": "tf_idf"}, WORDS, [QUERY, QUERY[0]]),
    ("StringLookup", {"output_mode": "tf_idf", "max_tokens": 8, "pad_to_max_tokens": True},
     WORDS, [QUERY]),
    ("StringLookup", {"output_mode": "multi_hot", "max_tokens": 9, "pad_to_max_tokens": True},
     WORDS, [QUERY]),
    ("StringLookup", {"vocabulary": ["dog", "cat", "émeu"]}, None, [QUERY]),
    ("StringLookup", {"vocabulary": ["[UNK]", "dog", "cat"]}, None, [QUERY]),
    ("StringLookup", {"vocabulary": ["dog", "cat"], "output_mode": "tf_idf",
                      "idf_weights": [0.5, 0.25]}, None, [QUERY]),
    ("StringLookup", {"vocabulary": ["dog", "cat", "ant"], "invert": True}, None,
     [np.array([[0, 1, 2], [3, 4, 9]])]),
    ("StringLookup", {"vocabulary": ["dog", "cat"], "invert": True, "mask_token": ""}, None,
     [np.array([[0, 1, 2, 3, 7]])]),
    ("IntegerLookup", {}, INTS, [INT_QUERY, INT_QUERY[:, 0]]),
    ("IntegerLookup", {"mask_token": 0}, INTS, [INT_QUERY]),
    ("IntegerLookup", {"max_tokens": 3, "oov_token": -7}, INTS, [INT_QUERY]),
    ("IntegerLookup", {"num_oov_indices": 3}, INTS, [INT_QUERY]),
    ("IntegerLookup", {"num_oov_indices": 3, "oov_method": "farmhash"}, INTS, [INT_QUERY]),
    ("IntegerLookup", {"num_oov_indices": 5, "oov_method": "farmhash", "salt": [3, 4]}, INTS,
     [INT_QUERY]),
    ("IntegerLookup", {"output_mode": "one_hot"}, INTS, [INT_QUERY[:, :1]]),
    ("IntegerLookup", {"output_mode": "multi_hot"}, INTS, [INT_QUERY]),
    ("IntegerLookup", {"output_mode": "count"}, INTS, [INT_QUERY]),
    ("IntegerLookup", {"output_mode": "tf_idf"}, INTS, [INT_QUERY]),
    ("IntegerLookup", {"vocabulary": [12, 36, 1138, 42]}, None,
     [np.array([[12, 1138, 42], [42, 1000, 36]])]),
    ("IntegerLookup", {"vocabulary": [12, 36, 1138, 42], "invert": True}, None,
     [np.array([[0, 1, 2], [3, 4, 9]])]),
    ("IntegerLookup", {"vocabulary": [12, 36], "invert": True, "mask_token": 0}, None,
     [np.array([[0, 1, 2, 3, 5]])]),
    ("CategoryEncoding", {"num_tokens": 5, "output_mode": "one_hot"}, None,
     [np.array([3, 2, 0, 1]), np.array([[3], [2]]), np.array([[1, 2], [4, 4]])]),
    ("CategoryEncoding", {"num_tokens": 5}, None,
     [np.array([[0, 1], [0, 0], [1, 2], [3, 1]]), np.array([1, 4, 4])]),
    ("CategoryEncoding", {"num_tokens": 6, "output_mode": "count"}, None,
     [np.array([[0, 1, 1], [5, 5, 5]]), np.array([[[0, 1], [2, 2]], [[3, 4], [5, 5]]])]),
    ("Hashing", {"num_bins": 3}, None,
     [np.array([["A"], ["B"], ["C"], ["D"], ["E"]]), np.array([[1], [22], [333]]),
      np.array([[1.5], [-2.7], [40.0]])]),
    ("Hashing", {"num_bins": 3, "mask_value": ""}, None,
     [np.array([["A"], ["B"], [""], ["C"], ["D"]])]),
    ("Hashing", {"num_bins": 4, "mask_value": 0}, None, [np.array([[0], [1], [2], [3]])]),
    ("Hashing", {"num_bins": 64, "salt": 1337}, None,
     [np.array([["A"], ["B"], ["C"], ["D"], ["E"]]), np.array([[1], [22], [333]])]),
    ("Hashing", {"num_bins": 16, "salt": (3, -4), "mask_value": "",
                 "output_mode": "multi_hot"}, None, [np.array([["A", ""], ["B", "C"]])]),
    ("Hashing", {"num_bins": 5, "output_mode": "one_hot"}, None,
     [np.array([["A"], ["B"], ["C"]]), np.array(["A", "B"])]),
    ("Hashing", {"num_bins": 5, "output_mode": "multi_hot"}, None,
     [np.array([["A", "B"], ["C", "C"]])]),
    ("Hashing", {"num_bins": 5, "output_mode": "count"}, None,
     [np.array([["A", "B"], ["C", "C"]])]),
    ("HashedCrossing", {"num_bins": 5}, None,
     [[np.array([1, 2, 3]), np.array(["A", "B", "C"])],
      [np.array([["A"], ["B"]]), np.array([[10], [20]]), np.array([["x"], ["y"]])]]),
    ("HashedCrossing", {"num_bins": 7, "output_mode": "one_hot"}, None,
     [[np.array([[1], [2]]), np.array([[5], [6]])], [np.array([1, 2]), np.array([5, 6])]]),
    ("Discretization", {"bin_boundaries": [0.0, 1.0, 2.0]}, None,
     [np.array([[-1.5, 1.0, 0.1], [0.5, 2.0, 3.0]])]),
    ("Discretization", {"bin_boundaries": [0.0, 1.0, 2.0], "output_mode": "one_hot"}, None,
     [np.array([[-1.5], [1.0], [2.5]]), np.array([0.5, 1.5])]),
    ("Discretization", {"bin_boundaries": [0.0, 1.0, 2.0], "output_mode": "multi_hot"},
     None, [np.array([[-1.5, 1.0], [0.5, 0.6]])]),
    ("Discretization", {"bin_boundaries": [0.0, 1.0, 2.0], "output_mode": "count"}, None,
     [np.array([[-1.5, 1.0], [0.5, 0.6]])]),
    ("Discretization", {"num_bins": 4}, np.arange(20.0).reshape(10, 2),
     [np.array([[1.0, 5.0, 9.0, 19.5]])]),
    ("Discretization", {"num_bins": 5, "epsilon": 0.001},
     np.random.default_rng(0).normal(size=(500, 1)), [np.array([[-1.0, 0.0, 0.3, 2.0]])]),
    ("Discretization", {"num_bins": 6, "epsilon": 0.02},
     [np.random.default_rng(2).uniform(size=(n, 2)) * n for n in (40, 130, 7)],
     [np.array([[0.5, 10.0, 50.0, 100.0]])]),
    ("Discretization", {"num_bins": 3, "epsilon": 0.1},
     np.random.default_rng(1).exponential(size=(300,)), [np.array([0.1, 0.7, 3.0])]),
]


def plain(value):
    """JSON-ready: arrays as lists, bytes as str, numpy scalars as Python's."""
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, bytes):
        return value.decode("utf-8")
    if isinstance(value, np.generic):
        return value.item()
    return value


def run_case(name, kwargs, data, inputs):
    layer = getattr(keras.layers, name)(**kwargs)
    batches = isinstance(data, list)  # an iterable of batches of different sizes
    fact = {"class": name, "kwargs": plain(kwargs),
            "adapt": None if data is None else plain(data), "adapt_batches": batches,
            "adapt_dtype": None if data is None else str(np.asarray(data[0] if batches
                                                                   else data).dtype)}
    if data is not None:
        layer.adapt(data)
    if hasattr(layer, "get_vocabulary"):
        fact["vocabulary"] = plain(layer.get_vocabulary())
        fact["vocabulary_size"] = int(layer.vocabulary_size())
        if getattr(layer, "idf_weights", None) is not None:
            fact["idf_weights"] = plain(np.asarray(layer.idf_weights))
    if name == "Discretization":
        fact["bin_boundaries"] = plain(layer.bin_boundaries)
    fact["config"] = plain({k: v for k, v in layer.get_config().items() if k != "name"})
    fact["calls"] = []
    for x in inputs:
        out = layer([np.asarray(a) for a in x] if isinstance(x, list) else x)
        out = np.asarray(out)
        fact["calls"].append({
            "input": plain(x),
            "input_dtype": [str(np.asarray(a).dtype) for a in x] if isinstance(x, list)
            else str(np.asarray(x).dtype),
            "output": plain(out), "dtype": str(out.dtype) if out.dtype.kind != "O"
            else "string", "shape": list(out.shape)})
    return fact


def farmhash_facts():
    rng = random.Random(0)
    strings = ["", "a", "ab", "abc", "abcd", "hello", "12345678", "héllo wörld", "x" * 17,
               "y" * 33, "z" * 64, "q" * 65, "w" * 200, "-42", "0", "1138"]
    strings += ["".join(chr(rng.randint(32, 126)) for _ in range(rng.randint(0, 150)))
                for _ in range(200)]
    strings += ["".join(chr(rng.randint(32, 3000)) for _ in range(rng.randint(1, 40)))
                for _ in range(50)]
    buckets = 2**62 + 12345  # large: the remainder shows most of the fingerprint's bits
    small = tf.strings.to_hash_bucket_fast(strings, 1000).numpy()
    large = tf.strings.to_hash_bucket_fast(strings, buckets).numpy()
    ints = [1, 2, -3, 2**40, 0, 77]
    texts = ["a", "b", "c", "dd", "", "émeu"]
    a = tf.constant([[v] for v in ints], dtype="int64")
    b = tf.constant([[t] for t in texts])
    crosses = {
        "int_str": tf.sparse.to_dense(tf.sparse.cross_hashed([a, b], 1000)).numpy().ravel(),
        "str_int_str": tf.sparse.to_dense(
            tf.sparse.cross_hashed([b, a, b], 997)).numpy().ravel(),
        "int_int": tf.sparse.to_dense(tf.sparse.cross_hashed([a, a], 2**40)).numpy().ravel()}
    keys = [[1337, 1337], [1, 2], [-5, 12345678901234]]
    strong = [plain(tf.strings.to_hash_bucket_strong(strings, buckets, key=k).numpy())
              for k in keys]
    return {"strings": strings, "num_buckets_large": buckets,
            "siphash_keys": keys, "siphash_buckets_large": strong,
            "buckets_1000": plain(small), "buckets_large": plain(large),
            "cross_ints": ints, "cross_texts": texts,
            "crosses": {k: plain(v) for k, v in crosses.items()}}


def main():
    os.makedirs(OUT, exist_ok=True)
    facts = {"keras_version": keras.__version__, "tensorflow_version": tf.__version__,
             "cases": [run_case(*case) for case in CASES]}
    with open(os.path.join(OUT, "facts.json"), "w", encoding="utf-8") as f:
        json.dump(facts, f, ensure_ascii=False, indent=0)
    with open(os.path.join(OUT, "farmhash.json"), "w", encoding="utf-8") as f:
        json.dump(farmhash_facts(), f, ensure_ascii=False, indent=0)
    print("wrote", OUT)


if __name__ == "__main__":
    main()
