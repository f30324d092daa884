"""Layer base class: Keras's surface plus an explicit ``backward``.

A layer is built once its input shape is known (``build(input_shape)`` makes its
weights with ``add_weight``). ``call(inputs, training)`` computes the output and,
only when ``training`` is true, caches what ``backward`` needs for that batch.
``backward(grad_output)`` writes each weight's gradient into ``Variable.grad``
(overwriting, not adding) and returns the gradient with respect to the input.
"""

from __future__ import annotations

import functools
import inspect

import numpy as np

from tinyann import backend, constraints, dtype_policies, initializers
from tinyann.autodiff import Tensor, recording
from tinyann.autodiff.tape import labelled
from tinyann.layers import added_losses
from tinyann.layers.call_arguments import positional_arguments
from tinyann.layers.input_spec import assert_input_compatibility
from tinyann.layers.keras_masks import get_keras_mask, inputs_keras_mask, set_keras_mask
from tinyann.layers.keras_tensor import KerasTensor, Node, flatten, is_symbolic
from tinyann.layers.taped_call import taped_call
from tinyann.layers.taped_packing import taped_multi_call
from tinyann.variables import Variable, current_path, name_scope, structure_changed

_LAYER_KWARGS = ("name", "trainable", "dtype", "input_shape", "batch_input_shape",
                 "batch_size", "input_dim", "autocast")


class Layer:
    """Base class for layers.

    Args:
        name: unique name in a model; an auto name (``dense``, ``dense_1``...) if None.
        trainable: whether the weights are updated by ``fit``.
        input_shape: legacy Keras 2 argument (without the batch axis); a Sequential
            whose first layer has it is built at once.
    """

    # a user's layer whose `call` is made of other layers, with no `backward` of its
    # own: traced into a graph of those layers when first called on a symbolic tensor
    _composite = False
    # Keras's masks: a layer that supports masking passes its input's mask on
    # (compute_mask); one that takes_mask receives it in `call(..., mask=)`
    supports_masking = False
    takes_mask = False
    # set in a tinyann class's own body when its backward writes each of its weights'
    # gradients in full (never adds to them) and returns dL/dinput whenever
    # `_needs_input_grad`: a tape then need not zero a model's gradients before its
    # backward (taped_call; a subclass, which may change backward, does not inherit it)
    _grads_written = False
    # Keras's InputSpec (or a structure of them) that a layer may set: its inputs are
    # checked against it at each call
    input_spec = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # (a subclass of a built-in layer keeps that layer's backward)
        backward_owner = next(k for k in cls.__mro__ if "backward" in k.__dict__)
        if not cls.__module__.startswith("tinyann.") and defined_outside_tinyann(
                cls, "call") and (backward_owner is Layer or hasattr(backward_owner,
                                                                     "_set_graph")):
            cls._composite = True
            if "__setattr__" not in cls.__dict__ and not hasattr(cls, "_set_graph"):
                cls.__setattr__ = _tracking_setattr
            own_call = cls.__dict__.get("call")
            if own_call is not None and not _takes_training(own_call):
                cls.call = _ignoring_training(own_call)
        build = cls.__dict__.get("build")
        if build is not None and not getattr(build, "_in_name_scope", False):
            cls.build = _in_name_scope(build)

    def __init__(self, name=None, trainable=True, dtype=None, input_shape=None,
                 batch_input_shape=None, batch_size=None, input_dim=None, autocast=True,
                 **kwargs):
        if kwargs:
            raise TypeError(
                f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}"
            )
        if name is not None and (not isinstance(name, str) or not name or "/" in name):
            raise ValueError(
                "Argument `name` must be a non-empty string without '/'. "
                f"Received: name={name!r}"
            )
        self.name = name or backend.unique_name(backend.to_snake_case(type(self).__name__))
        self._trainable = bool(trainable)
        # the weights' and computation's dtype: from a name, a DTypePolicy, or the global
        # policy (a mixed policy is kept by name and computed in float32: dtype_policies)
        self.dtype = dtype_policies.layer_dtype(dtype)
        self._mixed_policy = dtype_policies.mixed_policy(dtype)
        if input_dim is not None and input_shape is None:
            input_shape = (input_dim,)
        if batch_input_shape is not None:
            input_shape = tuple(batch_input_shape)[1:]
            batch_size = tuple(batch_input_shape)[0]
        self._input_shape_arg = None if input_shape is None else _as_shape(input_shape)
        self._batch_size_arg = batch_size
        self.built = False
        self._variables: list[Variable] = []
        self._inbound_nodes: list[Node] = []
        self._build_shape = None
        # the path of the layers around this one the first time it built or was called
        # (Keras 3's): its weights' paths start with it wherever the layer is used later
        self._parent_path = None
        # set by a model: whether backward must return the gradient for the input
        self._needs_input_grad = True

    def _name_scope(self) -> name_scope:
        """This layer's name scope, placed where the layer first built or was called."""
        if getattr(self, "_parent_path", None) is None:
            self._parent_path = current_path()
        return name_scope(self.name, caller=self, parent=self._parent_path)

    # ---------------------------------------------------------------- weights
    def add_weight(self, shape=None, initializer="glorot_uniform", dtype=None,
                   trainable=True, name=None, regularizer=None, constraint=None, order="C",
                   **kwargs):
        """Makes a ``Variable`` owned by this layer. Its path is Keras's: the names of
        the layers around this one when it first built, this layer's name, then
        ``name`` (``sequential/dense/kernel``; ``dense/kernel`` when built alone)."""
        shape = tuple(shape or ())
        init = initializers.get(initializer)
        value = init(shape, dtype=dtype or self.dtype)
        with name_scope(self.name, caller=self, parent=getattr(self, "_parent_path", None)):
            var = Variable(value, name=name or f"variable_{len(self._variables)}",
                           trainable=trainable, dtype=dtype or self.dtype, order=order)
        var.regularizer = regularizer
        # applied by the optimizer after each update (Optimizer._apply_constraints)
        var.constraint = constraints.get(constraint)
        self._variables.append(var)
        structure_changed()
        return var

    @property
    def trainable(self):
        return self._trainable

    @property
    def dtype_policy(self):
        """Keras's DTypePolicy of the layer (``'mixed_float16'`` stays by name)."""
        return self.__dict__.get("_mixed_policy") or dtype_policies.DTypePolicy(self.dtype)

    @property
    def compute_dtype(self) -> str:
        """The dtype the layer computes in: its weights' in tinyann."""
        return self.dtype

    @property
    def variable_dtype(self) -> str:
        return self.dtype

    @trainable.setter
    def trainable(self, value):
        self._trainable = bool(value)
        structure_changed()

    @property
    def weights(self) -> list[Variable]:
        """Trainable weights first, then non-trainable ones, as Keras."""
        return self.trainable_weights + self.non_trainable_weights

    @property
    def variables(self) -> list[Variable]:
        return list(self._variables) + [v for sub in self._sublayers() for v in sub.variables]

    @property
    def trainable_weights(self) -> list[Variable]:
        if not self._trainable:
            return []
        return [v for v in self._variables if v.trainable] + [
            v for sub in self._sublayers() for v in sub.trainable_weights]

    @property
    def non_trainable_weights(self) -> list[Variable]:
        if not self._trainable:
            return self.variables
        return [v for v in self._variables if not v.trainable] + [
            v for sub in self._sublayers() for v in sub.non_trainable_weights]

    def _sublayers(self) -> list:
        """The layers a user's layer holds in its attributes (Keras tracks them)."""
        tracked = self.__dict__.get("_tracked")
        if not tracked or hasattr(self, "_set_graph"):  # a model lists its own
            return []
        out = []
        for layer in tracked_layers(tracked.values()):
            if layer is not self and all(layer is not o for o in out):
                out.append(layer)
        return out

    trainable_variables = trainable_weights
    non_trainable_variables = non_trainable_weights

    def get_weights(self) -> list[np.ndarray]:
        return [v.numpy() for v in self.weights]

    def set_weights(self, weights) -> None:
        """Sets the weights from a list of arrays, in the order of ``weights``."""
        params = self.weights
        weights = list(weights)
        if len(params) != len(weights):
            raise ValueError(
                f"You called `set_weights(weights)` on layer '{self.name}' with a weight "
                f"list of length {len(weights)}, but the layer was expecting "
                f"{len(params)} weights."
            )
        for var, value in zip(params, weights):
            value = np.asarray(value)
            if value.shape != var.shape:
                raise ValueError(
                    f"Layer {self.name} weight shape {var.shape} is not compatible with "
                    f"provided weight shape {value.shape}."
                )
        for var, value in zip(params, weights):
            var.assign(value)

    def count_params(self) -> int:
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on layer '{self.name}', but the layer "
                "isn't built. You can build it manually via: "
                f"`{self.name}.build(batch_input_shape)`."
            )
        return int(sum(v.size for v in self.variables))

    def add_loss(self, loss) -> None:
        """Adds a loss term (a scalar Tensor or number, or a list of them) in ``call``:
        ``fit`` adds the terms of each batch's call to the loss (and differentiates
        them when computed with ops); ``losses`` lists them until the next call."""
        terms = added_losses.check_term(self, loss)
        added_losses.note_used()
        self.__dict__.setdefault("_call_losses", []).extend(terms)

    @property
    def losses(self) -> list:
        """The loss terms added in the last call (``add_loss``, this layer's and the
        layers' inside it), then the weights' regularization penalties: scalar Tensors
        computed with ops, as Keras 3's ``layer.losses``."""
        return added_losses.terms(self) + added_losses.regularization(self.variables)

    def _regularization_penalty(self) -> float:
        """The weights' regularization penalties summed, a float (the logs)."""
        return float(sum(v.regularizer(v.value) for v in self.variables
                         if getattr(v, "regularizer", None) is not None))

    # ---------------------------------------------------------------- building
    def build(self, input_shape) -> None:
        """Makes the weights for ``input_shape`` (batch axis included, may be None)."""
        self.built = True

    def _maybe_build(self, input_shape) -> None:
        if not self.built:
            shape = _as_shape(input_shape)
            self.build(shape)
            self._build_shape = shape
            self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def compute_mask(self, inputs, mask=None):
        """The mask of this layer's output: the input's if the layer supports masking."""
        return mask if self.supports_masking else None

    def _check_input(self, shape) -> None:
        """Raises Keras's message when ``shape`` does not fit this built layer."""

    # ---------------------------------------------------------------- calling
    def __call__(self, inputs, *args, training=None, **kwargs):
        if args:
            # Keras hands positional arguments on to `call` by its signature:
            # `sampler(z_mean, z_log_var)` for `call(self, z_mean, z_log_var)`
            training = positional_arguments(self, args, training, kwargs)
        if self.input_spec is not None:
            assert_input_compatibility(self.input_spec, inputs, self.name)
        # built and called inside the layer's name scope, as in Keras: sublayers first
        # built here get this layer's path (my_model/dense/kernel)
        with self._name_scope():
            if is_symbolic(inputs):
                # an explicit mode is kept on the node: Keras runs `layer(x, training=False)`
                # in inference mode wherever the model runs, `fit` included
                if training is not None:
                    if not isinstance(training, (bool, np.bool_)):
                        raise ValueError(
                            "When a layer is called on a symbolic tensor, `training` must be "
                            f"True, False or None. Received: training={training!r}")
                    training = bool(training)
                if self._composite and "backward" not in self.__dict__:
                    return _composite_tracer[0](self, inputs, training=training)
                return self._symbolic_call(inputs, training=training, **kwargs)
            # add_loss terms are per call: the outermost call clears the old ones
            with added_losses.outermost_call(self):
                return self._eager_call(inputs, training, kwargs)

    def _eager_call(self, inputs, training, kwargs):
        """``__call__`` on values, with Keras's masks of eager tensors: a layer whose
        ``call`` takes ``mask`` receives its inputs' (when not given), and the output
        carries ``compute_mask``'s (see ``get_keras_mask``)."""
        mask = inputs_keras_mask(inputs)
        if mask is not None and kwargs.get("mask") is None and _call_takes_mask(type(self)):
            kwargs = dict(kwargs, mask=mask)
        out = self._eager_call_unmasked(inputs, training, kwargs)
        if kwargs.get("mask") is not None:   # given, or taken off the inputs (MHA)
            mask = kwargs["mask"]
        if isinstance(out, (Tensor, np.ndarray)) and (
                (mask is not None and self.supports_masking)
                or getattr(self, "mask_zero", False)
                or _own_compute_mask(type(self))):
            out_mask = self.compute_mask(inputs, mask)
            if out_mask is not None and get_keras_mask(out) is None:
                out = out if isinstance(out, Tensor) else Tensor(out)
                set_keras_mask(out, out_mask)
        return out

    def _eager_call_unmasked(self, inputs, training, kwargs):
        """``__call__`` on values (arrays or Tensors), on a tape or not."""
        if isinstance(inputs, (list, tuple)):
            arrays = [_as_float_array(x, self) for x in inputs]
            self._maybe_build([a.shape for a in arrays])
            if recording():
                if self._composite and ("backward" not in self.__dict__ or getattr(
                        self.__dict__.get("call"), "runs_user_code", False)):
                    # a user's call of ops records itself: give it Tensors
                    return self.call([x if isinstance(x, Tensor) else Tensor(a)
                                      for x, a in zip(inputs, arrays)],
                                     training=bool(training), **kwargs)
                # one node for the several inputs (else their gradients are None)
                run = self._caching_runner(training, kwargs)
                with labelled(self._tape_label()):
                    return taped_multi_call(
                        self, list(inputs), arrays, lambda xs: [run(xs)],
                        lambda gs: list(self.backward(gs[0])))[0]
            return self.call(arrays, training=bool(training), **kwargs)
        x = _as_float_array(inputs, self)
        self._maybe_build(x.shape)
        self._check_input(x.shape)
        if self._composite:
            # a user's call made of ops or layers records itself, op by op
            out = self.call(inputs if isinstance(inputs, Tensor) else (
                Tensor(x) if recording() else x), training=bool(training), **kwargs)
        elif recording():
            activation = output_activation(self)
            return taped_call(self, inputs, x, self._caching_runner(training, kwargs),
                              self.backward, (activation, self.backward_preactivation)
                              if activation else None, label=self._tape_label())
        else:
            out = self.call(x, training=bool(training), **kwargs)
        # eager results are Tensors, as Keras's (predict keeps returning arrays)
        return Tensor(out) if isinstance(out, np.ndarray) else out

    def _tape_label(self) -> str:
        """How a tape's error names this layer's NumPy-only gradient."""
        return f"layer '{self.name}' ({type(self).__name__})"

    def _caching_runner(self, training, kwargs=None):
        """The forward pass a tape differentiates: Keras's mode, caching for backward
        (``_frozen_call``: inference mode that still caches, for Dropout and
        BatchNormalization; the other layers compute the same in both modes).
        ``kwargs``: the call's other arguments (``mask=``), passed on."""
        if not training and hasattr(self, "_frozen_call"):
            if kwargs:
                # the frozen pass takes the input alone: refuse rather than drop them
                raise NotImplementedError(
                    f"{self._tape_label()} on a GradientTape with training=False takes "
                    f"no other arguments in tinyann; received {sorted(kwargs)}. Call it "
                    "with training=True, or without them.")
            return self._frozen_call
        if kwargs:
            return lambda x: self.call(x, training=True, **kwargs)
        return lambda x: self.call(x, training=True)

    def _symbolic_call(self, inputs, training=None, **kwargs):
        tensors = flatten(inputs)
        with self._name_scope():
            if isinstance(inputs, (list, tuple)):
                shapes = [t.shape for t in tensors]
                self._maybe_build(shapes)
                out_shape = self.compute_output_shape(shapes)
            else:
                self._maybe_build(inputs.shape)
                self._check_input(inputs.shape)
                out_shape = self.compute_output_shape(inputs.shape)
        if _is_shape_list(out_shape):  # several outputs (return_state=True ...)
            outs = [KerasTensor(shape) for shape in out_shape]
            self._inbound_nodes.append(Node(self, tensors, outs, training=training))
            return outs
        out = KerasTensor(out_shape)
        node = Node(self, tensors, [out], training=training)
        self._inbound_nodes.append(node)
        return out

    def call(self, inputs, training=False):
        """Forward pass on an array. Caches for ``backward`` only when ``training``."""
        return inputs

    def backward(self, grad_output):
        """dL/dinputs from dL/doutputs; writes dL/dweights into each ``Variable.grad``."""
        return grad_output

    # ---------------------------------------------------------------- graph
    @property
    def input(self):
        """The symbolic input of the first call (as Keras's ``layer.input``)."""
        node = self._first_node("input")
        return node.inputs[0] if len(node.inputs) == 1 else list(node.inputs)

    @property
    def output(self):
        """The symbolic output of the first call (as Keras's ``layer.output``)."""
        node = self._first_node("output")
        return node.outputs[0] if len(node.outputs) == 1 else list(node.outputs)

    def _first_node(self, what):
        if not self._inbound_nodes:
            raise AttributeError(
                f"Layer {self.name} has no defined {what}: it has never been called on a "
                "symbolic tensor. Build the model with an `Input` first."
            )
        return self._inbound_nodes[0]

    # ---------------------------------------------------------------- config
    def get_config(self) -> dict:
        # Keras 3's form; an `input_shape=` argument lives on as the model's InputLayer
        return {"name": self.name, "trainable": self.trainable,
                "dtype": {"module": "keras", "class_name": "DTypePolicy",
                          "config": {"name": self.dtype}, "registered_name": None}}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        dtype = config.get("dtype")
        if isinstance(dtype, dict):  # Keras 3's DTypePolicy
            config["dtype"] = (dtype.get("config") or {}).get("name", backend.floatx())
        if "batch_shape" in config:
            shape = config.pop("batch_shape")
            config["batch_input_shape"] = shape
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


def _in_name_scope(build):
    """``build`` run inside the layer's name scope, as Keras runs every ``build``: the
    weights made there (and by sublayers built there) get the layer's path."""

    @functools.wraps(build)
    def build_in_scope(self, *args, **kwargs):
        with self._name_scope():
            return build(self, *args, **kwargs)

    build_in_scope._in_name_scope = True
    return build_in_scope


@functools.cache
def _call_takes_mask(cls) -> bool:
    """Whether ``cls.call`` has a ``mask`` parameter (Keras then passes the inputs' masks)."""
    try:
        return "mask" in inspect.signature(cls.call).parameters
    except (TypeError, ValueError):
        return False


@functools.cache
def _own_compute_mask(cls) -> bool:
    """Whether a user's class defines ``compute_mask`` (Keras then calls it)."""
    return defined_outside_tinyann(cls, "compute_mask")


def defined_outside_tinyann(cls, attribute) -> bool:
    """Whether the first class of ``cls``'s MRO defining ``attribute`` is a user's."""
    for klass in cls.__mro__:
        if attribute in klass.__dict__:
            return not klass.__module__.startswith("tinyann.")
    return False


def output_activation(layer):
    """The name of the activation ``layer``'s output comes out of, when its backward
    can start from dL/dz instead (``backward_preactivation``, run when a fused
    cross-entropy follows, as fit does); None when not, or when a user's ``call`` or
    ``backward`` may compute something else. A model: its graph's last layer's, when
    that layer gives its one output."""
    if hasattr(layer, "_set_graph"):
        graph = layer._graph
        if graph is None or not graph.steps or len(graph.output_slots) != 1 or (
                "backward" in vars(layer)):
            return None
        last, _, out = graph.steps[-1]
        return output_activation(last) if out == graph.output_slots[0] else None
    if not hasattr(layer, "backward_preactivation") or any(
            name in vars(layer) or defined_outside_tinyann(type(layer), name)
            for name in ("call", "backward", "backward_preactivation")):
        return None
    return getattr(getattr(layer, "activation", None), "name", None)


def _takes_training(function) -> bool:
    try:
        params = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return True
    return "training" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _ignoring_training(function):
    """A user's ``call(self, inputs)`` that tinyann can pass ``training=`` to."""

    @functools.wraps(function)
    def call(self, inputs, training=False, **kwargs):
        return function(self, inputs, **kwargs)

    return call


# A user's layer made of layers is traced into a private layer graph at its first
# symbolic call. Layer graphs live above the layers (tinyann.models.tracing, which
# registers its tracer here when imported, as `import tinyann` does): layers never
# import models.
_composite_tracer = [None]


def set_composite_tracer(function) -> None:
    """``function(layer, inputs, training)``: the symbolic call of a user's layer
    whose ``call`` is its own (see ``tinyann.models.tracing.composite_call``)."""
    _composite_tracer[0] = function


def tracked_layers(values) -> list:
    """The layers in attribute values (a layer, or lists / tuples / dicts of them)."""
    out = []
    for value in values:
        if isinstance(value, Layer):
            out.append(value)
        elif isinstance(value, (list, tuple)):
            out.extend(tracked_layers(value))
        elif isinstance(value, dict):
            out.extend(tracked_layers(value.values()))
    return out


def _tracking_setattr(self, name, value):
    """``__setattr__`` of a user's composite layer and of models: remembers the layers
    it holds (and tells the models' cached weight lists that something changed)."""
    if name != "_tracked" and tracked_layers([value]):
        self.__dict__.setdefault("_tracked", {})[name] = value
    elif name in self.__dict__.get("_tracked", ()):
        del self.__dict__["_tracked"][name]
    object.__setattr__(self, name, value)
    structure_changed()


def _is_shape_list(shape) -> bool:
    """Whether ``compute_output_shape`` gave one shape per output (a list of tuples)."""
    return isinstance(shape, (list, tuple)) and bool(shape) and all(
        isinstance(s, (list, tuple)) for s in shape)


def _as_shape(shape) -> tuple:
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    if isinstance(shape, list) and shape and isinstance(shape[0], (tuple, list)):
        return [tuple(s) for s in shape]
    return tuple(None if d is None else int(d) for d in shape)


def _as_float_array(x, layer) -> np.ndarray:
    """An input array in the layer's float type, with Keras-like errors."""
    arr = np.asarray(x)
    if arr.dtype.kind not in "biuf":
        raise ValueError(
            f"Layer '{layer.name}' expected numeric input, but received an array of dtype "
            f"{arr.dtype}"
        )
    if arr.dtype != layer.dtype:
        arr = arr.astype(layer.dtype)
    return arr
