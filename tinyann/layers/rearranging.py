"""RepeatVector, Permute and Identity: the same numbers in another arrangement."""

from __future__ import annotations

import numpy as np

from tinyann.layers.layer import Layer


class RepeatVector(Layer):
    """Repeats each input vector ``n`` times: ``(batch, features)`` ->
    ``(batch, n, features)`` (an encoder's summary fed to each step of a decoder).

    Example:
        >>> RepeatVector(3)(np.ones((2, 5))).shape
        (2, 3, 5)
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool):
            raise TypeError(f"Expected an integer value for `n`, got {type(n)}.")
        if n <= 0:
            raise ValueError(f"Argument `n` should be a positive integer. Received: n={n}")
        self.n = int(n)

    def _check_input(self, shape):
        if len(shape) != 2:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                f"ndim=2, found ndim={len(shape)}. Full shape received: {tuple(shape)}")

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def call(self, inputs, training=False):
        return np.repeat(inputs[:, None, :], self.n, axis=1)

    def backward(self, grad_output):
        # every copy's gradient flows back to the one vector
        return grad_output.sum(axis=1)

    def get_config(self):
        config = super().get_config()
        config["n"] = self.n
        return config


class Permute(Layer):
    """Permutes the axes after the batch axis: ``dims`` numbers them from 1.

    Example:
        >>> Permute((2, 1))(np.ones((4, 10, 64))).shape
        (4, 64, 10)
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        self.dims = tuple(int(d) for d in dims)
        if sorted(self.dims) != list(range(1, len(self.dims) + 1)):
            raise ValueError(
                "Invalid permutation argument `dims` for Permute Layer. The set of indices "
                f"in `dims` must be consecutive and start from 1. Received dims={tuple(dims)}")

    def _check_input(self, shape):
        if len(shape) != len(self.dims) + 1:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                f"ndim={len(self.dims) + 1}, found ndim={len(shape)}. Full shape received: "
                f"{tuple(shape)}")

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def call(self, inputs, training=False):
        # a copy in C order: the next layer's kernels expect contiguous arrays
        return np.ascontiguousarray(np.transpose(inputs, (0,) + self.dims))

    def backward(self, grad_output):
        return np.ascontiguousarray(np.transpose(grad_output, np.argsort((0,) + self.dims)))

    def get_config(self):
        config = super().get_config()
        config["dims"] = self.dims
        return config


class Identity(Layer):
    """Returns its input unchanged (a placeholder, or a named point in a model)."""

    supports_masking = True

    def call(self, inputs, training=False):
        return inputs

    def backward(self, grad_output):
        return grad_output
