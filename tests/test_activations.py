"""Activations: values against their formulas, derivatives against finite differences,
and get / serialize round trips."""

import numpy as np
import pytest

from tinyann import activations

NAMES = ["linear", "relu", "sigmoid", "tanh", "softmax", "exponential"]


def _reference(name, x):
    """The textbook formulas, in float64."""
    if name == "linear":
        return x
    if name == "relu":
        return np.maximum(x, 0.0)
    if name == "sigmoid":
        return 1.0 / (1.0 + np.exp(-x))
    if name == "tanh":
        return np.tanh(x)
    if name == "softmax":
        e = np.exp(x - x.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)
    return np.exp(x)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", [(3, 4), (2, 3, 4)])
def test_forward_matches_formula(name, shape):
    x = np.random.default_rng(0).normal(0.0, 1.5, size=shape)
    np.testing.assert_allclose(activations.get(name)(x), _reference(name, x), rtol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_forward_keeps_float32(name):
    x = np.random.default_rng(1).normal(size=(2, 5)).astype("float32")
    y = activations.get(name)(x)
    assert y.dtype == np.float32
    np.testing.assert_allclose(y, _reference(name, x.astype("float64")), rtol=1e-5, atol=1e-7)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shape", [(3, 4), (2, 2, 3)])
@pytest.mark.parametrize("in_place", [False, True], ids=["new_out", "out_is_grad"])
def test_backward_matches_finite_differences(gradcheck, name, shape, in_place):
    """dL/dx for L = sum(G * act(x)) with a random G; ``out`` may alias ``grad``
    (Dense back-propagates in place)."""
    rng = np.random.default_rng(2)
    act = activations.get(name)
    x = gradcheck.away_from_zero(rng, shape)
    g = rng.normal(size=shape)
    numeric = gradcheck.numerical_grad(lambda: np.sum(g * act(x)), x)
    y = act(x)
    grad = g.copy()
    out = grad if in_place else np.empty_like(grad)
    analytic = act.backward(y, grad, out)
    assert analytic is out
    gradcheck.assert_close(analytic, numeric)
    if not in_place:
        np.testing.assert_array_equal(grad, g)  # the incoming gradient is left alone


def test_forward_in_place_on_input():
    """Layers call ``forward(z, z)``: the result must be right when out is x."""
    x = np.random.default_rng(3).normal(size=(4, 3))
    for name in NAMES:
        z = x.copy()
        activations.get(name).forward(z, z)
        np.testing.assert_allclose(z, _reference(name, x), rtol=1e-12, err_msg=name)


def test_softmax_rows_sum_to_one_for_large_inputs():
    x = np.array([[1000.0, 0.0, -1000.0], [-5e3, -5e3, -5e3]], dtype="float32")
    y = activations.softmax(x)
    assert np.all(np.isfinite(y))
    np.testing.assert_allclose(y.sum(axis=-1), 1.0, rtol=1e-6)


def test_sigmoid_saturates_without_overflow():
    with np.errstate(over="raise"):
        y = activations.sigmoid(np.array([-1e4, 0.0, 1e4], dtype="float32"))
    np.testing.assert_allclose(y, [0.0, 0.5, 1.0], atol=1e-30)


@pytest.mark.parametrize("name", NAMES)
def test_get_serialize_round_trip(name):
    act = activations.get(name)
    assert act.name == name
    assert activations.serialize(act) == name
    assert activations.get(activations.serialize(act)) is act
    assert activations.get({"class_name": "function", "config": name}) is act
    assert activations.get(name.upper()) is act


def test_get_none_and_instance():
    assert activations.get(None) is activations.linear
    assert activations.get(activations.tanh) is activations.tanh


def test_unknown_string_lists_valid_names():
    with pytest.raises(ValueError, match=r"Could not interpret activation.*'relu'.*'softmax'"):
        activations.get("rellu")


def test_non_string_non_callable_raises():
    with pytest.raises(ValueError, match="Received type int"):
        activations.get(3)


def test_plain_function_forward_works_backward_explains():
    def square(x):
        return x * x

    act = activations.get(square)
    np.testing.assert_allclose(act(np.array([2.0, -3.0])), [4.0, 9.0])
    y = np.ones(2)
    with pytest.raises(NotImplementedError, match="needs a derivative"):
        act.backward(y, y, y)
