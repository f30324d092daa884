"""Conv2D: 2-D cross-correlation over channels_last images.

The layer holds Keras's surface (arguments, weights, config, errors); the math is
the ``conv2d_forward`` / ``conv2d_backward`` ops (im2col, one matrix product,
col2im: see tinyann/kernels/reference/conv.py for the textbook form and
tinyann/kernels/fast/conv.py for the buffered one)::

    z = im2col(x) @ kernel + bias;  y = activation(z)
    dL/dkernel = im2col(x)^T dz;  dL/dbias = sum(dz);  dL/dx = col2im(dz kernel^T)
"""

from __future__ import annotations

from tinyann import kernels
from tinyann.layers._kernel_layer import KernelLayer, check_supported, deactivate
from tinyann.utils import conv_utils


class _Conv(KernelLayer):
    """Base of Conv1D and Conv2D, as Keras's BaseConv: the checks of their arguments,
    the kernel options, the config entries and the ops' state; each layer sets the
    arguments of its own rank (``_set_conv_arguments``) and keeps Keras's signature."""

    _config_keys = ("filters", "kernel_size", "strides", "padding", "data_format",
                    "dilation_rate", "groups")
    _config_activity_regularizer = True

    def __init__(self, filters, kernel_size, strides, padding, data_format, dilation_rate,
                 groups, activation, use_bias, kernel_initializer, bias_initializer,
                 kernel_regularizer, bias_regularizer, activity_regularizer,
                 kernel_constraint, bias_constraint, lora_rank, **kwargs):
        conv_utils.check_filters_and_groups(filters, groups)
        check_supported(activity_regularizer, kernel_constraint, bias_constraint, lora_rank)
        super().__init__(**kwargs)
        self._set_conv_arguments(filters, kernel_size, strides, padding, dilation_rate,
                                 data_format)
        conv_utils.check_strides_and_dilation(self.strides, self.dilation_rate)
        self.groups = 1
        self._set_kernel_options(activation, use_bias, kernel_initializer, bias_initializer,
                                 kernel_regularizer, bias_regularizer,
                                 kernel_constraint, bias_constraint)
        # what backward needs, from the last training call (z: for gelu, silu...)
        self._ctx = self._y = self._z = None
        self._kernel_state = {"name": self.name}  # the ops' buffers for this layer

    def _set_conv_arguments(self, filters, kernel_size, strides, padding, dilation_rate,
                            data_format):
        """The 2-D ones (Conv1D has its own: 'causal' padding, channels_first)."""
        conv_utils.set_conv_arguments(self, filters, kernel_size, strides, padding,
                                      dilation_rate, data_format)


class Conv2D(_Conv):
    """2-D convolution layer (cross-correlation, as Keras), channels_last.

    Args:
        filters: number of output channels.
        kernel_size: int or ``(kh, kw)``.
        strides: int or pair; ``> 1`` cannot be combined with ``dilation_rate > 1``.
        padding: ``'valid'`` (no padding) or ``'same'`` (output size ``ceil(n / stride)``).
        dilation_rate: int or pair, spacing between kernel taps.
        activation: name or object; None means linear.
        use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer: as Dense.

    Input shape: ``(batch, rows, cols, channels)``. Output shape:
    ``(batch, new_rows, new_cols, filters)``. Weights: ``kernel`` of shape
    ``(kh, kw, channels, filters)`` and ``bias`` of shape ``(filters,)``.

    Example:
        >>> conv = Conv2D(32, 3, activation="relu", padding="same")
        >>> conv(np.zeros((2, 28, 28, 1))).shape
        (2, 28, 28, 32)
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None, lora_alpha=None,
                 **kwargs):
        super().__init__(filters, kernel_size, strides, padding, data_format, dilation_rate,
                         groups, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, activity_regularizer,
                         kernel_constraint, bias_constraint, lora_rank, **kwargs)

    def build(self, input_shape):
        conv_utils.check_image_input(self, input_shape)
        channels = conv_utils.channels_of(input_shape)
        self.compute_output_shape(input_shape)  # fails early on too small inputs
        self._add_kernel_and_bias(self.kernel_size + (channels, self.filters))

    def _check_input(self, shape):
        conv_utils.check_image_input(self, shape, self.kernel.shape[2])
        self.compute_output_shape(shape)

    def compute_output_shape(self, input_shape):
        conv_utils.check_image_input(self, input_shape)
        return self.activation.output_shape(conv_utils.conv_output_shape(
            input_shape, self.filters, self.kernel_size, self.strides, self.padding,
            self.dilation_rate))

    # ``op_kind`` (with the activation's name) keys the fusion table, tinyann.kernels.FUSIONS
    op_kind = "conv2d"

    @property
    def fusion_kind(self):
        return f"{self.op_kind}+{self.activation.name}"

    def call(self, inputs, training=False):
        z = self.call_preactivation(inputs, training)
        if self.activation.needs_input:
            # gelu, silu...: the derivative needs z, so y goes to a new array
            y = self.activation.forward(z, self.activation.new_output(z))
            if training:
                self._z, self._y = z, y
            return y
        return self.activation.forward(z, z)

    def call_preactivation(self, inputs, training=False):
        """``z = conv(x) + bias``, without the activation (a fusion runs it later);
        in training, recorded for ``backward_preactivation``."""
        z, ctx = kernels.conv2d_forward(inputs, self.kernel.value,
                                    self.bias.value if self.use_bias else None,
                                    self.strides, self.padding, self.dilation_rate,
                                    self._kernel_state, training)
        if training:
            self._ctx, self._y = ctx, z  # z becomes y when the activation runs in place
        return z

    def call_pooled(self, inputs, pool, training=False):
        """``max_pool(conv(x) + bias)`` for the MaxPooling2D layer ``pool`` that follows,
        without the activation (the graph's fusion runs ReLU on the pooled output);
        in training, recorded for ``backward_pooled``."""
        y, ctx = kernels.conv2d_max_pool_forward(
            inputs, self.kernel.value, self.bias.value if self.use_bias else None,
            self.strides, self.padding, self.dilation_rate, pool.pool_size, pool.strides,
            pool.padding, self._kernel_state, training)
        if training:
            self._ctx, self._y = ctx, None
        return y

    def backward_pooled(self, dy):
        """The backward pass of ``call_pooled`` from dL/d(pooled output)."""
        return kernels.conv2d_max_pool_backward(dy, self._ctx, self.kernel.value,
                                            self.kernel.grad,
                                            self.bias.grad if self.use_bias else None,
                                            self._needs_input_grad)

    def backward(self, grad_output):
        g = grad_output.reshape(self._y.shape)
        # dL/dz from dL/dy through the activation, in place (g is ours to overwrite)
        return self.backward_preactivation(deactivate(self, g))

    def backward_preactivation(self, dz, out_shape=None):
        """The backward pass from dL/dz (z = conv(x) + bias), skipping the activation."""
        return kernels.conv2d_backward(dz, self._ctx, self.kernel.value, self.kernel.grad,
                                   self.bias.grad if self.use_bias else None,
                                   self._needs_input_grad)
