"""Subclassed models and layers made of layers, saved both ways with real Keras 3.

The model code is ``tools/keras_reference/subclassed_models.py``, run here with
tinyann and by ``make_subclassed_fixtures.py`` with Keras, which wrote the files in
tests/fixtures/keras/subclassed.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

import tinyann as keras

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "keras" / "subclassed"
sys.path.insert(0, str(ROOT / "tools" / "keras_reference"))
from subclassed_models import define, weights_file_layout  # noqa: E402

CASES = ["classifier", "residual"]


@pytest.fixture
def make():
    """``make(case)``: a fresh model; its classes registered anew (other tests clear
    the registry)."""
    classes = define(keras)
    builders = {"classifier": lambda: classes["Classifier"](units=4, name="clf"),
                "residual": lambda: classes["ResidualNet"](name="res")}
    return lambda case: builders[case]()


@pytest.fixture(scope="module")
def reference():
    with np.load(FIXTURES / "reference.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    return arrays, json.loads((FIXTURES / "reference.json").read_text(encoding="utf-8"))


def _optimizer_arrays(arrays, case):
    count = sum(1 for k in arrays if k.startswith(f"{case}__opt_"))
    return [arrays[f"{case}__opt_{i}"] for i in range(count)]


@pytest.mark.parametrize("case", CASES)
def test_keras_made_model_file_loads_and_predicts(reference, case, make):
    arrays, _ = reference
    model = keras.models.load_model(FIXTURES / f"{case}.keras")
    assert type(model) is type(make(case))
    np.testing.assert_allclose(model.predict(arrays[f"{case}__x"], verbose=0),
                               arrays[f"{case}__pred"], rtol=0, atol=1e-6)
    expected = _optimizer_arrays(arrays, case)
    assert len(model.optimizer.variables) == len(expected)
    for got, want in zip(model.optimizer.variables, expected):
        np.testing.assert_array_equal(np.asarray(got), want)


@pytest.mark.parametrize("case", CASES)
def test_keras_made_weights_file_loads_into_a_fresh_model(reference, case, make):
    arrays, _ = reference
    model = make(case)
    model(arrays[f"{case}__x"][:1])  # built by a call, as Keras needs too
    model.load_weights(FIXTURES / f"{case}.weights.h5")
    np.testing.assert_allclose(model.predict(arrays[f"{case}__x"], verbose=0),
                               arrays[f"{case}__pred"], rtol=0, atol=1e-6)


@pytest.mark.parametrize("case", CASES)
def test_tinyann_weights_file_has_keras_layout(reference, case, tmp_path, make):
    arrays, meta = reference
    model = make(case)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(arrays[f"{case}__x"], np.zeros(8, int), batch_size=4, verbose=0)
    model.save_weights(tmp_path / "m.weights.h5")
    datasets, names = weights_file_layout(tmp_path / "m.weights.h5")
    assert datasets == meta["cases"][case]["datasets"]
    # the groups' name attributes hold each layer's own (auto) name: compare kinds
    assert sorted(names) == sorted(meta["cases"][case]["vars_names"])


@pytest.mark.parametrize("case", CASES)
def test_round_trip_continues_training_exactly(reference, case, tmp_path, make):
    arrays, _ = reference
    x = arrays[f"{case}__x"]
    y = np.arange(8) % 3
    keras.utils.set_random_seed(0)
    model = make(case)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x, y, batch_size=4, epochs=2, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    assert type(loaded) is type(model) and loaded.get_config() == model.get_config()
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    for m in (model, loaded):
        keras.utils.set_random_seed(1)
        m.fit(x, y, batch_size=4, epochs=1, verbose=0)
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_loading_an_unregistered_class_names_it(tmp_path):
    class Unregistered(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = keras.layers.Dense(2)

        def call(self, inputs):
            return self.dense(inputs)

    model = Unregistered()
    model(np.zeros((1, 3), "float32"))
    model.save(tmp_path / "m.keras")
    with pytest.raises(Exception, match="Unregistered"):
        keras.models.load_model(tmp_path / "m.keras")
