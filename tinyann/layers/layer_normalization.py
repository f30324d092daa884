"""LayerNormalization: each sample normalized over its own feature axes."""

from __future__ import annotations

import warnings

import numpy as np

from tinyann.layers._kernel_layer import set_weight_options, weight_options_config
from tinyann.layers.layer import Layer


class LayerNormalization(Layer):
    """Normalizes each sample over ``axis`` to zero mean and unit variance, then
    scales by ``gamma`` and shifts by ``beta`` (Ba et al., 2016)::

        y = (x - mean) / sqrt(variance + epsilon) * gamma + beta

    with the mean and (biased) variance over ``axis``, per sample: no batch
    statistics, the same in training and inference.

    Args:
        axis: int or list of ints, the normalized axes (-1: the features).
        epsilon: added to the variance (1e-3).
        center, scale: whether to learn ``beta`` / ``gamma``.
        beta_initializer, gamma_initializer, beta_regularizer, gamma_regularizer.
        rms_scaling: Keras's deprecated option, kept as Keras 3 computes it:
            ``x / sqrt(variance + epsilon) * gamma`` (``x`` not centred, no ``beta``).

    Input and output shape: the same. Weights ``gamma``, ``beta``: the sizes of the
    normalized axes, e.g. ``(features,)``.

    Example:
        >>> LayerNormalization()(np.ones((2, 5, 16))).shape
        (2, 5, 16)
    """

    supports_masking = True

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):
        rms_scaling = kwargs.pop("rms_scaling", False)
        if rms_scaling:
            warnings.warn(
                "You passed `rms_scaling=True`, which is deprecated. This argument "
                "incorrectly scales the input by the variance, not the root mean square. "
                "To correctly use RMS Normalization, please use "
                "`keras.layers.RMSNormalization` instead.", stacklevel=2)
        if beta_constraint is not None or gamma_constraint is not None:
            raise NotImplementedError(
                "constraints of LayerNormalization are not supported by tinyann yet")
        super().__init__(**kwargs)
        if isinstance(axis, (list, tuple)):
            self.axis = [int(a) for a in axis]
        elif isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
            self.axis = int(axis)
        else:
            raise TypeError("Expected an int or a list/tuple of ints for the argument "
                            f"'axis', but received: {axis!r}")
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.rms_scaling = bool(rms_scaling)
        set_weight_options(self, {"beta": beta_initializer, "gamma": gamma_initializer},
                           {"beta": beta_regularizer, "gamma": gamma_regularizer})
        self._cache = None

    def _axes(self, ndim):
        axes = self.axis if isinstance(self.axis, list) else [self.axis]
        for a in axes:
            if not -ndim <= a < ndim:
                raise ValueError(f"Axis {a} is out of bounds for input shape with rank "
                                 f"{ndim}. Received: axis={self.axis}")
        return sorted(a % ndim for a in axes)

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        axes = self._axes(len(input_shape))
        # as Keras: the axes become a sorted list once built (the config shows it)
        self.axis = sorted(self.axis) if isinstance(self.axis, list) else [self.axis]
        shape = tuple(input_shape[a] for a in axes)
        if None in shape:
            raise ValueError(
                f"The normalized axes {self.axis} of the input to layer '{self.name}' must "
                f"have a defined size. Received input shape {input_shape}")
        if self.scale or self.rms_scaling:
            self.gamma = self.add_weight(shape, self.gamma_initializer, name="gamma",
                                         regularizer=self.gamma_regularizer)
        if self.center and not self.rms_scaling:
            self.beta = self.add_weight(shape, self.beta_initializer, name="beta",
                                        regularizer=self.beta_regularizer)
        self._rank = len(input_shape)
        self._shape = shape
        self.built = True

    def _check_input(self, shape):
        shape = tuple(shape)
        axes = self._axes(len(shape))
        if len(shape) != self._rank or any(
                shape[a] is not None and shape[a] != s for a, s in zip(axes, self._shape)):
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: it was "
                f"built for axes {self.axis} of sizes {self._shape}, but received input "
                f"with shape {shape}")

    def compute_output_shape(self, input_shape):
        for a in (self.axis if isinstance(self.axis, list) else [self.axis]):
            if a >= len(input_shape) or a < -len(input_shape):
                raise ValueError(f"Axis {a} is out of bounds for input shape "
                                 f"{tuple(input_shape)}. Received: axis={self.axis}")
        return tuple(input_shape)

    # ------------------------------------------------------------------ forward
    def _param(self, variable, axes, ndim):
        """A weight shaped to broadcast over the input."""
        shape = [1] * ndim
        for a, s in zip(axes, variable.shape):
            shape[a] = s
        return variable.value.reshape(shape)

    def call(self, inputs, training=False):
        x = inputs
        axes = tuple(self._axes(x.ndim))
        dtype = x.dtype.type
        mean = np.mean(x, axis=axes, keepdims=True, dtype=x.dtype)
        centered = x - mean
        var = np.mean(np.square(centered), axis=axes, keepdims=True, dtype=x.dtype)
        inv = 1.0 / np.sqrt(var + dtype(self.epsilon))
        # rms_scaling: Keras scales x itself (not centred) by the same inverse deviation
        xhat = x * inv if self.rms_scaling else centered * inv
        out = xhat * self._param(self.gamma, axes, x.ndim) if self.gamma is not None \
            else xhat.copy()
        if self.beta is not None:
            out += self._param(self.beta, axes, x.ndim)
        if training:
            self._cache = (xhat, inv, centered if self.rms_scaling else None, axes)
        return out

    # ------------------------------------------------------------------ backward
    def backward(self, grad_output):
        xhat, inv, centered, axes = self._cache
        ndim = xhat.ndim
        dy = grad_output.reshape(xhat.shape)
        others = tuple(a for a in range(ndim) if a not in axes)
        if self.beta is not None:
            self.beta.grad[...] = np.sum(dy, axis=others).reshape(self.beta.shape)
        if self.gamma is not None:
            self.gamma.grad[...] = np.sum(dy * xhat, axis=others).reshape(self.gamma.shape)
        if not self._needs_input_grad:
            return None
        u = dy * self._param(self.gamma, axes, ndim) if self.gamma is not None else dy
        count = int(np.prod([xhat.shape[a] for a in axes]))
        if self.rms_scaling:
            # y = x * inv(x): dx = inv * u - inv**3 * (x - mean) / N * sum(u * x)
            x = xhat / inv
            dot = np.sum(u * x, axis=axes, keepdims=True)
            return inv * u - inv ** 3 * centered * (dot / count)
        # dx = inv * (u - mean(u) - xhat * mean(u * xhat)) over the normalized axes
        mean_u = np.sum(u, axis=axes, keepdims=True) / count
        mean_ux = np.sum(u * xhat, axis=axes, keepdims=True) / count
        return inv * (u - mean_u - xhat * mean_ux)

    # ------------------------------------------------------------------ config
    def get_config(self):
        config = super().get_config()
        config.update(
            axis=self.axis, epsilon=self.epsilon, center=self.center, scale=self.scale,
            rms_scaling=self.rms_scaling)
        config.update(weight_options_config(self, ("beta", "gamma")))
        config.update(beta_constraint=None, gamma_constraint=None)
        return config
