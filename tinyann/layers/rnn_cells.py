"""Keras 3's recurrent cells: SimpleRNNCell, LSTMCell, GRUCell.

A cell computes one time step: ``call(inputs (batch, features), states, training)``
returns ``(output (batch, units), new_states)``. ``keras.layers.RNN`` runs it over a
sequence. The weights, their names, shapes and order are Keras's (``kernel
(features, gates * units)``, ``recurrent_kernel (units, gates * units)``, ``bias``), the
same as the LSTM / GRU / SimpleRNN layers' cells, so ``RNN(LSTMCell(8))`` and
``LSTM(8)`` hold interchangeable weights.

A cell's ``call`` is written with ``keras.ops`` (a GradientTape differentiates it, for
a cell called alone or inside ``StackedRNNCells`` or a user's cell). ``RNN`` over one
of these cells does not step through it: it runs the recurrent layers' kernels
(``kernels.lstm_forward`` ...: the same math, a compiled time loop and a hand-written
backward through time), see ``rnn_layer.py``.

Dropout (training only), as Keras's ``DropoutRNNCell``: one input mask ``(batch,
features)`` and one recurrent mask ``(batch, units)`` made at the first step of a
sequence and reused until ``RNN`` resets them (Keras's LSTM/GRU cells with recurrent
dropout draw one mask per gate; tinyann draws one, as its LSTM and GRU layers do).
"""

from __future__ import annotations

import inspect

import numpy as np

from tinyann import activations, backend, constraints, initializers, ops, regularizers
from tinyann.layers import _registry
from tinyann.layers._kernel_layer import is_positive_int
from tinyann.layers.layer import Layer
from tinyann.layers.recurrent import _UnitForgetBias


class _BuiltinCell(Layer):
    """What the three cells share: arguments, weights, dropout masks, config."""

    kind = "rnn"          # the recurrent kernels' name (kernels.<kind>_forward)
    gates = 1
    uses_recurrent_activation = True

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, **kwargs):
        if not is_positive_int(units):
            raise ValueError("Received an invalid value for argument `units`, expected a "
                             f"positive integer, got {units!r}.")
        for name, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
                raise ValueError(f"Received an invalid value for argument `{name}`, expected "
                                 f"a float between 0 and 1. Received: {name}={rate!r}")
        kwargs.pop("implementation", None)  # Keras's kernel layout switch: one form here
        super().__init__(**kwargs)
        self.units = int(units)
        self.activation = activations.get(activation)
        self.recurrent_activation = activations.get(recurrent_activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer, self.recurrent_initializer, self.bias_initializer = (
            initializers.get(v) for v in (kernel_initializer, recurrent_initializer,
                                          bias_initializer))
        self.kernel_regularizer, self.recurrent_regularizer, self.bias_regularizer = (
            regularizers.get(v) for v in (kernel_regularizer, recurrent_regularizer,
                                          bias_regularizer))
        self.kernel_constraint, self.recurrent_constraint, self.bias_constraint = (
            constraints.get(v) for v in (kernel_constraint, recurrent_constraint,
                                         bias_constraint))
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)
        self.state_size = self.units
        self.output_size = self.units
        self._dropout_mask = self._recurrent_dropout_mask = None

    # ------------------------------------------------------------ weights
    def _bias_shape(self):
        return (self.gates * self.units,)

    def _bias_initializer(self):
        return self.bias_initializer

    def build(self, input_shape):
        """``input_shape``: one step's ``(batch, features)``."""
        width = self.gates * self.units
        self.kernel = self.add_weight((input_shape[-1], width), self.kernel_initializer,
                                      name="kernel", regularizer=self.kernel_regularizer,
                                      constraint=self.kernel_constraint)
        self.recurrent_kernel = self.add_weight(
            (self.units, width), self.recurrent_initializer, name="recurrent_kernel",
            regularizer=self.recurrent_regularizer, constraint=self.recurrent_constraint)
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(self._bias_shape(), self._bias_initializer(),
                                        name="bias", regularizer=self.bias_regularizer,
                                        constraint=self.bias_constraint)
        self.built = True

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.units)

    def __call__(self, inputs, states=None, training=None, **kwargs):
        """``cell(inputs, states)`` as Keras: one step, ``(output, new_states)``."""
        if states is None:
            return super().__call__(inputs, training=training, **kwargs)
        self._maybe_build(tuple(np.shape(inputs)))
        return self.call(inputs, states, training=bool(training))

    # ------------------------------------------------------------ states and dropout
    def get_initial_state(self, batch_size=None):
        """Zeros: one ``(batch_size, units)`` array per state, in a list."""
        sizes = self.state_size if isinstance(self.state_size, list) else [self.state_size]
        return [np.zeros((batch_size, d), dtype=self.dtype) for d in sizes]

    def _mask(self, like, rate):
        value = np.asarray(getattr(like, "value", like))
        rng = self._rng if self._rng is not None else backend.rng()
        keep = rng.random(value.shape) >= rate
        return (keep / (1.0 - rate)).astype(value.dtype)

    def get_dropout_mask(self, step_input):
        """The input dropout mask ``(batch, features)``, made once per sequence."""
        if not 0 < self.dropout < 1:
            return None
        if self._dropout_mask is None:
            self._dropout_mask = self._mask(step_input, self.dropout)
        return self._dropout_mask

    def get_recurrent_dropout_mask(self, step_input):
        """The recurrent dropout mask ``(batch, units)``, made once per sequence."""
        if not 0 < self.recurrent_dropout < 1:
            return None
        if self._recurrent_dropout_mask is None:
            self._recurrent_dropout_mask = self._mask(step_input, self.recurrent_dropout)
        return self._recurrent_dropout_mask

    def reset_dropout_mask(self):
        self._dropout_mask = None

    def reset_recurrent_dropout_mask(self):
        self._recurrent_dropout_mask = None

    def _dropped(self, inputs, h, training):
        """The step's input and previous output with this sequence's dropout masks."""
        if training:
            mask = self.get_dropout_mask(inputs)
            if mask is not None:
                inputs = inputs * mask
            mask = self.get_recurrent_dropout_mask(h)
            if mask is not None:
                h = h * mask
        return inputs, h

    # ------------------------------------------------------------ config
    def get_config(self):
        config = super().get_config()
        config.update(units=self.units, activation=activations.serialize(self.activation))
        if self.uses_recurrent_activation:
            config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        config["use_bias"] = self.use_bias
        if hasattr(self, "unit_forget_bias"):
            config["unit_forget_bias"] = self.unit_forget_bias
        config.update(
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            recurrent_initializer=initializers.serialize(self.recurrent_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer),
            kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
            recurrent_regularizer=regularizers.serialize(self.recurrent_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
            kernel_constraint=constraints.serialize(self.kernel_constraint),
            recurrent_constraint=constraints.serialize(self.recurrent_constraint),
            bias_constraint=constraints.serialize(self.bias_constraint),
            dropout=self.dropout, recurrent_dropout=self.recurrent_dropout)
        if hasattr(self, "reset_after"):
            config["reset_after"] = self.reset_after
        config["seed"] = self.seed
        return config


def _first(states):
    return states[0] if isinstance(states, (list, tuple)) else states


class SimpleRNNCell(_BuiltinCell):
    """One step of SimpleRNN: ``h = activation(x W + h_prev U + b)``.

    Args: ``units``, ``activation`` ("tanh"), ``use_bias``, the initializers,
    regularizers and constraints of ``kernel``, ``recurrent_kernel``, ``bias``,
    ``dropout``, ``recurrent_dropout``, ``seed`` (Keras's names and defaults).

    ``call(inputs (batch, features), states [h (batch, units)])`` returns ``(h, [h])``
    (``(h, h)`` when ``states`` is one array, as Keras).

    Example:
        >>> layer = keras.layers.RNN(keras.layers.SimpleRNNCell(4))
    """

    kind = "simple_rnn"
    uses_recurrent_activation = False

    def __init__(self, units, activation="tanh", use_bias=True, **kwargs):
        kwargs.pop("recurrent_activation", None)
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)

    def call(self, inputs, states, training=False):
        x, h = self._dropped(inputs, _first(states), training)
        z = ops.matmul(x, self.kernel)
        if self.bias is not None:
            z = z + self.bias
        h = self.activation(z + ops.matmul(h, self.recurrent_kernel))
        return h, ([h] if isinstance(states, (list, tuple)) else h)


class LSTMCell(_BuiltinCell):
    """One step of LSTM, Keras's gates i, f, c, o (in that order in the weights)::

        z = x W + h_prev U + b;  i, f, o = recurrent_activation(z_i, z_f, z_o)
        c = f * c_prev + i * activation(z_c);  h = o * activation(c)

    Args (beyond SimpleRNNCell's): ``recurrent_activation`` ("sigmoid"),
    ``unit_forget_bias`` (True: the forget gate's bias starts at 1).

    ``state_size`` is ``[units, units]``: ``call(inputs, [h, c])`` returns
    ``(h, [h, c])``.
    """

    kind = "lstm"
    gates = 4

    def __init__(self, units, unit_forget_bias=True, **kwargs):
        super().__init__(units, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.state_size = [self.units, self.units]

    def _bias_initializer(self):
        if self.unit_forget_bias:
            return _UnitForgetBias(self.bias_initializer, self.units)
        return self.bias_initializer

    def call(self, inputs, states, training=False):
        h, c = states[0], states[1]
        x, h = self._dropped(inputs, h, training)
        z = ops.matmul(x, self.kernel) + ops.matmul(h, self.recurrent_kernel)
        if self.bias is not None:
            z = z + self.bias
        u = self.units
        i = self.recurrent_activation(z[:, :u])
        f = self.recurrent_activation(z[:, u:2 * u])
        c = f * c + i * self.activation(z[:, 2 * u:3 * u])
        o = self.recurrent_activation(z[:, 3 * u:])
        h = o * self.activation(c)
        return h, [h, c]


class GRUCell(_BuiltinCell):
    """One step of GRU, Keras's gates z, r, h (in that order in the weights)::

        z, r = recurrent_activation(x W_zr + b_zr + h_prev U_zr + b'_zr)
        hh = activation(x W_h + b_h + r * (h_prev U_h + b'_h))   # reset_after=True
        h = z * h_prev + (1 - z) * hh

    Args (beyond SimpleRNNCell's): ``recurrent_activation`` ("sigmoid"),
    ``reset_after`` (Keras 3's default True: the reset gate applies after the
    recurrent product, and ``bias`` is ``(2, 3 * units)``: input bias, recurrent bias;
    False: ``hh = activation(x W_h + b_h + (r * h_prev) U_h)``, ``bias (3 * units,)``).
    """

    kind = "gru"
    gates = 3

    def __init__(self, units, reset_after=True, **kwargs):
        super().__init__(units, **kwargs)
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def call(self, inputs, states, training=False):
        h_prev = _first(states)
        x, hm = self._dropped(inputs, h_prev, training)
        u = self.units
        input_bias = recurrent_bias = None
        if self.bias is not None:
            input_bias, recurrent_bias = ((self.bias[0], self.bias[1]) if self.reset_after
                                          else (self.bias, None))
        mx = ops.matmul(x, self.kernel)
        if input_bias is not None:
            mx = mx + input_bias
        if self.reset_after:
            inner = ops.matmul(hm, self.recurrent_kernel)
            if recurrent_bias is not None:
                inner = inner + recurrent_bias
        else:
            inner = ops.matmul(hm, self.recurrent_kernel[:, :2 * u])
        z = self.recurrent_activation(mx[:, :u] + inner[:, :u])
        r = self.recurrent_activation(mx[:, u:2 * u] + inner[:, u:2 * u])
        if self.reset_after:
            recurrent_h = r * inner[:, 2 * u:]
        else:
            recurrent_h = ops.matmul(r * hm, self.recurrent_kernel[:, 2 * u:])
        hh = self.activation(mx[:, 2 * u:] + recurrent_h)
        h = z * h_prev + (1 - z) * hh
        return h, ([h] if isinstance(states, (list, tuple)) else h)


BUILTIN_CELLS = (SimpleRNNCell, LSTMCell, GRUCell)


# ---------------------------------------------------------------- running any cell
def flat_sizes(state_size) -> list:
    """``state_size`` (an int, or a nest of ints) as a flat list of ints."""
    if isinstance(state_size, (list, tuple)):
        return [d for s in state_size for d in flat_sizes(s)]
    return [int(state_size)]


def nest_like(state_size, flat, top=True):
    """The flat states in the nesting of ``state_size`` (the top level always a list,
    as Keras gives a cell its states)."""
    items = iter(flat)

    def build(size, top):
        if isinstance(size, (list, tuple)):
            return [build(s, False) for s in size]
        value = next(items)
        return [value] if top else value

    return build(state_size, top)


def flatten_states(states) -> list:
    """A nest of states as a flat list."""
    if isinstance(states, (list, tuple)):
        return [x for s in states for x in flatten_states(s)]
    return [states]


def _call_function(cell):
    """The cell's own ``call`` and whether it takes ``training`` (a user's call
    without it is wrapped by Layer; the original is ``__wrapped__``)."""
    fn = type(cell).call
    fn = getattr(fn, "__wrapped__", fn)
    try:
        params = inspect.signature(fn).parameters
        takes = "training" in params or any(p.kind is p.VAR_KEYWORD
                                            for p in params.values())
    except (TypeError, ValueError):
        takes = True
    return fn, takes


def cell_step(cell, inputs, states, training):
    """``cell.call(inputs, states[, training])`` -> ``(output, flat new states)``."""
    fn, takes_training = _call_function(cell)
    out = fn(cell, inputs, states, training=training) if takes_training else fn(
        cell, inputs, states)
    if not isinstance(out, (list, tuple)) or len(out) != 2:
        raise ValueError(f"The cell {cell!r} must return `(output, new_states)` from "
                         f"`call(inputs, states)`. Received: {type(out).__name__}")
    return out[0], flatten_states(out[1])


def reset_dropout_masks(cell):
    for each in getattr(cell, "cells", None) or [cell]:
        if each is not cell:
            reset_dropout_masks(each)
        elif hasattr(each, "reset_dropout_mask"):
            each.reset_dropout_mask()
            each.reset_recurrent_dropout_mask()


def _serialize(obj):
    return {"module": "keras.layers", "class_name": type(obj).__name__,
            "config": obj.get_config(), "registered_name": None}


def deserialize_cell(config):
    if not isinstance(config, dict):
        return config
    cls = _registry.get_class(config["class_name"], config.get("registered_name"))
    return cls.from_config(config.get("config") or {})


def serialize_cell(cell):
    """Keras's entry of a cell (``keras.layers.serialize``'s form); a user's cell by
    its class name (load it with ``custom_objects`` or register the class)."""
    entry = _serialize(cell)
    if not type(cell).__module__.startswith("tinyann."):
        entry.update(module=None, registered_name=_registry.registered_name(type(cell))
                     or type(cell).__name__)
    return entry
