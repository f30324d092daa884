"""Seed 004's flow: a trained model saved as 'mnist_model.h5', loaded back to evaluate,
summarize and predict classes, as in the textbook."""

from __future__ import annotations

import numpy as np
import pytest

import tinyann as keras
from tinyann.layers import Dense, Flatten
from tinyann.models import Sequential, load_model


def _seed_model():
    model = Sequential()
    model.add(Flatten(input_shape=(28, 28)))
    model.add(Dense(20, activation="relu"))
    model.add(Dense(20, activation="relu"))
    model.add(Dense(10, activation="softmax"))
    model.compile(loss="sparse_categorical_crossentropy", optimizer="sgd",
                  metrics=["accuracy"])
    return model


def _save_load_and_use(tmp_path, monkeypatch, x_train, y_train, x_test, y_test, capsys):
    monkeypatch.chdir(tmp_path)
    model = _seed_model()
    model.fit(x_train, y_train, epochs=1, batch_size=20, verbose=0)
    expected = model.evaluate(x_test, y_test, verbose=0)
    model.save("mnist_model.h5")

    loaded = load_model("mnist_model.h5")
    loaded.summary()
    assert "Total params: 16,330" in capsys.readouterr().out
    assert loaded.evaluate(x_test, y_test, verbose=2) == expected
    with pytest.warns(DeprecationWarning, match="predict_classes"):
        predicted = loaded.predict_classes(x_test[[20]])
    assert predicted.tolist() == [int(np.argmax(model.predict(x_test[[20]], verbose=0)))]
    return loaded, expected


def test_seed_004_save_and_load_h5(tmp_path, monkeypatch, capsys):
    keras.utils.set_random_seed(4)
    rng = np.random.default_rng(4)
    x = rng.random((200, 28, 28)).astype(np.float32)
    y = rng.integers(0, 10, 200)
    loaded, _ = _save_load_and_use(tmp_path, monkeypatch, x[:160], y[:160], x[160:], y[160:],
                                   capsys)
    assert loaded.optimizer.iterations == 8  # 160 samples / batch 20: training resumes


@pytest.mark.slow
def test_seed_004_on_real_images(tmp_path, monkeypatch, capsys):
    (x_train, y_train), (x_test, y_test) = keras.datasets.fashion_mnist.load_data()
    x_train, x_test = x_train[:6000] / 255.0, x_test[:1000] / 255.0
    keras.utils.set_random_seed(4)
    _, (loss, accuracy) = _save_load_and_use(tmp_path, monkeypatch, x_train, y_train[:6000],
                                             x_test, y_test[:1000], capsys)
    assert accuracy > 0.5  # one epoch of SGD on 6,000 images: far above chance (0.1)
