"""UnitNormalization (each sample scaled to unit L2 norm) and GroupNormalization
(Wu & He, 2018: channels normalized in groups, per sample), Keras 3's layers."""

from __future__ import annotations

import numpy as np

from tinyann.layers._kernel_layer import set_weight_options, weight_options_config
from tinyann.layers.dot import _l2_normalize, _l2_normalize_backward
from tinyann.layers.layer import Layer


def _check_axes(axis, ndim, received):
    for a in axis if isinstance(axis, list) else [axis]:
        if a >= ndim or a < -ndim:
            raise ValueError(f"Axis {axis} is out of bounds for input shape {received}.")


class UnitNormalization(Layer):
    """``x / max(||x||_2, 1e-12)`` along ``axis`` for each sample.

    Args:
        axis: int or list of ints, the axes of the norm (-1: the features).

    Input and output shape: the same.
    """

    supports_masking = True

    def __init__(self, axis=-1, **kwargs):
        if isinstance(axis, (list, tuple)):
            axis = [int(a) for a in axis]
        elif not isinstance(axis, int) or isinstance(axis, bool):
            raise TypeError("Invalid value for `axis` argument: expected an int or a "
                            f"list/tuple of ints. Received: axis={axis}")
        super().__init__(**kwargs)
        self.axis = axis
        self._cache = None

    def _axes(self, ndim):
        return tuple(self.axis) if isinstance(self.axis, list) else self.axis

    def compute_output_shape(self, input_shape):
        _check_axes(self.axis, len(input_shape), tuple(input_shape))
        return tuple(input_shape)

    def call(self, inputs, training=False):
        _check_axes(self.axis, inputs.ndim, inputs.shape)
        y, norm = _l2_normalize(inputs, self._axes(inputs.ndim), 1e-12)
        if training:
            self._cache = (y, norm)
        return y

    def backward(self, grad_output):
        y, norm = self._cache
        return _l2_normalize_backward(y, norm, grad_output, self._axes(y.ndim), 1e-12)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


class GroupNormalization(Layer):
    """Splits the channels (``axis``) into ``groups`` and normalizes each group of each
    sample over its channels and all other non-batch axes::

        y = (x - mean_group) / sqrt(var_group + epsilon) * gamma + beta

    Args:
        groups: the number of groups (divides the channels; -1: one per channel).
        axis: the channel axis.
        epsilon, center, scale, beta_initializer, gamma_initializer, beta_regularizer,
        gamma_regularizer: as LayerNormalization's.

    Input and output shape: the same. Weights ``gamma``, ``beta``: ``(channels,)``.
    """

    supports_masking = True

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):
        if isinstance(groups, bool) or not isinstance(groups, int) or (
                groups <= 0 and groups != -1):
            raise ValueError("Received an invalid value for argument `groups`, expected a "
                             "positive integer (or `-1` for instance normalization). "
                             f"Received: groups={groups}")
        if beta_constraint is not None or gamma_constraint is not None:
            raise NotImplementedError(
                "constraints of GroupNormalization are not supported by tinyann yet")
        super().__init__(**kwargs)
        self.groups, self.axis, self.epsilon = groups, int(axis), float(epsilon)
        self.center, self.scale = bool(center), bool(scale)
        set_weight_options(self, {"beta": beta_initializer, "gamma": gamma_initializer},
                           {"beta": beta_regularizer, "gamma": gamma_regularizer})
        self._cache = None

    def build(self, input_shape):
        dim = input_shape[self.axis]
        if dim is None:
            raise ValueError(f"Axis {self.axis} of input tensor should have a defined "
                             f"dimension but the layer received an input with shape "
                             f"{tuple(input_shape)}.")
        if self.groups == -1:
            self.groups = dim
        if dim < self.groups:
            raise ValueError(f"Number of groups ({self.groups}) cannot be more than the "
                             f"number of channels ({dim}).")
        if dim % self.groups != 0:
            raise ValueError(f"Number of groups ({self.groups}) must be a multiple of the "
                             f"number of channels ({dim}).")
        if self.scale:
            self.gamma = self.add_weight((dim,), self.gamma_initializer, name="gamma",
                                         regularizer=self.gamma_regularizer)
        if self.center:
            self.beta = self.add_weight((dim,), self.beta_initializer, name="beta",
                                        regularizer=self.beta_regularizer)
        self._channels = dim
        self.built = True

    def _check_input(self, shape):
        if shape[self.axis] is not None and shape[self.axis] != self._channels:
            raise ValueError(f"Input 0 of layer '{self.name}' is incompatible with the "
                             f"layer: expected axis {self.axis} of input shape to have value "
                             f"{self._channels}, but received input with shape {tuple(shape)}")

    def compute_output_shape(self, input_shape):
        _check_axes(self.axis, len(input_shape), tuple(input_shape))
        return tuple(input_shape)

    def _grouped(self, x):
        """``x`` with its channels last, split: ``(batch, ..., groups, channels/groups)``."""
        moved = np.moveaxis(x, self.axis, -1)
        return moved.reshape(moved.shape[:-1] + (self.groups, -1))

    def call(self, inputs, training=False):
        g = self._grouped(inputs)
        axes = tuple(range(1, g.ndim - 2)) + (g.ndim - 1,)   # all but batch and group
        mean = np.mean(g, axis=axes, keepdims=True)
        centered = g - mean
        inv = 1.0 / np.sqrt(np.mean(centered * centered, axis=axes, keepdims=True)
                            + inputs.dtype.type(self.epsilon))
        xhat = (centered * inv).reshape(g.shape[:-2] + (-1,))   # channels last
        out = xhat * self.gamma.value if self.gamma is not None else xhat.copy()
        if self.beta is not None:
            out += self.beta.value
        if training:
            self._cache = (xhat, inv, axes, g.shape)
        return np.moveaxis(out, -1, self.axis)

    def backward(self, grad_output):
        xhat, inv, axes, grouped = self._cache
        dy = np.moveaxis(grad_output, self.axis, -1)
        others = tuple(range(dy.ndim - 1))
        if self.beta is not None:
            self.beta.grad[...] = np.sum(dy, axis=others)
        if self.gamma is not None:
            self.gamma.grad[...] = np.sum(dy * xhat, axis=others)
        if not self._needs_input_grad:
            return None
        u = (dy * self.gamma.value if self.gamma is not None else dy).reshape(grouped)
        xh = xhat.reshape(grouped)
        # dx = inv * (u - mean(u) - xhat * mean(u * xhat)) over each group
        dx = inv * (u - np.mean(u, axis=axes, keepdims=True)
                    - xh * np.mean(u * xh, axis=axes, keepdims=True))
        return np.moveaxis(dx.reshape(dy.shape), -1, self.axis)

    def get_config(self):
        config = super().get_config()
        config.update(groups=self.groups, axis=self.axis, epsilon=self.epsilon,
                      center=self.center, scale=self.scale)
        options = weight_options_config(self, ("beta", "gamma"))
        config.update((k, options[k]) for k in ("beta_initializer", "gamma_initializer",
                                                "beta_regularizer", "gamma_regularizer"))
        config.update(beta_constraint=None, gamma_constraint=None)
        return config
