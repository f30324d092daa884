"""fit / train_on_batch: History as Keras 3 gives it, true epoch means, validation."""

from __future__ import annotations

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers
from tinyann.callbacks import History


def softmax_model(units=3, input_dim=4, metrics=("accuracy",), learning_rate=0.1):
    model = keras.Sequential([keras.Input((input_dim,)),
                              layers.Dense(units, activation="softmax")])
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=learning_rate),
                  loss="sparse_categorical_crossentropy",
                  metrics=None if metrics is None else list(metrics))
    return model


def known_weights(input_dim=4, units=3, seed=7):
    rng = np.random.default_rng(seed)
    return [rng.uniform(-0.5, 0.5, (input_dim, units)), rng.uniform(-0.1, 0.1, units)]


def test_returns_history_with_one_float_per_epoch(tiny_data):
    model = softmax_model()
    history = model.fit(tiny_data.x, tiny_data.y, epochs=3, verbose=0)
    assert isinstance(history, History) and model.history is history
    assert history.epoch == [0, 1, 2]
    assert list(history.history) == ["accuracy", "loss"]
    for values in history.history.values():
        assert len(values) == 3 and all(type(v) is float for v in values)
    assert history.params == {"verbose": 0, "epochs": 3, "steps": 2}


def _history_cases():
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "fixtures" / "keras" / "history_keys.json"
    return json.loads(path.read_text(encoding="utf-8"))["cases"]


def _compile_metrics(case):
    # the fixture records the compile call as text; rebuild its metrics argument
    text = case["compile"].split("metrics=", 1)[1][:-1]
    if "zz_mse" in text:
        return ["accuracy", keras.metrics.MeanSquaredError(name="zz_mse")]
    return None if text == "None" else eval(text, {})  # a list of plain strings


@pytest.mark.parametrize("case", _history_cases(),
                         ids=lambda c: c["compile"].split("metrics=")[1][:-1][:40]
                         + ("-val" if c["validation_data"] else ""))
def test_history_keys_and_params_as_keras(case, tiny_data):
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy",
                  metrics=_compile_metrics(case))
    # Keras 3: ['loss'], or ['loss', 'compile_metrics'] when compiled with metrics
    assert model.metrics_names == case["metrics_names_before_fit"]
    y = tiny_data.y.reshape(case["y_shape"])
    yv = tiny_data.yv.reshape((16,) + tuple(case["y_shape"][1:]))
    history = model.fit(tiny_data.x, y, batch_size=32, epochs=1, verbose=0,
                        validation_data=(tiny_data.xv, yv) if case["validation_data"] else None)
    assert model.metrics_names == case["metrics_names_after_fit"]
    assert list(history.history) == case["history_keys"]
    assert history.params == case["h.params"]
    assert all(type(v[0]).__name__ == case["history_value_type"]
               for v in history.history.values())


def test_epoch_means_are_true_means_over_samples(reference):
    # 10 samples in batches of 4, 4 and 2: a mean of batch means would weigh the
    # last two samples double
    rng = np.random.default_rng(0)
    x = rng.standard_normal((10, 4))
    y = rng.integers(0, 3, 10)
    kernel, bias = known_weights()
    model = softmax_model(learning_rate=0.5)
    model.set_weights([kernel, bias])
    history = model.fit(x, y, batch_size=4, epochs=3, shuffle=False, verbose=0)
    want = reference.sgd_softmax_fit(kernel, bias, x, y, 0.5, 4, 3)
    np.testing.assert_allclose(history.history["loss"], want.loss, rtol=1e-5)
    np.testing.assert_allclose(history.history["accuracy"], want.accuracy, rtol=1e-6)
    got_kernel, got_bias = model.get_weights()
    np.testing.assert_allclose(got_kernel, want.kernel, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got_bias, want.bias, rtol=1e-5, atol=1e-6)
    # the mean of the batch means differs from the true mean: the test can tell them apart
    batch_means = np.mean(want.batch_losses[:3])
    assert abs(batch_means - want.loss[0]) > 1e-4


def test_validation_data_is_evaluated_at_the_end_of_each_epoch(tiny_data):
    model = softmax_model()
    history = model.fit(tiny_data.x, tiny_data.y, epochs=1, verbose=0,
                        validation_data=(tiny_data.xv, tiny_data.yv))
    loss, accuracy = model.evaluate(tiny_data.xv, tiny_data.yv, verbose=0)
    assert history.history["val_loss"][0] == pytest.approx(loss, rel=1e-6)
    assert history.history["val_accuracy"][0] == pytest.approx(accuracy)


def test_validation_split_holds_out_the_last_samples(tiny_data, reference):
    kernel, bias = known_weights()
    model = softmax_model()
    model.set_weights([kernel, bias])
    history = model.fit(tiny_data.x, tiny_data.y, batch_size=8, validation_split=0.25,
                        shuffle=False, verbose=0)
    # trained on the first 48 samples only, validated on the last 16
    want = reference.sgd_softmax_fit(kernel, bias, tiny_data.x[:48], tiny_data.y[:48],
                                     0.1, 8, 1)
    assert history.history["loss"][0] == pytest.approx(want.loss[0], rel=1e-5)
    assert history.params["steps"] == 6
    val_loss = model.evaluate(tiny_data.x[48:], tiny_data.y[48:], verbose=0)[0]
    assert history.history["val_loss"][0] == pytest.approx(val_loss, rel=1e-6)


def test_epochs_zero_trains_nothing(tiny_data):
    model = softmax_model()
    before = model.get_weights()
    history = model.fit(tiny_data.x, tiny_data.y, epochs=0, verbose=0)
    assert history.history == {} and history.epoch == []
    for got, want in zip(model.get_weights(), before):
        np.testing.assert_array_equal(got, want)


def test_initial_epoch_counts_from_there(tiny_data):
    model = softmax_model()
    history = model.fit(tiny_data.x, tiny_data.y, epochs=3, initial_epoch=1, verbose=0)
    assert history.epoch == [1, 2]
    assert len(history.history["loss"]) == 2


def test_default_batch_size_is_32(tiny_data):
    model = softmax_model()
    history = model.fit(np.tile(tiny_data.x, (2, 1))[:100], np.tile(tiny_data.y, 2)[:100],
                        verbose=0)
    assert history.params["steps"] == 4  # ceil(100 / 32)


@pytest.mark.parametrize("dtype", ["uint8", "float32", "int64"])
def test_inputs_of_any_numeric_dtype_train_as_float32(dtype):
    # the same pixels as uint8, float32, int64 and float64 give the same run
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (50, 12))
    y = rng.integers(0, 3, 50)
    runs = []
    for data in (pixels.astype(dtype), pixels.astype("float64")):
        keras.utils.set_random_seed(5)
        model = softmax_model(input_dim=12, learning_rate=1e-4)
        history = model.fit(data, y, batch_size=16, epochs=2, verbose=0)
        runs.append((history.history, model.get_weights()))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)


def test_train_on_batch_is_one_sgd_step(reference):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((6, 4))
    y = rng.integers(0, 3, 6)
    kernel, bias = known_weights()
    model = softmax_model(learning_rate=0.3)
    model.set_weights([kernel, bias])
    loss, accuracy = model.train_on_batch(x, y)
    want = reference.sgd_softmax_fit(kernel, bias, x, y, 0.3, 6, 1)
    assert loss == pytest.approx(want.loss[0], rel=1e-5)
    assert accuracy == pytest.approx(want.accuracy[0])
    np.testing.assert_allclose(model.get_weights()[0], want.kernel, rtol=1e-5, atol=1e-6)
    logs = model.train_on_batch(x, y, return_dict=True)
    assert list(logs) == ["accuracy", "loss"]


def test_test_on_batch_matches_evaluate_and_leaves_weights(tiny_data):
    model = softmax_model()
    before = model.get_weights()
    result = model.test_on_batch(tiny_data.x, tiny_data.y)
    np.testing.assert_allclose(result, model.evaluate(tiny_data.x, tiny_data.y, verbose=0),
                               rtol=1e-6)
    for got, want in zip(model.get_weights(), before):
        np.testing.assert_array_equal(got, want)
    assert list(model.test_on_batch(tiny_data.x, tiny_data.y, return_dict=True)) == [
        "accuracy", "loss"]


def test_train_on_batch_without_metrics_returns_a_float(tiny_data):
    model = softmax_model(metrics=None)
    assert isinstance(model.train_on_batch(tiny_data.x, tiny_data.y), float)


def test_shuffled_epochs_with_a_partial_last_batch_see_every_sample_once(tiny_data):
    # 50 samples in batches of 32 (the last has 18 rows), shuffled; with a learning
    # rate of 0 the weights stay put, so whatever the order the epoch means must be
    # the means over the 50 samples
    model = softmax_model(learning_rate=0.0)
    history = model.fit(tiny_data.x[:50], tiny_data.y[:50], epochs=2, verbose=0)
    assert history.params["steps"] == 2
    loss, accuracy = model.evaluate(tiny_data.x[:50], tiny_data.y[:50], verbose=0)
    np.testing.assert_allclose(history.history["loss"], [loss, loss], rtol=1e-6)
    np.testing.assert_allclose(history.history["accuracy"], [accuracy, accuracy])


@pytest.mark.filterwarnings("error::RuntimeWarning")
def test_float64_inputs_give_no_spurious_cast_warnings():
    # fit gathers float64 rows into reused float32 buffers; freed memory full of
    # NaN bit patterns (likely handed out again for them) must not show through
    x = np.random.default_rng(0).random((200, 12))
    for _ in range(3):
        model = softmax_model(input_dim=12)
        junk = np.full(200 * 12, 0x7FA00000, dtype=np.uint32)  # float32 signalling NaNs
        del junk
        history = model.fit(x, np.arange(200) % 3, batch_size=16, verbose=0)
        assert np.isfinite(history.history["loss"][0])
