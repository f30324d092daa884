"""Activations, as Keras 3's ``keras.activations``: ``<name>_forward(x, out=None)`` and
the derivative, in one of two forms.

From the output (a layer then keeps only its output): ``<name>_backward(y, grad, out=None)``
= dL/dx from ``y = f(x)`` and ``grad = dL/dy``::

    linear          y = x                               dL/dx = g
    relu            y = max(x, 0)                       dL/dx = g (y > 0)
    relu6           y = min(max(x, 0), 6)               dL/dx = g (0 < y < 6)
    leaky_relu      y = x (x > 0), s x                  dL/dx = g (1 if y > 0 else s)    s >= 0
    elu             y = x (x > 0), a (e^x - 1)          dL/dx = g (1 if y > 0 else y + a) a >= 0
    selu            y = scale elu(x, a)                 dL/dx = g (scale if y > 0 else y + scale a)
    celu            y = x (x >= 0), a (e^(x/a) - 1)     dL/dx = g (1 if y > 0 else y / a + 1)
    sigmoid         y = 1 / (1 + e^-x)                  dL/dx = g y (1 - y)
    hard_sigmoid    y = clip(x / 6 + 1/2, 0, 1)         dL/dx = g / 6 (0 < y < 1)
    sparse_sigmoid  y = clip((x + 1) / 2, 0, 1)         dL/dx = g / 2 (0 < y < 1)
    log_sigmoid     y = log(sigmoid(x))                 dL/dx = g (1 - e^y)
    tanh            y = tanh(x)                         dL/dx = g (1 - y^2)
    hard_tanh       y = clip(x, -1, 1)                  dL/dx = g (|y| < 1)
    softplus        y = log(1 + e^x)                    dL/dx = g (1 - e^-y)
    sparse_plus     y = 0, (x + 1)^2 / 4, x             dL/dx = g min(sqrt(y), 1)
    squareplus      y = (x + sqrt(x^2 + b)) / 2         dL/dx = g 4y^2 / (4y^2 + b)
    softsign        y = x / (1 + |x|)                   dL/dx = g (1 - |y|)^2
    hard_shrink     y = x (|x| > t), 0                  dL/dx = g (y != 0)
    soft_shrink     y = x - t sign(x) (|x| > t), 0      dL/dx = g (y != 0)
    exponential     y = e^x                             dL/dx = g y
    softmax         y_i = e^x_i / sum_j e^x_j           dL/dx = y (g - sum(g y))
    log_softmax     y_i = x_i - log sum_j e^x_j         dL/dx = g - e^y sum(g)
    sparsemax       y = max(x - tau(x), 0)              dL/dx = (y > 0) (g - mean of g over y > 0)

From the input, where the output does not tell the slope (these layers keep their
pre-activation too): ``<name>_backward(x, y, grad, out=None)``::

    relu_options    Keras's relu(x, negative_slope, max_value, threshold)
    gelu            y = x Phi(x)                        dL/dx = g (Phi(x) + x phi(x))
    silu (swish)    y = x sigmoid(x)                    dL/dx = g (s + y (1 - s)), s = sigmoid(x)
    hard_silu       y = x hard_sigmoid(x)               dL/dx = g (0, (2x + 3) / 6, 1)
    mish            y = x t, t = tanh(softplus(x))      dL/dx = g (t + x s (1 - t^2))
    tanh_shrink     y = x - tanh(x)                     dL/dx = g (x - y)^2
    threshold       y = x (x > t), else v               dL/dx = g (x > t)
    glu             y = a sigmoid(b), x = [a, b]        dL/da = g s, dL/db = g y (1 - s)

Keyword arguments are Keras's, with its defaults (``elu_forward(x, alpha=1.0)``); the
axis ones (softmax, log_softmax, sparsemax, glu) work along ``axis``. Shapes: any;
glu's output has half of ``x``'s size along its axis.
"""

from __future__ import annotations

import math

import numpy as np

from tinyann.kernels.reference._out import into

# the ops whose derivative needs the input: backward(x, y, grad, out)
FROM_INPUT = frozenset({"relu_options", "gelu", "silu", "hard_silu", "mish", "tanh_shrink",
                        "threshold", "glu"})

# selu's constants (Klambauer et al. 2017), as TensorFlow's and Keras's
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def erfc(a):
    """erfc of an array in its dtype: SciPy's ufunc when installed, else the standard
    library's, one element at a time (slower, as exact)."""
    a = np.asarray(a)
    try:
        from scipy import special
    except ImportError:
        return np.vectorize(math.erfc, otypes=[a.dtype])(a)
    return special.erfc(a).astype(a.dtype, copy=False)


def _sigmoid(x):
    # clipped to +-88 so that e^-x stays finite in float32 (the result is 0 or 1 there)
    return 1.0 / (1.0 + np.exp(-np.clip(x, -88.0, 88.0)))


def _softplus(x):
    # log(1 + e^x) = max(x, 0) + log(1 + e^-|x|), finite for every x
    return np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x)))


# ---------------------------------------------------------------- the output-only ones
def linear_forward(x, out=None):
    return into(x.copy(), out)


def linear_backward(y, grad, out=None):
    return into(grad.copy(), out)


def relu_forward(x, out=None):
    return into(np.maximum(x, 0), out)


def relu_backward(y, grad, out=None):
    return into(grad * (y > 0), out)


def relu6_forward(x, out=None):
    return into(np.clip(x, 0, 6), out)


def relu6_backward(y, grad, out=None):
    return into(grad * ((y > 0) & (y < 6)), out)


def leaky_relu_forward(x, out=None, negative_slope=0.2):
    return into(np.where(x > 0, x, negative_slope * x), out)


def leaky_relu_backward(y, grad, out=None, negative_slope=0.2):
    # for a slope >= 0 the output has the input's sign
    return into(grad * np.where(y > 0, 1.0, negative_slope).astype(grad.dtype), out)


def elu_forward(x, out=None, alpha=1.0):
    return into(np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0))), out)


def elu_backward(y, grad, out=None, alpha=1.0):
    # for x <= 0 the slope a e^x is y + a
    return into(grad * np.where(y > 0, 1.0, y + alpha), out)


def selu_forward(x, out=None):
    return into(SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(np.minimum(x, 0))), out)


def selu_backward(y, grad, out=None):
    # for x <= 0 the slope scale a e^x is y + scale a
    return into(grad * np.where(y > 0, SELU_SCALE, y + SELU_SCALE * SELU_ALPHA), out)


def celu_forward(x, out=None, alpha=1.0):
    return into(np.maximum(x, 0) + alpha * np.expm1(np.minimum(x, 0) / alpha), out)


def celu_backward(y, grad, out=None, alpha=1.0):
    # for x < 0 the slope e^(x/a) is y / a + 1
    return into(grad * np.where(y > 0, 1.0, y / alpha + 1.0), out)


def sigmoid_forward(x, out=None):
    return into(_sigmoid(x), out)


def sigmoid_backward(y, grad, out=None):
    return into(grad * y * (1.0 - y), out)


def hard_sigmoid_forward(x, out=None):
    return into(np.clip(x / 6.0 + 0.5, 0, 1), out)


def hard_sigmoid_backward(y, grad, out=None):
    return into(grad * ((y > 0) & (y < 1)) / 6.0, out)


def sparse_sigmoid_forward(x, out=None):
    return into(np.clip(0.5 * (x + 1.0), 0, 1), out)


def sparse_sigmoid_backward(y, grad, out=None):
    return into(grad * ((y > 0) & (y < 1)) * 0.5, out)


def log_sigmoid_forward(x, out=None):
    # log sigmoid(x) = -softplus(-x)
    return into(-_softplus(-x), out)


def log_sigmoid_backward(y, grad, out=None):
    # the slope sigmoid(-x) = 1 - sigmoid(x) = 1 - e^y
    return into(grad * -np.expm1(y), out)


def tanh_forward(x, out=None):
    return into(np.tanh(x), out)


def tanh_backward(y, grad, out=None):
    return into(grad * (1.0 - y * y), out)


def hard_tanh_forward(x, out=None):
    return into(np.clip(x, -1, 1), out)


def hard_tanh_backward(y, grad, out=None):
    return into(grad * (np.abs(y) < 1), out)


def softplus_forward(x, out=None):
    return into(_softplus(x), out)


def softplus_backward(y, grad, out=None):
    # the slope sigmoid(x) = 1 - e^-y
    return into(grad * -np.expm1(-y), out)


def sparse_plus_forward(x, out=None):
    return into(np.where(x <= -1, 0.0, np.where(x >= 1, x, 0.25 * (x + 1.0) ** 2)), out)


def sparse_plus_backward(y, grad, out=None):
    # the slope (x + 1) / 2 = sqrt(y) between -1 and 1, 1 above
    return into(grad * np.minimum(np.sqrt(y), 1.0), out)


def squareplus_forward(x, out=None, b=4):
    return into(0.5 * (x + np.sqrt(x * x + b)), out)


def squareplus_backward(y, grad, out=None, b=4):
    # the slope (1 + x / sqrt(x^2 + b)) / 2 = 4y^2 / (4y^2 + b) (0 where b = 0 and y = 0)
    four_y2 = 4.0 * y * y
    denominator = four_y2 + b
    slope = np.divide(four_y2, denominator, out=np.zeros_like(y), where=denominator > 0)
    return into(grad * slope, out)


def softsign_forward(x, out=None):
    return into(x / (1.0 + np.abs(x)), out)


def softsign_backward(y, grad, out=None):
    # the slope 1 / (1 + |x|)^2 = (1 - |y|)^2
    return into(grad * (1.0 - np.abs(y)) ** 2, out)


def hard_shrink_forward(x, out=None, threshold=0.5):
    return into(np.where(np.abs(x) > threshold, x, 0.0), out)


def hard_shrink_backward(y, grad, out=None, threshold=0.5):
    return into(grad * (y != 0), out)


def soft_shrink_forward(x, out=None, threshold=0.5):
    return into(np.where(x > threshold, x - threshold,
                         np.where(x < -threshold, x + threshold, 0.0)), out)


def soft_shrink_backward(y, grad, out=None, threshold=0.5):
    return into(grad * (y != 0), out)


def exponential_forward(x, out=None):
    return into(np.exp(x), out)


def exponential_backward(y, grad, out=None):
    return into(grad * y, out)


def softmax_forward(x, out=None, axis=-1):
    # subtracting the maximum changes nothing but keeps e^x finite
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return into(e / e.sum(axis=axis, keepdims=True), out)


def softmax_backward(y, grad, out=None, axis=-1):
    return into(y * (grad - (grad * y).sum(axis=axis, keepdims=True)), out)


def log_softmax_forward(x, out=None, axis=-1):
    shifted = x - x.max(axis=axis, keepdims=True)
    return into(shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True)), out)


def log_softmax_backward(y, grad, out=None, axis=-1):
    # softmax(x) = e^y
    return into(grad - np.exp(y) * grad.sum(axis=axis, keepdims=True), out)


def sparsemax_forward(x, out=None, axis=-1):
    """The projection of x onto the probability simplex (Martins & Astudillo 2016):
    with z sorted in decreasing order, the support is the k largest, k the largest
    index with 1 + k z_k > z_1 + ... + z_k, and tau = (z_1 + ... + z_k - 1) / k."""
    z = -np.sort(-x, axis=axis)
    cumsum = np.cumsum(z, axis=axis)
    shape = [1] * x.ndim
    shape[axis] = -1
    k = np.arange(1, x.shape[axis] + 1, dtype=x.dtype).reshape(shape)
    support = 1.0 + k * z > cumsum
    size = support.sum(axis=axis, keepdims=True)
    tau = (np.take_along_axis(cumsum, size - 1, axis=axis) - 1.0) / size
    return into(np.maximum(x - tau, 0.0), out)


def sparsemax_backward(y, grad, out=None, axis=-1):
    # the Jacobian diag(s) - s s^T / |S| on the support S (s its indicator)
    support = (y > 0).astype(grad.dtype)
    mean = (grad * support).sum(axis=axis, keepdims=True) / support.sum(axis=axis,
                                                                       keepdims=True)
    return into(support * (grad - mean), out)


# ---------------------------------------------------------------- the ones that need x
def relu_options_forward(x, out=None, negative_slope=0.0, max_value=None, threshold=0.0):
    """Keras's ``relu(x, negative_slope, max_value, threshold)``, step by step as Keras:
    ``x`` above the threshold (else 0), clipped to [0, max_value], minus
    ``negative_slope * max(threshold - x, 0)``."""
    y = np.where(x > threshold, x, 0.0)
    if max_value is not None:
        y = np.clip(y, 0.0, max_value)
    return into(y - negative_slope * np.maximum(threshold - x, 0.0), out)


def relu_options_backward(x, y, grad, out=None, negative_slope=0.0, max_value=None,
                          threshold=0.0):
    # 1 above the threshold (inside [0, max_value] when clipped), the slope below it
    passes = x > threshold
    if max_value is not None:
        passes &= (x > 0) & (x < max_value)
    slope = np.where(passes, 1.0, 0.0) + np.where(x < threshold, negative_slope, 0.0)
    return into(grad * slope, out)


def _phi(x):
    # the standard normal density
    return np.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


_TANH_GELU = math.sqrt(2.0 / math.pi)


def _normal_cdf(x):
    # Phi(x) = erfc(-x / sqrt 2) / 2 (no 1 + erf(...) cancelling for x << 0, as TensorFlow)
    return 0.5 * erfc(-x / math.sqrt(2.0))


def gelu_forward(x, out=None, approximate=False):
    if approximate:
        # 0.5 x (1 + tanh(u)) = x sigmoid(2u), u = sqrt(2/pi) (x + 0.044715 x^3)
        return into(x * _sigmoid(2.0 * _TANH_GELU * (x + 0.044715 * x ** 3)), out)
    return into(x * _normal_cdf(x), out)


def gelu_backward(x, y, grad, out=None, approximate=False):
    if approximate:
        # s + 2 x s (1 - s) u', s = sigmoid(2u), u' = sqrt(2/pi) (1 + 3 * 0.044715 x^2)
        s = _sigmoid(2.0 * _TANH_GELU * (x + 0.044715 * x ** 3))
        slope = s + 2.0 * x * s * (1.0 - s) * _TANH_GELU * (1.0 + 3 * 0.044715 * x * x)
        return into(grad * slope, out)
    # Phi(x) + x phi(x)
    return into(grad * (_normal_cdf(x) + x * _phi(x)), out)


def silu_forward(x, out=None):
    return into(x * _sigmoid(x), out)


def silu_backward(x, y, grad, out=None):
    # s + x s (1 - s) = s + y (1 - s)
    s = _sigmoid(x)
    return into(grad * (s + y * (1.0 - s)), out)


def hard_silu_forward(x, out=None):
    return into(x * np.clip(x / 6.0 + 0.5, 0, 1), out)


def hard_silu_backward(x, y, grad, out=None):
    # 0 below -3, (2x + 3) / 6 between, 1 above 3
    return into(grad * np.where(x < -3, 0.0, np.where(x > 3, 1.0, (2.0 * x + 3.0) / 6.0)),
                out)


def mish_forward(x, out=None):
    return into(x * np.tanh(_softplus(x)), out)


def mish_backward(x, y, grad, out=None):
    # t + x sigmoid(x) (1 - t^2), t = tanh(softplus(x)) (softplus' = sigmoid)
    t = np.tanh(_softplus(x))
    return into(grad * (t + x * _sigmoid(x) * (1.0 - t * t)), out)


def tanh_shrink_forward(x, out=None):
    return into(x - np.tanh(x), out)


def tanh_shrink_backward(x, y, grad, out=None):
    # 1 - (1 - tanh^2 x) = tanh^2 x = (x - y)^2
    return into(grad * (x - y) ** 2, out)


def threshold_forward(x, out=None, *, threshold, default_value):
    return into(np.where(x > threshold, x, default_value).astype(x.dtype, copy=False), out)


def threshold_backward(x, y, grad, out=None, *, threshold, default_value):
    return into(grad * (x > threshold), out)


def glu_forward(x, out=None, axis=-1):
    a, b = np.split(x, 2, axis=axis)
    return into(a * _sigmoid(b), out)


def glu_backward(x, y, grad, out=None, axis=-1):
    # dL/da = g sigmoid(b); dL/db = g a s (1 - s) = g y (1 - s); out is x's shape
    a, b = np.split(x, 2, axis=axis)
    s = _sigmoid(b)
    return into(np.concatenate([grad * s, grad * y * (1.0 - s)], axis=axis), out)
