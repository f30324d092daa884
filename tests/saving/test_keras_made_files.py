"""Files written by real Keras 3 (tests/fixtures/keras/saving, see
tools/keras_reference/make_saving_fixtures.py) load in tinyann and predict the same."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tinyann as keras

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras" / "saving"

CASES = ["mlp", "wide", "branches", "conv", "unbuilt_opt"]
# the whole-model files the fixture script writes
MODEL_FILES = ["mlp.keras", "mlp.h5", "wide.keras", "branches.keras", "branches.h5",
               "conv.keras", "conv.h5", "unbuilt_opt.keras"]


def _inputs(arrays, name):
    xs = [arrays[k] for k in sorted(arrays.files) if k.startswith(f"{name}__x")]
    return xs if len(xs) > 1 else xs[0]


@pytest.mark.parametrize("filename", MODEL_FILES)
def test_keras_model_file_predicts_as_keras(keras_reference, filename):
    arrays, meta = keras_reference
    name = filename.split(".")[0]
    assert filename in meta["cases"][name]["files"]
    model = keras.models.load_model(FIXTURES / filename)
    np.testing.assert_allclose(model.predict(_inputs(arrays, name), verbose=0),
                               arrays[f"{name}__pred"], rtol=0, atol=1e-6)
    assert [layer.name for layer in keras.saving.config.keras_layers(model)] == (
        meta["cases"][name]["layers"])


@pytest.mark.parametrize("name", CASES)
def test_keras_file_restores_the_optimizer_state(keras_reference, name):
    arrays, meta = keras_reference
    model = keras.models.load_model(FIXTURES / f"{name}.keras")
    assert type(model.optimizer).__name__ == meta["cases"][name]["optimizer"]
    expected = [arrays[f"{name}__opt_{i}"]
                for i in range(len(meta["cases"][name]["optimizer_variables"]))]
    got = model.optimizer.variables
    if name == "unbuilt_opt":
        got = got[:len(expected)]  # never trained: iterations and learning rate only
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(np.asarray(g), e)
    assert model.optimizer.iterations == meta["cases"][name]["iterations"]


@pytest.mark.parametrize("name", ["wide", "branches", "conv"])
def test_training_resumes_from_a_keras_file_as_in_keras(keras_reference, name):
    # one more step moves the predictions by 0.005 to 0.2; a wrong slot or iteration
    # count would leave them far from Keras's
    arrays, _ = keras_reference
    model = keras.models.load_model(FIXTURES / f"{name}.keras")
    x = _inputs(arrays, name)
    batch = [a[:8] for a in x] if isinstance(x, list) else x[:8]
    model.train_on_batch(batch, arrays[f"{name}__yb"])
    after = model.predict(x, verbose=0)
    np.testing.assert_allclose(after, arrays[f"{name}__pred_after_step"], rtol=0, atol=1e-5)
    assert np.abs(after - arrays[f"{name}__pred"]).max() > 1e-3


def test_keras_legacy_h5_compile_state(keras_reference):
    arrays, meta = keras_reference
    model = keras.models.load_model(FIXTURES / "mlp.h5")
    assert model.compiled and type(model.optimizer).__name__ == "Adam"
    assert model.optimizer.iterations == meta["cases"]["mlp"]["iterations"]
    for i, v in enumerate(model.optimizer.variables):
        np.testing.assert_array_equal(np.asarray(v), arrays[f"mlp__opt_{i}"])
    x = _inputs(arrays, "mlp")
    labels = np.argmax(arrays["mlp__pred"], axis=-1)
    loss, accuracy = model.evaluate(x, labels, verbose=0)
    assert accuracy == 1.0 and 0 < loss < 2


def test_keras_h5_with_mse_loss_loads(keras_reference):
    # Keras 3.15 itself cannot reload this file (its legacy loader rejects 'mse')
    model = keras.models.load_model(FIXTURES / "branches.h5")
    assert model.loss.name == "mean_squared_error"


@pytest.mark.parametrize("name", ["mlp", "branches"])
def test_keras_weights_file_loads_into_a_fresh_model_by_position(keras_reference, name):
    arrays, _ = keras_reference
    reference = keras.models.load_model(FIXTURES / f"{name}.keras", compile=False)
    keras.backend.clear_session()
    for _ in range(3):  # other auto names than in the file
        keras.layers.Dense(1)
    fresh = keras.models.clone_model(reference)
    assert [layer.name for layer in fresh.layers] == [layer.name for layer in reference.layers]
    renamed = keras.models.model_from_json(
        fresh.to_json().replace('"name": "dense', '"name": "renamed_dense'))
    renamed.load_weights(FIXTURES / f"{name}.weights.h5")
    np.testing.assert_allclose(renamed.predict(_inputs(arrays, name), verbose=0),
                               arrays[f"{name}__pred"], rtol=0, atol=1e-6)


def test_keras_file_loads_without_compile(keras_reference):
    model = keras.models.load_model(FIXTURES / "mlp.keras", compile=False)
    assert not model.compiled and model.optimizer is None
    with pytest.raises(ValueError, match="compile"):
        model.evaluate(np.zeros((2, 6, 4)), np.zeros(2), verbose=0)
