"""The textbook's "training a neural network" scenario on real Fashion-MNIST:
Dropout, validation_data, ModelCheckpoint(save_best_only) and EarlyStopping with
restore_best_weights, written exactly as the chapter writes it (Keras: 0.8853)."""

from __future__ import annotations

import numpy as np
import pytest

import tinyann as keras


def _split(x, y):
    """The chapter's train_test_split(test_size=0.2, random_state=42)."""
    try:
        from sklearn.model_selection import train_test_split
    except ImportError:  # the same permutation as sklearn's ShuffleSplit
        perm = np.random.RandomState(42).permutation(len(x))
        val, train = perm[: len(x) // 5], perm[len(x) // 5:]
        return x[train], x[val], y[train], y[val]
    return train_test_split(x, y, test_size=0.2, random_state=42)


@pytest.mark.slow
def test_textbook_dropout_checkpoint_early_stopping(tmp_path, monkeypatch):
    (train_input, train_target), _ = keras.datasets.fashion_mnist.load_data()
    train_scaled = train_input / 255.0
    train_scaled, val_scaled, train_target, val_target = _split(train_scaled, train_target)
    monkeypatch.chdir(tmp_path)  # the chapter's relative 'best-model.keras'

    keras.utils.set_random_seed(42)
    model = keras.Sequential([
        keras.Input((28, 28)),
        keras.layers.Flatten(),
        keras.layers.Dense(100, activation="relu"),
        keras.layers.Dropout(0.3),
        keras.layers.Dense(10, activation="softmax"),
    ])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    checkpoint_cb = keras.callbacks.ModelCheckpoint("best-model.keras", save_best_only=True)
    early_stopping_cb = keras.callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    history = model.fit(train_scaled, train_target, epochs=20, verbose=0,
                        validation_data=(val_scaled, val_target),
                        callbacks=[checkpoint_cb, early_stopping_cb])

    stopped = early_stopping_cb.stopped_epoch
    val_loss = history.history["val_loss"]
    assert 0 < stopped < 19, "early stopping should trigger before epoch 20"
    assert len(history.history["loss"]) == stopped + 1
    assert list(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    # the last `patience` epochs did not beat the best, which came just before them
    assert min(val_loss[-2:]) >= min(val_loss[:-2])
    assert int(np.argmin(val_loss)) == len(val_loss) - 3

    loss, accuracy = model.evaluate(val_scaled, val_target, verbose=0)
    assert loss == pytest.approx(min(val_loss), rel=1e-6)
    assert accuracy == pytest.approx(history.history["val_accuracy"][int(np.argmin(val_loss))],
                                     rel=1e-6)
    assert 0.87 <= accuracy <= 0.895

    best = keras.saving.load_model("best-model.keras")
    best_loss, best_accuracy = best.evaluate(val_scaled, val_target, verbose=0)
    assert best_loss == pytest.approx(loss, rel=1e-6)
    assert best_accuracy == pytest.approx(accuracy, rel=1e-6)
    np.testing.assert_array_equal(best.predict(val_scaled[:100], verbose=0),
                                  model.predict(val_scaled[:100], verbose=0))
