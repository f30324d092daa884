"""Tensor: the eager result of an op, an ndarray with TensorFlow's manners.

NumPy code takes a Tensor as an array (``np.argmax(t)``, ``plt.plot(t)``) through
``__array__``; NumPy's own functions return plain ndarrays and record nothing. The
arithmetic operators (``t + 1``, ``a @ b``) are ``keras.ops`` functions, installed by
``tinyann.ops`` when it is imported (the engine sits below the op API and never imports it).
"""

from __future__ import annotations

import numpy as np


class Tensor:
    """An immutable array produced by an op.

    Args:
        value: the ndarray it wraps (not copied).
    """

    __slots__ = ("value", "__weakref__")
    __array_priority__ = 100.0
    # ufunc -> op for Python's operators: `ndarray + tensor` reaches NumPy's add,
    # which calls __array_ufunc__ below; the op records it (filled by tinyann.ops)
    _operator_ops: dict = {}

    def __init__(self, value):
        self.value = value if isinstance(value, np.ndarray) else np.asarray(value)

    @property
    def shape(self) -> tuple:
        return self.value.shape

    @property
    def dtype(self):
        return self.value.dtype

    @property
    def ndim(self) -> int:
        return self.value.ndim

    @property
    def size(self) -> int:
        return self.value.size

    def numpy(self) -> np.ndarray:
        """The value as an ndarray (TensorFlow's ``Tensor.numpy()``)."""
        return self.value

    def __array__(self, dtype=None, copy=None):
        if dtype is None or dtype == self.value.dtype:
            return self.value.copy() if copy else self.value
        return self.value.astype(dtype)

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        op = self._operator_ops.get(ufunc) if method == "__call__" and not kwargs else None
        if op is not None:
            return op(*inputs)
        # np.exp(t), np.sum(t): NumPy's math on the values, an ndarray back (as for
        # TensorFlow's tensors), recorded on no tape
        inputs = tuple(x.value if isinstance(x, Tensor) else x for x in inputs)
        return getattr(ufunc, method)(*inputs, **kwargs)

    def __getattr__(self, name):
        # ndarray's methods (t.copy(), t.reshape(...), t.tolist()) on the value: code
        # written for layers that returned arrays keeps working; they record nothing
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.value, name)

    def __len__(self):
        if self.value.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.value)

    def __iter__(self):
        for i in range(len(self)):
            yield self[i]

    def __bool__(self):
        return bool(self.value)

    def __float__(self):
        return float(self.value)

    def __int__(self):
        return int(self.value)

    def __format__(self, spec):
        # f"{metric.result():.4f}": a scalar formats as its number, as TensorFlow's
        if self.value.ndim == 0:
            return format(self.value.item(), spec)
        return format(str(self), spec)

    def __round__(self, ndigits=None):
        return round(self.value.item(), ndigits) if self.value.ndim == 0 else \
            Tensor(np.round(self.value, ndigits or 0))

    def __index__(self):
        return self.value.__index__()

    def __hash__(self):
        return id(self)

    def __repr__(self):
        body = np.array2string(self.value, separator=", ", prefix="tf.Tensor(")
        return f"tf.Tensor({body}, shape={self.shape}, dtype={self.dtype})"

    __str__ = __repr__


def is_tensor(x) -> bool:
    """Whether ``x`` is a :class:`Tensor`."""
    return isinstance(x, Tensor)
