"""DepthwiseConv2D and DepthwiseConv1D: each input channel convolved with its own
``depth_multiplier`` filters, no sum across channels (MobileNet's and Xception's
spatial step).

The math is the ``depthwise_conv2d_forward`` / ``_backward`` ops (the textbook form in
tinyann/kernels/reference/depthwise.py, a tap-by-tap NumPy one in kernels/fast/)::

    z[..., ch*m + k] = sum_ij x_pad[.., y*s + i*d, x*s + j*d, ch] kernel[i, j, ch, k] + bias
    y = activation(z)

The 1-D layer runs the same ops on a ``(batch, 1, steps, channels)`` view with a
``(1, k, channels, m)`` view of its kernel (as Conv1D runs Conv2D's).
"""

from __future__ import annotations

import numpy as np

from tinyann import activations, constraints, kernels
from tinyann.layers._kernel_layer import (
    activate,
    check_supported,
    deactivate,
    is_positive_int,
    set_weight_options,
    weight_options_config,
)
from tinyann.layers.layer import Layer
from tinyann.layers.pooling_1d import (
    check_sequence_input,
    from_channels_last,
    normalize_data_format,
    to_channels_last,
)
from tinyann.utils import conv_utils


def check_window_arguments(kernel_size, strides) -> None:
    """Keras's errors for a zero in ``kernel_size`` or ``strides``."""
    if not all(kernel_size):
        raise ValueError("The argument `kernel_size` cannot contain 0. Received "
                         f"kernel_size={kernel_size}.")
    if not all(strides):
        raise ValueError(f"The argument `strides` cannot contains 0. Received strides={strides}")


def check_depth_multiplier(depth_multiplier) -> int:
    if not is_positive_int(depth_multiplier):
        raise ValueError(
            "Invalid value for argument `depth_multiplier`. Expected a strictly positive "
            f"value. Received depth_multiplier={depth_multiplier}.")
    return int(depth_multiplier)


class SpatialLayer(Layer):
    """What the depthwise and separable layers share: the window arguments of rank 1 or
    2, the activation (run in place, or into a new array when its derivative needs
    the pre-activation) and the 1-D layers' view as 2-D images."""

    rank = 2

    def _set_window_arguments(self, kernel_size, strides, padding, dilation_rate,
                              data_format, activation, use_bias):
        rank = self.rank
        self.kernel_size = conv_utils.normalize_tuple(kernel_size, rank, "kernel_size",
                                                      allow_zero=True)
        self.strides = conv_utils.normalize_tuple(strides, rank, "strides", allow_zero=True)
        check_window_arguments(self.kernel_size, self.strides)
        self.dilation_rate = conv_utils.normalize_tuple(dilation_rate, rank, "dilation_rate")
        self.padding = conv_utils.normalize_padding(padding)
        self.data_format = (normalize_data_format(data_format) if rank == 1 else
                            conv_utils.normalize_data_format(data_format))
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self._ctx = self._y = self._z = None  # what backward needs, from training
        self._shape = None  # 1-D: the channels_last input's shape

    # ---------------------------------------------------------------- shapes
    def _check_rank(self, shape):
        if self.rank == 1:
            check_sequence_input(self, shape, min_ndim=True)
        else:
            conv_utils.check_image_input(self, shape)

    def _depthwise(self):
        """The built depthwise kernel, ``(*kernel_size, channels, depth_multiplier)``."""
        raise NotImplementedError

    def _check_input(self, shape):
        """The input's rank, and its channels against the depthwise kernel's."""
        self._check_rank(shape)
        channels = self._depthwise().shape[-2]
        axis = self._channel_axis
        if shape[axis] is not None and shape[axis] != channels:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                f"axis {axis} of input shape to have value {channels}, but received input "
                f"with shape {tuple(shape)}")
        self.compute_output_shape(shape)

    @property
    def _channel_axis(self):
        return 1 if self.data_format == "channels_first" else -1

    def _channels(self, input_shape):
        self._check_rank(input_shape)
        return conv_utils.channels_of(input_shape, self._channel_axis)

    def _spatial_output(self, input_shape, out_channels, kernel_shape):
        """The output shape for ``out_channels`` channels, with Keras's error when a
        spatial size would be zero or negative."""
        self._check_rank(input_shape)
        first = self.data_format == "channels_first"
        sizes = input_shape[2:] if first else input_shape[1:-1]
        out = tuple(conv_utils.output_length(n, k, self.padding, s, d) for n, k, s, d in
                    zip(sizes, self.kernel_size, self.strides, self.dilation_rate))
        if any(o is not None and o <= 0 for o in out):
            raise ValueError(
                "Computed output size would be zero or negative. Received "
                f"`inputs shape={tuple(input_shape)}`, `kernel shape={kernel_shape}`, "
                f"`dilation_rate={conv_utils._np_repr(self.dilation_rate)}`, "
                f"`strides={tuple(self.strides)}`, `padding={self.padding}`.")
        # the activation runs on the channels_last result (glu halves the channels)
        last = self.activation.output_shape((input_shape[0],) + out + (out_channels,))
        return (last[0], last[-1]) + last[1:-1] if first else last

    # ---------------------------------------------------------------- 1-D as 2-D
    def _to_images(self, inputs):
        """The input as channels_last images: 1-D ``(batch, 1, steps, channels)``."""
        if self.rank == 2:
            return inputs
        x = to_channels_last(inputs, self.data_format)
        return x.reshape(x.shape[0], 1, x.shape[1], x.shape[2])

    def _from_images(self, y):
        if self.rank == 2:
            return y
        return from_channels_last(y.reshape(y.shape[0], y.shape[2], y.shape[3]),
                                  self.data_format)

    def _grad_to_images(self, grad_output):
        """dL/dy as a channels_last image array the backward pass may overwrite."""
        if self.rank == 2:
            return grad_output
        g = np.array(to_channels_last(grad_output, self.data_format), dtype=self._y.dtype)
        return g.reshape(g.shape[0], 1, g.shape[1], g.shape[2])

    def _window(self, values):
        """A 1-D window argument as the 2-D ops' pair."""
        return values if self.rank == 2 else (1,) + tuple(values)

    @staticmethod
    def _image_kernel(array, rank):
        """A rank-1 kernel ``(k, ...)`` viewed as the 2-D ops' ``(1, k, ...)``."""
        return array if rank == 2 else array.reshape((1,) + array.shape)

    # ---------------------------------------------------------------- activation
    def _activate(self, z, training):
        y = activate(self, z, training)
        if training:
            self._y = y
        return y

    def _deactivate(self, g):
        """dL/dz from dL/dy (overwriting ``g``, which is ours)."""
        return deactivate(self, g)

    def _finish_input_grad(self, dx):
        if dx is None or self.rank == 2:
            return dx
        return from_channels_last(dx.reshape(dx.shape[0], dx.shape[2], dx.shape[3]),
                                  self.data_format)

    def _write_grad(self, variable, image_grad):
        """Copies a kernel gradient computed on a 2-D view back when the view copied."""
        if not np.shares_memory(image_grad, variable.grad):
            variable.grad[...] = image_grad.reshape(variable.grad.shape)

    def compute_output_shape(self, input_shape):
        raise NotImplementedError

    def _window_config(self):
        return {"kernel_size": self.kernel_size, "strides": self.strides,
                "padding": self.padding, "data_format": self.data_format,
                "dilation_rate": self.dilation_rate,
                "activation": self.activation.name, "use_bias": self.use_bias}


class _DepthwiseConv(SpatialLayer):
    """Base of DepthwiseConv1D and DepthwiseConv2D (Keras's BaseDepthwiseConv)."""

    def __init__(self, kernel_size, strides, padding, depth_multiplier, data_format,
                 dilation_rate, activation, use_bias, depthwise_initializer,
                 bias_initializer, depthwise_regularizer, bias_regularizer,
                 activity_regularizer, depthwise_constraint, bias_constraint, **kwargs):
        check_supported(activity_regularizer, None, None, None)
        super().__init__(**kwargs)
        self.depth_multiplier = check_depth_multiplier(depth_multiplier)
        self._set_window_arguments(kernel_size, strides, padding, dilation_rate, data_format,
                                   activation, use_bias)
        set_weight_options(self, {"depthwise": depthwise_initializer,
                                  "bias": bias_initializer},
                           {"depthwise": depthwise_regularizer, "bias": bias_regularizer})
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.kernel = None
        self._kernel_state = {"name": self.name}

    def build(self, input_shape):
        channels = self._channels(input_shape)
        self.compute_output_shape(input_shape)  # fails early on too small inputs
        self.kernel = self.add_weight(self.kernel_size + (channels, self.depth_multiplier),
                                      self.depthwise_initializer, name="kernel",
                                      regularizer=self.depthwise_regularizer,
                                      constraint=self.depthwise_constraint)
        if self.use_bias:
            self.bias = self.add_weight((channels * self.depth_multiplier,),
                                        self.bias_initializer, name="bias",
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        self.built = True

    def _depthwise(self):
        return self.kernel

    def compute_output_shape(self, input_shape):
        channels = self._channels(input_shape)
        return self._spatial_output(input_shape, channels * self.depth_multiplier,
                                    self.kernel_size + (channels, self.depth_multiplier))

    def call(self, inputs, training=False):
        z, ctx = kernels.depthwise_conv2d_forward(
            self._to_images(inputs), self._image_kernel(self.kernel.value, self.rank),
            self.bias.value if self.use_bias else None, self._window(self.strides),
            self.padding, self._window(self.dilation_rate), self._kernel_state, training)
        y = self._activate(z, training)
        if training:
            self._ctx = ctx
        return self._from_images(y)

    def backward(self, grad_output):
        dz = self._deactivate(self._grad_to_images(grad_output))
        dkernel = self._image_kernel(self.kernel.grad, self.rank)
        dx = kernels.depthwise_conv2d_backward(
            dz, self._ctx, self._image_kernel(self.kernel.value, self.rank), dkernel,
            self.bias.grad if self.use_bias else None, self._needs_input_grad)
        self._write_grad(self.kernel, dkernel)
        return self._finish_input_grad(dx)

    def get_config(self):
        config = super().get_config()
        config["depth_multiplier"] = self.depth_multiplier
        config.update(self._window_config())
        config.update(weight_options_config(self, ("depthwise", "bias")))
        config.update(activity_regularizer=None,
                      depthwise_constraint=constraints.serialize(self.depthwise_constraint),
                      bias_constraint=constraints.serialize(self.bias_constraint))
        return config


class DepthwiseConv2D(_DepthwiseConv):
    """2-D depthwise convolution, channels_last.

    Args:
        kernel_size: int or ``(kh, kw)``. strides, dilation_rate: int or pair.
        padding: ``'valid'`` or ``'same'``.
        depth_multiplier: filters per input channel (output channels ``channels * m``).
        activation, use_bias: as Conv2D.
        depthwise_initializer, bias_initializer, depthwise_regularizer,
        bias_regularizer, depthwise_constraint, bias_constraint: of the two weights.

    Input ``(batch, rows, cols, channels)``; output ``(batch, new_rows, new_cols,
    channels * depth_multiplier)``. Weights: ``kernel`` (kh, kw, channels,
    depth_multiplier) and ``bias`` (channels * depth_multiplier,).

    Example:
        >>> DepthwiseConv2D(3, padding="same")(np.zeros((2, 8, 8, 4))).shape
        (2, 8, 8, 4)
    """

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, depth_multiplier, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint,
                         **kwargs)


class DepthwiseConv1D(_DepthwiseConv):
    """1-D depthwise convolution over ``(batch, steps, channels)`` (channels_first:
    ``(batch, channels, steps)``).

    Arguments as DepthwiseConv2D, ints for the window. Output ``(batch, new_steps,
    channels * depth_multiplier)``; ``kernel`` (k, channels, depth_multiplier).

    Example:
        >>> DepthwiseConv1D(3, depth_multiplier=2)(np.zeros((2, 10, 4))).shape
        (2, 8, 8)
    """

    rank = 1

    def __init__(self, kernel_size, strides=1, padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(kernel_size, strides, padding, depth_multiplier, data_format,
                         dilation_rate, activation, use_bias, depthwise_initializer,
                         bias_initializer, depthwise_regularizer, bias_regularizer,
                         activity_regularizer, depthwise_constraint, bias_constraint,
                         **kwargs)
