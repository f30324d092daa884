"""Subclassed models and layers: the layer graph a user's ``call`` makes, traced once.

Keras runs a subclassed model's ``call`` at every step and differentiates it with
its backend's autodiff. tinyann's layers have explicit backward passes instead, so
``call`` is run once on symbolic tensors shaped like the data (``Input((784,))``
for x of shape (n, 784)); the layers it calls, in the order they ran, form the
``Graph`` that fit / evaluate / predict then run forward and backward.

What ``call`` may do: call layers (and models), combine their outputs with
``+``, ``-``, ``*``, and branch on anything but the data. It is traced with
``training=True`` and ``training=False``; both must call the same layers (layers
such as Dropout already behave differently in training). A layer called with
``training=training`` follows the model's mode; one called with a constant
(``self.bn(x, training=False)``) keeps that mode, as in Keras.
"""

from __future__ import annotations

import inspect

import numpy as np

from tinyann.autodiff import Tensor
from tinyann.layers import added_losses
from tinyann.layers.input_layer import Input
from tinyann.layers.keras_masks import get_keras_mask, set_keras_mask
from tinyann.layers.keras_tensor import KerasTensor, Node, flatten
from tinyann.layers.layer import Layer, defined_outside_tinyann, set_composite_tracer
from tinyann.models.functional import Graph


def input_shapes(input_shape) -> list[tuple]:
    """``(None, 784)`` -> ``[(None, 784)]``; a list of shapes stays a list."""
    if isinstance(input_shape, (list, tuple)) and input_shape and all(
            isinstance(s, (list, tuple)) for s in input_shape):
        return [tuple(s) for s in input_shape]
    return [tuple(input_shape)]


def trace(model, shapes, keys=None):
    """Runs ``model.call`` (a model's or a composite layer's) on symbolic inputs of
    ``shapes`` (batch axis included); with ``keys`` (sorted, one per shape) ``call``
    gets them as a dict keyed so, as a model called on a dict of arrays.

    Returns:
        ``(inputs, outputs)``: the input tensors (a tensor, or a list for several
        inputs) and the outputs ``call`` returned (a tensor, list or dict).
    """
    kind = "model" if hasattr(model, "_set_graph") else "layer"
    takes_training = _accepts(model.call, "training")
    graphs = []
    for training in ((True, False) if takes_training else (None,)):
        tensors = [Input(batch_shape=(None,) + tuple(s)[1:]) for s in shapes]
        inputs = tensors[0] if len(tensors) == 1 else tensors
        if keys is not None:
            inputs = dict(zip(keys, tensors))
        kwargs = {} if training is None else {"training": training}
        try:
            with added_losses.tracing():
                outputs = model.call(inputs, **kwargs)
        except Exception as error:  # noqa: BLE001 - reworded with the rule it broke
            raise NotImplementedError(
                f"tinyann could not trace `call()` of the subclassed {kind} "
                f"'{model.name}' ({type(model).__name__}). tinyann runs `call()` once "
                "on symbolic tensors, so it may only call layers and combine their "
                "outputs with +, - and *. Tracing it on inputs of shape "
                f"{[(None,) + tuple(s)[1:] for s in shapes]} failed with "
                f"{type(error).__name__}: {error}"
            ) from error
        for t in flatten(outputs):
            if not isinstance(t, KerasTensor):
                raise NotImplementedError(
                    f"`call()` of the subclassed {kind} '{model.name}' returned "
                    f"{type(t).__name__}, not the output of a layer. tinyann can train "
                    f"only a {kind} whose `call()` returns layer outputs."
                )
        graphs.append((inputs, outputs))
    if len(graphs) == 2:
        train_nodes, infer_nodes = _call_nodes(graphs[0]), _call_nodes(graphs[1])
        if [id(n.layer) for n in train_nodes] != [id(n.layer) for n in infer_nodes]:
            raise NotImplementedError(
                f"`call()` of the subclassed {kind} '{model.name}' calls different layers "
                "with training=True than with training=False. tinyann traces `call()` "
                "once for both; pass `training` on to the layers instead (Dropout and "
                "BatchNormalization already behave differently in training)."
            )
        for in_training, in_inference in zip(train_nodes, infer_nodes):
            in_inference.training = _traced_mode(in_training, in_inference, kind, model)
    return graphs[-1]


def _traced_mode(in_training, in_inference, kind, model):
    """The ``training`` of a layer call seen in both traces: ``None`` when it follows the
    model's mode (``training=training``, or none given), else the constant given."""
    when_true = True if in_training.training is None else in_training.training
    when_false = False if in_inference.training is None else in_inference.training
    if when_true and not when_false:
        return None
    if when_true == when_false:
        return when_true
    raise NotImplementedError(
        f"`call()` of the subclassed {kind} '{model.name}' calls the layer "
        f"'{in_inference.layer.name}' in inference mode when the {kind} trains and in "
        "training mode when it does not; tinyann supports `training=training` or a "
        "constant `training=True` / `training=False`."
    )


def _accepts(function, name) -> bool:
    # inspect.signature follows a wrapper to the user's own `call`
    try:
        params = inspect.signature(function).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


def _call_nodes(traced) -> list:
    """The layer calls of a trace, in the order its graph runs them."""
    inputs, outputs = traced
    return Graph(flatten(inputs), flatten(outputs)).nodes


def composite_call(layer, inputs, training=None):
    """A user's layer (or subclassed model) called on symbolic ``inputs``.

    A model is traced into its own graph. A layer made of other layers is traced
    into a private graph that its ``call`` and ``backward`` then run, so it stays
    one step of the model it is in. A layer whose ``call`` cannot be traced (NumPy
    code, say) still predicts: it runs its own ``call``, and only training it
    raises, since it has no ``backward``. ``training`` (True, False or None) is
    the mode given in this call, kept on its node.
    """
    tensors = flatten(inputs)
    shapes = [t.shape for t in tensors]
    if hasattr(layer, "_set_graph"):
        if layer._graph is None:
            layer.build(shapes if len(shapes) > 1 else shapes[0])
        return layer._symbolic_call(inputs, training=training)
    if not layer.built:
        layer.build(shapes if len(shapes) > 1 else shapes[0])
        layer.built = True
    try:
        traced_inputs, traced_outputs = trace(layer, shapes)
    except NotImplementedError as error:
        return _untraceable_call(layer, inputs, tensors, error, training)
    outs = flatten(traced_outputs)
    if len(outs) != 1:
        raise NotImplementedError(
            f"The layer '{layer.name}' returns {len(outs)} tensors; tinyann supports "
            "layers with one output (use a subclassed Model for several)."
        )
    graph = Graph(flatten(traced_inputs), outs)
    graph.set_needs_input_grad(True)
    several = len(tensors) > 1

    def call(x, training=False):
        return graph.forward(list(x) if several else [x], training=training)[0]

    def backward(grad_output):
        grads = graph.backward([grad_output])
        return grads if several else grads[0]

    if _takes_mask_argument(layer):
        call, backward = _masked_call_and_backward(layer, call, backward)
    # instance attributes: the graph stands in for the user's `call` from now on
    layer.__dict__.update(call=call, backward=backward, _traced_graph=graph,
                          compute_output_shape=_fixed_output_shape(outs[0].shape),
                          _check_input=_fixed_input_check(layer, shapes[0]))
    out = KerasTensor(outs[0].shape)
    layer._inbound_nodes.append(Node(layer, tensors, [out], training=training))
    return out


set_composite_tracer(composite_call)


def _untraceable_call(layer, inputs, tensors, error, training=None):
    """The node of a layer that runs its own ``call`` on values (``keras.ops``, NumPy):
    trained through a GradientTape (see ``_taped_call_and_backward``)."""
    import numpy as np

    from tinyann import backend

    def output_shape(size):
        # zeros of the inputs' dtypes, a dimension left open (None) given ``size``
        samples = [np.zeros((1,) + tuple(size if d is None else d for d in t.shape[1:]),
                            dtype=_sample_dtype(t, backend.floatx())) for t in tensors]
        with added_losses.tracing(False):   # a run on values (it may add loss terms)
            return np.shape(layer.call(samples if len(tensors) > 1 else samples[0]))

    shape = output_shape(2)
    if any(d is None for t in tensors for d in t.shape[1:]):
        # open input dimensions (a sequence of any length): the output's dimensions
        # that follow them stay open
        other = output_shape(3)
        shape = tuple(None if len(other) == len(shape) and a != b else a
                      for a, b in zip(shape, other))
    call, backward = _taped_call_and_backward(layer, layer.call, error)
    if _takes_mask_argument(layer):
        call, backward = _masked_call_and_backward(layer, call, backward)
    layer.__dict__.update(call=call, backward=backward,
                          compute_output_shape=_fixed_output_shape((None,) + shape[1:]))
    out = KerasTensor((None,) + tuple(shape[1:]))
    layer._inbound_nodes.append(Node(layer, tensors, [out], training=training))
    return out


def _sample_dtype(tensor, floatx):
    """The dtype of a symbolic input's stand-in values: its own if numeric (token ids
    stay integers), else floatx."""
    dtype = getattr(tensor, "dtype", None)
    try:
        kind = np.dtype(dtype).kind if dtype is not None else "f"
    except TypeError:
        return floatx
    return dtype if kind in "iub" else floatx


def _takes_mask_argument(layer) -> bool:
    """Whether a user's layer's own ``call`` has a ``mask`` parameter (Keras then hands
    it its input's mask)."""
    try:
        return "mask" in inspect.signature(type(layer).call).parameters
    except (TypeError, ValueError):
        return False


def _masked_call_and_backward(layer, call, backward):
    """``call(x, training, mask=None)`` and ``backward`` of a user's layer whose ``call``
    takes ``mask`` (the book's ``TransformerEncoder``): without a mask, ``call`` and
    ``backward`` as traced; with one (a model's graph passes its input's Keras mask),
    the user's own ``call`` runs on values with that mask, on a private tape that
    gives its backward. The layer is marked ``takes_mask`` so the graph passes it."""
    user_call = type(layer).call
    takes_training = _accepts(user_call, "training")
    given = {}

    def run_user_call(x, training=False):
        kwargs = {"training": training} if takes_training else {}
        # as Keras's eager tensors: the input carries its mask into the user's code
        # (the layers it calls there read it, MultiHeadAttention's query and value)
        if isinstance(x, (list, tuple)):
            for each, m in zip(x, given["mask"]):
                set_keras_mask(each, m)
        else:
            set_keras_mask(x, given["mask"])
        return user_call(layer, x, mask=given["mask"], **kwargs)

    taped_call, taped_backward = _taped_call_and_backward(
        layer, run_user_call, NotImplementedError("it was called with a mask"))
    last = {}

    def masked_call(x, training=False, mask=None):
        if mask is None:
            # on a caller's tape a model runs this on Tensors, which carry their masks
            mask = _tensors_mask(x)
        if mask is None:
            last["backward"] = backward
            return call(x, training=training)
        given["mask"] = mask
        last["backward"] = taped_backward
        return taped_call(x, training=training)

    def masked_backward(grad_output):
        return last.get("backward", backward)(grad_output)

    masked_call.runs_user_code = getattr(call, "runs_user_code", False)
    layer.__dict__["takes_mask"] = True
    return masked_call, masked_backward


def _tensors_mask(x):
    """The Keras mask(s) that eager Tensors carry (a list for several), or None."""
    if isinstance(x, (list, tuple)):
        masks = [get_keras_mask(a) for a in x]
        return masks if any(m is not None for m in masks) else None
    return get_keras_mask(x)


def _with_keras_mask(layer, x, out):
    """``out``, carrying the mask a user's layer gives it (its ``compute_mask``), when
    its ``call`` ran on Tensors outside ``__call__`` (a model's steps on a tape)."""
    if not isinstance(out, Tensor) or get_keras_mask(out) is not None:
        return out
    mask = _tensors_mask(x)
    if defined_outside_tinyann(type(layer), "compute_mask") or (
            mask is not None and layer.supports_masking):
        set_keras_mask(out, layer.compute_mask(x, mask))
    return out


def _taped_call_and_backward(layer, user_call, error, owner=None):
    """``call`` and ``backward`` for a layer whose ``call`` computes on values: each call
    runs the user's code on a private GradientTape that watches the input (the layer's
    trainable weights are watched as they are read); ``backward`` asks that tape for
    dL/dinput and dL/dweights, and writes the latter into ``Variable.grad`` as a
    built-in layer does. A user's call that only NumPy can run records nothing and
    keeps the old error.

    ``add_loss`` terms of the call (of ``owner``, the layer or the model the step
    stands for, and the layers inside it) are cleared at each call and differentiated
    with the output by ``backward``: each gets the seed 1, as fit adds them to the loss.
    """
    import numpy as np

    from tinyann.autodiff import GradientTape, Tensor

    losses_of = owner if owner is not None else layer

    def call(x, training=False):
        if isinstance(x, Tensor) or (isinstance(x, (list, tuple)) and any(
                isinstance(a, Tensor) for a in x)):
            # called by the user (eagerly or on their own tape): the ops record
            # themselves on the open tapes, and the result stays a Tensor
            return _with_keras_mask(layer, x, user_call(x, training=training))
        several = isinstance(x, (list, tuple))
        xt = [Tensor(np.asarray(a)) for a in x] if several else Tensor(np.asarray(x))
        tape = GradientTape()
        with added_losses.outermost_call(losses_of), tape:
            tape.watch(xt)
            out = user_call(xt, training=training)
        terms = [t for t in added_losses.terms(losses_of) if id(t) in tape._watched]
        layer.__dict__["_tape_step"] = (tape, xt, out, terms)
        return np.asarray(out)

    # Model.__call__ on a tape calls this `call` on Tensors (the user's code then
    # records on the caller's tape) rather than making the step one node
    call.runs_user_code = True

    def backward(grad_output):
        tape, xt, out, terms = layer.__dict__.pop("_tape_step")
        weights = layer.trainable_weights
        sources = (list(xt) if isinstance(xt, list) else [xt]) + list(weights)
        if not isinstance(out, Tensor) or id(out) not in tape._watched:
            # NumPy's own functions return arrays the tape never saw: no gradient
            raise NotImplementedError(
                f"The layer '{layer.name}' ({type(layer).__name__}) cannot be trained by "
                "tinyann: it has no `backward(grad_output)` method, its `call()` could not "
                f"be traced into tinyann layers ({error}), and its result was not computed "
                "by keras.ops on a GradientTape (NumPy functions record nothing). Write "
                "`call` with keras.ops, define "
                "`backward`, or build the layer from tinyann layers."
            )
        grads = tape.gradient([out, *terms], sources, output_gradients=[
            np.asarray(grad_output), *[np.ones(t.shape, t.dtype) for t in terms]],
            unconnected_gradients="zero")
        n = len(sources) - len(weights)
        for v, g in zip(weights, grads[n:]):
            v.grad[...] = g.numpy()
        dx = [g.numpy() for g in grads[:n]]
        return dx if isinstance(xt, list) else dx[0]

    return call, backward


def _fixed_output_shape(traced_shape):
    """``compute_output_shape`` of a traced layer: its traced output, with the batch
    size of the input (the shape checks before fit pass real batch sizes)."""

    def compute_output_shape(input_shape):
        first = input_shape[0] if input_shape and isinstance(input_shape[0], (list, tuple)) \
            else input_shape
        return (tuple(first)[0],) + tuple(traced_shape[1:])

    return compute_output_shape


def _fixed_input_check(layer, traced_shape):
    """``_check_input`` of a traced layer: the shape it was traced for, any batch."""
    expected = (None,) + tuple(traced_shape[1:])

    def check_input(shape):
        shape = tuple(shape)
        if len(shape) != len(expected) or any(
                e is not None and e != s for e, s in zip(expected[1:], shape[1:])):
            raise ValueError(
                f'Input 0 of layer "{layer.name}" is incompatible with the layer: '
                f"expected shape={expected}, found shape={shape}"
            )

    return check_input


class ValueCall(Layer):
    """The whole ``call`` of a subclassed model that computes on values (``keras.ops``
    between its layers): one step of the model's graph, trained through a tape. Its
    weights are the model's layers' weights."""

    def __init__(self, model, run):
        super().__init__(name=f"{model.name}_call")
        self.__dict__["_owner"] = model
        self.__dict__["_run"] = run

    @property
    def weights(self):
        return [w for layer in self._owner.layers for w in layer.weights]

    @property
    def trainable_weights(self):
        return [w for layer in self._owner.layers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self):
        return [w for layer in self._owner.layers for w in layer.non_trainable_weights]


def trace_value_call(model, shapes, error, keys=None):
    """``(inputs, output)`` of a graph whose one step runs the model's own ``call`` on
    values (a tape per call gives its backward), for a model that tracing could not
    turn into layers. Several inputs reach ``call`` as a list, or as a dict keyed by
    ``keys`` (sorted); a ``call`` with several outputs keeps ``error``."""
    import numpy as np

    from tinyann import backend
    from tinyann.autodiff import Tensor

    user_call = type(model).call
    takes_training = _accepts(user_call, "training")
    several = len(shapes) > 1 or keys is not None

    def run(x, training=False):
        if several:
            x = dict(zip(keys, x)) if keys is not None else list(x)
        return user_call(model, x, training=training) if takes_training else user_call(model, x)

    samples = [np.zeros((1,) + tuple(s)[1:], dtype=backend.floatx()) for s in shapes]
    with added_losses.tracing(False):   # a run on values (it may add loss terms)
        sample_out = run(samples if several else samples[0])   # builds the model's layers
    if not isinstance(sample_out, (Tensor, np.ndarray)):
        raise error
    out_shape = (None,) + np.shape(sample_out)[1:]
    step = ValueCall(model, run)
    call, backward = _taped_call_and_backward(step, run, error, owner=model)
    step.__dict__.update(call=call, backward=backward,
                         compute_output_shape=_fixed_output_shape(out_shape))
    step.built = True
    tensors = [Input(batch_shape=(None,) + tuple(s)[1:]) for s in shapes]
    out = KerasTensor(out_shape)
    step._inbound_nodes.append(Node(step, tensors, [out]))
    if keys is not None:
        return dict(zip(keys, tensors)), out
    return (tensors if several else tensors[0]), out
