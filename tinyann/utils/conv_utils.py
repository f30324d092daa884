"""Argument checks, output sizes and the im2col / col2im copies behind Conv2D and pooling.

Everything is channels_last: images are ``(batch, rows, cols, channels)``. A
convolution becomes one matrix product by copying every receptive field into a
row of a "column" matrix: ``cols[n, y, x, i, j, c] = x_padded[n, y*sh + i*dh,
x*sw + j*dw, c]``, shape ``(batch*out_rows*out_cols, kh*kw*channels)``, so that
``cols @ kernel.reshape(kh*kw*channels, filters)`` is the output. ``ConvGeometry``
works out, once per input size, the padding and, for each kernel offset ``(i, j)``,
which output positions read real (not padded) input and from where.
"""

from __future__ import annotations

from collections import OrderedDict

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def normalize_tuple(value, n, name, allow_zero=False) -> tuple:
    """``3`` -> ``(3, 3)``; checks a tuple's length and signs (Keras's messages)."""
    message = f"The `{name}` argument must be a tuple of {n} integers. Received {name}={value}"
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        values = (int(value),) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            raise ValueError(message) from None
        if len(values) != n:
            raise ValueError(message)
        for v in values:
            if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
                raise ValueError(f"{message}including element {v} of type {type(v)}")
        values = tuple(int(v) for v in values)
    bad = {v for v in values if (v < 0 if allow_zero else v <= 0)}
    if bad:
        req = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{message}, including values {bad} that do not satisfy `value {req}`")
    return values


def normalize_padding(value) -> str:
    """``'same'`` or ``'valid'`` (any case), else Keras's ValueError."""
    padding = value.lower() if isinstance(value, str) else value
    if padding not in ("valid", "same"):
        raise ValueError(
            "The `padding` argument must be a list/tuple or one of {'same', 'valid'}. "
            f"Received: {value}"
        )
    return padding


def normalize_data_format(value) -> str:
    """Only ``'channels_last'`` (the Keras default) is implemented."""
    data_format = "channels_last" if value is None else str(value).lower()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={value}"
        )
    if data_format == "channels_first":
        raise NotImplementedError(
            "tinyann implements channels_last images (batch, rows, cols, channels) only. "
            "Received: data_format='channels_first'; transpose the data with "
            "np.transpose(x, (0, 2, 3, 1)) instead."
        )
    return data_format


def output_length(length, window, padding, stride, dilation=1):
    """One spatial output size, as Keras: ``valid`` floor((n - d(k-1) - 1)/s) + 1,
    ``same`` floor((n - 1)/s) + 1; None stays None."""
    if length is None:
        return None
    if padding == "same":
        return (length - 1) // stride + 1
    return (length - dilation * (window - 1) - 1) // stride + 1


def same_padding(length, window, stride, dilation=1) -> tuple[int, int]:
    """TensorFlow's split of 'same' padding: the odd pixel goes after (bottom/right)."""
    out = (length - 1) // stride + 1
    total = max((out - 1) * stride + dilation * (window - 1) + 1 - length, 0)
    return total // 2, total - total // 2


def conv_output_shape(input_shape, filters, kernel_size, strides, padding, dilation_rate):
    """``(batch, rows, cols, filters)`` for a channels_last input, with Keras's error."""
    rows, cols = input_shape[1:3]
    out = tuple(output_length(n, k, padding, s, d) for n, k, s, d in
                zip((rows, cols), kernel_size, strides, dilation_rate))
    if any(o is not None and o <= 0 for o in out):
        raise ValueError(
            "Computed output size would be zero or negative. Received "
            f"`inputs shape={tuple(input_shape)}`, `kernel shape="
            f"{tuple(kernel_size) + (input_shape[-1], filters)}`, "
            f"`dilation_rate={_np_repr(dilation_rate)}`, `strides={tuple(strides)}`, "
            f"`padding={padding}`."
        )
    return (input_shape[0],) + out + (filters,)


def pool_output_shape(input_shape, pool_size, strides, padding):
    """``(batch, rows, cols, channels)`` after pooling, with Keras's error."""
    out = tuple(output_length(n, k, padding, s) for n, k, s in
                zip(input_shape[1:3], pool_size, strides))
    if any(o is not None and o <= 0 for o in out):
        raise ValueError(
            "Computed output size would be zero or negative. Received: "
            f"`inputs.shape={_np_repr(input_shape)}`, `pool_size={_np_repr(pool_size)}`, "
            f"`strides={tuple(strides)}`, `padding={padding}`."
        )
    return (input_shape[0],) + out + (input_shape[-1],)


def _np_repr(values) -> str:
    """``[None 1 1 3]``: how Keras's messages print these (they hold NumPy arrays)."""
    return "[" + " ".join(str(v) for v in values) + "]"


def _offset_ranges(length, out, window, stride, dilation, pad):
    """For each window offset i: the output slice whose input row ``o*stride +
    i*dilation - pad`` lies inside ``[0, length)``, and that input slice."""
    ranges = []
    for i in range(window):
        shift = i * dilation - pad
        first = max(0, -(shift // stride))  # ceil(-shift / stride)
        last = min(out - 1, (length - 1 - shift) // stride)
        if last < first:
            ranges.append(None)
            continue
        start = first * stride + shift
        ranges.append((slice(first, last + 1),
                       slice(start, start + (last - first) * stride + 1, stride)))
    return ranges


class ConvGeometry:
    """Sizes and copy plans of a 2-D window operation for one input shape.

    Args:
        input_shape: ``(batch, rows, cols, channels)``.
        window: ``(kh, kw)``; strides, dilation: pairs; padding: 'valid' or 'same'.
    """

    def __init__(self, input_shape, window, strides, padding, dilation=(1, 1)):
        self.input_shape = tuple(input_shape)
        n, rows, cols, channels = self.input_shape
        self.window, self.strides, self.dilation = tuple(window), tuple(strides), tuple(dilation)
        self.out_rows = output_length(rows, window[0], padding, strides[0], dilation[0])
        self.out_cols = output_length(cols, window[1], padding, strides[1], dilation[1])
        if padding == "same":
            self.pad_rows = same_padding(rows, window[0], strides[0], dilation[0])
            self.pad_cols = same_padding(cols, window[1], strides[1], dilation[1])
        else:
            self.pad_rows = self.pad_cols = (0, 0)
        self.padded = self.pad_rows != (0, 0) or self.pad_cols != (0, 0)
        self.output_hw = (self.out_rows, self.out_cols)
        row_ranges = _offset_ranges(rows, self.out_rows, window[0], strides[0], dilation[0],
                                    self.pad_rows[0])
        col_ranges = _offset_ranges(cols, self.out_cols, window[1], strides[1], dilation[1],
                                    self.pad_cols[0])
        # (i, j, output rows, output cols, input rows, input cols) per kernel offset
        self.offsets = [(i, j, r[0], c[0], r[1], c[1])
                        for i, r in enumerate(row_ranges) for j, c in enumerate(col_ranges)
                        if r is not None and c is not None]
        # an offset whose input slices cover the whole input (stride 1, 'same'): col2im
        # can start by assigning it instead of zero-filling and adding
        self.covering = next((k for k, o in enumerate(self.offsets)
                              if _covers(o[4], rows) and _covers(o[5], cols)), None)

    def padded_shape(self):
        n, rows, cols, channels = self.input_shape
        return (n, rows + sum(self.pad_rows), cols + sum(self.pad_cols), channels)


def _covers(sl, length):
    return sl.start == 0 and sl.stop == length and sl.step == 1


# below this many channels im2col copies kernel offset by offset (see im2col)
FEW_CHANNELS = 8


def window_view(x, geo):
    """The receptive fields of ``x`` (already padded) as a strided view
    ``(batch, oh, ow, kh, kw, channels)``: no copy."""
    (kh, kw), (sh, sw), (dh, dw) = geo.window, geo.strides, geo.dilation
    view = sliding_window_view(x, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(1, 2))
    view = view[:, : (geo.out_rows - 1) * sh + 1: sh, : (geo.out_cols - 1) * sw + 1: sw,
                :, ::dh, ::dw]
    return view.transpose(0, 1, 2, 4, 5, 3)


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
        (top, bottom), (left, right) = geo.pad_rows, geo.pad_cols
        padded[:, top:padded.shape[1] - bottom, left:padded.shape[2] - right, :] = x
        np.copyto(cols, padded_view)
    else:
        np.copyto(cols, window_view(x, geo))
    return cols


def col2im(dcols, dx, geo):
    """Adds the column gradients back onto the input: the transpose of ``im2col``.

    Args:
        dcols: ``(kh*kw, batch, oh, ow, c)``, the gradient of each kernel offset's
            copy in its own contiguous block (see Conv2D.backward), so each add
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


# ---------------------------------------------------------------------- buffers
# buffer sets a layer keeps (training batch, last batch, predict chunks)
_MAX_WORKSPACES = 6


def check_image_input(layer, shape, channels=None):
    """Keras's input-spec messages for a layer taking ``(batch, rows, cols, channels)``."""
    shape = tuple(shape)
    if len(shape) != 4:
        what = "min_ndim=4" if len(shape) < 4 else "ndim=4"
        raise ValueError(
            f"Input 0 of layer '{layer.name}' is incompatible with the layer: expected "
            f"{what}, found ndim={len(shape)}. Full shape received: {shape}"
        )
    if channels is not None and shape[-1] is not None and shape[-1] != channels:
        raise ValueError(
            f"Input 0 of layer '{layer.name}' is incompatible with the layer: expected axis "
            f"-1 of input shape to have value {channels}, but received input with shape "
            f"{shape}"
        )


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


def reuse_buffer(buffer, shape, dtype):
    """``buffer`` if it has this shape, else a new one (batch sizes rarely change)."""
    if buffer is None or buffer.shape != tuple(shape):
        return np.empty(shape, dtype)
    return buffer
