"""fit's loss and metrics, computed in bulk from the kept outputs, equal per-batch means."""

import numpy as np
import pytest

import tinyann as keras
from tinyann.trainers import epoch_outputs


def _data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 6)).astype("float32")
    return x, (x[:, 0] + x[:, 1] > 0).astype("int64") + (x[:, 2] > 1)


def _model(loss="sparse_categorical_crossentropy"):
    keras.utils.set_random_seed(1)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(3, activation="softmax")])
    model.compile("sgd", loss, metrics=["accuracy"])
    return model


def test_a_small_buffer_flushed_often_gives_the_same_history(monkeypatch):
    x, y = _data()
    big = _model().fit(x, y, batch_size=16, epochs=3, verbose=0)
    monkeypatch.setattr(epoch_outputs, "_BUFFER_ELEMENTS", 20)  # a flush every batch or two
    small_model = _model()
    small = small_model.fit(x, y, batch_size=16, epochs=3, verbose=0)
    for key in ("loss", "accuracy"):
        np.testing.assert_allclose(small.history[key], big.history[key], rtol=1e-6)


def test_logs_read_during_the_epoch_are_the_running_means():
    x, y = _data()
    model = _model()
    first_loss, first_acc = model.evaluate(x[:16], y[:16], verbose=0)
    seen = []
    record = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: seen.append(dict(logs)))
    history = model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0,
                        callbacks=[record])
    # the first batch's logs: its loss and accuracy before the update
    assert seen[0]["loss"] == pytest.approx(first_loss, rel=1e-6)
    assert seen[0]["accuracy"] == pytest.approx(first_acc)
    # the last batch's: the epoch's means
    assert seen[-1]["loss"] == pytest.approx(history.history["loss"][0], rel=1e-6)
    assert seen[-1]["accuracy"] == pytest.approx(history.history["accuracy"][0])


@pytest.mark.parametrize("sample_weight", [None, "weights"])
def test_deferred_loss_equals_the_per_batch_loss_of_another_path(sample_weight):
    # categorical cross-entropy computes its loss per batch; the sparse one in bulk
    x, y = _data()
    sw = None if sample_weight is None else np.linspace(0.5, 2.0, len(x)).astype("float32")
    sparse = _model().fit(x, y, batch_size=16, epochs=2, verbose=0, shuffle=False,
                          sample_weight=sw)
    onehot = _model("categorical_crossentropy").fit(
        x, keras.utils.to_categorical(y, 3), batch_size=16, epochs=2, verbose=0,
        shuffle=False, sample_weight=sw)
    np.testing.assert_allclose(sparse.history["loss"], onehot.history["loss"], rtol=1e-5)
    np.testing.assert_allclose(sparse.history["accuracy"], onehot.history["accuracy"])


def test_nan_inputs_are_named_after_the_epoch_they_ruined():
    x, y = _data()
    x[37, 4] = np.nan
    model = _model()
    with pytest.raises(ValueError, match=r"`x` contains NaN or infinite values: sample 37"):
        model.fit(x, y, batch_size=16, epochs=2, verbose=0)


def test_an_inf_input_in_the_last_batch_behind_tanh_is_named():
    # tanh(inf) is finite: no output shows it, only the weights it reaches
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6,)), keras.layers.Dense(4, activation="tanh"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy")
    x, y = _data()
    x[90, 1] = np.inf  # in the last batch of 16
    with pytest.raises(ValueError, match=r"sample 90 has inf at position \(1,\)"):
        model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
