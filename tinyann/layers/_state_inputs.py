"""Layers that may be called with initial states (the recurrent layers, Bidirectional):
built for the sequences alone, and saved with Keras's ``shapes_dict`` build config."""

from __future__ import annotations

from tinyann.layers.layer import _is_shape_list


class BuiltWithStates:
    """Mixin: ``[sequences, *states]`` shapes build the layer for the sequences; the
    states' shapes are kept for :meth:`build_config`."""

    def _maybe_build(self, input_shape):
        if _is_shape_list(input_shape):
            if not self.built:
                self._initial_state_shapes = [tuple(s) for s in input_shape[1:]]
            input_shape = input_shape[0]
        super()._maybe_build(input_shape)

    def build_config(self):
        """The saved ``build_config``: Keras's ``shapes_dict`` when the layer was built
        with initial states (a single state as given alone), else None."""
        states = getattr(self, "_initial_state_shapes", None)
        if not states or self._build_shape is None:
            return None
        shapes = [list(s) for s in states]
        return {"shapes_dict": {
            "sequences_shape": list(self._build_shape),
            "initial_state_shape": shapes if getattr(self, "_states_as_list", True) or len(
                shapes) > 1 else shapes[0]}}
