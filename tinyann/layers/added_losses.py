"""``add_loss`` and ``layer.losses`` as Keras 3 has them.

A layer's ``call`` may add loss terms (``self.add_loss(0.01 * ops.sum(h ** 2))``).
They live for one call: the outermost layer or model called clears the terms of every
layer inside it first, so after ``model(x)`` the terms are those of that call. A layer
run by ``fit`` (a step of the model's graph that runs user code) clears its own at
each batch. ``layer.losses`` lists the call's terms, then the weights' regularization
penalties; both are Tensors computed with ops, so a tape differentiates them.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np

_calls = threading.local()
# whether add_loss ever ran in this process: until it has, clearing costs nothing
_used = [False]


def layer_tree(layer) -> list:
    """``layer`` and every layer inside it (a model's layers, a user's sublayers, the
    model a traced step stands for), each once."""
    found, stack = [], [layer]
    while stack:
        current = stack.pop()
        if any(current is f for f in found):
            continue
        found.append(current)
        owner = current.__dict__.get("_owner")
        if owner is not None:
            stack.append(owner)
        children = current._weight_layers() if hasattr(current, "_weight_layers") \
            else current._sublayers()
        stack.extend(children)
        graph = current.__dict__.get("_traced_graph")
        if graph is not None:
            stack.extend(graph.layers)
    return found


def note_used() -> None:
    _used[0] = True


def clear(layer) -> None:
    """Forgets the loss terms of ``layer`` and of every layer inside it."""
    if _used[0]:
        for each in layer_tree(layer):
            terms = each.__dict__.get("_call_losses")
            if terms:
                terms.clear()


class outermost_call:
    """The terms of the layers inside ``layer`` are cleared when this is the outermost
    call running (a layer called inside another adds to the same call's terms). A
    class rather than a generator: it runs at every call of a layer or model."""

    __slots__ = ("layer", "depth")

    def __init__(self, layer):
        self.layer = layer

    def __enter__(self):
        depth = self.depth = getattr(_calls, "depth", 0)
        if depth == 0:
            clear(self.layer)
        _calls.depth = depth + 1
        return self

    def __exit__(self, *exc):
        _calls.depth = self.depth
        return False


def terms(layer) -> list:
    """The loss terms added by ``layer`` and the layers inside it in the last call."""
    if not _used[0]:
        return []
    return [t for each in layer_tree(layer) for t in each.__dict__.get("_call_losses", ())]


def loss_layers(layer) -> list:
    """The layers inside ``layer`` that have ever added a loss term (fit reads their
    terms after each forward pass)."""
    if not _used[0]:
        return []
    return [each for each in layer_tree(layer) if "_call_losses" in each.__dict__]


def total(layers) -> float:
    """The sum of the current terms of ``layers``, a float (fit's logs)."""
    value = 0.0
    for layer in layers:
        for t in layer.__dict__["_call_losses"]:
            value += float(np.sum(t.value if hasattr(t, "value") else t))
    return value


def regularization(variables) -> list:
    """Each regularized variable's penalty as a Tensor computed with ops on the
    variable (a tape that watches it differentiates it)."""
    from tinyann import ops, regularizers

    out = []
    for v in variables:
        reg = getattr(v, "regularizer", None)
        if reg is None:
            continue
        if isinstance(reg, regularizers.L1L2):
            penalty = ops.convert_to_tensor(np.zeros((), dtype=v.dtype))
            if reg.l1:
                penalty = penalty + reg.l1 * ops.sum(ops.abs(v))
            if reg.l2:
                penalty = penalty + reg.l2 * ops.sum(ops.square(v))
        else:
            # a user's regularizer: recorded if it is written with ops
            penalty = ops.convert_to_tensor(reg(v))
        out.append(penalty)
    return out


def check_term(layer, loss) -> list:
    """``loss`` (a scalar or a list of them) as a list of terms; a symbolic tensor is
    refused with the reason (its value is not known until the model runs)."""
    from tinyann.autodiff import Tensor
    from tinyann.layers.keras_tensor import KerasTensor
    from tinyann.variables import Variable

    items = list(loss) if isinstance(loss, (list, tuple)) else [loss]
    out = []
    for item in items:
        if isinstance(item, KerasTensor) or getattr(_calls, "tracing", False):
            # tracing a user's call on symbolic tensors: make the caller fall back to
            # running `call` on values at each step (the terms are recomputed there)
            raise TypeError(
                f"add_loss() in '{layer.name}': a symbolic KerasTensor has no values; the "
                "loss terms are computed when the layer runs on data")
        if isinstance(item, (Tensor, Variable)):
            out.append(item)
            continue
        value = np.asarray(item)
        if value.dtype.kind not in "biuf":
            raise TypeError(
                f"add_loss() in '{layer.name}' expects a number or a Tensor (a scalar "
                f"loss term). Received: {type(item).__name__} {item!r:.80}")
        out.append(Tensor(value.astype(np.float32) if value.dtype.kind != "f" else value))
    return out


@contextlib.contextmanager
def tracing(active=True):
    """While a user's ``call`` is traced on symbolic tensors, add_loss refuses
    (``active=False``: a run on values inside a trace)."""
    saved = getattr(_calls, "tracing", False)
    _calls.tracing = active
    try:
        yield
    finally:
        _calls.tracing = saved
