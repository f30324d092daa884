"""Keras's NumPy-like ops (``keras.ops.add``, ``matmul``, ``sum``, ``reshape``, ...).

Each op computes its result with NumPy and records, for the open GradientTapes, a
closure ``vjp(g)`` that gives the gradient of each operand from ``g``, the gradient of
the result. The math of each closure is in the comment beside it.
"""

from __future__ import annotations

import string

import numpy as np

from tinyann.autodiff import Tensor, record
from tinyann.ops.core import unbroadcast as _unb
from tinyann.ops.core import value_of as _v


# ---------------------------------------------------------------------- arithmetic
def add(x1, x2):
    # d(a+b) = da + db
    a, b = _v(x1), _v(x2)
    return record(np.add(a, b), (x1, x2), lambda g: (_unb(g, x1), _unb(g, x2)))


def subtract(x1, x2):
    # d(a-b) = da - db
    a, b = _v(x1), _v(x2)
    return record(np.subtract(a, b), (x1, x2), lambda g: (_unb(g, x1), _unb(-g, x2)))


def multiply(x1, x2):
    # d(ab) = b da + a db
    a, b = _v(x1), _v(x2)
    return record(np.multiply(a, b), (x1, x2),
                  lambda g: (_unb(g * b, x1), _unb(g * a, x2)))


def divide(x1, x2):
    # d(a/b) = da / b - a db / b^2
    a, b = _v(x1), _v(x2)
    return record(np.true_divide(a, b), (x1, x2),
                  lambda g: (_unb(g / b, x1), _unb(-g * a / np.square(b), x2)))


true_divide = divide


def power(x1, x2):
    # d(a^b) = b a^(b-1) da + a^b log(a) db  (log taken where a > 0, else 0)
    a, b = _v(x1), _v(x2)
    out = np.power(a, b)

    def vjp(g):
        ga = g * b * np.power(a, np.subtract(b, 1))
        gb = None
        if isinstance(x2, Tensor) or hasattr(x2, "trainable"):
            safe = np.where(np.asarray(a) > 0, a, 1)
            gb = _unb(g * out * np.log(safe), x2)
        return _unb(ga, x1), gb
    return record(out, (x1, x2), vjp)


def negative(x):
    # d(-a) = -da
    return record(np.negative(_v(x)), (x,), lambda g: (-g,))


def maximum(x1, x2):
    # the gradient goes to the larger operand (to x1 on ties, as TensorFlow)
    a, b = _v(x1), _v(x2)
    pick = np.greater_equal(a, b)
    return record(np.maximum(a, b), (x1, x2),
                  lambda g: (_unb(g * pick, x1), _unb(g * ~pick, x2)))


def minimum(x1, x2):
    # the gradient goes to the smaller operand (to x1 on ties)
    a, b = _v(x1), _v(x2)
    pick = np.less_equal(a, b)
    return record(np.minimum(a, b), (x1, x2),
                  lambda g: (_unb(g * pick, x1), _unb(g * ~pick, x2)))


def _compare(fn):
    def op(x1, x2):
        # comparisons are steps: no gradient
        return Tensor(fn(_v(x1), _v(x2)))
    op.__name__ = fn.__name__
    op.__doc__ = f"Elementwise ``{fn.__name__}``, a bool tensor (no gradient)."
    return op


equal = _compare(np.equal)
not_equal = _compare(np.not_equal)
less = _compare(np.less)
less_equal = _compare(np.less_equal)
greater = _compare(np.greater)
greater_equal = _compare(np.greater_equal)
logical_and = _compare(np.logical_and)
logical_or = _compare(np.logical_or)


def logical_not(x):
    return Tensor(np.logical_not(_v(x)))


# ---------------------------------------------------------------------- elementwise math
def _unary(fn, local):
    """An elementwise op whose derivative is ``local(x, y)`` (y = fn(x))."""
    def op(x):
        a = _v(x)
        y = fn(a)
        return record(y, (x,), lambda g: (g * local(a, y),))
    op.__name__ = fn.__name__
    op.__doc__ = f"Elementwise ``{fn.__name__}``."
    return op


exp = _unary(np.exp, lambda x, y: y)                               # (e^x)' = e^x
log = _unary(np.log, lambda x, y: 1 / x)                           # (log x)' = 1/x
log1p = _unary(np.log1p, lambda x, y: 1 / (1 + x))
expm1 = _unary(np.expm1, lambda x, y: y + 1)
sqrt = _unary(np.sqrt, lambda x, y: 0.5 / y)                       # (√x)' = 1/(2√x)
square = _unary(np.square, lambda x, y: 2 * x)
abs = _unary(np.abs, lambda x, y: np.sign(x))                      # 0 at 0, as TF
absolute = abs
sin = _unary(np.sin, lambda x, y: np.cos(x))
cos = _unary(np.cos, lambda x, y: -np.sin(x))
tanh = _unary(np.tanh, lambda x, y: 1 - y * y)                     # 1 - tanh²
reciprocal = _unary(np.reciprocal, lambda x, y: -y * y)            # (1/x)' = -1/x²
sign = _unary(np.sign, lambda x, y: np.zeros_like(x))
floor = _unary(np.floor, lambda x, y: np.zeros_like(x))
ceil = _unary(np.ceil, lambda x, y: np.zeros_like(x))
round = _unary(np.round, lambda x, y: np.zeros_like(x))


def clip(x, x_min, x_max):
    # the gradient passes where x is inside [x_min, x_max]
    a = _v(x)
    inside = (a >= x_min) & (a <= x_max)
    return record(np.clip(a, x_min, x_max), (x,), lambda g: (g * inside,))


def where(condition, x1=None, x2=None):
    """``x1`` where ``condition`` holds, else ``x2``; the gradient goes to the chosen one."""
    c = np.asarray(_v(condition), dtype=bool)
    if x1 is None and x2 is None:
        return tuple(Tensor(i) for i in np.nonzero(c))
    a, b = _v(x1), _v(x2)
    return record(np.where(c, a, b), (x1, x2),
                  lambda g: (_unb(np.where(c, g, 0), x1), _unb(np.where(c, 0, g), x2)))


# ---------------------------------------------------------------------- products
def matmul(x1, x2):
    # C = A B: dA = dC B^T, dB = A^T dC (batched over leading axes, 1-D operands
    # promoted to a row / a column as NumPy does)
    a, b = np.asarray(_v(x1)), np.asarray(_v(x2))

    def vjp(g):
        a2 = a[None, :] if a.ndim == 1 else a
        b2 = b[:, None] if b.ndim == 1 else b
        g2 = g
        if a.ndim == 1:
            g2 = np.expand_dims(g2, -2)
        if b.ndim == 1:
            g2 = np.expand_dims(g2, -1)
        ga = np.matmul(g2, np.swapaxes(b2, -1, -2))
        gb = np.matmul(np.swapaxes(a2, -1, -2), g2)
        if a.ndim == 1:
            ga = ga.sum(axis=tuple(range(ga.ndim - 2))).reshape(a.shape) if ga.ndim > 2 \
                else ga.reshape(a.shape)
        if b.ndim == 1:
            gb = gb.sum(axis=tuple(range(gb.ndim - 2))).reshape(b.shape) if gb.ndim > 2 \
                else gb.reshape(b.shape)
        return _unb(ga, x1), _unb(gb, x2)
    return record(np.matmul(a, b), (x1, x2), vjp)


def _letters(n, skip=""):
    return [c for c in string.ascii_letters if c not in skip][:n]


def einsum(subscripts, *operands):
    """Einstein summation. The gradient of operand i is the einsum of the output's
    gradient with the other operands, into operand i's subscripts (indices that only
    operand i sums over are broadcast back: their derivative is 1 along them)."""
    values = [np.asarray(_v(x)) for x in operands]
    out = np.einsum(subscripts, *values)
    spec = subscripts.replace(" ", "")
    if "..." in spec:
        raise NotImplementedError("einsum gradients with '...' are not supported; "
                                  "name the axes")
    if "->" in spec:
        ins, target = spec.split("->")
    else:
        ins = spec
        joined = ins.replace(",", "")
        target = "".join(sorted(c for c in set(joined) if joined.count(c) == 1))
    subs = ins.split(",")

    def vjp(g):
        grads = []
        for i, (x, sub) in enumerate(zip(operands, subs)):
            if not isinstance(x, Tensor) and not hasattr(x, "trainable"):
                grads.append(None)
                continue
            others = [s for j, s in enumerate(subs) if j != i]
            known = set(target).union(*others) if others else set(target)
            kept = "".join(c for c in dict.fromkeys(sub) if c in known)
            terms = ",".join([target] + others)
            gi = np.einsum(f"{terms}->{kept}", g,
                           *[v for j, v in enumerate(values) if j != i])
            # axes summed only in this operand: broadcast the gradient along them
            full = np.einsum(f"{kept}->{kept}", gi)
            shape = [values[i].shape[sub.index(c)] for c in sub]
            expand = [full.shape[kept.index(c)] if c in kept else 1 for c in sub]
            order = [kept.index(c) for c in sub if c in kept]
            gi = np.transpose(full, order).reshape(expand) if order else full.reshape(expand)
            if len(set(sub)) != len(sub):
                raise NotImplementedError("einsum gradients with a repeated index in one "
                                          "operand (a trace) are not supported")
            grads.append(np.broadcast_to(gi, shape).copy())
        return tuple(grads)
    return record(out, tuple(operands), vjp)


def tensordot(x1, x2, axes=2):
    """``np.tensordot`` as an einsum (so its gradient is einsum's)."""
    a, b = np.asarray(_v(x1)), np.asarray(_v(x2))
    if isinstance(axes, int):
        axes_a = list(range(a.ndim - axes, a.ndim))
        axes_b = list(range(axes))
    else:
        axes_a, axes_b = ([x] if isinstance(x, int) else list(x) for x in axes)
    axes_a = [i % a.ndim for i in axes_a]
    axes_b = [i % b.ndim for i in axes_b]
    letters = _letters(a.ndim + b.ndim)
    sa = letters[:a.ndim]
    sb = letters[a.ndim:]
    for i, j in zip(axes_a, axes_b):
        sb[j] = sa[i]
    out = [c for i, c in enumerate(sa) if i not in axes_a] + [
        c for j, c in enumerate(sb) if j not in axes_b]
    return einsum(f"{''.join(sa)},{''.join(sb)}->{''.join(out)}", x1, x2)


def dot(x1, x2):
    """``np.dot``: a matmul for 1-D and 2-D operands, a sum over the last axis of x1
    and the second-last of x2 otherwise."""
    a, b = np.ndim(_v(x1)), np.ndim(_v(x2))
    if a == 0 or b == 0:
        return multiply(x1, x2)
    if a <= 2 and b <= 2:
        return matmul(x1, x2)
    return tensordot(x1, x2, axes=([-1], [-2 if b > 1 else -1]))


# ---------------------------------------------------------------------- reductions
def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axis = (axis,) if isinstance(axis, int) else tuple(axis)
    return tuple(a % ndim for a in axis)


def _expand(g, axes, keepdims):
    """A reduced gradient with its reduced axes back as size 1, to broadcast."""
    return g if keepdims else np.expand_dims(g, axes)


def sum(x, axis=None, keepdims=False):
    # d(sum x) / dx_i = 1: the gradient is broadcast back over the summed axes
    a = np.asarray(_v(x))
    axes = _axes(axis, a.ndim)
    return record(np.sum(a, axis=axes, keepdims=keepdims), (x,),
                  lambda g: (np.broadcast_to(_expand(g, axes, keepdims), a.shape),))


def mean(x, axis=None, keepdims=False):
    # d(mean x) / dx_i = 1/n over the n averaged values
    a = np.asarray(_v(x))
    axes = _axes(axis, a.ndim)
    n = int(np.prod([a.shape[i] for i in axes])) if axes else 1
    out = np.mean(a, axis=axes, keepdims=keepdims)
    if a.dtype.kind in "iub":
        out = out.astype(np.float32)
    return record(out, (x,),
                  lambda g: (np.broadcast_to(_expand(g, axes, keepdims), a.shape) / n,))


def _extreme(fn):
    def op(x, axis=None, keepdims=False, initial=None):
        # the gradient goes to the extreme values, shared equally among ties
        a = np.asarray(_v(x))
        axes = _axes(axis, a.ndim)
        out = fn(a, axis=axes, keepdims=True)

        def vjp(g):
            hit = a == out
            share = hit / hit.sum(axis=axes, keepdims=True)
            return (share * _expand(g, axes, keepdims),)
        return record(out if keepdims else np.squeeze(out, axes), (x,), vjp)
    op.__name__ = fn.__name__
    op.__doc__ = f"``{fn.__name__}`` over ``axis``."
    return op


max = _extreme(np.max)
min = _extreme(np.min)
amax = max
amin = min


def prod(x, axis=None, keepdims=False, dtype=None):
    # d(prod x) / dx_i = prod of the others (computed as prod / x_i where x_i != 0)
    a = np.asarray(_v(x))
    axes = _axes(axis, a.ndim)
    out = np.prod(a, axis=axes, keepdims=True)

    def vjp(g):
        others = np.where(a != 0, out / np.where(a != 0, a, 1), 0)
        zeros = a == 0
        if zeros.any():
            # the one zero's gradient: the product of the rest
            for idx in zip(*np.nonzero(zeros)):
                rest = a.copy()
                rest[idx] = 1
                sel = [slice(None) if i in axes else idx[i] for i in range(a.ndim)]
                others[idx] = np.prod(rest[tuple(sel)])
        return (others * _expand(g, axes, keepdims),)
    return record(out if keepdims else np.squeeze(out, axes), (x,), vjp)


def var(x, axis=None, keepdims=False):
    """The population variance (Keras's ``ops.var``), composed of mean and square."""
    m = mean(x, axis=axis, keepdims=True)
    return mean(square(subtract(x, m)), axis=axis, keepdims=keepdims)


def std(x, axis=None, keepdims=False):
    return sqrt(var(x, axis=axis, keepdims=keepdims))


def logsumexp(x, axis=None, keepdims=False):
    # log Σ e^x, computed shifted by the max; its gradient is softmax(x)
    a = np.asarray(_v(x))
    axes = _axes(axis, a.ndim)
    m = np.max(a, axis=axes, keepdims=True)
    out = np.log(np.sum(np.exp(a - m), axis=axes, keepdims=True)) + m
    return record(out if keepdims else np.squeeze(out, axes), (x,),
                  lambda g: (np.exp(a - out) * _expand(g, axes, keepdims),))


def argmax(x, axis=None, keepdims=False):
    return Tensor(np.argmax(_v(x), axis=axis, keepdims=keepdims))


def argmin(x, axis=None, keepdims=False):
    return Tensor(np.argmin(_v(x), axis=axis, keepdims=keepdims))


def cumsum(x, axis=None, dtype=None):
    # the gradient of a running sum is the running sum of g from the end
    a = np.asarray(_v(x))
    if axis is None:
        out = np.cumsum(a.ravel())
        return record(out, (x,), lambda g: (np.flip(np.cumsum(np.flip(g))).reshape(a.shape),))
    return record(np.cumsum(a, axis=axis), (x,),
                  lambda g: (np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis),))


# ---------------------------------------------------------------------- shapes
def reshape(x, newshape):
    # a reshape moves no value: the gradient is reshaped back
    a = np.asarray(_v(x))
    return record(a.reshape(newshape), (x,), lambda g: (g.reshape(a.shape),))


def transpose(x, axes=None):
    # the gradient is transposed back by the inverse permutation
    a = np.asarray(_v(x))
    perm = tuple(range(a.ndim))[::-1] if axes is None else tuple(axes)
    return record(np.transpose(a, perm), (x,), lambda g: (np.transpose(g, np.argsort(perm)),))


def swapaxes(x, axis1, axis2):
    # swapping the same two axes again is the inverse
    a = np.asarray(_v(x))
    return record(np.swapaxes(a, axis1, axis2), (x,), lambda g: (np.swapaxes(g, axis1, axis2),))


def expand_dims(x, axis):
    a = np.asarray(_v(x))
    return record(np.expand_dims(a, axis), (x,), lambda g: (g.reshape(a.shape),))


def squeeze(x, axis=None):
    a = np.asarray(_v(x))
    return record(np.squeeze(a, axis), (x,), lambda g: (g.reshape(a.shape),))


def ravel(x):
    return reshape(x, (-1,))


def broadcast_to(x, shape):
    # a broadcast copies x: its gradient is the sum over the copies
    a = _v(x)
    return record(np.broadcast_to(a, shape).copy(), (x,), lambda g: (_unb(g, x),))


def concatenate(xs, axis=0):
    # each operand gets its slice of the gradient
    values = [np.asarray(_v(x)) for x in xs]
    cuts = np.cumsum([v.shape[axis] for v in values])[:-1]
    return record(np.concatenate(values, axis=axis), tuple(xs),
                  lambda g: tuple(np.split(g, cuts, axis=axis)))


def stack(x, axis=0):
    values = [np.asarray(_v(t)) for t in x]
    return record(np.stack(values, axis=axis), tuple(x),
                  lambda g: tuple(np.moveaxis(g, axis, 0)))


def tile(x, repeats):
    # each copy sends its gradient back to the one original: sum over the copies
    a = np.asarray(_v(x))
    out = np.tile(a, repeats)
    reps = (1,) * (out.ndim - len(np.atleast_1d(repeats))) + tuple(np.atleast_1d(repeats))
    base = (1,) * (out.ndim - a.ndim) + a.shape

    def vjp(g):
        split = [d for pair in zip(reps, base) for d in pair]
        summed = g.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
        return (summed.reshape(a.shape),)
    return record(out, (x,), vjp)


def getitem(x, key):
    """``x[key]``; the gradient is scattered back to the selected places (added where
    an index selects the same place twice)."""
    a = np.asarray(_v(x))
    if isinstance(key, Tensor):
        key = key.value
    elif isinstance(key, tuple):
        key = tuple(k.value if isinstance(k, Tensor) else k for k in key)

    def vjp(g):
        full = np.zeros(a.shape, dtype=g.dtype)
        np.add.at(full, key, g)
        return (full,)
    return record(a[key], (x,), vjp)


def take(x, indices, axis=None):
    a = np.asarray(_v(x))
    idx = np.asarray(_v(indices))
    if axis is None:
        return getitem(reshape(x, (-1,)), idx)
    key = (slice(None),) * (axis % a.ndim) + (idx,)
    return getitem(x, key)


# ---------------------------------------------------------------------- creation (no gradient)
def _floatx_default(dtype):
    from tinyann import backend
    return dtype or backend.floatx()


def zeros(shape, dtype=None):
    return Tensor(np.zeros(shape, dtype=_floatx_default(dtype)))


def ones(shape, dtype=None):
    return Tensor(np.ones(shape, dtype=_floatx_default(dtype)))


def full(shape, fill_value, dtype=None):
    return Tensor(np.full(shape, _v(fill_value), dtype=_floatx_default(dtype)))


def zeros_like(x, dtype=None):
    return Tensor(np.zeros_like(_v(x), dtype=dtype))


def ones_like(x, dtype=None):
    return Tensor(np.ones_like(_v(x), dtype=dtype))


def full_like(x, fill_value, dtype=None):
    return Tensor(np.full_like(_v(x), _v(fill_value), dtype=dtype))


def eye(N, M=None, k=0, dtype=None):
    return Tensor(np.eye(N, M, k, dtype=_floatx_default(dtype)))


def identity(n, dtype=None):
    return eye(n, dtype=dtype)


def arange(start, stop=None, step=1, dtype=None):
    return Tensor(np.arange(start, stop, step, dtype=dtype) if stop is not None
                  else np.arange(start, dtype=dtype))


def linspace(start, stop, num=50, endpoint=True, dtype=None):
    return Tensor(np.linspace(start, stop, num, endpoint=endpoint,
                              dtype=_floatx_default(dtype)))


def array(x, dtype=None):
    return Tensor(np.array(_v(x), dtype=dtype))


