"""Variable: a named weight array with a preallocated gradient.

A model packs its variables into one flat float buffer (``pack_variables``), so
``value`` and ``grad`` become views into it and an optimizer updates every
weight with a handful of NumPy calls instead of a handful per variable.
"""

from __future__ import annotations

import numpy as np

from tinyann import backend


class Variable:
    """A weight of a layer.

    Args:
        value: initial array.
        name: short name (``kernel``, ``bias``).
        trainable: whether optimizers update it.
        path: ``layer_name/name``, unique in a model.
    """

    def __init__(self, value, name="variable", trainable=True, path=None, dtype=None,
                 order="C"):
        dtype = dtype or backend.floatx()
        # order="F" keeps a 2-D kernel transposed in memory: BLAS runs the skinny
        # (batch, 784) x (784, 10) products of small models about twice as fast so
        self.value = np.array(value, dtype=dtype, copy=True, order=order)
        self.grad = np.zeros_like(self.value, order=order)
        self.name = name
        self.path = path or name
        self.trainable = trainable

    @property
    def shape(self):
        return self.value.shape

    @property
    def dtype(self):
        return str(self.value.dtype)

    @property
    def ndim(self):
        return self.value.ndim

    @property
    def size(self):
        return self.value.size

    def numpy(self) -> np.ndarray:
        """A copy of the value, as Keras's ``Variable.numpy()``."""
        return self.value.copy()

    def assign(self, value) -> None:
        """Writes ``value`` in place (views into a packed buffer stay valid)."""
        value = np.asarray(value)
        if value.shape != self.value.shape:
            raise ValueError(
                f"The shape of the target variable and the shape of the target value in "
                f"`variable.assign(value)` must match. variable.shape={self.value.shape}, "
                f"Received: value.shape={value.shape}. Target variable: {self.path}"
            )
        np.copyto(self.value, value, casting="unsafe")

    def assign_add(self, value) -> None:
        self.value += np.asarray(value, dtype=self.value.dtype)

    def assign_sub(self, value) -> None:
        self.value -= np.asarray(value, dtype=self.value.dtype)

    def __float__(self):
        return float(self.value)

    def __int__(self):
        return int(self.value)

    def __array__(self, dtype=None, copy=None):
        return self.value if dtype is None else self.value.astype(dtype)

    def __repr__(self):
        return f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}>"


def pack_variables(variables) -> tuple[np.ndarray, np.ndarray]:
    """Moves the values and gradients of ``variables`` into two flat buffers.

    Returns:
        ``(values, grads)``: 1-D arrays of the total size; every variable's
        ``value`` and ``grad`` are now reshaped views into them, in order.
    """
    variables = list(variables)
    if not variables:
        empty = np.zeros((0,), dtype=backend.floatx())
        return empty, empty.copy()
    dtype = np.result_type(*[v.value.dtype for v in variables])
    total = sum(v.size for v in variables)
    values = np.empty((total,), dtype=dtype)
    grads = np.zeros((total,), dtype=dtype)
    start = 0
    for v in variables:
        stop = start + v.size
        # keep each variable's memory order (see Variable's `order`)
        order = "F" if v.value.ndim > 1 and v.value.flags.f_contiguous and not (
            v.value.flags.c_contiguous) else "C"
        values[start:stop] = v.value.ravel(order=order)
        v.value = values[start:stop].reshape(v.shape, order=order)
        v.grad = grads[start:stop].reshape(v.shape, order=order)
        start = stop
    return values, grads

