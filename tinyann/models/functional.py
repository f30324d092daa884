"""The layer graph of a model: built from symbolic tensors, run forward and backward.

``Graph(inputs, outputs)`` walks the nodes back from the outputs, orders them so
every node comes after the nodes it reads from, and numbers the tensors. Running
it keeps the arrays in a list indexed by those numbers; backward goes through
the same steps in reverse, adding the gradients of tensors read by two layers.
"""

from __future__ import annotations

import numpy as np

from tinyann.layers.input_layer import InputLayer
from tinyann.layers.keras_tensor import KerasTensor


class Graph:
    """An ordered list of steps ``(layer, input slots, output slot)``.

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
        for node in nodes:
            if not node.inputs:
                if id(node.outputs[0]) not in slot:
                    raise ValueError(
                        f"Graph disconnected: the model needs the input "
                        f"'{node.layer.name}', which is not in the model's `inputs`."
                    )
                continue
            ins = [slot[id(t)] for t in node.inputs]
            slot[id(node.outputs[0])] = len(slot)
            self.steps.append((node.layer, ins, slot[id(node.outputs[0])]))
        self.num_slots = len(slot)
        self.output_slots = [slot[id(t)] for t in self.outputs]
        self.is_chain = self._is_chain()
        self.relu_pools = _relu_pools(self.steps) if self.is_chain else set()
        self.layers = _unique([n.layer for n in nodes])
        self.set_needs_input_grad(False)

    def set_needs_input_grad(self, needed: bool) -> None:
        """Layers reading only model inputs skip dL/dinput unless it is ``needed``
        (a model nested in another needs it; a model trained alone does not)."""
        for layer, ins, _ in self.steps:
            reads_inputs_only = all(i < len(self.inputs) for i in ins)
            layer._needs_input_grad = needed or not reads_inputs_only

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
            values[out] = layer.call(x, training=training)
        return [values[i] for i in self.output_slots]

    def _relu_pool_chain_forward(self, x, training):
        """The forward pass of a chain, with ``Conv2D(activation='relu')`` then
        ``MaxPooling2D`` run as pooling then ReLU: the same numbers (max and ReLU commute,
        and the first maximum of a window is the same before and after ReLU), with
        the ReLU (and in training its derivative) on the pooled quarter of the pixels."""
        steps = self.steps
        i = 0
        while i < len(steps):
            layer = steps[i][0]
            if i in self.relu_pools:
                z = layer._forward(x, training, activate=False)
                x = steps[i + 1][0].call(z, training=training)
                np.maximum(x, 0, out=x)
                i += 2
                continue
            x = layer.call(x, training=training)
            i += 1
        return x

    def backward(self, grads, first_preactivation=False):
        """Back-propagates output gradients; weights' gradients land in ``Variable.grad``.

        ``first_preactivation``: the (single) output gradient is already dL/dz of the
        last layer's pre-activation (softmax + cross-entropy).

        Returns:
            the gradients for the model inputs (None where not computed).
        """
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
                    # on the pooled gradient, then the convolution's own backward
                    pooled = layer._y
                    g = g.reshape(pooled.shape)
                    np.multiply(g, pooled > 0, out=g)
                    g = layer.backward(g)
                    i -= 1
                    if g is not None:
                        g = steps[i][0].backward_preactivation(g)
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
        for layer, ins, out in reversed(self.steps):
            g = slot_grads[out]
            if g is None:
                continue
            if first_preactivation and out == last_out:
                g_in = layer.backward_preactivation(g)
            else:
                g_in = layer.backward(g)
            if g_in is None:
                continue
            if len(ins) == 1:
                g_in = [g_in]
            for i, gi in zip(ins, g_in):
                if gi is not None:
                    slot_grads[i] = gi if slot_grads[i] is None else slot_grads[i] + gi
        return slot_grads[: len(self.inputs)]


def _relu_pools(steps) -> set:
    """Indices of ReLU convolutions whose output only a max pooling reads (a chain)."""
    from tinyann.layers.convolutional import Conv2D
    from tinyann.layers.pooling import MaxPooling2D

    return {
        i for i in range(len(steps) - 1)
        if type(steps[i][0]) is Conv2D and steps[i][0].activation.name == "relu"
        and type(steps[i + 1][0]) is MaxPooling2D
    }


def _unique(items):
    seen, out = set(), []
    for item in items:
        if id(item) not in seen:
            seen.add(id(item))
            out.append(item)
    return out
