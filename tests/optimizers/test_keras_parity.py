"""Parity with real Keras 3: the same model, initial weights and 10 batches give
Keras's per-step losses and final weights.

The reference is tests/fixtures/keras/optimizer_parity.{npz,json}, made by
tools/keras_reference/make_optimizer_parity.py: Input(6) -> Dense(5, hidden) ->
Dense(k, output), weights set from the fixture, then
``train_on_batch(x[8i:8i+8], t[8i:8i+8])`` for i in 0..9 (no shuffling).
"""

import json
from pathlib import Path

import numpy as np
import pytest

import tinyann as keras

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras"
META = json.loads((FIXTURES / "optimizer_parity.json").read_text(encoding="utf-8"))
CASES = META["cases"]
BATCH, STEPS = 8, 10
# targets key -> (hidden activation, output units, output activation), as the script builds
MODELS = {"y": ("relu", 3, "softmax"), "y_onehot": ("relu", 3, "softmax"),
          "y_bin": ("relu", 1, "sigmoid"), "y_mse": ("tanh", 2, None)}


@pytest.fixture(scope="module")
def arrays():
    with np.load(FIXTURES / "optimizer_parity.npz", allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


def _model(case, arrays):
    hidden, units, output = MODELS[case["targets_key"]]
    model = keras.Sequential([
        keras.Input((arrays["x"].shape[1],)),
        keras.layers.Dense(5, activation=hidden),
        keras.layers.Dense(units, activation=output),
    ])
    model.set_weights([arrays[k] for k in case["init_keys"]])
    optimizer = keras.optimizers.deserialize(
        {"class_name": case["optimizer_class"], "config": case["optimizer_config"]})
    model.compile(optimizer=optimizer, loss=case["loss"], metrics=case["compile_metrics"])
    return model


def _assert_weights_close(model, case, arrays):
    expected = [arrays[f"{case['name']}__w_{i}"] for i in range(4)]
    scale = max(float(np.max(np.abs(w))) for w in expected)
    for got, want in zip(model.get_weights(), expected):
        np.testing.assert_allclose(got, want, rtol=0, atol=1e-5 * scale)


def test_fixture_covers_the_required_cases():
    names = {c["name"] for c in CASES}
    assert {"sgd", "sgd_nesterov", "rmsprop", "adam", "adagrad", "sgd_default",
            "rmsprop_default", "adam_default", "adagrad_default", "categorical_adam",
            "bce_sgd", "mse_rmsprop"} <= names


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_train_on_batch_matches_keras(case, arrays):
    model = _model(case, arrays)
    x, t = arrays["x"], arrays[case["targets_key"]]
    losses, metrics = [], []
    for i in range(STEPS):
        logs = model.train_on_batch(x[BATCH * i:BATCH * (i + 1)], t[BATCH * i:BATCH * (i + 1)],
                                    return_dict=True)
        assert list(logs) == case["train_on_batch_logs_keys"]
        losses.append(logs["loss"])
        metrics.append([logs[k] for k in logs if k != "loss"])
    assert model.optimizer.iterations == case["optimizer_iterations_after"]
    np.testing.assert_allclose(losses, arrays[f"{case['name']}__loss"], rtol=1e-5)
    np.testing.assert_allclose(metrics, arrays[f"{case['name']}__metric"], rtol=1e-5, atol=1e-6)
    _assert_weights_close(model, case, arrays)
    pred = model.predict(x, verbose=0, batch_size=len(x))
    want = arrays[f"{case['name']}__pred"]
    np.testing.assert_allclose(pred, want, rtol=0, atol=1e-5 * float(np.max(np.abs(want))))


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_fit_without_shuffling_follows_the_same_trajectory(case, arrays):
    """fit(batch_size=8, shuffle=False) takes the same 10 steps as the train_on_batch loop."""
    model = _model(case, arrays)
    x, t = arrays["x"], arrays[case["targets_key"]]
    history = model.fit(x[:BATCH * STEPS], t[:BATCH * STEPS], batch_size=BATCH, epochs=1,
                        shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"][0],
                               np.mean(arrays[f"{case['name']}__loss"]), rtol=1e-5)
    _assert_weights_close(model, case, arrays)


# ------------------------------------------------------------ more optimizers
# optimizer_parity_extra.{npz,json} (tools/keras_reference/make_optimizer_parity_extra.py):
# AdamW, Adamax, Adadelta, weight decay, clipping and schedules on the sparse model,
# same data, initial weights and train_on_batch protocol.
EXTRA = json.loads((FIXTURES / "optimizer_parity_extra.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def extra_arrays():
    with np.load(FIXTURES / "optimizer_parity_extra.npz", allow_pickle=False) as data:
        return {k: data[k] for k in data.files}


@pytest.mark.parametrize("case", EXTRA["cases"], ids=[c["name"] for c in EXTRA["cases"]])
def test_more_optimizers_match_keras(case, arrays, extra_arrays):
    sparse = dict(next(c for c in CASES if c["name"] == "sgd"))
    sparse.update(name=case["name"], optimizer_class=case["optimizer_class"],
                  optimizer_config=case["optimizer_config"], compile_metrics=[])
    model = _model(sparse, arrays)
    assert model.optimizer.get_config() == case["optimizer_config"]
    x, y = arrays["x"], arrays["y"]
    losses = [model.train_on_batch(x[BATCH * i:BATCH * (i + 1)], y[BATCH * i:BATCH * (i + 1)])
              for i in range(STEPS)]
    np.testing.assert_allclose(losses, extra_arrays[f"{case['name']}__loss"], rtol=1e-5)
    _assert_weights_close(model, sparse, extra_arrays)
