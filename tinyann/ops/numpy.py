"""Keras's NumPy-like ops (``keras.ops.add``, ``matmul``, ``sum``, ``reshape``, ...).

Each op computes its result with NumPy and records, for the open GradientTapes, a
closure ``vjp(g)`` that gives the gradient of each operand from ``g``, the gradient of
the result. The math of each closure is in the comment beside it.

The closures are written with these same ops, on the operands as given and on the
op's output Tensor (not on copies of their values): when a tape's gradient is taken
while another tape is open, that tape records the backward pass and can differentiate
it again (Hessian-vector products). Without an open tape the ops inside a closure only
compute. The few ops whose closure is NumPy only (einsum, prod) say so.
"""

from __future__ import annotations

import string

import numpy as np

from tinyann.autodiff import Tensor, record
from tinyann.ops.core import value_of as _v
from tinyann.variables import Variable


def _rec(value, inputs, vjp):
    """``record`` for a closure written with ops (differentiable again)."""
    return record(value, inputs, vjp, differentiable=True)


def _tracked(x) -> bool:
    """Whether an operand can receive a gradient (constants get None: no work)."""
    return isinstance(x, (Tensor, Variable))


def _shape(g) -> tuple:
    return np.shape(g.value if isinstance(g, Tensor) else g)


def _unb(g, x):
    """``g`` summed over the axes broadcasting added to operand ``x`` (dL/dx of a
    broadcast operand is the sum of dL/dy over the copies made of it); None for a
    constant operand."""
    if not _tracked(x):
        return None
    shape = x.value.shape
    gshape = _shape(g)
    if gshape == shape:
        return g
    lead = len(gshape) - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, n in enumerate(shape)
                                      if n == 1 and gshape[lead + i] != 1)
    return reshape(sum(g, axis=axes), shape)


# ---------------------------------------------------------------------- arithmetic
def add(x1, x2):
    # d(a+b) = da + db
    a, b = _v(x1), _v(x2)
    return _rec(np.add(a, b), (x1, x2), lambda g: (_unb(g, x1), _unb(g, x2)))


def subtract(x1, x2):
    # d(a-b) = da - db
    a, b = _v(x1), _v(x2)
    return _rec(np.subtract(a, b), (x1, x2),
                lambda g: (_unb(g, x1), _unb(negative(g), x2) if _tracked(x2) else None))


def multiply(x1, x2):
    # d(ab) = b da + a db
    a, b = _v(x1), _v(x2)
    return _rec(np.multiply(a, b), (x1, x2),
                lambda g: (_unb(multiply(g, x2), x1) if _tracked(x1) else None,
                           _unb(multiply(g, x1), x2) if _tracked(x2) else None))


def divide(x1, x2):
    # d(a/b) = da / b - a db / b^2
    a, b = _v(x1), _v(x2)
    return _rec(np.true_divide(a, b), (x1, x2), lambda g: (
        _unb(divide(g, x2), x1) if _tracked(x1) else None,
        _unb(negative(divide(multiply(g, x1), square(x2))), x2) if _tracked(x2) else None))


true_divide = divide


def power(x1, x2):
    # d(a^b) = b a^(b-1) da + a^b log(a) db  (log taken where a > 0, else 0)
    a, b = _v(x1), _v(x2)

    def vjp(g):
        ga = gb = None
        if _tracked(x1):
            exponent = subtract(x2, 1) if _tracked(x2) else np.subtract(b, 1)
            ga = _unb(multiply(g, multiply(x2, power(x1, exponent))), x1)
        if _tracked(x2):
            safe = where(np.asarray(a) > 0, x1, 1.0)
            gb = _unb(multiply(multiply(g, out), log(safe)), x2)
        return ga, gb
    out = _rec(np.power(a, b), (x1, x2), vjp)
    return out


def negative(x):
    # d(-a) = -da
    return _rec(np.negative(_v(x)), (x,), lambda g: (negative(g),))


def maximum(x1, x2):
    # the gradient goes to the larger operand (to x1 on ties, as TensorFlow)
    a, b = _v(x1), _v(x2)
    pick = np.greater_equal(a, b)
    return _rec(np.maximum(a, b), (x1, x2), lambda g: (
        _unb(multiply(g, pick), x1) if _tracked(x1) else None,
        _unb(multiply(g, ~pick), x2) if _tracked(x2) else None))


def minimum(x1, x2):
    # the gradient goes to the smaller operand (to x1 on ties)
    a, b = _v(x1), _v(x2)
    pick = np.less_equal(a, b)
    return _rec(np.minimum(a, b), (x1, x2), lambda g: (
        _unb(multiply(g, pick), x1) if _tracked(x1) else None,
        _unb(multiply(g, ~pick), x2) if _tracked(x2) else None))


_ONE_OPERAND = object()


def _compare(fn):
    """The op of a NumPy comparison or test (one or two operands): a bool tensor."""
    def op(x1, x2=_ONE_OPERAND):
        # comparisons and tests are steps: no gradient
        return Tensor(fn(_v(x1)) if x2 is _ONE_OPERAND else fn(_v(x1), _v(x2)))
    op.__name__ = op.__qualname__ = fn.__name__
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
    """An elementwise op whose gradient is ``local(g, x, y)`` (y = fn(x)), written with
    ops on the operand ``x`` and the output Tensor ``y``."""
    def op(x):
        y = _rec(fn(_v(x)), (x,), lambda g: (local(g, x, y),))
        return y
    op.__name__ = fn.__name__
    op.__doc__ = f"Elementwise ``{fn.__name__}``."
    return op


def _zero_gradient(g, x, y):
    # a step function: zero almost everywhere
    return Tensor(np.zeros_like(_v(x), dtype=np.result_type(_v(x), 0.0)))


exp = _unary(np.exp, lambda g, x, y: multiply(g, y))                # (e^x)' = e^x
log = _unary(np.log, lambda g, x, y: divide(g, x))                  # (log x)' = 1/x
log1p = _unary(np.log1p, lambda g, x, y: divide(g, add(x, 1.0)))
expm1 = _unary(np.expm1, lambda g, x, y: multiply(g, add(y, 1.0)))
sqrt = _unary(np.sqrt, lambda g, x, y: divide(multiply(g, 0.5), y))  # (√x)' = 1/(2√x)
square = _unary(np.square, lambda g, x, y: multiply(g, multiply(x, 2.0)))
abs = _unary(np.abs, lambda g, x, y: multiply(g, np.sign(_v(x))))   # 0 at 0, as TF
absolute = abs
sin = _unary(np.sin, lambda g, x, y: multiply(g, cos(x)))
cos = _unary(np.cos, lambda g, x, y: negative(multiply(g, sin(x))))
tanh = _unary(np.tanh, lambda g, x, y: multiply(g, subtract(1.0, square(y))))  # 1 - tanh²
reciprocal = _unary(np.reciprocal,                                  # (1/x)' = -1/x²
                    lambda g, x, y: negative(multiply(g, square(y))))
sign = _unary(np.sign, _zero_gradient)
floor = _unary(np.floor, _zero_gradient)
ceil = _unary(np.ceil, _zero_gradient)
round = _unary(np.round, _zero_gradient)


def clip(x, x_min, x_max):
    # the gradient passes where x is inside [x_min, x_max]
    a = _v(x)
    inside = (a >= x_min) & (a <= x_max)
    return _rec(np.clip(a, x_min, x_max), (x,), lambda g: (multiply(g, inside),))


def where(condition, x1=None, x2=None):
    """``x1`` where ``condition`` holds, else ``x2``; the gradient goes to the chosen one."""
    c = np.asarray(_v(condition), dtype=bool)
    if x1 is None and x2 is None:
        return tuple(Tensor(i) for i in np.nonzero(c))
    a, b = _v(x1), _v(x2)
    return _rec(np.where(c, a, b), (x1, x2), lambda g: (
        _unb(where(c, g, 0.0), x1) if _tracked(x1) else None,
        _unb(where(c, 0.0, g), x2) if _tracked(x2) else None))


# ---------------------------------------------------------------------- products
def matmul(x1, x2):
    # C = A B: dA = dC B^T, dB = A^T dC (batched over leading axes, 1-D operands
    # promoted to a row / a column as NumPy does)
    a, b = np.asarray(_v(x1)), np.asarray(_v(x2))

    def vjp(g):
        if a.ndim == 1 and b.ndim == 1:
            # the inner product a.b (a 0-d result): da = g b, db = g a
            return (multiply(g, x2) if _tracked(x1) else None,
                    multiply(g, x1) if _tracked(x2) else None)
        g2 = g
        if a.ndim == 1:
            g2 = expand_dims(g2, -2)
        if b.ndim == 1:
            g2 = expand_dims(g2, -1)
        ga = gb = None
        if _tracked(x1):
            b2 = expand_dims(x2, -1) if b.ndim == 1 else x2
            ga = matmul(g2, swapaxes(b2, -1, -2))
            ga = _unb(_vector_grad(ga, a.shape) if a.ndim == 1 else ga, x1)
        if _tracked(x2):
            a2 = expand_dims(x1, 0) if a.ndim == 1 else x1
            gb = matmul(swapaxes(a2, -1, -2), g2)
            gb = _unb(_vector_grad(gb, b.shape) if b.ndim == 1 else gb, x2)
        return ga, gb
    return _rec(np.matmul(a, b), (x1, x2), vjp)


def _vector_grad(g, shape):
    """The gradient of a 1-D matmul operand promoted to a matrix: summed over the
    batch axes, then back to the vector's shape."""
    if len(_shape(g)) > 2:
        g = sum(g, axis=tuple(range(len(_shape(g)) - 2)))
    return reshape(g, shape)


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
    # NumPy-only closure (np.einsum on the gradient): first derivatives only
    return record(out, tuple(operands), vjp, label="ops.einsum")


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
    return g if keepdims or not axes else expand_dims(g, axes)


def sum(x, axis=None, keepdims=False):
    # d(sum x) / dx_i = 1: the gradient is broadcast back over the summed axes
    a = np.asarray(_v(x))
    axes = _axes(axis, a.ndim)
    return _rec(np.sum(a, axis=axes, keepdims=keepdims), (x,),
                lambda g: (broadcast_to(_expand(g, axes, keepdims), a.shape),))


def mean(x, axis=None, keepdims=False):
    # d(mean x) / dx_i = 1/n over the n averaged values
    a = np.asarray(_v(x))
    axes = _axes(axis, a.ndim)
    n = int(np.prod([a.shape[i] for i in axes])) if axes else 1
    out = np.mean(a, axis=axes, keepdims=keepdims)
    if a.dtype.kind in "iub":
        out = out.astype(np.float32)
    return _rec(out, (x,),
                lambda g: (divide(broadcast_to(_expand(g, axes, keepdims), a.shape),
                                  float(n)),))


def _extreme(fn):
    def op(x, axis=None, keepdims=False, initial=None):
        # the gradient goes to the extreme values, shared equally among ties
        a = np.asarray(_v(x))
        axes = _axes(axis, a.ndim)
        out = fn(a, axis=axes, keepdims=True)

        def vjp(g):
            hit = a == out
            share = (hit / hit.sum(axis=axes, keepdims=True)).astype(a.dtype)
            return (multiply(_expand(g, axes, keepdims), share),)
        return _rec(out if keepdims else np.squeeze(out, axes), (x,), vjp)
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
        return (others * (g if keepdims else np.expand_dims(g, axes)),)
    # NumPy-only closure: first derivatives only
    return record(out if keepdims else np.squeeze(out, axes), (x,), vjp, label="ops.prod")


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
    kept = np.log(np.sum(np.exp(a - m), axis=axes, keepdims=True)) + m

    def vjp(g):
        # softmax(x) = exp(x - logsumexp(x)), with the output as recorded
        lse = y if keepdims else expand_dims(y, axes)
        return (multiply(exp(subtract(x, lse)), _expand(g, axes, keepdims)),)
    y = _rec(kept if keepdims else np.squeeze(kept, axes), (x,), vjp)
    return y


def argmax(x, axis=None, keepdims=False):
    return Tensor(np.argmax(_v(x), axis=axis, keepdims=keepdims))


def argmin(x, axis=None, keepdims=False):
    return Tensor(np.argmin(_v(x), axis=axis, keepdims=keepdims))


def cumsum(x, axis=None, dtype=None):
    # the gradient of a running sum is the running sum of g from the end
    a = np.asarray(_v(x))
    if axis is None:
        return cumsum(reshape(x, (-1,)), axis=0)
    axis = axis % a.ndim
    backwards = (slice(None),) * axis + (slice(None, None, -1),)
    return _rec(np.cumsum(a, axis=axis), (x,), lambda g: (
        getitem(cumsum(getitem(g, backwards), axis=axis), backwards),))


# ---------------------------------------------------------------------- shapes
def reshape(x, newshape):
    # a reshape moves no value: the gradient is reshaped back
    a = np.asarray(_v(x))
    return _rec(a.reshape(newshape), (x,), lambda g: (reshape(g, a.shape),))


def transpose(x, axes=None):
    # the gradient is transposed back by the inverse permutation
    a = np.asarray(_v(x))
    perm = tuple(range(a.ndim))[::-1] if axes is None else tuple(axes)
    return _rec(np.transpose(a, perm), (x,),
                lambda g: (transpose(g, tuple(int(i) for i in np.argsort(perm))),))


def swapaxes(x, axis1, axis2):
    # swapping the same two axes again is the inverse
    a = np.asarray(_v(x))
    return _rec(np.swapaxes(a, axis1, axis2), (x,), lambda g: (swapaxes(g, axis1, axis2),))


def expand_dims(x, axis):
    a = np.asarray(_v(x))
    return _rec(np.expand_dims(a, axis), (x,), lambda g: (reshape(g, a.shape),))


def squeeze(x, axis=None):
    a = np.asarray(_v(x))
    return _rec(np.squeeze(a, axis), (x,), lambda g: (reshape(g, a.shape),))


def ravel(x):
    return reshape(x, (-1,))


def broadcast_to(x, shape):
    # a broadcast copies x: its gradient is the sum over the copies
    a = _v(x)
    return _rec(np.broadcast_to(a, shape).copy(), (x,), lambda g: (_unb(g, x),))


def concatenate(xs, axis=0):
    # each operand gets its slice of the gradient
    values = [np.asarray(_v(x)) for x in xs]
    out = np.concatenate(values, axis=axis)
    ends = np.cumsum([v.shape[axis] for v in values])
    lead = (slice(None),) * (axis % out.ndim)
    return _rec(out, tuple(xs), lambda g: tuple(
        getitem(g, lead + (slice(int(end - v.shape[axis]), int(end)),)) if _tracked(x)
        else None for x, v, end in zip(xs, values, ends)))


def stack(x, axis=0):
    values = [np.asarray(_v(t)) for t in x]
    out = np.stack(values, axis=axis)
    lead = (slice(None),) * (axis % out.ndim)
    return _rec(out, tuple(x), lambda g: tuple(
        getitem(g, lead + (i,)) if _tracked(t) else None for i, t in enumerate(x)))


def tile(x, repeats):
    # each copy sends its gradient back to the one original: sum over the copies
    a = np.asarray(_v(x))
    out = np.tile(a, repeats)
    reps = (1,) * (out.ndim - len(np.atleast_1d(repeats))) + tuple(np.atleast_1d(repeats))
    base = (1,) * (out.ndim - a.ndim) + a.shape

    def vjp(g):
        split = [d for pair in zip(reps, base) for d in pair]
        summed = sum(reshape(g, split), axis=tuple(range(0, len(split), 2)))
        return (reshape(summed, a.shape),)
    return _rec(out, (x,), vjp)


def getitem(x, key):
    """``x[key]``; the gradient is scattered back to the selected places (added where
    an index selects the same place twice)."""
    a = np.asarray(_v(x))
    if isinstance(key, Tensor):
        key = key.value
    elif isinstance(key, tuple):
        key = tuple(k.value if isinstance(k, Tensor) else k for k in key)

    return _rec(a[key], (x,), lambda g: (_scatter_add(g, key, a.shape),))


def _scatter_add(g, key, shape):
    """Zeros of ``shape`` with ``g`` added at ``key`` (the gradient of ``x[key]``);
    linear in ``g``, its own gradient is ``gg[key]``."""
    gv = np.asarray(_v(g))
    full = np.zeros(shape, dtype=gv.dtype)
    np.add.at(full, key, gv)
    return _rec(full, (g,), lambda gg: (getitem(gg, key),))


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




# what `from tinyann.ops.numpy import *` gives tinyann.ops: the ops, not NumPy or helpers
__all__ = [name for name, value in list(globals().items()) if not name.startswith("_")
           and callable(value) and getattr(value, "__module__", "") == __name__]
