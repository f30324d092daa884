"""A built-in layer (or a model of them) called on a GradientTape: ONE recorded node.

Built-in layers differentiate themselves: ``call`` keeps what ``backward`` needs on the
layer (``self._x``, ``self._y``...) and ``backward`` writes the weights' gradients into
``Variable.grad``. On a tape the call becomes one entry whose gradient closure runs that
hand-written ``backward``.

A layer called twice on one tape overwrites its own cache. Copying every cache at
every call costs more than the call of a small model, so the copy is made only when
needed: each layer points (weakly) to the last node that used its cache; a new call
first saves a copy of that cache into that node if the node can still be
differentiated (its tape holds it), and that node's backward puts the copy back
around its run.
"""

from __future__ import annotations

import operator
import weakref

import numpy as np

from tinyann.autodiff import paused, record
from tinyann.autodiff import tape as _tape
from tinyann.autodiff.tensor import Tensor
from tinyann.variables import Variable, packed_base, spare_views, structure_version

_NODE = "_taped_node"      # a layer's attribute: a weak reference to its last node


_LAYERS = "_taped_layers"   # an owner's attribute: its _all_layers while they stay valid


def _all_layers(layer) -> list:
    """``layer`` and every layer inside it (a model's layers, a user's sublayers).
    Kept on the layer until ``structure_version`` changes, unless a user's list or
    dict of layers (changed in place, unseen) or a subclassed model is involved."""
    cached = layer.__dict__.get(_LAYERS)
    version = structure_version()
    if cached is not None and cached["version"] == version:
        return cached["layers"]
    found = _find_layers(layer)
    if not any(getattr(each, "_subclassed", False) or any(
            not hasattr(type(v), "_sublayers")   # a layer (layer.py imports this module)
            for v in each.__dict__.get("_tracked", {}).values())
            for each in found):
        # (a dict: the copies of layer caches leave dicts out)
        layer.__dict__[_LAYERS] = {"version": version, "layers": found}
    return found


def _find_layers(layer) -> list:
    found, seen, stack = [], set(), [layer]
    while stack:
        current = stack.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        found.append(current)
        stack.extend(getattr(current, "layers", None) or [])
        stack.extend(current._sublayers())
    return found


def _copy(value):
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (list, tuple)) and any(isinstance(v, np.ndarray) for v in value):
        return type(value)(_copy(v) for v in value)
    return value


def _cache(layer, copy) -> dict:
    """The layer's private array attributes (its forward cache), copied if ``copy``."""
    return {k: (_copy(v) if copy else v) for k, v in vars(layer).items()
            if k.startswith("_") and (v is None or isinstance(
                v, (np.ndarray, list, tuple, bool)))}


class _Node:
    """What a recorded call needs besides the closure: the layers whose caches it
    used, and the copies of those caches a later call made before overwriting them."""

    __slots__ = ("layers", "saved", "__weakref__")

    def __init__(self, layers):
        self.layers = layers
        self.saved = None   # {id(layer): (layer, cache)} once a later call overwrites one

    def swap_in(self) -> list:
        """Puts the saved caches back; returns the current ones, for ``swap_out``."""
        current = []
        for layer, cache in self.saved.values():
            current.append((layer, _cache(layer, copy=False)))
            vars(layer).update(cache)
        return current


def _save_pending(layers) -> None:
    """Before ``layers`` run again: a node that may still run its backward on their
    caches gets a copy of them."""
    for layer in layers:
        ref = layer.__dict__.get(_NODE)
        node = ref() if ref is not None else None
        if node is None:
            continue
        saved = node.saved
        if saved is None:
            saved = node.saved = {}
        if id(layer) not in saved:
            saved[id(layer)] = (layer, _cache(layer, copy=True))


def _grads_written(owner, layers) -> bool:
    """Whether ``owner``'s backward writes every weight's gradient in full, so that
    they need no zeros first: a model running a chain of layers (its backward reaches
    every layer) whose classes say so (``Layer._grads_written``), unchanged on the
    instances."""
    graph = owner._graph if hasattr(owner, "_set_graph") else None
    if graph is None or not graph.is_chain or graph.relu_pools:
        return False
    for layer in layers:
        if layer is not owner and ("_grads_written" not in type(layer).__dict__ or
                                   not _OVERRIDES.isdisjoint(layer.__dict__)):
            return False
    return True


# what an instance may replace of its class's computation
_OVERRIDES = frozenset(("call", "backward", "backward_preactivation"))


def _watched(operand) -> bool:
    """Whether an open tape may ask for the gradient of ``operand``."""
    if not isinstance(operand, (Tensor, Variable)):
        return False   # an array or a number: no tape can watch it
    if isinstance(operand, Variable) and operand.trainable:
        return True
    key = id(operand)
    for tape in _tape._open_tapes():
        watched = getattr(tape, "_watched", None)
        if watched is None or key in watched:
            return True
    return False


_GRADS = "_taped_grads"     # an owner's attribute: how its weights' gradients leave


def _grads_out(owner, weights):
    """Where the weights' gradients go during a backward: ``(begin, end)``;
    ``begin(zero)`` zeros them if ``zero`` (a backward that writes them all needs
    none), ``end(token)`` (always called, with what ``begin`` returned) gives them.
    When the weights' ``grad`` views tile one flat buffer (a packed model), their
    ``grad`` point for the backward into a spare buffer (``variables.spare_views``),
    whose views leave as the gradients (an optimizer reads them in place): no copy,
    and the model's own buffer is left as it was; else one fill and one copy per
    weight. Kept on the owner while its weights' ``grad`` arrays stay the same
    objects."""
    grads = [v.grad for v in weights]
    cached = owner.__dict__.get(_GRADS)
    if cached is not None and len(cached["grads"]) == len(grads) and all(
            map(operator.is_, cached["grads"], grads)):
        return cached["out"]
    offsets, start = [], 0
    for g in grads:
        offsets.append((start, start + g.size))
        start += g.size
    flat = packed_base(grads, offsets, grads[0].dtype) if grads else None
    if flat is None:
        def zero(_):
            for v in weights:
                v.grad[...] = 0

        def copy(_):
            return [v.grad.copy() for v in weights]
        # not kept: the weights may be packed by the optimizer's first update
        return zero, copy

    orders = [("F" if g.ndim > 1 and g.flags.f_contiguous and not g.flags.c_contiguous
               else "C") for g in grads]
    shapes = [g.shape for g in grads]

    def swap_in(zero):
        views = spare_views(flat, offsets, shapes, orders, zero)
        for v, view in zip(weights, views):
            v.grad = view
        return views

    def swap_out(views):
        for v, g in zip(weights, grads):
            v.grad = g
        return views
    # a dict, which the cache copies (_cache) leave out
    owner.__dict__[_GRADS] = {"grads": grads, "out": (swap_in, swap_out)}
    return swap_in, swap_out


def _static(owner) -> tuple:
    """``(layers, trainable weights, whether its backward writes every weight's
    gradient)`` of ``owner``: kept with ``_all_layers``' list (while the structure
    version and the model's graph stay the same), else found again."""
    cached = owner.__dict__.get(_LAYERS)
    graph = owner.__dict__.get("_graph")
    if cached is not None and cached["version"] == structure_version():
        static = cached.get("static")
        if static is not None and static[0] is graph:
            return static[1]
    layers = _all_layers(owner)
    found = (layers, list(owner.trainable_weights), _grads_written(owner, layers))
    cached = owner.__dict__.get(_LAYERS)
    if cached is not None and cached["layers"] is layers:
        cached["static"] = (graph, found)
    return found


def taped_call(owner, operand, array, run, backward, preactivation=None, label=None):
    """Runs ``run(array)`` and records it as one node on the open tapes.

    Args:
        owner: the layer or model being called.
        operand: the input as the caller gave it (a Tensor may be watched).
        array: that input as an ndarray.
        run: ``run(array) -> output array``, a forward pass that caches for backward.
        backward: ``backward(grad_output) -> grad_input``; writes weights' gradients
            into their ``Variable.grad``.
        preactivation: ``(activation name, backward_z)`` when the output is that
            activation of z and ``backward_z(dL/dz)`` runs the rest of ``backward``
            (a fused cross-entropy on the output then skips the activation, as fit).
        label: names the node's NumPy-only gradient in an outer tape's errors.

    Returns:
        The output Tensor; its gradient closure gives the input's gradient (None when
        no open tape watches the input: the first layer's dx is skipped) and the
        gradients of ``owner.trainable_weights``.
    """
    layers, weights, written = _static(owner)
    _save_pending(layers)
    # a copy: a training call may return a buffer the layer reuses on its next call
    with paused():
        out = np.array(run(array), copy=True)
    node = _Node(layers)
    ref = weakref.ref(node)
    for layer in layers:
        layer.__dict__[_NODE] = ref
    needs_dx = _watched(operand)

    def run_backward(backward, g):
        saved = node.saved
        current = node.swap_in() if saved else None
        others = [layer for layer in layers if layer is not owner] if needs_dx else ()
        flags = [(layer, layer.__dict__.get("_needs_input_grad")) for layer in others]
        for layer in others:
            layer.__dict__["_needs_input_grad"] = True
        own_flag = owner._needs_input_grad
        if own_flag != needs_dx:
            # a model's setter sets its graph's first layers (they skip dx unless needed);
            # object's __setattr__ runs it without a model's, which would count this as
            # a change of the model's structure
            object.__setattr__(owner, "_needs_input_grad", needs_dx)
        begin, end = _grads_out(owner, weights)
        token = begin(not written)
        try:
            # backward may overwrite its argument in place: give it a copy
            with paused():
                dx = backward(np.array(g, dtype=out.dtype, copy=True))
        finally:
            grads = end(token)
            if own_flag != needs_dx:
                object.__setattr__(owner, "_needs_input_grad", own_flag)
            for layer, flag in flags:
                layer.__dict__["_needs_input_grad"] = flag
            if current is not None:
                for layer, cache in current:
                    vars(layer).update(cache)
        return (dx if needs_dx else None, *grads)

    def vjp(g):
        return run_backward(backward, g)

    if preactivation is not None:
        activation, backward_z = preactivation
        preactivation = (activation, lambda dz: run_backward(backward_z, dz))
    return record(out, (operand, *weights), vjp, label=label, preactivation=preactivation)


def taped_call_many(owner, operands, arrays, run, backward):
    """:func:`taped_call` for a call with several inputs or outputs (a recurrent
    layer's ``initial_state`` or ``return_state``): one recorded node whose value is
    every output flattened and joined, then one recorded slice per output.

    Args:
        operands: the inputs as the caller gave them; ``arrays``: as ndarrays.
        run: ``run(arrays) -> output array or list of them`` (caching for backward).
        backward: ``backward(grad or list of grads) -> grad or list of grads`` (one
            per input), writing the weights' gradients into ``Variable.grad``.

    Returns:
        The output Tensor, or a list of them.
    """
    layers = _all_layers(owner)
    weights = list(owner.trainable_weights)
    _save_pending(layers)  # an earlier node of taped_call may still need their caches
    with paused():
        result = run(arrays)
    outs = [np.array(o, copy=True) for o in (result if isinstance(result, list) else [result])]
    sizes = np.cumsum([0] + [o.size for o in outs])
    # this rarer path keeps its own copy of the caches at once
    saved = [(layer, _cache(layer, copy=True)) for layer in layers]

    def vjp(g):
        current = [(layer, _cache(layer, copy=False)) for layer in layers]
        for layer, cache in saved:
            vars(layer).update(cache)
        needs = [(layer, layer.__dict__.get("_needs_input_grad")) for layer in layers]
        for layer in layers:
            layer.__dict__["_needs_input_grad"] = True
        try:
            for v in weights:
                v.grad[...] = 0
            grads = [np.array(g[a:b], dtype=o.dtype).reshape(o.shape)
                     for a, b, o in zip(sizes[:-1], sizes[1:], outs)]
            with paused():
                d_inputs = backward(grads if isinstance(result, list) else grads[0])
            weight_grads = [v.grad.copy() for v in weights]
        finally:
            for layer, flag in needs:
                layer.__dict__["_needs_input_grad"] = flag
            for layer, cache in current:
                vars(layer).update(cache)
        d_inputs = d_inputs if isinstance(d_inputs, list) else [d_inputs]
        return (*d_inputs, *weight_grads)

    joined = record(np.concatenate([o.ravel() for o in outs]), (*operands, *weights), vjp)
    pieces = []
    for a, b, o in zip(sizes[:-1], sizes[1:], outs):
        def piece_vjp(g, a=a, b=b):
            full = np.zeros(joined.value.shape, dtype=g.dtype)
            full[a:b] = g.ravel()
            return (full,)

        pieces.append(record(joined.value[a:b].reshape(o.shape), (joined,), piece_vjp))
    return pieces if isinstance(result, list) else pieces[0]
