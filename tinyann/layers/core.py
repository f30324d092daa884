"""Dense and Activation layers."""

from __future__ import annotations

import numpy as np

from tinyann import activations, kernels
from tinyann.layers._kernel_layer import (
    KernelLayer,
    activate,
    check_supported,
    deactivate,
    is_positive_int,
)
from tinyann.layers.layer import Layer


class Dense(KernelLayer):
    """A densely connected layer: ``output = activation(inputs @ kernel + bias)``.

    Args:
        units: positive integer, the size of the output's last axis.
        activation: name or activation object; None means linear.
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer: initializers (``'glorot_uniform'``, ``'zeros'``).
        kernel_regularizer, bias_regularizer: optional weight penalties.

    Input shape: ``(batch, ..., input_dim)``. Output shape: ``(batch, ..., units)``.

    Example:
        >>> dense = Dense(10, activation="softmax")
        >>> dense(np.zeros((2, 784))).shape
        (2, 10)
    """

    _grads_written = True   # (see Layer)

    _config_keys = ("units",)
    # Keras's: a mask (Embedding(mask_zero=True) -> LSTM(return_sequences)) goes on
    supports_masking = True

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None, **kwargs):
        if not is_positive_int(units):
            raise ValueError(
                "Received an invalid value for `units`, expected a positive integer. "
                f"Received: units={units!r}"
            )
        check_supported(activity_regularizer, kernel_constraint, bias_constraint, lora_rank)
        super().__init__(**kwargs)
        self.units = int(units)
        self._set_kernel_options(activation, use_bias, kernel_initializer, bias_initializer,
                                 kernel_regularizer, bias_regularizer,
                                 kernel_constraint, bias_constraint)
        self._x = self._y = self._z = None

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                f"The last dimension of the inputs to a Dense layer should be defined. "
                f"Found None. Full input shape received: {input_shape}"
            )
        # the memory order the kernels prefer (the fast set: transposed for few units)
        self._add_kernel_and_bias((input_dim, self.units), kernels.dense_kernel_order(self.units))

    def _check_input(self, shape):
        if len(shape) < 2:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                f"min_ndim=2, found ndim={len(shape)}. Full shape received: {tuple(shape)}"
            )
        if shape[-1] is not None and shape[-1] != self.kernel.shape[0]:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                f"axis -1 of input shape to have value {self.kernel.shape[0]}, but received "
                f"input with shape {tuple(shape)}"
            )

    def compute_output_shape(self, input_shape):
        return self.activation.output_shape(tuple(input_shape[:-1]) + (self.units,))

    def call(self, inputs, training=False):
        x = inputs if inputs.ndim == 2 else inputs.reshape(-1, inputs.shape[-1])
        # z = x @ W + b; y = activation(z), in z's memory
        z = kernels.dense_forward(x, self.kernel.value, self.bias.value if self.use_bias else None)
        y = activate(self, z, training)
        if training:
            self._x = x
            self._y = y
        return y if inputs.ndim == 2 else y.reshape(inputs.shape[:-1] + y.shape[-1:])

    def backward(self, grad_output):
        g = grad_output.reshape(self._y.shape)
        # dL/dz from dL/dy through the activation, in place: g is ours to overwrite
        dz = deactivate(self, g)
        return self.backward_preactivation(dz, grad_output.shape)

    def backward_preactivation(self, dz, out_shape=None):
        """The backward pass from dL/dz (z = x @ kernel + bias), skipping the activation.

        Used for softmax + cross-entropy, whose loss gives dL/dz directly.
        """
        if out_shape is None:
            out_shape = dz.shape
        # dW = x^T dz, db = sum(dz), dx = dz W^T
        dx = kernels.dense_backward(dz.reshape(-1, self.units), self._x, self.kernel.value,
                                self.kernel.grad, self.bias.grad if self.use_bias else None,
                                self._needs_input_grad)
        if dx is not None and len(out_shape) > 2:
            dx = dx.reshape(tuple(out_shape[:-1]) + (self._x.shape[-1],))
        return dx


class Activation(Layer):
    """Applies an activation function: ``Activation('relu')``. Shape unchanged."""

    _grads_written = True   # (see Layer)

    supports_masking = True

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activations.get(activation)
        self._x = self._y = None

    def compute_output_shape(self, input_shape):
        return self.activation.output_shape(input_shape)

    def call(self, inputs, training=False):
        y = self.activation.forward(inputs, self.activation.new_output(inputs))
        if training:
            self._y = y
            # gelu, silu...: the derivative needs the input too
            self._x = inputs if self.activation.needs_input else None
        return y

    def backward(self, grad_output):
        if self.activation.needs_input:
            return self.activation.backward(self._y, grad_output, np.empty_like(self._x),
                                            x=self._x)
        return self.activation.backward(self._y, grad_output, np.empty_like(grad_output))

    def backward_preactivation(self, dz, out_shape=None):
        return dz

    def get_config(self):
        config = super().get_config()
        config["activation"] = self.activation.name
        return config
