"""Keras's elementwise math, logic and bitwise ops beyond ``tinyann.ops.numpy``
(``keras.ops.tan``, ``erf``, ``mod``, ``logaddexp``, ``isnan``, ``all``, ``bitwise_and``,
...), all exported flat in ``keras.ops``.

As in ``tinyann.ops.numpy``, each differentiable op records a closure ``vjp(g)`` written
with ops on the operands and on the op's output Tensor (so a gradient of the gradient is
recorded too); its math is in the comment beside it. Steps (``trunc``, ``floor_divide``,
``heaviside``'s ``x1``) have a zero gradient, as ``floor`` does. Ops whose result is a
bool or an integer (``isnan``, ``all``, ``signbit``, ``gcd``, ``bitwise_and``...) and
the constant parts of real inputs (``imag``, ``angle``) record nothing: the tape gives
None for them, as TensorFlow does.

Dtypes follow Keras: float-valued math on integer or bool inputs gives ``floatx()``
results; float inputs keep their dtype.
"""

from __future__ import annotations

import builtins
import math as _math

import numpy as np

from tinyann import backend
from tinyann.autodiff import Tensor, record
from tinyann.ops import numpy as _knp
from tinyann.ops.core import value_of as _v
from tinyann.ops.numpy import _rec, _tracked, _unb, _zero_gradient

__all__ = [
    # trigonometric and hyperbolic
    "tan", "sinh", "cosh", "arcsin", "arccos", "arctan", "arctan2", "arcsinh", "arccosh",
    "arctanh", "deg2rad", "rad2deg", "sinc",
    # exponents, logarithms, roots, special functions
    "erf", "erfc", "erfinv", "log2", "log10", "exp2", "rsqrt", "cbrt", "logaddexp",
    "logaddexp2", "hypot", "i0", "ldexp",
    # rounding, remainders, signs
    "trunc", "fabs", "mod", "fmod", "floor_divide", "heaviside", "fmax", "fmin",
    "nextafter", "signbit", "gcd", "lcm",
    # guarded arithmetic, complex parts of real tensors
    "divide_no_nan", "nan_to_num", "conj", "conjugate", "real", "imag", "angle",
    # logic and tests
    "all", "any", "logical_xor", "isnan", "isinf", "isfinite", "isneginf", "isposinf",
    "isreal", "isclose", "allclose",
    # bitwise
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_invert",
    "bitwise_left_shift", "bitwise_right_shift", "left_shift", "right_shift",
]

_SCALARS = (bool, int, float)


# ---------------------------------------------------------------------- dtypes
def _value(x):
    """``x``'s value; a Python list or tuple becomes an array as Keras's
    ``convert_to_tensor`` makes it (floats in ``floatx()``, integers in int32)."""
    a = _v(x)
    if isinstance(x, (list, tuple)):
        if a.dtype == np.float64:
            a = a.astype(backend.floatx())
        elif a.dtype == np.int64:
            a = a.astype(np.int32)
    return a


def _promoted(x1, x2):
    """Both operands' values; an integer or bool array beside a float array takes the
    float dtype (Keras promotes them to the float, NumPy would widen int32 + float32 to
    float64)."""
    a, b = _value(x1), _value(x2)
    if isinstance(a, np.ndarray) and isinstance(b, np.ndarray):
        if a.dtype.kind in "biu" and b.dtype.kind == "f":
            a = a.astype(b.dtype)
        elif b.dtype.kind in "biu" and a.dtype.kind == "f":
            b = b.astype(a.dtype)
    return a, b


def _float(x):
    """``x``'s value for float-valued math: integer and bool arrays become ``floatx()``
    (Keras's rule), a Python number alone becomes a ``floatx()`` 0-d array, float
    arrays are kept as they are."""
    a = _value(x)
    if isinstance(a, _SCALARS):
        return np.asarray(a, dtype=backend.floatx())
    if isinstance(a, np.ndarray) and a.dtype.kind in "biu":
        return a.astype(backend.floatx())
    return a


def _float_pair(x1, x2):
    """Both operands for float-valued math: a Python number beside an array stays a
    number (weakly typed, so it does not widen a float32 array)."""
    a, b = _promoted(x1, x2)
    if isinstance(a, _SCALARS) and isinstance(b, _SCALARS):
        return _float(a), _float(b)
    return (a if isinstance(a, _SCALARS) else _float(a),
            b if isinstance(b, _SCALARS) else _float(b))


def _same_float(value, *operands):
    """A float64 result of Python numbers only becomes ``floatx()`` (as Keras's
    ``convert_to_tensor(2.0)``)."""
    value = np.asarray(value)
    if value.dtype == np.float64 and builtins.all(isinstance(_v(x), _SCALARS)
                                                  for x in operands):
        return value.astype(backend.floatx())
    return value


# ---------------------------------------------------------------------- unary math
def _unary(fn, local, name=None):
    """An elementwise float op whose gradient is ``local(g, x, y)`` (y = fn(x)), written
    with ops on the operand ``x`` and the output Tensor ``y``."""
    def op(x):
        y = _rec(fn(_float(x)), (x,), lambda g: (local(g, x, y),))
        return y
    op.__name__ = name or fn.__name__
    op.__qualname__ = op.__name__
    op.__doc__ = f"Elementwise ``{op.__name__}`` (float results for integer inputs)."
    return op


_LN2 = _math.log(2.0)
_LN10 = _math.log(10.0)
_TWO_OVER_SQRT_PI = 2.0 / _math.sqrt(_math.pi)


# trigonometric
tan = _unary(np.tan, lambda g, x, y: _knp.multiply(      # tan' = 1 + tan²
    g, _knp.add(_knp.square(y), 1.0)))
arcsin = _unary(np.arcsin, lambda g, x, y: _knp.divide(  # arcsin' = 1 / √(1 - x²)
    g, _knp.sqrt(_knp.subtract(1.0, _knp.square(x)))))
arccos = _unary(np.arccos, lambda g, x, y: _knp.negative(_knp.divide(  # -1 / √(1 - x²)
    g, _knp.sqrt(_knp.subtract(1.0, _knp.square(x))))))
arctan = _unary(np.arctan, lambda g, x, y: _knp.divide(  # arctan' = 1 / (1 + x²)
    g, _knp.add(_knp.square(x), 1.0)))
deg2rad = _unary(np.deg2rad, lambda g, x, y: _knp.multiply(g, _math.pi / 180.0))
rad2deg = _unary(np.rad2deg, lambda g, x, y: _knp.multiply(g, 180.0 / _math.pi))


def _sinc_gradient(g, x, y):
    # sinc x = sin(πx) / (πx): sinc'(x) = (cos(πx) - sinc x) / x, and 0 at x = 0 (where
    # sinc is even); the division uses 1 there so no NaN enters the backward pass
    nonzero = np.asarray(_v(x)) != 0
    safe = _knp.where(nonzero, x, 1.0)
    slope = _knp.divide(_knp.subtract(_knp.cos(_knp.multiply(x, _math.pi)), y), safe)
    return _knp.multiply(g, _knp.where(nonzero, slope, 0.0))


sinc = _unary(np.sinc, _sinc_gradient)

# hyperbolic (sinh' = cosh, cosh' = sinh)
sinh = _unary(np.sinh, lambda g, x, y: _knp.multiply(g, cosh(x)))
cosh = _unary(np.cosh, lambda g, x, y: _knp.multiply(g, sinh(x)))
arcsinh = _unary(np.arcsinh, lambda g, x, y: _knp.divide(  # 1 / √(x² + 1)
    g, _knp.sqrt(_knp.add(_knp.square(x), 1.0))))
arccosh = _unary(np.arccosh, lambda g, x, y: _knp.divide(  # 1 / √(x² - 1)
    g, _knp.sqrt(_knp.subtract(_knp.square(x), 1.0))))
arctanh = _unary(np.arctanh, lambda g, x, y: _knp.divide(  # 1 / (1 - x²)
    g, _knp.subtract(1.0, _knp.square(x))))

# logarithms, exponents, roots
log2 = _unary(np.log2, lambda g, x, y: _knp.divide(        # (log₂ x)' = 1 / (x ln 2)
    g, _knp.multiply(x, _LN2)))
log10 = _unary(np.log10, lambda g, x, y: _knp.divide(      # (log₁₀ x)' = 1 / (x ln 10)
    g, _knp.multiply(x, _LN10)))
exp2 = _unary(np.exp2, lambda g, x, y: _knp.multiply(      # (2^x)' = 2^x ln 2
    g, _knp.multiply(y, _LN2)))
rsqrt = _unary(lambda a: 1.0 / np.sqrt(a),                 # (x^-½)' = -½ x^-3/2 = -½ y³
               lambda g, x, y: _knp.multiply(
                   g, _knp.multiply(_knp.multiply(y, _knp.square(y)), -0.5)), "rsqrt")
cbrt = _unary(np.cbrt, lambda g, x, y: _knp.divide(        # (x^⅓)' = 1 / (3 y²)
    g, _knp.multiply(_knp.square(y), 3.0)))


# ---------------------------------------------------------------------- special functions
def _special(name):
    """``name`` (erf, erfc) of an array: SciPy's when it is installed, else the standard
    library's (elementwise, slower)."""
    def values(a):
        a = np.asarray(a)
        try:
            from scipy import special
        except ImportError:
            return np.vectorize(getattr(_math, name), otypes=[a.dtype])(a).astype(a.dtype)
        return getattr(special, name)(a).astype(a.dtype)
    values.__name__ = name
    return values


_erf_values, _erfc_values = _special("erf"), _special("erfc")


def _erfinv_values(a):
    """erfinv of an array: SciPy's when installed, else Giles's single-precision
    approximation refined by Newton steps on erf (double-precision accuracy)."""
    a = np.asarray(a)
    try:
        from scipy import special
    except ImportError:
        pass
    else:
        return special.erfinv(a).astype(a.dtype)
    x = a.astype(np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        w = -np.log((1.0 - x) * (1.0 + x))
        small = w < 5.0
        ws = w - 2.5
        wl = np.sqrt(np.where(small, 5.0, w)) - 3.0
        p_small = 2.81022636e-08
        for c in (3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                  -0.00125372503, -0.00417768164, 0.246640727, 1.50140941):
            p_small = c + p_small * ws
        p_large = -0.000200214257
        for c in (0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773,
                  -0.0076224613, 0.00943887047, 1.00167406, 2.83297682):
            p_large = c + p_large * wl
        y = np.where(small, p_small, p_large) * x
        erf = np.vectorize(_math.erf, otypes=[np.float64])
        for _ in range(3):
            # Newton on erf(y) = x: erf'(y) = 2/√π e^{-y²}
            step = (erf(y) - x) / (_TWO_OVER_SQRT_PI * np.exp(-y * y))
            y = np.where(np.isfinite(step), y - step, y)
        y = np.where(x == 1, np.inf, np.where(x == -1, -np.inf, y))
        y = np.where(np.abs(x) > 1, np.nan, y)
    return y.astype(a.dtype)


# erf' = 2/√π e^{-x²}; erfc = 1 - erf
erf = _unary(_erf_values, lambda g, x, y: _knp.multiply(
    g, _knp.multiply(_knp.exp(_knp.negative(_knp.square(x))), _TWO_OVER_SQRT_PI)), "erf")
erfc = _unary(_erfc_values, lambda g, x, y: _knp.multiply(
    g, _knp.multiply(_knp.exp(_knp.negative(_knp.square(x))), -_TWO_OVER_SQRT_PI)), "erfc")
# erfinv' = 1 / erf'(erfinv x) = √π/2 e^{y²}
erfinv = _unary(_erfinv_values, lambda g, x, y: _knp.multiply(
    g, _knp.multiply(_knp.exp(_knp.square(y)), 1.0 / _TWO_OVER_SQRT_PI)), "erfinv")


def _i1_values(a):
    """The modified Bessel function I₁ by its power series Σ (x/2)^{2k+1} / (k! (k+1)!)
    (all terms of one sign: no cancellation), summed until the terms are negligible."""
    a = np.asarray(a)
    half = a.astype(np.float64) / 2.0
    quarter = half * half
    term = half.copy()
    total = half.copy()
    with np.errstate(over="ignore", invalid="ignore"):
        for k in range(1, 5000):
            term = term * quarter / (k * (k + 1))
            total = total + term
            if not np.any(np.abs(term) > 1e-17 * np.abs(total)):
                break
    return total.astype(a.dtype)


def _i1(x):
    # I₁' = I₀ - I₁ / x, and ½ at x = 0
    def vjp(g):
        nonzero = np.asarray(_v(x)) != 0
        safe = _knp.where(nonzero, x, 1.0)
        slope = _knp.where(nonzero, _knp.subtract(i0(x), _knp.divide(y, safe)), 0.5)
        return (_knp.multiply(g, slope),)
    y = _rec(_i1_values(_float(x)), (x,), vjp)
    return y


# I₀' = I₁
i0 = _unary(lambda a: np.i0(a).astype(np.asarray(a).dtype),
            lambda g, x, y: _knp.multiply(g, _i1(x)), "i0")

# steps: zero gradient almost everywhere (as floor)
_trunc_float = _unary(np.trunc, _zero_gradient, "trunc")


def trunc(x):
    """Rounds toward zero; integer and bool tensors are returned as they are (Keras)."""
    a = _v(x)
    if isinstance(a, (bool, int)) or (isinstance(a, np.ndarray) and a.dtype.kind in "biu"):
        return x if isinstance(x, Tensor) else Tensor(np.asarray(a))
    return _trunc_float(x)


# |x|' = sign x (0 at 0, as abs)
fabs = _unary(np.fabs, lambda g, x, y: _knp.multiply(g, np.sign(_float(x))), "fabs")


# ---------------------------------------------------------------------- binary math
def _binary(x1, x2, value, vjp1, vjp2):
    """Records ``value`` of operands ``x1``, ``x2``; ``vjp1(g)`` / ``vjp2(g)`` give the
    unreduced gradients of each (summed back over broadcasting here)."""
    return _rec(value, (x1, x2), lambda g: (
        _unb(vjp1(g), x1) if _tracked(x1) else None,
        _unb(vjp2(g), x2) if _tracked(x2) else None))


def arctan2(x1, x2):
    # θ = atan2(y, x): dθ/dy = x / (x² + y²), dθ/dx = -y / (x² + y²)
    a, b = _float_pair(x1, x2)
    value = _same_float(np.arctan2(a, b), x1, x2)

    def r2():
        return _knp.add(_knp.square(x1), _knp.square(x2))
    return _binary(x1, x2, value,
                   lambda g: _knp.divide(_knp.multiply(g, x2), r2()),
                   lambda g: _knp.negative(_knp.divide(_knp.multiply(g, x1), r2())))


def _int_or_same(x1, x2):
    """The operands of mod-like ops in their common dtype (bools as int32, Keras)."""
    a, b = _promoted(x1, x2)
    kinds = [np.asarray(v).dtype.kind for v in (a, b) if not isinstance(v, _SCALARS)]
    if kinds and builtins.all(k == "b" for k in kinds):
        a = np.asarray(a, dtype=np.int32)
        b = np.asarray(b, dtype=np.int32)
    return a, b


def mod(x1, x2):
    # x mod y = x - floor(x/y) y: d/dx = 1, d/dy = -floor(x/y)
    a, b = _int_or_same(x1, x2)
    value = np.mod(a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        quotient = np.floor_divide(a, b)
    return _binary(x1, x2, value, lambda g: g,
                   lambda g: _knp.multiply(g, np.negative(quotient)))


def fmod(x1, x2):
    # C's fmod: x - trunc(x/y) y: d/dx = 1, d/dy = -trunc(x/y)
    a, b = _int_or_same(x1, x2)
    value = np.fmod(a, b)
    with np.errstate(divide="ignore", invalid="ignore"):
        quotient = np.trunc(np.true_divide(a, b))
    return _binary(x1, x2, value, lambda g: g,
                   lambda g: _knp.multiply(g, np.negative(quotient).astype(
                       np.result_type(value, 0.0))))


def floor_divide(x1, x2):
    """floor(x1 / x2) in the operands' common dtype (a step: zero gradient, as floor)."""
    a, b = _int_or_same(x1, x2)
    value = np.floor_divide(a, b)

    def zeros(g):
        return _zero_gradient(g, g, None)
    return _binary(x1, x2, value, zeros, zeros)


def logaddexp(x1, x2):
    # y = log(e^a + e^b): dy/da = e^(a - y), dy/db = e^(b - y) (the softmax weights)
    a, b = _float_pair(x1, x2)
    y = _binary(x1, x2, _same_float(np.logaddexp(a, b), x1, x2),
                lambda g: _knp.multiply(g, _knp.exp(_knp.subtract(x1, y))),
                lambda g: _knp.multiply(g, _knp.exp(_knp.subtract(x2, y))))
    return y


def logaddexp2(x1, x2):
    # y = log₂(2^a + 2^b): dy/da = 2^(a - y), dy/db = 2^(b - y)
    a, b = _float_pair(x1, x2)
    y = _binary(x1, x2, _same_float(np.logaddexp2(a, b), x1, x2),
                lambda g: _knp.multiply(g, exp2(_knp.subtract(x1, y))),
                lambda g: _knp.multiply(g, exp2(_knp.subtract(x2, y))))
    return y


def hypot(x1, x2):
    # r = √(a² + b²): dr/da = a / r, dr/db = b / r (0 where r = 0)
    a, b = _float_pair(x1, x2)
    r = _binary(x1, x2, _same_float(np.hypot(a, b), x1, x2),
                lambda g: _knp.multiply(g, divide_no_nan(x1, r)),
                lambda g: _knp.multiply(g, divide_no_nan(x2, r)))
    return r


def heaviside(x1, x2):
    """0 where x1 < 0, x2 where x1 == 0, 1 where x1 > 0 (integer inputs give floatx).
    The gradient of x1 is zero (a step); of x2, g where x1 == 0."""
    a, b = _promoted(x1, x2)
    value = np.heaviside(a, b)
    kinds = [np.asarray(v).dtype.kind for v in (a, b) if not isinstance(v, _SCALARS)]
    if not kinds or builtins.all(k in "biu" for k in kinds):
        value = value.astype(backend.floatx())
    at_zero = np.asarray(a) == 0
    return _binary(x1, x2, value, lambda g: _zero_gradient(g, value, None),
                   lambda g: _knp.multiply(g, at_zero))


def _nan_aware(fn, pick_first):
    def op(x1, x2):
        # the gradient goes to the operand chosen: the larger (smaller) one, or the
        # one that is not NaN; x1 on ties
        a, b = _promoted(x1, x2)
        value = fn(a, b)
        pick = pick_first(np.asarray(a), np.asarray(b)) | np.isnan(b)
        return _binary(x1, x2, value, lambda g: _knp.multiply(g, pick),
                       lambda g: _knp.multiply(g, ~pick))
    op.__name__ = op.__qualname__ = fn.__name__
    op.__doc__ = f"Elementwise ``{fn.__name__}``: NaNs are ignored where the other is a number."
    return op


fmax = _nan_aware(np.fmax, np.greater_equal)
fmin = _nan_aware(np.fmin, np.less_equal)


def nextafter(x1, x2):
    """The next float after x1 toward x2. Its gradient is 1 for x1 (a one-ulp shift),
    none for x2."""
    a, b = _float_pair(x1, x2)
    value = _same_float(np.nextafter(a, b), x1, x2)
    return _rec(value, (x1, x2), lambda g: (_unb(g, x1) if _tracked(x1) else None, None))


def ldexp(x1, x2):
    # x1 · 2^x2 for integer x2: d/dx1 = 2^x2 (x2 takes no gradient)
    a, b = _value(x1), _value(x2)
    if np.asarray(b).dtype.kind not in "iu":
        raise TypeError(f"ldexp exponent must be an integer type. Received: x2 dtype="
                        f"{np.asarray(b).dtype}")
    a = _float(a) if not isinstance(a, float) else a
    value = _same_float(np.ldexp(a, b), x1)
    scale = np.ldexp(np.ones((), dtype=value.dtype), b)
    return _rec(value, (x1, x2), lambda g: (
        _unb(_knp.multiply(g, scale), x1) if _tracked(x1) else None, None))


def divide_no_nan(x1, x2):
    # q = a / b, 0 where b == 0: dq/da = 1/b, dq/db = -a/b² = -q/b (both 0 where b == 0;
    # written with divide_no_nan itself, so no NaN or inf enters the backward pass)
    a, b = _float_pair(x1, x2)
    zero = np.equal(b, 0)
    # (Python numbers in np.where stay weakly typed: a float32 quotient stays float32)
    safe = (b if b != 0 else 1) if isinstance(b, _SCALARS) else np.where(zero, 1, b)
    quotient = np.true_divide(a, safe)
    value = _same_float(np.where(zero, 0, quotient), x1, x2)
    q = _binary(x1, x2, value, lambda g: divide_no_nan(g, x2),
                lambda g: _knp.negative(divide_no_nan(_knp.multiply(g, q), x2)))
    return q


def nan_to_num(x, nan=0.0, posinf=None, neginf=None):
    # the gradient passes where x is finite; the replaced values are constants
    a = np.asarray(_v(x))
    value = np.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)
    finite = np.isfinite(a)
    return _rec(value, (x,), lambda g: (_knp.multiply(g, finite),))


# ---------------------------------------------------------------------- complex parts
def _real_only(name):
    def vjp(g):
        raise NotImplementedError(
            f"ops.{name}: gradients of complex tensors are not supported (tinyann's "
            "tapes differentiate real tensors). Expected a real input; received a "
            "complex one.")
    return vjp


def _identity_for_reals(fn, name):
    def op(x):
        # for a real x, real(x) = conj(x) = x: the gradient passes unchanged
        a = np.asarray(_v(x))
        if a.dtype.kind == "c":
            return record(fn(a), (x,), _real_only(name), label=f"ops.{name}")
        return _rec(fn(a).copy(), (x,), lambda g: (g,))
    op.__name__ = op.__qualname__ = name
    op.__doc__ = f"``np.{fn.__name__}``; for real tensors the identity."
    return op


conj = _identity_for_reals(np.conj, "conj")
conjugate = _identity_for_reals(np.conjugate, "conjugate")
real = _identity_for_reals(np.real, "real")


def imag(x):
    """The imaginary part (zeros for a real tensor: a constant, no gradient)."""
    a = np.asarray(_v(x))
    if a.dtype.kind == "c":
        return record(np.imag(a), (x,), _real_only("imag"), label="ops.imag")
    return Tensor(np.zeros_like(a))


def angle(x):
    """The complex argument (0 or π for a real tensor: a step, no gradient)."""
    a = np.asarray(_v(x))
    if a.dtype.kind == "c":
        return record(np.angle(a), (x,), _real_only("angle"), label="ops.angle")
    return Tensor(np.angle(_float(a)))


# ---------------------------------------------------------------------- logic and tests
def all(x, axis=None, keepdims=False):
    """Whether every value along ``axis`` is true (nonzero); a bool tensor."""
    return Tensor(np.all(_v(x), axis=_axis(axis), keepdims=keepdims))


def any(x, axis=None, keepdims=False):
    """Whether some value along ``axis`` is true (nonzero); a bool tensor."""
    return Tensor(np.any(_v(x), axis=_axis(axis), keepdims=keepdims))


def _axis(axis):
    return tuple(axis) if isinstance(axis, list) else axis


_test = _knp._compare   # (elementwise, a bool tensor, no gradient)


isnan, isinf, isfinite, isneginf, isposinf, isreal, signbit = map(_test, (
    np.isnan, np.isinf, np.isfinite, np.isneginf, np.isposinf, np.isreal, np.signbit))


def logical_xor(x1, x2):
    """Elementwise exclusive or of the truth values, a bool tensor."""
    return Tensor(np.logical_xor(_v(x1), _v(x2)))


def isclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """Elementwise ``|x1 - x2| <= atol + rtol |x2|``, a bool tensor."""
    return Tensor(np.isclose(_v(x1), _v(x2), rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(x1, x2, rtol=1e-5, atol=1e-8, equal_nan=False):
    """Whether ``isclose`` holds everywhere, a 0-d bool tensor (``if ops.allclose(...)``
    works)."""
    return Tensor(np.asarray(np.allclose(_v(x1), _v(x2), rtol=rtol, atol=atol,
                                         equal_nan=equal_nan)))


# ---------------------------------------------------------------------- integers
def gcd(x1, x2):
    """Elementwise greatest common divisor of integers."""
    return Tensor(np.gcd(_v(x1), _v(x2)))


def lcm(x1, x2):
    """Elementwise least common multiple of integers."""
    return Tensor(np.lcm(_v(x1), _v(x2)))


def _bitwise(fn, name):
    """Elementwise ``fn`` of integer (or bool) tensors, under Keras's ``name``."""
    op = _knp._compare(fn)
    op.__name__ = op.__qualname__ = name
    return op


bitwise_and = _bitwise(np.bitwise_and, "bitwise_and")
bitwise_or = _bitwise(np.bitwise_or, "bitwise_or")
bitwise_xor = _bitwise(np.bitwise_xor, "bitwise_xor")
bitwise_left_shift = _bitwise(np.left_shift, "bitwise_left_shift")
bitwise_right_shift = _bitwise(np.right_shift, "bitwise_right_shift")
left_shift = _bitwise(np.left_shift, "left_shift")
right_shift = _bitwise(np.right_shift, "right_shift")


def bitwise_not(x):
    """Elementwise bit inversion (``~x``) of an integer (or bool) tensor."""
    return Tensor(np.invert(_v(x)))


def bitwise_invert(x):
    """Elementwise bit inversion (``~x``), the same as ``bitwise_not``."""
    return Tensor(np.invert(_v(x)))
