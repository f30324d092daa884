"""Keras's shape, indexing, joining and creation ops (``keras.ops.split``, ``pad``,
``take_along_axis``, ``scatter``, ``tril``, ``meshgrid``, ``outer``, ...).

Most are written as compositions of the ops in ``tinyann.ops.numpy`` (``getitem``,
``reshape``, ``transpose``, ``concatenate``, ``where``, ``multiply``): an index array
computed with NumPy picks the result out of the operand, so the gradient is the
getitem's scatter-add back (the sum over the copies a value was picked into) and
stays differentiable again. The few ops with a closure of their own say its math
beside it.
"""

from __future__ import annotations

import builtins

import numpy as np

from tinyann import backend
from tinyann.autodiff import Tensor
from tinyann.ops import numpy as knp
from tinyann.ops.core import cast, convert_to_tensor
from tinyann.ops.core import value_of as _v
from tinyann.ops.numpy import _rec, _scatter_add, _tracked, _unb

__all__ = [
    "split", "array_split", "hsplit", "vsplit", "dsplit", "unstack", "slice",
    "slice_update", "scatter", "scatter_update", "take_along_axis", "get_item", "repeat",
    "pad", "flip", "fliplr", "flipud", "roll", "rot90", "moveaxis", "hstack", "vstack",
    "dstack", "append", "tril", "triu", "tri", "diag", "diagonal", "diagflat", "trace",
    "meshgrid", "copy", "empty", "empty_like", "size", "ndim", "dtype", "outer",
    "inner", "kron", "vdot", "cross", "logspace", "geomspace", "vander", "correlate",
]


def _array(x) -> np.ndarray:
    return np.asarray(_v(x))


def _axis(axis, ndim) -> int:
    if not -ndim <= axis < builtins.max(ndim, 1):
        raise ValueError(f"axis {axis} is out of bounds for a tensor of rank {ndim}")
    return axis % builtins.max(ndim, 1)


def _along(axis, ndim, index) -> tuple:
    """The key that applies ``index`` along ``axis`` of a rank-``ndim`` tensor."""
    return (builtins.slice(None),) * _axis(axis, ndim) + (index,)


# ---------------------------------------------------------------------- splitting
def _split(x, indices_or_sections, axis, equal):
    a = _array(x)
    axis = _axis(axis, a.ndim)
    n = a.shape[axis]
    if isinstance(indices_or_sections, (int, np.integer)):
        sections = int(indices_or_sections)
        if sections <= 0:
            raise ValueError(f"The number of sections must be positive. Received: "
                             f"indices_or_sections={sections}")
        if equal and n % sections:
            raise ValueError(f"array split does not result in an equal division: axis "
                             f"{axis} of size {n} into {sections} sections")
        pieces = np.array_split(np.arange(n), sections)
        bounds = [(int(p[0]), int(p[-1]) + 1) if p.size else (0, 0) for p in pieces]
    else:
        cuts = [0] + [int(c) for c in _array(indices_or_sections)] + [n]
        bounds = [(builtins.min(s, n), builtins.min(e, n)) if e >= s else (s, s)
                  for s, e in zip(cuts[:-1], cuts[1:])]
    # each piece is a getitem: its gradient lands in its own slice of x
    return [knp.getitem(x, _along(axis, a.ndim, builtins.slice(s, e))) for s, e in bounds]


def split(x, indices_or_sections, axis=0):
    """``x`` cut along ``axis`` into equal sections (an int) or at the given indices.

    Raises:
        ValueError: when an int does not divide the axis evenly (``array_split`` allows it).
    """
    return _split(x, indices_or_sections, axis, equal=True)


def array_split(x, indices_or_sections, axis=0):
    """``split`` that allows unequal sections (the first ones one longer)."""
    return _split(x, indices_or_sections, axis, equal=False)


def hsplit(x, indices_or_sections):
    """``split`` along axis 1 (axis 0 for a vector)."""
    return split(x, indices_or_sections, axis=1 if np.ndim(_v(x)) > 1 else 0)


def vsplit(x, indices_or_sections):
    """``split`` along axis 0 (rank 2 or more)."""
    if np.ndim(_v(x)) < 2:
        raise ValueError("vsplit only works on tensors of rank 2 or more")
    return split(x, indices_or_sections, axis=0)


def dsplit(x, indices_or_sections):
    """``split`` along axis 2 (rank 3 or more)."""
    if np.ndim(_v(x)) < 3:
        raise ValueError("dsplit only works on tensors of rank 3 or more")
    return split(x, indices_or_sections, axis=2)


def unstack(x, num=None, axis=0):
    """The slices of ``x`` along ``axis``, as a list (``stack``'s inverse)."""
    a = _array(x)
    n = a.shape[_axis(axis, a.ndim)]
    if num is not None and num != n:
        raise ValueError(f"Expected num to match the size of axis {axis}, {n}. "
                         f"Received: num={num}")
    return [knp.getitem(x, _along(axis, a.ndim, i)) for i in range(n)]


# ---------------------------------------------------------------------- windows and scatters
def _window(a, start_indices, shape):
    start = [int(s) for s in np.ravel(_v(start_indices))]
    shape = [int(n) for n in np.ravel(_v(shape))]
    if len(start) != a.ndim or len(shape) != a.ndim:
        raise ValueError(f"start_indices and shape must have one entry per axis of the "
                         f"input (rank {a.ndim}). Received: start_indices={start}, "
                         f"shape={shape}")
    return tuple(builtins.slice(s, a.shape[i] if n == -1 else s + n)
                 for i, (s, n) in enumerate(zip(start, shape)))


def slice(inputs, start_indices, shape):
    """The window of ``inputs`` at ``start_indices`` of size ``shape`` (-1: to the end)."""
    return knp.getitem(inputs, _window(_array(inputs), start_indices, shape))


def slice_update(inputs, start_indices, updates):
    """``inputs`` with the window at ``start_indices`` replaced by ``updates``."""
    a, u = _array(inputs), _array(updates)
    key = _window(a, start_indices, u.shape)
    out = a.copy()
    out[key] = u
    outside = np.ones(a.shape, dtype=bool)
    outside[key] = False
    # the window's gradient goes to updates, the rest to inputs
    return _rec(out, (inputs, updates), lambda g: (
        knp.where(outside, g, 0) if _tracked(inputs) else None,
        knp.getitem(g, key) if _tracked(updates) else None))


def _scatter_key(indices, shape):
    idx = np.asarray(_v(indices))
    if idx.ndim == 1:
        idx = idx[:, None]
    if not np.issubdtype(idx.dtype, np.integer) or idx.shape[-1] > len(shape):
        raise ValueError(f"indices must be integers of shape (..., k) with k <= "
                         f"{len(shape)}, the rank of the result. Received: indices of "
                         f"dtype {idx.dtype} and shape {idx.shape}")
    return tuple(idx[..., j] for j in range(idx.shape[-1]))


def scatter(indices, values, shape):
    """Zeros of ``shape`` with ``values`` added at ``indices`` (shape ``(..., k)``: each
    row indexes the first k axes). Values at a repeated index are summed, as Keras."""
    shape = tuple(int(n) for n in np.ravel(_v(shape)))
    # linear in values: their gradient is the output's gradient gathered at indices
    return _scatter_add(values, _scatter_key(indices, shape), shape)


_REDUCTIONS = {"add": np.add, "max": np.maximum, "min": np.minimum, "mul": np.multiply}


def scatter_update(inputs, indices, updates, reduction=None):
    """``inputs`` with ``updates`` written at ``indices`` (rows indexing the first k axes);
    ``reduction`` None replaces (the last write wins), or "add", "max", "min", "mul".

    Gradients: to the updates that were written (only the last one at a repeated index,
    as JAX; Keras on TensorFlow gives every duplicate the gradient) and to the inputs
    elsewhere; "add" to both; "max" / "min" to the values kept, shared
    among ties; none for "mul".
    """
    a = _array(inputs)
    key = _scatter_key(indices, a.shape)
    u = np.asarray(_v(updates))
    out = a.copy()
    if reduction is None:
        out[key] = u
        # which update won each place (the last one written): only it gets a gradient
        order = np.full(a.shape[:len(key)], -1)
        rows = np.arange(key[0].size).reshape(key[0].shape)
        order[key] = rows
        won = (order[key] == rows).reshape(rows.shape + (1,) * (u.ndim - rows.ndim))
        hit = np.zeros(a.shape, dtype=bool)
        hit[key] = True
        return _rec(out, (inputs, updates), lambda g: (
            knp.where(hit, 0, g) if _tracked(inputs) else None,
            _unb(knp.where(won, knp.getitem(g, key), 0), updates) if _tracked(updates)
            else None))
    if reduction not in _REDUCTIONS:
        raise ValueError(f"Invalid reduction {reduction!r}; expected one of None, "
                         f"{', '.join(map(repr, _REDUCTIONS))}")
    if reduction == "add":
        # out = inputs + scatter(updates): both linear
        return knp.add(inputs, _scatter_add(updates, key, a.shape))
    _REDUCTIONS[reduction].at(out, key, u.astype(out.dtype))
    if reduction == "mul":
        return Tensor(out)   # no gradient (a product of a place's updates)
    # max / min: the gradient goes to the values that were kept, shared among ties
    kept_x = a == out
    kept_u = u == out[key]
    ties = kept_x.astype(out.dtype)
    np.add.at(ties, key, kept_u)
    share_x = (kept_x / ties).astype(out.dtype)
    share_u = (kept_u / ties[key]).astype(out.dtype)
    return _rec(out, (inputs, updates), lambda g: (
        knp.multiply(g, share_x) if _tracked(inputs) else None,
        _unb(knp.multiply(knp.getitem(g, key), share_u), updates) if _tracked(updates)
        else None))


def take_along_axis(x, indices, axis=None):
    """The values of ``x`` at ``indices`` along ``axis`` (the other axes broadcast); with
    ``axis=None``, ``x`` is flattened first."""
    idx = np.asarray(_v(indices))
    if axis is None:
        return knp.getitem(knp.reshape(x, (-1,)), idx.reshape(-1))
    a = _array(x)
    if idx.ndim != a.ndim:
        raise ValueError(f"indices must have the rank of x ({a.ndim}). Received: indices "
                         f"of shape {idx.shape}")
    axis = _axis(axis, a.ndim)
    idx = np.where(idx < 0, idx + a.shape[axis], idx)
    key = tuple(idx if d == axis else np.arange(n).reshape(
        (1,) * d + (n,) + (1,) * (a.ndim - d - 1)) for d, n in enumerate(a.shape))
    return knp.getitem(x, key)   # scatter-added back


def get_item(x, key):
    """``x[key]`` (Keras's name for Python's indexing)."""
    return knp.getitem(x, key)


def repeat(x, repeats, axis=None):
    """Each element of ``x`` (flattened when ``axis`` is None) repeated ``repeats``
    times; the gradient sums over the repeats (a getitem of a repeated index)."""
    if axis is None:
        x, axis = knp.reshape(x, (-1,)), 0
    a = _array(x)
    axis = _axis(axis, a.ndim)
    idx = np.repeat(np.arange(a.shape[axis]), np.asarray(_v(repeats)))
    return knp.getitem(x, _along(axis, a.ndim, idx))


_PAD_MODES = ("constant", "edge", "reflect", "symmetric", "wrap", "circular")


def pad(x, pad_width, mode="constant", constant_values=None):
    """``x`` padded by ``pad_width`` (``((before, after), ...)``, one pair, or an int).

    Modes: "constant" (``constant_values``, 0 by default), "reflect", "symmetric",
    "edge", "wrap" (also "circular"). The gradient crops (constant) or, for the modes
    that copy values, adds each copy's gradient back to the value it copied.
    """
    a = _array(x)
    if mode not in _PAD_MODES:
        raise ValueError(f"Invalid mode {mode!r}; expected one of {', '.join(_PAD_MODES)}")
    if constant_values is not None and mode != "constant":
        raise ValueError(f"constant_values can only be used with mode 'constant'. "
                         f"Received: mode={mode!r}")
    widths = np.broadcast_to(np.asarray(pad_width, dtype=int), (a.ndim, 2))
    if mode == "constant":
        value = 0 if constant_values is None else _v(constant_values)
        out = np.pad(a, widths, constant_values=value)
        crop = tuple(builtins.slice(b, b + n) for (b, _), n in zip(widths, a.shape))
        return _rec(out, (x,), lambda g: (knp.getitem(g, crop),))
    # the padded tensor picks from x: pad the array of x's flat indices the same way
    where = np.pad(np.arange(a.size).reshape(a.shape), widths,
                   mode="wrap" if mode == "circular" else mode)
    return knp.getitem(knp.reshape(x, (-1,)), where)


# ---------------------------------------------------------------------- permutations
def flip(x, axis=None):
    """``x`` reversed along ``axis`` (every axis when None)."""
    n = np.ndim(_v(x))
    axes = knp._axes(axis, n)
    return knp.getitem(x, tuple(builtins.slice(None, None, -1) if d in axes
                                else builtins.slice(None) for d in range(n)))


def fliplr(x):
    return flip(x, axis=1)


def flipud(x):
    return flip(x, axis=0)


def roll(x, shift, axis=None):
    """``x`` rolled by ``shift`` along ``axis`` (flattened when None); the gradient
    rolls back by ``-shift``."""
    a = _array(x)
    neg = -np.asarray(shift)
    return _rec(np.roll(a, shift, axis), (x,), lambda g: (roll(g, neg, axis),))


def rot90(array, k=1, axes=(0, 1)):
    """``array`` turned by ``k`` quarter turns in the plane of ``axes``; the gradient
    turns back by ``-k``."""
    a = _array(array)
    if a.ndim < 2:
        raise ValueError(f"rot90 needs a tensor of rank 2 or more. Received: shape "
                         f"{a.shape}")
    return _rec(np.rot90(a, k, axes), (array,), lambda g: (rot90(g, -k, axes),))


def moveaxis(x, source, destination):
    """``x`` with the axes ``source`` moved to ``destination`` (a transpose)."""
    n = np.ndim(_v(x))
    src = [_axis(s, n) for s in np.atleast_1d(source)]
    dst = [_axis(d, n) for d in np.atleast_1d(destination)]
    if len(src) != len(dst):
        raise ValueError("source and destination must have the same number of axes")
    order = [d for d in range(n) if d not in src]
    for d, s in sorted(zip(dst, src)):
        order.insert(d, s)
    return knp.transpose(x, tuple(order))


# ---------------------------------------------------------------------- joining
def _at_least(x, rank):
    a = np.shape(_v(x))
    if len(a) >= rank:
        return x
    shapes = {1: {0: (1,)}, 2: {0: (1, 1), 1: (1,) + a},
              3: {0: (1, 1, 1), 1: (1,) + a + (1,), 2: a + (1,)}}
    return knp.reshape(x, shapes[rank][len(a)])


def hstack(xs):
    """The tensors joined along axis 1 (axis 0 for vectors)."""
    xs = [_at_least(x, 1) for x in xs]
    return knp.concatenate(xs, axis=0 if np.ndim(_v(xs[0])) == 1 else 1)


def vstack(xs):
    """The tensors joined along axis 0 (vectors become rows)."""
    return knp.concatenate([_at_least(x, 2) for x in xs], axis=0)


def dstack(xs):
    """The tensors joined along axis 2 (depth)."""
    return knp.concatenate([_at_least(x, 3) for x in xs], axis=2)


def append(x1, x2, axis=None):
    """``x2`` joined after ``x1`` along ``axis`` (both flattened when None)."""
    if axis is None:
        return knp.concatenate([knp.reshape(x1, (-1,)), knp.reshape(x2, (-1,))], axis=0)
    return knp.concatenate([x1, x2], axis=axis)


# ---------------------------------------------------------------------- triangles and diagonals
def _triangle(x, k, lower):
    a = _array(x)
    if a.ndim < 2:
        raise ValueError(f"tril/triu need a tensor of rank 2 or more. Received: shape "
                         f"{a.shape}")
    n, m = a.shape[-2:]
    keep = np.tri(n, m, k, dtype=bool) if lower else ~np.tri(n, m, k - 1, dtype=bool)
    # a mask: the gradient passes where the value is kept
    return knp.where(keep, x, np.zeros((), a.dtype))


def tril(x, k=0):
    """``x`` with the values above the ``k``-th diagonal set to zero."""
    return _triangle(x, k, lower=True)


def triu(x, k=0):
    """``x`` with the values below the ``k``-th diagonal set to zero."""
    return _triangle(x, k, lower=False)


def tri(N, M=None, k=0, dtype=None):
    """Ones at and below the ``k``-th diagonal of an ``N x M`` matrix."""
    return Tensor(np.tri(N, M, k, dtype=dtype or backend.floatx()))


def _diagonal_places(n, m, k):
    rows = np.arange(builtins.max(0, -k), builtins.min(n, m - k))
    return rows, rows + k


def diagonal(x, offset=0, axis1=0, axis2=1):
    """The ``offset``-th diagonal of the planes ``(axis1, axis2)`` of ``x``, as the last
    axis of the result (a getitem: its gradient lands on the diagonal)."""
    n = np.ndim(_v(x))
    if n < 2:
        raise ValueError(f"diagonal needs a tensor of rank 2 or more. Received rank {n}")
    moved = moveaxis(x, (axis1, axis2), (-2, -1))
    rows, cols = _diagonal_places(*moved.shape[-2:], int(offset))
    return knp.getitem(moved, (Ellipsis, rows, cols))


def diag(x, k=0):
    """A vector's diagonal matrix, or a matrix's ``k``-th diagonal."""
    a = _array(x)
    if a.ndim == 2:
        return diagonal(x, k)
    if a.ndim != 1:
        raise ValueError(f"diag takes a vector or a matrix. Received: shape {a.shape}")
    size = a.shape[0] + builtins.abs(k)
    rows, cols = _diagonal_places(size, size, k)
    # the vector written on the diagonal: linear, its gradient is the diagonal of g
    return _scatter_add(x, (rows, cols), (size, size))


def diagflat(x, k=0):
    """The diagonal matrix of ``x`` flattened."""
    return diag(knp.reshape(x, (-1,)), k)


def trace(x, offset=0, axis1=0, axis2=1):
    """The sum of the ``offset``-th diagonal of the planes ``(axis1, axis2)``."""
    d = diagonal(x, offset, axis1, axis2)
    return _keep_int(knp.sum(d, axis=-1), _array(x).dtype)


def _keep_int(t, dtype):
    """A sum of ints in the operand's dtype, as Keras (NumPy widens int32 to int64);
    bools count as int32."""
    dtype = np.dtype("int32") if dtype.kind == "b" else dtype
    return cast(t, dtype) if dtype.kind in "iu" and t.dtype != dtype else t


# ---------------------------------------------------------------------- creation and facts
def meshgrid(*x, indexing="xy"):
    """Coordinate grids of the 1-D tensors ``x`` (``indexing`` "xy": the first two axes
    swapped, as NumPy; "ij": matrix indexing). Each grid is a broadcast of its vector."""
    if indexing not in ("xy", "ij"):
        raise ValueError(f"Valid values for indexing are 'xy' and 'ij'. Received: "
                         f"{indexing!r}")
    sizes = [int(np.size(_v(t))) for t in x]
    order = list(range(len(x)))
    if indexing == "xy" and len(x) > 1:
        order[0], order[1] = 1, 0
    shape = tuple(sizes[i] for i in order)
    grids = []
    for i, t in enumerate(x):
        place = [1] * len(x)
        place[order.index(i)] = sizes[i]
        grids.append(knp.broadcast_to(knp.reshape(t, tuple(place)), shape))
    return grids


def copy(x):
    """A copy of ``x`` (the gradient passes unchanged)."""
    return _rec(np.array(_v(x), copy=True), (x,), lambda g: (g,))


def empty(shape, dtype=None):
    """A tensor of ``shape`` (zeros: NumPy's uninitialised memory is not reproducible)."""
    return Tensor(np.zeros(shape, dtype=dtype or backend.floatx()))


def empty_like(x, dtype=None):
    return Tensor(np.zeros_like(_v(x), dtype=dtype))


def logspace(start, stop, num=50, endpoint=True, base=10, dtype=None, axis=0):
    """``base ** linspace(start, stop, num)``."""
    return Tensor(np.logspace(_v(start), _v(stop), num, endpoint=endpoint, base=_v(base),
                              axis=axis).astype(dtype or backend.floatx()))


def geomspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    """``num`` numbers from ``start`` to ``stop`` spaced evenly on a log scale."""
    return Tensor(np.geomspace(_v(start), _v(stop), num, endpoint=endpoint,
                               axis=axis).astype(dtype or backend.floatx()))


def size(x) -> int:
    """The number of elements of ``x``."""
    return int(np.size(_v(x)))


def ndim(x) -> int:
    """The rank of ``x``."""
    return int(np.ndim(_v(x)))


def dtype(x) -> str:
    """The name of ``x``'s dtype (``"float32"``), as Keras's ``ops.dtype``; Python numbers
    and lists are named as ``convert_to_tensor`` would make them (floatx, int32)."""
    if not isinstance(x, (Tensor, np.ndarray, np.generic)) and not _tracked(x):
        x = convert_to_tensor(x)
    return np.asarray(_v(x)).dtype.name


# ---------------------------------------------------------------------- products
def outer(x1, x2):
    """The outer product of ``x1`` and ``x2`` flattened: ``out[i, j] = x1[i] x2[j]``."""
    return knp.multiply(knp.reshape(x1, (-1, 1)), knp.reshape(x2, (1, -1)))


def inner(x1, x2):
    """The sum over the last axes: ``out[i..., j...] = sum_k x1[i..., k] x2[j..., k]``."""
    a, b = _array(x1), _array(x2)
    if a.ndim == 0 or b.ndim == 0:
        return knp.multiply(x1, x2)
    if a.shape[-1] != b.shape[-1]:
        raise ValueError(f"inner needs the last axes to match. Received shapes {a.shape} "
                         f"and {b.shape}")
    # a matrix product of the operands flattened to (rows, k) and (k, columns)
    flat = knp.matmul(knp.reshape(x1, (-1, a.shape[-1])),
                      knp.transpose(knp.reshape(x2, (-1, b.shape[-1]))))
    return knp.reshape(flat, a.shape[:-1] + b.shape[:-1])


def kron(x1, x2):
    """The Kronecker product: blocks ``x1[i, j] * x2`` (ranks padded with leading 1s)."""
    a, b = _array(x1), _array(x2)
    n = builtins.max(a.ndim, b.ndim)
    sa = (1,) * (n - a.ndim) + a.shape
    sb = (1,) * (n - b.ndim) + b.shape
    # x1 on the even axes, x2 on the odd: their product, merged pairwise
    left = knp.reshape(x1, tuple(d for s in sa for d in (s, 1)))
    right = knp.reshape(x2, tuple(d for s in sb for d in (1, s)))
    return knp.reshape(knp.multiply(left, right), tuple(p * q for p, q in zip(sa, sb)))


def vdot(x1, x2):
    """The dot product of ``x1`` and ``x2`` flattened."""
    # (a sum of products: ops.matmul's gradient of two vectors fails on its 0-d result)
    product = knp.multiply(knp.reshape(x1, (-1,)), knp.reshape(x2, (-1,)))
    return _keep_int(knp.sum(product), product.dtype)


def cross(x1, x2, axisa=-1, axisb=-1, axisc=-1, axis=None):
    """The cross product of 2- or 3-vectors along ``axisa`` / ``axisb`` (``axis`` sets
    all three), broadcast over the other axes; two 2-vectors give the z component."""
    if axis is not None:
        axisa = axisb = axisc = axis
    a, b = moveaxis(x1, axisa, -1), moveaxis(x2, axisb, -1)
    na, nb = a.shape[-1], b.shape[-1]
    if na not in (2, 3) or nb not in (2, 3):
        raise ValueError(f"cross needs vectors of 2 or 3 components. Received {na} and {nb}")
    # components; None for a 2-vector's z (a zero)
    ua = [a[..., i] for i in range(na)] + [None] * (3 - na)
    ub = [b[..., i] for i in range(nb)] + [None] * (3 - nb)

    def product(p, q):
        return None if p is None or q is None else knp.multiply(p, q)

    def term(i, j):
        # ua[i] ub[j] - ua[j] ub[i]
        left, right = product(ua[i], ub[j]), product(ua[j], ub[i])
        if left is None:
            return knp.negative(right)
        return left if right is None else knp.subtract(left, right)

    z = term(0, 1)
    if na == 2 and nb == 2:
        return z
    return moveaxis(knp.stack([term(1, 2), term(2, 0), z], axis=-1), -1, axisc)


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of the vector ``x``: columns ``x ** (N - 1)`` ... ``x ** 0``
    (the other way with ``increasing``), built by repeated products (differentiable,
    also at 0)."""
    a = _array(x)
    if a.ndim != 1:
        raise ValueError(f"vander takes a 1-D tensor. Received shape {a.shape}")
    n = a.shape[0] if N is None else int(N)
    columns = [Tensor(np.ones_like(a))] if n else []
    for _ in range(1, n):
        columns.append(knp.multiply(columns[-1], x))
    if not columns:
        return Tensor(np.zeros((a.shape[0], 0), a.dtype))
    return knp.stack(columns if increasing else columns[::-1], axis=1)


def _float(x):
    """Ints and bools as floatx (Keras's float results of int operands)."""
    return cast(x, backend.floatx()) if _array(x).dtype.kind in "biu" else x


def correlate(x1, x2, mode="valid"):
    """The cross-correlation of two vectors: ``out[k] = sum_n x1[n + k] x2[n]`` over the
    shifts ``k`` of ``mode`` ("valid", "same" or "full", as NumPy).

    Written as a matrix product of the windows of ``x1`` (zero padded; a getitem) with
    ``x2``, so both get gradients.
    """
    if mode not in ("valid", "same", "full"):
        raise ValueError(f"mode must be 'valid', 'same' or 'full'. Received: {mode!r}")
    x1, x2 = _float(x1), _float(x2)
    m, n = np.size(_v(x1)), np.size(_v(x2))
    if np.ndim(_v(x1)) != 1 or np.ndim(_v(x2)) != 1 or not m or not n:
        raise ValueError(f"correlate takes two non-empty vectors. Received shapes "
                         f"{np.shape(_v(x1))} and {np.shape(_v(x2))}")
    # the full correlation: shifts k = -(n - 1) ... m - 1 of x1 padded by n - 1 zeros
    padded = pad(x1, (n - 1, n - 1))
    windows = np.arange(m + n - 1)[:, None] + np.arange(n)[None, :]
    full = knp.matmul(knp.getitem(padded, windows), x2)
    short, long = builtins.min(m, n), builtins.max(m, n)
    if mode == "full":
        return full
    if mode == "valid":
        start, length = short - 1, long - short + 1
    else:
        start, length = ((n - 1) // 2 if m >= n else m - 1 - (m - 1) // 2), long
    return knp.getitem(full, builtins.slice(start, start + length))
