"""A built-in layer (or a model of them) called on a GradientTape: ONE recorded node.

Built-in layers differentiate themselves: ``call`` keeps what ``backward`` needs on the
layer (``self._x``, ``self._y``...) and ``backward`` writes the weights' gradients into
``Variable.grad``. On a tape the call becomes one entry whose gradient closure runs that
hand-written ``backward``. A layer called twice on one tape overwrites its own cache,
so each entry keeps a copy of the cache as its call left it and puts it back around
``backward``.
"""

from __future__ import annotations

import numpy as np

from tinyann.autodiff import paused, record


def _all_layers(layer) -> list:
    """``layer`` and every layer inside it (a model's layers, a user's sublayers)."""
    found, stack = [], [layer]
    while stack:
        current = stack.pop()
        if any(current is f for f in found):
            continue
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


def _state(layers, copy) -> list:
    """Each layer's private attributes (its forward cache), copied if ``copy``."""
    return [(layer, {k: (_copy(v) if copy else v) for k, v in vars(layer).items()
                     if k.startswith("_") and (v is None or isinstance(
                         v, (np.ndarray, list, tuple, bool)))})
            for layer in layers]


def _restore(state) -> None:
    for layer, attrs in state:
        vars(layer).update(attrs)


def taped_call(owner, operand, array, run, backward):
    """Runs ``run(array)`` and records it as one node on the open tapes.

    Args:
        owner: the layer or model being called.
        operand: the input as the caller gave it (a Tensor may be watched).
        array: that input as an ndarray.
        run: ``run(array) -> output array``, a forward pass that caches for backward.
        backward: ``backward(grad_output) -> grad_input``; writes weights' gradients
            into their ``Variable.grad``.

    Returns:
        The output Tensor; its gradient closure gives the input's gradient and the
        gradients of ``owner.trainable_weights``.
    """
    layers = _all_layers(owner)
    weights = list(owner.trainable_weights)
    # a copy: a training call may return a buffer the layer reuses on its next call
    with paused():
        out = np.array(run(array), copy=True)
    saved = _state(layers, copy=True)

    def vjp(g):
        current = _state(layers, copy=False)
        _restore(saved)
        needs = [(layer, layer.__dict__.get("_needs_input_grad")) for layer in layers]
        for layer in layers:
            layer.__dict__["_needs_input_grad"] = True
        try:
            for v in weights:
                v.grad[...] = 0
            # backward may overwrite its argument in place: give it a copy
            with paused():
                dx = backward(np.array(g, dtype=out.dtype, copy=True))
            grads = [v.grad.copy() for v in weights]
        finally:
            for layer, flag in needs:
                layer.__dict__["_needs_input_grad"] = flag
            _restore(current)
        return (dx, *grads)

    return record(out, (operand, *weights), vjp)


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
    with paused():
        result = run(arrays)
    outs = [np.array(o, copy=True) for o in (result if isinstance(result, list) else [result])]
    sizes = np.cumsum([0] + [o.size for o in outs])
    saved = _state(layers, copy=True)

    def vjp(g):
        current = _state(layers, copy=False)
        _restore(saved)
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
            _restore(current)
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
