"""Keras's neural-network ops (``keras.ops.relu``, ``softmax``, the cross-entropies, ...).

The activations with a short derivative record it directly; the rest are composed of
the NumPy-like ops, whose gradients compose by the chain rule.
"""

from __future__ import annotations

import numpy as np

from tinyann.autodiff import Tensor, record
from tinyann.ops import numpy as knp
from tinyann.ops.core import value_of as _v


def relu(x):
    # relu'(x) = 1 for x > 0, else 0
    a = np.asarray(_v(x))
    return record(np.maximum(a, 0), (x,), lambda g: (g * (a > 0),))


def relu6(x):
    # the gradient passes where 0 < x < 6
    a = np.asarray(_v(x))
    return record(np.clip(a, 0, 6), (x,), lambda g: (g * ((a > 0) & (a < 6)),))


def sigmoid(x):
    # σ'(x) = σ(x) (1 - σ(x)); σ computed without overflow on both sides
    a = np.asarray(_v(x))
    e = np.exp(-np.abs(a))
    y = np.where(a >= 0, 1 / (1 + e), e / (1 + e)).astype(a.dtype, copy=False)
    return record(y, (x,), lambda g: (g * y * (1 - y),))


tanh = knp.tanh


def softplus(x):
    # log(1 + e^x) = max(x, 0) + log1p(e^-|x|); its derivative is σ(x)
    a = np.asarray(_v(x))
    y = np.maximum(a, 0) + np.log1p(np.exp(-np.abs(a)))
    return record(y, (x,), lambda g: (g / (1 + np.exp(-a)),))


def silu(x):
    """x σ(x) (swish)."""
    return knp.multiply(x, sigmoid(x))


swish = silu


def elu(x, alpha=1.0):
    # x for x > 0, alpha (e^x - 1) else; the derivative is 1, or alpha e^x
    a = np.asarray(_v(x))
    y = np.where(a > 0, a, alpha * np.expm1(np.minimum(a, 0)))
    return record(y, (x,), lambda g: (g * np.where(a > 0, 1, alpha * np.exp(np.minimum(a, 0))),))


def leaky_relu(x, negative_slope=0.2):
    # x for x > 0, slope x else
    a = np.asarray(_v(x))
    return record(np.where(a > 0, a, negative_slope * a), (x,),
                  lambda g: (g * np.where(a > 0, 1, negative_slope),))


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
    pdf = np.exp(-0.5 * a * a) / np.sqrt(2 * np.pi)
    # (x Φ(x))' = Φ(x) + x φ(x)
    return record(a * cdf, (x,), lambda g: (g * (cdf + a * pdf),))


def softmax(x, axis=-1):
    # dx = y (g - Σ g y) along the axis (the Jacobian diag(y) - y yᵀ applied to g)
    a = np.asarray(_v(x))
    e = np.exp(a - np.max(a, axis=axis, keepdims=True))
    y = e / np.sum(e, axis=axis, keepdims=True)
    return record(y, (x,), lambda g: (y * (g - np.sum(g * y, axis=axis, keepdims=True)),))


def log_softmax(x, axis=-1):
    # x - logsumexp(x); dx = g - softmax(x) Σ g
    a = np.asarray(_v(x))
    shifted = a - np.max(a, axis=axis, keepdims=True)
    y = shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    return record(y, (x,), lambda g: (g - np.exp(y) * np.sum(g, axis=axis, keepdims=True),))


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
