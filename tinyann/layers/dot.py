"""Dot: the merging layer that takes the dot product of two tensors along an axis of
each, sample by sample (Keras's ``batch_dot``), optionally of L2-normalized inputs
(then the cosine similarity)."""

from __future__ import annotations

import string

import numpy as np

from tinyann.layers.layer import Layer


def _l2_normalize(x, axis, epsilon=1e-7):
    """``x / max(||x||, epsilon)`` along ``axis`` and the norm used (Keras's normalize)."""
    norm = np.maximum(np.sqrt(np.sum(x * x, axis=axis, keepdims=True)), epsilon)
    return x / norm, norm


def _l2_normalize_backward(y, norm, grad, axis, epsilon=1e-7):
    """dL/dx of ``y = x / ||x||``: ``(g - y sum(g y)) / ||x||`` (``g / epsilon``
    where the norm was clipped to epsilon, a constant there)."""
    clipped = norm <= epsilon
    dx = (grad - y * np.sum(grad * y, axis=axis, keepdims=True)) / norm
    return np.where(clipped, grad / norm, dx)


class Dot(Layer):
    """``output[b, ...] = sum_k x1[b, ..., k, ...] * x2[b, ..., k, ...]`` along
    ``axes`` (one for both inputs, or one per input; the batch axis 0 is never summed).

    Args:
        axes: an int, or a list / tuple of two ints (negative counts from the end).
        normalize: L2-normalize both inputs along their axis first (cosine similarity).

    Input: a list of two tensors, ``(batch, ...)``. Output: the first input's other
    axes, then the second's (without its batch axis); ``(batch, 1)`` when nothing is
    left but the batch.

    Example:
        >>> Dot(axes=1)([np.ones((2, 3)), np.ones((2, 3))]).shape
        (2, 1)
    """

    def __init__(self, axes, normalize=False, **kwargs):
        if not isinstance(axes, int):
            if not isinstance(axes, (list, tuple)):
                raise TypeError("Invalid type for argument `axes`: it should be a list or "
                                f"an int. Received: axes={axes}")
            if len(axes) != 2:
                raise ValueError("Invalid format for argument `axes`: it should contain "
                                 f"two elements. Received: axes={axes}")
            if not all(isinstance(a, int) for a in axes):
                raise ValueError("Invalid format for argument `axes`: list elements should "
                                 f"be integers. Received: axes={axes}")
        super().__init__(**kwargs)
        # (a tuple, so a config read back from JSON's list is the same)
        self.axes = axes if isinstance(axes, int) else tuple(axes)
        self.normalize = bool(normalize)
        self._cache = None

    def _pair(self, shapes):
        """The summed axis of each input, non-negative."""
        axes = [self.axes] * 2 if isinstance(self.axes, int) else list(self.axes)
        return [a % len(s) if a < 0 else a for a, s in zip(axes, shapes)]

    def _check(self, input_shape):
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2 or not all(
                isinstance(s, (list, tuple)) for s in input_shape):
            raise ValueError("A `Dot` layer should be called on a list of 2 inputs. "
                             f"Received: input_shape={input_shape}")
        shape1, shape2 = (tuple(s) for s in input_shape)
        a1, a2 = self._pair([shape1, shape2])
        if a1 == 0 or a2 == 0 or a1 >= len(shape1) or a2 >= len(shape2):
            raise ValueError(f"Invalid axes {self.axes} for input shapes {shape1}, {shape2}: "
                             "each must be a non-batch axis of its input")
        if shape1[a1] is not None and shape2[a2] is not None and shape1[a1] != shape2[a2]:
            raise ValueError(f"Incompatible input shapes: axis values {shape1[a1]} (at axis "
                             f"{a1}) != {shape2[a2]} (at axis {a2}). Full input shapes: "
                             f"{shape1}, {shape2}")
        return shape1, shape2, a1, a2

    def build(self, input_shape):
        self._check(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        shape1, shape2, a1, a2 = self._check(input_shape)
        out = [d for i, d in enumerate(shape1) if i != a1] + [
            d for i, d in enumerate(shape2) if i not in (0, a2)]
        return tuple(out + [1] if len(out) == 1 else out)

    def compute_mask(self, inputs, mask=None):
        return None

    def _equation(self, nd1, nd2, a1, a2):
        letters = iter(string.ascii_letters[2:])
        s1 = ["a"] + [next(letters) for _ in range(nd1 - 1)]
        s1[a1] = "b"
        s2 = ["a"] + [next(letters) for _ in range(nd2 - 1)]
        s2[a2] = "b"
        out = [c for c in s1 if c != "b"] + [c for c in s2[1:] if c != "b"]
        return "".join(s1), "".join(s2), "".join(out)

    def call(self, inputs, training=False):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError("A `Dot` layer should be called on exactly 2 inputs. "
                             f"Received: inputs={inputs!r}")
        x1, x2 = inputs
        _, _, a1, a2 = self._check([x1.shape, x2.shape])
        n1 = n2 = None
        if self.normalize:
            x1, n1 = _l2_normalize(x1, a1)
            x2, n2 = _l2_normalize(x2, a2)
        s1, s2, so = self._equation(x1.ndim, x2.ndim, a1, a2)
        out = np.einsum(f"{s1},{s2}->{so}", x1, x2)
        if training:
            self._cache = (x1, x2, n1, n2, a1, a2, (s1, s2, so))
        return out[:, None] if out.ndim == 1 else out

    def backward(self, grad_output):
        x1, x2, n1, n2, a1, a2, (s1, s2, so) = self._cache
        g = grad_output.reshape(grad_output.shape[0]) if len(so) == 1 else grad_output
        # out = einsum(x1, x2): each input's gradient is the einsum of g with the other
        d1 = np.einsum(f"{so},{s2}->{s1}", g, x2)
        d2 = np.einsum(f"{so},{s1}->{s2}", g, x1)
        if self.normalize:
            d1 = _l2_normalize_backward(x1, n1, d1, a1)
            d2 = _l2_normalize_backward(x2, n2, d2, a2)
        return [d1, d2] if self._needs_input_grad else [None, None]

    def get_config(self):
        config = super().get_config()
        config.update(axes=self.axes, normalize=self.normalize)
        return config


def dot(inputs, axes=-1, **kwargs):
    """``Dot(axes=axes, **kwargs)(inputs)``, Keras's functional form."""
    return Dot(axes=axes, **kwargs)(inputs)
