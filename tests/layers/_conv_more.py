"""Keras's reference facts for the depthwise, separable, 1-D and 3-D convolution-family
layers (tests/fixtures/conv_more/facts.npz, made by
tools/keras_reference/make_conv_more_facts.py on Keras 3 / JAX), and the checks the
three test files run on them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

import tinyann as keras
from tinyann import layers

FOLDER = Path(__file__).resolve().parents[1] / "fixtures" / "conv_more"

with np.load(FOLDER / "facts.npz") as _data:
    ARRAYS = {key: _data[key] for key in _data.files}
FACTS = json.loads(str(ARRAYS.pop("facts")))


def cases(*class_names):
    """The names of the cases of these layer classes."""
    return [name for name, fact in FACTS.items() if fact["class_name"] in class_names]


def _jsonable(value):
    return json.loads(json.dumps(value))


def _model(name):
    fact = FACTS[name]
    layer = getattr(layers, fact["class_name"])(**fact["kwargs"])
    model = keras.Sequential([keras.Input(tuple(fact["shape"])), layer, layers.Flatten(),
                              layers.Dense(1)])
    model.set_weights([ARRAYS[f"{name}/initial_{i}"] for i in range(fact["weights"])])
    return model, layer


def check_output_and_config(name):
    """Keras's output for the same weights (1e-5), output shape, weight names, config
    (and Keras's config loads)."""
    fact = FACTS[name]
    model, layer = _model(name)
    x = ARRAYS[f"{name}/x"]
    np.testing.assert_allclose(layer(x), ARRAYS[f"{name}/output"], atol=1e-5, rtol=0)
    shape = (None,) + tuple(fact["shape"])
    assert list(layer.compute_output_shape(shape)) == fact["output_shape"]
    assert [w.path.split("/")[-1] for w in layer.weights] == fact["paths"]
    got = _jsonable({k: v for k, v in layer.get_config().items() if k not in ("name", "dtype")})
    want = dict(fact["config"])
    for key in [k for k in want if k.endswith("_initializer")]:
        # Keras 3.15's initializers list input_axes / output_axes (None: default fans)
        want[key] = dict(want[key], config={k: v for k, v in want[key]["config"].items()
                                            if k not in ("input_axes", "output_axes")})
    assert got == want
    # Keras's own config loads, and gives the same layer
    rebuilt = type(layer).from_config(dict(fact["config"], name=layer.name))
    assert _jsonable({k: v for k, v in rebuilt.get_config().items()
                      if k not in ("name", "dtype")}) == got


def check_training(name, atol=1e-5):
    """Three SGD steps (mse, learning rate 0.01) of Input -> layer -> Flatten -> Dense(1)
    from Keras's initial weights give Keras's weights."""
    model, _ = _model(name)
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="mse")
    for _ in range(3):
        model.train_on_batch(ARRAYS[f"{name}/x"], ARRAYS[f"{name}/target"])
    for i, (got, variable) in enumerate(zip(model.get_weights(), model.weights)):
        np.testing.assert_allclose(got, ARRAYS[f"{name}/trained_{i}"], atol=atol, rtol=0,
                                   err_msg=variable.path)
