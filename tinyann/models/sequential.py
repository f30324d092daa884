"""Sequential: a plain stack of layers, each reading the previous one's output."""

from __future__ import annotations

from tinyann.layers.input_layer import InputLayer
from tinyann.layers.keras_tensor import KerasTensor
from tinyann.layers.layer import Layer
from tinyann.models.model import Model
from tinyann.variables import structure_changed


class Sequential(Model):
    """A linear stack of layers.

    Args:
        layers: a list of layers (its first item may be ``keras.Input(shape)``), or a
            single layer as Keras 2 accepted (seeds 001 and 003 pass one Dense).
        name: model name; ``sequential``, ``sequential_1``... if None.

    The model is built (weights created) as soon as its input shape is known: from an
    ``Input``, a first layer's ``input_shape=``, ``build(input_shape)`` or the first data.

    Example:
        >>> model = Sequential([Input((784,)), Dense(10, activation="softmax")])
    """

    _auto_name_prefix = "sequential"
    _sequential = True

    def __init__(self, layers=None, trainable=True, name=None, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._stack: list[Layer] = []
        self._input_layer: InputLayer | None = None
        if layers is not None:
            if isinstance(layers, (Layer, KerasTensor)):
                layers = [layers]
            for layer in layers:
                self.add(layer, rebuild=False)
            self._maybe_rebuild()

    # ------------------------------------------------------------------ stack
    def add(self, layer, rebuild=True):
        """Appends ``layer`` (or sets the input with ``keras.Input(shape)``)."""
        if isinstance(layer, KerasTensor):
            node_layer = layer.node.layer if layer.node is not None else None
            if not isinstance(node_layer, InputLayer):
                raise ValueError(
                    "Only `keras.Input` tensors can be added to a Sequential model. "
                    f"Received: {layer!r}"
                )
            layer = node_layer
        if not isinstance(layer, Layer):
            raise ValueError(
                "Only instances of `keras.Layer` can be added to a Sequential model. "
                f"Received: {layer!r} (of type {type(layer).__name__})"
            )
        if isinstance(layer, InputLayer):
            if self._stack or self._input_layer is not None:
                raise ValueError(
                    "An InputLayer (keras.Input) can only be the first layer of a Sequential "
                    f"model. Model '{self.name}' already has layers."
                )
            self._input_layer = layer
        else:
            names = [l.name for l in self._stack]
            if layer.name in names:
                raise ValueError(
                    "All layers added to a Sequential model should have unique names. "
                    f"Name '{layer.name}' is already the name of a layer in this model. "
                    "Update the `name` argument to pass a unique name."
                )
            if not self._stack and self._input_layer is None and (
                    layer._input_shape_arg is not None):
                # Keras 2's Dense(..., input_shape=(784,)) as the first layer
                self._input_layer = InputLayer(shape=layer._input_shape_arg,
                                               batch_size=layer._batch_size_arg)
            self._stack.append(layer)
        structure_changed()
        if rebuild:
            self._maybe_rebuild()

    def pop(self, rebuild=True):
        """Removes and returns the last layer."""
        if not self._stack:
            raise TypeError("There are no layers in the model.")
        layer = self._stack.pop()
        structure_changed()
        if rebuild:
            self._maybe_rebuild()
        return layer

    def _maybe_rebuild(self):
        self._graph = None
        self.built = False
        if self._input_layer is not None:
            self._build_graph()

    def _build_from_shape(self, batch_shape):
        self._input_layer = InputLayer(batch_shape=tuple(batch_shape))
        self._build_graph()

    def build(self, input_shape=None):
        """Builds the weights for ``input_shape`` (batch axis included)."""
        if input_shape is None:
            if self._input_layer is None:
                raise ValueError(
                    "You must provide an `input_shape` argument to build a Sequential "
                    "model that has no Input."
                )
        else:
            self._input_layer = InputLayer(batch_shape=tuple(input_shape))
        self._build_graph()

    def _build_graph(self):
        # inside the model's name scope: layers built here get weight paths such as
        # sequential/dense/kernel (layers built before keep theirs), as in Keras
        with self._name_scope():
            x = self._input_layer.output
            for layer in self._stack:
                if isinstance(x, list) and not hasattr(layer, "_set_graph"):
                    # a layer with several outputs (return_state=True) before another
                    raise ValueError(
                        f'Layer "{layer.name}" expects 1 input(s), but it received '
                        f"{len(x)} input tensors. Inputs received: {x}")
                x = layer(x)
            self._set_graph(self._input_layer.output, x)

    @property
    def layers(self):
        return list(self._stack)

    @property
    def output_names(self):
        # Keras 3's Sequential has none
        raise AttributeError("'Sequential' object has no attribute 'output_names'")

    @property
    def input_shape(self):
        if self._input_layer is None:
            raise AttributeError(f"Sequential model '{self.name}' has no defined input shape.")
        return self._input_layer.batch_shape

    def get_config(self):
        from tinyann.saving.config import sequential_config

        return sequential_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from tinyann.saving.config import sequential_from_config

        return sequential_from_config(cls, config, custom_objects)
