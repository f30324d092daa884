"""BatchNormalization with Keras's training and inference statistics."""

from __future__ import annotations

import numpy as np

from tinyann import initializers, regularizers
from tinyann.layers.layer import Layer


class BatchNormalization(Layer):
    """Normalizes each feature of ``axis`` to zero mean and unit variance, then scales
    by ``gamma`` and shifts by ``beta``.

    In training (``fit``, or ``training=True`` on a trainable layer) the statistics are
    the batch's mean and (biased) variance over every other axis, and the moving ones
    follow them: ``moving = moving * momentum + batch * (1 - momentum)``. Otherwise the
    moving statistics are used. ``moving_mean`` and ``moving_variance`` are
    non-trainable weights. A layer called with ``training=False`` in a model (or
    with ``trainable=False``) uses the moving statistics in ``fit`` too, as constants:
    ``gamma`` and ``beta`` still train.

    Args:
        axis: the feature axis (``-1``: channels of channels_last images, or units).
        momentum: of the moving statistics (0.99).
        epsilon: added to the variance (1e-3).
        center, scale: whether to learn ``beta`` / ``gamma``.
        *_initializer, *_regularizer: for ``beta``, ``gamma`` and the moving statistics.

    Input and output shape: the same, any rank. Weights, in Keras's order: ``gamma``,
    ``beta``, ``moving_mean``, ``moving_variance``, each ``(features,)``.

    Example:
        >>> BatchNormalization()(np.ones((4, 8, 8, 16))).shape
        (4, 8, 8, 16)
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, renorm=False, renorm_clipping=None,
                 renorm_momentum=0.99, synchronized=False, **kwargs):
        if renorm or beta_constraint is not None or gamma_constraint is not None:
            raise NotImplementedError(
                "renorm and constraints of BatchNormalization are not supported by tinyann yet"
            )
        if synchronized:
            raise ValueError(
                "Argument synchronized=True is only supported with the TensorFlow backend."
            )
        if isinstance(axis, (list, tuple)):
            raise NotImplementedError(
                f"tinyann's BatchNormalization takes a single integer axis. Received: axis={axis}"
            )
        super().__init__(**kwargs)
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        if not self.epsilon > 0:
            raise ValueError(
                f"Argument `epsilon` must be a positive number. Received: epsilon={epsilon}"
            )
        self.center = bool(center)
        self.scale = bool(scale)
        self.synchronized = False
        self.renorm = False
        self.renorm_clipping = renorm_clipping
        self.renorm_momentum = renorm_momentum
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.gamma = self.beta = self.moving_mean = self.moving_variance = None
        self._xhat = self._inv_std = self._batch_stats = None

    def _check_axis(self, input_shape):
        rank = len(input_shape)
        if not -rank <= self.axis < rank:
            raise ValueError(
                f"Axis {self.axis} is out of bounds for input shape {tuple(input_shape)}. "
                f"Received: axis={self.axis}"
            )
        return self.axis % rank

    def build(self, input_shape):
        axis = self._check_axis(input_shape)
        features = input_shape[axis]
        if features is None:
            raise ValueError(
                f"Axis {self.axis} of the input to layer '{self.name}' should have a defined "
                f"dimension, but the layer received an input with shape {tuple(input_shape)}."
            )
        shape = (features,)
        if self.scale:
            self.gamma = self.add_weight(shape, self.gamma_initializer, name="gamma",
                                         regularizer=self.gamma_regularizer)
        if self.center:
            self.beta = self.add_weight(shape, self.beta_initializer, name="beta",
                                        regularizer=self.beta_regularizer)
        self.moving_mean = self.add_weight(shape, self.moving_mean_initializer,
                                           name="moving_mean", trainable=False)
        self.moving_variance = self.add_weight(shape, self.moving_variance_initializer,
                                               name="moving_variance", trainable=False)
        self._rank = len(input_shape)
        self.built = True

    def _check_input(self, shape):
        shape = tuple(shape)
        if len(shape) != self._rank:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                f"ndim={self._rank}, found ndim={len(shape)}. Full shape received: {shape}"
            )
        features = self.moving_mean.shape[0]
        if shape[self.axis] is not None and shape[self.axis] != features:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected axis "
                f"{self.axis} of input shape to have value {features}, but received input "
                f"with shape {shape}"
            )

    def compute_output_shape(self, input_shape):
        self._check_axis(input_shape)
        return tuple(input_shape)

    # ------------------------------------------------------------------ forward
    def _as_rows(self, x):
        """``x`` as ``(samples, features)`` when the feature axis is last, else None."""
        if self.axis % x.ndim == x.ndim - 1:
            return x.reshape(-1, x.shape[-1])
        return None

    def _param_shape(self, ndim):
        shape = [1] * ndim
        shape[self.axis] = -1
        return tuple(shape)

    def call(self, inputs, training=False):
        x = inputs
        if training and self.trainable:
            pshape = self._param_shape(x.ndim)
            axes = tuple(a for a in range(x.ndim) if a != self.axis % x.ndim)
            dtype = x.dtype.type
            mean = np.mean(x, axis=axes, dtype=x.dtype)
            centered = x - mean.reshape(pshape)
            var = np.mean(np.square(centered), axis=axes, dtype=x.dtype)
            momentum = dtype(self.momentum)
            # Keras: moving = moving * momentum + batch * (1 - momentum), in place
            for moving, batch in ((self.moving_mean, mean), (self.moving_variance, var)):
                moving.value *= momentum
                moving.value += batch * (dtype(1) - momentum)
            inv_std = 1.0 / np.sqrt(var + dtype(self.epsilon))
            xhat = np.multiply(centered, inv_std.reshape(pshape), out=centered)
            self._xhat, self._inv_std, self._batch_stats = xhat, inv_std, True
            out = xhat * self.gamma.value.reshape(pshape) if self.scale else xhat.copy()
            if self.center:
                out += self.beta.value.reshape(pshape)
            return out
        return self._moving_normalize(x, record=training)

    def _frozen_call(self, inputs):
        """Inference mode in a training step (the layer was called with
        ``training=False`` in the model): the moving statistics, recorded for backward."""
        return self._moving_normalize(inputs, record=True)

    def _moving_normalize(self, x, record):
        """``gamma * (x - moving_mean) / sqrt(moving_variance + epsilon) + beta``."""
        pshape = self._param_shape(x.ndim)
        dtype = x.dtype.type
        inv_std = 1.0 / np.sqrt(self.moving_variance.value + dtype(self.epsilon))
        scale = inv_std * self.gamma.value if self.scale else inv_std
        shift = -self.moving_mean.value * scale
        if self.center:
            shift = shift + self.beta.value
        if record:
            # fixed statistics in a training step, but backward needs the normalized
            # input for gamma's gradient
            self._xhat = (x - self.moving_mean.value.reshape(pshape)) * inv_std.reshape(pshape)
            self._inv_std, self._batch_stats = inv_std, False
        return x * scale.reshape(pshape) + shift.reshape(pshape)

    # ------------------------------------------------------------------ backward
    def backward(self, grad_output):
        xhat, inv_std = self._xhat, self._inv_std
        pshape = self._param_shape(xhat.ndim)
        axes = tuple(a for a in range(xhat.ndim) if a != self.axis % xhat.ndim)
        dy = grad_output.reshape(xhat.shape)
        # dL/dbeta = sum(dy), dL/dgamma = sum(dy * xhat)
        dbeta = np.sum(dy, axis=axes)
        dgamma = np.sum(dy * xhat, axis=axes)
        if self.center:
            self.beta.grad[...] = dbeta
        if self.scale:
            self.gamma.grad[...] = dgamma
        if not self._needs_input_grad:
            return None
        gain = inv_std * self.gamma.value if self.scale else inv_std
        if not self._batch_stats:
            return dy * gain.reshape(pshape)
        # batch statistics depend on x too:
        # dx = gamma * inv_std * (dy - mean(dy) - xhat * mean(dy * xhat))
        count = dy.size // dbeta.size
        dx = xhat * (dgamma / count).reshape(pshape)
        np.subtract(dy, dx, out=dx)
        dx -= (dbeta / count).reshape(pshape)
        dx *= gain.reshape(pshape)
        return dx

    # ------------------------------------------------------------------ config
    def get_config(self):
        config = super().get_config()
        config.update(
            axis=self.axis,
            momentum=self.momentum,
            epsilon=self.epsilon,
            center=self.center,
            scale=self.scale,
            beta_initializer=initializers.serialize(self.beta_initializer),
            gamma_initializer=initializers.serialize(self.gamma_initializer),
            moving_mean_initializer=initializers.serialize(self.moving_mean_initializer),
            moving_variance_initializer=initializers.serialize(
                self.moving_variance_initializer),
            beta_regularizer=regularizers.serialize(self.beta_regularizer),
            gamma_regularizer=regularizers.serialize(self.gamma_regularizer),
            beta_constraint=None,
            gamma_constraint=None,
            synchronized=self.synchronized,
            renorm=self.renorm,
            renorm_clipping=self.renorm_clipping,
            renorm_momentum=self.renorm_momentum,
        )
        return config
