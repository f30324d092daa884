"""Keras's core ops (``keras.ops.cast``, ``convert_to_tensor``, ``stop_gradient``, ...)
and the helpers every op module shares: reading an operand's value and summing a
broadcast gradient back to an operand's shape."""

from __future__ import annotations

import numpy as np

from tinyann import backend
from tinyann.autodiff import Tensor, record
from tinyann.variables import Variable


def value_of(x):
    """The ndarray (or Python number) behind an operand: Tensors and Variables give
    their arrays; Python numbers stay numbers so they do not widen a float32 array
    (NumPy 2 treats them as weakly typed); anything else becomes an ndarray."""
    if isinstance(x, (Tensor, Variable)):
        return x.value
    if isinstance(x, (bool, int, float, np.ndarray)):
        return x
    return np.asarray(x)


def unbroadcast(g, x):
    """``g`` summed over the axes broadcasting added to operand ``x`` (dL/dx of a
    broadcast operand is the sum of dL/dy over the copies made of it)."""
    if not isinstance(x, (Tensor, Variable)):
        return None
    shape = x.value.shape
    if g.shape == shape:
        return g
    g = g.sum(axis=tuple(range(g.ndim - len(shape)))) if g.ndim > len(shape) else g
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g


def _standard_dtype(dtype):
    if dtype is None:
        return None
    return np.dtype(backend.floatx() if dtype == "floatx" else getattr(dtype, "name", dtype))


def convert_to_tensor(x, dtype=None, sparse=None):
    """A Tensor of ``x``; Python floats become ``floatx()`` and ints int32, as Keras."""
    if isinstance(x, Tensor) and dtype is None:
        return x
    dtype = _standard_dtype(dtype)
    if isinstance(x, (Tensor, Variable)):
        value = x.value if dtype is None else x.value.astype(dtype)
        return record(value, (x,), lambda g: (g,), differentiable=True) if dtype is None or \
            dtype.kind == "f" else Tensor(value)
    if dtype is None:
        array = np.asarray(x)
        if array.dtype == np.float64 and not isinstance(x, np.ndarray):
            dtype = np.dtype(backend.floatx())
        elif array.dtype == np.int64 and not isinstance(x, np.ndarray):
            dtype = np.dtype("int32")
    return Tensor(np.array(x, dtype=dtype))


def convert_to_numpy(x) -> np.ndarray:
    """``x`` as an ndarray."""
    return np.asarray(value_of(x))


def cast(x, dtype):
    """``x`` converted to ``dtype``; the gradient flows back through float casts
    (cast to float16 and back is still the identity for the chain rule)."""
    dtype = _standard_dtype(dtype)
    v = value_of(x)
    out = np.asarray(v).astype(dtype)
    if dtype.kind != "f":
        return Tensor(out)
    source = np.asarray(v).dtype
    # (written with cast itself, so a gradient of this gradient is recorded too)
    return record(out, (x,), lambda g: (cast(g, source),), differentiable=True)


def shape(x) -> tuple:
    """The static shape of ``x`` as a tuple of ints."""
    return tuple(np.shape(value_of(x)))


def stop_gradient(x):
    """``x`` with no gradient flowing through it: the result is a new Tensor that no
    tape has seen, so nothing recorded after it leads back to ``x``."""
    return Tensor(np.array(value_of(x)))


def is_tensor(x) -> bool:
    """Whether ``x`` is a Tensor (Keras's ``ops.is_tensor``)."""
    return isinstance(x, Tensor)
