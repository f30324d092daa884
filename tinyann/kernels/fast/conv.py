"""Conv2D, fast: one GEMM over reused column buffers.

Forward: ``im2col`` copies every receptive field into a row of a column matrix
kept per input shape, then ``cols @ [kernel; bias]`` (one GEMM) gives all outputs.
Backward: ``[dL/dkernel; dL/dbias] = cols^T dz`` (GEMM), and the input gradient is
``dz @ kernel^T`` (a GEMM per kernel offset, in one ``matmul`` call) added back onto
the input image offset by offset (``col2im``: strided slices, no ``np.add.at``).
The math is the reference's (tinyann/kernels/reference/conv.py).
"""

from __future__ import annotations

import math
from threading import get_ident

import numpy as np
from numpy.lib.stride_tricks import as_strided

from tinyann.kernels.fast.buffers import (
    FEW_CHANNELS,
    col2im,
    im2col,
    output_buffer,
    reuse_buffer,
    workspaces,
)
from tinyann.kernels.geometry import ConvGeometry, window_view


class _ConvWorkspace:
    """The geometry and reusable arrays for one input shape."""

    def __init__(self, shape, kernel_shape, strides, padding, dilation, use_bias, dtype,
                 owner):
        kh, kw, channels, filters = kernel_shape
        geo = ConvGeometry(shape, (kh, kw), strides, padding, dilation)
        n = shape[0]
        dtype = np.dtype(dtype)
        self.geo, self.owner, self.dtype = geo, owner, dtype
        self.rows = n * geo.out_rows * geo.out_cols
        self.out_shape = (n, geo.out_rows, geo.out_cols, filters)
        # one row per output pixel, one column per kernel tap, and a last column of ones
        # for the bias: cols @ [kernel; bias] adds it in the GEMM, and cols^T @ dz gives
        # its gradient as the last row (an elementwise pass and a reduction saved).
        # Zeros: the few-channel im2col never writes the padded border (see im2col).
        taps = kh * kw * channels
        width = taps + int(use_bias)
        few = channels < FEW_CHANNELS
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
        if geo.padded and channels >= FEW_CHANNELS:
            self.padded = np.zeros(geo.padded_shape(), dtype)
            self.padded_view = window_view(self.padded, geo)
        self.dcols = None  # the columns' gradient, one block per kernel offset
        # many channels: im2col rewrites the columns whole, so once the kernel's gradient
        # is computed their memory can hold dL/dcols (7 MB less to keep in cache for the
        # textbook's second convolution: measured 10-20% faster steps)
        self.dcols_in_cols = channels >= FEW_CHANNELS
        self.clobbered = False  # the columns overwritten by dcols
        self.weights = self.dweights = self.dx = None  # buffers reused batch to batch


def fill_columns(x, ws):
    """im2col into the workspace's columns, by the NumPy copies."""
    im2col(x, ws.cols6, ws.geo, ws.padded, ws.padded_view)


def conv2d_forward(x, kernel, bias, strides, padding, dilation_rate, state=None,
                   training=False, fill_columns=fill_columns):
    """As the reference; ``state``: the caller's dict for one layer (buffers kept in it;
    ``state['name']`` names the layer in errors). Training and inference use separate
    buffers: a predict between a training forward pass and its backward pass (a
    callback's, say) leaves the cached columns intact; and each thread's inference
    its own, so predictions may run in several threads at once. ``fill_columns(x,
    ws)``: the im2col copy into ``ws.cols`` (the compiled set passes its kernel)."""

    def make(key):
        return _ConvWorkspace(key[0], kernel.shape, strides, padding, dilation_rate,
                              bias is not None, kernel.dtype,
                              (state or {}).get("name", "conv2d"))

    # inference: a workspace per thread, so that threads predicting at once never share
    # columns (a thread id costs ~50 ns; the training step runs in one thread)
    ws = workspaces(state, make).get((x.shape, "train" if training else get_ident()))
    fill_columns(x, ws)
    if ws.clobbered:
        if bias is not None:
            ws.cols[:, -1] = 1  # the bias's column, overwritten by the last backward
        ws.clobbered = False
    out = output_buffer(state, ws.out_shape, ws.dtype, training)
    np.dot(ws.cols, _stacked_weights(ws, kernel, bias),
           out=out.reshape(ws.rows, kernel.shape[-1]))  # the convolution: one GEMM
    return out, ws


def _stacked_weights(ws, kernel, bias):
    """``[kernel; bias]`` as one ``(kh*kw*channels + 1, filters)`` matrix."""
    filters = kernel.shape[-1]
    kernel = kernel.reshape(-1, filters)
    if bias is None:
        return kernel
    both = ws.weights = reuse_buffer(ws.weights, (kernel.shape[0] + 1, filters), ws.dtype)
    both[:-1] = kernel
    both[-1] = bias
    return both


def conv2d_backward(dz, ctx, kernel, dkernel, dbias, need_dx=True, col2im=col2im):
    """As the reference. With many channels the columns' memory then holds dL/dcols:
    a second backward needs a new forward pass first (a RuntimeError says so).
    ``col2im``: the add back onto the image (the compiled set passes its kernel)."""
    ws = ctx
    kh, kw, channels, filters = kernel.shape
    if ws.clobbered:
        raise RuntimeError(
            f"Layer '{ws.owner}' ran backward twice on one forward pass: its input "
            "columns now hold the last input gradient. Call the layer with "
            "training=True again first."
        )
    dz = dz.reshape(ws.rows, filters)
    # [dL/dkernel; dL/dbias] = cols^T dz (the bias's row from the column of ones)
    if dbias is None and dkernel.flags.c_contiguous:
        np.dot(ws.cols.T, dz, out=dkernel.reshape(-1, filters))
    else:
        both = ws.dweights = reuse_buffer(ws.dweights, (ws.cols.shape[1], filters), ws.dtype)
        np.dot(ws.cols.T, dz, out=both)
        dkernel[...] = both[: dkernel.size // filters].reshape(dkernel.shape)
        if dbias is not None:
            dbias[...] = both[-1]
    if not need_dx:
        return None
    geo = ws.geo
    n = geo.input_shape[0]
    if ws.dcols is None:
        shape = (kh * kw, ws.rows, channels)
        ws.dcols = ws.cols.reshape(-1)[: math.prod(shape)].reshape(shape) if (
            ws.dcols_in_cols) else np.empty(shape, ws.dtype)
    # dL/dcols for each kernel offset: dz @ kernel[offset]^T (one matmul call), each
    # in its own block, so that col2im adds whole rows of pixels at a time
    kernel_t = kernel.reshape(kh * kw, channels, filters).transpose(0, 2, 1)
    np.matmul(dz, kernel_t, out=ws.dcols)
    ws.clobbered = ws.dcols_in_cols
    dcols = ws.dcols.reshape(kh * kw, n, geo.out_rows, geo.out_cols, channels)
    ws.dx = reuse_buffer(ws.dx, geo.input_shape, ws.dtype)
    return col2im(dcols, ws.dx, geo)
