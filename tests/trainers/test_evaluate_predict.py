"""evaluate / predict / predict_on_batch: return types, order, true means, float32."""

from __future__ import annotations

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers


def softmax_model(metrics=("accuracy",), units=3, input_dim=4):
    model = keras.Sequential([keras.Input((input_dim,)),
                              layers.Dense(units, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=None if metrics is None else list(metrics))
    return model


def _history_cases():
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "fixtures" / "keras" / "history_keys.json"
    cases = json.loads(path.read_text(encoding="utf-8"))["cases"]
    return [c for c in cases if not c["validation_data"]]


def _metrics_of(case):
    text = case["compile"].split("metrics=", 1)[1][:-1]
    if "zz_mse" in text:
        return ["accuracy", keras.metrics.MeanSquaredError(name="zz_mse")]
    return None if text == "None" else eval(text, {})


@pytest.mark.parametrize("case", _history_cases(),
                         ids=lambda c: c["compile"].split("metrics=")[1][:-1][:40])
def test_evaluate_order_and_types_as_keras(case, tiny_data):
    model = softmax_model(_metrics_of(case))
    y = tiny_data.y.reshape(case["y_shape"])
    result = model.evaluate(tiny_data.x, y, batch_size=32, verbose=0)
    as_dict = model.evaluate(tiny_data.x, y, batch_size=32, verbose=0, return_dict=True)
    assert type(result).__name__ == case["evaluate_return_type"]
    assert list(as_dict) == case["evaluate_return_dict_keys"]
    assert model.metrics_names == case["metrics_names_after_fit"]
    values = result if isinstance(result, list) else [result]
    # the list is [loss, *metrics in compile order]: match it to the dict by name
    assert values == [as_dict[name] for name in case["evaluate_list_order"]]
    if "mae" in case["evaluate_list_order"]:
        # mean |y - p| over softmax outputs depends only on the labels (the p sum to 1),
        # so Keras's value must come out whatever the weights
        k = case["evaluate_list_order"].index("mae")
        assert values[k] == pytest.approx(case["evaluate_values"][k], rel=1e-6)


def test_evaluate_is_the_true_mean_whatever_the_batch_size(reference):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((10, 4))
    y = rng.integers(0, 3, 10)
    model = softmax_model()
    model.set_weights([rng.uniform(-1, 1, (4, 3)), rng.uniform(-0.2, 0.2, 3)])
    kernel, bias = [w.astype(np.float64) for w in model.get_weights()]
    p = reference.softmax(x @ kernel + bias)
    want_loss = reference.sparse_ce(p, y).mean()
    want_accuracy = np.mean(p.argmax(axis=1) == y)
    for batch_size in (1, 3, 4, 32):
        loss, accuracy = model.evaluate(x, y, batch_size=batch_size, verbose=0)
        assert loss == pytest.approx(want_loss, rel=1e-5)
        assert accuracy == pytest.approx(want_accuracy)


def test_evaluate_without_metrics_returns_a_float(tiny_data):
    model = softmax_model(metrics=None)
    result = model.evaluate(tiny_data.x, tiny_data.y, verbose=0)
    assert type(result) is float
    assert model.evaluate(tiny_data.x, tiny_data.y, verbose=0, return_dict=True) == {
        "loss": result}


def test_evaluate_many_metrics_in_compile_order(tiny_data):
    model = softmax_model(metrics=["sparse_top_k_categorical_accuracy", "accuracy"])
    result = model.evaluate(tiny_data.x, tiny_data.y, verbose=0)
    assert len(result) == 3
    assert result[1] == 1.0  # top-5 of 3 classes is always right
    logs = model.evaluate(tiny_data.x, tiny_data.y, verbose=0, return_dict=True)
    assert list(logs) == ["accuracy", "loss", "sparse_top_k_categorical_accuracy"]
    assert result == [logs["loss"], logs["sparse_top_k_categorical_accuracy"],
                      logs["accuracy"]]


@pytest.mark.parametrize("dtype", ["float64", "float32", "uint8", "int32", "bool"])
def test_predict_returns_float32(dtype, reference):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 2 if dtype == "bool" else 200, (7, 4)).astype(dtype)
    model = softmax_model()
    out = model.predict(x, verbose=0)
    assert isinstance(out, np.ndarray) and out.dtype == np.float32 and out.shape == (7, 3)
    kernel, bias = [w.astype(np.float64) for w in model.get_weights()]
    want = reference.softmax(x.astype(np.float64) @ kernel + bias)
    np.testing.assert_allclose(out, want, rtol=1e-4, atol=1e-6)


def test_predict_does_not_depend_on_the_batch_size():
    rng = np.random.default_rng(0)
    model = keras.Sequential([keras.Input((20,)), layers.Dense(16, activation="relu"),
                              layers.Dense(5, activation="softmax")])
    x = rng.standard_normal((3001, 20))  # more than one internal chunk
    full = model.predict(x, verbose=0)
    assert full.shape == (3001, 5)
    for batch_size in (1000, 7):
        np.testing.assert_allclose(model.predict(x, batch_size=batch_size, verbose=0), full,
                                   rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(model.predict(x[:1], verbose=0), full[:1], rtol=1e-5)


def test_predict_on_batch_matches_predict(tiny_data):
    model = softmax_model()
    out = model.predict_on_batch(tiny_data.x)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, model.predict(tiny_data.x, verbose=0), rtol=1e-6)


def test_predict_needs_no_compile():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(2)])
    assert model.predict(np.ones((3, 4)), verbose=0).shape == (3, 2)


def test_predict_builds_a_lazy_model():
    model = keras.Sequential([layers.Dense(2)])
    assert model.predict(np.ones((3, 6)), verbose=0).shape == (3, 2)
    assert model.inputs[0].shape == (None, 6)


def test_evaluate_leaves_weights_and_training_state(tiny_data):
    model = softmax_model()
    before = model.get_weights()
    model.evaluate(tiny_data.x, tiny_data.y, verbose=0)
    for got, want in zip(model.get_weights(), before):
        np.testing.assert_array_equal(got, want)
    assert model.optimizer.iterations == 0


def test_predictions_in_several_threads_at_once_do_not_mix():
    # the app's server predicts in worker threads; the float32 conversion buffers
    # are per thread
    import threading

    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(3, activation="softmax")])
    rng = np.random.default_rng(0)
    inputs = [rng.standard_normal((40_000, 64)) for _ in range(4)]  # float64: converted
    expected = [model.predict(x, verbose=0) for x in inputs]
    results = [None] * len(inputs)

    def run(i):
        for _ in range(3):
            results[i] = model.predict(inputs[i], verbose=0)
            np.testing.assert_array_equal(results[i], expected[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(inputs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for got, want in zip(results, expected):
        np.testing.assert_array_equal(got, want)


def test_outputs_are_row_major_arrays_as_keras_gives():
    # a Dense of few units computes its output column-major internally
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="softmax")])
    x = np.random.default_rng(0).random((5, 4))
    for out in (model.predict(x, verbose=0), model.predict_on_batch(x), model(x),
                model.predict(np.tile(x, (100, 1)), verbose=0)):
        assert out.flags.c_contiguous and out.dtype == np.float32
