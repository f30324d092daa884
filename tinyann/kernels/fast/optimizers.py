"""Optimizer updates, fast: every pass in place, into the slots or the two ``scratch``
arrays (shaped like ``w``, kept by the optimizer from step to step), so a step
allocates nothing. Keras 3's formulas, as in the reference set (its docstring has
them); the order of the roundings is Keras's too.
"""

from __future__ import annotations

import numpy as np

# weights per block of an update: 64K floats, so that the five arrays an update
# touches (256 KB each) stay in L2 together through its dozen passes (measured 1.4x
# faster for the textbook CNN's 333,526 weights than whole-array passes)
BLOCK = 1 << 16

_constants_cache = [None, ()]


def update_block(size):
    """How many of a model's ``size`` packed weights the optimizer updates at a time."""
    return BLOCK


def _constants(dtype, *values):
    """``values`` as 0-d arrays of ``dtype``, remade only when they change: the
    cheapest scalar operand for a ufunc (a Python float is converted per call)."""
    key = (dtype, values)
    if _constants_cache[0] != key:
        _constants_cache[:] = [key, tuple(np.asarray(v, dtype=dtype) for v in values)]
    return _constants_cache[1]


def sgd_update(w, g, lr, m, momentum, nesterov, scratch=None):
    lr = w.dtype.type(lr)
    step = scratch[0] if scratch is not None else np.empty_like(w)
    np.multiply(g, lr, out=step)
    if m is None:
        w -= step
        return
    mu = w.dtype.type(momentum)
    m *= mu
    m -= step
    if nesterov:
        # w += momentum * m - lr * g
        w -= step
        np.multiply(m, mu, out=step)
        w += step
    else:
        w += m


def rmsprop_update(w, g, lr, v, m, a, rho, momentum, epsilon, scratch=None):
    rho_, one_minus_rho, eps = _constants(w.dtype, rho, 1.0 - rho, epsilon)
    tmp, step = scratch if scratch is not None else (np.empty_like(w), np.empty_like(w))
    # v = rho v + (1 - rho) g^2
    np.multiply(g, g, out=tmp)
    np.multiply(tmp, one_minus_rho, out=tmp)
    np.multiply(v, rho_, out=v)
    np.add(v, tmp, out=v)
    if a is not None:
        a *= rho_
        np.multiply(g, one_minus_rho, out=tmp)
        a += tmp
        np.multiply(a, a, out=tmp)
        np.subtract(v, tmp, out=tmp)
        tmp += eps
    else:
        np.add(v, eps, out=tmp)
    np.sqrt(tmp, out=tmp)
    # increment = lr * g / sqrt(denominator)
    np.multiply(g, w.dtype.type(lr), out=step)
    np.divide(step, tmp, out=step)
    if m is not None:
        m *= w.dtype.type(momentum)
        m += step
        w -= m
    else:
        np.subtract(w, step, out=w)


def adam_update(w, g, lr, m, v, v_hat, beta_1, beta_2, epsilon, t, scratch=None):
    f = w.dtype.type
    # the powers in the variable's dtype, as Keras computes them
    alpha = f(lr) * np.sqrt(f(1) - f(beta_2) ** f(t)) / (f(1) - f(beta_1) ** f(t))
    tmp, step = scratch if scratch is not None else (np.empty_like(w), np.empty_like(w))
    # m += (g - m)(1 - beta_1)
    np.subtract(g, m, out=tmp)
    tmp *= f(1.0 - beta_1)
    m += tmp
    # v += (g^2 - v)(1 - beta_2)
    np.multiply(g, g, out=tmp)
    tmp -= v
    tmp *= f(1.0 - beta_2)
    v += tmp
    if v_hat is not None:
        np.maximum(v_hat, v, out=v_hat)
        v = v_hat
    # w -= alpha m / (sqrt(v) + eps)
    np.sqrt(v, out=tmp)
    tmp += f(epsilon)
    np.multiply(m, alpha, out=step)
    np.divide(step, tmp, out=step)
    w -= step


def adagrad_update(w, g, lr, acc, epsilon, scratch=None):
    f = w.dtype.type
    tmp, step = scratch if scratch is not None else (np.empty_like(w), np.empty_like(w))
    # acc += g^2; w -= lr g / sqrt(acc + eps)
    np.multiply(g, g, out=tmp)
    acc += tmp
    np.add(acc, f(epsilon), out=tmp)
    np.sqrt(tmp, out=tmp)
    np.multiply(g, f(lr), out=step)
    np.divide(step, tmp, out=step)
    w -= step
