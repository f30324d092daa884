"""String, int64 and float inputs and int-mode Hashing in .keras files: tinyann's
files keep the dtypes (Keras loads them: checked by hand with Keras 3.15), and a
Keras-made file of such a model (tests/fixtures/keras/typed_inputs, see
tools/keras_reference/make_typed_inputs_file.py) loads and computes as in Keras."""

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers

TYPED = Path(__file__).resolve().parents[1] / "fixtures" / "keras" / "typed_inputs"


def _typed_model():
    kind = keras.Input(shape=(1,), name="Type", dtype="string")
    age = keras.Input(shape=(1,), name="Age", dtype="int64")
    fee = keras.Input(shape=(1,), name="Fee")
    lookup = layers.StringLookup(output_mode="one_hot")
    lookup.adapt(np.array(["Cat", "Dog", "Cat", "Bird"]))
    features = layers.concatenate([
        lookup(kind), layers.IntegerLookup(vocabulary=[1, 2, 3], output_mode="one_hot")(age),
        layers.Normalization(mean=2.0, variance=4.0)(fee)])
    prob = layers.Dense(1, activation="sigmoid")(layers.Dense(4, activation="relu")(features))
    return keras.Model({"Type": kind, "Age": age, "Fee": fee}, [prob, layers.Hashing(7)(age)])


def _inputs(n=12, seed=0):
    rng = np.random.default_rng(seed)
    return {"Type": rng.choice(["Cat", "Dog", "Bird", "Fish"], (n, 1)),
            "Age": rng.integers(0, 6, (n, 1)),
            "Fee": rng.normal(2.0, 2.0, (n, 1)).astype("float32")}


def test_round_trip_keeps_input_dtypes_and_outputs(tmp_path):
    model = _typed_model()
    x = _inputs()
    path = tmp_path / "typed.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert sorted(t.dtype for t in loaded.inputs) == ["float32", "int64", "string"]
    expected, got = model.predict(x, verbose=0), loaded.predict(x, verbose=0)
    np.testing.assert_allclose(got[0], expected[0], rtol=1e-6)
    assert got[1].dtype == np.int64
    np.testing.assert_array_equal(got[1], expected[1])


def test_file_config_has_keras_dtypes(tmp_path):
    path = tmp_path / "typed.keras"
    _typed_model().save(path)
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
    dtypes = {entry["class_name"] + ":" + entry["config"]["name"]: entry["config"]["dtype"]
              for entry in config["config"]["layers"]}
    assert dtypes["InputLayer:Type"] == "string"
    assert dtypes["InputLayer:Age"] == "int64"
    assert dtypes["InputLayer:Fee"] == "float32"
    hashing = next(v for k, v in dtypes.items() if k.startswith("Hashing:"))
    assert hashing["config"]["name"] == "int64"


def test_int_input_alone_round_trips(tmp_path):
    age = keras.Input(shape=(2,), dtype="int32")
    model = keras.Model(age, layers.Hashing(5)(age))
    path = tmp_path / "int.keras"
    model.save(path)
    loaded = keras.models.load_model(path)
    assert loaded.inputs[0].dtype == "int32"
    x = np.array([[1, 5], [7, 7]], dtype="int32")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_keras_made_file_loads_and_matches_keras():
    model = keras.models.load_model(TYPED / "model.keras")
    reference = np.load(TYPED / "reference.npz")
    assert sorted(t.dtype for t in model.inputs) == ["float32", "int64", "string"]
    x = {name: reference[name] for name in ("Type", "Age", "Fee")}
    assert x["Type"].dtype.kind == "U"  # includes 'Bird', out of the vocabulary
    for prob, ids in (model.predict(x, verbose=0), [np.asarray(o) for o in model(x)]):
        np.testing.assert_allclose(prob, reference["prob"], rtol=1e-5, atol=1e-6)
        assert ids.dtype == reference["ids"].dtype == np.int64
        np.testing.assert_array_equal(ids, reference["ids"])


def test_keras_made_file_trains_in_tinyann():
    keras.utils.set_random_seed(0)
    loaded = keras.models.load_model(TYPED / "model.keras")
    # the probability alone (tinyann has no loss-less outputs)
    model = keras.Model(loaded.input, loaded.outputs[0])
    model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy")
    x = _inputs(n=64)
    y = (x["Type"] == "Cat").astype("float32")
    first = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=20, verbose=0)
    assert model.evaluate(x, y, verbose=0) < first


def test_float_policies_other_than_tinyanns_still_refused():
    entry = keras.saving.serialize_keras_object(layers.Dense(2))
    entry["config"]["dtype"] = {"module": "keras", "class_name": "DTypePolicy",
                                "config": {"name": "mixed_float16"}, "registered_name": None}
    with pytest.raises(NotImplementedError, match="mixed_float16"):
        keras.saving.deserialize_keras_object(entry)
