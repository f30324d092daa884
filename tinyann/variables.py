"""Variable: a named weight array with a preallocated gradient.

A model packs its variables into one flat float buffer (``pack_variables``), so
``value`` and ``grad`` become views into it and an optimizer updates every
weight with a handful of NumPy calls instead of a handful per variable.

A variable's ``path`` is Keras 3's: the names of the layers being built around it
when it was made, then its name (``sequential/dense/kernel``). Layers open a
``name_scope`` while they build (see ``Layer._name_scope``).
"""

from __future__ import annotations

import operator
import sys
import threading
import weakref

import numpy as np

from tinyann import backend

_scopes = threading.local()


def _scope_stack() -> list:
    stack = getattr(_scopes, "stack", None)
    if stack is None:
        stack = _scopes.stack = []
    return stack


class name_scope:
    """Puts ``name`` on the path of the variables made inside the ``with`` block.

    Args:
        name: a name without ``/``.
        caller: the layer that opens the scope; it is not entered twice in a row.
        parent: an absolute path that replaces the scopes around this one (a layer's
            path is fixed the first time it builds, wherever it is used later).
    """

    def __init__(self, name, caller=None, parent=None):
        if not isinstance(name, str) or "/" in name:
            raise ValueError(f"A name scope needs a string without '/'. Received: name={name!r}")
        self.name = name
        self.caller = caller
        self.parent = parent
        self._pushed = False

    def __enter__(self):
        stack = _scope_stack()
        top = stack[-1] if stack else None
        if not (top is not None and self.caller is not None and top.caller is self.caller
                and top.name == self.name):
            stack.append(self)
            self._pushed = True
        return self

    def __exit__(self, *exc):
        if self._pushed:
            _scope_stack().pop()
            self._pushed = False
        return False


# Bumped whenever the weights a model lists may change: a layer's or a variable's
# `trainable`, a new weight, an attribute set on a model (its graph, its tracked layers),
# a Sequential's stack. Models keep their weight lists while it stays the same (the
# tape loop asks for them several times a step).
_structure = [0]


def structure_changed() -> None:
    """Invalidates the models' cached weight lists."""
    _structure[0] += 1


def structure_version() -> int:
    return _structure[0]


def current_path() -> str:
    """The path of the open name scopes (``''`` when none is open)."""
    parts: list[str] = []
    for scope in _scope_stack():
        if scope.parent is not None:
            parts = [p for p in scope.parent.split("/") if p]
        parts.append(scope.name)
    return "/".join(parts)


class Variable:
    """A weight of a layer.

    Args:
        value: initial array.
        name: short name (``kernel``, ``bias``).
        trainable: whether optimizers update it.
        path: unique in a model; by default the open name scopes and ``name``
            (``sequential/dense/kernel``).
    """

    def __init__(self, value, name="variable", trainable=True, path=None, dtype=None,
                 order="C"):
        dtype = dtype or backend.floatx()
        # order="F" keeps a 2-D kernel transposed in memory: BLAS runs the skinny
        # (batch, 784) x (784, 10) products of small models about twice as fast so
        self.value = np.array(value, dtype=dtype, copy=True, order=order)
        self.grad = np.zeros_like(self.value, order=order)
        self.name = name
        if path is None:
            scope = current_path()
            path = f"{scope}/{name}" if scope else name
        self.path = path
        self.trainable = trainable

    @property
    def trainable(self) -> bool:
        return self._trainable

    @trainable.setter
    def trainable(self, value):
        self._trainable = value
        _structure[0] += 1

    @property
    def shape(self):
        return self.value.shape

    @property
    def dtype(self):
        return str(self.value.dtype)

    @property
    def ndim(self):
        return self.value.ndim

    @property
    def size(self):
        return self.value.size

    def numpy(self) -> np.ndarray:
        """A copy of the value, as Keras's ``Variable.numpy()``."""
        return self.value.copy()

    def assign(self, value) -> None:
        """Writes ``value`` in place (views into a packed buffer stay valid)."""
        value = np.asarray(value)
        if value.shape != self.value.shape:
            raise ValueError(
                f"The shape of the target variable and the shape of the target value in "
                f"`variable.assign(value)` must match. variable.shape={self.value.shape}, "
                f"Received: value.shape={value.shape}. Target variable: {self.path}"
            )
        np.copyto(self.value, value, casting="unsafe")

    def assign_add(self, value) -> None:
        self.value += np.asarray(value, dtype=self.value.dtype)

    def assign_sub(self, value) -> None:
        self.value -= np.asarray(value, dtype=self.value.dtype)

    def __float__(self):
        return float(self.value)

    def __int__(self):
        return int(self.value)

    def __array__(self, dtype=None, copy=None):
        return self.value if dtype is None else self.value.astype(dtype)

    def __repr__(self):
        return f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}>"


def pack_variables(variables) -> tuple[np.ndarray, np.ndarray]:
    """Moves the values and gradients of ``variables`` into two flat buffers.

    Returns:
        ``(values, grads)``: 1-D arrays of the total size; every variable's
        ``value`` and ``grad`` are now reshaped views into them, in order.
    """
    variables = list(variables)
    if not variables:
        empty = np.zeros((0,), dtype=backend.floatx())
        return empty, empty.copy()
    dtype = np.result_type(*[v.value.dtype for v in variables])
    total = sum(v.size for v in variables)
    values = np.empty((total,), dtype=dtype)
    grads = np.zeros((total,), dtype=dtype)
    start = 0
    for v in variables:
        stop = start + v.size
        # keep each variable's memory order (see Variable's `order`)
        order = _memory_order(v.value)
        values[start:stop] = v.value.ravel(order=order)
        v.value = values[start:stop].reshape(v.shape, order=order)
        v.grad = grads[start:stop].reshape(v.shape, order=order)
        start = stop
    return values, grads



def _memory_order(a) -> str:
    return "F" if a.ndim > 1 and a.flags.f_contiguous and not a.flags.c_contiguous else "C"


# id(flat buffer) -> (a weak reference to it, its spare buffers): each a list
# [buffer, the views handed out (the same each time), their offsets, the arrays
# packed_base last found them laid out like]
_spares: dict[int, tuple] = {}
# id(spare buffer) -> its entry above: packed_base knows the views spare_views made
_handed: dict[int, list] = {}
_SPARES = 3


def spare_views(flat, offsets, shapes, orders, zero=True) -> list[np.ndarray]:
    """A buffer like ``flat`` that nothing references any more (the caller dropped
    the views handed out before), else a new one, zeroed if ``zero`` (else holding
    whatever it held); returned as views shaped like the variables packed in ``flat``
    (``offsets``, ``shapes``, memory ``orders``), which ``packed_base`` then
    recognises without checking them. A tape's backward writes a packed model's
    gradients there, and hands them out.

    Why reused: a new 300 KB array each step is fresh memory from the OS, and its
    page faults cost the tape loop more than the work on it (measured 250 us a step
    against 10).
    """
    entry = _spares.get(id(flat))
    if entry is None or entry[0]() is not flat:
        for key in [k for k, (ref, _) in _spares.items() if ref() is None]:
            for slot in _spares.pop(key)[1]:
                _handed.pop(id(slot[0]), None)
        entry = _spares[id(flat)] = (weakref.ref(flat), [])
    pool = entry[1]
    for slot in pool:
        if _unused(slot) and slot[2] == offsets:
            break
    else:
        fresh = np.empty_like(flat)
        views = [fresh[a:b].reshape(shape, order=order)
                 for (a, b), shape, order in zip(offsets, shapes, orders)]
        slot = [fresh, views, offsets, None]
        if len(pool) < _SPARES:
            pool.append(slot)
            _handed[id(fresh)] = slot
    if zero:
        slot[0].fill(0)
    return list(slot[1])


def _unused(slot) -> bool:
    """Whether nothing but ``slot`` holds its buffer and its views (the caller dropped
    the gradients handed out before, and every array made from them)."""
    views = slot[1]
    for i in range(len(views)):
        # referenced by the list and by getrefcount's argument only
        if sys.getrefcount(views[i]) != 2:
            return False
    # the slot, each view (its base) and the argument
    return sys.getrefcount(slot[0]) == len(views) + 2


def packed_base(arrays, offsets, dtype, like=None) -> np.ndarray | None:
    """The flat buffer ``arrays`` are laid out in as ``pack_variables`` lays them out
    (``arrays[i]`` at ``offsets[i] = (start, stop)``, in its own memory order), or None.

    The buffer must hold exactly these arrays, so that an update over it touches
    nothing else. ``like``: packed arrays whose shapes and strides ``arrays`` must have
    (gradients laid out as their variables).
    """
    if not arrays or len(arrays) != len(offsets):
        return None
    base = arrays[0].base if isinstance(arrays[0], np.ndarray) else None
    slot = _handed.get(id(base)) if base is not None else None
    if slot is not None and slot[0] is base and base.dtype == dtype and (
            slot[2] == offsets) and len(slot[1]) == len(arrays) and all(
            map(operator.is_, slot[1], arrays)):
        # spare_views' views, in the order and at the offsets it made them; `like`
        # compared once per list of arrays (kept in the slot)
        if like is None or (slot[3] is not None and len(slot[3]) == len(like) and all(
                map(operator.is_, slot[3], like))):
            return base
        if all(a.shape == b.shape and a.strides == b.strides for a, b in zip(arrays, like)):
            slot[3] = list(like)
            return base
        return None
    if base is None or base.ndim != 1 or base.dtype != dtype or (
            base.shape[0] != offsets[-1][1]) or not base.flags.c_contiguous:
        return None
    origin = base.__array_interface__["data"][0]
    item = base.itemsize
    for i, (a, (start, stop)) in enumerate(zip(arrays, offsets)):
        if not isinstance(a, np.ndarray) or a.base is not base or a.size != stop - start:
            return None
        if like is not None:
            # the same shape and strides as a packed variable: contiguous, same order
            # (cheaper than the flags, for a check made at every step)
            if a.shape != like[i].shape or a.strides != like[i].strides:
                return None
        elif not (a.flags.c_contiguous or a.flags.f_contiguous):
            return None
        if a.__array_interface__["data"][0] != origin + start * item:
            return None
    return base
