"""TextVectorization against Keras 3 on TensorFlow (tests/fixtures/keras/
text_vectorization.json, made by tools/keras_reference/make_text_vectorization_facts.py),
its errors and config, and the text-classification pipeline of *Deep Learning with
Python* (text_dataset_from_directory, adapt on the texts, dataset.map, fit)."""

import json
from pathlib import Path

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers

ROOT = Path(__file__).resolve().parents[2]


def test_vocabularies_and_outputs_are_keras(keras_maker):
    expected = json.loads((ROOT / "tests" / "fixtures" / "keras" / "text_vectorization.json"
                           ).read_text(encoding="utf-8"))
    facts = keras_maker("make_text_vectorization_facts.py").facts(layers)
    got = json.loads(json.dumps(facts, ensure_ascii=False))
    assert got.keys() == expected.keys()
    for key in expected:
        assert got[key] == expected[key], key


def test_given_vocabulary_file_and_round_trip(tmp_path):
    (tmp_path / "vocab.txt").write_text("cat\ndog\n", encoding="utf-8")
    layer = layers.TextVectorization(vocabulary=str(tmp_path / "vocab.txt"),
                                     output_sequence_length=3)
    np.testing.assert_array_equal(layer(["dog cat bird"]), [[3, 2, 1]])
    again = layers.TextVectorization.from_config(layer.get_config())
    assert again.get_vocabulary() == ["", "[UNK]", "cat", "dog"]
    with pytest.raises(ValueError, match="vocabulary was given"):
        layer.adapt(["x"])


def test_errors_say_what_is_expected():
    with pytest.raises(ValueError, match="output_mode"):
        layers.TextVectorization(output_mode="bag")
    with pytest.raises(ValueError, match="`output_sequence_length` must not be set"):
        layers.TextVectorization(output_mode="count", output_sequence_length=3)
    with pytest.raises(ValueError, match="no vocabulary"):
        layers.TextVectorization()(["a"])
    with pytest.raises(ValueError, match="last shape dimension must be 1"):
        vectorize = layers.TextVectorization(vocabulary=["a"])
        vectorize(np.array([["a", "b"]]))
    with pytest.raises(ValueError, match="idf_weights"):
        layers.TextVectorization(output_mode="tf_idf", vocabulary=["a"])
    with pytest.raises(NotImplementedError, match="dataset.map"):
        layers.TextVectorization(vocabulary=["a"])(keras.Input((1,)))


def test_the_text_classification_pipeline(tmp_path):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    words = {"pos": ["great", "fine", "lovely", "superb"], "neg": ["awful", "bad", "dull", "poor"]}
    for label, vocab in words.items():
        (tmp_path / label).mkdir()
        for i in range(30):
            text = " ".join(rng.choice(vocab + ["the", "movie", "was"], size=12))
            (tmp_path / label / f"{i}.txt").write_text(text.capitalize() + ".", encoding="utf-8")
    train, val = keras.utils.text_dataset_from_directory(
        tmp_path, batch_size=8, validation_split=0.2, subset="both", seed=1337)
    assert train.class_names == ["neg", "pos"]
    for text_batch, label_batch in train.take(1):
        assert isinstance(text_batch.numpy()[0], str) and label_batch.dtype == np.int32
    vectorize = layers.TextVectorization(max_tokens=50, output_mode="multi_hot")
    vectorize.adapt(train.map(lambda x, y: x))
    train_ds = train.map(lambda x, y: (vectorize(x), y))
    val_ds = val.map(lambda x, y: (vectorize(x), y))
    model = keras.Sequential([keras.Input((vectorize.vocabulary_size(),)),
                              layers.Dense(8, activation="relu"),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(train_ds, validation_data=val_ds, epochs=40, verbose=0)
    assert history.history["val_accuracy"][-1] >= 0.9


def test_a_standardize_function_gets_the_batch_as_tensorflow_strings_do():
    """TensorFlow's text-classification tutorial, its custom_standardization on the shim's
    tf.strings (as `tinyann run` serves `import tensorflow as tf`)."""
    import re
    import string

    from tinyann.runner.shims import tensorflow as tf

    def custom_standardization(input_data):
        lowercase = tf.strings.lower(input_data)
        stripped_html = tf.strings.regex_replace(lowercase, "<br />", " ")
        return tf.strings.regex_replace(stripped_html, f"[{re.escape(string.punctuation)}]",
                                        "")

    seen = []

    def spy(batch):
        seen.append(batch)
        return custom_standardization(batch)

    layer = layers.TextVectorization(standardize=spy, output_sequence_length=4)
    layer.adapt(np.array(["A <br />great<br />film!", "A dull film."]))
    assert isinstance(seen[0], np.ndarray) and seen[0].shape == (2,)
    assert layer.get_vocabulary() == ["", "[UNK]", "film", "a", "great", "dull"]
    np.testing.assert_array_equal(layer(["GREAT film, dull"]), [[4, 2, 5, 0]])
    assert tf.strings.lower("AbC") == "abc"
