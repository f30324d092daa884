"""Wrappers: Bidirectional (a recurrent layer run both ways) and TimeDistributed (a
layer applied to every step of a sequence), with Keras 3's arguments, configs and
weight paths (``bidirectional/forward_lstm/lstm_cell/kernel``,
``time_distributed/dense/kernel``).
"""

from __future__ import annotations

import numpy as np

from tinyann.layers import _registry
from tinyann.layers._state_inputs import BuiltWithStates
from tinyann.layers.keras_tensor import is_symbolic
from tinyann.layers.layer import Layer

MERGE_MODES = ("sum", "mul", "ave", "concat", None)


def _serialize(layer):
    """Keras's form of a nested layer (as ``keras.layers.serialize``)."""
    registered = _registry.registered_name(type(layer))
    return {"module": None if registered else "keras.layers",
            "class_name": type(layer).__name__, "config": layer.get_config(),
            "registered_name": registered}


def _deserialize(config):
    return _registry.get_class(config["class_name"], config.get("registered_name")).from_config(
        config.get("config") or {})


def _clone(layer, name, **changes):
    """A new layer of ``layer``'s class and config, renamed, with ``changes``."""
    config = dict(layer.get_config(), name=name, **changes)
    return type(layer).from_config(config)


def _frozen(layer, x, mask=None):
    """``layer`` in inference mode, recording what its backward needs (``mask``: the
    sequence's, for a layer that takes one)."""
    frozen_call = getattr(layer, "_frozen_call", None)
    if mask is not None and getattr(layer, "takes_mask", False):
        return (frozen_call(x, mask=mask) if frozen_call is not None
                else layer.call(x, training=True, mask=mask))
    return frozen_call(x) if frozen_call is not None else layer.call(x, training=True)


class Bidirectional(BuiltWithStates, Layer):
    """Runs a recurrent layer forwards and a copy of it backwards, and merges the two.

    Args:
        layer: a SimpleRNN, LSTM or GRU; it is copied as ``forward_<name>``.
        merge_mode: how the two outputs combine: ``'concat'`` (default, the last
            axis doubles), ``'sum'``, ``'mul'``, ``'ave'``, or None: the list
            ``[forward output, backward output]``.
        backward_layer: the backward layer (``go_backwards=True``); a copy of
            ``layer`` named ``backward_<name>`` when None.

    Input shape: ``(batch, steps, features)``. Output shape: ``(batch, 2 * units)``
    with ``'concat'`` (``(batch, steps, 2 * units)`` with ``return_sequences``), else
    ``(batch, units)``. With ``return_sequences`` the backward outputs are put back
    in time order before merging, as Keras does. With the layer's ``return_state``
    the outputs are a list: the merged output (or the two outputs), then the forward
    layer's states, then the backward layer's. ``initial_state=``: the forward
    layer's states, then the backward layer's.
    """

    takes_mask = True

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None,
                 **kwargs):
        if not isinstance(layer, Layer) or not hasattr(layer, "go_backwards"):
            raise ValueError("Please initialize `Bidirectional` layer with a recurrent "
                             f"`keras.layers.Layer` instance. Received: {layer!r}")
        if merge_mode not in MERGE_MODES:
            raise ValueError(f"Invalid merge mode. Received: {merge_mode}. Merge mode "
                             'should be one of {"sum", "mul", "ave", "concat", None}')
        if weights is not None:
            raise NotImplementedError("Bidirectional: `weights=` is not supported by "
                                      "tinyann yet; use set_weights after building")
        super().__init__(**kwargs)
        base = layer.name[len("forward_"):] if layer.name.startswith("forward_") \
            else layer.name
        if backward_layer is None:
            self.forward_layer = _clone(layer, f"forward_{base}")
            self.backward_layer = _clone(layer, f"backward_{base}",
                                         go_backwards=not layer.go_backwards)
        else:
            if backward_layer.go_backwards == layer.go_backwards:
                raise ValueError("Forward layer and backward layer should have different "
                                 "`go_backwards` value. Received: forward_layer."
                                 f"go_backwards={layer.go_backwards}, backward_layer."
                                 f"go_backwards={backward_layer.go_backwards}")
            self.forward_layer, self.backward_layer = layer, backward_layer
        for attribute in ("return_sequences", "return_state"):
            if getattr(self.forward_layer, attribute) != getattr(self.backward_layer,
                                                                 attribute):
                raise ValueError(f"Forward layer and backward layer should have the same "
                                 f"`{attribute}`.")
        self.merge_mode = merge_mode
        self.return_sequences = self.forward_layer.return_sequences
        self.return_state = self.forward_layer.return_state
        self.stateful = getattr(self.forward_layer, "stateful", False)
        self._tracked = {"forward_layer": self.forward_layer,
                         "backward_layer": self.backward_layer}
        self._cache = None

    def build(self, input_shape):
        self.forward_layer._maybe_build(input_shape)
        self.backward_layer._maybe_build(input_shape)
        self.built = True

    def _check_input(self, shape):
        self.forward_layer._check_input(shape)

    @property
    def _state_count(self):
        return getattr(self.forward_layer, "state_count", 1)

    def __call__(self, inputs, initial_state=None, training=None, **kwargs):
        """``initial_state``: the forward layer's states, then the backward layer's."""
        if initial_state is None:
            return super().__call__(inputs, training=training, **kwargs)
        states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [
            initial_state]
        if len(states) != 2 * self._state_count:
            raise ValueError(
                f"Layer '{self.name}' (Bidirectional) expects {2 * self._state_count} "
                "initial states (the forward layer's, then the backward layer's), but "
                f"received {len(states)}.")
        if not self.built:
            self._states_as_list = isinstance(initial_state, (list, tuple))
        out = super().__call__([inputs, *states], training=training, **kwargs)
        if is_symbolic(states) or is_symbolic(inputs):
            self._inbound_nodes[-1].tensor_kwargs = {
                "initial_state": (len(states), isinstance(initial_state, (list, tuple)))}
        return out

    def _halves(self, shape_or_inputs):
        """``(forward layer's input, backward layer's input)``: the sequences, with
        half of the initial states each when given."""
        if not isinstance(shape_or_inputs, list):
            return shape_or_inputs, shape_or_inputs
        x, states = shape_or_inputs[0], shape_or_inputs[1:]
        half = len(states) // 2
        return [x, *states[:half]], [x, *states[half:]]

    def compute_output_shape(self, input_shape):
        """The merged output's shape (two with ``merge_mode=None``), then the states'."""
        if isinstance(input_shape, list):
            input_shape = input_shape[0]
        shape = self.forward_layer.compute_output_shape(input_shape)
        states = []
        if self.return_state:
            shape, states = shape[0], list(shape[1:])
        shape = tuple(shape)
        if self.merge_mode == "concat":
            shape = shape[:-1] + (2 * shape[-1],)
        outputs = [shape, shape] if self.merge_mode is None else [shape]
        if self.return_state:
            return outputs + states + states
        return outputs if self.merge_mode is None else shape

    def compute_mask(self, inputs, mask=None):
        output_mask = mask if self.return_sequences else None
        masks = [output_mask] * (2 if self.merge_mode is None else 1)
        if self.return_state:
            return masks + [None] * (2 * self._state_count)
        return masks if self.merge_mode is None else output_mask

    def reset_state(self):
        """Zeros both layers' states (Keras raises for a layer that is not stateful)."""
        if not self.stateful:
            raise AttributeError("Layer must be stateful.")
        self.forward_layer.reset_state()
        self.backward_layer.reset_state()

    def reset_states(self):
        """Keras's compatibility alias of :meth:`reset_state`."""
        self.reset_state()

    # ------------------------------------------------------------ math
    def call(self, inputs, training=False, mask=None):
        """``mask (batch, steps)``: both directions keep their state over masked steps;
        with ``return_sequences`` the outputs there are zeros (Keras's
        ``zero_output_for_mask``)."""
        forward_in, backward_in = self._halves(inputs)
        if mask is None:
            y = self.forward_layer.call(forward_in, training=training)
            y_rev = self.backward_layer.call(backward_in, training=training)
        else:
            y = self.forward_layer.call(forward_in, training=training, mask=mask)
            y_rev = self.backward_layer.call(backward_in, training=training, mask=mask)
        return self._merge(y, y_rev, mask, record=training)

    def _frozen_call(self, inputs, mask=None):
        forward_in, backward_in = self._halves(inputs)
        y = _frozen(self.forward_layer, forward_in, mask)
        y_rev = _frozen(self.backward_layer, backward_in, mask)
        return self._merge(y, y_rev, mask, record=True)

    def _merge(self, y, y_rev, mask, record):
        states = []
        if self.return_state:
            states = list(y[1:]) + list(y_rev[1:])
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev[:, ::-1]
        keep = None
        if mask is not None and self.return_sequences:
            keep = np.asarray(mask, dtype=bool)[:, :, None]
            y, y_rev = y * keep, y_rev * keep
        if record:
            self._cache = (y, y_rev, keep)
        if self.merge_mode == "concat":
            outputs = [np.concatenate([y, y_rev], axis=-1)]
        elif self.merge_mode == "sum":
            outputs = [y + y_rev]
        elif self.merge_mode == "ave":
            outputs = [(y + y_rev) / 2]
        elif self.merge_mode == "mul":
            outputs = [y * y_rev]
        else:
            outputs = [y, np.ascontiguousarray(y_rev)]
        if self.return_state or self.merge_mode is None:
            return outputs + states
        return outputs[0]

    def backward(self, grad_output):
        """dL/dinputs from dL/doutputs (a list with ``merge_mode=None`` or
        ``return_state``, None for unused outputs)."""
        y, y_rev, keep = self._cache
        state_grads = [None] * (2 * self._state_count)
        if isinstance(grad_output, list):
            n_out = 2 if self.merge_mode is None else 1
            if self.return_state:
                state_grads = list(grad_output[n_out:])
            grad_output = grad_output[:n_out] if self.merge_mode is None else grad_output[0]
        if self.merge_mode is None:
            g, g_rev = grad_output
            g = np.zeros_like(y) if g is None else g
            g_rev = np.zeros_like(y_rev) if g_rev is None else g_rev
        elif grad_output is None:
            g, g_rev = np.zeros_like(y), np.zeros_like(y_rev)
        elif self.merge_mode == "concat":
            units = y.shape[-1]
            g, g_rev = grad_output[..., :units], grad_output[..., units:]
        elif self.merge_mode == "sum":
            g = g_rev = grad_output
        elif self.merge_mode == "ave":
            g = g_rev = grad_output / 2
        else:
            g, g_rev = grad_output * y_rev, grad_output * y
        if keep is not None:
            g, g_rev = g * keep, g_rev * keep
        if self.return_sequences:
            g_rev = g_rev[:, ::-1]
        g, g_rev = np.ascontiguousarray(g), np.ascontiguousarray(g_rev)
        if self.return_state:
            half = self._state_count
            g, g_rev = [g, *state_grads[:half]], [g_rev, *state_grads[half:]]
        dx = self.forward_layer.backward(g)
        dx_rev = self.backward_layer.backward(g_rev)
        if isinstance(dx, list):  # initial states given: [dx, *forward, *backward states]
            return [dx[0] + dx_rev[0], *dx[1:], *dx_rev[1:]]
        return dx + dx_rev

    # ------------------------------------------------------------ config
    def get_config(self):
        config = super().get_config()
        config.update(merge_mode=self.merge_mode, layer=_serialize(self.forward_layer),
                      backward_layer=_serialize(self.backward_layer))
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["layer"] = _deserialize(config["layer"])
        if config.get("backward_layer") is not None:
            config["backward_layer"] = _deserialize(config["backward_layer"])
        return super().from_config(config)


class TimeDistributed(Layer):
    """Applies ``layer`` to every step of a sequence (the same weights at each step).

    Input shape: ``(batch, steps, ...)``; the layer sees ``(batch * steps, ...)``.
    Output shape: ``(batch, steps) + layer's output shape without its batch axis``.
    """

    supports_masking = True

    def __init__(self, layer, **kwargs):
        if not isinstance(layer, Layer):
            raise ValueError("Please initialize `TimeDistributed` layer with a "
                             f"`keras.layers.Layer` instance. Received: {layer!r}")
        super().__init__(**kwargs)
        self.layer = layer
        self._tracked = {"layer": layer}
        self._shape = None

    def _inner_shape(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError("`TimeDistributed` Layer should be passed an `input_shape` "
                             f"with at least 3 dimensions, received: {tuple(input_shape)}")
        return (input_shape[0],) + tuple(input_shape[2:])

    def build(self, input_shape):
        self.layer._maybe_build(self._inner_shape(input_shape))
        self.built = True

    def _check_input(self, shape):
        self.layer._check_input(self._inner_shape(shape))

    def compute_output_shape(self, input_shape):
        inner = self.layer.compute_output_shape(self._inner_shape(input_shape))
        return (input_shape[0], input_shape[1]) + tuple(inner[1:])

    def _apply(self, inputs, run):
        batch, steps = inputs.shape[:2]
        y = run(np.ascontiguousarray(inputs).reshape((batch * steps,) + inputs.shape[2:]))
        self._shape = inputs.shape
        return y.reshape((batch, steps) + y.shape[1:])

    def call(self, inputs, training=False):
        return self._apply(inputs, lambda x: self.layer.call(x, training=training))

    def _frozen_call(self, inputs):
        return self._apply(inputs, lambda x: _frozen(self.layer, x))

    def backward(self, grad_output):
        batch, steps = grad_output.shape[:2]
        g = np.ascontiguousarray(grad_output).reshape((batch * steps,) + grad_output.shape[2:])
        return self.layer.backward(g).reshape(self._shape)

    def get_config(self):
        config = super().get_config()
        config["layer"] = _serialize(self.layer)
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["layer"] = _deserialize(config["layer"])
        return super().from_config(config)
