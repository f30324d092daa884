"""InputLayer and ``Input(shape)``: where a model's symbolic graph starts."""

from __future__ import annotations

from tinyann.layers.keras_tensor import KerasTensor, Node
from tinyann.layers.layer import Layer


class InputLayer(Layer):
    """Holds a model's input shape; passes data through unchanged.

    Args:
        shape: input shape without the batch axis, e.g. ``(784,)``.
        batch_size: optional fixed batch size.
    """

    _grads_written = True   # (see Layer)

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None,
                 input_tensor=None, optional=False, name=None, input_shape=None,
                 batch_input_shape=None, **kwargs):
        shape = shape if shape is not None else input_shape
        if batch_input_shape is not None and batch_shape is None:
            batch_shape = batch_input_shape
        if batch_shape is not None:
            batch_shape = tuple(batch_shape)
            batch_size, shape = batch_shape[0], batch_shape[1:]
        if shape is None:
            raise ValueError("You must pass a `shape` argument to InputLayer / Input.")
        if isinstance(shape, int):
            shape = (shape,)
        try:
            shape = tuple(None if d is None else int(d) for d in shape)
        except (TypeError, ValueError):
            raise ValueError(
                f"Argument `shape` must be a tuple of integers. Received: shape={shape!r}"
            ) from None
        if any(d is not None and d <= 0 for d in shape):
            raise ValueError(
                f"Argument `shape` must be positive integers. Received: shape={shape}"
            )
        super().__init__(name=name, dtype=dtype, **kwargs)
        self.batch_shape = (batch_size,) + shape
        self.built = True
        # an unnamed Input's tensor is 'keras_tensor', 'keras_tensor_1'... as in Keras
        self._tensor = KerasTensor(self.batch_shape, dtype=self.dtype, name=name)
        self._inbound_nodes.append(Node(self, [], [self._tensor]))

    @property
    def output(self):
        return self._tensor

    def call(self, inputs, training=False):
        return inputs

    def backward(self, grad_output):
        return grad_output

    def compute_output_shape(self, input_shape):
        return self.batch_shape

    def get_config(self):
        return {"batch_shape": list(self.batch_shape), "dtype": self.dtype,
                "sparse": False, "ragged": False, "name": self.name, "optional": False}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.pop("ragged", False):
            raise NotImplementedError("Ragged inputs are not supported by tinyann")
        return super().from_config(config)


def Input(shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None, name=None,
          tensor=None, optional=False):
    """A symbolic input tensor: ``Input(shape=(784,))`` has shape ``(None, 784)``."""
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, batch_shape=batch_shape,
                       name=name)
    return layer.output
