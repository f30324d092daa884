"""tinyann.ops.math: Keras's elementwise math, logic and bitwise ops. Values against
NumPy (and SciPy's special functions where installed), tape gradients against central
differences (float64, a random output gradient, broadcasting), second derivatives
against finite differences of first ones, and the gradients' special points (zeros of
divide_no_nan, non-finite values of nan_to_num...)."""

from __future__ import annotations

import math
import sys

import numpy as np
import pytest

from tests.autodiff.gradient_table import (
    check_central_differences,
    check_float32,
    check_hessian_vector_product,
)
from tinyann import ops
from tinyann.autodiff import GradientTape, Tensor


def unit(rng, shape):
    # inside (-1, 1), away from the ends: arcsin, arccos, arctanh, erfinv
    return rng.uniform(-0.8, 0.8, size=shape)


def positive(rng, shape):
    return rng.uniform(0.5, 2.0, size=shape)


def above_one(rng, shape):
    return rng.uniform(1.2, 3.0, size=shape)


def normal(rng, shape):
    # away from 0 and from each other: no kink or jump within reach
    return rng.uniform(0.2, 1.5, size=shape) * np.where(rng.random(shape) < 0.5, -1, 1)


def distinct(rng, shape):
    return rng.permutation(np.prod(shape, dtype=int)).reshape(shape) * 0.1 - 0.45


# (name, function, [(shape, sampler), ...]); every one is differentiable twice
CASES = [
    ("tan", ops.tan, [((3, 4), unit)]),
    ("sinh", ops.sinh, [((3, 4), normal)]),
    ("cosh", ops.cosh, [((3, 4), normal)]),
    ("arcsin", ops.arcsin, [((3, 4), unit)]),
    ("arccos", ops.arccos, [((3, 4), unit)]),
    ("arctan", ops.arctan, [((3, 4), normal)]),
    ("arcsinh", ops.arcsinh, [((3, 4), normal)]),
    ("arccosh", ops.arccosh, [((3, 4), above_one)]),
    ("arctanh", ops.arctanh, [((3, 4), unit)]),
    ("deg2rad", ops.deg2rad, [((5,), normal)]),
    ("rad2deg", ops.rad2deg, [((5,), normal)]),
    ("sinc", ops.sinc, [((3, 4), normal)]),
    ("erf", ops.erf, [((3, 4), normal)]),
    ("erfc", ops.erfc, [((3, 4), normal)]),
    ("erfinv", ops.erfinv, [((3, 4), unit)]),
    ("log2", ops.log2, [((3, 4), positive)]),
    ("log10", ops.log10, [((3, 4), positive)]),
    ("exp2", ops.exp2, [((3, 4), normal)]),
    ("rsqrt", ops.rsqrt, [((3, 4), positive)]),
    ("cbrt", ops.cbrt, [((3, 4), normal)]),
    ("fabs", ops.fabs, [((3, 4), normal)]),
    ("i0", ops.i0, [((3, 4), normal)]),
    ("trunc", lambda a: ops.trunc(a * 3), [((3, 4), normal)]),
    ("conj real", lambda a: ops.real(ops.conj(ops.conjugate(a))), [((3,), normal)]),
    ("nan_to_num", ops.nan_to_num, [((3, 4), normal)]),
    ("arctan2 broadcast", ops.arctan2, [((3, 4), normal), ((4,), normal)]),
    ("mod", ops.mod, [((3, 4), normal), ((3, 4), positive)]),
    ("mod broadcast negative divisor", ops.mod,
     [((3, 4), normal), ((4,), lambda r, s: -positive(r, s))]),
    ("fmod broadcast", ops.fmod, [((3, 4), normal), ((3, 1), positive)]),
    ("floor_divide", lambda a, b: ops.floor_divide(a * 5, b), [((3, 4), normal), ((4,), positive)]),
    ("logaddexp broadcast", ops.logaddexp, [((3, 4), normal), ((4,), normal)]),
    ("logaddexp2", ops.logaddexp2, [((3, 4), normal), ((3, 4), normal)]),
    ("hypot broadcast", ops.hypot, [((3, 4), normal), ((3, 1), normal)]),
    ("fmax", ops.fmax, [((3, 4), distinct), ((4,), lambda r, s: distinct(r, s) + 0.025)]),
    ("fmin", ops.fmin, [((3, 4), distinct), ((3, 4), lambda r, s: distinct(r, s) + 0.05)]),
    ("divide_no_nan", ops.divide_no_nan, [((3, 4), normal), ((4,), normal)]),
    ("ldexp", lambda a: ops.ldexp(a, np.array([1, -2, 3, 0])), [((3, 4), normal)]),
    ("logdet of a product", lambda a: ops.logdet(ops.matmul(a, ops.transpose(a)) + 4.0),
     [((3, 3), normal)]),
    ("slogdet", lambda a: ops.slogdet(a + 2.0 * np.eye(3, dtype=a.dtype))[1],
     [((2, 3, 3), normal)]),
    ("composite", lambda a, b: ops.sum(ops.tan(a) * ops.erf(b) + ops.logaddexp(a, b), axis=0),
     [((3, 4), unit), ((3, 4), normal)]),
]
IDS = [c[0] for c in CASES]


@pytest.mark.parametrize("name, fn, specs", CASES, ids=IDS)
def test_tape_gradient_matches_central_differences(gradcheck, name, fn, specs):
    check_central_differences(gradcheck, name, fn, specs)


@pytest.mark.parametrize("name, fn, specs", CASES, ids=IDS)
def test_hessian_vector_product_matches_finite_differences(name, fn, specs):
    check_hessian_vector_product(name, fn, specs)


@pytest.mark.parametrize("name, fn, specs", CASES, ids=IDS)
def test_float32_inputs_give_float32_results_and_gradients(name, fn, specs):
    check_float32(fn, specs)


# ---------------------------------------------------------------------- values
UNARY_AS_NUMPY = {
    "tan": np.tan, "sinh": np.sinh, "cosh": np.cosh, "arcsin": np.arcsin,
    "arccos": np.arccos, "arctan": np.arctan, "arcsinh": np.arcsinh, "arctanh": np.arctanh,
    "log2": np.log2, "log10": np.log10, "exp2": np.exp2, "cbrt": np.cbrt, "trunc": np.trunc,
    "fabs": np.fabs, "deg2rad": np.deg2rad, "rad2deg": np.rad2deg, "sinc": np.sinc,
    "i0": np.i0, "rsqrt": lambda a: 1 / np.sqrt(a), "signbit": np.signbit,
    "isnan": np.isnan, "isinf": np.isinf, "isfinite": np.isfinite,
    "isneginf": np.isneginf, "isposinf": np.isposinf, "isreal": np.isreal,
}


@pytest.mark.parametrize("name", sorted(UNARY_AS_NUMPY))
def test_unary_values_are_numpy_s(name):
    a = np.array([0.25, -0.5, 0.75, 0.0, 0.9], dtype=np.float32)
    if name in ("log2", "log10", "rsqrt"):
        a = np.abs(a) + 0.5
    got = getattr(ops, name)(a)
    want = UNARY_AS_NUMPY[name](a.astype(np.float64))
    assert got.dtype == (bool if want.dtype == bool else np.float32)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-6, atol=1e-7)


def test_float_math_on_integers_gives_floatx_and_keeps_float32_beside_integers():
    ints = np.array([1, 2, 3], dtype=np.int32)
    for fn in (ops.tan, ops.erf, ops.log2, ops.rsqrt, ops.cbrt, ops.i0, ops.exp2):
        assert fn(ints).dtype == np.float32
    assert ops.trunc(ints).dtype == np.int32
    assert ops.mod(ints, 2).dtype == np.int32
    assert ops.mod(np.array([True, False]), np.array([True, True])).dtype == np.int32
    floats = np.array([1.5, 2.5, 3.5], dtype=np.float32)
    for fn in (ops.mod, ops.fmod, ops.floor_divide, ops.arctan2, ops.hypot, ops.fmax,
               ops.divide_no_nan, ops.logaddexp):
        assert fn(floats, ints).dtype == np.float32, fn.__name__
        assert fn(floats, 2.0).dtype == np.float32, fn.__name__
    assert ops.tan([0.5, 1.0]).dtype == np.float32
    assert ops.hypot(3.0, 4.0).dtype == np.float32 and float(ops.hypot(3.0, 4.0)) == 5.0
    assert ops.heaviside(np.array([-1, 0, 2]), np.array([5, 5, 5])).dtype == np.float32


def test_special_functions_match_the_standard_library():
    x = np.linspace(-2.5, 2.5, 11)
    np.testing.assert_allclose(ops.erf(x).numpy(), [math.erf(v) for v in x], rtol=1e-12)
    np.testing.assert_allclose(ops.erfc(x).numpy(), [math.erfc(v) for v in x], rtol=1e-12)
    y = np.linspace(-0.999, 0.999, 13)
    np.testing.assert_allclose([math.erf(v) for v in ops.erfinv(y).numpy()], y, atol=1e-14)
    np.testing.assert_array_equal(ops.erfinv(np.array([-1.0, 1.0, 0.0])).numpy(),
                                  [-np.inf, np.inf, 0.0])


def test_special_functions_without_scipy(monkeypatch):
    # the fallbacks: the standard library's erf, Newton steps for erfinv
    monkeypatch.setitem(sys.modules, "scipy", None)
    x = np.linspace(-2.5, 2.5, 11)
    np.testing.assert_allclose(ops.erf(x).numpy(), [math.erf(v) for v in x], rtol=1e-12)
    np.testing.assert_allclose(ops.erfc(x).numpy(), [math.erfc(v) for v in x], rtol=1e-12)
    y = np.concatenate([np.linspace(-0.999999, 0.999999, 41), [0.0, -1.0, 1.0, 1.5]])
    got = ops.erfinv(y).numpy()
    np.testing.assert_allclose([math.erf(v) for v in got[:42]], y[:42], atol=1e-15)
    assert got[42] == -np.inf and got[43] == np.inf and np.isnan(got[44])
    assert ops.erfinv(np.float32(0.5)).dtype == np.float32
    assert ops.erfinv(np.array([0.5], np.float32)).dtype == np.float32


def test_special_functions_match_scipy():
    special = pytest.importorskip("scipy.special")
    x = np.linspace(-3, 3, 25)
    np.testing.assert_allclose(ops.erf(x).numpy(), special.erf(x), rtol=1e-14)
    np.testing.assert_allclose(ops.erfinv(x / 3.5).numpy(), special.erfinv(x / 3.5),
                               rtol=1e-13)
    big = np.array([0.0, 0.1, -2.0, 10.0, 50.0, -300.0])
    np.testing.assert_allclose(ops.i0(big).numpy(), special.i0(big), rtol=1e-13)
    from tinyann.ops.math import _i1_values
    np.testing.assert_allclose(_i1_values(big), special.i1(big), rtol=1e-12)


def test_binary_values_are_numpy_s():
    a = np.array([5.5, -5.5, 3.0, -0.0, 2.0])
    b = np.array([2.0, 2.0, -2.0, 1.0, 3.0])
    for name in ("arctan2", "mod", "fmod", "floor_divide", "logaddexp", "logaddexp2",
                 "hypot", "fmax", "fmin", "nextafter", "heaviside"):
        np.testing.assert_array_equal(getattr(ops, name)(a, b).numpy(),
                                      getattr(np, name)(a, b), err_msg=name)
    np.testing.assert_array_equal(ops.ldexp(a, np.array([1, 2, 3, 4, 5])).numpy(),
                                  np.ldexp(a, [1, 2, 3, 4, 5]))
    with pytest.raises(TypeError, match="ldexp exponent must be an integer"):
        ops.ldexp(a, b)
    nan = np.array([np.nan, 1.0, np.nan])
    np.testing.assert_array_equal(ops.fmax(nan, np.array([2.0, np.nan, 3.0])).numpy(),
                                  [2.0, 1.0, 3.0])
    np.testing.assert_array_equal(ops.divide_no_nan(np.array([1.0, 0.0, 6.0]),
                                                    np.array([0.0, 0.0, 3.0])).numpy(),
                                  [0.0, 0.0, 2.0])
    values = np.array([np.nan, np.inf, -np.inf, 1.5])
    np.testing.assert_array_equal(ops.nan_to_num(values, nan=1.0, posinf=9.0,
                                                 neginf=-9.0).numpy(), [1.0, 9.0, -9.0, 1.5])
    assert ops.nan_to_num(values).numpy()[1] == np.finfo(np.float64).max


def test_gcd_lcm_and_bitwise_ops_on_integers():
    x = np.array([12, 18, 7], dtype=np.int32)
    y = np.array([8, 12, 3], dtype=np.int32)
    assert ops.gcd(x, y).numpy().tolist() == [4, 6, 1]
    assert ops.lcm(x, y).numpy().tolist() == [24, 36, 21]
    assert ops.bitwise_and(x, y).numpy().tolist() == (x & y).tolist()
    assert ops.bitwise_or(x, y).numpy().tolist() == (x | y).tolist()
    assert ops.bitwise_xor(x, y).numpy().tolist() == (x ^ y).tolist()
    assert ops.bitwise_not(x).numpy().tolist() == (~x).tolist()
    assert ops.bitwise_invert(x).numpy().tolist() == (~x).tolist()
    for fn in (ops.bitwise_left_shift, ops.left_shift):
        assert fn(x, 2).numpy().tolist() == (x << 2).tolist()
        assert fn(x, 2).dtype == np.int32
    for fn in (ops.bitwise_right_shift, ops.right_shift):
        assert fn(x, y).numpy().tolist() == (x >> y).tolist()
    assert ops.bitwise_and(np.array([True, False]), True).numpy().tolist() == [True, False]


def test_logic_and_tests():
    x = np.array([[1.0, np.nan, np.inf], [-np.inf, 0.0, 2.0]])
    assert ops.isnan(x).numpy().tolist() == np.isnan(x).tolist()
    assert ops.isinf(x).numpy().tolist() == np.isinf(x).tolist()
    assert ops.isfinite(x).numpy().tolist() == np.isfinite(x).tolist()
    assert ops.isneginf(x).numpy().tolist() == [[False, False, False], [True, False, False]]
    assert ops.isposinf(x).numpy().tolist() == [[False, False, True], [False, False, False]]
    assert ops.isreal(np.array([1 + 0j, 1 + 1j])).numpy().tolist() == [True, False]
    assert ops.all(x).dtype == bool and bool(ops.all(x)) is False
    assert ops.any(x, axis=1).numpy().tolist() == [True, True]
    assert ops.all(x != 0, axis=[0, 1], keepdims=True).shape == (1, 1)
    assert ops.any(np.zeros((2, 3)), axis=0).numpy().tolist() == [False] * 3
    assert ops.logical_xor(np.array([1, 0, 1]), np.array([1, 1, 0])).numpy().tolist() == [
        False, True, True]
    a = np.array([1.0, 1.0 + 1e-9, np.nan])
    assert ops.isclose(a, 1.0).numpy().tolist() == [True, True, False]
    assert ops.isclose(a, np.array([1.0, 1.0, np.nan]), equal_nan=True).numpy().all()
    assert ops.isclose(1.0, 1.1, rtol=0.2).numpy().item() is True
    close = ops.allclose(a[:2], 1.0)
    assert isinstance(close, Tensor) and close.dtype == bool and close.shape == ()
    assert bool(close) and not ops.allclose(a, 1.0) and ops.allclose(a, a, equal_nan=True)
    assert ops.signbit(np.array([-0.0, 0.0, -2.0])).numpy().tolist() == [True, False, True]


def test_complex_parts_of_real_tensors():
    x = Tensor(np.array([1.5, -2.0, 0.0]))
    np.testing.assert_array_equal(ops.real(x).numpy(), x.numpy())
    np.testing.assert_array_equal(ops.imag(x).numpy(), 0.0)
    np.testing.assert_array_equal(ops.angle(x).numpy(), [0.0, np.pi, 0.0])
    z = np.array([1 + 2j, -1 - 1j])
    np.testing.assert_array_equal(ops.conj(z).numpy(), np.conj(z))
    np.testing.assert_array_equal(ops.imag(z).numpy(), [2.0, -1.0])
    np.testing.assert_allclose(ops.angle(z).numpy(), np.angle(z))


# ---------------------------------------------------------------------- gradients at special points
def gradients(fn, *arrays):
    inputs = [Tensor(np.asarray(a, dtype=np.float64)) for a in arrays]
    with GradientTape() as tape:
        tape.watch(inputs)
        out = fn(*inputs)
    return tape.gradient(out, inputs)


def test_divide_no_nan_gradient_is_zero_where_the_divisor_is_zero():
    gx, gy = gradients(ops.divide_no_nan, [1.0, 2.0, 0.0], [0.0, 2.0, 0.0])
    np.testing.assert_array_equal(gx.numpy(), [0.0, 0.5, 0.0])
    np.testing.assert_array_equal(gy.numpy(), [0.0, -0.5, 0.0])
    # and a second derivative there has no NaN either
    x = Tensor(np.array([1.0, 2.0]))
    y = Tensor(np.array([0.0, 2.0]))
    with GradientTape() as outer:
        outer.watch([x, y])
        with GradientTape() as inner:
            inner.watch([x, y])
            q = ops.divide_no_nan(x, y)
        gy = inner.gradient(q, y)
    np.testing.assert_array_equal(outer.gradient(gy, y).numpy(), [0.0, 0.5])  # 2x/y³


def test_nan_to_num_passes_the_gradient_where_finite_only():
    (g,) = gradients(ops.nan_to_num, [1.0, np.nan, np.inf, -np.inf, -2.0])
    np.testing.assert_array_equal(g.numpy(), [1.0, 0.0, 0.0, 0.0, 1.0])


def test_mod_and_fmod_gradients_of_the_divisor():
    # d(x mod y)/dy = -floor(x/y), d fmod(x, y)/dy = -trunc(x/y) (TensorFlow's values)
    gx, gy = gradients(ops.mod, [5.5, -5.5], [2.0, 2.0])
    np.testing.assert_array_equal(gx.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(gy.numpy(), [-2.0, 3.0])
    gx, gy = gradients(ops.fmod, [5.5, -5.5], [2.0, 2.0])
    np.testing.assert_array_equal(gy.numpy(), [-2.0, 2.0])


def test_kinks_and_steps():
    (g,) = gradients(ops.sinc, [0.0, 0.5])
    np.testing.assert_allclose(g.numpy(), [0.0, -4 / np.pi])   # (cos(πx) - sinc x) / x
    gx, gy = gradients(ops.hypot, [0.0, 3.0], [0.0, 4.0])
    np.testing.assert_array_equal(gx.numpy(), [0.0, 0.6])
    np.testing.assert_array_equal(gy.numpy(), [0.0, 0.8])
    gx, gy = gradients(ops.heaviside, [0.0, 1.0, -1.0], [0.5, 0.5, 0.5])
    np.testing.assert_array_equal(gx.numpy(), 0.0)
    np.testing.assert_array_equal(gy.numpy(), [1.0, 0.0, 0.0])
    gx, gy = gradients(ops.fmax, [1.0, 2.0, np.nan], [1.0, 1.0, 3.0])
    np.testing.assert_array_equal(gx.numpy(), [1.0, 1.0, 0.0])
    np.testing.assert_array_equal(gy.numpy(), [0.0, 0.0, 1.0])
    gx, gy = gradients(ops.nextafter, [1.0], [2.0])
    assert gx.numpy().tolist() == [1.0] and gy is None
    gx, gy = gradients(ops.floor_divide, [5.5], [2.0])
    assert gx.numpy().tolist() == [0.0] and gy.numpy().tolist() == [0.0]
    (g,) = gradients(ops.fabs, [-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(g.numpy(), [-1.0, 0.0, 1.0])
    (g,) = gradients(ops.erfinv, [0.5])
    np.testing.assert_allclose(g.numpy(), [1.1125848172])  # TensorFlow's value


def test_bool_and_integer_results_have_no_gradient():
    x = Tensor(np.array([1.0, -2.0, np.nan]))
    with GradientTape(persistent=True) as tape:
        tape.watch(x)
        results = [ops.isnan(x), ops.isfinite(x), ops.signbit(x), ops.all(x), ops.any(x),
                   ops.isclose(x, 1.0), ops.allclose(x, 1.0), ops.imag(x), ops.angle(x),
                   ops.logical_xor(x, 0.0)]
    for result in results:
        assert tape.gradient(result, x) is None


def test_complex_gradients_say_they_are_not_supported():
    z = Tensor(np.array([1 + 2j]))
    with GradientTape() as tape:
        tape.watch(z)
        y = ops.real(z)
    with pytest.raises(NotImplementedError, match="complex"):
        tape.gradient(y, z)


def test_exported_in_keras_s_flat_namespace():
    from tinyann.ops import math as math_ops

    for name in math_ops.__all__:
        assert getattr(ops, name) is getattr(math_ops, name), name
        assert name in ops.__all__
    # Python's builtins are untouched where the module shadows them
    assert all([1, 2]) is True and any([]) is False
