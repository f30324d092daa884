"""Model: a graph of layers with Keras's compile / fit / evaluate / predict / summary.

``Model(inputs, outputs)`` is the functional API; ``Sequential`` builds the same
graph from a list of layers. ``compile()`` keeps its decisions in one
``CompileState``; the loops behind fit / evaluate / predict live in
``tinyann.trainers``.
"""

from __future__ import annotations

import numpy as np

from tinyann import backend, optimizers
from tinyann.autodiff import Tensor, recording
from tinyann.layers import added_losses
from tinyann.layers.keras_tensor import KerasTensor, flatten
from tinyann.layers.layer import (
    Layer,
    _tracking_setattr,
    defined_outside_tinyann,
    tracked_layers,
)
from tinyann.models import tracing
from tinyann.models.functional import Graph, _unique
from tinyann.models.tape_call import call_on_tape
from tinyann.trainers import checks, outputs, predicting, trainer
from tinyann.trainers.compile_state import CompileState
from tinyann.trainers.data_adapters.inputs import (
    cast_inputs,
)
from tinyann.trainers.logs import metrics_result
from tinyann.variables import pack_variables, structure_version

_IGNORED_COMPILE_KWARGS = ("run_eagerly", "steps_per_execution", "jit_compile",
                           "auto_scale_loss")


class Model(Layer):
    """A model: ``Model(inputs, outputs)`` from symbolic tensors.

    Example:
        >>> inputs = Input((784,))
        >>> outputs = Dense(10, activation="softmax")(inputs)
        >>> model = Model(inputs, outputs)
    """

    _auto_name_prefix = "functional"
    # a subclass defining its own `call` (a "subclassed model"): traced once built
    _subclassed = False
    # a stack of layers (Sequential): how summaries, plots and saving list the layers
    _sequential = False

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not cls.__module__.startswith("tinyann."):
            # Keras names a user's model after its class: MyModel -> my_model
            if "_auto_name_prefix" not in cls.__dict__:
                cls._auto_name_prefix = backend.to_snake_case(cls.__name__)
            cls._subclassed = defined_outside_tinyann(cls, "call")

    def __init__(self, inputs=None, outputs=None, name=None, trainable=True, **kwargs):
        if name is None:
            name = backend.unique_name(self._auto_name_prefix)
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._graph = None
        self.optimizer = None
        self._compile_state = None  # set by compile()
        self.history = None
        self.stop_training = False
        self._packed = None
        self._nested = False
        if inputs is not None or outputs is not None:
            if inputs is None or outputs is None:
                raise ValueError("A functional Model needs both `inputs` and `outputs`.")
            self._set_graph(inputs, outputs)

    # Keras tracks the layers a model holds in its attributes: they are a
    # subclassed model's `layers`, in the order they were assigned
    __setattr__ = _tracking_setattr

    # ------------------------------------------------------------------ graph
    def _set_graph(self, inputs, outputs):
        self._inputs_struct = inputs
        self._outputs_struct = outputs
        self._graph = Graph(flatten(inputs), flatten(outputs))
        self._graph.set_needs_input_grad(self._nested)
        names = [layer.name for layer in self._graph.layers]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(
                f"The name {dupes[0]!r} is used {names.count(dupes[0])} times in the model. "
                "All layer names should be unique."
            )
        self.built = True
        self._packed = None

    def _set_needs_input_grad(self, value):
        """A model nested in another (``value`` True) computes dL/dinput for the layers
        before it; its graph's first layers then do too."""
        self._nested = bool(value)
        if getattr(self, "_graph", None) is not None:
            self._graph.set_needs_input_grad(self._nested)

    # set by the graph of the model this one is nested in
    _needs_input_grad = property(lambda self: self._nested, _set_needs_input_grad)

    def _require_graph(self, what):
        if self._graph is None:
            raise ValueError(
                f"The model '{self.name}' has not been built yet, so it has no {what}. "
                "Give it an input shape (keras.Input(shape=...) as its first layer), or "
                "call it on data, fit it, or call `build(input_shape)` first."
            )
        return self._graph

    @property
    def inputs(self):
        return list(self._require_graph("inputs").inputs)

    @property
    def outputs(self):
        return list(self._require_graph("outputs").outputs)

    @property
    def input(self):
        inputs = self.inputs
        return inputs[0] if len(inputs) == 1 else inputs

    @property
    def output(self):
        outputs = self.outputs
        return outputs[0] if len(outputs) == 1 else outputs

    @property
    def output_names(self):
        """The outputs' names, as Keras's functional models give them: a dict's keys
        (sorted), else the output layers' names."""
        return outputs.output_structure(self)[0] if self._graph is not None else []

    @property
    def input_shape(self):
        shapes = [t.shape for t in self.inputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def output_shape(self):
        shapes = [t.shape for t in self.outputs]
        return shapes[0] if len(shapes) == 1 else shapes

    @property
    def layers(self) -> list[Layer]:
        """The model's layers in order; a functional model's list starts with its
        InputLayers, as Keras's (``Sequential.layers`` leaves them out)."""
        if self._subclassed:
            return _unique(tracked_layers(self.__dict__.get("_tracked", {}).values()))
        if self._graph is None:
            return []
        return list(self._graph.layers)

    def _weight_layers(self):
        """The layers whose weights are the model's: a subclassed model's tracked
        layers, then any other layer its `call` ran."""
        layers = self.layers
        if self._subclassed and self._graph is not None:
            layers = _unique(layers + list(self._graph.layers))
        return layers

    def get_layer(self, name=None, index=None) -> Layer:
        if index is not None:
            if not -len(self.layers) <= index < len(self.layers):
                raise ValueError(
                    f"Was asked to retrieve layer at index {index} but model only has "
                    f"{len(self.layers)} layers."
                )
            return self.layers[index]
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise ValueError(
            f"No such layer: {name}. Existing layers are: {[l.name for l in self.layers]}."
        )

    # ------------------------------------------------------------------ weights
    @property
    def weights(self):
        return _unique([w for layer in self._weight_layers() for w in layer.weights])

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        cached = self.__dict__.get("_trainable_cache")
        version = structure_version()
        if cached is not None and cached["version"] == version:
            return list(cached["weights"])
        layers = self._weight_layers()
        weights = _unique([w for layer in layers for w in layer.trainable_weights])
        if _listing_is_cacheable(self, layers):
            # (a dict: the tape's copies of layer caches leave dicts out)
            self.__dict__["_trainable_cache"] = {"version": version, "weights": weights}
        return list(weights)

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        trainable = {id(w) for w in self.trainable_weights}
        return [w for w in self.weights if id(w) not in trainable]

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    @property
    def variables(self):
        return self.weights

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(
                "You tried to call `count_params` on model "
                f"'{self.name}', but the model isn't built. You can build it manually via: "
                "`model.build(batch_input_shape)`."
            )
        return int(sum(w.size for w in self.weights))

    def _packed_trainables(self):
        """The flat buffers behind the trainable weights (packed again if they changed),
        with the optimizer built for them."""
        variables = self.trainable_weights
        packed = self._packed
        if packed is None or [id(v) for v in packed[2]] != [id(v) for v in variables] or not all(
                v.value.base is packed[0] for v in variables):
            values, grads = pack_variables(variables)
            packed = self._packed = (values, grads, variables)
        optimizer = self.optimizer
        if optimizer is not None and [id(v) for v in optimizer._variables] != [
                id(v) for v in variables] or optimizer is not None and not optimizer.built:
            if optimizer.iterations:
                raise ValueError(
                    "The model's trainable weights changed after training started "
                    "(a layer's `trainable` flag, or a new layer). Call `compile()` again."
                )
            optimizer.build(variables)
        return packed

    def _replica(self):
        """The same architecture with new layers, from this model's config, for the
        trainers' half-batch thread (trainers/half_batches.py), which then shares the
        weights."""
        return type(self).from_config(self.get_config())

    # ------------------------------------------------------------------ calling
    def build(self, input_shape=None):
        if self._graph is None and self._subclassed:
            if input_shape is None:
                raise ValueError(
                    f"Building the subclassed model '{self.name}' needs an input shape, "
                    "e.g. `model.build((None, 784))`. Received: input_shape=None")
            self._trace(tracing.input_shapes(input_shape))
        if self._graph is None:
            raise ValueError(
                f"Model '{self.name}' cannot be built from a shape alone; create it with "
                "`Model(inputs, outputs)`."
            )
        self.built = True

    def _build_from_shape(self, batch_shape):
        """Builds a subclassed model from the first data it sees."""
        self.build(batch_shape)

    def _trace(self, shapes, keys=None):
        """Traces a subclassed model's ``call`` on inputs of ``shapes`` (a dict keyed
        by ``keys``, sorted, if given): its graph."""
        with self._name_scope():  # sublayers built here: my_model/dense/kernel, as Keras
            try:
                inputs, outputs = tracing.trace(self, shapes, keys)
            except NotImplementedError as error:
                if not isinstance(error.__cause__, TypeError) or "has no values" not in str(
                        error.__cause__):
                    raise
                # `call` computes on values (keras.ops): one graph step, a tape inside
                inputs, outputs = tracing.trace_value_call(self, shapes, error, keys)
        self._set_graph(inputs, outputs)
        # the graph stands in for `call` wherever this model runs inside another
        # model (which calls `layer.call` on arrays and then `layer.backward`)
        self.__dict__["call"] = self._run_graph

    def _run_graph(self, inputs, training=False):
        return Model.call(self, inputs, training=training)

    def call(self, inputs, training=False):
        graph = self._require_graph("call")
        xs = list(inputs) if isinstance(inputs, (list, tuple)) else [inputs]
        outs = graph.forward(xs, training=training)
        return outs[0] if len(outs) == 1 else outs

    def backward(self, grad_output):
        grads = grad_output if isinstance(grad_output, (list, tuple)) else [grad_output]
        g_in = self._graph.backward(list(grads))
        return g_in[0] if len(g_in) == 1 else g_in

    def backward_preactivation(self, dz, out_shape=None):
        g_in = self._graph.backward([dz], first_preactivation=True)
        return g_in[0] if len(g_in) == 1 else g_in

    @property
    def activation(self):
        """The output layer's activation (so softmax + cross-entropy fuse through)."""
        last = self._graph.steps[-1][0] if self._graph and self._graph.steps else None
        return getattr(last, "activation", None)

    def compute_output_shape(self, input_shape):
        return self.output_shape

    def _check_input(self, shape):
        checks.check_input_shapes(self, [tuple(shape)])

    def __call__(self, inputs, training=None, **kwargs):
        checked = self.__dict__.get("_checked_input")
        if checked is not None and (type(inputs) is np.ndarray or type(inputs) is Tensor):
            # one array like the last one, the model unchanged since: checked already
            array = inputs.value if type(inputs) is Tensor else inputs
            if (array.shape == checked["shape"] and array.dtype == checked["dtype"]
                    and checked["version"] == structure_version()
                    and checked["graph"] is self._graph
                    and checked["floatx"] == backend.floatx()):
                with added_losses.outermost_call(self):
                    return self._call_on_values(inputs, [np.asarray(
                        array, dtype=checked["floatx"])], training)
        if not isinstance(inputs, KerasTensor) and not (
                isinstance(inputs, (list, tuple)) and any(isinstance(t, KerasTensor)
                                                         for t in inputs)):
            if self._graph is None and self._subclassed:
                keys = sorted(inputs) if isinstance(inputs, dict) else None
                arrays = ([inputs[k] for k in keys] if keys else
                          inputs if isinstance(inputs, (list, tuple)) else [inputs])
                self._trace([(None,) + np.shape(a)[1:] for a in arrays], keys)
            xs = checks.prepare_inputs(self, inputs)
            floatx = backend.floatx()
            kept = checks.kept_dtypes(self)
            arrays = cast_inputs(xs, kept, floatx)
            if kept is None and (type(inputs) is np.ndarray or type(inputs) is Tensor):
                # (a dict: the tape's copies of layer caches leave dicts out)
                self.__dict__["_checked_input"] = {
                    "shape": xs[0].shape, "dtype": xs[0].dtype, "floatx": floatx,
                    "graph": self._graph, "version": structure_version()}
            # add_loss terms are per call: the outermost call clears the old ones
            with added_losses.outermost_call(self):
                return self._call_on_values(inputs, arrays, training)
        return super().__call__(inputs, training=training, **kwargs)

    def _call_on_values(self, inputs, arrays, training):
        """``__call__`` on arrays or Tensors: one recorded node on a tape (the graph's
        backward is its gradient), layer by layer when a step runs user code."""
        graph = self._graph
        if not recording():
            outs = graph.forward(arrays, training=bool(training))
            if not training:
                # row-major, as Keras returns them (few-unit Dense layers compute
                # column-major)
                outs = [np.ascontiguousarray(o) for o in outs]
            # eager results are Tensors, as Keras's (predict returns arrays)
            return predicting.as_structure(self, [Tensor(o) for o in outs])
        return call_on_tape(self, inputs, arrays, training)

    def reset_states(self):
        """Zeros the states of the model's stateful recurrent layers (nested models
        included). Keras 2's ``model.reset_states()``, which Keras 3 removed (there:
        ``layer.reset_state()`` per layer); kept for the tutorials that call it."""
        for layer in self.layers:
            if isinstance(layer, Model):
                layer.reset_states()
            elif getattr(layer, "stateful", False) and hasattr(layer, "reset_state"):
                layer.reset_state()

    # ------------------------------------------------------------------ compile
    def compile(self, optimizer="rmsprop", loss=None, loss_weights=None, metrics=None,
                weighted_metrics=None, **kwargs):
        """Sets the optimizer, loss and metrics. Weights are kept when compiling again.

        Args:
            optimizer: name (``'rmsprop'``, ``'adam'``, ``'sgd'``...) or instance.
            loss: name (``'sparse_categorical_crossentropy'``...), function or instance;
                with several outputs also a list (one per output) or a dict keyed by
                output name (one loss alone applies to every output).
            loss_weights: a number, or a list / dict with one weight per output: the
                loss minimised is the sum of the weighted losses.
            metrics: list of names (``['accuracy']``), functions or Metric instances;
                with several outputs a list with one entry (a metric or a list) per
                output, or a dict keyed by output name.
        """
        unknown = sorted(set(kwargs) - set(_IGNORED_COMPILE_KWARGS))
        if unknown:
            raise TypeError(f"compile() got unexpected keyword arguments: {unknown}")
        if weighted_metrics:
            raise NotImplementedError("weighted_metrics are not supported by tinyann yet")
        self.optimizer = optimizers.get(optimizer)
        state = CompileState(loss, loss_weights, metrics)
        state.resolve_outputs(self)
        self._compile_state = state
        self._packed = None

    @property
    def compiled(self) -> bool:
        return self._compile_state is not None

    @property
    def loss(self):
        """The compiled loss (None before ``compile()``)."""
        return None if self._compile_state is None else self._compile_state.loss

    @property
    def compiled_metrics(self) -> list:
        """The single compiled metric objects (built at the first data)."""
        return [] if self._compile_state is None else self._compile_state.metric_list

    @property
    def metrics_names(self):
        """``['loss']``, then ``'compile_metrics'`` when compiled with metrics, then
        ``'<output>_loss'`` per output of a model with several (Keras 3's names)."""
        return [m.name for m in self.metrics]

    @property
    def metrics(self):
        """The loss tracker, the compiled metrics as one ``CompileMetrics`` (its
        ``metrics`` are the single metric objects) and, with several outputs, one
        loss tracker per output: each ``result()`` is what the logs show."""
        if self._compile_state is None:
            return []
        return self._compile_state.all_metrics()

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The compiled loss of ``y_pred`` plus ``self.losses`` (the last call's
        ``add_loss`` terms and the weights' regularization penalties), as Keras 3's
        ``Model.compute_loss`` for a user's ``train_step``. On a GradientTape the
        built-in loss is one recorded node and the other terms are ops: the whole sum
        is differentiable."""
        state = checks.require_compiled(self, "compute_loss")
        loss = state.loss(y, y_pred, sample_weight)
        extra = self.losses
        if not extra:
            return loss
        from tinyann import ops

        total = ops.convert_to_tensor(loss)
        for term in extra:
            # a non-scalar term counts as its sum, as Keras's
            total = total + (ops.sum(term) if np.ndim(term) else term)
        return total

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Updates the compiled metrics (and the loss tracker is left to the caller);
        returns ``get_metrics_result()``."""
        for metric in self.metrics:
            if metric.name != "loss":
                metric.update_state(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self):
        """The values of ``metrics`` as a dict ``{name: float}`` (a ``CompileMetrics``
        gives one entry per metric), in that order."""
        return metrics_result(self)

    # ------------------------------------------------------------------ training API
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1):
        """Trains for ``epochs`` epochs; returns a ``History``."""
        return trainer.fit(
            self, x=x, y=y, batch_size=batch_size, epochs=epochs, verbose=verbose,
            callbacks=callbacks, validation_split=validation_split,
            validation_data=validation_data, shuffle=shuffle, class_weight=class_weight,
            sample_weight=sample_weight, initial_epoch=initial_epoch,
            steps_per_epoch=steps_per_epoch, validation_steps=validation_steps,
            validation_batch_size=validation_batch_size, validation_freq=validation_freq)

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False, **kwargs):
        """``[loss, *metrics]`` (a float without metrics), or a dict with ``return_dict``."""
        return trainer.evaluate(self, x=x, y=y, batch_size=batch_size, verbose=verbose,
                                sample_weight=sample_weight, steps=steps,
                                callbacks=callbacks, return_dict=return_dict)

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """The model's outputs for ``x``, a float32 array (a list or dict of them for
        several outputs).

        Safe to call from several threads at once on the same model (a server's
        thread pool, say): each call keeps its arrays to itself (float32 conversion
        buffers per thread, layer buffers for inference per thread or per call) and
        gives exactly what it gives alone. Not safe while the model trains or builds:
        build it (or predict once) before sharing it between threads.
        """
        return predicting.predict(self, x, batch_size, verbose, steps, callbacks)

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):
        return trainer.train_on_batch(self, x=x, y=y, sample_weight=sample_weight,
                                      class_weight=class_weight, return_dict=return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        return trainer.test_on_batch(self, x=x, y=y, sample_weight=sample_weight,
                                     return_dict=return_dict)

    def predict_on_batch(self, x):
        return predicting.predict(self, x, None, 0, None, None, single_batch=True)

    def predict_classes(self, x, batch_size=32, verbose=0):
        """Removed from Keras in 2.6; kept for old tutorials (seed 004)."""
        import warnings

        warnings.warn(
            "`model.predict_classes()` is deprecated and was removed from Keras; use "
            "`np.argmax(model.predict(x), axis=-1)` (or `(model.predict(x) > 0.5)` for a "
            "sigmoid output).", DeprecationWarning, stacklevel=2)
        probs = self.predict(x, batch_size=batch_size, verbose=verbose)
        if probs.shape[-1] == 1:
            return (probs > 0.5).astype("int32")
        return probs.argmax(axis=-1)

    # ------------------------------------------------------------------ inspection
    def summary(self, line_length=None, positions=None, print_fn=None, expand_nested=False,
                show_trainable=False, layer_range=None):
        """Prints Keras 3's table of layers, output shapes and parameter counts."""
        from tinyann.utils.summary import print_summary

        print_summary(self, line_length=line_length, positions=positions, print_fn=print_fn,
                      show_trainable=show_trainable)

    def get_config(self) -> dict:
        if self._subclassed:
            # Keras's base config; a subclass adds its own `__init__` arguments
            return Layer.get_config(self)
        from tinyann.saving.config import functional_config

        return functional_config(self)

    @classmethod
    def from_config(cls, config, custom_objects=None):
        if cls._subclassed:
            return Layer.from_config.__func__(cls, config)
        from tinyann.saving.config import functional_from_config

        return functional_from_config(cls, config, custom_objects)

    def to_json(self, **kwargs) -> str:
        import json

        from tinyann.saving.config import serialize_model

        return json.dumps(serialize_model(self), **kwargs)

    # saving entry points; the formats live in tinyann.saving
    def save(self, filepath, overwrite=True, **kwargs):
        from tinyann import saving

        return saving.save_model(self, filepath, overwrite=overwrite, **kwargs)

    def save_weights(self, filepath, overwrite=True):
        from tinyann import saving

        return saving.save_weights(self, filepath, overwrite=overwrite)

    def load_weights(self, filepath, skip_mismatch=False, **kwargs):
        from tinyann import saving

        return saving.load_weights(self, filepath, skip_mismatch=skip_mismatch, **kwargs)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _listing_is_cacheable(model, layers) -> bool:
    """Whether ``model``'s weight list changes only through what bumps
    ``structure_version``: not when a user's list or dict of layers (changed in place,
    unseen) or a user's own weight listing is involved."""
    if getattr(model, "_subclassed", False):
        return False
    for layer in layers:
        tracked = layer.__dict__.get("_tracked", {})
        if type(layer).trainable_weights not in _BUILT_IN_LISTINGS or any(
                not isinstance(v, Layer) for v in tracked.values()):
            return False
        inner = layer._weight_layers() if isinstance(layer, Model) else list(tracked.values())
        if inner and not _listing_is_cacheable(layer, inner):
            return False
    return True


# the weight listings whose results depend only on what bumps structure_version
_BUILT_IN_LISTINGS = (Layer.trainable_weights, Model.trainable_weights)
