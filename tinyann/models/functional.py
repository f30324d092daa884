"""The layer graph of a model: built from symbolic tensors, run forward and backward.

``Graph(inputs, outputs)`` walks the nodes back from the outputs, orders them so
every node comes after the nodes it reads from, and numbers the tensors. Running
it keeps the arrays in a list indexed by those numbers; backward goes through
the same steps in reverse, adding the gradients of tensors read by two layers.

A layer called with ``training=True`` or ``training=False`` (Keras's
``base_model(x, training=False)``) keeps that mode wherever the graph runs. A step
in inference mode inside a training pass is run "frozen": its inference output,
recording what its backward needs (Dropout: the identity; BatchNormalization: the
moving statistics as constants; a nested model: all its layers frozen).
"""

from __future__ import annotations

import numpy as np

from tinyann import kernels
from tinyann.layers.input_layer import InputLayer
from tinyann.layers.keras_masks import as_mask, per_input, step_mask
from tinyann.layers.keras_tensor import KerasTensor
from tinyann.layers.layer import defined_outside_tinyann

# how a pass runs a step: inference, training, or inference recording for backward
_INFER, _TRAIN, _FROZEN = 0, 1, 2


class Graph:
    """An ordered list of steps ``(layer, input slots, output slot)``; a layer with
    several outputs (``return_state=True``) has a tuple of output slots, and its
    ``call`` returns (``backward`` receives, with None for unused ones) a list.

    Args:
        inputs: list of ``KerasTensor`` made by ``Input``.
        outputs: list of ``KerasTensor`` computed from them.
    """

    def __init__(self, inputs, outputs):
        for t in list(inputs) + list(outputs):
            if not isinstance(t, KerasTensor):
                raise ValueError(
                    "All `inputs` and `outputs` of a Model must be symbolic tensors made from "
                    f"`keras.Input`. Received: {t!r} of type {type(t).__name__}"
                )
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        nodes = self._ordered_nodes()
        slot = {}
        for i, t in enumerate(self.inputs):
            slot[id(t)] = i
        self.steps = []
        self.nodes = []  # the node of each step
        for node in nodes:
            if not node.inputs:
                if id(node.outputs[0]) not in slot:
                    raise ValueError(
                        f"Graph disconnected: the model needs the input "
                        f"'{node.layer.name}', which is not in the model's `inputs`."
                    )
                continue
            ins = [slot[id(t)] for t in node.inputs]
            outs = []
            for t in node.outputs:
                slot[id(t)] = len(slot)
                outs.append(slot[id(t)])
            self.steps.append((node.layer, ins, outs[0] if len(outs) == 1 else tuple(outs)))
            self.nodes.append(node)
        self.num_slots = len(slot)
        self.output_slots = [slot[id(t)] for t in self.outputs]
        self.is_chain = self._is_chain()
        # steps i whose layer and the next one run fused (tinyann.kernels.FUSIONS): the
        # indices, and the fused computation's name for each
        self.layer_fusions = _layer_fusions(self.steps) if self.is_chain else {}
        self.relu_pools = set(self.layer_fusions)
        self._fused_outputs = {}  # step index -> the fused pair's output, for backward
        self.layers = _unique([n.layer for n in nodes])
        # a layer keeps one call's values for its backward pass: the steps of a layer
        # called more than once keep a copy of theirs (see _stepwise_forward)
        called = [layer for layer, _, _ in self.steps]
        self.shared = [layer.name for layer in _unique(called)
                       if sum(c is layer for c in called) > 1]
        self._shared_steps = {k for k, layer in enumerate(called)
                              if sum(c is layer for c in called) > 1}
        self._snapshots = {}  # step index -> its layer's cache after that call
        self._step_states = {}  # step index -> its own kernel buffers (_kernel_state)
        # the `training=` given in each call (None: the pass's mode); the plain loops
        # of forward run only graphs with none given
        fixed = [node.training for node in self.nodes]
        self.fixed_modes = fixed if any(m is not None for m in fixed) else None
        self._modes = {p: [_step_mode(p, m) for m in fixed] for p in (_INFER, _TRAIN, _FROZEN)}
        self._runners = {}
        self._frozen_blocker = {p: self._find_frozen_blocker(p) for p in (_TRAIN, _FROZEN)}
        self._backward_error = self._find_backward_error()
        # Keras's masks (Embedding(mask_zero=True) -> the recurrent layers): only graphs
        # with a mask source take the masked loop, so the others pay nothing
        # (or a user's layer with its own compute_mask, the book's PositionalEmbedding)
        self.uses_masks = any(_makes_masks(layer) for layer, _, _ in self.steps)
        # the masks of the outputs in the last masked pass (the loss and metrics read
        # them: Keras weighs masked steps 0)
        self.output_masks = [None] * len(self.outputs)
        # whether a mask can reach each output (then fit and evaluate read the masks)
        self.masked_outputs = (self._masks_reaching_outputs() if self.uses_masks
                               else [False] * len(self.outputs))
        self.set_needs_input_grad(False)

    def _masks_reaching_outputs(self):
        """Per output, whether a mask may reach it: from a mask source, through the
        layers whose ``compute_mask`` passes one on (asked with a stand-in mask; a
        layer that needs its inputs to answer is taken to pass it)."""
        has = [False] * self.num_slots
        for layer, ins, out in self.steps:
            stand_in = step_mask([True if h else None for h in has], ins, per_input(layer))
            if getattr(layer, "mask_zero", False):
                result = True
            elif stand_in is None and not _makes_masks(layer):
                result = None
            else:
                try:
                    result = layer.compute_mask(None, stand_in)
                except Exception:  # noqa: BLE001 - it reads the inputs: assume it passes
                    result = True
            if isinstance(out, tuple):
                result = result if isinstance(result, (list, tuple)) else [result] * len(out)
                _store(has, out, [r is not None and r is not False for r in result])
            else:
                _store(has, out, result is not None and result is not False)
        return [has[i] for i in self.output_slots]

    def _find_frozen_blocker(self, pass_mode):
        """A layer tinyann cannot back-propagate through after a pass in ``pass_mode``
        (or None): a user's layer (own ``call``) run in inference mode, where it
        records nothing for its ``backward``."""
        for (layer, _, _), mode in zip(self.steps, self._modes[pass_mode]):
            nested = _nested_graph(layer)
            if nested is not None:
                if mode != _INFER and nested._frozen_blocker[mode] is not None:
                    return nested._frozen_blocker[mode]
            elif mode == _FROZEN and _runs_own_call(layer) and "backward" not in vars(layer):
                return layer
        return None

    def _find_backward_error(self):
        blocker = self._frozen_blocker[_TRAIN]
        if blocker is not None:
            return (
                f"The layer '{blocker.name}' ({type(blocker).__name__}) runs in inference "
                "mode in a training step (it was called with training=False, or inside a "
                "model called with training=False), and tinyann cannot back-propagate "
                "through it: a layer with its own `call` records what its `backward` "
                "needs only with training=True. Call it without training=False to train "
                "this model."
            )
        return None

    def set_needs_input_grad(self, needed: bool) -> None:
        """Layers skip dL/dinput where nothing before them can use it: inputs that are
        the model's, unless ``needed`` (a model nested in another needs it; a model
        trained alone does not), or outputs of built-in layers without weights that
        read only such values (the textbook's Flatten before its first Dense)."""
        # per slot: whether no gradient is wanted there
        quiet = [not needed] * len(self.inputs) + [False] * (self.num_slots - len(self.inputs))
        calls = {}   # id(layer) -> (layer, whether any of its calls needs dL/dinput)
        for layer, ins, out in self.steps:
            inputs_quiet = all(quiet[i] for i in ins)
            _, before = calls.get(id(layer), (layer, False))
            calls[id(layer)] = (layer, before or not inputs_quiet)
            passes = inputs_quiet and _without_weights(layer)
            for o in (out if isinstance(out, tuple) else (out,)):
                quiet[o] = passes
        for layer, needs in calls.values():
            layer._needs_input_grad = needs

    def _is_chain(self) -> bool:
        """One input, one output, each layer reading the previous one's output."""
        if len(self.inputs) != 1 or len(self.outputs) != 1:
            return False
        previous = 0
        for _, ins, out in self.steps:
            if ins != [previous]:
                return False
            previous = out
        return previous == self.output_slots[0]

    def _ordered_nodes(self):
        order, seen, active = [], set(), set()

        def visit(node):
            if id(node) in seen:
                return
            if id(node) in active:
                raise ValueError("The model graph has a cycle.")
            active.add(id(node))
            for t in node.inputs:
                if t.node is None:
                    raise ValueError(f"Tensor {t!r} was not made by a layer call or Input.")
                visit(t.node)
            active.discard(id(node))
            seen.add(id(node))
            order.append(node)

        for t in self.outputs:
            if t.node is None:
                raise ValueError(f"Output {t!r} was not made by a layer call.")
            visit(t.node)
        for t in self.inputs:
            if t.node is None or not isinstance(t.node.layer, InputLayer):
                raise ValueError(
                    f"Model inputs must come from `keras.Input`. Received: {t!r}"
                )
        return order

    # ------------------------------------------------------------------ running
    def forward(self, arrays, training=False):
        """Outputs for a list of input arrays (one per model input)."""
        if self.uses_masks or self._shared_steps:
            return self._stepwise_forward(arrays, _TRAIN if training else _INFER)
        if self.fixed_modes is not None:
            return self._run(arrays, _TRAIN if training else _INFER)
        if self.is_chain:
            x = arrays[0]
            if self.relu_pools:
                return [self._relu_pool_chain_forward(x, training)]
            for layer, _, _ in self.steps:
                x = layer.call(x, training=training)
            return [x]
        values = [None] * self.num_slots
        values[: len(arrays)] = arrays
        for layer, ins, out in self.steps:
            x = values[ins[0]] if len(ins) == 1 else [values[i] for i in ins]
            _store(values, out, layer.call(x, training=training))
        return [values[i] for i in self.output_slots]

    def _stepwise_forward(self, arrays, pass_mode):
        """The forward pass step by step, each step in its mode for the pass (a layer
        called with ``training=False`` stays in inference mode), with

        - Keras's masks: each layer's ``compute_mask`` gives the mask of its output (a
          source such as ``Embedding(mask_zero=True)``, or the input's mask passed on
          by a layer that supports masking); a layer whose ``call`` takes ``mask`` (the
          recurrent layers) receives its input's;
        - layers called more than once (a siamese network's shared tower): in a pass
          that trains, each such call gets buffers of its own for the kernels
          (``_kernel_state``), and after it a copy of the layer's cache and of its
          output (a layer may reuse its output buffer), which backward puts back."""
        values = [None] * self.num_slots
        masks = [None] * self.num_slots
        values[: len(arrays)] = arrays
        shared = self._shared_steps if pass_mode != _INFER else ()
        for k, ((layer, ins, out), mode) in enumerate(zip(self.steps, self._modes[pass_mode])):
            x = values[ins[0]] if len(ins) == 1 else [values[i] for i in ins]
            if k in shared:
                self._own_buffers(k, layer)
            takes_mask = getattr(layer, "takes_mask", False)
            # one mask per input (None where an input has none), as Keras's
            # multi-input layers get them; a recurrent layer given initial states
            # reads its sequence's mask only
            mask = step_mask(masks, ins, per_input(layer))
            if mask is not None and takes_mask:
                if mode == _FROZEN and hasattr(layer, "_frozen_call"):
                    _store(values, out, layer._frozen_call(x, mask=mask))
                else:
                    _store(values, out, layer.call(x, training=mode != _INFER, mask=mask))
            else:
                _store(values, out, _runner(layer, mode)(x))
            if k in shared:
                self._snapshots[k] = _capture(layer)
                _store(values, out, _copied(values[out] if not isinstance(out, tuple)
                                            else [values[o] for o in out]))
            compute = getattr(layer, "compute_mask", None)
            _store(masks, out, as_mask(compute(x, mask)) if compute is not None else None)
        self.output_masks = [masks[i] for i in self.output_slots]
        return [values[i] for i in self.output_slots]

    def _own_buffers(self, k, layer) -> None:
        """Step ``k``'s own kernel buffers for ``layer`` and the layers inside it (a
        convolution's context for backward lives in them)."""
        for each in _within(layer):
            if "_kernel_state" in vars(each):
                each._kernel_state = self._step_states.setdefault(
                    (k, id(each)), {key: v for key, v in each._kernel_state.items()
                                    if key == "name"})

    def forward_frozen(self, arrays):
        """Outputs in inference mode, recording what backward needs: the graph of a
        model called with ``training=False``, run in a training step. Its layers
        called with ``training=True`` still train."""
        if self.uses_masks or self._shared_steps:
            return self._stepwise_forward(arrays, _FROZEN)
        return self._run(arrays, _FROZEN)

    def _run(self, arrays, pass_mode):
        """A pass where some steps may run in another mode than the pass."""
        runs = self._runners.get(pass_mode)
        if runs is None:
            runs = self._runners[pass_mode] = [
                _runner(layer, mode) for (layer, _, _), mode in zip(self.steps,
                                                                    self._modes[pass_mode])]
        if self.relu_pools:
            # (Conv2D and MaxPooling2D compute the same in both modes: only recording differs)
            return [self._relu_pool_chain_forward(arrays[0], pass_mode != _INFER, runs)]
        values = [None] * self.num_slots
        values[: len(arrays)] = arrays
        for (_, ins, out), run in zip(self.steps, runs):
            _store(values, out, run(values[ins[0]] if len(ins) == 1 else [values[i] for i in ins]))
        return [values[i] for i in self.output_slots]

    def _relu_pool_chain_forward(self, x, training, runs=None):
        """The forward pass of a chain whose fused pairs (``relu_pools``, per
        tinyann.kernels.FUSIONS "relu_after_max_pool") run as: the producer's
        ``call_pooled`` (a ReLU convolution without its ReLU, and the max pooling,
        in one op), then ReLU on the pooled output: the same numbers (max and ReLU
        commute, and the first maximum of a window is the same before and after
        ReLU), with the ReLU (and in training its derivative) on the pooled quarter
        of the pixels. ``runs``: how to run each other step, when not all run in the
        pass's mode."""
        steps = self.steps
        i = 0
        while i < len(steps):
            layer = steps[i][0]
            if i in self.relu_pools:
                x = layer.call_pooled(x, steps[i + 1][0], training=training)
                kernels.relu_forward(x, x)
                if training:
                    self._fused_outputs[i] = x  # ReLU's derivative reads it in backward
                i += 2
                continue
            x = layer.call(x, training=training) if runs is None else runs[i](x)
            i += 1
        return x

    def backward(self, grads, first_preactivation=False):
        """Back-propagates output gradients; weights' gradients land in ``Variable.grad``.

        ``first_preactivation``: the (single) output gradient is already dL/dz of the
        last layer's pre-activation (softmax + cross-entropy).

        Returns:
            the gradients for the model inputs (None where not computed).
        """
        if self._backward_error is not None:
            raise NotImplementedError(self._backward_error)
        if self.is_chain:
            g = grads[0]
            steps = self.steps
            last = len(steps) - 1
            fused = self.relu_pools
            i = last
            while i >= 0:
                layer = steps[i][0]
                if i == last and first_preactivation:
                    g = layer.backward_preactivation(g)
                elif i - 1 in fused:
                    # ReLU after the pooling (see _relu_pool_chain_forward): its derivative
                    # on the pooled gradient, then the pooled convolution's backward
                    pooled = self._fused_outputs[i - 1]
                    g = g.reshape(pooled.shape)
                    kernels.relu_backward(pooled, g, g)
                    i -= 1
                    g = steps[i][0].backward_pooled(g)
                else:
                    g = layer.backward(g)
                if g is None:
                    break
                i -= 1
            return [g]
        slot_grads = [None] * self.num_slots
        for i, g in zip(self.output_slots, grads):
            slot_grads[i] = g
        last_out = self.output_slots[0]
        shared, done = self._shared_steps, set()
        for k in range(len(self.steps) - 1, -1, -1):
            layer, ins, out = self.steps[k]
            if isinstance(out, tuple):  # a layer with several outputs: a list, Nones kept
                g = [slot_grads[o] for o in out]
                if all(gi is None for gi in g):
                    continue
            else:
                g = slot_grads[out]
                if g is None:
                    continue
            earlier = None
            if k in shared:
                # this call's cache back; the weights' gradients of its later calls kept
                # (backward overwrites them) and added after
                for owner, state in self._snapshots[k]:
                    vars(owner).update(state)
                if id(layer) in done:
                    earlier = [(v, v.grad.copy()) for v in _graded(layer)]
                done.add(id(layer))
            if first_preactivation and out == last_out:
                g_in = layer.backward_preactivation(g)
            else:
                g_in = layer.backward(g)
            for v, grad in earlier or ():
                v.grad += grad
            if g_in is None:
                continue
            if len(ins) == 1:
                g_in = [g_in]
            for i, gi in zip(ins, g_in):
                if gi is not None:
                    slot_grads[i] = gi if slot_grads[i] is None else slot_grads[i] + gi
        return slot_grads[: len(self.inputs)]


# a layer's private attributes that are not one call's cache: the loss terms of the
# whole pass, and the kernel buffers (each call of a shared layer has its own)
_NOT_CACHE = frozenset({"_call_losses", "_kernel_state"})


def _within(layer) -> list:
    """``layer`` and every layer inside it (a model's, a user's layer's), each once."""
    found, stack = [], [layer]
    while stack:
        current = stack.pop()
        if all(current is not f for f in found):
            found.append(current)
            stack.extend(getattr(current, "layers", None) or [])
            stack.extend(current._sublayers())
    return found


def _capture(layer) -> list:
    """``[(object, attributes)]`` to put back for the backward of one call of ``layer``:
    the caches of the layers in it, and what the graphs of the models in it keep
    between their forward and backward passes."""
    captured = []
    for each in _within(layer):
        captured.append((each, _snapshot(each)))
        graph = _nested_graph(each)
        if isinstance(graph, Graph):
            captured.append((graph, {
                "_fused_outputs": {i: a.copy() for i, a in graph._fused_outputs.items()},
                "_snapshots": dict(graph._snapshots),
                "output_masks": list(graph.output_masks)}))
    return captured


def _snapshot(layer) -> dict:
    """The layer's forward cache, its private attributes: arrays copied (also in
    lists and tuples: a recurrent layer's cache), the rest kept as they are (a
    convolution's context lives in the call's own kernel buffers)."""
    return {k: _copied(v) for k, v in vars(layer).items()
            if k.startswith("_") and k not in _NOT_CACHE}


def _copied(value):
    """``value`` with its arrays copied (in lists and tuples too)."""
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (list, tuple)):
        items = [_copied(v) for v in value]
        return type(value)(*items) if hasattr(value, "_fields") else type(value)(items)
    return value


def _graded(layer) -> list:
    """The layer's variables that backward writes a gradient into."""
    return [v for v in layer.weights if getattr(v, "grad", None) is not None]


def _store(values, out, result):
    """Puts a step's result in its slot, or a list of results in its slots."""
    if isinstance(out, tuple):
        if result is None:
            result = [None] * len(out)
        for slot, value in zip(out, result):
            values[slot] = value
    else:
        values[out] = result


def _step_mode(pass_mode, training):
    """How a pass in ``pass_mode`` runs a step called with ``training``."""
    if training is None:
        return pass_mode
    if training:
        return _TRAIN
    return _INFER if pass_mode == _INFER else _FROZEN


def _without_weights(layer) -> bool:
    """A built-in layer without weights or user code (Flatten, Reshape, Dropout,
    Rescaling...): what reaches its output from before it carries no gradient that its
    inputs do not. A Lambda (a user's function, which may read variables) and any user
    class do not count."""
    cls = type(layer)
    if not cls.__module__.startswith("tinyann.layers.") or cls.__name__ == "Lambda":
        return False
    if _OWN_CODE.intersection(vars(layer)):
        return False
    try:
        return not layer.weights
    except Exception:  # noqa: BLE001 - a layer that cannot list them: assume it has some
        return False


# what an instance may replace of its class's computation
_OWN_CODE = frozenset(("call", "backward", "backward_preactivation"))


def _nested_graph(layer):
    """The graph a model, or a user's layer made of layers, runs (else None)."""
    if hasattr(layer, "_set_graph"):
        return layer._graph
    return vars(layer).get("_traced_graph")


def _runs_own_call(layer) -> bool:
    """Whether ``layer.call`` is a user's code rather than tinyann's."""
    return "call" in vars(layer) or defined_outside_tinyann(type(layer), "call")


def _runner(layer, mode):
    """A function running ``layer`` on an input in ``mode``."""
    if mode == _TRAIN:
        return lambda x: layer.call(x, training=True)
    if mode == _INFER:
        return lambda x: layer.call(x, training=False)
    if hasattr(layer, "_set_graph") or "_traced_graph" in vars(layer):
        # a nested model (its graph looked up at each call: a Sequential may rebuild it)
        # or a user's layer made of layers: every layer inside frozen too
        return lambda x: _forward_frozen(_nested_graph(layer), x)
    if _runs_own_call(layer):
        # a user's layer gets Keras's training=False (see _find_frozen_blocker)
        return lambda x: layer.call(x, training=False)
    frozen_call = getattr(layer, "_frozen_call", None)
    if frozen_call is not None:  # Dropout, BatchNormalization
        return frozen_call
    # every other tinyann layer computes the same in both modes; training=True records
    return lambda x: layer.call(x, training=True)


def _forward_frozen(graph, inputs):
    outs = graph.forward_frozen(list(inputs) if isinstance(inputs, (list, tuple))
                                else [inputs])
    return outs[0] if len(outs) == 1 else outs


def _layer_fusions(steps) -> dict:
    """``{i: fused computation}`` for the steps of a chain whose layer and the next one
    form a pair of ``tinyann.kernels.FUSIONS`` (by their ``fusion_kind``). A layer whose
    ``call`` or ``backward`` a user wrote never fuses: it may compute something else."""
    fusions = {}
    for i in range(len(steps) - 1):
        producer, consumer = steps[i][0], steps[i + 1][0]
        if i - 1 in fusions or not (_fusable(producer) and _fusable(consumer)):
            continue
        fused = kernels.layer_fusion(getattr(producer, "fusion_kind", None),
                                 getattr(consumer, "fusion_kind", None))
        if fused == "relu_after_max_pool":  # the one layer fusion the graph runs
            fusions[i] = fused
    return fusions


def _fusable(layer) -> bool:
    return not (_runs_own_call(layer) or "backward" in vars(layer)
                or defined_outside_tinyann(type(layer), "backward"))


def _unique(items):
    seen, out = set(), []
    for item in items:
        if id(item) not in seen:
            seen.add(id(item))
            out.append(item)
    return out


def _makes_masks(layer) -> bool:
    """Whether ``layer`` may start a mask: ``Embedding(mask_zero=True)``, ``Masking``,
    or a user's layer defining its own ``compute_mask``."""
    return bool(getattr(layer, "mask_zero", False)) or defined_outside_tinyann(
        type(layer), "compute_mask")
