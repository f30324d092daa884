"""``keras.layers.StackedRNNCells``: several cells as one, each step's output the next
cell's input (``RNN([cell1, cell2])`` makes one).

Its ``state_size`` is the list of its cells' (``[[units, units], units]`` for an
LSTMCell then a GRUCell); ``call(inputs, states)`` takes and returns the states in
that nesting. ``RNN`` runs it on a GradientTape (see ``rnn_layer.py``).
"""

from __future__ import annotations

from tinyann.layers.layer import Layer
from tinyann.layers.rnn_cells import cell_step, deserialize_cell, serialize_cell


def _output_size(cell) -> int:
    size = getattr(cell, "output_size", None)
    if size is not None:
        return int(size)
    state = cell.state_size
    return int(state[0] if isinstance(state, (list, tuple)) else state)


class StackedRNNCells(Layer):
    """Cells run one after the other at each time step.

    Args:
        cells: a list of cells (each with ``call(inputs, states)`` and ``state_size``).

    Example:
        >>> cells = [keras.layers.LSTMCell(8), keras.layers.LSTMCell(4)]
        >>> layer = keras.layers.RNN(keras.layers.StackedRNNCells(cells))
    """

    def __init__(self, cells, **kwargs):
        super().__init__(**kwargs)
        cells = list(cells)
        for cell in cells:
            if not callable(getattr(cell, "call", None)):
                raise ValueError("All cells must have a `call` method. Received cell "
                                 f"without a `call` method: {cell!r}")
            if getattr(cell, "state_size", None) is None:
                raise ValueError("All cells must have a `state_size` attribute. Received "
                                 f"cell without a `state_size`: {cell!r}")
        if not cells:
            raise ValueError("StackedRNNCells expects a non-empty list of cells.")
        self.cells = cells
        self._tracked = {"cells": cells}

    @property
    def state_size(self) -> list:
        return [c.state_size for c in self.cells]

    @property
    def output_size(self) -> int:
        return _output_size(self.cells[-1])

    def get_initial_state(self, batch_size=None):
        """Each cell's initial states (its ``get_initial_state``, else zeros)."""
        import numpy as np

        states = []
        for cell in self.cells:
            make = getattr(cell, "get_initial_state", None)
            if make is not None:
                value = make(batch_size=batch_size)
                if isinstance(cell.state_size, int) and isinstance(value, list):
                    value = value[0]
            elif isinstance(cell.state_size, int):
                value = np.zeros((batch_size, cell.state_size), self.dtype)
            else:
                value = [np.zeros((batch_size, d), self.dtype) for d in cell.state_size]
            states.append(value)
        return states

    def build(self, input_shape):
        """``input_shape``: one step's ``(batch, features)``; each cell builds for the
        previous one's output ``(batch, output_size)``."""
        for cell in self.cells:
            if isinstance(cell, Layer):
                cell._maybe_build(tuple(input_shape))
            input_shape = (input_shape[0], _output_size(cell))
        self.built = True

    def call(self, inputs, states, training=False):
        """``states``: one entry per cell (a state, or a list of them). Returns
        ``(last cell's output, new states in that nesting)``."""
        new_states = []
        for cell, state in zip(self.cells, states):
            given = list(state) if isinstance(state, (list, tuple)) else [state]
            inputs, new = cell_step(cell, inputs, given, training)
            new_states.append(new if isinstance(state, (list, tuple)) else new[0])
        return inputs, new_states

    def __call__(self, inputs, states=None, training=None, **kwargs):
        if states is None:
            return super().__call__(inputs, training=training, **kwargs)
        self._maybe_build(tuple(inputs.shape))
        return self.call(inputs, states, training=bool(training))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.output_size)

    def get_config(self):
        config = super().get_config()
        config["cells"] = [serialize_cell(c) for c in self.cells]
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["cells"] = [deserialize_cell(c) for c in config["cells"]]
        return super().from_config(config)
