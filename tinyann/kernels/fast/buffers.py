"""Buffers the fast window ops keep from one batch to the next, and the im2col /
col2im copies that fill them.

``state`` is a dict the caller keeps for one layer (its strides, padding and
dtype fixed); the ops keep their workspaces in it, keyed by input shape.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np

from tinyann.kernels.geometry import window_view

# below this many channels im2col copies kernel offset by offset (see im2col)
FEW_CHANNELS = 8

# buffer sets a layer keeps (training batch, last batch, predict chunks)
_MAX_WORKSPACES = 6


class Workspaces:
    """Buffers keyed by input shape (or a tuple starting with it), the least recently
    used dropped first; ``make(key)`` builds a missing one."""

    def __init__(self, make):
        self._make = make
        self._items = OrderedDict()

    def get(self, key):
        # pop and put back (each one step under the GIL): another thread may drop the
        # oldest entry meanwhile, which `move_to_end` would then not find
        ws = self._items.pop(key, None)
        if ws is None:
            ws = self._make(key)
        self._items[key] = ws
        while len(self._items) > _MAX_WORKSPACES:
            try:
                self._items.popitem(last=False)
            except KeyError:  # emptied by another thread meanwhile
                break
        return ws

    def clear(self):
        self._items.clear()


def workspaces(state, make):
    """The ``Workspaces`` of ``state`` (made on first use with ``make``)."""
    if state is None:
        return Workspaces(make)
    found = state.get("workspaces")
    if found is None:
        found = state["workspaces"] = Workspaces(make)
    return found


def reuse_buffer(buffer, shape, dtype):
    """``buffer`` if it has this shape, else a new one (batch sizes rarely change)."""
    if buffer is None or buffer.shape != tuple(shape):
        return np.empty(shape, dtype)
    return buffer


def output_buffer(state, shape, dtype, training):
    """The output array: in training one kept in ``state`` and reused (the training
    loop consumes each batch's output before the next), in inference a new one."""
    if not training or state is None:
        return np.empty(shape, dtype)
    out = state["train_out"] = reuse_buffer(state.get("train_out"), shape, dtype)
    return out


def im2col(x, cols, geo, padded=None, padded_view=None):
    """Copies the receptive fields of ``x`` into ``cols`` (batch, oh, ow, kh, kw, c).

    Many channels: one copy from the sliding-window view of the (zero-padded)
    input, which writes ``cols`` in order (about twice as fast as nine strided
    copies for 32 channels). Few channels (the first layer's 1 or 3): one copy per
    kernel offset, whose inner runs would otherwise be 1-3 numbers long; these
    leave the padded border of ``cols`` untouched, so it must start zeroed.

    Args:
        padded: a zero-bordered buffer of ``geo.padded_shape()`` for the
            many-channel path with padding (its border must stay zero), and
            ``padded_view``, its ``window_view`` (made once: the view costs more
            to build than to copy from for small images).
    """
    if x.shape[-1] < FEW_CHANNELS:
        for i, j, out_r, out_c, in_r, in_c in geo.offsets:
            cols[:, out_r, out_c, i, j, :] = x[:, in_r, in_c, :]
        return cols
    if geo.padded:
        geo.unpad(padded)[...] = x
        np.copyto(cols, padded_view)
    else:
        np.copyto(cols, window_view(x, geo))
    return cols


def col2im(dcols, dx, geo):
    """Adds the column gradients back onto the input: the transpose of ``im2col``.

    Args:
        dcols: ``(kh*kw, batch, oh, ow, c)``, the gradient of each kernel offset's
            copy in its own contiguous block (see conv2d_backward), so each add
            runs over whole rows of pixels instead of one pixel's channels.
        dx: ``(batch, rows, cols, c)``, overwritten.
    """
    kw = geo.window[1]
    if geo.covering is not None:
        i, j, out_r, out_c, _, _ = geo.offsets[geo.covering]
        np.copyto(dx, dcols[i * kw + j][:, out_r, out_c, :])
    else:
        dx.fill(0)
    for k, (i, j, out_r, out_c, in_r, in_c) in enumerate(geo.offsets):
        if k == geo.covering:
            continue
        target = dx[:, in_r, in_c, :]
        np.add(target, dcols[i * kw + j][:, out_r, out_c, :], out=target)
    return dx
