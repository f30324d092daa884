"""Argument checks and output shapes of Conv2D and pooling (channels_last), with
Keras's messages. The window geometry itself (output sizes, 'same' padding, the
copy plans of im2col) lives with the kernels, in ``tinyann.kernels.geometry``.
"""

from __future__ import annotations

import numpy as np

from tinyann.kernels.geometry import ConvGeometry, output_length, same_padding  # noqa: F401


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


def normalize_data_format(value, channels_first=False) -> str:
    """``'channels_last'`` (the Keras default), or ``'channels_first'`` for the layers
    that take it (``channels_first=True``: the 1-D ones); else Keras's errors."""
    data_format = "channels_last" if value is None else str(value).lower()
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={value}"
        )
    if data_format == "channels_first" and not channels_first:
        raise NotImplementedError(
            "tinyann implements channels_last images (batch, rows, cols, channels) only. "
            "Received: data_format='channels_first'; transpose the data with "
            "np.transpose(x, (0, 2, 3, 1)) instead."
        )
    return data_format


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


def check_filters_and_groups(filters, groups=1) -> None:
    """Keras's errors for a convolution's ``filters`` and (unsupported) ``groups``."""
    if isinstance(filters, bool) or not isinstance(filters, (int, np.integer)) or filters <= 0:
        raise ValueError(
            "Invalid value for argument `filters`. Expected a strictly positive value. "
            f"Received filters={filters}."
        )
    if groups != 1:
        raise NotImplementedError(
            f"Grouped convolutions are not supported by tinyann yet. Received: groups={groups}"
        )


def pooling_config(layer, config) -> dict:
    """A pooling layer's config entries, after the base ones in ``config``."""
    config.update(pool_size=layer.pool_size, padding=layer.padding, strides=layer.strides,
                  data_format=layer.data_format)
    return config


def set_conv_arguments(layer, filters, kernel_size, strides, padding, dilation_rate,
                       data_format) -> None:
    """A convolution layer's ``filters``, ``kernel_size``, ``strides``, ``padding``,
    ``dilation_rate`` and ``data_format``, checked and normalised as Keras does."""
    layer.filters = int(filters)
    layer.kernel_size = normalize_tuple(kernel_size, 2, "kernel_size")
    layer.strides = normalize_tuple(strides, 2, "strides")
    layer.dilation_rate = normalize_tuple(dilation_rate, 2, "dilation_rate")
    layer.padding = normalize_padding(padding)
    layer.data_format = normalize_data_format(data_format)


def channels_of(input_shape, axis=-1) -> int:
    """The channel count of ``input_shape`` at ``axis``; Keras's error when unknown."""
    channels = input_shape[axis]
    if channels is None:
        raise ValueError(
            "The channel dimension of the inputs should be defined. The input_shape "
            f"received is {tuple(input_shape)}, where axis {axis} (0-based) is the channel "
            "dimension, which found to be `None`."
        )
    return channels


def check_strides_and_dilation(strides, dilation_rate) -> None:
    """Keras refuses strides above 1 together with a dilation above 1."""
    if max(strides) > 1 and max(dilation_rate) > 1:
        raise ValueError(
            "`strides > 1` not supported in conjunction with `dilation_rate > 1`. "
            f"Received: strides={strides} and dilation_rate={dilation_rate}"
        )
