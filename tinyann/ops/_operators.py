"""Python's operators (``a + b``, ``a @ b``, ``a[i]``, ``-a``) for Tensors and
Variables, each one a recorded op."""

import numpy as np

from tinyann.ops import numpy as knp


def _swap(fn):
    return lambda self, other: fn(other, self)


_BINARY = {
    "add": knp.add, "sub": knp.subtract, "mul": knp.multiply, "truediv": knp.divide,
    "pow": knp.power, "matmul": knp.matmul,
}


def install(cls) -> None:
    """Sets the arithmetic, comparison and indexing operators of ``cls``."""
    for name, fn in _BINARY.items():
        setattr(cls, f"__{name}__", lambda self, other, fn=fn: fn(self, other))
        setattr(cls, f"__r{name}__", _swap(fn))
    cls.__neg__ = lambda self: knp.negative(self)
    cls.__pos__ = lambda self: self
    cls.__abs__ = lambda self: knp.abs(self)
    cls.__lt__ = lambda self, other: knp.less(self, other)
    cls.__le__ = lambda self, other: knp.less_equal(self, other)
    cls.__gt__ = lambda self, other: knp.greater(self, other)
    cls.__ge__ = lambda self, other: knp.greater_equal(self, other)
    cls.__getitem__ = lambda self, key: knp.getitem(self, key)
    cls.T = property(lambda self: knp.transpose(self))
    if hasattr(cls, "_operator_ops"):
        # TensorFlow's tensors compare elementwise (hashing stays by identity)
        cls.__eq__ = lambda self, other: knp.equal(self, other)
        cls.__ne__ = lambda self, other: knp.not_equal(self, other)
        cls._operator_ops = {np.add: knp.add, np.subtract: knp.subtract,
                             np.multiply: knp.multiply, np.true_divide: knp.divide,
                             np.power: knp.power, np.matmul: knp.matmul}
