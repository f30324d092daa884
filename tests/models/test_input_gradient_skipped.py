"""dL/dinput is computed only where something before a layer can use it: after the
model's inputs, and after built-in layers without weights that read only them (the
textbook's Flatten -> Dense trains without the first Dense's input gradient)."""

from __future__ import annotations

import numpy as np

import tinyann as keras
from tinyann import layers
from tinyann.autodiff import GradientTape, Tensor


def _needs(model):
    return {layer.name: layer._needs_input_grad for layer in model.layers}


def test_weightless_layers_after_the_input_pass_the_skip_on():
    model = keras.Sequential([keras.Input((4, 4)), layers.Flatten(name="flat"),
                              layers.Dropout(0.1, name="drop"), layers.Dense(5, name="d1"),
                              layers.Reshape((5, 1), name="shape"), layers.Flatten(name="f2"),
                              layers.Dense(3, name="d2")])
    assert _needs(model) == {"flat": False, "drop": False, "d1": False,
                             "shape": True, "f2": True, "d2": True}


def test_a_lambda_or_a_user_layer_in_front_keeps_the_input_gradient():
    class Twice(layers.Layer):
        def call(self, x):
            return x * 2

    for first in (layers.Lambda(lambda x: x * 2, name="first"), Twice(name="first")):
        model = keras.Sequential([keras.Input((4,)), first, layers.Dense(3, name="d")])
        assert _needs(model)["d"] is True


def test_a_weighted_layer_in_front_keeps_it():
    model = keras.Sequential([keras.Input((4,)), layers.BatchNormalization(name="bn"),
                              layers.Flatten(name="flat"), layers.Dense(3, name="d")])
    assert _needs(model) == {"bn": False, "flat": True, "d": True}


def test_a_shared_layer_needs_it_if_any_call_does():
    inputs = keras.Input((4,))
    dense = layers.Dense(4, name="shared")
    first = dense(layers.Flatten(name="flat")(inputs))
    second = dense(layers.Dense(4, name="other")(inputs))
    model = keras.Model(inputs, layers.Add()([first, second]))
    assert _needs(model)["shared"] is True and _needs(model)["other"] is False


def test_nested_models_and_watched_inputs_get_the_input_gradient():
    inner = keras.Sequential([keras.Input((2, 3)), layers.Flatten(), layers.Dense(4)])
    outer = keras.Sequential([keras.Input((2, 3)), layers.Dense(3), inner])
    assert inner.layers[1]._needs_input_grad is True   # nested after a Dense
    model = keras.Sequential([keras.Input((2, 3)), layers.Flatten(), layers.Dense(2)])
    x = Tensor(np.random.default_rng(0).normal(size=(5, 2, 3)))
    with GradientTape() as tape:
        tape.watch(x)
        y = model(x, training=True)
    dx = tape.gradient(y, x).numpy()
    kernel = model.layers[1].kernel.numpy()
    np.testing.assert_allclose(dx, np.broadcast_to(kernel.sum(axis=1).reshape(2, 3),
                                                   (5, 2, 3)), rtol=1e-6)
    assert model.layers[1]._needs_input_grad is False   # restored after the call
    assert outer.layers[0]._needs_input_grad is False


def _trained(skip, monkeypatch):
    import tinyann.models.functional as functional

    with monkeypatch.context() as patch:
        if not skip:
            patch.setattr(functional, "_without_weights", lambda layer: False)
        keras.utils.set_random_seed(4)
        model = keras.Sequential([keras.Input((3, 4)), layers.Flatten(),
                                  layers.Dense(6, activation="relu"),
                                  layers.Dense(3, activation="softmax")])
        assert model.layers[1]._needs_input_grad is (not skip)
        rng = np.random.default_rng(1)
        x, y = rng.normal(size=(64, 3, 4)), rng.integers(0, 3, 64)
        model.compile("adam", "sparse_categorical_crossentropy")
        model.fit(x, y, epochs=2, batch_size=16, verbose=0, shuffle=False)
        return [w.numpy() for w in model.weights]


def test_fit_trains_the_same_either_way(monkeypatch):
    """The weights after training do not depend on the skipped input gradient."""
    skipped, computed = _trained(True, monkeypatch), _trained(False, monkeypatch)
    assert not np.array_equal(skipped[0], _initial_kernel())
    for a, b in zip(skipped, computed):
        np.testing.assert_array_equal(a, b)


def _initial_kernel():
    keras.utils.set_random_seed(4)
    model = keras.Sequential([keras.Input((3, 4)), layers.Flatten(),
                              layers.Dense(6, activation="relu"),
                              layers.Dense(3, activation="softmax")])
    return model.layers[1].kernel.numpy()
