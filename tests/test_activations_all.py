"""Every Keras 3 activation (keras.activations): values against real Keras's and against
NumPy formulas, derivatives by central differences, the function form's arguments and
Tensors, get / serialize, and each one in the layers that take ``activation=``: a
layer's gradient checked numerically, trained by ``fit``, saved and loaded. Also the
ELU and PReLU layers.

Keras's numbers: tests/fixtures/keras/activations.json, made by
tools/keras_reference/make_activation_facts.py.
"""

from __future__ import annotations

import json
import math
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest

import tinyann as keras
from tinyann import activations, layers
from tinyann.autodiff import GradientTape, Tensor

FACTS = json.loads((Path(__file__).resolve().parent / "fixtures" / "keras" /
                    "activations.json").read_text())
# every name keras.activations.get reads (aliases too), and what a layer's config writes
SERIALIZED = FACTS["serialized"]
NAMES = sorted(SERIALIZED)
# the ones a layer can use by name (threshold needs its two arguments)
LAYER_NAMES = [name for name in NAMES if name != "threshold"]
NEEDS_INPUT = {"gelu", "silu", "swish", "hard_silu", "hard_swish", "mish", "tanh_shrink",
               "glu", "threshold"}

SELU_ALPHA, SELU_SCALE = 1.6732632423543772, 1.0507009873554805
_erf = np.vectorize(math.erf)


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _softplus(x):
    return np.log1p(np.exp(-np.abs(x))) + np.maximum(x, 0.0)


def _softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _sparsemax(x, axis=-1):
    """The projection onto the simplex by bisection on tau (sum(max(x - tau, 0)) = 1):
    another algorithm than the kernels' sort."""
    x = np.moveaxis(x, axis, -1)
    low = x.max(axis=-1, keepdims=True) - 1.0
    high = x.max(axis=-1, keepdims=True)
    for _ in range(200):
        tau = 0.5 * (low + high)
        too_much = np.maximum(x - tau, 0.0).sum(axis=-1, keepdims=True) > 1.0
        low, high = np.where(too_much, tau, low), np.where(too_much, high, tau)
    return np.moveaxis(np.maximum(x - 0.5 * (low + high), 0.0), -1, axis)


def _relu_options(x, negative_slope=0.0, max_value=None, threshold=0.0):
    # Keras's relu, case by case
    y = np.where(x > threshold, x, 0.0)
    if max_value is not None:
        y = np.clip(y, 0.0, max_value)
    return y - negative_slope * np.maximum(threshold - x, 0.0)


def _glu(x, axis=-1):
    a, b = np.split(x, 2, axis=axis)
    return a * _sigmoid(b)


# name -> f(x, **kwargs) in float64, written from the definitions (Keras's docstrings)
FORMULAS = {
    "linear": lambda x: x,
    "relu": _relu_options,
    "relu6": lambda x: np.minimum(np.maximum(x, 0.0), 6.0),
    "leaky_relu": lambda x, negative_slope=0.2: np.where(x > 0, x, negative_slope * x),
    "elu": lambda x, alpha=1.0: np.where(x > 0, x, alpha * (np.exp(x) - 1.0)),
    "selu": lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * (np.exp(x) - 1.0)),
    "celu": lambda x, alpha=1.0: np.where(x >= 0, x, alpha * (np.exp(x / alpha) - 1.0)),
    "sigmoid": _sigmoid,
    "hard_sigmoid": lambda x: np.where(x <= -3, 0.0, np.where(x >= 3, 1.0, x / 6 + 0.5)),
    "sparse_sigmoid": lambda x: np.where(x <= -1, 0.0, np.where(x >= 1, 1.0, 0.5 * (x + 1))),
    "log_sigmoid": lambda x: np.log(_sigmoid(x)),
    "tanh": np.tanh,
    "hard_tanh": lambda x: np.where(x < -1, -1.0, np.where(x > 1, 1.0, x)),
    "tanh_shrink": lambda x: x - np.tanh(x),
    "softplus": _softplus,
    "sparse_plus": lambda x: np.where(x <= -1, 0.0, np.where(x >= 1, x, (x + 1) ** 2 / 4)),
    "squareplus": lambda x, b=4: (x + np.sqrt(x * x + b)) / 2,
    "softsign": lambda x: x / (1 + np.abs(x)),
    "hard_shrink": lambda x, threshold=0.5: np.where(np.abs(x) > threshold, x, 0.0),
    "soft_shrink": lambda x, threshold=0.5: np.where(
        x > threshold, x - threshold, np.where(x < -threshold, x + threshold, 0.0)),
    "exponential": np.exp,
    "softmax": _softmax,
    "log_softmax": lambda x, axis=-1: np.log(_softmax(x, axis)),
    "sparsemax": _sparsemax,
    "gelu": lambda x, approximate=False: (
        0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x ** 3)))
        if approximate else 0.5 * x * (1 + _erf(x / np.sqrt(2)))),
    "silu": lambda x: x * _sigmoid(x),
    "hard_silu": lambda x: x * np.clip(x / 6 + 0.5, 0.0, 1.0),
    "mish": lambda x: x * np.tanh(_softplus(x)),
    "threshold": lambda x, threshold, default_value: np.where(x > threshold, x, default_value),
    "glu": _glu,
}
FORMULAS.update(swish=FORMULAS["silu"], hard_swish=FORMULAS["hard_silu"])

# the fixture's cases and a few more: case -> (name, kwargs)
CASES = {case: (entry["function"], entry["kwargs"]) for case, entry in FACTS["cases"].items()}
CASES.update(swish=("swish", {}), hard_swish=("hard_swish", {}), sparsemax=("sparsemax", {}),
             sparsemax_axis0=("sparsemax", {"axis": 0}), squareplus_0=("squareplus", {"b": 0}),
             leaky_relu_steep=("leaky_relu", {"negative_slope": 1.5}),
             relu_options_at_defaults=("relu", {"negative_slope": 0.0, "max_value": None}))
KERAS_CASES = sorted(FACTS["cases"])
KINKS = (0.0, 0.5, -0.5, 1.0, -1.0, 2.0, 3.0, -3.0, 6.0)  # every default and case's


def _away_from_kinks(rng, shape, margin=0.05):
    """Random values (|v| up to ~4) at least ``margin`` from every kink in ``KINKS``."""
    x = rng.uniform(-4.0, 4.0, size=shape)
    for kink in KINKS:
        close = np.abs(x - kink) < margin
        x[close] += 2 * margin
    return x


def _apply(case, x):
    name, kwargs = CASES[case]
    return getattr(activations, name)(x, **kwargs)


# ---------------------------------------------------------------------- the names
def test_every_keras_name_is_a_function_and_a_string():
    for name in NAMES:
        function = getattr(activations, name)
        assert isinstance(function, activations.Activation), name
        assert activations.get(name) is function, name
    assert activations.swish is activations.silu
    assert activations.hard_swish is activations.hard_silu


@pytest.mark.parametrize("name", NAMES)
def test_serialize_writes_what_keras_writes(name):
    assert activations.serialize(name) == SERIALIZED[name]
    assert activations.serialize(activations.get(name)) == SERIALIZED[name]
    assert layers.Dense(2, activation=name).get_config()["activation"] == SERIALIZED[name]
    assert activations.deserialize(SERIALIZED[name]) is activations.get(name)
    assert activations.get({"class_name": "function", "config": name,
                            "module": "keras.activations", "registered_name": None}) is (
        activations.get(name))


@pytest.mark.parametrize("name", NAMES)
def test_needs_input_only_where_the_output_does_not_tell_the_slope(name):
    assert activations.get(name).needs_input == (name in NEEDS_INPUT)


def test_unknown_name_lists_the_new_ones():
    with pytest.raises(ValueError, match=r"Could not interpret activation.*'gelu'.*'silu'"):
        activations.get("gelu_new")


# ---------------------------------------------------------------------- values
@pytest.mark.parametrize("case", KERAS_CASES)
def test_value_matches_keras(case):
    x = np.array(FACTS["x"], dtype="float32")
    y = _apply(case, x)
    assert isinstance(y, np.ndarray) and y.dtype == np.float32
    np.testing.assert_allclose(y, FACTS["cases"][case]["value"], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", KERAS_CASES)
def test_gradient_on_a_tape_matches_keras(case):
    """The function form on a Variable is a Tensor recorded on the tape with the
    hand-written derivative; tf.GradientTape's gradient is the reference."""
    x = keras.Variable(np.array(FACTS["x"], dtype="float32"))
    with GradientTape() as tape:
        y = _apply(case, x)
        g = np.array(FACTS["g"], dtype="float32")[tuple(slice(0, n) for n in y.shape)]
        total = keras.ops.sum(keras.ops.multiply(y, g))
    assert isinstance(y, Tensor)
    grad = tape.gradient(total, x)
    np.testing.assert_allclose(np.asarray(grad), FACTS["cases"][case]["grad"],
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("shape", [(4, 6), (2, 3, 4)], ids=["2d", "3d"])
def test_value_matches_formula(case, shape):
    name, kwargs = CASES[case]
    x = _away_from_kinks(np.random.default_rng(0), shape)
    np.testing.assert_allclose(_apply(case, x), FORMULAS[name](x, **kwargs),
                               rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", LAYER_NAMES)
def test_forward_keeps_float32_and_casts_integers(name):
    x = np.random.default_rng(1).normal(size=(2, 6)).astype("float32")
    y = activations.get(name)(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, FORMULAS[name](x.astype("float64")), rtol=2e-5, atol=1e-6)
    assert activations.get(name)(np.array([[1, -2]])).dtype == np.float32


def test_large_inputs_stay_finite():
    x = np.array([[-1e4, -80.0, 0.3, 80.0, 1e4, 2.0]], dtype="float32")
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        for name in ("sigmoid", "softplus", "log_sigmoid", "silu", "mish", "elu", "selu",
                     "celu", "softmax", "log_softmax", "sparsemax", "gelu", "hard_silu"):
            assert np.all(np.isfinite(activations.get(name)(x))), name
    np.testing.assert_allclose(activations.log_sigmoid(x)[0, :2], [-1e4, -80.0], rtol=1e-6)
    np.testing.assert_allclose(activations.softplus(x)[0, 4], 1e4, rtol=1e-6)


def test_sparsemax_is_a_projection_onto_the_simplex():
    """Keras 3.15's sparsemax sums to 1 only when one entry is positive
    (keras-team/keras#23425, fixed after 3.15); tinyann's always does."""
    one = FACTS["sparsemax_support_of_one"]
    np.testing.assert_allclose(activations.sparsemax(np.array(one["x"], "float32")),
                               one["value"], atol=1e-7)
    y = activations.sparsemax(np.array([[0.0, 0.5, 1.0], [1.0, 1.0, 1.0]]))
    np.testing.assert_allclose(y, [[0.0, 0.25, 0.75], [1 / 3, 1 / 3, 1 / 3]])
    x = np.random.default_rng(2).normal(size=(5, 7))
    np.testing.assert_allclose(activations.sparsemax(x).sum(axis=-1), 1.0)


# ---------------------------------------------------------------------- derivatives
@pytest.mark.parametrize("case", sorted(CASES))
@pytest.mark.parametrize("in_place", [False, True], ids=["new_out", "out_is_grad"])
def test_backward_matches_finite_differences(gradcheck, case, in_place):
    """dL/dx for L = sum(G * f(x)) with a random G, through the activation object with
    the selected kernels (``x=`` for those that need the input); ``out`` may be ``grad``
    when it has x's shape (layers back-propagate in place)."""
    name, kwargs = CASES[case]
    act = getattr(activations, name).bind(**kwargs)
    rng = np.random.default_rng(3)
    x = _away_from_kinks(rng, (2, 3, 4))
    y = act(x)
    g = rng.normal(size=y.shape)
    numeric = gradcheck.numerical_grad(lambda: np.sum(g * act(x)), x)
    grad = g.copy()
    out = grad if in_place and y.shape == x.shape else np.empty_like(x)
    x_given = x.copy()
    analytic = act.backward(y, grad, out, x=x_given if act.needs_input else None)
    assert analytic is out
    gradcheck.assert_close(analytic, numeric)
    np.testing.assert_array_equal(x_given, x)  # the input is left alone
    if out is not grad:
        np.testing.assert_array_equal(grad, g)


@pytest.mark.parametrize("name", [n for n in LAYER_NAMES if n not in NEEDS_INPUT])
def test_forward_in_place_on_input(name):
    """Layers call ``forward(z, z)`` for the output-only ones: right when out is x."""
    x = _away_from_kinks(np.random.default_rng(4), (4, 6))
    z = x.copy()
    assert activations.get(name).forward(z, z) is z
    np.testing.assert_allclose(z, FORMULAS[name](x), rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------- arguments
def test_arguments_by_position_and_name():
    x = np.array([-2.0, -0.5, 0.7, 4.0])
    np.testing.assert_allclose(activations.relu(x, 0.1, 3.0, 0.5),
                               activations.relu(x, negative_slope=0.1, max_value=3.0,
                                                threshold=0.5))
    np.testing.assert_allclose(activations.threshold(x, 0.5, -1.0), [-1.0, -1.0, 0.7, 4.0])
    np.testing.assert_allclose(activations.elu(x, alpha=0.5), FORMULAS["elu"](x, 0.5))


def test_arguments_at_their_defaults_give_the_plain_activation():
    assert activations.relu.bind(negative_slope=0, max_value=None) is activations.relu
    assert activations.softmax.bind(axis=-1) is activations.softmax
    bound = activations.relu.bind(max_value=6.0)
    assert bound is not activations.relu and bound.needs_input
    # a name no fusion, config or get() takes for plain relu
    assert bound.name == "relu(max_value=6.0)"


@pytest.mark.parametrize("call, error, match", [
    (lambda x: activations.relu(x, alpha=0.1), TypeError, "unexpected keyword argument 'alpha'"),
    (lambda x: activations.tanh(x, 2.0), TypeError, "takes 1 positional arguments"),
    (lambda x: activations.elu(x, 0.5, alpha=0.5), TypeError, "multiple values"),
    (lambda x: activations.threshold(x), TypeError,
     "missing 2 required positional arguments: 'threshold' and 'default_value'"),
    (lambda x: activations.threshold(x, 0.5), TypeError, "missing 1 required positional"),
    (lambda x: activations.leaky_relu(x, negative_slope=-0.1), ValueError,
     "negative_slope >= 0"),
    (lambda x: activations.elu(x, alpha=-1.0), ValueError, "alpha >= 0"),
    (lambda x: activations.celu(x, alpha=0.0), ValueError, "alpha > 0"),
    (lambda x: activations.glu(x), ValueError, "axis size must be divisible by 2"),
    (lambda x: activations.sparsemax(x, axis=(0, 1)), ValueError, "integer axis"),
])
def test_argument_errors(call, error, match):
    with pytest.raises(error, match=match):
        call(np.ones((2, 3)))


def test_threshold_in_a_layer_says_it_needs_its_arguments():
    layer = layers.Dense(2, activation="threshold")
    with pytest.raises(TypeError, match="threshold.. missing 2 required"):
        layer(np.ones((1, 3), "float32"))


# ---------------------------------------------------------------------- Tensors
def test_tensor_in_tensor_out_and_array_in_array_out():
    x = np.array([[-1.0, 2.0]], "float32")
    assert type(activations.gelu(x)) is np.ndarray
    y = activations.gelu(keras.ops.convert_to_tensor(x))
    assert isinstance(y, Tensor)
    np.testing.assert_allclose(np.asarray(y), activations.gelu(x))


def test_a_custom_layer_using_an_activation_trains():
    """keras.activations.<name> in a user's call: differentiated on the tape."""
    class Gated(layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight((input_shape[-1], 4), "glorot_uniform", name="w")

        def call(self, x):
            return activations.mish(keras.ops.matmul(x, self.w))

    rng = np.random.default_rng(5)
    model = keras.Sequential([keras.Input((3,)), Gated(), layers.Dense(1)])
    model.compile("sgd", "mse")
    before = model.layers[0].w.value.copy()
    model.fit(rng.normal(size=(16, 3)), rng.normal(size=(16, 1)), epochs=1, verbose=0)
    assert np.abs(model.layers[0].w.value - before).max() > 0


# ---------------------------------------------------------------------- in layers
def _draw_away_from_kinks(rng, layer, shape, margin=0.02):
    """An input whose Dense pre-activations are all at least ``margin`` from the kinks."""
    for _ in range(500):
        x = rng.normal(size=shape)
        z = x.reshape(-1, shape[-1]) @ layer.kernel.value + layer.bias.value
        if min(np.min(np.abs(z - kink)) for kink in KINKS) > margin:
            return x
    raise AssertionError("could not draw an input away from the kinks")


@pytest.mark.parametrize("name", LAYER_NAMES)
@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4)], ids=["2d", "3d"])
def test_dense_backward_matches_finite_differences(gradcheck, name, shape):
    rng = np.random.default_rng(6)
    layer = layers.Dense(6, activation=name)
    layer.build((None, shape[-1]))
    layer.set_weights([rng.normal(0.0, 0.8, size=(shape[-1], 6)),
                       rng.normal(0.0, 0.5, size=6)])
    x = _draw_away_from_kinks(rng, layer, shape)
    y = layer(x, training=True)
    assert y.shape == layer.compute_output_shape(shape)
    g = rng.normal(size=y.shape)
    dx = layer.backward(g.copy())

    def loss():
        return np.sum(g * layer(x))

    gradcheck.assert_close(dx, gradcheck.numerical_grad(loss, x))
    gradcheck.assert_close(layer.kernel.grad, gradcheck.numerical_grad(loss, layer.kernel.value))
    gradcheck.assert_close(layer.bias.grad, gradcheck.numerical_grad(loss, layer.bias.value))


def test_output_only_activations_keep_no_preactivation():
    """relu, softmax...: y is computed in z's memory and z is not kept (no extra copy)."""
    layer = layers.Dense(3, activation="relu")
    layer(np.ones((2, 4), "float32"), training=True)
    assert layer._z is None
    gelu = layers.Dense(3, activation="gelu")
    y = gelu(np.ones((2, 4), "float32"), training=True)
    assert gelu._z is not None and not np.shares_memory(gelu._z, y)
    assert layers.Dense(3, activation="gelu")(np.ones((2, 4), "float32")).shape == (2, 3)


@pytest.mark.parametrize("name", LAYER_NAMES)
def test_dense_trains_with_fit(name):
    rng = np.random.default_rng(7)
    x = rng.normal(size=(32, 5)).astype("float32")
    y = rng.normal(size=(32, 2)).astype("float32")
    model = keras.Sequential([keras.Input((5,)), layers.Dense(8, activation=name),
                              layers.Dense(2)])
    model.compile(keras.optimizers.SGD(0.01), "mse")
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert all(np.abs(a - b).max() > 0 for a, b in zip(model.get_weights(), before))


def test_glu_halves_a_layers_output_in_the_graph():
    """Keras's Dense(4, activation='glu') returns 2 columns but declares 4; tinyann
    declares what it returns, so the next layer builds for 2."""
    model = keras.Sequential([keras.Input((3,)), layers.Dense(4, activation="glu"),
                              layers.Dense(1)])
    assert model.layers[1].kernel.shape == (2, 1)
    assert model.predict(np.ones((5, 3), "float32"), verbose=0).shape == (5, 1)
    assert layers.Activation("glu").compute_output_shape((None, 6)) == (None, 3)
    with pytest.raises(ValueError, match="divisible by 2"):
        layers.Dense(5, activation="glu").compute_output_shape((None, 3))


def _conv_layers():
    return {
        "conv2d": (lambda act: layers.Conv2D(4, 2, activation=act), (2, 4, 4, 2)),
        "conv2d_same": (lambda act: layers.Conv2D(4, 3, padding="same", activation=act),
                        (1, 3, 3, 2)),
        "conv1d": (lambda act: layers.Conv1D(4, 2, activation=act), (2, 5, 3)),
        "conv1d_first": (lambda act: layers.Conv1D(4, 2, activation=act,
                                                   data_format="channels_first"), (2, 3, 5)),
        "conv2d_transpose": (lambda act: layers.Conv2DTranspose(4, 2, strides=2,
                                                                activation=act), (1, 2, 3, 2)),
        "activation": (lambda act: layers.Activation(act), (2, 3, 4)),
    }


@pytest.mark.parametrize("kind", sorted(_conv_layers()))
@pytest.mark.parametrize("name", ["gelu", "glu", "log_softmax", "selu"])
def test_other_layers_backward_match_finite_differences(gradcheck, kind, name):
    make, shape = _conv_layers()[kind]
    layer = make(name)
    rng = np.random.default_rng(8)
    x = rng.normal(size=shape)
    y = layer(x, training=True)
    assert y.shape == layer.compute_output_shape(shape)
    g = rng.normal(size=y.shape)
    dx = layer.backward(g.copy())

    def loss():
        return np.sum(g * layer(x))

    gradcheck.assert_close(dx, gradcheck.numerical_grad(loss, x))
    for weight in layer.weights:
        gradcheck.assert_close(weight.grad, gradcheck.numerical_grad(loss, weight.value))


@pytest.mark.parametrize("cell", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("activation, recurrent_activation", [
    ("gelu", "hard_sigmoid"), ("selu", "hard_silu"), ("softsign", "sparse_sigmoid")])
def test_recurrent_layers_take_the_new_activations(cell, activation, recurrent_activation):
    kwargs = {"activation": activation}
    if cell != "SimpleRNN":
        kwargs["recurrent_activation"] = recurrent_activation
    rng = np.random.default_rng(9)
    model = keras.Sequential([keras.Input((4, 3)), getattr(layers, cell)(5, **kwargs),
                              layers.Dense(1)])
    model.compile("adam", "mse")
    history = model.fit(rng.normal(size=(16, 4, 3)), rng.normal(size=(16, 1)), epochs=2,
                        verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    config = model.layers[0].get_config()
    assert config["activation"] == activation
    rebuilt = type(model.layers[0]).from_config(config)
    assert rebuilt.activation is activations.get(activation)


def test_recurrent_layers_refuse_glu_and_say_which_they_take():
    with pytest.raises(ValueError, match=r"Recurrent layers take the activations \[.*'gelu'"):
        layers.LSTM(4, activation="glu")(np.ones((2, 3, 2), "float32"))


def test_a_function_with_keras_arguments_trains_in_a_layer(gradcheck):
    """``activation=lambda x: keras.activations.relu(x, max_value=...)``: the derivative
    comes from the function run again on a tape."""
    rng = np.random.default_rng(10)
    layer = layers.Dense(4, activation=lambda t: activations.relu(t, max_value=0.8,
                                                                  negative_slope=0.1))
    layer.build((None, 3))
    layer.set_weights([rng.normal(size=(3, 4)), rng.normal(0.0, 0.3, size=4)])
    x = rng.normal(size=(5, 3))
    y = layer(x, training=True)
    g = rng.normal(size=y.shape)
    dx = layer.backward(g.copy())

    def loss():
        return np.sum(g * layer(x))

    gradcheck.assert_close(dx, gradcheck.numerical_grad(loss, x))
    gradcheck.assert_close(layer.kernel.grad, gradcheck.numerical_grad(loss, layer.kernel.value))


def test_a_plain_numpy_function_still_explains_it_needs_a_derivative():
    layer = layers.Dense(2, activation=lambda z: np.maximum(np.asarray(z), 0.0))
    layer(np.ones((2, 3), "float32"), training=True)
    with pytest.raises(NotImplementedError, match="needs a derivative"):
        layer.backward(np.ones((2, 2), "float32"))


# ---------------------------------------------------------------------- saving
@pytest.mark.parametrize("name", ["gelu", "swish", "hard_swish", "mish", "sparsemax", "glu"])
def test_config_round_trip(name):
    layer = layers.Dense(4, activation=name)
    config = layer.get_config()
    assert config["activation"] == SERIALIZED[name]
    assert layers.Dense.from_config(config).activation is activations.get(name)
    activation_layer = layers.Activation(name)
    assert layers.Activation.from_config(activation_layer.get_config()).activation is (
        activations.get(name))


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_saved_and_loaded_model_predicts_the_same(tmp_path, suffix):
    rng = np.random.default_rng(11)
    model = keras.Sequential([
        keras.Input((5,)), layers.Dense(8, activation="gelu"), layers.ELU(alpha=0.5),
        layers.Dense(6, activation="hard_swish"), layers.PReLU(alpha_initializer="ones"),
        layers.Dense(4, activation="glu"), layers.Activation("log_softmax")])
    model.compile("adam", "mse")
    x = rng.normal(size=(10, 5)).astype("float32")
    model.fit(x, rng.normal(size=(10, 2)).astype("float32"), epochs=1, verbose=0)
    path = tmp_path / f"model{suffix}"
    model.save(path)
    if suffix == ".keras":
        config = json.loads(zipfile.ZipFile(path).read("config.json"))
        written = [entry["config"].get("activation") for entry in config["config"]["layers"]]
        assert written == [None, "gelu", None, "hard_silu", None, "glu", "log_softmax"]
    loaded = keras.models.load_model(path)
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


# ---------------------------------------------------------------------- ELU and PReLU
def _without_name(config):
    return {k: v for k, v in config.items() if k != "name"}


def test_elu_layer_matches_keras():
    facts = FACTS["layers"]
    layer = layers.ELU(alpha=0.5)
    x = np.array(FACTS["x"], "float32")
    np.testing.assert_allclose(layer(x), facts["elu"]["value"], rtol=1e-6, atol=1e-7)
    assert _without_name(layer.get_config()) == _without_name(facts["elu"]["config"])
    assert _without_name(layers.ELU().get_config()) == _without_name(
        facts["elu_default_config"])


def test_elu_layer_backward(gradcheck):
    rng = np.random.default_rng(12)
    layer = layers.ELU(alpha=0.7)
    x = gradcheck.away_from_zero(rng, (3, 4))
    layer(x, training=True)
    g = rng.normal(size=x.shape)
    gradcheck.assert_close(layer.backward(g.copy()), gradcheck.numerical_grad(
        lambda: np.sum(g * layer(x)), x))


def test_prelu_layer_matches_keras():
    facts = FACTS["layers"]["prelu"]
    layer = layers.PReLU(shared_axes=[1])
    x = np.array(FACTS["x"], "float32").reshape(2, 3, 2)
    layer.build(x.shape)
    assert list(layer.alpha.shape) == facts["alpha_shape"]
    layer.set_weights([np.array([[0.25, -0.5]], "float32")])
    np.testing.assert_allclose(layer(x, training=True), facts["value"], rtol=1e-6)
    dx = layer.backward(np.array(FACTS["g"], "float32").reshape(2, 3, 2))
    np.testing.assert_allclose(dx, facts["dx"], rtol=1e-6)
    np.testing.assert_allclose(layer.alpha.grad, facts["dalpha"], rtol=1e-5, atol=1e-7)
    assert _without_name(layer.get_config()) == _without_name(facts["config"])
    assert _without_name(layers.PReLU().get_config()) == _without_name(
        FACTS["layers"]["prelu_default_config"])


@pytest.mark.parametrize("shared_axes, shape", [(None, (3, 4)), ([1, 2], (2, 3, 2, 4)),
                                                (2, (2, 3, 4))])
def test_prelu_backward_matches_finite_differences(gradcheck, shared_axes, shape):
    rng = np.random.default_rng(13)
    layer = layers.PReLU(shared_axes=shared_axes)
    x = gradcheck.away_from_zero(rng, shape)
    layer.build(x.shape)
    layer.set_weights([rng.normal(size=layer.alpha.shape)])
    layer(x, training=True)
    g = rng.normal(size=x.shape)
    dx = layer.backward(g.copy())

    def loss():
        return np.sum(g * layer(x))

    gradcheck.assert_close(dx, gradcheck.numerical_grad(loss, x))
    gradcheck.assert_close(layer.alpha.grad, gradcheck.numerical_grad(loss, layer.alpha.value))


def test_prelu_trains_and_refuses_bad_axes():
    rng = np.random.default_rng(14)
    model = keras.Sequential([keras.Input((4, 4, 2)), layers.Conv2D(3, 2),
                              layers.PReLU(shared_axes=[1, 2]), layers.Flatten(),
                              layers.Dense(1)])
    model.compile("adam", "mse")
    assert model.layers[1].alpha.shape == (1, 1, 3)
    model.fit(rng.normal(size=(8, 4, 4, 2)), rng.normal(size=(8, 1)), epochs=2, verbose=0)
    assert np.abs(model.layers[1].alpha.value).max() > 0
    with pytest.raises(ValueError, match="shared_axes of PReLU"):
        layers.PReLU(shared_axes=[3])(np.ones((2, 3, 4), "float32"))
    layer = layers.PReLU()
    layer(np.ones((2, 3), "float32"))
    with pytest.raises(ValueError, match="incompatible with the layer"):
        layer(np.ones((2, 4), "float32"))


def test_gelu_without_scipy(monkeypatch):
    """The erfc of the standard library (reference) and the reference's gelu (fast
    set) when SciPy is not installed: the same numbers."""
    from tinyann.kernels import functions_of
    from tinyann.kernels.fast import activations as fast

    x = np.random.default_rng(15).normal(0.0, 2.0, size=(3, 5)).astype("float32")
    g = np.random.default_rng(16).normal(size=x.shape).astype("float32")
    expected = {name: (functions["gelu_forward"](x),
                       functions["gelu_backward"](x, None, g))
                for name, functions in (("reference", functions_of("reference")),
                                        ("numpy", functions_of("numpy")))}
    for module in ("scipy", "scipy.special"):
        monkeypatch.setitem(sys.modules, module, None)
    monkeypatch.setattr(fast, "_NDTR", False)
    for name, functions in (("reference", functions_of("reference")),
                            ("numpy", functions_of("numpy"))):
        value, grad = expected[name]
        np.testing.assert_allclose(functions["gelu_forward"](x), value, rtol=2e-6, atol=1e-7)
        np.testing.assert_allclose(functions["gelu_backward"](x, None, g), grad,
                                   rtol=2e-6, atol=1e-7)
    assert fast._ndtr() is None
