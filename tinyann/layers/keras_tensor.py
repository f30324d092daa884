"""Symbolic tensors for building models: ``Input(shape=(784,))`` and layer calls on them.

A ``KerasTensor`` knows its shape (batch axis ``None``), and the ``Node`` that made
it: the layer and the tensors that went in. ``Model(inputs, outputs)`` walks these
nodes back from the outputs to find its layers in order.
"""

from __future__ import annotations

from tinyann import backend


def _merging_operators(class_name, symbol):
    """``x <symbol> y`` and its reflected form ``y <symbol> x`` (Python's ``__radd__``
    ...) as the merging layer ``class_name`` on the two tensors, in their order."""

    def operator(self, other):
        return _merge(class_name, self, other, symbol)

    def reflected(self, other):
        return _merge(class_name, other, self, symbol)

    return operator, reflected


class KerasTensor:
    """A placeholder with a shape such as ``(None, 784)``; holds no data."""

    def __init__(self, shape, dtype=None, name=None, node=None):
        self.shape = tuple(None if d is None else int(d) for d in shape)
        self.dtype = dtype or backend.floatx()
        self.name = name if name is not None else backend.unique_name("keras_tensor")
        self.node = node

    @property
    def ndim(self):
        return len(self.shape)

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    # `x + y` between layer outputs (a subclassed model's `call`, a functional graph)
    # is the matching merging layer, as in Keras
    __add__, __radd__ = _merging_operators("Add", "+")
    __sub__, __rsub__ = _merging_operators("Subtract", "-")
    __mul__, __rmul__ = _merging_operators("Multiply", "*")

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            "A symbolic KerasTensor has no values: call the model or layer on a NumPy "
            f"array instead. Received the tensor {self.name!r} with shape {self.shape}"
        )


def _merge(class_name, a, b, symbol):
    from tinyann.layers import _registry  # the merge layers, without importing them

    if not (isinstance(a, KerasTensor) and isinstance(b, KerasTensor)):
        other = b if isinstance(a, KerasTensor) else a
        raise TypeError(
            f"tinyann supports `{symbol}` between two symbolic tensors (layer outputs) "
            f"only. Received a {type(other).__name__}: {other!r}"
        )
    return _registry.builtin_class(class_name)()([a, b])


class Node:
    """One call of ``layer`` on symbolic ``inputs``, giving ``outputs``.

    ``training``: the ``training=`` argument given in the call, if any. ``True`` or
    ``False`` fixes that layer's mode wherever the model runs (Keras's
    ``base_model(x, training=False)``: inference mode, even in ``fit``); ``None``
    follows the mode of the model's call.

    ``tensor_kwargs``: ``{argument: (count, as_list)}`` when the last ``count`` of
    ``inputs`` were given as a keyword argument holding tensors (a recurrent layer's
    ``initial_state=[h, c]``, as a list, or ``initial_state=h``); the layer's ``call``
    receives all ``inputs`` as one list.
    """

    def __init__(self, layer, inputs, outputs, training=None, tensor_kwargs=None):
        self.layer = layer
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self.training = training
        self.tensor_kwargs = dict(tensor_kwargs or {})
        for t in self.outputs:
            t.node = self

    @property
    def call_kwargs(self) -> dict:
        """The keyword arguments of the call, as a config's ``inbound_nodes`` has them."""
        return {} if self.training is None else {"training": self.training}

    @property
    def parents(self):
        return [t.node for t in self.inputs if t.node is not None]


def flatten(structure) -> list:
    """Tensors in a nested list / tuple / dict, in order."""
    if isinstance(structure, (list, tuple)):
        return [t for item in structure for t in flatten(item)]
    if isinstance(structure, dict):  # in sorted key order, as Keras flattens dicts
        return [t for key in sorted(structure) for t in flatten(structure[key])]
    return [structure]


def is_symbolic(structure) -> bool:
    return any(isinstance(t, KerasTensor) for t in flatten(structure))
