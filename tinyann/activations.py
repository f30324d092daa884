"""Activation functions: a forward pass and a derivative taken from the output.

Each activation is an object with ``__call__(x)`` (also usable as Keras's
function form) and ``forward(x, out)`` / ``backward(y, grad, out)`` used by layers:
the derivative is computed from the activation's output ``y``, so a layer caches
its output and nothing else (ReLU: zero where the output is zero; sigmoid:
y(1-y); tanh: 1-y^2; softmax: y * (g - sum(g*y))). The math is the ops
``<name>_forward`` / ``<name>_backward`` of the selected kernel set (tinyann.kernels).
"""

from __future__ import annotations

import numpy as np

from tinyann import _identifiers, kernels


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


def _activation(class_name, name, math):
    """An Activation class computed by the ops ``<name>_forward`` / ``<name>_backward``
    of the selected kernel set (one attribute lookup on tinyann.kernels per call: the
    switch rebinds them there)."""
    forward_op, backward_op = f"{name}_forward", f"{name}_backward"

    def forward(self, x, out):
        return getattr(kernels, forward_op)(x, out)

    def backward(self, y, grad, out):
        return getattr(kernels, backward_op)(y, grad, out)

    return type(class_name, (Activation,), {"__doc__": math, "name": name,
                                            "forward": forward, "backward": backward})


Linear = _activation("Linear", "linear", "y = x; dL/dx = g.")
ReLU = _activation("ReLU", "relu", "y = max(x, 0); dL/dx = g where y > 0, else 0.")
Sigmoid = _activation("Sigmoid", "sigmoid", "y = 1 / (1 + e^-x); dL/dx = g y (1 - y).")
Tanh = _activation("Tanh", "tanh", "y = tanh(x); dL/dx = g (1 - y^2).")
Softmax = _activation("Softmax", "softmax",
                      "Softmax over the last axis; dL/dx = y (g - sum(g y)).")
Exponential = _activation("Exponential", "exponential", "y = e^x; dL/dx = g y.")

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
        raise _identifiers.not_understood("activation function", identifier,
                                          f"one of {sorted(_INSTANCES)}")
    if callable(identifier):
        return _CallableActivation(identifier)
    raise _identifiers.not_understood(
        "activation function", identifier,
        f"a string, None or an activation. Received type {type(identifier).__name__}")


def serialize(activation) -> str:
    """The name of an activation (``'relu'``), as Keras serializes its built-ins."""
    return get(activation).name


def deserialize(config, custom_objects=None) -> Activation:
    """An activation from ``serialize``'s output: a name or a config dict."""
    return get(_identifiers.deserializable(config, "activation"))


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
