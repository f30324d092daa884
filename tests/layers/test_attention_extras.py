"""Dot, UnitNormalization and GroupNormalization: Keras's numbers and configs
(tests/fixtures/attention/extras_*, made by tools/keras_reference/make_attention_facts.py),
numerical gradients, errors, training."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tinyann as keras

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "attention"


@pytest.fixture(scope="module")
def ref():
    configs = json.loads((FIXTURES / "extras_configs.json").read_text(encoding="utf-8"))
    return np.load(FIXTURES / "extras_cases.npz"), configs


def _same_config(got, want):
    got = json.loads(json.dumps(got))
    want = dict(want, name=got["name"])
    assert got == want


DOTS = {"dot_12": (dict(axes=(1, 2)), ("a", "b")), "dot_neg": (dict(axes=-1), ("a", "a")),
        "dot_norm": (dict(axes=(2, 1), normalize=True), ("a", "b")),
        "dot_vec": (dict(axes=1), ("a2", "b2"))}


@pytest.mark.parametrize("name", list(DOTS))
def test_dot_matches_keras(ref, name):
    arrays, configs = ref
    kwargs, (first, second) = DOTS[name]
    layer = keras.layers.Dot(**kwargs)
    inputs = [arrays[first], arrays[second]]
    out = np.asarray(layer(inputs))
    np.testing.assert_allclose(out, arrays[f"{name}_output"], rtol=1e-5, atol=1e-6)
    assert layer.compute_output_shape([x.shape for x in inputs]) == out.shape
    _same_config(layer.get_config(), configs[name])


@pytest.mark.parametrize("name,layer", [
    ("unit", lambda: keras.layers.UnitNormalization()),
    ("unit_axes", lambda: keras.layers.UnitNormalization(axis=[1, 2]))])
def test_unit_normalization_matches_keras(ref, name, layer):
    arrays, configs = ref
    layer = layer()
    np.testing.assert_allclose(np.asarray(layer(arrays["a"])), arrays[f"{name}_output"],
                               rtol=1e-5, atol=1e-6)
    _same_config(layer.get_config(), configs[name])


GROUPS = {"group": dict(groups=3), "group_axis1": dict(groups=1, axis=1),
          "group_instance": dict(groups=-1, epsilon=1e-5, center=False)}


@pytest.mark.parametrize("name", list(GROUPS))
def test_group_normalization_matches_keras(ref, name):
    arrays, configs = ref
    layer = keras.layers.GroupNormalization(**GROUPS[name])
    x = arrays["x4"]
    layer(x)
    layer.set_weights([arrays[f"{name}_w{i}"] for i in range(len(layer.weights))])
    np.testing.assert_allclose(np.asarray(layer(x)), arrays[f"{name}_output"], rtol=1e-4,
                               atol=1e-5)
    _same_config(layer.get_config(), configs[name])


@pytest.mark.parametrize("make,shapes", [
    (lambda: keras.layers.Dot(axes=(1, 2)), [(2, 3, 4), (2, 2, 3)]),
    (lambda: keras.layers.Dot(axes=-1, normalize=True), [(2, 3, 4), (2, 5, 4)]),
    (lambda: keras.layers.Dot(axes=1), [(2, 3), (2, 3)]),
])
def test_dot_numerical_gradients(gradcheck, helpers, make, shapes):
    rng = np.random.default_rng(0)
    layer = make()
    helpers.check_layer(gradcheck, layer, [rng.normal(size=s) for s in shapes], rng)


@pytest.mark.parametrize("make,shape", [
    (lambda: keras.layers.UnitNormalization(), (2, 3, 4)),
    (lambda: keras.layers.UnitNormalization(axis=[1, 2]), (2, 3, 4)),
    (lambda: keras.layers.GroupNormalization(2, gamma_initializer="random_normal",
                                             beta_initializer="random_normal"), (2, 3, 4)),
    (lambda: keras.layers.GroupNormalization(1, axis=1, center=False), (2, 4, 3)),
    (lambda: keras.layers.GroupNormalization(-1, scale=False), (2, 5, 3)),
])
def test_normalization_numerical_gradients(gradcheck, helpers, make, shape):
    rng = np.random.default_rng(1)
    layer = make()
    x = rng.normal(size=shape)
    layer.build(x.shape)
    helpers.check_layer(gradcheck, layer, x, rng)


@pytest.mark.parametrize("make,error,message", [
    (lambda: keras.layers.Dot(axes="x"), TypeError, "Invalid type for argument `axes`"),
    (lambda: keras.layers.Dot(axes=(1, 2, 3)), ValueError, "two elements"),
    (lambda: keras.layers.Dot(axes=1)([np.ones((2, 3)), np.ones((2, 4))]), ValueError,
     "Incompatible input shapes"),
    (lambda: keras.layers.Dot(axes=1)(np.ones((2, 3))), ValueError, "list of 2 inputs"),
    (lambda: keras.layers.UnitNormalization(axis="x"), TypeError, "axis"),
    (lambda: keras.layers.UnitNormalization(axis=3)(np.ones((2, 3))), ValueError,
     "out of bounds"),
    (lambda: keras.layers.GroupNormalization(0), ValueError, "groups"),
    (lambda: keras.layers.GroupNormalization(4)(np.ones((2, 6))), ValueError,
     "must be a multiple"),
    (lambda: keras.layers.GroupNormalization(8)(np.ones((2, 6))), ValueError,
     "cannot be more than"),
])
def test_errors(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_dot_cosine_similarity_in_a_siamese_model_trains_and_saves(tmp_path):
    """Is the second vector a noisy copy of the first? Shared Dense -> GroupNormalization
    -> UnitNormalization towers, their Dot(normalize=True), a Dense on it."""
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    a = rng.normal(size=(256, 6)).astype("float32")
    same = rng.random((256, 1)) > 0.5
    b = np.where(same, a + 0.3 * rng.normal(size=(256, 6)),
                 rng.normal(size=(256, 6))).astype("float32")
    y = same.astype("float32")
    left, right = keras.Input((6,)), keras.Input((6,))
    dense = keras.layers.Dense(8)
    group = keras.layers.GroupNormalization(2)
    unit = keras.layers.UnitNormalization()
    cosine = keras.layers.Dot(axes=1, normalize=True)(
        [unit(group(dense(left))), unit(group(dense(right)))])
    # (a positive start on the cosine: a negative one can collapse the towers instead)
    model = keras.Model([left, right], keras.layers.Dense(
        1, activation="sigmoid", kernel_initializer="ones")(cosine))
    model.compile(keras.optimizers.Adam(0.05), "binary_crossentropy", metrics=["accuracy"])
    history = model.fit([a, b], y, epochs=20, batch_size=32, verbose=0)
    assert history.history["accuracy"][-1] > 0.9
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict([a, b], verbose=0),
                               model.predict([a, b], verbose=0), rtol=1e-5)


def test_functional_dot():
    out = keras.layers.dot([np.ones((2, 3)), np.full((2, 3), 2.0)], axes=1)
    np.testing.assert_allclose(np.asarray(out), [[6.0], [6.0]])
