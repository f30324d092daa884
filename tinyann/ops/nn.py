"""Keras's neural-network ops (``keras.ops.relu``, ``softmax``, the cross-entropies, ...).

The activations with a short derivative record it directly; the rest are composed of
the NumPy-like ops, whose gradients compose by the chain rule. As in ``ops.numpy``,
each gradient closure is written with ops (on the operand and the output Tensor), so
a tape open around ``gradient`` can differentiate it again; conv and pooling keep
NumPy-only closures (first derivatives only).
"""

from __future__ import annotations

import numpy as np

from tinyann.autodiff import Tensor, record
from tinyann.ops import numpy as knp
from tinyann.ops.core import value_of as _v
from tinyann.ops.numpy import _rec


def relu(x):
    # relu'(x) = 1 for x > 0, else 0
    a = np.asarray(_v(x))
    return _rec(np.maximum(a, 0), (x,), lambda g: (knp.multiply(g, a > 0),))


def relu6(x):
    # the gradient passes where 0 < x < 6
    a = np.asarray(_v(x))
    return _rec(np.clip(a, 0, 6), (x,), lambda g: (knp.multiply(g, (a > 0) & (a < 6)),))


def sigmoid(x):
    # σ'(x) = σ(x) (1 - σ(x)); σ computed without overflow on both sides
    a = np.asarray(_v(x))
    e = np.exp(-np.abs(a))
    value = np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)
    y = _rec(value, (x,), lambda g: (knp.multiply(g, knp.multiply(y, knp.subtract(1.0, y))),))
    return y


tanh = knp.tanh


def softplus(x):
    # log(1 + e^x) = max(x, 0) + log1p(e^-|x|); its derivative is σ(x)
    a = np.asarray(_v(x))
    y = np.maximum(a, 0) + np.log1p(np.exp(-np.abs(a)))
    return _rec(y, (x,), lambda g: (knp.multiply(g, sigmoid(x)),))


def silu(x):
    """x σ(x) (swish)."""
    return knp.multiply(x, sigmoid(x))


swish = silu


def elu(x, alpha=1.0):
    # x for x > 0, alpha (e^x - 1) else; the derivative is 1, or alpha e^x
    a = np.asarray(_v(x))
    value = np.where(a > 0, a, alpha * np.expm1(np.minimum(a, 0)))
    # where x <= 0 the derivative alpha e^x is y + alpha
    y = _rec(value, (x,), lambda g: (
        knp.multiply(g, knp.where(a > 0, 1.0, knp.add(y, float(alpha)))),))
    return y


def leaky_relu(x, negative_slope=0.2):
    # x for x > 0, slope x else
    a = np.asarray(_v(x))
    slope = np.where(a > 0, 1, negative_slope).astype(a.dtype)
    return _rec(np.where(a > 0, a, negative_slope * a), (x,),
                lambda g: (knp.multiply(g, slope),))


def gelu(x, approximate=True):
    """Gaussian error linear unit: the tanh approximation by default (Keras's
    ``ops.gelu``), else x Φ(x) with the exact normal CDF."""
    if approximate:
        # 0.5 x (1 + tanh(√(2/π) (x + 0.044715 x³)))
        inner = knp.multiply(float(np.sqrt(2 / np.pi)),
                             knp.add(x, knp.multiply(0.044715, knp.power(x, 3))))
        return knp.multiply(knp.multiply(0.5, x), knp.add(1.0, knp.tanh(inner)))
    from math import erf
    a = np.asarray(_v(x))
    cdf = 0.5 * (1 + np.vectorize(erf)(a / np.sqrt(2))).astype(a.dtype)

    def pdf():
        # φ(x) = e^(-x²/2) / √(2π), with ops (its own derivative is -x φ(x))
        return knp.multiply(knp.exp(knp.multiply(knp.square(x), -0.5)),
                            float(1 / np.sqrt(2 * np.pi)))
    # Φ(x) as a recorded Tensor whose derivative is φ(x), then (x Φ(x))' = Φ(x) + x φ(x)
    phi = _rec(cdf, (x,), lambda g: (knp.multiply(g, pdf()),))
    return _rec(a * cdf, (x,), lambda g: (
        knp.multiply(g, knp.add(phi, knp.multiply(x, pdf()))),))


def softmax(x, axis=-1):
    # dx = y (g - Σ g y) along the axis (the Jacobian diag(y) - y yᵀ applied to g)
    a = np.asarray(_v(x))
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    value = e / np.sum(e, axis=axis, keepdims=True)
    y = _rec(value, (x,), lambda g: (knp.multiply(y, knp.subtract(
        g, knp.sum(knp.multiply(g, y), axis=axis, keepdims=True))),))
    return y


def log_softmax(x, axis=-1):
    # x - logsumexp(x); dx = g - softmax(x) Σ g
    a = np.asarray(_v(x))
    shifted = a - np.max(a, axis=axis, keepdims=True)
    value = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    y = _rec(value, (x,), lambda g: (knp.subtract(
        g, knp.multiply(knp.exp(y), knp.sum(g, axis=axis, keepdims=True))),))
    return y


def moments(x, axes, keepdims=False, synchronized=False):
    """(mean, variance) of ``x`` over ``axes``."""
    m = knp.mean(x, axis=axes, keepdims=True)
    v = knp.mean(knp.square(knp.subtract(x, m)), axis=axes, keepdims=keepdims)
    return (m if keepdims else knp.squeeze(m, axis=tuple(np.atleast_1d(axes)))), v


def normalize(x, axis=-1, order=2, epsilon=None):
    """``x`` divided by its ``order``-norm along ``axis`` (Keras's ``ops.normalize``:
    the L2 norm floored at ``epsilon``, 1e-12 by default... as a square root of the
    clipped squared norm)."""
    if order != 2:
        norm = knp.power(knp.sum(knp.power(knp.abs(x), order), axis=axis, keepdims=True),
                         1.0 / order)
        return knp.divide(x, norm)
    eps = 1e-12 if epsilon is None else epsilon
    squared = knp.sum(knp.square(x), axis=axis, keepdims=True)
    return knp.multiply(x, knp.divide(1.0, knp.sqrt(knp.maximum(squared, eps))))


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """A one-hot encoding of the integer tensor ``x`` (no gradient)."""
    from tinyann import backend
    idx = np.asarray(_v(x)).astype(np.int64)
    out = (idx[..., None] == np.arange(num_classes)).astype(dtype or backend.floatx())
    return Tensor(np.moveaxis(out, -1, axis) if axis != -1 else out)


_EPSILON = 1e-7   # keras.config.epsilon(): probabilities are clipped into [ε, 1 - ε]


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """-Σ target log(output) along ``axis``, per sample."""
    if from_logits:
        return knp.negative(knp.sum(knp.multiply(target, log_softmax(output, axis=axis)),
                                    axis=axis))
    # Keras rescales the probabilities to sum to 1, then clips them
    p = knp.divide(output, knp.sum(output, axis=axis, keepdims=True))
    p = knp.clip(p, _EPSILON, 1 - _EPSILON)
    return knp.negative(knp.sum(knp.multiply(target, knp.log(p)), axis=axis))


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """-log(output[target]) per sample, for integer targets."""
    out = np.asarray(_v(output))
    labels = np.asarray(_v(target)).astype(np.int64)
    if labels.ndim == out.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if labels.shape != out.shape[:-1]:
        raise ValueError(
            f"Arguments `target` and `output` must have the same shape up until the last "
            f"dimension: target.shape={labels.shape}, output.shape={out.shape}")
    hot = one_hot(labels, out.shape[axis], axis=axis, dtype=out.dtype)
    return categorical_crossentropy(hot, output, from_logits=from_logits, axis=axis)


def binary_crossentropy(target, output, from_logits=False):
    """-(t log p + (1 - t) log(1 - p)) elementwise."""
    if from_logits:
        # max(z, 0) - z t + log(1 + e^-|z|): stable for any logit z
        return knp.add(knp.subtract(relu(output), knp.multiply(output, target)),
                       knp.log1p(knp.exp(knp.negative(knp.abs(output)))))
    p = knp.clip(output, _EPSILON, 1 - _EPSILON)
    return knp.negative(knp.add(knp.multiply(target, knp.log(p)),
                                knp.multiply(knp.subtract(1.0, target),
                                             knp.log(knp.subtract(1.0, p)))))


# ---------------------------------------------------------------------- convolution, pooling
# 2-D, channels last, over the kernels' textbook versions (tinyann.kernels.reference):
# the forward returns what its backward needs, which the gradient closure keeps.
def _pair(value, name):
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2:
        raise ValueError(f"Argument `{name}` must be an int or a tuple of 2 ints. "
                         f"Received: {name}={value!r}")
    return pair


def _check_2d(x, data_format, what):
    if np.ndim(x) != 4:
        raise NotImplementedError(
            f"ops.{what} supports 4-D inputs (batch, rows, cols, channels) in tinyann. "
            f"Received: input of shape {np.shape(x)}")
    if data_format not in (None, "channels_last"):
        raise NotImplementedError(f"ops.{what} supports data_format='channels_last' only. "
                                  f"Received: data_format={data_format!r}")


def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """2-D convolution: ``inputs`` (n, h, w, c), ``kernel`` (kh, kw, c, filters)."""
    from tinyann.kernels.reference import conv as ref

    x, k = np.asarray(_v(inputs)), np.asarray(_v(kernel))
    _check_2d(x, data_format, "conv")
    z, ctx = ref.conv2d_forward(x, k, None, _pair(strides, "strides"), padding.lower(),
                                _pair(dilation_rate, "dilation_rate"))

    def vjp(g):
        # dK = cols^T dz, dx = col2im(dz K^T) (the reference kernel's backward)
        dk = np.empty_like(k)
        dx = ref.conv2d_backward(np.ascontiguousarray(g), ctx, k, dk, None, need_dx=True)
        return dx, dk
    return record(z, (inputs, kernel), vjp, label="ops.conv")


def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """The maximum of each window; the gradient goes to each window's first maximum."""
    return _pool("max", inputs, pool_size, strides, padding, data_format)


def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """The mean of each window's real pixels; each receives dy / count."""
    return _pool("average", inputs, pool_size, strides, padding, data_format)


def _pool(kind, inputs, pool_size, strides, padding, data_format):
    """``max_pool`` / ``average_pool`` by the reference pooling kernels (NumPy-only
    gradients)."""
    from tinyann.kernels.reference import pooling as ref

    forward, backward = {"max": (ref.max_pool2d_forward, ref.max_pool2d_backward),
                         "average": (ref.avg_pool2d_forward, ref.avg_pool2d_backward)}[kind]
    x = np.asarray(_v(inputs))
    _check_2d(x, data_format, f"{kind}_pool")
    size = _pair(pool_size, "pool_size")
    y, ctx = forward(x, size, _pair(strides or size, "strides"), padding.lower())
    return record(y, (inputs,), lambda g: (backward(g, ctx),), label=f"ops.{kind}_pool")
