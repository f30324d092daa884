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

import numpy as np

from tinyann import activations, initializers, regularizers
from tinyann.layers.layer import Layer
from tinyann.utils import conv_utils


class _ConvWorkspace:
    """The geometry and reusable arrays for one input shape (one part of a batch)."""

    def __init__(self, shape, layer):
        geo = conv_utils.ConvGeometry(shape, layer.kernel_size, layer.strides, layer.padding,
                                      layer.dilation_rate)
        n, _, _, channels = shape
        kh, kw = layer.kernel_size
        dtype = layer.dtype
        self.geo = geo
        self.rows = n * geo.out_rows * geo.out_cols
        # zeros: the few-channel im2col never writes the padded border (see im2col)
        self.cols6 = np.zeros((n, geo.out_rows, geo.out_cols, kh, kw, channels), dtype)
        self.cols = self.cols6.reshape(self.rows, kh * kw * channels)
        self.padded = self.padded_view = None
        if geo.padded and channels >= 8:
            self.padded = np.zeros(geo.padded_shape(), dtype)
            self.padded_view = conv_utils.window_view(self.padded, geo)
        # gradient buffers, made on first use: the kernel's and bias's share of this
        # part, and the columns' gradient, one block per kernel offset
        self.dkernel = self.dbias = self.dcols = None


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
        self._parts = self._spaces = self._y = None
        self._train_out = self._dx = None  # buffers reused from batch to batch

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
        n = inputs.shape[0]
        out_shape = self.compute_output_shape(inputs.shape)
        if training:
            # reused: the training loop consumes each batch's output before the next
            out = self._train_out = conv_utils.reuse_buffer(self._train_out, out_shape,
                                           self.dtype)
        else:
            out = np.empty(out_shape, self.dtype)
        kernel = self.kernel.value.reshape(-1, self.filters)
        bias = self.bias.value if self.use_bias else None
        parts = conv_utils.batch_parts(n)
        spaces = [None] * len(parts)

        def forward(k, start, stop):
            x = inputs[start:stop]
            ws = spaces[k] = self._workspaces.get((x.shape, k))
            conv_utils.im2col(x, ws.cols6, ws.geo, ws.padded, ws.padded_view)
            z = out[start:stop].reshape(ws.rows, self.filters)
            np.dot(ws.cols, kernel, out=z)  # the convolution: one GEMM
            if bias is not None:
                z += bias
            self.activation.forward(z, z)

        conv_utils.run_parts(forward, parts)
        if training:
            self._parts, self._spaces, self._y = parts, spaces, out
        return out

    # ------------------------------------------------------------------ backward
    def backward(self, grad_output):
        return self._backward(grad_output, through_activation=True)

    def backward_preactivation(self, dz, out_shape=None):
        """The backward pass from dL/dz (z = conv(x) + bias), skipping the activation."""
        return self._backward(dz, through_activation=False)

    def _backward(self, grad, through_activation):
        y = self._y
        # ours to overwrite: dL/dy becomes dL/dz in place
        grad = grad.reshape(y.shape)
        kh, kw = self.kernel_size
        channels, filters = self.kernel.shape[2], self.filters
        kernel_t = self.kernel.value.reshape(kh * kw, channels, filters).transpose(0, 2, 1)
        need_dx = self._needs_input_grad
        if need_dx:
            dx = self._dx = conv_utils.reuse_buffer(self._dx,
                                   (y.shape[0],) + self._spaces[0].geo.input_shape[1:],
                                   self.dtype)
        spaces = self._spaces

        def backward(k, start, stop):
            ws = spaces[k]
            dz = grad[start:stop].reshape(ws.rows, filters)
            if through_activation:
                self.activation.backward(y[start:stop].reshape(ws.rows, filters), dz, dz)
            if ws.dkernel is None:
                ws.dkernel = np.empty((ws.cols.shape[1], filters), self.dtype)
                ws.dbias = np.empty((filters,), self.dtype)
            np.dot(ws.cols.T, dz, out=ws.dkernel)  # dL/dkernel = cols^T dz
            if self.use_bias:
                # dL/dbias = sum(dz), in two stages: summing whole images first keeps
                # NumPy's inner loops long (4x faster than one reduce over rows)
                per_pixel = np.add.reduce(dz.reshape(stop - start, -1), axis=0)
                np.add.reduce(per_pixel.reshape(-1, filters), axis=0, out=ws.dbias)
            if need_dx:
                if ws.dcols is None:
                    ws.dcols = np.empty((kh * kw, ws.rows, channels), self.dtype)
                # dL/dcols for each kernel offset: dz @ kernel[offset]^T, each in its
                # own block, so col2im adds whole rows of pixels at a time
                np.matmul(dz, kernel_t, out=ws.dcols)
                geo = ws.geo
                dcols = ws.dcols.reshape(kh * kw, stop - start, geo.out_rows, geo.out_cols,
                                         channels)
                conv_utils.col2im(dcols, dx[start:stop], geo)

        conv_utils.run_parts(backward, self._parts)
        # the parts' shares, written (not added) into the packed gradient buffers
        _sum_into([ws.dkernel for ws in spaces], self.kernel.grad)
        if self.use_bias:
            _sum_into([ws.dbias for ws in spaces], self.bias.grad)
        return dx if need_dx else None

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

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("kernel_regularizer", "bias_regularizer"):
            if isinstance(config.get(key), dict):
                config[key] = regularizers.get(config[key])
        return super().from_config(config)


def _sum_into(parts, target):
    """``target[...] = sum(parts)`` (each part shaped like ``target`` flattened to 2-D)."""
    flat = target.reshape(parts[0].shape) if target.flags.c_contiguous else None
    if flat is None:
        target[...] = sum(parts).reshape(target.shape)
    elif len(parts) == 1:
        np.copyto(flat, parts[0])
    else:
        np.add(parts[0], parts[1], out=flat)
        for p in parts[2:]:
            flat += p
