"""Max and average pooling, fast: a window of ``ph x pw`` handled as ``ph*pw``
strided views of the input, one per offset in the window (for 2x2 pooling with
stride 2 these are the four ``x[:, i::2, j::2, :]``, the views a reshape to
``(n, h/2, 2, w/2, 2, c)`` gives): the forward pass is ``ph*pw - 1`` elementwise
maxima (or sums), the backward pass as many masked copies. No loop over pixels or
channels; buffers are kept per input shape in the caller's ``state``. Max pooling
sends each gradient to the first maximum of its window (row-major), as the
reference (and TensorFlow) does. Backward may overwrite ``dy``.
"""

from __future__ import annotations

import numpy as np

from tinyann.kernels.fast.buffers import output_buffer, reuse_buffer, workspaces
from tinyann.kernels.geometry import ConvGeometry


class _PoolWorkspace:
    def __init__(self, shape, pool_size, strides, padding, dtype):
        geo = ConvGeometry(shape, pool_size, strides, padding)
        n, rows, cols, channels = shape
        self.geo, self.dtype = geo, dtype
        self.out_shape = (n, geo.out_rows, geo.out_cols, channels)
        ho, wo = geo.output_hw
        # every offset reads every output position: no padding reached
        self.full = all(o[2] == slice(0, ho) and o[3] == slice(0, wo) for o in geo.offsets)
        disjoint = all(s >= p for s, p in zip(strides, pool_size))
        self.disjoint = disjoint and self.full
        # the windows tile the input exactly: each input pixel is written once by backward
        self.tiles = self.disjoint and tuple(strides) == tuple(pool_size) and (
            ho * pool_size[0] == rows and wo * pool_size[1] == cols)
        self.count = None
        if not self.full:
            # average pooling with 'same' padding divides by the real pixels only
            count = np.zeros((ho, wo, 1), dtype)
            for o in geo.offsets:
                count[o[2], o[3]] += 1
            self.count = count
        self.mask = None  # max pooling backward's boolean buffer, made on first use
        self.dx = None


def _start(x, pool_size, strides, padding, state, training):
    """The workspace of ``x``'s shape, the output array and the window offsets' views."""
    def make(shape):
        return _PoolWorkspace(shape, pool_size, strides, padding, x.dtype)

    ws = workspaces(state, make).get(x.shape)
    return ws, output_buffer(state, ws.out_shape, ws.dtype, training), _views(x, ws.geo.offsets)


def _views(x, offsets):
    """``(output slices, input view)`` for each window offset."""
    return [((slice(None), o[2], o[3]), x[:, o[4], o[5], :]) for o in offsets]


def _reduce(ufunc, arrays, out):
    """``out = ufunc(a0, a1, a2, ...)`` in ``len(arrays) - 1`` passes."""
    if len(arrays) == 1:
        return np.copyto(out, arrays[0])
    ufunc(arrays[0], arrays[1], out=out)
    for a in arrays[2:]:
        ufunc(out, a, out=out)
    return out


def _dx(ws):
    ws.dx = reuse_buffer(ws.dx, ws.geo.input_shape, ws.dtype)
    return ws.dx


def max_pool2d_forward(x, pool_size, strides, padding, state=None, training=False):
    ws, out, views = _start(x, pool_size, strides, padding, state, training)
    if ws.full:
        _reduce(np.maximum, [v for _, v in views], out)
    else:
        out.fill(-np.inf)  # 'same' padding: padded pixels never win
        for where, v in views:
            target = out[where]
            np.maximum(target, v, out=target)
    return out, (ws, x, out)


def max_pool2d_backward(dy, ctx):
    """Routes each output gradient to the first input equal to the window's maximum."""
    ws, x, y = ctx
    grad = dy.reshape(ws.out_shape)
    dx = _dx(ws)
    if ws.mask is None:
        ws.mask = np.empty(ws.out_shape, bool)
    views = _views(x, ws.geo.offsets)
    dx_views = _views(dx, ws.geo.offsets)
    if ws.disjoint:
        # each input pixel in at most one window: every offset writes its own pixels.
        # ``rest`` is the gradient no earlier offset took: an offset equal to the
        # maximum takes it (rest * 1) and leaves exactly 0 behind (rest - rest); the
        # last offset takes what is left (ties: the first maximum wins, as in TF)
        mask = ws.mask
        if not ws.tiles:
            dx.fill(0)
        last = len(views) - 1
        rest = grad
        for k, ((_, v), (_, d)) in enumerate(zip(views, dx_views)):
            if k < last:
                np.equal(v, y, out=mask)
                np.multiply(rest, mask, out=d)
                np.subtract(rest, d, out=rest)
            else:
                np.copyto(d, rest)
        return dx
    # overlapping windows: ``rest`` is the gradient not yet given to an earlier maximum
    # of its window (ours to overwrite); subtracting what an offset took leaves 0 behind
    rest, mask = grad, ws.mask
    dx.fill(0)
    for (where, v), (_, d) in zip(views, dx_views):
        hit = np.equal(v, y[where], out=mask[where])
        taken = rest[where] * hit
        np.add(d, taken, out=d)
        rest[where] -= taken
    return dx


def avg_pool2d_forward(x, pool_size, strides, padding, state=None, training=False):
    ws, out, views = _start(x, pool_size, strides, padding, state, training)
    if ws.full:
        _reduce(np.add, [v for _, v in views], out)
        out *= out.dtype.type(1.0 / len(views))
        return out, ws
    out.fill(0)
    for where, v in views:
        target = out[where]
        np.add(target, v, out=target)
    out /= ws.count
    return out, ws


def avg_pool2d_backward(dy, ctx):
    ws = ctx
    grad = dy.reshape(ws.out_shape)
    if ws.full:
        grad *= grad.dtype.type(1.0 / len(ws.geo.offsets))
    else:
        grad /= ws.count
    dx = _dx(ws)
    dx_views = _views(dx, ws.geo.offsets)
    if ws.disjoint:
        if not ws.tiles:
            dx.fill(0)
        for where, d in dx_views:
            np.copyto(d, grad[where])
        return dx
    dx.fill(0)
    for where, d in dx_views:
        np.add(d, grad[where], out=d)
    return dx
