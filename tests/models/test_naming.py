"""Auto names exactly as Keras 3 gives them (auto_names.json), made in the same order.

One process-wide counter per prefix: ``dense``, ``dense_1``...; an explicit name,
Unicode included, neither advances nor reserves a counter; ``clear_session()``
resets them all. Keras also gives each built Sequential a hidden functional model
(using up a ``functional`` name); tinyann has none, so its first functional model
is ``functional`` where Keras's is ``functional_2``.
"""

from __future__ import annotations

import numpy as np

import tinyann as keras
from tinyann import backend, layers


def test_names_in_keras_order(keras_fact):
    want = keras_fact("auto_names.json")
    assert [layers.Dense(1).name for _ in range(3)] == want["Dense() x3"]
    assert [keras.Sequential().name for _ in range(2)] == want["Sequential() x2"]
    assert [layers.Dense(1, name="출력층").name, layers.Dense(1).name] == want[
        "Dense(name='출력층') then Dense()"]
    assert [layers.Dense(1, name="dense_7").name] + [layers.Dense(1).name for _ in range(5)] \
        == want["Dense(name='dense_7') then Dense() x5 (explicit names are not reserved)"]
    assert [layers.Flatten().name for _ in range(2)] == want["Flatten() x2"]

    inputs = [keras.Input((4,)), keras.Input((4,)), keras.Input((4,), name="pixels")]
    assert [t.node.layer.name for t in inputs] == want[
        "keras.Input((4,)) x2 then Input(name='pixels'): layer names"]
    assert [t.name for t in inputs] == want[
        "keras.Input((4,)) x2 then Input(name='pixels'): tensor .name"]

    fact = want["Sequential([Input((4,)), Dense(3), Dense(1)])"]
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.Dense(1)])
    assert model.name == fact["model.name"]
    assert [layer.name for layer in model.layers] == fact["[l.name for l in model.layers]"]
    assert model.inputs[0].name == fact["model.inputs[0].name"]
    assert model.inputs[0].node.layer.name == fact[
        "input layer name (model._layers[0] in get_config)"]
    assert [w.name for w in model.weights] == fact["weight names"]

    fact = want["Sequential([Dense(3)]) built by calling on data"]
    model = keras.Sequential([layers.Dense(3)])
    model(np.ones((1, 4)))
    assert model.name == fact["model.name"]
    assert [layer.name for layer in model.layers] == fact["layers"]
    assert model.inputs[0].node.layer.name == fact["get_config layers[0] (input layer)"]

    fact = want["functional keras.Model(inputs, outputs)"]
    inputs = keras.Input((4,))
    model = keras.Model(inputs, layers.Dense(2)(inputs))
    assert [layer.name for layer in model.layers] == fact["layers"]
    assert fact["model.name"] == "functional_2" and model.name == "functional"

    dense = layers.Dense(2)
    dense.build((None, 4))
    assert [w.path for w in dense.weights] == want[
        "standalone Dense(2).build((None, 4)) weight paths"]


def test_class_names_in_snake_case(keras_fact):
    want = keras_fact("auto_names.json")["class -> default name"]
    for cls, name in want.items():
        assert backend.to_snake_case(cls) == name
    assert layers.Dropout(0.3).name == want["Dropout"]
    assert layers.Activation("relu").name == want["Activation"]


def test_clear_session_resets_every_counter(keras_fact):
    want = keras_fact("auto_names.json")["after keras.backend.clear_session()"]
    layers.Dense(1), layers.Dense(1), keras.Sequential(), layers.Flatten(), keras.Input((4,))
    backend.clear_session()
    assert layers.Dense(1).name == want["Dense()"]
    assert layers.Dense(1).name == want["Dense() again"]
    assert keras.Sequential().name == want["Sequential()"]
    assert layers.Flatten().name == want["Flatten()"]
    inputs = keras.Input((4,))
    assert inputs.node.layer.name == want["Input((4,)) layer"]
    assert keras.Model(inputs, layers.Dense(1)(inputs)).name == want["Model(functional)"]


def test_explicit_names_are_kept_as_given():
    names = ["출력층", "Hidden Layer", "층_1"]
    model = keras.Sequential([keras.Input((4,))] + [layers.Dense(2, name=n) for n in names],
                             name="내_모델")
    assert model.name == "내_모델"
    assert [layer.name for layer in model.layers] == names
    # none of them used up an auto name
    assert layers.Dense(1).name == "dense"
    assert keras.Sequential().name == "sequential"
