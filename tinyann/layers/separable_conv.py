"""SeparableConv2D and SeparableConv1D: a depthwise convolution, then a 1 x 1 convolution
that mixes the channels (Xception's building block: far fewer weights and products
than a full convolution of the same window).

The math: the depthwise ops (tinyann/layers/depthwise_conv.py), then one matrix
product over the pixels::

    u = depthwise(x, depthwise_kernel)               (n, oh, ow, c*m)
    z = u @ P + bias;  y = activation(z)             P = pointwise_kernel as (c*m, filters)
    dP = u^T dz;  dbias = sum(dz);  du = dz P^T;  dx = depthwise backward of du
"""

from __future__ import annotations

from tinyann import constraints, kernels
from tinyann.layers._kernel_layer import (
    check_supported,
    set_weight_options,
    weight_options_config,
)
from tinyann.layers.depthwise_conv import SpatialLayer, check_depth_multiplier
from tinyann.utils import conv_utils


class _SeparableConv(SpatialLayer):
    """Base of SeparableConv1D and SeparableConv2D (Keras's BaseSeparableConv)."""

    def __init__(self, filters, kernel_size, strides, padding, data_format, dilation_rate,
                 depth_multiplier, activation, use_bias, depthwise_initializer,
                 pointwise_initializer, bias_initializer, depthwise_regularizer,
                 pointwise_regularizer, bias_regularizer, activity_regularizer,
                 depthwise_constraint, pointwise_constraint, bias_constraint, **kwargs):
        check_supported(activity_regularizer, None, None, None)
        super().__init__(**kwargs)
        self.depth_multiplier = check_depth_multiplier(depth_multiplier)
        conv_utils.check_filters_and_groups(filters)
        self.filters = int(filters)
        self._set_window_arguments(kernel_size, strides, padding, dilation_rate, data_format,
                                   activation, use_bias)
        set_weight_options(
            self, {"depthwise": depthwise_initializer, "pointwise": pointwise_initializer,
                   "bias": bias_initializer},
            {"depthwise": depthwise_regularizer, "pointwise": pointwise_regularizer,
             "bias": bias_regularizer})
        self.depthwise_kernel = self.pointwise_kernel = None
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self._kernel_state = {"name": self.name}
        self._u = None  # the depthwise output, for dL/dpointwise

    def build(self, input_shape):
        channels = self._channels(input_shape)
        self.compute_output_shape(input_shape)  # fails early on too small inputs
        m = self.depth_multiplier
        self.depthwise_kernel = self.add_weight(
            self.kernel_size + (channels, m), self.depthwise_initializer,
            name="depthwise_kernel", regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint)
        self.pointwise_kernel = self.add_weight(
            (1,) * self.rank + (channels * m, self.filters), self.pointwise_initializer,
            name="pointwise_kernel", regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint)
        if self.use_bias:
            self.bias = self.add_weight((self.filters,), self.bias_initializer, name="bias",
                                        regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        self.built = True

    def _depthwise(self):
        return self.depthwise_kernel

    def compute_output_shape(self, input_shape):
        channels = self._channels(input_shape)
        return self._spatial_output(input_shape, self.filters,
                                    self.kernel_size + (channels, self.depth_multiplier))

    def call(self, inputs, training=False):
        u, ctx = kernels.depthwise_conv2d_forward(
            self._to_images(inputs), self._image_kernel(self.depthwise_kernel.value, self.rank),
            None, self._window(self.strides), self.padding, self._window(self.dilation_rate),
            self._kernel_state, training)
        pointwise = self.pointwise_kernel.value.reshape(-1, self.filters)
        z = kernels.pointwise_forward(u.reshape(-1, pointwise.shape[0]), pointwise,
                                      self.bias.value if self.use_bias else None)
        y = self._activate(z.reshape(u.shape[:3] + (self.filters,)), training)
        if training:
            self._ctx, self._u = ctx, u
        return self._from_images(y)

    def backward(self, grad_output):
        dz = self._deactivate(self._grad_to_images(grad_output)).reshape(-1, self.filters)
        u = self._u.reshape(dz.shape[0], -1)
        # dL/dP = u^T dz, dL/dbias = sum(dz), and dL/du = dz P^T (needed even without
        # dL/dx: the depthwise kernel's gradient reads it)
        dpointwise = self.pointwise_kernel.grad.reshape(u.shape[1], self.filters)
        du = kernels.pointwise_backward(dz, u, self.pointwise_kernel.value.reshape(
            u.shape[1], self.filters), dpointwise, self.bias.grad if self.use_bias else None)
        self._write_grad(self.pointwise_kernel, dpointwise)
        dkernel = self._image_kernel(self.depthwise_kernel.grad, self.rank)
        dx = kernels.depthwise_conv2d_backward(
            du.reshape(self._u.shape), self._ctx,
            self._image_kernel(self.depthwise_kernel.value, self.rank), dkernel, None,
            self._needs_input_grad)
        self._write_grad(self.depthwise_kernel, dkernel)
        return self._finish_input_grad(dx)

    def get_config(self):
        config = super().get_config()
        config.update(depth_multiplier=self.depth_multiplier, filters=self.filters)
        config.update(self._window_config())
        config.update(weight_options_config(self, ("depthwise", "pointwise", "bias")))
        config.update(
            activity_regularizer=None,
            depthwise_constraint=constraints.serialize(self.depthwise_constraint),
            pointwise_constraint=constraints.serialize(self.pointwise_constraint),
            bias_constraint=constraints.serialize(self.bias_constraint))
        return config


class SeparableConv2D(_SeparableConv):
    """2-D depthwise separable convolution, channels_last.

    Args:
        filters: output channels of the pointwise (1 x 1) step.
        kernel_size: int or ``(kh, kw)``. strides, dilation_rate: int or pair.
        padding: ``'valid'`` or ``'same'``.
        depth_multiplier: depthwise filters per input channel.
        activation, use_bias: as Conv2D (the bias follows the pointwise step).
        depthwise_*, pointwise_*, bias_* initializers, regularizers, constraints.

    Input ``(batch, rows, cols, channels)``; output ``(batch, new_rows, new_cols,
    filters)``. Weights: ``depthwise_kernel`` (kh, kw, channels, depth_multiplier),
    ``pointwise_kernel`` (1, 1, channels * depth_multiplier, filters), ``bias``
    (filters,).

    Example:
        >>> SeparableConv2D(16, 3, padding="same")(np.zeros((2, 8, 8, 4))).shape
        (2, 8, 8, 16)
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 data_format=None, dilation_rate=(1, 1), depth_multiplier=1,
                 activation=None, use_bias=True, depthwise_initializer="glorot_uniform",
                 pointwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, pointwise_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, depthwise_constraint=None,
                 pointwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         depth_multiplier, activation, use_bias, depthwise_initializer,
                         pointwise_initializer, bias_initializer, depthwise_regularizer,
                         pointwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, pointwise_constraint, bias_constraint,
                         **kwargs)


class SeparableConv1D(_SeparableConv):
    """1-D depthwise separable convolution over ``(batch, steps, channels)``
    (channels_first: ``(batch, channels, steps)``).

    Arguments as SeparableConv2D, ints for the window. Output ``(batch, new_steps,
    filters)``; ``depthwise_kernel`` (k, channels, depth_multiplier),
    ``pointwise_kernel`` (1, channels * depth_multiplier, filters).

    Example:
        >>> SeparableConv1D(8, 3)(np.zeros((2, 10, 4))).shape
        (2, 8, 8)
    """

    rank = 1

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         depth_multiplier, activation, use_bias, depthwise_initializer,
                         pointwise_initializer, bias_initializer, depthwise_regularizer,
                         pointwise_regularizer, bias_regularizer, activity_regularizer,
                         depthwise_constraint, pointwise_constraint, bias_constraint,
                         **kwargs)
