"""``keras.layers.RNN``: runs a cell over the time axis of ``(batch, steps, features)``.

Two engines, one surface:

- a built-in cell (``SimpleRNNCell``, ``LSTMCell``, ``GRUCell``, not subclassed) runs
  the recurrent layers' kernels, exactly as ``SimpleRNN`` / ``LSTM`` / ``GRU`` do (this
  class is a ``_Recurrent`` whose arguments come from the cell): the compiled time
  loop forward and the hand-written backward through time, so ``fit`` over
  ``RNN(LSTMCell(8))`` costs what it costs over ``LSTM(8)``;
- any other cell (a user's, whose ``call(inputs, states)`` uses ``keras.ops``;
  ``StackedRNNCells``) is stepped in Python on a private GradientTape, and
  ``backward`` asks that tape (as ``fit`` trains a user's layer without
  ``backward``).

States are handled flat (``[h1, c1, h2, ...]``) and given to the cell in the nesting
of its ``state_size``; ``return_state=True`` returns ``[output, *flat states]`` (Keras
returns a stacked cell's states nested per cell).
"""

from __future__ import annotations

import numpy as np

from tinyann import ops
from tinyann.autodiff import GradientTape, Tensor, paused
from tinyann.kernels.reference.recurrent import ACTIVATIONS
from tinyann.layers.layer import Layer, _is_shape_list
from tinyann.layers.recurrent import _Recurrent
from tinyann.layers.rnn_cells import (
    BUILTIN_CELLS,
    cell_step,
    deserialize_cell,
    flat_sizes,
    flatten_states,
    nest_like,
    reset_dropout_masks,
    serialize_cell,
)
from tinyann.layers.stacked_cells import StackedRNNCells


class RNN(_Recurrent):
    """Runs ``cell`` over the steps of ``(batch, steps, features)`` sequences.

    Args:
        cell: a cell (``call(inputs, states, training)`` returning ``(output,
            new_states)`` and a ``state_size``), or a list of cells (stacked).
        return_sequences: output every step ``(batch, steps, output_size)``, not the
            last one ``(batch, output_size)``.
        return_state: also return the final states: ``[output, *states]``.
        go_backwards: run over the reversed sequence (outputs in that order).
        stateful: each batch starts from the previous batch's final states.
        unroll: accepted for Keras compatibility (the loop is the same).
        zero_output_for_mask: zeros, not the previous output, at masked steps.

    Call arguments: ``inputs``, ``initial_state`` (a list of states), ``mask``
    ``(batch, steps)``, ``training``.

    Example:
        >>> layer = keras.layers.RNN(keras.layers.LSTMCell(8))  # the same as LSTM(8)
    """

    kind = "rnn"

    def __init__(self, cell, return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False, **kwargs):
        if isinstance(cell, (list, tuple)):
            cell = StackedRNNCells(cell)
        if not callable(getattr(cell, "call", None)):
            raise ValueError("Argument `cell` should have a `call` method. "
                             f"Received: cell={cell!r}")
        state_size = getattr(cell, "state_size", None)
        if state_size is None:
            raise ValueError("The RNN cell should have a `state_size` attribute (single "
                             "integer or list of integers, one integer per RNN state). "
                             f"Received: cell={cell!r}")
        Layer.__init__(self, **kwargs)
        self.cell = cell
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        self.stateful = bool(stateful)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.states = None
        self._expected_batch_size = None
        self._cache = None
        if isinstance(cell, Layer):
            self._tracked = {"cell": cell}
        # the kernels' engine: a built-in cell with activations the kernels know
        self._fast = type(cell) in BUILTIN_CELLS and cell.activation.name in ACTIVATIONS \
            and (not cell.uses_recurrent_activation
                 or cell.recurrent_activation.name in ACTIVATIONS)
        if self._fast:
            self.kind = cell.kind
            self.uses_recurrent_activation = cell.uses_recurrent_activation

    # what the kernels' engine (_Recurrent) reads: the cell's arguments
    units = property(lambda self: self.cell.units)
    activation = property(lambda self: self.cell.activation)
    recurrent_activation = property(lambda self: self.cell.recurrent_activation)
    dropout = property(lambda self: self.cell.dropout)
    recurrent_dropout = property(lambda self: self.cell.recurrent_dropout)
    _rng = property(lambda self: self.cell._rng)

    def _kernel_options(self):
        options = super()._kernel_options()
        if self.kind == "gru":
            options["reset_after"] = self.cell.reset_after
        return options

    # ------------------------------------------------------------ shapes
    @property
    def state_size(self) -> list:
        """The cell's states' sizes, flat."""
        return flat_sizes(self.cell.state_size)

    @property
    def state_count(self) -> int:
        return len(self.state_size)

    @property
    def output_size(self) -> int:
        size = getattr(self.cell, "output_size", None)
        return int(size) if size is not None else self.state_size[0]

    def build(self, input_shape):
        if _is_shape_list(input_shape):
            input_shape = input_shape[0]
        if len(input_shape) < 3:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                f"ndim=3, found ndim={len(input_shape)}. Full shape received: "
                f"{tuple(input_shape)}")
        step_shape = (input_shape[0],) + tuple(input_shape[2:])
        if isinstance(self.cell, Layer):
            self.cell._maybe_build(step_shape)
        if not self._fast and None not in step_shape[1:]:
            # one step on zeros builds the layers a user's cell makes in its call (as
            # Keras's symbolic call does), so fit sees all the weights from the start
            with paused():
                states = nest_like(self.cell.state_size, self.get_initial_state(1))
                cell_step(self.cell, np.zeros((1,) + step_shape[1:], self.dtype), states,
                          False)
        if self.stateful:
            if input_shape[0] is None:
                raise ValueError(
                    "When using `stateful=True` in a RNN, the batch size must be static. "
                    f"Found dynamic batch size: sequence.shape={tuple(input_shape)}. Give "
                    "it with `Input(shape, batch_size=...)` or `batch_input_shape=`.")
            self._expected_batch_size = int(input_shape[0])
            self.reset_state()
        self.built = True

    def _check_input(self, shape):
        if _is_shape_list(shape):
            self._check_states(shape[0], shape[1:])
            shape = shape[0]
        kernel = getattr(self.cell, "kernel", None)
        if len(shape) != 3 or (self._fast and shape[-1] != kernel.shape[0]):
            expected = kernel.shape[0] if self._fast else None
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                f"shape=(None, None, {expected}), found shape={tuple(shape)}")

    def _check_states(self, input_shape, state_shapes):
        sizes = self.state_size
        if len(state_shapes) != len(sizes):
            raise ValueError(f"Layer '{self.name}' expects {len(sizes)} initial state(s) "
                             f"of sizes {sizes}; received {len(state_shapes)}.")
        for i, (shape, size) in enumerate(zip(state_shapes, sizes)):
            if len(shape) != 2 or shape[1] != size:
                raise ValueError(f"Layer '{self.name}': initial state {i} must have shape "
                                 f"(batch, {size}). Received: shape={tuple(shape)}")
            if None not in (shape[0], input_shape[0]) and shape[0] != input_shape[0]:
                raise ValueError(
                    f"Layer '{self.name}': initial state {i} has batch size {shape[0]} "
                    f"but the sequences have batch size {input_shape[0]}.")

    def compute_output_shape(self, input_shape):
        """``(batch, output_size)`` or ``(batch, steps, output_size)``; with
        ``return_state`` a list: that, then one ``(batch, size)`` per (flat) state."""
        if _is_shape_list(input_shape):
            self._check_states(input_shape[0], input_shape[1:])
            input_shape = input_shape[0]
        batch = input_shape[0]
        output = (batch, input_shape[1], self.output_size) if self.return_sequences \
            else (batch, self.output_size)
        if self.return_state:
            return [output] + [(batch, d) for d in self.state_size]
        return output

    # ------------------------------------------------------------ states
    def get_initial_state(self, batch_size):
        """The cell's initial states (its ``get_initial_state``, else zeros), flat."""
        make = getattr(self.cell, "get_initial_state", None)
        if make is not None:
            states = make(batch_size=batch_size)
            return [np.asarray(getattr(s, "value", s), dtype=self.dtype)
                    for s in flatten_states(states)]
        return [np.zeros((batch_size, d), self.dtype) for d in self.state_size]

    def reset_state(self):
        if self.stateful and self._expected_batch_size is not None:
            self.states = [np.zeros((self._expected_batch_size, d), self.dtype)
                           for d in self.state_size]

    def __call__(self, inputs, initial_state=None, training=None, **kwargs):
        if initial_state is not None and isinstance(initial_state, (list, tuple)):
            initial_state = flatten_states(initial_state)
        return super().__call__(inputs, initial_state=initial_state, training=training,
                                **kwargs)

    # ------------------------------------------------------------ math
    def _run(self, inputs, mask, record, dropout):
        if self._fast and not (self.zero_output_for_mask and mask is not None):
            return super()._run(inputs, mask, record, dropout)
        return self._run_cell(inputs, mask, record, dropout)

    def backward(self, grad_output):
        if self._cache is not None and self._cache[0] == "tape":
            return self._backward_cell(grad_output)
        return super().backward(grad_output)

    def _run_cell(self, inputs, mask, record, training):
        """The cell stepped in Python; on a private tape when ``record``."""
        x, initial, states_given = self._initial_state(inputs)
        if initial is None:
            initial = self.get_initial_state(x.shape[0])
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
            mask = mask[:, ::-1] if self.go_backwards else mask
        steps = x.shape[1]
        xt = Tensor(np.ascontiguousarray(x[:, ::-1] if self.go_backwards else x))
        st = [Tensor(np.asarray(s, dtype=x.dtype)) for s in initial]
        tape = GradientTape() if record else None
        reset_dropout_masks(self.cell)
        try:
            with tape if tape is not None else paused():
                if tape is not None:
                    tape.watch([xt, *st])
                outputs, final = self._loop(xt, st, mask, steps, training)
        finally:
            reset_dropout_masks(self.cell)
        if self.return_sequences:
            with tape if tape is not None else paused():
                output = ops.stack(outputs, axis=1)
        else:
            output = outputs[-1]
        if self.stateful:
            self.states = [np.array(np.asarray(s)) for s in final]
        if record:
            self._cache = ("tape", tape, xt, st if states_given else [], output, final)
        if self.return_state:
            return [np.asarray(output), *(np.array(np.asarray(s)) for s in final)]
        return np.asarray(output)

    def _loop(self, xt, states, mask, steps, training):
        outputs, kept = [], self._output_state_index()
        for t in range(steps):
            nested = nest_like(self.cell.state_size, states)
            out, new = cell_step(self.cell, xt[:, t], nested, training)
            if len(new) != len(states):
                raise ValueError(f"The cell of layer '{self.name}' returned {len(new)} "
                                 f"state(s); its state_size says {len(states)}.")
            if mask is not None:
                keep = mask[:, t, None]
                # a masked step repeats the (last cell's) first state, as Keras on
                # JAX and the recurrent kernels: the previous output, for h-cells
                out = ops.where(keep, out, np.zeros(np.shape(out), xt.dtype)
                                if self.zero_output_for_mask else states[kept])
                new = [ops.where(keep, n, s) for n, s in zip(new, states)]
            states = new
            outputs.append(out)
        return outputs, states

    def _output_state_index(self) -> int:
        """Where in the flat states the last cell's first state is."""
        size = self.cell.state_size
        if hasattr(self.cell, "cells") and isinstance(size, (list, tuple)):
            return len(flat_sizes(size[:-1]))
        return 0

    def _backward_cell(self, grad_output):
        _, tape, xt, given, output, final = self._cache
        self._cache = None
        d_final = [None] * len(final)
        if self.return_state:
            grad_output, d_final = grad_output[0], list(grad_output[1:])
        targets, seeds = [], []
        for target, seed in zip([output, *final], [grad_output, *d_final]):
            if seed is not None and isinstance(target, Tensor):
                targets.append(target)
                seeds.append(np.asarray(seed, dtype=target.dtype))
        weights = self.cell.trainable_weights if isinstance(self.cell, Layer) else []
        sources = [xt, *given, *weights]
        grads = tape.gradient(targets, sources, output_gradients=seeds,
                              unconnected_gradients="zero")
        n = 1 + len(given)
        for v, g in zip(weights, grads[n:]):
            v.grad[...] = g.numpy()
        dx = grads[0].numpy()
        dx = dx[:, ::-1] if self.go_backwards else dx
        if given:
            return [dx, *(g.numpy() for g in grads[1:n])]
        return dx

    # ------------------------------------------------------------ config
    def get_config(self):
        config = Layer.get_config(self)
        config.update(return_sequences=self.return_sequences, return_state=self.return_state,
                      go_backwards=self.go_backwards, stateful=self.stateful,
                      unroll=self.unroll, zero_output_for_mask=self.zero_output_for_mask,
                      cell=serialize_cell(self.cell))
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["cell"] = deserialize_cell(config["cell"])
        return super().from_config(config)
