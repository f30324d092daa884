"""TensorFlow's everyday functions, with TensorFlow's argument names, defaults and result
dtypes, each over :mod:`tinyann.ops` (so differentiable on tinyann's GradientTape).

Served by :mod:`tinyann.runner.shims.tensorflow` as ``tf.*``, ``tf.math.*``, ``tf.nn.*``,
``tf.linalg.*`` and ``tf.random.*``. Index arithmetic (which elements to take) is done
in NumPy on integer arrays; every value goes through an op.
"""

from __future__ import annotations

import builtins
import sys
from collections import namedtuple

import numpy as np

from tinyann import backend as _backend
from tinyann import ops as _ops
from tinyann.autodiff import Tensor
from tinyann.runner.shims._tensor import EagerTensor
from tinyann.variables import Variable as _Variable

Unique = namedtuple("Unique", ["y", "idx"])
TopKV2 = namedtuple("TopKV2", ["values", "indices"])


def _np(x) -> np.ndarray:
    """The value of ``x`` as an ndarray (for indices, shapes and masks only)."""
    return np.asarray(_ops.convert_to_numpy(x) if isinstance(x, (Tensor, _Variable)) else x)


def tensor(x):
    """A Python list or tuple as TensorFlow converts it (floats float32, ints int32);
    anything else as it is."""
    return _ops.convert_to_tensor(x) if isinstance(x, (list, tuple)) else x


def tensors(*args):
    """``args`` as TensorFlow converts them: lists always; Python numbers too when no
    argument is an array (next to one, a number takes the array's dtype)."""
    arrays = (Tensor, _Variable, np.ndarray, np.generic)
    if builtins.any(isinstance(a, arrays) for a in args):
        return [tensor(a) for a in args]
    return [_ops.convert_to_tensor(a) for a in args]


def _int32(value) -> Tensor:
    return Tensor(np.asarray(value, dtype=np.int32))


def _axes(axis):
    return tuple(axis) if isinstance(axis, (list, tuple)) else axis


def _dtype_of_python(value, dtype):
    """TensorFlow's dtype for a Python value: ints int32, floats float32."""
    if dtype is not None:
        return getattr(dtype, "name", dtype)
    kind = np.asarray(value).dtype.kind
    return {"i": "int32", "f": "float32", "b": "bool"}.get(kind, np.asarray(value).dtype.name)


# ---------------------------------------------------------------------- dtypes
class DType(str):
    """``tf.float32`` & co.: the dtype's name (so NumPy and tinyann take it, and
    ``x.dtype == tf.float32`` holds) with TensorFlow's ``DType`` properties."""

    @property
    def name(self):
        return str(self)

    @property
    def as_numpy_dtype(self):
        return np.dtype(str(self)).type

    @property
    def is_floating(self):
        return np.dtype(str(self)).kind == "f"

    @property
    def is_integer(self):
        return np.dtype(str(self)).kind in "iu"

    @property
    def is_bool(self):
        return str(self) == "bool"

    @property
    def size(self):
        return np.dtype(str(self)).itemsize

    @property
    def min(self):
        d = np.dtype(str(self))
        return np.finfo(d).min if d.kind == "f" else np.iinfo(d).min

    @property
    def max(self):
        d = np.dtype(str(self))
        return np.finfo(d).max if d.kind == "f" else np.iinfo(d).max

    def __repr__(self):
        return f"tf.{self}"


def as_dtype(type_value):
    """``tf.as_dtype``: a DType from a name, NumPy dtype or DType."""
    return DType(np.dtype(getattr(type_value, "name", type_value)).name)


# ---------------------------------------------------------------------- creation
def zeros(shape, dtype="float32", name=None):
    return _ops.zeros(_shape(shape), dtype=dtype)


def ones(shape, dtype="float32", name=None):
    return _ops.ones(_shape(shape), dtype=dtype)


def _shape(shape):
    return tuple(int(s) for s in np.atleast_1d(_np(shape))) if not isinstance(
        shape, int) else (shape,)


def fill(dims, value, name=None):
    return _ops.full(_shape(dims), value, dtype=_dtype_of_python(value, None))


def eye(num_rows, num_columns=None, batch_shape=None, dtype="float32", name=None):
    matrix = _ops.eye(num_rows, num_columns, dtype=dtype)
    if batch_shape is not None:
        matrix = _ops.broadcast_to(matrix, (*_shape(batch_shape), *matrix.shape))
    return matrix


def range(start, limit=None, delta=1, dtype=None, name="range"):  # noqa: A001
    """``tf.range``: int32 for int arguments, float32 when any is a float, or ``dtype``."""
    if limit is None:
        start, limit = 0, start
    if dtype is None:
        kinds = {np.asarray(_np(v)).dtype.kind for v in (start, limit, delta)}
        dtype = "float32" if "f" in kinds else "int32"
    return _ops.arange(start, limit, delta, dtype=getattr(dtype, "name", dtype))


def linspace(start, stop, num, name=None, axis=0):
    dtype = _dtype_of_python(start, None) if not isinstance(start, (Tensor, np.ndarray)) \
        else _ops.dtype(start)
    out = _ops.linspace(start, stop, int(num), dtype="float64" if dtype == "int32" else dtype)
    return _ops.moveaxis(out, 0, axis) if axis else out


def rank(input, name=None):  # noqa: A002 - TensorFlow's argument names throughout
    return _int32(np.ndim(input))


def size(input, out_type="int32", name=None):  # noqa: A002
    return Tensor(np.asarray(_ops.size(input), dtype=out_type))


def shape(input, out_type="int32", name=None):  # noqa: A002
    """``tf.shape``: the shape as an int32 tensor (``tf.shape(x)[0]`` is a scalar tensor)."""
    return Tensor(np.asarray(_ops.shape(input), dtype=out_type))


def identity(input, name=None):  # noqa: A002
    return _ops.copy(input)


def is_tensor(x):
    """Tensors, Variables and what ``tf.data`` yields; not plain NumPy arrays."""
    return isinstance(x, (Tensor, _Variable, EagerTensor))


def executing_eagerly():
    return True


# ---------------------------------------------------------------------- reductions
def _reduction(op):
    def reduce(input_tensor, axis=None, keepdims=False, name=None):
        x = _ops.convert_to_tensor(input_tensor)
        out = op(x, axis=_axes(axis), keepdims=builtins.bool(keepdims))
        # TensorFlow keeps an integer sum's dtype (NumPy widens int32 to int64)
        return _ops.cast(out, x.dtype) if op in (_ops.sum, _ops.prod) else out
    reduce.__name__ = "reduce_" + op.__name__
    return reduce


reduce_sum, reduce_mean = _reduction(_ops.sum), _reduction(_ops.mean)
reduce_max, reduce_min = _reduction(_ops.max), _reduction(_ops.min)
reduce_prod, reduce_logsumexp = _reduction(_ops.prod), _reduction(_ops.logsumexp)
reduce_all, reduce_any = _reduction(_ops.all), _reduction(_ops.any)
reduce_std, reduce_variance = _reduction(_ops.std), _reduction(_ops.var)


def reduce_euclidean_norm(input_tensor, axis=None, keepdims=False, name=None):
    return _ops.sqrt(reduce_sum(_ops.square(input_tensor), axis, keepdims))


def _argreduce(op):
    def arg(input, axis=None, output_type="int64", name=None):  # noqa: A002
        return _ops.cast(op(tensor(input), axis=0 if axis is None else axis), output_type)
    return arg


argmax, argmin = _argreduce(_ops.argmax), _argreduce(_ops.argmin)


def count_nonzero(input, axis=None, keepdims=None, dtype="int64", name=None):  # noqa: A002
    out = _ops.count_nonzero(input, axis=_axes(axis))
    if keepdims:
        out = _ops.reshape(out, np.sum(_np(input) != 0, axis=_axes(axis), keepdims=True).shape)
    return _ops.cast(out, dtype)


def add_n(inputs, name=None):
    total = inputs[0]
    for x in inputs[1:]:
        total = _ops.add(total, x)
    return total


def cumsum(x, axis=0, exclusive=False, reverse=False, name=None):
    return _cumulative(_ops.cumsum, _ops.subtract, x, axis, exclusive, reverse)


def cumprod(x, axis=0, exclusive=False, reverse=False, name=None):
    return _cumulative(_ops.cumprod, _ops.divide, x, axis, exclusive, reverse)


def _cumulative(op, undo, x, axis, exclusive, reverse):
    x = _ops.convert_to_tensor(x)
    if reverse:
        x = _ops.flip(x, axis=axis)
    if exclusive:  # shift by one along axis: the running total before each element
        n = x.shape[axis]
        head = _ops.take(x, np.arange(n - 1), axis=axis)
        widths = [(0, 0)] * x.ndim
        widths[axis] = (1, 0)
        out = op(_ops.pad(head, widths, constant_values=1 if op is _ops.cumprod else 0), axis)
    else:
        out = op(x, axis)
    return _ops.flip(out, axis=axis) if reverse else out


# ---------------------------------------------------------------------- elementwise
def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    return _ops.clip(t, clip_value_min, clip_value_max)


def clip_by_norm(t, clip_norm, axes=None, name=None):
    """``t`` scaled so that its L2 norm over ``axes`` is at most ``clip_norm``."""
    norm_ = _ops.sqrt(_ops.sum(_ops.square(t), axis=_axes(axes), keepdims=True))
    return _ops.divide(_ops.multiply(t, clip_norm), _ops.maximum(norm_, clip_norm))


def squared_difference(x, y, name=None):
    return _ops.square(_ops.subtract(x, y))


def truediv(x, y, name=None):
    return _ops.true_divide(x, y)


def log_sigmoid(x, name=None):
    return _ops.negative(_ops.softplus(_ops.negative(x)))


def l2_normalize(x, axis=None, epsilon=1e-12, name=None, dim=None):
    axis = dim if dim is not None else axis
    square_sum = _ops.sum(_ops.square(x), axis=_axes(axis), keepdims=True)
    return _ops.multiply(x, _ops.rsqrt(_ops.maximum(square_sum, epsilon)))


def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None):  # noqa: A002
    """``tf.norm``: ``'euclidean'`` (all entries when ``axis`` is None), ``'fro'``, 1, 2,
    ``np.inf``... over ``axis`` (an int: vector norm; a pair: matrix norm)."""
    ord_ = None if ord in ("euclidean", "fro") else ord
    if axis is None:
        tensor, axis = _ops.reshape(tensor, (-1,)), None
        if keepdims:
            raise NotImplementedError("tf.norm(axis=None, keepdims=True) is not served")
    return _ops.norm(tensor, ord=ord_, axis=_axes(axis), keepdims=builtins.bool(keepdims))


def where(condition, x=None, y=None, name=None):
    """``tf.where``: with ``x`` and ``y``, elementwise choice; alone, the int64
    coordinates of the true entries (shape ``(n, rank)``)."""
    if x is None and y is None:
        return Tensor(np.argwhere(_np(condition)).astype(np.int64))
    return _ops.where(condition, x, y)


def sort(values, axis=-1, direction="ASCENDING", name=None):
    out = _ops.sort(values, axis=axis)
    return _ops.flip(out, axis=axis) if direction == "DESCENDING" else out


def argsort(values, axis=-1, direction="ASCENDING", stable=False, name=None):
    x = _np(values)
    # a stable sort; descending keeps equal values in index order, as TensorFlow
    order = np.argsort(-x if direction == "DESCENDING" else x, axis=axis, kind="stable")
    return _int32(order)


def top_k(input, k=1, sorted=True, index_type="int32", name=None):  # noqa: A002
    result = _ops.top_k(input, k, sorted=sorted)
    return TopKV2(result.values, _ops.cast(result.indices, index_type))


def in_top_k(targets, predictions, k, name=None):
    return _ops.in_top_k(targets, predictions, k)


def unique(x, out_idx="int32", name=None):
    """``tf.unique``: the values in order of first appearance, and each entry's index."""
    values, first, inverse = _ops.unique(_ops.convert_to_tensor(x), return_index=True,
                                         return_inverse=True)
    order = np.argsort(_np(first), kind="stable")
    position = np.empty_like(order)
    position[order] = np.arange(len(order))
    return Unique(_ops.take(values, order, axis=0),
                  Tensor(position[_np(inverse).reshape(-1)].astype(out_idx)))


def searchsorted(sorted_sequence, values, side="left", out_type="int32", name=None):
    """Per row of the innermost dimension, as TensorFlow."""
    seq, vals = _np(sorted_sequence), _np(values)
    if seq.ndim == 1:
        return _ops.cast(_ops.searchsorted(seq, vals, side=side), out_type)
    rows = [np.asarray(_ops.searchsorted(s, v, side=side)) for s, v in
            zip(seq.reshape(-1, seq.shape[-1]), vals.reshape(-1, vals.shape[-1]))]
    return Tensor(np.stack(rows).reshape(vals.shape).astype(out_type))


def bincount(arr, weights=None, minlength=None, maxlength=None, dtype="int32", name=None,
             axis=None, binary_output=False):
    values = _np(arr).reshape(-1)
    length = builtins.max(int(values.max()) + 1 if values.size else 0, minlength or 0)
    if maxlength is not None:
        keep = values < maxlength
        values, length = values[keep], builtins.min(length, maxlength)
        weights = None if weights is None else _ops.take(
            _ops.reshape(weights, (-1,)), np.flatnonzero(keep))
    elif weights is not None:
        weights = _ops.reshape(weights, (-1,))
    if binary_output:
        return Tensor((np.bincount(values, minlength=length) > 0).astype(dtype))
    out = _ops.bincount(values, weights=weights, minlength=length)
    return out if weights is not None else _ops.cast(out, dtype)


def segment_sum(data, segment_ids, name=None):
    return _ops.segment_sum(data, segment_ids, sorted=True)


def unsorted_segment_sum(data, segment_ids, num_segments, name=None):
    return _ops.segment_sum(data, segment_ids, num_segments=int(num_segments))


def confusion_matrix(labels, predictions, num_classes=None, weights=None, dtype="int32",
                     name=None):
    """Rows are labels, columns predictions, as TensorFlow."""
    labels, predictions = _np(labels).reshape(-1), _np(predictions).reshape(-1)
    n = int(num_classes) if num_classes is not None else int(
        builtins.max(labels.max(), predictions.max()) + 1)
    flat = labels.astype(np.int64) * n + predictions.astype(np.int64)
    counts = _ops.bincount(flat, weights=None if weights is None else _ops.reshape(
        weights, (-1,)), minlength=n * n)
    return _ops.cast(_ops.reshape(counts, (n, n)), getattr(dtype, "name", dtype))


# ---------------------------------------------------------------------- shapes, gathering
def broadcast_to(input, shape, name=None):  # noqa: A002
    return _ops.broadcast_to(input, _shape(shape))


def squeeze(input, axis=None, name=None):  # noqa: A002
    return _ops.squeeze(input, axis=_axes(axis))


def stack(values, axis=0, name="stack"):
    return _ops.stack(values, axis=axis)


def unstack(value, num=None, axis=0, name="unstack"):
    return _ops.unstack(value, num=num, axis=axis)


def split(value, num_or_size_splits, axis=0, num=None, name="split"):
    """An int: that many equal parts; a list: parts of those sizes (one may be -1)."""
    if np.ndim(_np(num_or_size_splits)) == 0:
        return _ops.split(value, int(_np(num_or_size_splits)), axis=axis)
    sizes = [int(s) for s in _np(num_or_size_splits)]
    if -1 in sizes:
        sizes[sizes.index(-1)] = _ops.shape(value)[axis] - (builtins.sum(sizes) + 1)
    return _ops.split(value, list(np.cumsum(sizes)[:-1]), axis=axis)


def tile(input, multiples, name=None):  # noqa: A002
    return _ops.tile(input, [int(m) for m in _np(multiples)])


def repeat(input, repeats, axis=None, name=None):  # noqa: A002
    return _ops.repeat(input, repeats, axis=axis)


def reverse(tensor, axis, name=None):
    return _ops.flip(tensor, axis=_axes(axis))


def roll(input, shift, axis, name=None):  # noqa: A002
    shifts, axes = np.atleast_1d(_np(shift)), np.atleast_1d(_np(axis))
    for s, a in zip(shifts, axes):
        input = _ops.roll(input, int(s), axis=int(a))
    return input


def pad(tensor, paddings, mode="CONSTANT", constant_values=0, name=None):
    widths = [tuple(int(w) for w in pair) for pair in _np(paddings)]
    mode = mode.lower()
    if mode == "constant":
        return _ops.pad(tensor, widths, mode=mode, constant_values=constant_values)
    return _ops.pad(tensor, widths, mode=mode)


def gather(params, indices, validate_indices=None, axis=None, batch_dims=0, name=None):
    axis = batch_dims if axis is None else axis
    if batch_dims == 0:
        return _ops.take(params, indices, axis=axis)
    parts = [gather(p, i, axis=axis - 1, batch_dims=batch_dims - 1)
             for p, i in zip(_ops.unstack(params), _np(indices))]
    return _ops.stack(parts)


def gather_nd(params, indices, batch_dims=0, name=None):
    """``params[indices[..., 0], indices[..., 1], ...]``, over the leading dimensions."""
    if batch_dims:
        return _ops.stack([gather_nd(p, i, batch_dims - 1)
                           for p, i in zip(_ops.unstack(params), _np(indices))])
    index = _np(indices).astype(np.int64)
    lead = _ops.shape(params)[:index.shape[-1]]
    flat = np.ravel_multi_index(tuple(np.moveaxis(index, -1, 0)), lead)
    rest = _ops.shape(params)[index.shape[-1]:]
    return _ops.take(_ops.reshape(params, (-1, *rest)), flat, axis=0)


def boolean_mask(tensor, mask, axis=None, name="boolean_mask"):
    """The entries (along ``axis``...) where ``mask`` is true, flattened into one axis."""
    mask = _np(mask).astype(builtins.bool)
    axis = 0 if axis is None else axis
    full = _ops.shape(tensor)
    merged = (*full[:axis], -1, *full[axis + mask.ndim:])
    return _ops.take(_ops.reshape(tensor, merged), np.flatnonzero(mask), axis=axis)


def tensordot(a, b, axes, name=None):
    return _ops.tensordot(a, b, axes=axes)


def einsum(equation, *inputs, **kwargs):
    return _ops.einsum(equation, *inputs)


def meshgrid(*args, **kwargs):
    return _ops.meshgrid(*args, indexing=kwargs.get("indexing", "xy"))


# ---------------------------------------------------------------------- tf.print, py funcs
def print(*inputs, output_stream=None, summarize=3, sep=" ", end="\n", name=None):  # noqa: A001
    """``tf.print``: tensors as TensorFlow prints them (``[1 2 ... 9]``) to stdout."""
    def text(x):
        if isinstance(x, (Tensor, _Variable, np.ndarray)):
            value = _np(x)
            edge = summarize if summarize not in (None, -1) else sys.maxsize
            return np.array2string(value, separator=" ", threshold=0 if value.size > 2 * edge
                                   else sys.maxsize, edgeitems=builtins.min(edge, 1000),
                                   formatter={"float_kind": "{:g}".format, "int": str})
        return str(x)
    stream = output_stream if hasattr(output_stream, "write") else sys.stdout
    stream.write(sep.join(text(x) for x in inputs) + end)


class TensorSpec:
    """``tf.TensorSpec(shape, dtype)``: describes a tensor (for ``input_signature=``)."""

    def __init__(self, shape, dtype="float32", name=None):
        self.shape = None if shape is None else tuple(shape)
        self.dtype, self.name = as_dtype(dtype), name

    def __repr__(self):
        return f"TensorSpec(shape={self.shape}, dtype={self.dtype!r}, name={self.name!r})"


def _results(out, Tout):  # noqa: N803 - TensorFlow's argument name
    if isinstance(Tout, (list, tuple)):
        return [Tensor(np.asarray(_np(o), dtype=getattr(t, "name", t)))
                for o, t in zip(out, Tout)]
    return Tensor(np.asarray(_np(out), dtype=getattr(Tout, "name", Tout)))


def numpy_function(func, inp, Tout, stateful=True, name=None):  # noqa: N803
    """``func`` called on NumPy values; its results as tensors of ``Tout``."""
    return _results(func(*[_np(x) for x in inp]), Tout)


def py_function(func, inp, Tout, name=None):  # noqa: N803
    """``func`` called on tensors (with ``.numpy()``); its results as tensors of ``Tout``."""
    return _results(func(*[_ops.convert_to_tensor(x) for x in inp]), Tout)


# ---------------------------------------------------------------------- tf.nn
def dropout(x, rate, noise_shape=None, seed=None, name=None):
    """Zeroes entries with probability ``rate`` and scales the rest by ``1 / (1 - rate)``."""
    rng = np.random.default_rng(seed) if seed is not None else _backend.rng()
    keep = rng.random(_shape(noise_shape) if noise_shape is not None else _ops.shape(x))
    scale = (keep >= rate).astype(_ops.dtype(x)) / np.asarray(1 - rate, _ops.dtype(x))
    return _ops.multiply(x, scale)


def bias_add(value, bias, data_format=None, name=None):
    if data_format in ("NCHW", "NCW", "NCDHW"):
        bias = _ops.reshape(bias, (-1,) + (1,) * (np.ndim(value) - 2))
    return _ops.add(value, bias)


def _spatial(values, rank_):
    """TensorFlow's strides / ksize (an int, a list per spatial dim, or all dims)."""
    values = [int(v) for v in np.atleast_1d(_np(values))]
    values = values[1:-1] if len(values) == rank_ + 2 else values
    return values[0] if len(values) == 1 else tuple(values)


def _data_format(data_format):
    return "channels_first" if data_format and data_format.startswith("NC") else \
        "channels_last"


def conv2d(input, filters, strides, padding, data_format="NHWC", dilations=None,  # noqa: A002
           name=None):
    return _ops.conv(input, filters, strides=_spatial(strides, 2), padding=padding.lower(),
                     data_format=_data_format(data_format),
                     dilation_rate=1 if dilations is None else _spatial(dilations, 2))


def max_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):  # noqa: A002
    return _ops.max_pool(input, _spatial(ksize, 2), strides=_spatial(strides, 2),
                         padding=padding.lower(), data_format=_data_format(data_format))


def avg_pool2d(input, ksize, strides, padding, data_format="NHWC", name=None):  # noqa: A002
    return _ops.average_pool(input, _spatial(ksize, 2), strides=_spatial(strides, 2),
                             padding=padding.lower(), data_format=_data_format(data_format))


def embedding_lookup(params, ids, max_norm=None, name=None):
    return _ops.take(params, ids, axis=0)


def selu(features, name=None):
    alpha, scale = 1.6732632423543772, 1.0507009873554805
    return _ops.multiply(scale, _ops.elu(features, alpha=alpha))


def softsign(features, name=None):
    return _ops.divide(features, _ops.add(1.0, _ops.abs(features)))


def weighted_cross_entropy_with_logits(labels, logits, pos_weight, name=None):
    """``labels * -log(sigmoid(logits)) * pos_weight + (1 - labels) * -log(1 -
    sigmoid(logits))``, computed stably."""
    labels, logits = tensor(labels), tensor(logits)
    pos_weight = _ops.convert_to_tensor(pos_weight, dtype=_ops.dtype(logits))
    log_weight = _ops.add(1.0, _ops.multiply(_ops.subtract(pos_weight, 1.0), labels))
    return _ops.add(_ops.multiply(_ops.subtract(1.0, labels), logits),
                    _ops.multiply(log_weight, _ops.negative(log_sigmoid(logits))))


# ---------------------------------------------------------------------- tf.linalg
def linalg_diag(diagonal, name="diag", **kwargs):
    """A (batch of) square matrix with ``diagonal`` (its last dimension) on its diagonal."""
    n = _ops.shape(diagonal)[-1]
    return _ops.multiply(_ops.expand_dims(diagonal, -1), np.eye(n, dtype=_ops.dtype(diagonal)))


def diag_part(input, name="diag_part", **kwargs):  # noqa: A002
    return _ops.diagonal(input, axis1=-2, axis2=-1)


def trace(x, name=None):
    return _ops.trace(x, axis1=-2, axis2=-1)


def band_part(input, num_lower, num_upper, name=None):  # noqa: A002
    """Keeps ``num_lower`` sub- and ``num_upper`` super-diagonals (-1: all of them)."""
    m, n = _ops.shape(input)[-2:]
    rows, cols = np.arange(m)[:, None], np.arange(n)[None, :]
    keep = ((num_lower < 0) | (rows - cols <= num_lower)) & (
        (num_upper < 0) | (cols - rows <= num_upper))
    return _ops.multiply(input, keep.astype(_ops.dtype(input)))


def matrix_transpose(a, name="matrix_transpose", conjugate=False):
    return _ops.swapaxes(a, -1, -2)


def matvec(a, b, transpose_a=False, name=None):
    a = _ops.swapaxes(a, -1, -2) if transpose_a else a
    return _ops.squeeze(_ops.matmul(a, _ops.expand_dims(b, -1)), axis=-1)


def svd(tensor, full_matrices=False, compute_uv=True, name=None):
    """``s, u, v`` (``v``, not its transpose), as TensorFlow."""
    if not compute_uv:
        return _ops.svd(tensor, full_matrices=full_matrices, compute_uv=False)
    u, s, vh = _ops.svd(tensor, full_matrices=full_matrices)
    return s, u, _ops.swapaxes(vh, -1, -2)


def qr(input, full_matrices=False, name=None):  # noqa: A002
    return _ops.qr(input, mode="complete" if full_matrices else "reduced")


def eigh(tensor, name=None):
    return _ops.eigh(tensor)


def slogdet(input, name=None):  # noqa: A002
    return _ops.slogdet(input)


# ---------------------------------------------------------------------- tf.random
def _rng(seed):
    return np.random.default_rng(seed) if seed is not None else _backend.rng()


def random_shuffle(value, seed=None, name=None):
    return _ops.take(value, _rng(seed).permutation(_ops.shape(value)[0]), axis=0)


def random_categorical(logits, num_samples, dtype="int64", seed=None, name=None):
    """``num_samples`` class indices per row of ``logits`` (the Gumbel-max trick)."""
    logits = _np(logits).astype(np.float64)
    gumbel = _rng(seed).gumbel(size=(num_samples, *logits.shape))
    return Tensor(np.argmax(logits + gumbel, axis=-1).T.astype(getattr(dtype, "name", dtype)))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype="float32", seed=None, name=None):
    """Normal values, each redrawn until within two standard deviations of the mean."""
    rng = _rng(seed)
    values = rng.standard_normal(_shape(shape))
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2
    return Tensor((values * stddev + mean).astype(getattr(dtype, "name", dtype)))


# ---------------------------------------------------------------------- TensorFlow's names
def stop_gradient(input, name=None):  # noqa: A002
    return _ops.stop_gradient(input)


def zeros_like(input, dtype=None, name=None, layout=None):  # noqa: A002
    return _ops.zeros_like(tensor(input), dtype=dtype)


def ones_like(input, dtype=None, name=None, layout=None):  # noqa: A002
    return _ops.ones_like(tensor(input), dtype=dtype)


def atan2(y, x, name=None):
    return _ops.arctan2(*tensors(y, x))


def relu(features, name=None):
    return _ops.relu(tensor(features))


def relu6(features, name=None):
    return _ops.relu6(tensor(features))


def softplus(features, name=None):
    return _ops.softplus(tensor(features))


def elu(features, name=None):
    return _ops.elu(tensor(features))


def gelu(features, approximate=False, name=None):
    """TensorFlow's default is the exact (erf) form; Keras's ``ops.gelu`` the tanh one."""
    return _ops.gelu(tensor(features), approximate=approximate)


def silu(features, beta=1.0):
    features = tensor(features)
    if beta == 1.0:
        return _ops.silu(features)
    return _ops.multiply(features, _ops.sigmoid(_ops.multiply(beta, features)))


def leaky_relu(features, alpha=0.2, name=None):
    return _ops.leaky_relu(tensor(features), negative_slope=alpha)


def batch_normalization(x, mean, variance, offset, scale, variance_epsilon, name=None):
    """``(x - mean) / sqrt(variance + epsilon) * scale + offset`` (None: no scale / offset)."""
    x = tensor(x)
    mean, variance, offset, scale, variance_epsilon = (
        None if v is None else _ops.convert_to_tensor(v, dtype=_ops.dtype(x))
        for v in (mean, variance, offset, scale, variance_epsilon))
    inv = _ops.rsqrt(_ops.add(variance, variance_epsilon))
    inv = inv if scale is None else _ops.multiply(inv, scale)
    out = _ops.multiply(_ops.subtract(x, mean), inv)
    return out if offset is None else _ops.add(out, offset)


def compute_average_loss(per_example_loss, sample_weight=None, global_batch_size=None):
    """The per-example losses (times ``sample_weight``) summed over the global batch size."""
    loss = tensor(per_example_loss)
    if sample_weight is not None:
        loss = _ops.multiply(loss, sample_weight)
    size = global_batch_size if global_batch_size is not None else _ops.shape(loss)[0]
    return _ops.divide(_ops.sum(loss), np.asarray(size, _ops.dtype(loss)))


def scale_regularization_loss(regularization_loss):
    """One replica: the sum of the regularisation losses."""
    return add_n(regularization_loss) if isinstance(regularization_loss, (list, tuple)) \
        else regularization_loss


def inv(input, adjoint=False, name=None):  # noqa: A002
    out = _ops.inv(input)
    return _ops.swapaxes(out, -1, -2) if adjoint else out


def pinv(a, rcond=None, validate_args=False, name=None):
    return _ops.pinv(a, rcond=rcond)


# ---------------------------------------------------------------------- devices, tape options
class device:  # noqa: N801 - TensorFlow's name
    """``with tf.device('CPU:0'):``: a no-op context, tinyann computes on the CPU."""

    def __init__(self, device_name):
        self.device_name = device_name

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class UnconnectedGradients:
    """``tape.gradient(..., unconnected_gradients=tf.UnconnectedGradients.ZERO)``."""

    NONE, ZERO = "none", "zero"
