"""A compiled model with several outputs, saved both ways with real Keras 3
(tests/fixtures/keras/multi_output, see tools/keras_reference/make_multi_output_file.py)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import numpy as np
import pytest

import tinyann as keras

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras" / "multi_output"


@pytest.fixture(scope="module")
def reference():
    with np.load(FIXTURES / "reference.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return arrays, json.loads((FIXTURES / "reference.json").read_text(encoding="utf-8"))


def _targets(arrays):
    return {"out_a": arrays["y_a"], "out_b": arrays["y_b"]}


def test_keras_made_file_loads_compiled_per_output(reference):
    arrays, meta = reference
    model = keras.models.load_model(FIXTURES / "model.keras")
    pred = model.predict(arrays["x"], verbose=0)
    assert list(pred) == ["out_a", "out_b"]
    np.testing.assert_allclose(pred["out_a"], arrays["pred_a"], rtol=0, atol=1e-6)
    np.testing.assert_allclose(pred["out_b"], arrays["pred_b"], rtol=0, atol=1e-6)
    got = model.evaluate(arrays["x"], _targets(arrays), verbose=0, return_dict=True)
    assert list(got) == list(meta["evaluate"])
    for key, value in meta["evaluate"].items():
        assert got[key] == pytest.approx(value, rel=1e-5), key


def test_tinyann_writes_keras_compile_config_and_round_trips(reference, tmp_path):
    arrays, meta = reference
    x, y = arrays["x"], _targets(arrays)
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    model = keras.Model(inputs, {
        "out_a": keras.layers.Dense(3, activation="softmax", name="out_a")(hidden),
        "out_b": keras.layers.Dense(1, name="out_b")(hidden)})
    model.compile(optimizer="adam",
                  loss={"out_a": "sparse_categorical_crossentropy", "out_b": "mse"},
                  loss_weights={"out_a": 1.0, "out_b": 0.5},
                  metrics={"out_a": ["accuracy"], "out_b": ["mae"]})
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        written = json.loads(archive.read("config.json"))["compile_config"]
    # the optimizer's learning rate is float32 in Keras's file, a float here
    for key in ("loss", "loss_weights", "metrics", "weighted_metrics"):
        assert written[key] == meta["compile_config"][key], key
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert loaded.evaluate(x, y, verbose=0, return_dict=True) == model.evaluate(
        x, y, verbose=0, return_dict=True)
    for m in (model, loaded):
        keras.utils.set_random_seed(3)
        m.fit(x, y, epochs=1, batch_size=8, verbose=0)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
