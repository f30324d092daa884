"""GradientTape: records the ops applied to watched values, then differentiates them.

The engine in the shape of micrograd: each recorded op is one entry
``(output, inputs, vjp)``, where ``vjp(g)`` turns the gradient of the output into
the gradients of the inputs (the op's local chain rule, written beside its forward in
``tinyann.ops``). Entries are appended in the order the ops run, so walking them
backwards visits every output before the inputs it came from: that order is the
topological order ``gradient`` needs, without building one.

Which ops a tape records follows TensorFlow: an op is recorded when one of its inputs
is watched (``tape.watch``, a trainable variable read inside the ``with`` block, or an
output the tape already recorded). Several tapes may be open at once; each keeps its
own entries.

Gradients of gradients: the ops' ``vjp`` closures are written with the ops themselves
(``record(..., differentiable=True)``). When ``gradient`` runs while another tape is
open, the closures get the gradient as a Tensor, so that outer tape records the
backward pass like any other computation and can differentiate it again. Entries
recorded without ``differentiable`` (a built-in layer's hand-written ``backward``, a
built-in loss's gradient) compute with NumPy only: on an outer tape their results are
recorded as nodes that raise a clear error if that tape differentiates through them.

Softmax (sigmoid) + cross-entropy, as ``fit`` runs them: a built-in layer or model
whose output is an activation records how to run its backward from dL/dz, the
gradient of the activation's input (``preactivation``); a built-in cross-entropy on
that output records dL/dz itself (``fused_loss``, ``(p - targets) * scale``). The
walk hands dL/dz straight to the node, skipping the activation's derivative and
the loss's gradient through the normalisation, when every use of that output on the
tape is such a loss and the output is neither a source nor a target (Keras on
TensorFlow does the same through the output's ``_keras_logits``). Any other use, or
an outer tape recording the walk, takes the ordinary path.
"""

from __future__ import annotations

import contextlib
import threading

import numpy as np

from tinyann.autodiff.tensor import Tensor
from tinyann.variables import Variable

_state = threading.local()


def _open_tapes() -> list:
    tapes = getattr(_state, "tapes", None)
    if tapes is None:
        tapes = _state.tapes = []
    return tapes


def recording() -> bool:
    """Whether a tape is open (ops skip closures and bookkeeping when none is)."""
    return bool(getattr(_state, "tapes", None))


class paused:
    """No tape records inside the block (a built-in layer's forward and backward run
    here: the whole call is one node, recorded once it is done). A class rather than
    a generator: it runs several times a tape step."""

    __slots__ = ("saved",)

    def __enter__(self):
        tapes = _open_tapes()
        self.saved = tapes[:]
        tapes.clear()
        return self

    def __exit__(self, *exc):
        _state.tapes[:] = self.saved
        return False


class labelled:
    """Names the NumPy-only entries recorded inside the block (``"layer 'dense'
    (Dense)"``): the error raised when an outer tape tries to differentiate their
    gradient says which computation it was."""

    __slots__ = ("label", "saved")

    def __init__(self, label: str):
        self.label = label

    def __enter__(self):
        self.saved = getattr(_state, "label", None)
        _state.label = self.label
        return self

    def __exit__(self, *exc):
        _state.label = self.saved
        return False


def record(value, inputs, vjp, differentiable=False, label=None, preactivation=None,
           fused_loss=None) -> Tensor:
    """Wraps an op's result in a Tensor and records it on the open tapes that watch
    one of ``inputs``.

    Args:
        value: the op's result, an ndarray.
        inputs: the op's operands as given (Tensors, Variables, arrays, numbers).
        vjp: ``vjp(g) -> tuple`` of one gradient (or None) per input, for ``g`` of
            ``value``'s shape.
        differentiable: ``vjp`` is written with ops and accepts ``g`` as a Tensor (its
            results are then recorded on the open tapes: gradients of gradients).
            False: ``vjp`` takes and returns ndarrays only.
        label: names a NumPy-only ``vjp`` in errors (``"ops.einsum"``).
        preactivation: ``(activation name, vjp_z)`` for a node whose output is that
            activation of some z: ``vjp_z(dL/dz)`` gives what ``vjp`` gives.
        fused_loss: ``(activation name, vjp_logits)`` for a loss on ``inputs[0]``:
            ``vjp_logits(g)`` is dL/dz of the node that made ``inputs[0]`` through
            that activation (see the module's docstring).
    """
    out = Tensor(value)
    tapes = getattr(_state, "tapes", None)
    if tapes:
        if differentiable:
            label = None
        elif label is None:
            label = getattr(_state, "label", None) or "an op"
        for tape in tapes:
            tape._record(out, inputs, vjp, label, preactivation, fused_loss)
    return out


_UNITS: dict = {}


def unit(dtype) -> np.ndarray:
    """The seed of a scalar target's walk: a read-only 0-d array of 1 in ``dtype``,
    the same object each time (a vjp may test ``g is unit(g.dtype)`` to skip
    multiplying by it)."""
    one = _UNITS.get(dtype)
    if one is None:
        one = np.ones((), dtype)
        one.flags.writeable = False
        one = _UNITS.setdefault(np.dtype(dtype), one)
    return one


def output_activation(tensor):
    """The activation ``tensor`` came out of, when an open tape recorded it as the
    output of a node that can take dL/dz (``record(preactivation=...)``); else None."""
    for tape in getattr(_state, "tapes", None) or ():
        found = tape._pre.get(id(tensor))
        if found is not None:
            return found[0]
    return None


def _not_twice_differentiable(label):
    def vjp(g):
        raise NotImplementedError(
            f"Gradient of a gradient: the gradient of {label} is computed by hand-written "
            "NumPy code, which is not differentiable again (only keras.ops' gradients "
            "are). Expected the inner gradient to come from keras.ops only; received a "
            f"path through {label}. Write that part with keras.ops to take its second "
            "derivative.")
    return vjp


def _is_flat(structure) -> bool:
    """A list of Variables and Tensors (the usual ``model.trainable_weights``)."""
    if type(structure) is not list:
        return False
    for x in structure:   # (a loop: all() over a generator costs a microsecond a step)
        kind = type(x)
        if kind is not Variable and kind is not Tensor:
            return False
    return True


def _flatten(structure) -> list:
    if isinstance(structure, dict):
        return [x for key in sorted(structure) for x in _flatten(structure[key])]
    if isinstance(structure, (list, tuple)):
        return [x for item in structure for x in _flatten(item)]
    return [structure]


def _pack_like(structure, flat: list):
    """``flat``'s items in the nesting of ``structure`` (lists, tuples, dicts)."""
    return _pack(structure, iter(flat))


def _pack(s, items):
    # a module-level function, not a closure: a closure that calls itself is a reference
    # cycle, which kept each step's gradients alive until the next garbage collection
    if isinstance(s, dict):
        packed = {key: _pack(s[key], items) for key in sorted(s)}
        return type(s)((key, packed[key]) for key in s) if type(s) is not dict else {
            key: packed[key] for key in s}
    if isinstance(s, (list, tuple)):
        values = [_pack(item, items) for item in s]
        return values if isinstance(s, list) else type(s)(values)
    return next(items)


def _reshaped(g, like):
    """Tensor ``g`` in ``like``'s shape and dtype (an array), recorded on the open
    tapes. Its own gradient is NumPy (the engine sits below the ops): a third
    derivative through such a conversion says so."""
    shape, dtype = g.shape, g.dtype
    return record(np.asarray(g.value, dtype=like.dtype).reshape(like.shape), (g,),
                  lambda gg: (np.asarray(gg, dtype=dtype).reshape(shape),),
                  label="a gradient's reshape or dtype conversion")


def _value(x):
    return x.value if isinstance(x, (Tensor, Variable)) else np.asarray(x)


class GradientTape:
    """Records operations for automatic differentiation (TensorFlow's ``tf.GradientTape``).

    Args:
        persistent: whether ``gradient`` may be called more than once.
        watch_accessed_variables: whether trainable variables read while the tape is
            open are watched without ``tape.watch``.

    Example:
        with GradientTape() as tape:
            loss = ops.sum(ops.square(w))
        grad = tape.gradient(loss, w)   # 2 * w
    """

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self._persistent = bool(persistent)
        self._watch_accessed = bool(watch_accessed_variables)
        self._watched: dict[int, object] = {}   # id -> the object, kept alive so ids stay unique
        self._entries: list[tuple] = []
        # id(output) -> (activation, vjp_z) of nodes that take dL/dz; id(loss output)
        # -> (its input, activation, vjp_logits) of losses that give it (module docstring)
        self._pre: dict[int, tuple] = {}
        self._fused: dict[int, tuple] = {}
        # ids of such node outputs that an entry other than their fused loss uses
        self._blocked: set = set()
        self._used = False

    # ------------------------------------------------------------------ recording
    def __enter__(self):
        _open_tapes().append(self)
        return self

    def __exit__(self, *exc):
        tapes = _open_tapes()
        if self in tapes:
            tapes.remove(self)
        return False

    def _record(self, out, inputs, vjp, label=None, preactivation=None, fused_loss=None):
        watched = self._watched
        hit = False
        for x in inputs:
            if id(x) in watched:
                hit = True
            elif (self._watch_accessed and isinstance(x, Variable) and x.trainable):
                watched[id(x)] = x
                hit = True
        if hit:
            watched[id(out)] = out
            self._entries.append((out, inputs, vjp, label))
            pre = self._pre
            if pre:
                # a node output used otherwise than by a loss fused with its activation
                # takes the ordinary path (_fusions)
                for x in inputs:
                    key = id(x)
                    if key in pre and (fused_loss is None or fused_loss[0] != pre[key][0]):
                        self._blocked.add(key)
            if preactivation is not None:
                pre[id(out)] = preactivation
            if fused_loss is not None:
                self._fused[id(out)] = (inputs[0], *fused_loss)

    def watch(self, tensor) -> None:
        """Makes the tape record the ops applied to ``tensor`` (a Tensor, Variable or a
        nest of them)."""
        for x in _flatten(tensor):
            if not isinstance(x, (Tensor, Variable)):
                raise ValueError(
                    f"Passed in object of type {type(x)}, not a Tensor or Variable. "
                    f"Convert it first with ops.convert_to_tensor(x). Received: {x!r:.80}")
            self._watched[id(x)] = x

    def watched_variables(self) -> tuple:
        """The variables the tape watches, in the order it first saw them."""
        return tuple(x for x in self._watched.values() if isinstance(x, Variable))

    @contextlib.contextmanager
    def stop_recording(self):
        """Ops run inside this block are not recorded on this tape."""
        tapes = _open_tapes()
        if self not in tapes:
            raise ValueError("Tape.stop_recording() needs the tape to be recording.")
        index = tapes.index(self)
        tapes.remove(self)
        try:
            yield
        finally:
            tapes.insert(index, self)

    def reset(self) -> None:
        """Forgets everything recorded and watched."""
        self._watched.clear()
        self._entries.clear()
        self._pre.clear()
        self._fused.clear()
        self._blocked.clear()

    # ------------------------------------------------------------------ differentiating
    def gradient(self, target, sources, output_gradients=None,
                 unconnected_gradients="none"):
        """The gradients of ``target`` (summed over its items) with respect to ``sources``.

        Args:
            target: a Tensor or a nest of Tensors.
            sources: a Tensor, Variable or a nest (list, tuple, dict) of them.
            output_gradients: the gradients of ``target``'s items (ones by default).
            unconnected_gradients: ``"none"`` (None for a source the target does not
                depend on) or ``"zero"`` (zeros of its shape).

        Returns:
            The gradients in the nesting of ``sources``, Tensors of the sources' shapes.
        """
        if self._used and not self._persistent:
            raise RuntimeError(
                "A non-persistent GradientTape can only be used to compute one set of "
                "gradients (or jacobians)")
        if unconnected_gradients not in ("none", "zero"):
            raise ValueError(
                f"Unknown value for unconnected_gradients: {unconnected_gradients!r}; "
                f"expected 'none' or 'zero'")
        self._used = True
        tapes = _open_tapes()
        # a gradient asked for inside this tape's own block is not recorded on it; any
        # other open tape records it (gradients of gradients, as TensorFlow)
        own = tapes.index(self) if self in tapes else None
        if own is not None:
            tapes.remove(self)
        try:
            higher = bool(tapes)
            targets = [target] if type(target) is Tensor else _flatten(target)
            flat = _is_flat(sources)
            flat_sources = sources if flat else _flatten(sources)
            grads = self._backward(targets, output_gradients, higher, flat_sources)
        finally:
            if own is not None:
                tapes.insert(own, self)
        result = []
        watched = self._watched
        for s in flat_sources:
            if not flat and not isinstance(s, (Tensor, Variable)):
                raise ValueError(
                    f"gradient() takes Tensors and Variables as sources. Received: "
                    f"{type(s).__name__}")
            v = s.value
            key = id(s)
            g = grads.get(key) if (key in watched or any(
                s is t for t in targets)) else None
            if g is None:
                result.append(Tensor(np.zeros_like(v)) if unconnected_gradients == "zero"
                              else None)
            elif isinstance(g, Tensor):
                # kept as the Tensor the outer tape recorded, so it can differentiate it
                result.append(g if g.shape == v.shape and g.dtype == v.dtype
                              else _reshaped(g, v))
            elif type(g) is np.ndarray and g.shape == v.shape and g.dtype == v.dtype:
                # the array itself: an optimizer recognises a packed model's gradient
                # views (variables.spare_views) by their identity (the shared seed of a
                # target that is its own source is copied: the caller may write to it)
                result.append(Tensor(g.copy() if g.ndim == 0 and g is _UNITS.get(g.dtype)
                                     else g))
            else:
                result.append(Tensor(np.asarray(g, dtype=v.dtype).reshape(v.shape)))
        if not self._persistent:
            # a used tape frees what it held (TensorFlow does the same)
            self._entries = []
            self._pre = {}
            self._fused = {}
            self._blocked = set()
        return result if flat else _pack_like(sources, result)

    def _fusions(self, targets, sources) -> set:
        """The ids of the fused losses whose dL/dz goes straight to the node that made
        their input: the input is a node's output through the loss's activation, and
        every entry that uses it is such a loss (none marked it in ``_blocked`` while
        recording); it is neither a target nor a source (whose dL/doutput must then
        exist)."""
        pre, blocked = self._pre, self._blocked
        found = set()
        for key, (pred, activation, _) in self._fused.items():
            k = id(pred)
            node = pre.get(k)
            if node is not None and node[0] == activation and k not in blocked:
                for s in targets:
                    if s is pred:
                        break
                else:
                    for s in sources:
                        if s is pred:
                            break
                    else:
                        found.add(key)
        return found

    def _backward(self, targets, output_gradients, higher, sources=()) -> dict:
        """id -> gradient of every value the walk reaches: ndarrays, or Tensors when
        ``higher`` (another tape is open and records this backward pass)."""
        if output_gradients is None:
            seeds = [None] * len(targets)
        else:
            seeds = _flatten(output_gradients)
            if len(seeds) != len(targets):
                raise ValueError(
                    f"output_gradients must match target: {len(targets)} targets, "
                    f"received {len(seeds)} output gradients")
        grads: dict = {}
        for t, seed in zip(targets, seeds):
            v = _value(t)
            if seed is None:
                # (a scalar loss: the shared read-only 1, which a fused loss hands on as
                # its dL/dz itself)
                g = unit(v.dtype) if v.ndim == 0 else np.ones_like(v)
            elif higher and isinstance(seed, Tensor) and seed.shape == v.shape:
                g = seed   # a seed the outer tape watches stays connected
            else:
                g = np.array(np.broadcast_to(_value(seed), v.shape))
            if higher and not isinstance(g, Tensor):
                g = Tensor(g)
            grads[id(t)] = grads[id(t)] + g if id(t) in grads else g
        fusing = self._fusions(targets, sources) if self._fused and not higher else None
        dz: dict = {}   # id(node output) -> dL/dz from the fused losses on it
        # reverse order of recording = outputs before their inputs
        for out, inputs, vjp, label in reversed(self._entries):
            g = grads.get(id(out))
            if fusing:
                key = id(out)
                if key in fusing:
                    if g is not None:
                        pred, _, vjp_logits = self._fused[key]
                        gz = vjp_logits(g)
                        k = id(pred)
                        dz[k] = dz[k] + gz if k in dz else gz
                    continue
                if key in dz:
                    # (g is None: every use of this output was a fused loss)
                    g, vjp = dz.pop(key), self._pre[key][1]
            if g is None:
                continue
            if not higher or label is None:
                # (without an outer tape an op's closure computes with ops on plain
                # arrays and returns Tensors, unwrapped below)
                gs = vjp(g)
            else:
                # NumPy-only gradient: its results become nodes of the outer tape that
                # refuse to be differentiated (rather than silently give zero)
                gs = [None if gx is None else record(
                    np.asarray(gx), (g, *inputs), _not_twice_differentiable(label),
                    differentiable=True) for gx in vjp(np.array(g.value, copy=True))]
            for x, gx in zip(inputs, gs):
                if gx is None or not isinstance(x, (Tensor, Variable)):
                    continue
                if not higher and isinstance(gx, Tensor):
                    gx = gx.value
                key = id(x)
                grads[key] = grads[key] + gx if key in grads else gx
        return grads
