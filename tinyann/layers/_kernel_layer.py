"""What Dense and Conv2D share: ``y = activation(inputs * kernel + bias)``, with
Keras's arguments for the activation, the kernel and the bias, and the ones
tinyann does not support yet."""

from __future__ import annotations

import numpy as np

from tinyann import activations, constraints, initializers, regularizers
from tinyann.layers.layer import Layer


def is_positive_int(value) -> bool:
    """Whether ``value`` is an int (not a bool) above zero, as ``units``/``filters`` must be."""
    return not isinstance(value, bool) and isinstance(value, (int, np.integer)) and value > 0


def check_supported(activity_regularizer, kernel_constraint, bias_constraint, lora_rank):
    """Raises NotImplementedError for the Keras arguments tinyann has no code for."""
    if activity_regularizer is not None or lora_rank is not None:
        raise NotImplementedError(
            "activity_regularizer and lora_rank are not supported by tinyann yet"
        )


def set_weight_options(layer, initializers_by_weight, regularizers_by_weight):
    """Sets ``<weight>_initializer`` and ``<weight>_regularizer`` from Keras's arguments
    (names or objects; the initializers first, as the layers' errors come), and each
    weight, not made yet, to None."""
    for weight, initializer in initializers_by_weight.items():
        setattr(layer, f"{weight}_initializer", initializers.get(initializer))
    for weight, regularizer in regularizers_by_weight.items():
        setattr(layer, f"{weight}_regularizer", regularizers.get(regularizer))
    for weight in initializers_by_weight:
        setattr(layer, weight, None)


def weight_options_config(layer, weights):
    """The config entries of ``set_weight_options``: the initializers, then the
    regularizers of ``weights``, in that order (Keras's)."""
    config = {f"{weight}_initializer": initializers.serialize(
        getattr(layer, f"{weight}_initializer")) for weight in weights}
    config.update((f"{weight}_regularizer", regularizers.serialize(
        getattr(layer, f"{weight}_regularizer"))) for weight in weights)
    return config


class KernelLayer(Layer):
    """Base of the layers with an activation, a ``kernel`` and an optional ``bias``."""

    # the layer's own config entries, before the activation's, kernel's and bias's
    _config_keys: tuple[str, ...] = ()
    # Keras's Conv config lists activity_regularizer (always None here); its Dense does not
    _config_activity_regularizer = False

    def _set_kernel_options(self, activation, use_bias, kernel_initializer,
                            bias_initializer, kernel_regularizer, bias_regularizer,
                            kernel_constraint=None, bias_constraint=None):
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        set_weight_options(self, {"kernel": kernel_initializer, "bias": bias_initializer},
                           {"kernel": kernel_regularizer, "bias": bias_regularizer})

    def _add_kernel_and_bias(self, kernel_shape, order="C"):
        """Makes ``kernel`` (``kernel_shape``) and, with ``use_bias``, ``bias`` (its last
        axis); marks the layer built."""
        self.kernel = self.add_weight(kernel_shape, self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer, order=order,
                                      constraint=self.kernel_constraint)
        if self.use_bias:
            self.bias = self.add_weight((kernel_shape[-1],), self.bias_initializer,
                                        name="bias", regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        self.built = True

    def get_config(self):
        """The layer's config: its ``_config_keys``, then the activation, kernel and bias
        entries, in Keras's order."""
        config = super().get_config()
        config.update((key, getattr(self, key)) for key in self._config_keys)
        config.update(activation=self.activation.name, use_bias=self.use_bias)
        config.update(weight_options_config(self, ("kernel", "bias")))
        if self._config_activity_regularizer:
            config["activity_regularizer"] = None
        config.update(kernel_constraint=constraints.serialize(self.kernel_constraint),
                      bias_constraint=constraints.serialize(self.bias_constraint))
        return config


def activate(layer, z, training):
    """``y = layer.activation(z)``, in z's memory, unless the activation's derivative
    needs z (gelu, silu...): y then goes to a new array and, in training, z is kept as
    ``layer._z`` for ``deactivate``."""
    activation = layer.activation
    if activation.needs_input:
        y = activation.forward(z, activation.new_output(z))
        if training:
            layer._z = z
        return y
    return activation.forward(z, z)


def deactivate(layer, g):
    """dL/dz from dL/dy ``g`` (the caller's to overwrite) through ``layer.activation``,
    with the ``layer._y`` (and ``layer._z``) the forward pass kept."""
    activation = layer.activation
    if activation.needs_input:
        return activation.backward(layer._y, g, activation.grad_buffer(g, layer._z),
                                   x=layer._z)
    return activation.backward(layer._y, g, g)
