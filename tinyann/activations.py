"""Activation functions: a forward pass and a derivative taken from the output.

Each activation is an object with ``__call__(x)`` (also usable as Keras's
function form) and ``forward(x, out)`` / ``backward(y, grad, out)`` used by layers:
the derivative is computed from the activation's output ``y``, so a layer caches
its output and nothing else (ReLU: zero where the output is zero; sigmoid:
y(1-y); tanh: 1-y^2; softmax: y * (g - sum(g*y))).
"""

from __future__ import annotations

import numpy as np


class Activation:
    """Base class. ``name`` is what ``get_config`` writes and ``get`` reads."""

    name = "activation"

    def __call__(self, x):
        x = np.asarray(x)
        if not np.issubdtype(x.dtype, np.floating):
            x = x.astype("float32")
        return self.forward(x, np.empty_like(x))

    def forward(self, x, out):
        """Writes activation(x) into ``out`` (may be ``x`` itself) and returns it."""
        raise NotImplementedError

    def backward(self, y, grad, out):
        """dL/dx from the output ``y`` and dL/dy ``grad``; written into ``out``.

        ``out`` may be ``grad`` itself (layers back-propagate in place), so an
        implementation must read ``grad`` before it overwrites ``out``."""
        raise NotImplementedError

    def __repr__(self):
        return f"<activation {self.name}>"


class Linear(Activation):
    name = "linear"

    def forward(self, x, out):
        if out is not x:
            np.copyto(out, x)
        return out

    def backward(self, y, grad, out):
        if out is not grad:
            np.copyto(out, grad)
        return out


class ReLU(Activation):
    name = "relu"

    def forward(self, x, out):
        return np.maximum(x, 0, out=out)

    def backward(self, y, grad, out):
        # d relu = 1 where the output is positive, else 0
        return np.multiply(grad, y > 0, out=out)


class Sigmoid(Activation):
    name = "sigmoid"

    def forward(self, x, out):
        # 1 / (1 + exp(-x)), written to avoid overflow warnings for large |x|
        np.negative(x, out=out)
        np.clip(out, -88.0, 88.0, out=out)
        np.exp(out, out=out)
        out += 1.0
        return np.reciprocal(out, out=out)

    def backward(self, y, grad, out):
        # dy/dx = y (1 - y); a temporary, since ``out`` may be ``grad`` itself
        slope = np.subtract(1.0, y)
        slope *= y
        return np.multiply(grad, slope, out=out)


class Tanh(Activation):
    name = "tanh"

    def forward(self, x, out):
        return np.tanh(x, out=out)

    def backward(self, y, grad, out):
        # dy/dx = 1 - y^2; a temporary, since ``out`` may be ``grad`` itself
        slope = np.multiply(y, y)
        np.subtract(1.0, slope, out=slope)
        return np.multiply(grad, slope, out=out)


class Softmax(Activation):
    """Softmax over the last axis."""

    name = "softmax"

    def forward(self, x, out):
        # subtract the row max so exp never overflows; ufunc reductions directly,
        # since the ndarray methods add microseconds that matter at batch 32
        np.subtract(x, np.maximum.reduce(x, axis=-1, keepdims=True), out=out)
        np.exp(out, out=out)
        np.divide(out, np.add.reduce(out, axis=-1, keepdims=True), out=out)
        return out

    def backward(self, y, grad, out):
        # dL/dx = y * (g - sum(g * y))
        dot = np.einsum("...i,...i->...", grad, y)[..., None]
        np.subtract(grad, dot, out=out)
        out *= y
        return out


class Exponential(Activation):
    name = "exponential"

    def forward(self, x, out):
        return np.exp(x, out=out)

    def backward(self, y, grad, out):
        return np.multiply(grad, y, out=out)


_ALL = {cls.name: cls for cls in (Linear, ReLU, Sigmoid, Tanh, Softmax, Exponential)}

linear = Linear()
relu = ReLU()
sigmoid = Sigmoid()
tanh = Tanh()
softmax = Softmax()
exponential = Exponential()
_INSTANCES = {a.name: a for a in (linear, relu, sigmoid, tanh, softmax, exponential)}


def get(identifier) -> Activation:
    """An activation from a name (``'relu'``), ``None`` (linear), a dict or an instance."""
    if identifier is None:
        return linear
    if isinstance(identifier, Activation):
        return identifier
    if isinstance(identifier, dict):
        identifier = identifier.get("config", identifier.get("class_name"))
        if isinstance(identifier, dict):
            identifier = identifier.get("name")
    if isinstance(identifier, str):
        key = identifier.lower()
        if key in _INSTANCES:
            return _INSTANCES[key]
        raise ValueError(
            f"Could not interpret activation function identifier: {identifier!r}. "
            f"Expected one of {sorted(_INSTANCES)}"
        )
    if callable(identifier):
        return _CallableActivation(identifier)
    raise ValueError(
        f"Could not interpret activation function identifier: {identifier!r}. "
        f"Expected a string, None or an activation. Received type {type(identifier).__name__}"
    )


def serialize(activation) -> str:
    """The name of an activation (``'relu'``), as Keras serializes its built-ins."""
    return get(activation).name


def deserialize(config, custom_objects=None) -> Activation:
    """An activation from ``serialize``'s output: a name or a config dict."""
    if not isinstance(config, (str, dict)):
        raise ValueError(
            "Could not deserialize activation: expected a name or a config dict. "
            f"Received: {config!r} of type {type(config).__name__}"
        )
    return get(config)


class _CallableActivation(Activation):
    """A user's plain function: usable in predict; training needs a subclass with backward."""

    def __init__(self, fn):
        self.fn = fn
        self.name = getattr(fn, "__name__", "custom")

    def forward(self, x, out):
        out[...] = self.fn(x)
        return out

    def backward(self, y, grad, out):
        raise NotImplementedError(
            f"Activation {self.name!r} is a plain function: tinyann needs a derivative. "
            "Subclass tinyann.activations.Activation and implement backward(y, grad, out)."
        )
