"""``keras.InputSpec``: what a layer's ``input_spec`` attribute says about its inputs
(rank, shape, axes, dtype), checked with Keras's messages when the layer is called.

    class MyLayer(keras.layers.Layer):
        def __init__(self):
            super().__init__()
            self.input_spec = keras.InputSpec(ndim=4, axes={-1: 3})

The dtype is checked on symbolic tensors only: arrays are cast to the layer's dtype
when called, as Keras converts them before its check.
"""

from __future__ import annotations

from tinyann import backend


def _shape(shape) -> tuple:
    return tuple(None if d is None else int(d) for d in shape)


class InputSpec:
    """The rank, dtype and shape a layer's input must have (``None``: any).

    Args:
        dtype: the input's dtype.
        shape: the full shape, batch axis included (``None`` for any size).
        ndim / max_ndim / min_ndim: its rank, or bounds on it.
        axes: ``{axis: size}`` for particular axes.
        allow_last_axis_squeeze: a last axis of size 1 may be there or not.
        name: the input's key when inputs are given as a dict.
        optional: whether the input may be None.
    """

    def __init__(self, dtype=None, shape=None, ndim=None, max_ndim=None, min_ndim=None,
                 axes=None, allow_last_axis_squeeze=False, name=None, optional=False):
        self.dtype = backend.standardize_dtype(dtype) if dtype is not None else None
        if shape is not None:
            self.shape = _shape(shape)
            self.ndim = len(shape)
        else:
            self.ndim = ndim
            self.shape = None
        self.max_ndim = max_ndim
        self.min_ndim = min_ndim
        self.name = name
        self.optional = optional
        self.allow_last_axis_squeeze = allow_last_axis_squeeze
        try:
            axes = axes or {}
            self.axes = {int(k): axes[k] for k in axes}
        except (ValueError, TypeError):
            raise TypeError(
                f"Argument `axes` must be a dict with integer keys. Received: axes={axes}"
            ) from None
        if self.axes and (self.ndim is not None or self.max_ndim is not None):
            max_dim = (self.ndim if self.ndim else self.max_ndim) - 1
            max_axis = max(self.axes)
            if max_axis > max_dim:
                raise ValueError(
                    f"Axis {max_axis} is greater than the maximum allowed value: {max_dim}")

    def __repr__(self):
        spec = [f"dtype={self.dtype}" if self.dtype else "",
                f"shape={self.shape}" if self.shape else "",
                f"ndim={self.ndim}" if self.ndim else "",
                f"max_ndim={self.max_ndim}" if self.max_ndim else "",
                f"min_ndim={self.min_ndim}" if self.min_ndim else "",
                f"axes={self.axes}" if self.axes else ""]
        return f"InputSpec({', '.join(x for x in spec if x)})"

    def get_config(self):
        return {"dtype": self.dtype, "shape": self.shape, "ndim": self.ndim,
                "max_ndim": self.max_ndim, "min_ndim": self.min_ndim, "axes": self.axes,
                "optional": self.optional}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _flatten(structure) -> list:
    if isinstance(structure, (list, tuple)):
        return [x for item in structure for x in _flatten(item)]
    if isinstance(structure, dict):
        return [x for key in sorted(structure) for x in _flatten(structure[key])]
    return [structure]


def _incompatible(index, spec, layer_name, detail):
    return ValueError(f"Input {index} with name '{spec.name}' of layer '{layer_name}' is "
                      f"incompatible with the layer: {detail}")


def assert_input_compatibility(input_spec, inputs, layer_name) -> None:
    """Raises Keras's ValueError when ``inputs`` do not fit ``input_spec`` (an
    InputSpec or a nested structure of them, one per input)."""
    if not input_spec:
        return
    specs = _flatten(input_spec)
    if isinstance(inputs, dict):
        names = [spec.name for spec in specs]
        if all(names):
            for name in names:
                if name not in inputs:
                    raise ValueError(
                        f'Missing data for input "{name}". You passed a data dictionary '
                        f"with keys {list(inputs.keys())}. Expected the following keys: "
                        f"{names}")
            inputs = [inputs[name] for name in names]
    inputs = _flatten(inputs)
    if len(inputs) != len(specs):
        raise ValueError(
            f'Layer "{layer_name}" expects {len(specs)} input(s), but it received '
            f"{len(inputs)} input tensors.")
    from tinyann.layers.keras_tensor import KerasTensor

    for index, (x, spec) in enumerate(zip(inputs, specs)):
        if spec is None or (x is None and spec.optional):
            continue
        if not hasattr(x, "shape"):
            raise ValueError(f"Inputs to a layer should be tensors. Got '{x}' (of type "
                             f"{type(x)}) as input for layer '{layer_name}'.")
        shape = _shape(x.shape)
        ndim = len(shape)
        if spec.ndim is not None and not spec.allow_last_axis_squeeze and ndim != spec.ndim:
            raise _incompatible(index, spec, layer_name,
                                f"expected ndim={spec.ndim}, found ndim={ndim}. Full shape "
                                f"received: {shape}")
        if spec.max_ndim is not None and ndim > spec.max_ndim:
            raise _incompatible(index, spec, layer_name,
                                f"expected max_ndim={spec.max_ndim}, found ndim={ndim}")
        if spec.min_ndim is not None and ndim < spec.min_ndim:
            raise _incompatible(index, spec, layer_name,
                                f"expected min_ndim={spec.min_ndim}, found ndim={ndim}. "
                                f"Full shape received: {shape}")
        if spec.dtype is not None and isinstance(x, KerasTensor):
            dtype = backend.standardize_dtype(x.dtype)
            if dtype != spec.dtype:
                raise _incompatible(index, spec, layer_name,
                                    f"expected dtype={spec.dtype}, found dtype={dtype}")
        for axis, value in spec.axes.items():
            if value is not None and shape[axis] not in (value, None):
                raise _incompatible(index, spec, layer_name,
                                    f"expected axis {axis} of input shape to have value "
                                    f"{value}, but received input with shape {shape}")
        if spec.shape is not None:
            spec_shape = spec.shape
            if spec.allow_last_axis_squeeze:
                if shape and shape[-1] == 1:
                    shape = shape[:-1]
                if spec_shape and spec_shape[-1] == 1:
                    spec_shape = spec_shape[:-1]
            for spec_dim, dim in zip(spec_shape, shape):
                if spec_dim is not None and dim is not None and spec_dim != dim:
                    raise _incompatible(index, spec, layer_name,
                                        f"expected shape={spec.shape}, found shape={shape}")
