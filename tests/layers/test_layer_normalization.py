"""LayerNormalization against real Keras 3 (tests/fixtures/keras/norm_layers.*, made by
tools/keras_reference/make_norm_layers_fixtures.py) and numerical gradients."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras"
CASES = ["last", "axes", "middle", "no_center", "no_scale", "plain", "rms"]


@pytest.fixture(scope="module")
def ref():
    return dict(np.load(FIXTURES / "norm_layers.npz"))


@pytest.fixture(scope="module")
def facts():
    return json.loads((FIXTURES / "norm_layers.json").read_text())["layer_normalization"]


def _layer(kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # rms_scaling's deprecation, as Keras warns
        return layers.LayerNormalization(**kwargs)


@pytest.mark.parametrize("case", CASES)
def test_outputs_and_gradients_match_keras(case, ref, facts):
    fact = facts[case]
    layer = _layer(fact["kwargs"])
    x = ref["ln:x"]
    layer.build(x.shape)
    assert [w.name for w in layer.trainable_weights] == fact["weights"]
    layer.set_weights([ref[f"ln_{case}:{name}"] for name in fact["weights"]])
    y = layer(x, training=True)
    np.testing.assert_allclose(np.asarray(y), ref[f"ln_{case}:y"], atol=1e-5, rtol=1e-5)
    dx = layer.backward(ref[f"ln_{case}:G"].copy())
    np.testing.assert_allclose(dx, ref[f"ln_{case}:dx"], atol=1e-5, rtol=1e-4)
    for w in layer.trainable_weights:
        np.testing.assert_allclose(w.grad, ref[f"ln_{case}:d{w.name}"], atol=1e-5, rtol=1e-5)
    assert json.loads(json.dumps(layer.get_config())) == dict(fact["config"],
                                                              name=layer.name)


@pytest.mark.parametrize("kwargs", [{}, {"axis": [1, 2]}, {"axis": 1, "epsilon": 0.1},
                                    {"center": False}, {"scale": False},
                                    {"rms_scaling": True}, {"axis": [-1, 0]}])
def test_gradient(kwargs, gradcheck, helpers):
    rng = np.random.default_rng(0)
    layer = _layer(kwargs)
    x = rng.normal(size=(3, 4, 5)) * 2.0 + 0.5
    layer.build(x.shape)
    layer.set_weights([rng.uniform(0.5, 2.0, size=w.shape) for w in layer.weights])
    helpers.check_layer(gradcheck, layer, x, rng)


def test_trains_as_keras(ref):
    model = keras.Sequential([keras.Input((6,)), layers.Dense(5), layers.LayerNormalization(),
                              layers.Dense(2)])
    model.set_weights([ref[f"ln_train:initial_{k}"] for k in range(6)])
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    model.fit(ref["ln_train:x"], ref["ln_train:y"], batch_size=8, epochs=1, shuffle=False,
              verbose=0)
    for k, (got, variable) in enumerate(zip(model.get_weights(), model.weights)):
        np.testing.assert_allclose(got, ref[f"ln_train:trained_{k}"], atol=1e-5, rtol=0,
                                   err_msg=variable.path)
    np.testing.assert_allclose(model.predict(ref["ln_train:x"][:5], verbose=0),
                               ref["ln_train:pred"], atol=1e-5)


def test_keras_arguments_and_errors():
    layer = layers.LayerNormalization()
    assert layer.get_config()["axis"] == -1  # a list once built, as Keras
    layer.build((None, 3, 4))
    assert layer.get_config()["axis"] == [-1]
    assert layer.gamma.path.endswith("/gamma") and layer.beta.path.endswith("/beta")
    with pytest.raises(TypeError, match="Expected an int or a list/tuple of ints"):
        layers.LayerNormalization(axis="x")
    with pytest.raises(ValueError, match="Axis 3 is out of bounds for input shape"):
        layers.LayerNormalization(axis=3).compute_output_shape((None, 2, 2))
    with pytest.warns(UserWarning, match="You passed `rms_scaling=True`, which is deprecated"):
        rms = layers.LayerNormalization(rms_scaling=True)
    rms.build((None, 4))
    assert [w.name for w in rms.weights] == ["gamma"]
