"""Nadam's extra state (the product of its momentum schedule): Keras's name and place
among the optimizer's variables, and training that continues the same after a save and
load (its trajectory against Keras: tests/optimizers/test_keras_parity.py)."""

import numpy as np

import tinyann as keras


def _model():
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.Nadam(0.05), loss="mse")
    return model


def test_the_schedule_product_is_keras_last_variable_and_survives_saving(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 3)).astype("float32")
    y = rng.standard_normal((32, 2)).astype("float32")
    straight, saved = _model(), _model()
    straight.fit(x, y, epochs=4, batch_size=8, shuffle=False, verbose=0)
    saved.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    names = saved.optimizer._variable_names()
    assert names[-1] == "variable" and len(names) == len(saved.optimizer.variables)
    mu = [0.9 * (1 - 0.5 * 0.96 ** t) for t in range(1, 9)]
    np.testing.assert_allclose(float(saved.optimizer.variables[-1]), np.prod(mu), rtol=1e-5)
    saved.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    loaded.fit(x, y, epochs=2, batch_size=8, shuffle=False, verbose=0)
    for a, b in zip(straight.get_weights(), loaded.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_by_name():
    assert isinstance(keras.optimizers.get("nadam"), keras.optimizers.Nadam)
    config = keras.optimizers.Nadam(beta_1=0.8).get_config()
    assert config["beta_1"] == 0.8 and config["name"].startswith("nadam")
