"""The geometry of 2-D window operations (convolution, pooling), shared by every kernel set.

Everything is channels_last: images are ``(batch, rows, cols, channels)``. A
window of ``(kh, kw)`` taps moves by ``strides``; its taps are ``dilation`` apart.
An output pixel ``(y, x)`` reads the padded input at ``(y*sh + i*dh, x*sw + j*dw)``
for each tap ``(i, j)``. ``ConvGeometry`` works out, once per input size, the output
size, the padding and, for each tap, which output positions read real (not padded)
input and from where.
"""

from __future__ import annotations

from numpy.lib.stride_tricks import sliding_window_view


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

    def tap_slices(self, i, j):
        """The padded input's pixels that tap ``(i, j)`` reads, one per output pixel:
        ``(rows slice, cols slice)`` of the padded image."""
        (sh, sw), (dh, dw) = self.strides, self.dilation
        return (slice(i * dh, i * dh + (self.out_rows - 1) * sh + 1, sh),
                slice(j * dw, j * dw + (self.out_cols - 1) * sw + 1, sw))

    def unpad(self, padded):
        """The real image inside a padded one (a view)."""
        (top, _), (left, _) = self.pad_rows, self.pad_cols
        n, rows, cols, _ = self.input_shape
        return padded[:, top:top + rows, left:left + cols, :]


def _covers(sl, length):
    return sl.start == 0 and sl.stop == length and sl.step == 1


def window_view(x, geo):
    """The receptive fields of ``x`` (already padded) as a strided view
    ``(batch, oh, ow, kh, kw, channels)``: no copy."""
    (kh, kw), (sh, sw), (dh, dw) = geo.window, geo.strides, geo.dilation
    view = sliding_window_view(x, ((kh - 1) * dh + 1, (kw - 1) * dw + 1), axis=(1, 2))
    view = view[:, : (geo.out_rows - 1) * sh + 1: sh, : (geo.out_cols - 1) * sw + 1: sw,
                :, ::dh, ::dw]
    return view.transpose(0, 1, 2, 4, 5, 3)
