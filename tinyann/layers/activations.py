"""Activation layers with arguments of their own: Softmax, ReLU, LeakyReLU, ELU, PReLU."""

from __future__ import annotations

import warnings

import numpy as np

from tinyann import activations
from tinyann.layers._kernel_layer import set_weight_options, weight_options_config
from tinyann.layers.layer import Layer


class Softmax(Layer):
    """``exp(x) / sum(exp(x))`` along ``axis``. Shape unchanged.

    Args:
        axis: integer or tuple of integers, the axes the softmax normalizes over.

    Example:
        >>> Softmax()(np.zeros((1, 4))).tolist()
        [[0.25, 0.25, 0.25, 0.25]]
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self.axis = tuple(axis) if isinstance(axis, (list, tuple)) else int(axis)
        self._y = None

    def call(self, inputs, training=False):
        # the max is subtracted first so exp never overflows
        z = inputs - inputs.max(axis=self.axis, keepdims=True)
        np.exp(z, out=z)
        z /= z.sum(axis=self.axis, keepdims=True)
        if training:
            self._y = z
        return z

    def backward(self, grad_output):
        y = self._y
        # dL/dx = y * (g - sum(g * y)) over the softmax axes
        return y * (grad_output - np.sum(grad_output * y, axis=self.axis, keepdims=True))

    def get_config(self):
        config = super().get_config()
        config["axis"] = list(self.axis) if isinstance(self.axis, tuple) else self.axis
        return config


class ReLU(Layer):
    """The rectified linear unit with Keras's options:
    ``min(x, max_value)`` where ``x > threshold``, else ``negative_slope * (x - threshold)``.

    Args:
        max_value: non-negative float, the largest output (None: no limit).
        negative_slope: non-negative float, the slope below the threshold.
        threshold: non-negative float, where the unit switches on.
    """

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and max_value < 0.0:
            raise ValueError("max_value of a ReLU layer cannot be a negative value. "
                             f"Received: max_value={max_value}")
        if negative_slope is None or negative_slope < 0.0:
            raise ValueError("negative_slope of a ReLU layer cannot be None or a negative value. "
                             f"Received: negative_slope={negative_slope}")
        if threshold is None or threshold < 0.0:
            raise ValueError("threshold of a ReLU layer cannot be None or a negative value. "
                             f"Received: threshold={threshold}")
        self.max_value = max_value
        self.negative_slope = negative_slope
        self.threshold = threshold
        self._slope = None

    def call(self, inputs, training=False):
        dtype = inputs.dtype.type
        above = inputs > self.threshold
        y = np.where(above, inputs, dtype(self.negative_slope) * (inputs - dtype(self.threshold)))
        if self.max_value is not None:
            capped = above & (inputs >= self.max_value)
            y[capped] = self.max_value
        if training:
            # dy/dx: 1 on the linear part, 0 at the cap, the slope below the threshold
            slope = np.where(above, dtype(1), dtype(self.negative_slope))
            if self.max_value is not None:
                slope[capped] = 0
            self._slope = slope.astype(inputs.dtype, copy=False)
        return y.astype(inputs.dtype, copy=False)

    def backward(self, grad_output):
        return grad_output * self._slope

    def get_config(self):
        config = super().get_config()
        config.update(max_value=self.max_value, negative_slope=self.negative_slope,
                      threshold=self.threshold)
        return config


class LeakyReLU(Layer):
    """``x`` for ``x >= 0``, ``negative_slope * x`` otherwise. Shape unchanged.

    Args:
        negative_slope: non-negative float (default 0.3). ``alpha=`` is accepted
            too, with Keras 3's deprecation warning.
    """

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn("Argument `alpha` is deprecated. Use `negative_slope` instead.",
                          stacklevel=2)
        super().__init__(**kwargs)
        if negative_slope is None or negative_slope < 0:
            raise ValueError(
                "The negative_slope value of a Leaky ReLU layer cannot be None or negative "
                f"value. Expected a float. Received: negative_slope={negative_slope}")
        self.negative_slope = negative_slope
        self._x = None

    def call(self, inputs, training=False):
        if training:
            self._x = inputs
        return np.where(inputs >= 0, inputs, inputs * inputs.dtype.type(self.negative_slope))

    def backward(self, grad_output):
        return np.where(self._x >= 0, grad_output,
                        grad_output * grad_output.dtype.type(self.negative_slope))

    def get_config(self):
        config = super().get_config()
        config["negative_slope"] = self.negative_slope
        return config


class ELU(Layer):
    """The exponential linear unit: ``x`` for ``x > 0``, ``alpha * (exp(x) - 1)`` else.
    Shape unchanged; the derivative from the output (``y + alpha`` below zero).

    Args:
        alpha: float >= 0, the negative part's scale (tinyann refuses a negative one,
            whose output would not tell the slope).
    """

    _grads_written = True   # (see Layer)
    supports_masking = True

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        self.alpha = alpha
        self._activation = activations.elu.bind(alpha=alpha)
        self._y = None

    def call(self, inputs, training=False):
        y = self._activation.forward(inputs, np.empty_like(inputs))
        if training:
            self._y = y
        return y

    def backward(self, grad_output):
        return self._activation.backward(self._y, grad_output, np.empty_like(grad_output))

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha
        return config


class PReLU(Layer):
    """The parametric ReLU: ``x`` for ``x >= 0``, ``alpha * x`` else, with ``alpha``
    learned, one per input position (``alpha`` has the input's shape less the batch
    axis) or shared along ``shared_axes``::

        dL/dx = g (1 where x > 0, else alpha);  dL/dalpha = sum of g min(x, 0)
        over the batch and the shared axes

    Args:
        alpha_initializer: initializer of ``alpha`` (``'Zeros'``: a ReLU to start).
        alpha_regularizer: optional penalty on ``alpha``.
        shared_axes: axes (1 is the first after the batch) sharing one ``alpha``:
            ``[1, 2]`` for a Conv2D's output gives one per channel.

    Example:
        >>> PReLU(shared_axes=[1, 2])(np.ones((2, 5, 5, 3))).shape
        (2, 5, 5, 3)
    """

    _grads_written = True   # (see Layer)
    supports_masking = True

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None,
                 alpha_constraint=None, shared_axes=None, **kwargs):
        if alpha_constraint is not None:
            raise NotImplementedError("alpha_constraint of PReLU is not supported by tinyann yet")
        super().__init__(**kwargs)
        set_weight_options(self, {"alpha": alpha_initializer}, {"alpha": alpha_regularizer})
        if shared_axes is None:
            self.shared_axes = None
        elif isinstance(shared_axes, (list, tuple)):
            self.shared_axes = [int(a) for a in shared_axes]
        else:
            self.shared_axes = [int(shared_axes)]
        self._x = None

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        shape = list(input_shape[1:])
        for axis in self.shared_axes or ():
            if not 1 <= axis < len(input_shape):
                raise ValueError(f"shared_axes of PReLU must be axes of the input after the "
                                 f"batch axis, in [1, {len(input_shape) - 1}]. Received: "
                                 f"shared_axes={self.shared_axes} for input shape {input_shape}")
            shape[axis - 1] = 1
        if None in shape:
            raise ValueError(f"PReLU needs the size of every input axis it does not share. "
                             f"Received input shape {input_shape} with "
                             f"shared_axes={self.shared_axes}")
        self.alpha = self.add_weight(tuple(shape), self.alpha_initializer, name="alpha",
                                     regularizer=self.alpha_regularizer)
        self._rank = len(input_shape)
        self.built = True

    def _check_input(self, shape):
        shape = tuple(shape)
        wrong = len(shape) != self._rank or any(
            size is not None and a != 1 and size != a
            for size, a in zip(shape[1:], self.alpha.shape))
        if wrong:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: its alpha "
                f"{self.alpha.shape} fits inputs of rank {self._rank} with those sizes on "
                f"the axes not shared, but received input with shape {shape}")

    def call(self, inputs, training=False):
        if training:
            self._x = inputs
        alpha = self.alpha.value
        return np.where(inputs > 0, inputs, inputs * alpha).astype(inputs.dtype, copy=False)

    def backward(self, grad_output):
        x = self._x
        alpha = self.alpha.value
        # dL/dalpha = sum of g min(x, 0) over the batch axis and the shared axes
        summed = tuple(i for i in range(x.ndim) if i == 0 or self.alpha.shape[i - 1] == 1)
        d_alpha = np.sum(grad_output * np.minimum(x, 0), axis=summed, keepdims=True)
        self.alpha.grad[...] = d_alpha.reshape(self.alpha.shape)
        if not self._needs_input_grad:
            return None
        # dL/dx = g where x > 0, g alpha else
        return np.where(x > 0, grad_output, grad_output * alpha)

    def get_config(self):
        config = super().get_config()
        config.update(weight_options_config(self, ("alpha",)))
        config.update(alpha_constraint=None, shared_axes=self.shared_axes)
        return config
