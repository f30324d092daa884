"""Reference results of Keras 3's TextVectorization (on TensorFlow), for
tests/layers/test_text_vectorization.py.

Runs ONLY in the separate Keras venv (see README.md beside this file). Writes
tests/fixtures/keras/text_vectorization.json: for each set of arguments, the vocabulary
``adapt`` learns from five short texts, and the output (values and dtype) for three
more.

Usage:  /work/kerasenv/bin/python tools/keras_reference/make_text_vectorization_facts.py
"""

from __future__ import annotations

import json
import os

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
import numpy as np  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "..", "tests", "fixtures", "keras", "text_vectorization.json")
TEXTS = ["The cat sat on the mat.", "The dog ate my homework!", "A cat, a dog; and THE bird?",
         "mat mat mat dog", "éclair café Café"]
QUERIES = ["the cat ate the bird", "unknown words here", "mat"]
CASES = [{}, {"max_tokens": 6}, {"output_sequence_length": 4}, {"output_mode": "multi_hot"},
         {"output_mode": "count", "max_tokens": 5}, {"output_mode": "tf_idf"}, {"ngrams": 2},
         {"standardize": "lower", "split": "character", "max_tokens": 12},
         {"output_mode": "multi_hot", "pad_to_max_tokens": True, "max_tokens": 20},
         {"output_mode": "tf_idf", "max_tokens": 7, "pad_to_max_tokens": True},
         {"standardize": None}]


def facts(layers):
    out = {}
    for kwargs in CASES:
        layer = layers.TextVectorization(**kwargs)
        layer.adapt(np.array(TEXTS))
        result = np.asarray(layer(np.array(QUERIES)))
        out[json.dumps(kwargs, sort_keys=True)] = [layer.get_vocabulary(),
                                                   result.round(5).tolist(), str(result.dtype)]
    return out


if __name__ == "__main__":
    with open(OUT, "w", encoding="utf-8") as f:
        json.dump(facts(keras.layers), f, sort_keys=True, ensure_ascii=False)
    print("wrote", os.path.normpath(OUT))
