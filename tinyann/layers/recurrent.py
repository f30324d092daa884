"""Recurrent layers: SimpleRNN, LSTM and GRU, with Keras 3's arguments and weights.

Each layer holds a cell (``simple_rnn_cell``, ``lstm_cell``, ``gru_cell``) that owns
the weights, as Keras does, so weight paths (``lstm/lstm_cell/kernel``) and saved
files match Keras's. The whole sequence runs in one kernel call
(``kernels.lstm_forward`` ...: tinyann/kernels/reference/recurrent.py has the
textbook step-by-step math), and ``backward`` runs backward through time.

Dropout (training only): one input mask ``(batch, features)`` and one recurrent mask
``(batch, units)`` per batch, reused at every step, as Keras.

States, as Keras 3: ``return_state=True`` returns ``[output, h]`` (LSTM ``[output, h,
c]``, each state ``(batch, units)``); ``layer(x, initial_state=[h0, c0])`` starts from
given states (gradients flow into them); ``stateful=True`` starts each batch from the
previous batch's final states (``reset_state()`` zeros them; they are not weights and
are not saved). These run the ``kernels.<kind>_forward_with_state`` pair.
"""

from __future__ import annotations

import numpy as np

from tinyann import activations, backend, initializers, kernels, regularizers
from tinyann.autodiff import recording
from tinyann.layers._kernel_layer import is_positive_int
from tinyann.layers._state_inputs import BuiltWithStates
from tinyann.layers.keras_tensor import is_symbolic
from tinyann.layers.layer import Layer, _is_shape_list
from tinyann.layers.taped_call import taped_call_many


class _Cell(Layer):
    """The weights of one recurrent layer: ``kernel (features, gates * units)``,
    ``recurrent_kernel (units, gates * units)``, ``bias``."""

    gates = 1

    def __init__(self, owner, **kwargs):
        super().__init__(name=f"{owner.kind}_cell", **kwargs)
        self.owner = owner

    def bias_shape(self):
        return (self.gates * self.owner.units,)

    def build(self, input_shape):
        o = self.owner
        width = self.gates * o.units
        self.kernel = self.add_weight((input_shape[-1], width), o.kernel_initializer,
                                      name="kernel", regularizer=o.kernel_regularizer)
        self.recurrent_kernel = self.add_weight((o.units, width), o.recurrent_initializer,
                                                name="recurrent_kernel",
                                                regularizer=o.recurrent_regularizer)
        self.bias = None
        if o.use_bias:
            init = o.bias_initializer
            if getattr(o, "unit_forget_bias", False):
                init = _UnitForgetBias(o.bias_initializer, o.units)
            self.bias = self.add_weight(self.bias_shape(), init, name="bias",
                                        regularizer=o.bias_regularizer)
        self.built = True


class _UnitForgetBias(initializers.Initializer):
    """LSTM's bias with ``unit_forget_bias``: the forget gate's ``units`` entries are
    ones, the rest from the bias initializer."""

    def __init__(self, base, units):
        self.base, self.units = base, units

    def __call__(self, shape, dtype=None):
        u = self.units
        value = np.asarray(self.base(shape, dtype=dtype))
        value[u:2 * u] = 1.0
        return value


class _Recurrent(BuiltWithStates, Layer):
    """What SimpleRNN, LSTM and GRU share: arguments, the cell, masks, the call."""

    kind = "rnn"
    cell_gates = 1
    uses_recurrent_activation = True
    takes_mask = True

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 use_bias=True, kernel_initializer="glorot_uniform",
                 recurrent_initializer="orthogonal", bias_initializer="zeros",
                 kernel_regularizer=None, recurrent_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
                 bias_constraint=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 return_sequences=False, return_state=False, go_backwards=False,
                 stateful=False, unroll=False, zero_output_for_mask=False, **kwargs):
        if not is_positive_int(units):
            raise ValueError("Received an invalid value for argument `units`, expected a "
                             f"positive integer, got {units!r}.")
        for name, rate in (("dropout", dropout), ("recurrent_dropout", recurrent_dropout)):
            if not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
                raise ValueError(f"Received an invalid value for argument `{name}`, expected "
                                 f"a float between 0 and 1. Received: {name}={rate!r}")
        unsupported = {"activity_regularizer": activity_regularizer,
                       "kernel_constraint": kernel_constraint,
                       "recurrent_constraint": recurrent_constraint,
                       "bias_constraint": bias_constraint}
        unsupported = [k for k, v in unsupported.items() if v is not None]
        if unsupported:
            raise NotImplementedError(f"{type(self).__name__}: {', '.join(unsupported)} "
                                      "is not supported by tinyann yet")
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
        self.dropout = min(1.0, max(0.0, float(dropout)))
        self.recurrent_dropout = min(1.0, max(0.0, float(recurrent_dropout)))
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.stateful = bool(stateful)
        self.states = None  # a stateful layer's states (arrays), made when it builds
        self._expected_batch_size = None
        self.go_backwards = bool(go_backwards)
        self.unroll = bool(unroll)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        # the cell holds the weights, as Keras's (its path: <layer>/<kind>_cell/kernel)
        self.cell = self._make_cell()
        self._tracked = {"cell": self.cell}
        self._cache = None

    def _make_cell(self):
        return type(f"{type(self).__name__}Cell", (_Cell,), {"gates": self.cell_gates})(self)

    # ------------------------------------------------------------ shapes
    @property
    def state_count(self) -> int:
        """How many states the cell carries: 2 for LSTM (h, c), else 1 (h)."""
        return 2 if self.kind == "lstm" else 1

    def build(self, input_shape):
        if _is_shape_list(input_shape):  # [sequences, *initial states]
            input_shape = input_shape[0]
        if len(input_shape) != 3:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                f"ndim=3, found ndim={len(input_shape)}. Full shape received: "
                f"{tuple(input_shape)}")
        self.cell._maybe_build(input_shape)
        if self.stateful:
            if input_shape[0] is None:
                raise ValueError(
                    "When using `stateful=True` in a RNN, the batch size must be static. "
                    f"Found dynamic batch size: sequence.shape={tuple(input_shape)}. Give "
                    "it with `Input(shape, batch_size=...)` or `batch_input_shape=`.")
            self._expected_batch_size = int(input_shape[0])
            self.reset_state()
        self.built = True

    # ------------------------------------------------------------ states
    def reset_state(self):
        """Zeros a stateful layer's states (``(batch, units)`` each); does nothing for
        a layer that is not stateful, as Keras 3."""
        if self.stateful and self._expected_batch_size is not None:
            dtype = self.cell.kernel.dtype if self.cell.built else self.dtype
            self.states = [np.zeros((self._expected_batch_size, self.units), dtype)
                           for _ in range(self.state_count)]

    def reset_states(self):
        """Keras's compatibility alias of :meth:`reset_state`."""
        self.reset_state()

    def __call__(self, inputs, initial_state=None, training=None, **kwargs):
        """``initial_state``: a list of ``state_count`` tensors (or arrays), each
        ``(batch, units)``; the layer's call then reads ``[sequences, *states]``."""
        if initial_state is None and not (self.return_state and recording()):
            return super().__call__(inputs, training=training, **kwargs)
        states = [] if initial_state is None else list(initial_state) if isinstance(
            initial_state, (list, tuple)) else [initial_state]
        if recording() and not is_symbolic([inputs, *states]):
            return self._taped_call([inputs, *states], training)
        if not self.built:
            self._states_as_list = isinstance(initial_state, (list, tuple))
        if len(states) != self.state_count:
            raise ValueError(
                f"Layer '{self.name}' ({type(self).__name__}) expects "
                f"{self.state_count} initial state(s) "
                f"({'[h, c]' if self.state_count == 2 else '[h]'}), but received "
                f"{len(states)} initial state(s).")
        out = super().__call__([inputs, *states], training=training, **kwargs)
        if is_symbolic([inputs, *states]):
            self._inbound_nodes[-1].tensor_kwargs = {
                "initial_state": (len(states), isinstance(initial_state, (list, tuple)))}
        return out
    def _taped_call(self, operands, training):
        """An eager call on a GradientTape with initial states or ``return_state``: one
        recorded node (its gradient: this layer's ``backward``)."""
        arrays = [np.asarray(getattr(o, "value", o), dtype=self.dtype) for o in operands]
        self._maybe_build(arrays[0].shape)
        self._check_input(arrays[0].shape)
        run = (lambda a: self.call(a, training=True)) if training else self._frozen_call
        given = len(operands) > 1
        return taped_call_many(self, operands, arrays,
                               lambda a: run(a if given else a[0]), self.backward)

    def _check_input(self, shape):
        if _is_shape_list(shape):
            self._check_states(shape[0], shape[1:])
            shape = shape[0]
        if len(shape) != 3 or shape[-1] != self.cell.kernel.shape[0]:
            raise ValueError(
                f"Input 0 of layer '{self.name}' is incompatible with the layer: expected "
                f"shape=(None, None, {self.cell.kernel.shape[0]}), found "
                f"shape={tuple(shape)}")

    def _check_states(self, input_shape, state_shapes):
        for i, shape in enumerate(state_shapes):
            if tuple(shape[1:]) != (self.units,) or len(shape) != 2:
                raise ValueError(
                    f"Layer '{self.name}': initial state {i} must have shape (batch, "
                    f"{self.units}). Received: shape={tuple(shape)}")
            if None not in (shape[0], input_shape[0]) and shape[0] != input_shape[0]:
                raise ValueError(
                    f"Layer '{self.name}': initial state {i} has batch size {shape[0]} "
                    f"but the sequences have batch size {input_shape[0]}.")

    def compute_output_shape(self, input_shape):
        """``(batch, units)`` or ``(batch, steps, units)``; with ``return_state`` a list:
        that, then one ``(batch, units)`` per state."""
        if _is_shape_list(input_shape):
            self._check_states(input_shape[0], input_shape[1:])
            input_shape = input_shape[0]
        if self.return_sequences:
            output = (input_shape[0], input_shape[1], self.units)
        else:
            output = (input_shape[0], self.units)
        if self.return_state:
            return [output] + [(input_shape[0], self.units)] * self.state_count
        return output

    # ------------------------------------------------------------ math
    def _kernel_options(self):
        """The kernels' keyword arguments: the activations by name (and GRU's form)."""
        names = {"activation": _kernel_activation(self.activation)}
        if self.uses_recurrent_activation:
            names["recurrent_activation"] = _kernel_activation(self.recurrent_activation)
        return names

    def _forward(self, x, kernel, recurrent, bias, mask, recurrent_mask, record=True):
        """The whole sequence: ``kernels.<kind>_forward`` (``lstm_forward``...);
        ``record=False``: no backward follows, the kernels may keep no cache."""
        forward = getattr(kernels, f"{self.kind}_forward")
        return forward(x, kernel, recurrent, bias, mask=mask, recurrent_mask=recurrent_mask,
                       record=record, **self._kernel_options())

    def _backward(self, d_outputs, cache, dkernel, drecurrent, dbias, need_dx=True):
        backward = getattr(kernels, f"{self.kind}_backward")
        return backward(d_outputs, cache, dkernel, drecurrent, dbias, need_dx)

    def _dropout_mask(self, shape, rate, dtype):
        if rate <= 0:
            return None
        rng = self._rng if self._rng is not None else backend.rng()
        keep = rng.random(shape, dtype=dtype) >= rate
        return keep * dtype.type(1.0 / (1.0 - rate)) if rate < 1 else keep * dtype.type(0)

    def compute_mask(self, inputs, mask=None):
        """Keras's: the input's mask goes on with the sequences, not with the last output
        (nor with the states)."""
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * self.state_count
        return output_mask

    def call(self, inputs, training=False, mask=None, initial_state=None):
        """``inputs``: the sequences ``(batch, steps, features)``, or the list
        ``[sequences, *initial states]``. ``mask (batch, steps)``: at a masked step the
        state is kept (Keras's). Returns the output, or with ``return_state`` the list
        ``[output, *final states]``."""
        if initial_state is not None:
            inputs = [inputs, *(initial_state if isinstance(initial_state, (list, tuple))
                                else [initial_state])]
        return self._run(inputs, mask, record=training, dropout=training)

    def _frozen_call(self, inputs, mask=None):
        """Inference mode in a training step (the layer called with training=False in
        a model): no dropout, but what backward needs is recorded."""
        return self._run(inputs, mask, record=True, dropout=False)

    def _initial_state(self, inputs):
        """``(sequences, initial states or None, whether they came with the inputs)``."""
        if isinstance(inputs, (list, tuple)):
            x, states = inputs[0], [np.asarray(s, dtype=inputs[0].dtype) for s in inputs[1:]]
            self._check_states(x.shape, [s.shape for s in states])
            return x, states, True
        if self.stateful:
            if self._expected_batch_size is not None and inputs.shape[0] != \
                    self._expected_batch_size:
                raise ValueError(
                    "If an RNN is stateful, the batch size of the input sequences must be "
                    "the same as the batch size of the initial state.\n- Expected batch "
                    f"size: {self._expected_batch_size}\n- Received batch size: "
                    f"{inputs.shape[0]}")
            return inputs, self.states, False
        return inputs, None, False

    def _run(self, inputs, mask, record, dropout):
        inputs, initial_state, states_given = self._initial_state(inputs)
        # the states at both ends need the *_with_state kernels, except a final h alone
        # (SimpleRNN's, GRU's): it is the last output
        with_state = states_given or self.stateful or (self.return_state
                                                       and self.state_count > 1)
        if mask is not None:
            mask = np.asarray(mask, dtype=bool)
            mask = mask[:, ::-1] if self.go_backwards else mask
        x = inputs[:, ::-1] if self.go_backwards else inputs
        dtype = x.dtype
        input_mask = recurrent_mask = None
        if dropout:
            input_mask = self._dropout_mask((x.shape[0], x.shape[2]), self.dropout, dtype)
            recurrent_mask = self._dropout_mask((x.shape[0], self.units),
                                                self.recurrent_dropout, dtype)
        if input_mask is not None:
            x = x * input_mask[:, None, :]
        c = self.cell
        weights = (np.ascontiguousarray(x), c.kernel.value, c.recurrent_kernel.value,
                   None if c.bias is None else c.bias.value)
        final = None
        if with_state:
            forward = getattr(kernels, f"{self.kind}_forward_with_state")
            outputs, final, cache = forward(*weights, initial_state, mask, recurrent_mask,
                                            record=record, **self._kernel_options())
            if self.stateful:  # the next batch starts here (no gradient flows back)
                self.states = [np.array(s) for s in final]
        else:
            outputs, cache = self._forward(*weights, mask, recurrent_mask, record)
            if self.return_state:
                final = [outputs[:, -1]]
        if record:
            self._cache = (cache, input_mask, inputs.shape, with_state, states_given)
        output = outputs if self.return_sequences else outputs[:, -1]
        if self.return_state:
            return [output, *(np.array(s) for s in final)]
        return output

    def backward(self, grad_output):
        """dL/dinputs from dL/doutput (with ``return_state`` a list ``[d output, *d
        states]``, None for unused ones); a list ``[dx, *d initial states]`` when the
        call was given initial states."""
        cache, input_mask, shape, with_state, states_given = self._cache
        d_final = None
        if self.return_state:
            grad_output, d_final = grad_output[0], list(grad_output[1:])
        if self.return_sequences and grad_output is not None:
            d_outputs = grad_output
        else:
            dtype = next(g for g in [grad_output, *(d_final or [])] if g is not None).dtype
            d_outputs = np.zeros((shape[0], shape[1], self.units), dtype)
            if grad_output is not None:
                d_outputs[:, -1] = grad_output
        if not with_state and d_final and d_final[0] is not None:
            # h_T is the last output (SimpleRNN, GRU without initial states)
            if d_outputs is grad_output:
                d_outputs = d_outputs.copy()
            d_outputs[:, -1] += d_final[0]
        c = self.cell
        grads = (c.kernel.grad, c.recurrent_kernel.grad, None if c.bias is None else c.bias.grad)
        d_initial = None
        # False for a first layer: nothing before it needs dL/dx (the one-hot SimpleRNN's
        # dx alone is a 6400 x 8 by 8 x 200 product a batch); states' gradients still flow
        need_dx = self._needs_input_grad
        if with_state:
            backward = getattr(kernels, f"{self.kind}_backward_with_state")
            dx, d_initial = backward(np.ascontiguousarray(d_outputs), d_final, cache, *grads,
                                     need_dx=need_dx)
        else:
            dx = self._backward(np.ascontiguousarray(d_outputs), cache, *grads, need_dx)
        if dx is None:  # a first layer: nothing before it needs dL/dx
            return [dx, *d_initial] if states_given else dx
        if input_mask is not None:
            dx *= input_mask[:, None, :]
        dx = dx[:, ::-1] if self.go_backwards else dx
        return [dx, *d_initial] if states_given else dx

    # ------------------------------------------------------------ config
    def get_config(self):
        config = super().get_config()
        config.update(return_sequences=self.return_sequences, return_state=self.return_state,
                      go_backwards=self.go_backwards, stateful=self.stateful,
                      unroll=self.unroll,
                      zero_output_for_mask=self.zero_output_for_mask, units=self.units,
                      activation=activations.serialize(self.activation))
        if self.uses_recurrent_activation:
            config["recurrent_activation"] = activations.serialize(self.recurrent_activation)
        config.update(
            use_bias=self.use_bias,
            kernel_initializer=initializers.serialize(self.kernel_initializer),
            recurrent_initializer=initializers.serialize(self.recurrent_initializer),
            bias_initializer=initializers.serialize(self.bias_initializer))
        if hasattr(self, "unit_forget_bias"):
            config["unit_forget_bias"] = self.unit_forget_bias
        config.update(
            kernel_regularizer=regularizers.serialize(self.kernel_regularizer),
            recurrent_regularizer=regularizers.serialize(self.recurrent_regularizer),
            bias_regularizer=regularizers.serialize(self.bias_regularizer),
            activity_regularizer=None, kernel_constraint=None, recurrent_constraint=None,
            bias_constraint=None, dropout=self.dropout,
            recurrent_dropout=self.recurrent_dropout)
        if hasattr(self, "reset_after"):
            config["reset_after"] = self.reset_after
        if self.uses_recurrent_activation:
            config["seed"] = self.seed
        return config


def _kernel_activation(activation) -> str:
    name = activation.name
    from tinyann.kernels.reference.recurrent import ACTIVATIONS

    if name not in ACTIVATIONS:
        raise ValueError(f"Recurrent layers take the activations {sorted(ACTIVATIONS)}. "
                         f"Received: activation={name!r}")
    return name


class SimpleRNN(_Recurrent):
    """A fully connected recurrence: ``h_t = activation(x_t W + h_{t-1} U + b)``.

    Input shape: ``(batch, steps, features)``. Output shape: ``(batch, units)``, or
    ``(batch, steps, units)`` with ``return_sequences``.

    Example (the textbook's chapter 9):
        >>> model = Sequential([Input((100, 200)), SimpleRNN(8), Dense(1, "sigmoid")])
    """

    kind = "simple_rnn"
    uses_recurrent_activation = False

    def __init__(self, units, activation="tanh", use_bias=True, **kwargs):
        kwargs.pop("recurrent_activation", None)
        super().__init__(units, activation=activation, use_bias=use_bias, **kwargs)



class LSTM(_Recurrent):
    """Long short-term memory (Hochreiter & Schmidhuber, 1997), Keras's gates i, f, c, o.

    Args (beyond SimpleRNN's): ``recurrent_activation`` (the gates', sigmoid),
    ``unit_forget_bias`` (forget gate bias starts at 1).

    Input shape: ``(batch, steps, features)``. Output shape: ``(batch, units)``, or
    ``(batch, steps, units)`` with ``return_sequences``.
    """

    kind = "lstm"
    cell_gates = 4

    def __init__(self, units, unit_forget_bias=True, **kwargs):
        super().__init__(units, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)



class GRU(_Recurrent):
    """Gated recurrent unit (Cho et al., 2014), Keras's gates z, r, h.

    Args (beyond SimpleRNN's): ``recurrent_activation`` (sigmoid), ``reset_after``
    (Keras 3's default True: the reset gate applies after the recurrent product, and
    the bias has shape ``(2, 3 * units)``: input bias, recurrent bias).
    """

    kind = "gru"
    cell_gates = 3

    def __init__(self, units, reset_after=True, **kwargs):
        self.reset_after = bool(reset_after)
        super().__init__(units, **kwargs)

    def _make_cell(self):
        cell = super()._make_cell()
        if self.reset_after:
            cell.bias_shape = lambda: (2, 3 * self.units)
        return cell

    def _kernel_options(self):
        return dict(super()._kernel_options(), reset_after=self.reset_after)

