"""Activations, fast: in place (``out`` may be ``x``, or ``grad`` in backward, so each
function reads its input before it overwrites ``out``), ufunc reductions rather than
ndarray methods (microseconds at batch 32). The math is the reference's; the
activations not here (silu, mish, hard_silu, sparsemax...) run the reference's (an
in-place silu measured 13% faster at a Dense's size, no faster at a Conv2D's: not kept).

Measured (benchmarks/activations.py, float32, forward + backward, reference -> this
set): at 32 x 128 (a Dense layer's batch) leaky_relu 15 -> 7 us, elu 21 -> 13, selu 22
-> 17, gelu 74 -> 61; at 32 x 26 x 26 x 32 (a Conv2D's output) leaky_relu 6.1 -> 0.45
ms, elu 6.3 -> 1.3, selu 6.3 -> 1.6, gelu 21 -> 20 (SciPy's normal CDF is most of it).
"""

from __future__ import annotations

import math

import numpy as np

from tinyann.kernels.reference import activations as reference
from tinyann.kernels.reference.activations import SELU_ALPHA, SELU_SCALE


def _out(out, like):
    return np.empty_like(like) if out is None else out


def linear_forward(x, out=None):
    if out is not x:
        out = _out(out, x)
        np.copyto(out, x)
    return out


def linear_backward(y, grad, out=None):
    return linear_forward(grad, out)


def relu_forward(x, out=None):
    return np.maximum(x, 0, out=out)


def relu_backward(y, grad, out=None):
    # d relu = 1 where the output is positive, else 0
    return np.multiply(grad, y > 0, out=out)


def sigmoid_forward(x, out=None):
    # 1 / (1 + exp(-x)), written to avoid overflow warnings for large |x|
    out = np.negative(x, out=out)
    np.clip(out, -88.0, 88.0, out=out)
    np.exp(out, out=out)
    out += 1.0
    return np.reciprocal(out, out=out)


def sigmoid_backward(y, grad, out=None):
    # dy/dx = y (1 - y); a temporary, since ``out`` may be ``grad`` itself
    slope = np.subtract(1.0, y)
    slope *= y
    return np.multiply(grad, slope, out=out)


def tanh_forward(x, out=None):
    return np.tanh(x, out=out)


def tanh_backward(y, grad, out=None):
    # dy/dx = 1 - y^2; a temporary, since ``out`` may be ``grad`` itself
    slope = np.multiply(y, y)
    np.subtract(1.0, slope, out=slope)
    return np.multiply(grad, slope, out=out)


def softmax_forward(x, out=None, axis=-1):
    # subtract the max so exp never overflows
    out = np.subtract(x, np.maximum.reduce(x, axis=axis, keepdims=True), out=out)
    np.exp(out, out=out)
    np.divide(out, np.add.reduce(out, axis=axis, keepdims=True), out=out)
    return out


def softmax_backward(y, grad, out=None, axis=-1):
    # dL/dx = y * (g - sum(g * y)); over the last axis, einsum forms sum(g * y)
    # without the product's temporary
    if axis == -1 or axis == y.ndim - 1:
        dot = np.einsum("...i,...i->...", grad, y)[..., None]
    else:
        dot = np.add.reduce(grad * y, axis=axis, keepdims=True)
    out = np.subtract(grad, dot, out=out)
    out *= y
    return out


def exponential_forward(x, out=None):
    return np.exp(x, out=out)


def exponential_backward(y, grad, out=None):
    return np.multiply(grad, y, out=out)


# ---------------------------------------------------------------- Keras 3's others
# Written without np.where: with an unpredictable sign per element it runs at ~3.6 ns an
# element (a Conv2D output of 32x26x26x32: 2.5 ms), where max / min / a product with a
# mask take 0.1-0.3 ms. Below a few thousand elements the count of NumPy calls decides:
# each function here makes fewer calls and temporaries than the reference's.
def leaky_relu_forward(x, out=None, negative_slope=0.2):
    # max(x, s x) for a slope up to 1 (min(x, s x) above)
    scaled = np.multiply(x, negative_slope)
    pick = np.maximum if negative_slope <= 1 else np.minimum
    return pick(x, scaled, out=out)


def _step_slope(y, above, below, dtype):
    """``above`` where y > 0, ``below`` elsewhere: below + (above - below) (y > 0)."""
    slope = np.greater(y, 0).astype(dtype)
    slope *= above - below
    slope += below
    return slope


def leaky_relu_backward(y, grad, out=None, negative_slope=0.2):
    # 1 where y > 0, the slope elsewhere; a temporary, since ``out`` may be ``grad``
    return np.multiply(grad, _step_slope(y, 1.0, negative_slope, grad.dtype), out=out)


def _exponential_linear(x, out, alpha):
    """max(x, 0) + alpha (e^min(x, 0) - 1): elu without a branch per element."""
    negative = np.minimum(x, 0)
    np.expm1(negative, out=negative)
    negative *= alpha
    out = np.maximum(x, 0, out=out)
    out += negative
    return out


def _exponential_linear_slope(y, scale, alpha):
    """selu's (elu's with scale 1) dy/dx from y: scale above zero, y + scale alpha below."""
    slope = np.minimum(y, 0)
    slope += scale * alpha
    if scale * alpha != scale:
        step = np.greater(y, 0).astype(y.dtype)
        step *= scale - scale * alpha
        slope += step
    return slope


def elu_forward(x, out=None, alpha=1.0):
    return _exponential_linear(x, out, alpha)


def elu_backward(y, grad, out=None, alpha=1.0):
    return np.multiply(grad, _exponential_linear_slope(y, 1.0, alpha), out=out)


def selu_forward(x, out=None):
    out = _exponential_linear(x, out, SELU_ALPHA)
    out *= SELU_SCALE
    return out


def selu_backward(y, grad, out=None):
    return np.multiply(grad, _exponential_linear_slope(y, SELU_SCALE, SELU_ALPHA), out=out)


def _ndtr():
    """SciPy's normal CDF ufunc (Phi), or None without SciPy (imported on first use)."""
    global _NDTR
    if _NDTR is False:
        try:
            from scipy.special import ndtr
        except ImportError:
            ndtr = None
        _NDTR = ndtr
    return _NDTR


_NDTR = False
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)
_TANH_GELU = math.sqrt(2.0 / math.pi)


def _gelu_sigmoid(x):
    """sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3): (1 + tanh u) / 2, the tanh form's."""
    u = np.multiply(x, x)
    u *= 0.044715
    u += 1.0
    u *= x
    u *= 2.0 * _TANH_GELU
    return sigmoid_forward(u, u)


def gelu_forward(x, out=None, approximate=False):
    if approximate:
        return np.multiply(x, _gelu_sigmoid(x), out=out)
    ndtr = _ndtr()
    if ndtr is None:
        return reference.gelu_forward(x, out)
    # x Phi(x), SciPy's Phi in one call (erfc and the arithmetic: 1.2x slower)
    return np.multiply(x, ndtr(x), out=out)


def gelu_backward(x, y, grad, out=None, approximate=False):
    if approximate:
        # s + 2 x s (1 - s) u', s = sigmoid(2u), u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2)
        s = _gelu_sigmoid(x)
        slope = np.multiply(x, x)
        slope *= 3 * 0.044715
        slope += 1.0
        slope *= x
        slope *= 2.0 * _TANH_GELU
        slope *= s
        slope *= np.subtract(1.0, s)
        slope += s
        return np.multiply(grad, slope, out=out)
    ndtr = _ndtr()
    if ndtr is None:
        return reference.gelu_backward(x, y, grad, out)
    # Phi(x) + x phi(x), phi(x) = e^(-x^2/2) / sqrt(2 pi)
    slope = np.multiply(x, x)
    slope *= -0.5
    np.exp(slope, out=slope)
    slope *= _INV_SQRT_2PI
    slope *= x
    slope += ndtr(x)
    return np.multiply(grad, slope, out=out)
