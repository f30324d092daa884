"""Conv2D: 2-D cross-correlation over channels_last images, as one matrix product.

Forward: ``im2col`` copies every receptive field into a row of a column matrix,
then ``cols @ kernel`` (one GEMM per batch) gives all outputs at once. Backward:
``dL/dkernel = cols^T dz`` (GEMM), ``dL/dbias = sum(dz)``, and the input gradient is
``dz @ kernel^T`` (a GEMM per kernel offset, in one ``matmul`` call) added back onto
the input image offset by offset (``col2im``: strided slices, no ``np.add.at``).
The column matrix and the gradient buffers are kept per input shape and reused
from one batch to the next.
"""

from __future__ import annotations

import math
import threading

import numpy as np
from numpy.lib.stride_tricks import as_strided

from tinyann import activations, initializers, regularizers
from tinyann.layers.layer import Layer
from tinyann.utils import conv_utils


class _ConvWorkspace:
    """The geometry and reusable arrays for one input shape."""

    def __init__(self, shape, layer):
        geo = conv_utils.ConvGeometry(shape, layer.kernel_size, layer.strides, layer.padding,
                                      layer.dilation_rate)
        n, _, _, channels = shape
        kh, kw = layer.kernel_size
        dtype = np.dtype(layer.dtype)
        self.geo = geo
        self.rows = n * geo.out_rows * geo.out_cols
        self.out_shape = (n, geo.out_rows, geo.out_cols, layer.filters)
        # one row per output pixel, one column per kernel tap, and a last column of ones
        # for the bias: cols @ [kernel; bias] adds it in the GEMM, and cols^T @ dz gives
        # its gradient as the last row (an elementwise pass and a reduction saved).
        # Zeros: the few-channel im2col never writes the padded border (see im2col).
        taps = kh * kw * channels
        width = taps + int(layer.use_bias)
        few = channels < conv_utils.FEW_CHANNELS
        # few channels (a first layer's 1 or 3): the columns stored transposed, so
        # that im2col's copy per kernel offset writes whole rows of pixels, not one
        # number in every ``width`` (the GEMMs read either layout as fast)
        self.cols = np.zeros((width, self.rows), dtype).T if few else np.zeros(
            (self.rows, width), dtype)
        self.cols[:, taps:] = 1
        # the columns as (batch, out_row, out_col, kh, kw, channel), in elements
        pixel, tap = self.cols.strides[0] // dtype.itemsize, self.cols.strides[1] // (
            dtype.itemsize)
        self.cols6 = as_strided(
            self.cols, (n, geo.out_rows, geo.out_cols, kh, kw, channels),
            tuple(dtype.itemsize * e for e in (
                geo.out_rows * geo.out_cols * pixel, geo.out_cols * pixel, pixel,
                kw * channels * tap, channels * tap, tap)))
        self.padded = self.padded_view = None
        if geo.padded and channels >= conv_utils.FEW_CHANNELS:
            self.padded = np.zeros(geo.padded_shape(), dtype)
            self.padded_view = conv_utils.window_view(self.padded, geo)
        self.dcols = None  # the columns' gradient, one block per kernel offset
        # many channels: im2col rewrites the columns whole, so once the kernel's gradient
        # is computed their memory can hold dL/dcols (7 MB less to keep in cache for the
        # textbook's second convolution: measured 10-20% faster steps)
        self.dcols_in_cols = channels >= conv_utils.FEW_CHANNELS
        self.clobbered = False  # the columns overwritten by dcols


class Conv2D(Layer):
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
        if isinstance(filters, bool) or not isinstance(filters, (int, np.integer)) or (
                filters <= 0):
            raise ValueError(
                "Invalid value for argument `filters`. Expected a strictly positive value. "
                f"Received filters={filters}."
            )
        if groups != 1:
            raise NotImplementedError(
                f"Grouped convolutions are not supported by tinyann yet. Received: groups={groups}"
            )
        if activity_regularizer is not None or kernel_constraint is not None or (
                bias_constraint is not None or lora_rank is not None):
            raise NotImplementedError(
                "activity_regularizer, constraints and lora_rank are not supported by "
                "tinyann yet"
            )
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = conv_utils.normalize_tuple(kernel_size, 2, "kernel_size")
        self.strides = conv_utils.normalize_tuple(strides, 2, "strides")
        self.dilation_rate = conv_utils.normalize_tuple(dilation_rate, 2, "dilation_rate")
        self.padding = conv_utils.normalize_padding(padding)
        self.data_format = conv_utils.normalize_data_format(data_format)
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                "`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
                f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}"
            )
        self.groups = 1
        self.activation = activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel = self.bias = None
        self._workspaces = conv_utils.Workspaces(lambda key: _ConvWorkspace(key[0], self))
        self._ws = self._y = None
        # buffers reused from batch to batch
        self._train_out = self._dx = self._weights = self._dweights = None

    def build(self, input_shape):
        conv_utils.check_image_input(self, input_shape)
        channels = input_shape[-1]
        if channels is None:
            raise ValueError(
                "The channel dimension of the inputs should be defined. The input_shape "
                f"received is {tuple(input_shape)}, where axis -1 (0-based) is the channel "
                "dimension, which found to be `None`."
            )
        self.compute_output_shape(input_shape)  # fails early on too small inputs
        self.kernel = self.add_weight(self.kernel_size + (channels, self.filters),
                                      self.kernel_initializer, name="kernel",
                                      regularizer=self.kernel_regularizer)
        if self.use_bias:
            self.bias = self.add_weight((self.filters,), self.bias_initializer, name="bias",
                                        regularizer=self.bias_regularizer)
        self.built = True

    def _check_input(self, shape):
        conv_utils.check_image_input(self, shape, self.kernel.shape[2])
        self.compute_output_shape(shape)

    def compute_output_shape(self, input_shape):
        conv_utils.check_image_input(self, input_shape)
        return conv_utils.conv_output_shape(input_shape, self.filters, self.kernel_size,
                                            self.strides, self.padding, self.dilation_rate)

    # ------------------------------------------------------------------ forward
    def call(self, inputs, training=False):
        return self._forward(inputs, training)

    def _forward(self, inputs, training, activate=True):
        """The convolution; ``activate=False`` leaves the activation to the caller (the
        model runs a ReLU after a max pooling instead, on fewer pixels)."""
        # separate buffers for inference: a predict between a training forward pass and
        # its backward pass (a callback's, say) leaves the cached columns intact; and
        # per thread, so that predictions may run in several threads at once
        ws = self._workspaces.get((inputs.shape, True) if training else (
            inputs.shape, False, threading.get_ident()))
        conv_utils.im2col(inputs, ws.cols6, ws.geo, ws.padded, ws.padded_view)
        if ws.clobbered:
            if self.use_bias:
                ws.cols[:, -1] = 1  # the bias's column, overwritten by the last backward
            ws.clobbered = False
        if training:
            # reused: the training loop consumes each batch's output before the next
            out = self._train_out = conv_utils.reuse_buffer(self._train_out, ws.out_shape,
                                                            self.dtype)
        else:
            out = np.empty(ws.out_shape, self.dtype)
        z = out.reshape(ws.rows, self.filters)
        np.dot(ws.cols, self._stacked_weights(), out=z)  # the convolution: one GEMM
        if activate:
            self.activation.forward(z, z)
        if training:
            self._ws, self._y = ws, z
        return out

    def _stacked_weights(self):
        """``[kernel; bias]`` as one ``(kh*kw*channels + 1, filters)`` matrix."""
        kernel = self.kernel.value.reshape(-1, self.filters)
        if not self.use_bias:
            return kernel
        both = self._weights = conv_utils.reuse_buffer(
            self._weights, (kernel.shape[0] + 1, self.filters), self.dtype)
        both[:-1] = kernel
        both[-1] = self.bias.value
        return both

    # ------------------------------------------------------------------ backward
    def backward(self, grad_output):
        g = grad_output.reshape(self._y.shape)
        # dL/dz from dL/dy through the activation, in place (g is ours to overwrite)
        return self.backward_preactivation(self.activation.backward(self._y, g, g))

    def backward_preactivation(self, dz, out_shape=None):
        """The backward pass from dL/dz (z = conv(x) + bias), skipping the activation."""
        ws, filters = self._ws, self.filters
        if ws.clobbered:
            raise RuntimeError(
                f"Layer '{self.name}' ran backward twice on one forward pass: its input "
                "columns now hold the last input gradient. Call the layer with "
                "training=True again first."
            )
        dz = dz.reshape(self._y.shape)
        # [dL/dkernel; dL/dbias] = cols^T dz (the bias's row from the column of ones)
        grad = self.kernel.grad
        if not self.use_bias and grad.flags.c_contiguous:
            np.dot(ws.cols.T, dz, out=grad.reshape(-1, filters))
        else:
            both = self._dweights = conv_utils.reuse_buffer(
                self._dweights, (ws.cols.shape[1], filters), self.dtype)
            np.dot(ws.cols.T, dz, out=both)
            grad[...] = both[: grad.size // filters].reshape(grad.shape)
            if self.use_bias:
                self.bias.grad[...] = both[-1]
        if not self._needs_input_grad:
            return None
        geo = ws.geo
        kh, kw = self.kernel_size
        n, _, _, channels = geo.input_shape
        if ws.dcols is None:
            shape = (kh * kw, ws.rows, channels)
            ws.dcols = ws.cols.reshape(-1)[: math.prod(shape)].reshape(shape) if (
                ws.dcols_in_cols) else np.empty(shape, self.dtype)
        # dL/dcols for each kernel offset: dz @ kernel[offset]^T (one matmul call), each
        # in its own block, so that col2im adds whole rows of pixels at a time
        kernel_t = self.kernel.value.reshape(kh * kw, channels, filters).transpose(0, 2, 1)
        np.matmul(dz, kernel_t, out=ws.dcols)
        ws.clobbered = ws.dcols_in_cols
        dcols = ws.dcols.reshape(kh * kw, n, geo.out_rows, geo.out_cols, channels)
        self._dx = conv_utils.reuse_buffer(self._dx, geo.input_shape, self.dtype)
        return conv_utils.col2im(dcols, self._dx, geo)

    # ------------------------------------------------------------------ config
    def get_config(self):
        config = super().get_config()
        config.update(
            filters=self.filters,
            kernel_size=self.kernel_size,
            strides=self.strides,
            padding=self.padding,
            data_format=self.data_format,
            dilation_rate=self.dilation_rate,
            groups=self.groups,
            activation=self.activation.name,
            use_bias=self.use_bias,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
            activity_regularizer=None,
            kernel_constraint=None,
            bias_constraint=None,
        )
        return config
