"""StringLookup and IntegerLookup beyond the Keras parity cases: adapt from every kind
of data, given vocabularies (lists, files, special tokens), invert round trips, the
errors, configs, datasets' map and models (fit, predict, .keras files)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers
from tinyann.utils import PyDataset

WORDS = np.array([["cat", "dog"], ["dog", "bird"], ["bird", "dog"], ["ant", "cat"]])


def _tf():
    from tinyann.runner.shims import tensorflow as tf

    return tf


# ------------------------------------------------------------------ adapt
def test_adapt_orders_by_count_then_term_descending():
    layer = layers.StringLookup()
    layer.adapt(["z", "y", "x", "y", "x", "w", "éa", "éa"])
    # y, x and éa twice: the UTF-8 bytes of 'éa' sort above 'y'
    assert layer.get_vocabulary() == ["[UNK]", "éa", "y", "x", "z", "w"]
    ints = layers.IntegerLookup()
    ints.adapt(np.array([4, 9, 4, 9, -2, 100]))
    assert ints.get_vocabulary() == [-1, 9, 4, 100, -2]


def test_adapt_from_lists_generators_datasets_and_pydatasets_agree():
    expected = layers.StringLookup()
    expected.adapt(WORDS)

    class Batches(PyDataset):
        def __len__(self):
            return 2

        def __getitem__(self, i):
            return WORDS[2 * i:2 * i + 2], np.zeros(2)

    tf = _tf()
    sources = [WORDS.tolist(), (b for b in (WORDS[:1], WORDS[1:])),
               tf.data.Dataset.from_tensor_slices(WORDS).batch(3),
               tf.data.Dataset.from_tensor_slices((WORDS, np.zeros(4))).batch(2)
               .map(lambda x, y: x),
               Batches()]
    for data in sources:
        layer = layers.StringLookup()
        layer.adapt(data)
        assert layer.get_vocabulary() == expected.get_vocabulary()


def test_adapt_steps_stops_early():
    layer = layers.StringLookup()
    layer.adapt(iter([np.array(["a", "a"]), np.array(["b", "b", "b"])]), steps=1)
    assert layer.get_vocabulary() == ["[UNK]", "a"]


def test_adapt_to_no_data_leaves_the_special_tokens():
    layer = layers.StringLookup(mask_token="")
    layer.adapt(iter([]))
    assert layer.get_vocabulary() == ["", "[UNK]"]
    np.testing.assert_array_equal(layer(["a", ""]).numpy(), [1, 0])


def test_adapt_again_replaces_the_vocabulary():
    layer = layers.StringLookup()
    layer.adapt(["a", "b"])
    layer.adapt(["c"])
    assert layer.get_vocabulary() == ["[UNK]", "c"]


def test_tf_idf_of_a_vector_counts_one_document():
    # Keras takes a 1-D batch from a dataset as one document
    layer = layers.StringLookup(output_mode="tf_idf")
    layer.adapt(iter([np.array(["a", "b", "a"])]))
    np.testing.assert_allclose(layer.idf_weights[1:], [np.log(1 + 1 / 2)] * 2, rtol=1e-6)


def test_adapt_drops_the_special_tokens_and_keeps_max_tokens():
    layer = layers.StringLookup(max_tokens=3, mask_token="")
    layer.adapt(["", "", "", "[UNK]", "[UNK]", "a", "b", "b"])
    assert layer.get_vocabulary() == ["", "[UNK]", "b"]


# ------------------------------------------------------------------ vocabularies
def test_vocabulary_file_and_include_special_tokens(tmp_path):
    path = tmp_path / "vocab.txt"
    path.write_text("dog\ncat\némeu\n\n", encoding="utf-8")
    layer = layers.StringLookup(vocabulary=str(path))
    assert layer.get_vocabulary() == ["[UNK]", "dog", "cat", "émeu"]
    assert layer.get_vocabulary(include_special_tokens=False) == ["dog", "cat", "émeu"]
    assert layer.vocabulary_size() == 4
    np.testing.assert_array_equal(layer(["émeu", "x"]).numpy(), [3, 0])
    ints = tmp_path / "ints.txt"
    ints.write_text("12\n7\n", encoding="utf-8")
    assert layers.IntegerLookup(vocabulary=str(ints)).get_vocabulary() == [-1, 12, 7]


def test_set_vocabulary_with_and_without_special_tokens():
    layer = layers.StringLookup(mask_token="")
    layer.set_vocabulary(["", "[UNK]", "a", "b"])
    assert layer.get_vocabulary() == ["", "[UNK]", "a", "b"]
    layer.set_vocabulary(np.array(["b", "a"]))
    assert layer.get_vocabulary() == ["", "[UNK]", "b", "a"]
    np.testing.assert_array_equal(layer([["a", "", "q"]]).numpy(), [[3, 0, 1]])


def test_bytes_inputs_are_decoded():
    layer = layers.StringLookup(vocabulary=["é"])
    np.testing.assert_array_equal(layer(np.array(["é".encode(), b"x"], dtype=object)).numpy(),
                                  [1, 0])


def test_invert_round_trips():
    forward = layers.StringLookup(vocabulary=["a", "b", "c"], mask_token="")
    inverse = layers.StringLookup(vocabulary=forward.get_vocabulary(), mask_token="",
                                  invert=True)
    words = np.array([["c", "a", ""], ["b", "zz", "a"]])
    back = inverse(forward(words)).numpy()
    assert back.tolist() == [["c", "a", ""], ["b", "[UNK]", "a"]]
    ints = layers.IntegerLookup(vocabulary=[7, 9])
    inverse = layers.IntegerLookup(vocabulary=[7, 9], invert=True)
    np.testing.assert_array_equal(inverse(ints([[9, 7, 3]])).numpy(), [[9, 7, -1]])
    assert inverse(ints([[9]])).numpy().dtype == np.int64


def test_multi_oov_buckets_are_stable_and_in_range():
    layer = layers.StringLookup(vocabulary=["a"], num_oov_indices=4)
    words = [f"w{i}" for i in range(50)]
    ids = layer(words).numpy()
    assert ids.min() >= 0 and ids.max() <= 3 and len(set(ids.tolist())) == 4
    np.testing.assert_array_equal(layer(words).numpy(), ids)
    assert layer(["a"]).numpy()[0] == 4


def test_pad_to_max_tokens_gives_max_tokens_columns():
    layer = layers.StringLookup(max_tokens=10, pad_to_max_tokens=True, output_mode="count")
    layer.adapt(["a", "b"])
    out = layer([["a", "a", "q"]]).numpy()
    assert out.shape == (1, 10)
    np.testing.assert_array_equal(out[0, :3], [1, 0, 2])


# ------------------------------------------------------------------ errors
@pytest.mark.parametrize("kwargs, match", [
    ({"max_tokens": 1}, "must be greater than 1. Received: max_tokens=1"),
    ({"num_oov_indices": -1}, "greater than or equal to 0. Received: num_oov_indices=-1"),
    ({"output_mode": "dense"}, r"Allowed values are: .*Received: output_mode=dense"),
    ({"invert": True, "output_mode": "count"}, "must be `'int'` when `invert` is true"),
    ({"pad_to_max_tokens": True}, "must set `max_tokens`. Received: max_tokens=None"),
    ({"idf_weights": [1.0]}, "only be set if `output_mode` is `'tf_idf'`"),
    ({"vocabulary": ["a"], "output_mode": "tf_idf"}, "`idf_weights` argument must also"),
    ({"vocabulary": ["a", "b", "a"]}, r"repeated term.*\['a'\]"),
    ({"vocabulary": ["a", "[UNK]"], "invert": True}, "reserved token.*oov_token=\\[UNK\\]"),
    ({"vocabulary": ["a", ""], "mask_token": ""}, "reserved token.*mask_token="),
    ({"vocabulary": ["a", "b", "c"], "max_tokens": 3}, "vocabulary size is 4; `max_tokens`"),
    ({"vocabulary": []}, "Cannot set an empty vocabulary"),
    ({"vocabulary": ["a", "b"], "output_mode": "tf_idf", "idf_weights": [1.0]},
     "same length as vocabulary. len\\(idf_weights\\) is 1; len\\(vocabulary\\) is 2"),
    ({"vocabulary": "/nonexistent/vocab.txt"}, "Vocabulary file /nonexistent/vocab.txt does"),
    ({"oov_method": "modulo"}, "Received: oov_method=modulo"),
])
def test_bad_arguments_say_what_was_expected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        layers.StringLookup(**kwargs)


def test_bad_integer_arguments():
    with pytest.raises(ValueError, match="vocabulary_dtype='int64'"):
        layers.IntegerLookup(vocabulary_dtype="int32")
    with pytest.raises(ValueError, match="Received: max_tokens=0"):
        layers.IntegerLookup(max_tokens=0)
    with pytest.raises(ValueError, match="`salt` can only be used when "
                                         "`oov_method='farmhash'`. Received: oov_method=floormod"):
        layers.IntegerLookup(salt=3)
    with pytest.raises(ValueError, match="Received: salt=1.5"):
        layers.StringLookup(salt=1.5)


def test_bad_inputs_say_what_was_received():
    strings = layers.StringLookup(vocabulary=["a"])
    with pytest.raises(ValueError, match="expected string input, but received an array of "
                                         "dtype int64"):
        strings(np.array([1, 2]))
    ints = layers.IntegerLookup(vocabulary=[1])
    with pytest.raises(ValueError, match="expected integer input.*dtype <U1"):
        ints(np.array(["a"]))
    with pytest.raises(ValueError, match="non-integer floats"):
        ints(np.array([1.5]))
    with pytest.raises(ValueError, match=r"found OOV values \['zz'\], consider setting "
                                         "`num_oov_indices=1`"):
        layers.StringLookup(vocabulary=["a"], num_oov_indices=0)(["a", "zz"])
    with pytest.raises(ValueError, match="has no vocabulary"):
        layers.StringLookup()(["a"])
    with pytest.raises(ValueError, match="invert=True expected integer ids.*dtype <U1"):
        layers.StringLookup(vocabulary=["a"], invert=True)(["a"])
    fixed = layers.StringLookup(vocabulary=["a"])
    with pytest.raises(ValueError, match="Cannot adapt layer .* after setting a static"):
        fixed.adapt(["a"])


# ------------------------------------------------------------------ configs
def test_a_keras_config_of_an_adapted_layer_says_where_its_vocabulary_went():
    facts = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "lookups"
                        / "facts.json").read_text(encoding="utf-8"))
    config = next(c["config"] for c in facts["cases"]
                  if c["class"] == "StringLookup" and c["adapt"] is not None)
    assert config["vocabulary"] is None and config["vocabulary_size"] == 8
    layer = layers.StringLookup.from_config(config)
    with pytest.raises(ValueError, match="vocabulary_size=8.*assets.*`set_vocabulary`"):
        layer(["cat"])
    layer.set_vocabulary(["cat", "dog"])
    np.testing.assert_array_equal(layer(["dog"]).numpy(), [2])


@pytest.mark.parametrize("make", [
    lambda: layers.StringLookup(max_tokens=5, mask_token="", output_mode="multi_hot"),
    lambda: layers.StringLookup(output_mode="tf_idf", max_tokens=8, pad_to_max_tokens=True),
    lambda: layers.IntegerLookup(mask_token=0, num_oov_indices=2),
    lambda: layers.IntegerLookup(output_mode="tf_idf"),
])
def test_adapted_layers_round_trip_their_config(make):
    layer = make()
    data = WORDS if isinstance(layer, layers.StringLookup) else np.array([[1, 2], [2, 0]])
    layer.adapt(data)
    config = json.loads(json.dumps(layer.get_config()))
    rebuilt = type(layer).from_config(config)
    assert rebuilt.get_vocabulary() == layer.get_vocabulary()
    assert rebuilt.get_config() == config
    np.testing.assert_array_equal(rebuilt(data).numpy(), layer(data).numpy())


# ------------------------------------------------------------------ pipelines and models
def test_dataset_map_before_fit():
    tf = _tf()
    keras.utils.set_random_seed(0)
    colours = np.array(["red", "green", "blue", "red", "blue", "green"] * 10)
    labels = (colours == "red").astype("float32")
    lookup = layers.StringLookup(output_mode="one_hot")
    lookup.adapt(colours)
    ds = tf.data.Dataset.from_tensor_slices((colours, labels)).batch(12).map(
        lambda x, y: (lookup(x), y))
    x_batch, _ = next(iter(ds))
    assert x_batch.shape == (12, 4)
    model = keras.Sequential([keras.Input((4,)), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(ds, epochs=20, verbose=0)
    assert history.history["accuracy"][-1] == 1.0


def test_in_a_functional_model_fit_predict_and_keras_file(tmp_path):
    keras.utils.set_random_seed(0)
    ids = np.array([[3], [5], [7], [9], [3], [7]] * 8)
    y = (ids[:, 0] == 7).astype("float32")
    lookup = layers.IntegerLookup(output_mode="multi_hot")
    lookup.adapt(ids)
    inputs = keras.Input(shape=(1,))
    outputs = layers.Dense(1, activation="sigmoid")(lookup(inputs))
    model = keras.Model(inputs, outputs)
    assert lookup.output.dtype == "float32" and lookup.output.shape == (None, 5)
    model.compile(optimizer=keras.optimizers.Adam(0.1), loss="binary_crossentropy")
    model.fit(ids, y, epochs=30, verbose=0)
    pred = model.predict(np.array([[7], [3], [42]]), verbose=0)
    assert pred[0, 0] > 0.8 and pred[1, 0] < 0.2
    path = tmp_path / "lookup.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.layers[1].get_vocabulary() == lookup.get_vocabulary()
    np.testing.assert_allclose(loaded.predict(np.array([[7], [3], [42]]), verbose=0), pred,
                               rtol=1e-6)


def test_int_ids_feed_an_embedding_in_a_model():
    lookup = layers.IntegerLookup(vocabulary=[10, 20, 30], mask_token=0)
    inputs = keras.Input(shape=(3,))
    x = layers.Embedding(5, 2)(lookup(inputs))
    model = keras.Model(inputs, layers.Flatten()(x))
    emb = model.layers[2].get_weights()[0]
    out = model.predict(np.array([[10, 0, 99]]), verbose=0)
    np.testing.assert_allclose(out[0], np.concatenate([emb[2], emb[0], emb[1]]), rtol=1e-6)


def test_symbolic_string_inputs_give_keras_shapes_and_dtypes():
    x = keras.Input(shape=(1,), dtype="string")
    assert layers.StringLookup(vocabulary=["a"])(x).dtype == "int64"
    out = layers.StringLookup(vocabulary=["a"], output_mode="one_hot")(x)
    assert out.shape == (None, 2) and out.dtype == "float32"
    ids = keras.Input(shape=(4,), dtype="int64")
    out = layers.StringLookup(vocabulary=["a"], invert=True)(ids)
    assert out.shape == (None, 4) and out.dtype == "string"


def test_no_gradient_flows_back():
    layer = layers.IntegerLookup(vocabulary=[1, 2], output_mode="count")
    layer.call(np.array([[1.0, 2.0, 2.0]]), training=True)
    np.testing.assert_array_equal(layer.backward(np.ones((1, 3))), np.zeros((1, 3)))


def test_the_structured_data_tutorials_encoders_on_the_tf_data_shim():
    """TensorFlow's structured-data tutorial: `get_category_encoding_layer` adapts a
    lookup to one column of a dataset of (dict, label) batches and one-hots through
    CategoryEncoding; here the encoders run in `dataset.map` before the model."""
    tf = _tf()
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    n = 64
    columns = {"Type": rng.choice(["Cat", "Dog"], n), "Age": rng.integers(1, 6, n),
               "Fee": rng.uniform(0, 100, n)}
    labels = ((columns["Type"] == "Cat") & (columns["Age"] < 4)).astype("int64")
    features = {k: v[:, None] for k, v in columns.items()}  # the tutorial's (n, 1) columns
    ds = tf.data.Dataset.from_tensor_slices((features, labels)).shuffle(100, seed=1).batch(8)

    def get_category_encoding_layer(name, dataset, dtype, max_tokens=None):
        index = (layers.StringLookup(max_tokens=max_tokens) if dtype == "string"
                 else layers.IntegerLookup(max_tokens=max_tokens))
        index.adapt(dataset.map(lambda x, y: x[name]))
        encoder = layers.CategoryEncoding(num_tokens=index.vocabulary_size())
        return lambda feature: encoder(index(feature))

    animal = get_category_encoding_layer("Type", ds, "string")
    age = get_category_encoding_layer("Age", ds, "int64", max_tokens=6)
    fee = layers.Normalization(axis=None)
    fee.adapt(ds.map(lambda x, y: x["Fee"]))
    x, _ = next(iter(ds))
    assert animal(x["Type"]).shape == (8, 3) and age(x["Age"]).shape == (8, 6)
    encoded = ds.map(lambda x, y: (keras.ops.concatenate(
        [animal(x["Type"]), age(x["Age"]), fee(x["Fee"])], axis=-1), y))
    model = keras.Sequential([keras.Input((10,)), layers.Dense(16, activation="relu"),
                              layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="binary_crossentropy",
                  metrics=["accuracy"])
    history = model.fit(encoded, epochs=40, verbose=0)
    assert history.history["accuracy"][-1] >= 0.95
