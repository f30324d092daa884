"""Activations: ``forward(x, out=None)`` and the derivative from the output,
``backward(y, grad, out=None)`` = dL/dx from ``y = f(x)`` and ``grad = dL/dy``.

    linear       y = x                     dL/dx = g
    relu         y = max(x, 0)             dL/dx = g * (y > 0)
    sigmoid      y = 1 / (1 + e^-x)        dL/dx = g * y (1 - y)
    tanh         y = tanh(x)               dL/dx = g * (1 - y^2)
    softmax      y_i = e^x_i / sum_j e^x_j dL/dx = y * (g - sum(g * y))   (last axis)
    exponential  y = e^x                   dL/dx = g * y

Shapes: any; softmax works over the last axis.
"""

from __future__ import annotations

import numpy as np

from tinyann.kernels.reference._out import into


def linear_forward(x, out=None):
    return into(x.copy(), out)


def linear_backward(y, grad, out=None):
    return into(grad.copy(), out)


def relu_forward(x, out=None):
    return into(np.maximum(x, 0), out)


def relu_backward(y, grad, out=None):
    return into(grad * (y > 0), out)


def sigmoid_forward(x, out=None):
    # clipped to +-88 so that e^-x stays finite in float32 (the result is 0 or 1 there)
    return into(1.0 / (1.0 + np.exp(-np.clip(x, -88.0, 88.0))), out)


def sigmoid_backward(y, grad, out=None):
    return into(grad * y * (1.0 - y), out)


def tanh_forward(x, out=None):
    return into(np.tanh(x), out)


def tanh_backward(y, grad, out=None):
    return into(grad * (1.0 - y * y), out)


def softmax_forward(x, out=None):
    # subtracting the row maximum changes nothing but keeps e^x finite
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return into(e / e.sum(axis=-1, keepdims=True), out)


def softmax_backward(y, grad, out=None):
    return into(y * (grad - (grad * y).sum(axis=-1, keepdims=True)), out)


def exponential_forward(x, out=None):
    return into(np.exp(x), out)


def exponential_backward(y, grad, out=None):
    return into(grad * y, out)
