"""Files written by tinyann load in real Keras 3 and predict the same (within 1e-6).

Runs only where Keras is importable (not in tinyann's own environment: there, run
``tools/keras_reference/check_tinyann_files_in_keras.py``, which checks the same
files in a separate Keras environment).
"""

from __future__ import annotations

import numpy as np
import pytest

import tinyann

real_keras = pytest.importorskip("keras")


@pytest.mark.parametrize("suffix", [".keras", ".h5", ".weights.h5"])
def test_tinyann_files_load_in_keras(tmp_path, trained_mlp, models, suffix):
    model, x, _ = trained_mlp
    functional = models.functional()
    fx, fy = models.functional_data()
    functional.fit(fx, fy, epochs=1, verbose=0)
    for name, m, inputs in (("mlp", model, x), ("functional", functional, fx)):
        path = tmp_path / f"{name}{suffix}"
        if suffix == ".weights.h5":
            m.save(tmp_path / f"{name}.keras")
            m.save_weights(path)
            loaded = real_keras.models.load_model(tmp_path / f"{name}.keras")
            loaded.set_weights([np.zeros_like(w) for w in loaded.get_weights()])
            loaded.load_weights(path)
        else:
            m.save(path)
            loaded = real_keras.models.load_model(path)
        np.testing.assert_allclose(loaded.predict(inputs, verbose=0),
                                   m.predict(inputs, verbose=0), rtol=0, atol=1e-6)
        if suffix == ".keras":
            for ours, theirs in zip(m.optimizer.variables, loaded.optimizer.variables,
                                    strict=True):
                np.testing.assert_array_equal(np.asarray(ours), theirs.numpy())


def test_keras_files_load_in_tinyann(tmp_path):
    model = real_keras.Sequential([real_keras.Input((4,)),
                                   real_keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    x = np.random.default_rng(0).random((8, 4), dtype=np.float32)
    model.fit(x, np.arange(8) % 3, verbose=0)
    model.save(tmp_path / "k.keras")
    ours = tinyann.models.load_model(tmp_path / "k.keras")
    np.testing.assert_allclose(ours.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=0, atol=1e-6)
