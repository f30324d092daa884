"""Lambda: a function of ``keras.ops`` as a layer (``Lambda(lambda x: ops.abs(x))``).

It trains as a user's layer written with ops does: each call runs the function on a
GradientTape, whose gradient is the layer's backward (tinyann/models/tracing.py).
Saved as Keras 3 saves it (a Python lambda as marshalled bytecode, which Keras loads
with ``safe_mode=False``); tinyann never runs code from a file, so it refuses to load
a Lambda and says how to pass the function instead (tinyann/saving/objects.py).
"""

from __future__ import annotations

import base64
import inspect
import marshal
import types

from tinyann.layers.layer import Layer


class Lambda(Layer):
    """Wraps ``function(inputs, **arguments)`` as a layer.

    Args:
        function: takes the input (a Tensor, or a list of them) and returns the output;
            it may take ``mask`` and ``training`` keywords.
        output_shape: the output's shape without the batch axis (a tuple), or a
            function of the input shape; inferred by running the function when None.
        mask: the output's mask: None, a function ``(inputs, mask) -> mask``, or a
            value returned as it is.
        arguments: keyword arguments for ``function``.
    """

    # run on values and differentiated on a tape, as a user's layer of ops
    _composite = True

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        super().__init__(**kwargs)
        if not callable(function):
            raise TypeError("Lambda expects a callable `function`. Received: "
                            f"{type(function).__name__} {function!r:.80}")
        self.function = function
        self.arguments = dict(arguments or {})
        self.mask = mask
        self.supports_masking = mask is not None
        self._output_shape = output_shape
        try:
            names = inspect.signature(function).parameters
        except (TypeError, ValueError):
            names = {}
        self._wants_mask, self._wants_training = "mask" in names, "training" in names

    def call(self, inputs, mask=None, training=None):
        kwargs = dict(self.arguments)
        if self._wants_mask:
            kwargs["mask"] = mask
        if self._wants_training:
            kwargs["training"] = training
        return self.function(inputs, **kwargs)

    def compute_mask(self, inputs, mask=None):
        return self.mask(inputs, mask) if callable(self.mask) else self.mask

    def compute_output_shape(self, input_shape):
        if self._output_shape is None:
            return super().compute_output_shape(input_shape)
        if callable(self._output_shape):
            return tuple(self._output_shape(input_shape))
        first = input_shape[0] if input_shape and isinstance(input_shape[0], (list, tuple)) \
            else input_shape
        return (first[0],) + tuple(self._output_shape)

    @classmethod
    def from_config(cls, config):
        """A named function of ``keras.ops`` or ``keras.activations`` is found again by
        name; a Python lambda, or any other function, is code that tinyann does not load
        from a file: it says how to give the function instead."""
        config = dict(config)
        for key in ("function", "output_shape", "mask"):
            entry = config.get(key)
            if isinstance(entry, dict) and "class_name" in entry:
                config[key] = _named_function(entry, key)
            elif isinstance(entry, str) and key != "mask":  # a name, as activations are
                config[key] = _named_function(
                    {"class_name": "function", "module": "keras.ops", "config": entry}, key)
        if isinstance(config.get("output_shape"), list):
            config["output_shape"] = tuple(config["output_shape"])
        return super().from_config(config)

    def get_config(self):
        config = super().get_config()
        config["function"] = _function_config(self.function)
        if self._output_shape is not None:
            config["output_shape"] = (_function_config(self._output_shape)
                                      if callable(self._output_shape)
                                      else list(self._output_shape))
        if self.mask is not None:
            config["mask"] = _function_config(self.mask) if callable(self.mask) else self.mask
        config["arguments"] = self.arguments
        return config


def _function_config(fn) -> dict:
    """Keras's entry for a function: a Python lambda as base64 of its marshalled code
    (with its defaults and closure values), a named function by its name."""
    if isinstance(fn, types.LambdaType) and fn.__name__ == "<lambda>":
        closure = (tuple(cell.cell_contents for cell in fn.__closure__)
                   if fn.__closure__ else None)
        return {"class_name": "__lambda__", "config": {
            "code": base64.encodebytes(marshal.dumps(fn.__code__)).decode("ascii"),
            "defaults": fn.__defaults__, "closure": closure}}
    module = getattr(fn, "__module__", None) or ""
    if module.startswith("tinyann.ops"):
        module = "keras.ops"  # where Keras finds the same op
    return {"module": module, "class_name": "function",
            "config": getattr(fn, "__name__", repr(fn)), "registered_name": "function"}


def _named_function(entry, key):
    """The function an entry names, from tinyann's ops or activations; else an error."""
    import importlib

    module = str(entry.get("module") or "")
    name = entry.get("config")
    if entry.get("class_name") == "function" and isinstance(name, str) and module.split(
            ".")[0] in ("keras", "tinyann"):
        for place in ("tinyann.ops", "tinyann.activations"):
            found = getattr(importlib.import_module(place), name, None)
            if callable(found):
                return found
    raise ValueError(
        f"Requested the deserialization of a Lambda layer whose `{key}` is Python code "
        f"({entry.get('class_name')} {name if isinstance(name, str) else ''}). tinyann never "
        "runs code from a model file, with or without safe_mode: make the Lambda in your "
        "program, or pass `custom_objects={'Lambda': ...}` with a layer class of your own.")
