"""Keras's sorting, searching, counting and statistics ops (``keras.ops.sort``,
``top_k``, ``unique``, ``bincount``, ``median``, ``quantile``, ``segment_sum``, the
``nan*`` reductions, ...).

Values picked by an order (``sort``, ``top_k``, a quantile's neighbours) are a getitem
of the operand at the permutation NumPy computed: their gradient is scattered back
through that permutation. Indices, counts and searches are steps: no gradient.
The ``nan*`` reductions replace NaN by the reduction's neutral value with ``where``,
so NaN places get a zero gradient.
"""

from __future__ import annotations

import builtins
from typing import NamedTuple

import numpy as np

from tinyann import backend
from tinyann.autodiff import Tensor, record
from tinyann.ops import numpy as knp
from tinyann.ops.arrays import _array, _axis, _float, _keep_int, moveaxis, take_along_axis
from tinyann.ops.core import cast
from tinyann.ops.core import value_of as _v
from tinyann.ops.numpy import _rec, _scatter_add, _tracked

__all__ = [
    "sort", "argsort", "top_k", "in_top_k", "argpartition", "searchsorted", "nonzero",
    "unique", "count_nonzero", "bincount", "digitize", "isin", "unravel_index", "select",
    "cumprod", "diff", "average", "ptp", "median", "quantile", "percentile", "trapezoid",
    "histogram", "segment_sum", "segment_max", "segment_min", "segment_prod", "nansum",
    "nanmean", "nanmax", "nanmin", "nanprod", "nanvar", "nanstd", "nanmedian",
    "nanquantile", "nanpercentile", "nanargmax", "nanargmin", "nancumsum", "nancumprod",
]


def _int32(a) -> Tensor:
    return Tensor(np.asarray(a, dtype=np.int32))


# ---------------------------------------------------------------------- sorting
def argsort(x, axis=-1):
    """The indices that sort ``x`` along ``axis`` (stable; ``None``: flattened)."""
    return _int32(np.argsort(_v(x), axis=axis, kind="stable"))


def sort(x, axis=-1):
    """``x`` sorted along ``axis`` (``None``: flattened); its gradient goes back through
    the permutation."""
    if axis is None:
        x, axis = knp.reshape(x, (-1,)), -1
    a = _array(x)
    if a.ndim == 0:
        return knp.reshape(x, ())
    return take_along_axis(x, np.argsort(a, axis=axis, kind="stable"), axis=axis)


def _descending(a, axis=-1):
    """Stable descending order (ties keep the lower index first, as TensorFlow)."""
    a = a.astype(np.int64) if a.dtype.kind in "bu" else a
    return np.argsort(-a, axis=axis, kind="stable")


class TopK(NamedTuple):
    """``top_k``'s result, named as TensorFlow's (``result.values``, ``result.indices``)."""
    values: Tensor
    indices: Tensor


def top_k(x, k, sorted=True):
    """The ``k`` largest values along the last axis and their indices (int32), largest
    first (ties: the lower index first); the values' gradient goes back to the places
    they came from."""
    a = _array(x)
    if a.ndim == 0 or not 0 <= k <= a.shape[-1]:
        raise ValueError(f"k must be in [0, {a.shape[-1] if a.ndim else 0}], the size "
                         f"of the last axis. Received: k={k}")
    idx = _descending(a)[..., :k]
    return TopK(take_along_axis(x, idx, axis=-1), _int32(idx))


def in_top_k(targets, predictions, k):
    """Whether each row's target class is among the ``k`` largest predictions (a value
    tied with the k-th largest counts as in)."""
    p = _array(predictions)
    t = np.asarray(_v(targets)).astype(np.int64)
    if p.ndim != 2 or t.shape != p.shape[:1]:
        raise ValueError(f"in_top_k takes predictions of shape (batch, classes) and "
                         f"targets of shape (batch,). Received: {p.shape} and {t.shape}")
    picked = p[np.arange(len(t)), t]
    bigger = (p > picked[:, None]).sum(axis=1)
    return Tensor((bigger < k) & np.isfinite(picked))


def argpartition(x, kth, axis=-1):
    """Indices that put the ``kth`` element in its sorted place along ``axis``."""
    return _int32(np.argpartition(_v(x), kth, axis=axis))


def searchsorted(sorted_sequence, values, side="left"):
    """Where ``values`` would be inserted in the 1-D ``sorted_sequence`` to keep it
    sorted (int32)."""
    seq = _array(sorted_sequence)
    if seq.ndim != 1:
        raise ValueError(f"searchsorted takes a 1-D sorted_sequence. Received shape "
                         f"{seq.shape}")
    if side not in ("left", "right"):
        raise ValueError(f"side must be 'left' or 'right'. Received: {side!r}")
    return _int32(np.searchsorted(seq, _v(values), side=side))


def nonzero(x):
    """The indices of the nonzero elements, one int32 tensor per axis."""
    return tuple(_int32(i) for i in np.nonzero(_v(x)))


def unique(x, sorted=True, return_index=False, return_inverse=False,
           return_counts=False, axis=None, size=None, fill_value=None):
    """The distinct values of ``x`` (sorted; with ``sorted=False``, in order of first
    appearance), and optionally their first indices, the inverse map and the counts
    (int32). ``size`` pads (with ``fill_value``, the smallest value by default) or cuts
    the results to that length."""
    a = _array(x)
    values, first, inverse, counts = np.unique(a, return_index=True, return_inverse=True,
                                               return_counts=True, axis=axis)
    # (the inverse map in the shape of x, as Keras on TensorFlow and JAX)
    inverse = inverse.reshape(a.shape) if axis is None else inverse.reshape(-1)
    if not sorted:
        order = np.argsort(first, kind="stable")
        values = np.take(values, order, axis=0 if axis is None else axis)
        first, counts = first[order], counts[order]
        inverse = np.argsort(order)[inverse]
    if size is not None:
        n = values.shape[0 if axis is None else axis]
        if n < size:
            fill = values.min() if fill_value is None else fill_value
            widths = [(0, 0)] * values.ndim
            widths[0 if axis is None else axis] = (0, size - n)
            values = np.pad(values, widths, constant_values=fill)
            first = np.pad(first, (0, size - n))
            counts = np.pad(counts, (0, size - n))
        else:
            values = np.take(values, np.arange(size), axis=0 if axis is None else axis)
            first, counts = first[:size], counts[:size]
    extra = [r for r, wanted in ((first, return_index), (inverse, return_inverse),
                                 (counts, return_counts)) if wanted]
    if not extra:
        return Tensor(values)
    return (Tensor(values), *(_int32(r) for r in extra))


def count_nonzero(x, axis=None):
    """The number of nonzero elements along ``axis`` (int32)."""
    return _int32(np.count_nonzero(_v(x), axis=axis))


def bincount(x, weights=None, minlength=0, sparse=False):
    """The number of times each value of the non-negative ints ``x`` occurs (int32), or
    the sum of ``weights`` at them; a 2-D ``x`` counts each row.

    Weighted, the result is a scatter-add of ``weights``: its gradient is the output's
    gradient gathered at ``x``.
    """
    if sparse:
        raise NotImplementedError("bincount(sparse=True) is not supported: tinyann has no "
                                  "sparse tensors")
    idx = np.asarray(_v(x))
    if idx.ndim not in (1, 2) or (idx.size and idx.min() < 0) or idx.dtype.kind not in "iu":
        raise ValueError(f"bincount takes non-negative ints of rank 1 or 2. Received: "
                         f"dtype {idx.dtype}, shape {idx.shape}")
    length = builtins.max(int(idx.max()) + 1 if idx.size else 0, int(minlength))
    if idx.ndim == 1:
        key, shape = (idx,), (length,)
    else:
        key = (np.arange(idx.shape[0])[:, None].repeat(idx.shape[1], axis=1), idx)
        shape = (idx.shape[0], length)
    if weights is None:
        counts = np.zeros(shape, dtype=np.int32)
        np.add.at(counts, key, 1)
        return Tensor(counts)
    return _scatter_add(weights, key, shape)


def digitize(x, bins):
    """The index of the bin each value of ``x`` falls in (int32)."""
    return _int32(np.digitize(_v(x), _array(bins)))


def isin(x1, x2, assume_unique=False, invert=False):
    """Whether each element of ``x1`` is in ``x2`` (bool)."""
    return Tensor(np.isin(_v(x1), _v(x2), assume_unique=assume_unique, invert=invert))


def unravel_index(indices, shape):
    """The coordinates in an array of ``shape`` of flat ``indices``, one int32 tensor per
    axis."""
    return tuple(_int32(i) for i in np.unravel_index(np.asarray(_v(indices)), shape))


# ---------------------------------------------------------------------- running and differences
def select(condlist, choicelist, default=0):
    """The first choice whose condition holds, else ``default``: a chain of ``where``
    from the last condition back (each choice gets the gradient where it was chosen)."""
    if len(condlist) != len(choicelist):
        raise ValueError(f"condlist and choicelist must have the same length. Received "
                         f"{len(condlist)} and {len(choicelist)}")
    if not condlist:
        raise ValueError("select needs at least one condition")
    shape = np.broadcast_shapes(*(np.shape(_v(c)) for c in (*condlist, *choicelist)))
    kind = np.result_type(*(_array(c) for c in choicelist))
    out = knp.broadcast_to(_v(default) if not _tracked(default) else default, shape)
    out = cast(out, kind) if out.dtype != kind else out
    for cond, choice in zip(reversed(condlist), reversed(choicelist)):
        out = knp.where(_v(cond), choice, out)
    return out


def cumprod(x, axis=None, dtype=None):
    """The running product along ``axis`` (flattened when None).

    Gradient: ``dL/dx_i = sum_{j>=i} g_j y_j / x_i``, the reversed running sum of
    ``g * y`` over ``x``, written with ops when ``x`` has no zero; with zeros, NumPy
    computes each ``prod_{k<=j, k!=i} x_k`` exactly (first derivatives only).
    """
    if axis is None:
        x, axis = knp.reshape(x, (-1,)), 0
    a = _array(x)
    axis = _axis(axis, a.ndim)
    kind = np.dtype(dtype) if dtype is not None else (
        np.dtype("int32") if a.dtype.kind == "b" else a.dtype)
    out = np.cumprod(a, axis=axis).astype(kind)
    back = (builtins.slice(None),) * axis + (builtins.slice(None, None, -1),)

    def reversed_cumsum(t):
        return knp.getitem(knp.cumsum(knp.getitem(t, back), axis=axis), back)

    if kind.kind != "f" or np.all(a != 0):
        def vjp(g):
            return (knp.divide(reversed_cumsum(knp.multiply(g, y)), x),)
        y = _rec(out, (x,), vjp)
        return y

    def vjp_zeros(g):
        moved, gm = np.moveaxis(a, axis, -1), np.moveaxis(np.asarray(g), axis, -1)
        grad = np.zeros_like(moved)
        for i in range(moved.shape[-1]):
            others = moved.copy()
            others[..., i] = 1
            # y_j without x_i, for j >= i
            running = np.cumprod(others, axis=-1)[..., i:]
            grad[..., i] = (gm[..., i:] * running).sum(axis=-1)
        return (np.moveaxis(grad, -1, axis),)
    return record(out, (x,), vjp_zeros, label="ops.cumprod")


def diff(a, n=1, axis=-1):
    """The ``n``-th difference along ``axis``: ``out[i] = a[i + 1] - a[i]``, repeated."""
    rank = np.ndim(_v(a))
    axis = _axis(axis, rank)
    lead = (builtins.slice(None),) * axis
    for _ in range(n):
        a = knp.subtract(knp.getitem(a, lead + (builtins.slice(1, None),)),
                         knp.getitem(a, lead + (builtins.slice(None, -1),)))
    return a if n else knp.getitem(a, ())


def ptp(x, axis=None, keepdims=False):
    """The range ``max - min`` along ``axis``."""
    return knp.subtract(knp.max(x, axis=axis, keepdims=keepdims),
                        knp.min(x, axis=axis, keepdims=keepdims))


def average(x, axis=None, weights=None):
    """The mean of ``x`` along ``axis`` weighted by ``weights`` (the shape of ``x``, or
    1-D along ``axis``): ``sum(w x) / sum(w)``, differentiable in both."""
    if weights is None:
        return knp.mean(x, axis=axis)
    x, weights = _float(x), _float(weights)
    a, w = _array(x), _array(weights)
    if w.shape != a.shape:
        if axis is None or w.ndim != 1 or w.shape[0] != a.shape[axis]:
            raise ValueError(f"weights must have the shape of x, or be 1-D along axis. "
                             f"Received: x shape {a.shape}, weights shape {w.shape}, "
                             f"axis={axis}")
        place = [1] * a.ndim
        place[_axis(axis, a.ndim)] = w.shape[0]
        weights = knp.reshape(weights, tuple(place))
    total = knp.sum(knp.multiply(x, weights), axis=axis)
    norm = knp.sum(knp.broadcast_to(weights, a.shape), axis=axis)
    return knp.divide(total, norm)


def trapezoid(y, x=None, dx=1.0, axis=-1):
    """The integral of ``y`` along ``axis`` by the trapezoidal rule, at sample points
    ``x`` (spacing ``dx`` without them): ``sum (x[i+1] - x[i]) (y[i+1] + y[i]) / 2``."""
    y = _float(y)
    n = np.ndim(_v(y))
    axis = _axis(axis, n)
    lead = (builtins.slice(None),) * axis
    pairs = knp.add(knp.getitem(y, lead + (builtins.slice(1, None),)),
                    knp.getitem(y, lead + (builtins.slice(None, -1),)))
    if x is None:
        return knp.multiply(knp.sum(pairs, axis=axis), np.asarray(dx / 2, _array(y).dtype))
    x = _float(x)
    if np.ndim(_v(x)) == 1:
        place = [1] * n
        place[axis] = -1
        x, xlead = knp.reshape(x, tuple(place)), lead
    else:
        xlead = (builtins.slice(None),) * _axis(axis - n, np.ndim(_v(x)))
    steps = knp.subtract(knp.getitem(x, xlead + (builtins.slice(1, None),)),
                         knp.getitem(x, xlead + (builtins.slice(None, -1),)))
    return knp.divide(knp.sum(knp.multiply(steps, pairs), axis=axis), 2.0)


def histogram(x, bins=10, range=None):
    """The counts of ``x`` in ``bins`` equal bins over ``range`` (the values' range by
    default) and the bin edges, both floatx (as Keras on TensorFlow and JAX)."""
    a = _array(x)
    if a.ndim != 1:
        raise ValueError(f"histogram takes a 1-D tensor. Received shape {a.shape}")
    if not isinstance(bins, (int, np.integer)) or bins < 1:
        raise ValueError(f"bins must be a positive int. Received: bins={bins}")
    counts, edges = np.histogram(a, bins=bins, range=range)
    return Tensor(counts.astype(backend.floatx())), Tensor(edges.astype(backend.floatx()))


# ---------------------------------------------------------------------- quantiles
_METHODS = ("linear", "lower", "higher", "midpoint", "nearest")


def _quantile(x, q, axis, method, keepdims, skip_nan):
    """The ``q`` quantiles along ``axis``: the sorted values at ``p = q (n - 1)``, linearly
    interpolated between the neighbours ``floor(p)`` and ``ceil(p)`` (``method`` picks
    other weights). Skipping NaN, ``n`` counts each row's other values (NaN sort last).
    A getitem of the neighbours times constant weights: differentiable."""
    if method not in _METHODS:
        raise ValueError(f"Invalid method {method!r}; expected one of {', '.join(_METHODS)}")
    x = _float(x)
    a = _array(x)
    qs = np.asarray(_v(q), dtype=np.float64)
    if np.any((qs < 0) | (qs > 1)):
        raise ValueError(f"Quantiles must be in [0, 1]. Received: {qs}")
    axes = knp._axes(axis, a.ndim)
    kept = [d for d in range(a.ndim) if d not in axes]
    # reduced axes last, merged into one of length n
    rows = moveaxis(x, axes, tuple(range(len(kept), a.ndim)))
    rows = knp.reshape(rows, tuple(a.shape[d] for d in kept) + (-1,))
    r = _array(rows)
    nan = np.isnan(r)
    n = (~nan).sum(axis=-1, keepdims=True) if skip_nan else np.full(r.shape[:-1] + (1,),
                                                                      r.shape[-1])
    p = qs.reshape(-1) * (n - 1)                       # rows' shape + (quantiles,)
    lo, hi = np.floor(p), np.ceil(p)
    w = p - lo
    if method == "lower":
        hi, w = lo, w * 0
    elif method == "higher":
        lo, w = hi, w * 0
    elif method == "nearest":
        lo = hi = np.where(np.around(p) == lo, lo, hi)
        w = w * 0
    elif method == "midpoint":
        w = np.where(hi > lo, 0.5, 0.0)
    order = np.argsort(r, axis=-1, kind="stable")       # NaN last
    at = [np.take_along_axis(order, np.clip(i, 0, None).astype(int), -1) for i in (lo, hi)]
    w = w.astype(r.dtype)
    out = knp.add(knp.multiply(take_along_axis(rows, at[0], -1), 1 - w),
                  knp.multiply(take_along_axis(rows, at[1], -1), w))
    blank = (n == 0) if skip_nan else nan.any(axis=-1, keepdims=True)
    if blank.any():
        # a row with a NaN (all NaN when skipping them): NaN, as NumPy
        out = knp.where(np.broadcast_to(blank, out.shape), np.array(np.nan, r.dtype), out)
    # quantiles first, then the kept axes (size 1 at the reduced ones with keepdims)
    out = moveaxis(out, -1, 0)
    kept_shape = tuple(1 if d in axes else s for d, s in enumerate(a.shape)) if keepdims \
        else tuple(a.shape[d] for d in kept)
    return knp.reshape(out, qs.shape + kept_shape)


def quantile(x, q, axis=None, method="linear", keepdims=False):
    """The ``q``-th quantiles (``q`` in [0, 1], a number or an array: its axes come
    first) of ``x`` along ``axis``; NaN where a value is NaN."""
    return _quantile(x, q, axis, method, keepdims, skip_nan=False)


def percentile(x, q, axis=None, method="linear", keepdims=False):
    """``quantile`` with ``q`` in percent."""
    return quantile(x, _fraction(q), axis, method, keepdims)


def _fraction(q):
    q = np.asarray(_v(q), dtype=np.float64)
    if np.any((q < 0) | (q > 100)):
        raise ValueError(f"Percentiles must be in [0, 100]. Received: {q}")
    return q / 100


def median(x, axis=None, keepdims=False):
    """The median along ``axis`` (the mean of the two middle values for an even count)."""
    return quantile(x, 0.5, axis, keepdims=keepdims)


def nanquantile(x, q, axis=None, method="linear", keepdims=False):
    """``quantile`` ignoring NaN (NaN where a row is all NaN)."""
    return _quantile(x, q, axis, method, keepdims, skip_nan=True)


def nanpercentile(x, q, axis=None, method="linear", keepdims=False):
    return nanquantile(x, _fraction(q), axis, method, keepdims)


def nanmedian(x, axis=None, keepdims=False):
    return nanquantile(x, 0.5, axis, keepdims=keepdims)


# ---------------------------------------------------------------------- segments
def _segments(data, segment_ids, num_segments):
    ids = np.asarray(_v(segment_ids)).astype(np.int64)
    d = _array(data)
    if ids.ndim != 1 or ids.shape[0] != d.shape[0]:
        raise ValueError(f"segment_ids must be 1-D with one id per row of data. Received "
                         f"segment_ids of shape {ids.shape} for data of shape {d.shape}")
    n = int(num_segments) if num_segments is not None else (int(ids.max()) + 1 if ids.size
                                                            else 0)
    # ids outside [0, num_segments) are dropped, as TensorFlow's unsorted segment ops
    keep = (ids >= 0) & (ids < n)
    return d, ids, keep, (n,) + d.shape[1:]


def segment_sum(data, segment_ids, num_segments=None, sorted=False):
    """The sum of the rows of ``data`` with each segment id; the gradient of a row is
    its segment's gradient (a gather)."""
    d, ids, keep, shape = _segments(data, segment_ids, num_segments)
    if not keep.all():
        data, ids = knp.getitem(data, keep), ids[keep]
    return _scatter_add(data, (ids,), shape)


def _segment_extreme(data, segment_ids, num_segments, ufunc, empty):
    d, ids, keep, shape = _segments(data, segment_ids, num_segments)
    if not keep.all():
        data, d, ids = knp.getitem(data, keep), d[keep], ids[keep]
    fill = empty if d.dtype.kind == "f" else (
        np.iinfo(d.dtype).min if ufunc is np.maximum else np.iinfo(d.dtype).max)
    out = np.full(shape, fill, dtype=d.dtype)
    ufunc.at(out, ids, d)
    hit = d == out[ids]
    ties = np.zeros(shape, dtype=d.dtype)
    np.add.at(ties, ids, hit.astype(d.dtype))
    share = (hit / np.where(hit, ties[ids], 1)).astype(d.dtype)
    # the segment's gradient goes to its extreme rows, shared equally among ties
    return _rec(out, (data,), lambda g: (knp.multiply(knp.getitem(g, ids), share),))


def segment_max(data, segment_ids, num_segments=None, sorted=False):
    """The largest row of ``data`` in each segment (-inf for an empty one)."""
    return _segment_extreme(data, segment_ids, num_segments, np.maximum, -np.inf)


def segment_min(data, segment_ids, num_segments=None, sorted=False):
    """The smallest row of ``data`` in each segment (inf for an empty one)."""
    return _segment_extreme(data, segment_ids, num_segments, np.minimum, np.inf)


def segment_prod(data, segment_ids, num_segments=None, sorted=False):
    """The product of the rows of ``data`` in each segment (1 for an empty one).

    Gradient (NumPy, first derivatives only): each row's is the product of the other
    rows of its segment, exact at zeros (from each segment's count of zeros and the
    product of its nonzero rows).
    """
    d, ids, keep, shape = _segments(data, segment_ids, num_segments)
    out = np.ones(shape, dtype=d.dtype)
    np.multiply.at(out, ids[keep], d[keep])

    def vjp(g):
        zero = d == 0
        zeros = np.zeros(shape, dtype=np.int64)
        np.add.at(zeros, ids[keep], zero[keep])
        nonzero_prod = np.ones(shape, dtype=d.dtype)
        np.multiply.at(nonzero_prod, ids[keep], np.where(zero, 1, d)[keep])
        z, pz = zeros[ids[keep]], nonzero_prod[ids[keep]]
        dk = d[keep]
        others = np.where(zero[keep], np.where(z == 1, pz, 0),
                          np.where(z == 0, pz / np.where(dk == 0, 1, dk), 0))
        grad = np.zeros_like(d)
        grad[keep] = others * np.asarray(g)[ids[keep]]
        return (grad,)
    return record(out, (data,), vjp, label="ops.segment_prod")


# ---------------------------------------------------------------------- NaN-ignoring reductions
def _without_nan(x, neutral):
    """``x`` with NaN replaced by ``neutral`` (a where: no gradient at NaN places)."""
    a = _array(x)
    if a.dtype.kind != "f":
        return x, np.zeros(a.shape, dtype=bool)
    nan = np.isnan(a)
    return knp.where(nan, np.array(neutral, a.dtype), x), nan


def nansum(x, axis=None, keepdims=False):
    """``sum`` treating NaN as zero."""
    clean, _ = _without_nan(x, 0)
    return _keep_int(knp.sum(clean, axis=axis, keepdims=keepdims), _array(x).dtype)


def nanmean(x, axis=None, keepdims=False):
    """``mean`` of the values that are not NaN (NaN where there are none)."""
    x = _float(x)
    clean, nan = _without_nan(x, 0)
    count = np.sum(~nan, axis=axis, keepdims=keepdims).astype(_array(x).dtype)
    with np.errstate(invalid="ignore", divide="ignore"):
        return knp.divide(knp.sum(clean, axis=axis, keepdims=keepdims), count)


def _named(op, name, doc):
    op.__name__ = op.__qualname__ = name
    op.__doc__ = doc
    return op


def _nan_extreme(reduce, neutral):
    def op(x, axis=None, keepdims=False):
        clean, nan = _without_nan(x, neutral)
        out = reduce(clean, axis=axis, keepdims=keepdims)
        empty = np.all(nan, axis=axis, keepdims=keepdims) & nan.any()
        return knp.where(empty, np.array(np.nan, out.dtype), out) if np.any(empty) else out
    return op


nanmax = _named(_nan_extreme(knp.max, -np.inf), "nanmax",
                "``max`` ignoring NaN (NaN where all are NaN).")
nanmin = _named(_nan_extreme(knp.min, np.inf), "nanmin",
                "``min`` ignoring NaN (NaN where all are NaN).")


def nanprod(x, axis=None, keepdims=False):
    """``prod`` treating NaN as one."""
    clean, _ = _without_nan(x, 1)
    return _keep_int(knp.prod(clean, axis=axis, keepdims=keepdims), _array(x).dtype)


def nanvar(x, axis=None, keepdims=False):
    """The population variance of the values that are not NaN."""
    x = _float(x)
    m = nanmean(x, axis=axis, keepdims=True)
    clean, _ = _without_nan(knp.subtract(x, m), 0)
    return nanmean(knp.where(np.isnan(_array(x)), np.nan, knp.square(clean)),
                   axis=axis, keepdims=keepdims)


def nanstd(x, axis=None, keepdims=False):
    return knp.sqrt(nanvar(x, axis=axis, keepdims=keepdims))


def _nan_arg(pick, neutral):
    def op(x, axis=None, keepdims=False):
        a = _array(x)
        if a.dtype.kind != "f":
            return _int32(pick(a, axis=axis, keepdims=keepdims))
        nan = np.isnan(a)
        found = pick(np.where(nan, neutral, a), axis=axis, keepdims=keepdims)
        # -1 where every value is NaN (NumPy raises; JAX gives -1)
        return _int32(np.where(np.all(nan, axis=axis, keepdims=keepdims), -1, found))
    return op


nanargmax = _named(_nan_arg(np.argmax, -np.inf), "nanargmax", "``argmax`` ignoring NaN (int32).")
nanargmin = _named(_nan_arg(np.argmin, np.inf), "nanargmin", "``argmin`` ignoring NaN (int32).")


def nancumsum(x, axis=None, dtype=None):
    """``cumsum`` treating NaN as zero."""
    clean, _ = _without_nan(x, 0)
    out = knp.cumsum(clean, axis=axis)
    return cast(out, dtype) if dtype is not None else _keep_int(out, _array(x).dtype)


def nancumprod(x, axis=None, dtype=None):
    """``cumprod`` treating NaN as one."""
    clean, _ = _without_nan(x, 1)
    return cumprod(clean, axis=axis, dtype=dtype)
