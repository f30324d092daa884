"""The part of TensorFlow that Keras scripts use, served as ``tensorflow`` by ``tinyann run``.

Served: ``tf.keras`` (tinyann under Keras's names), ``tf.random.set_seed``,
``tf.keras.utils.set_random_seed``, ``tf.config.experimental.enable_op_determinism()``
(a no-op: tinyann is deterministic), ``tf.config.list_physical_devices``,
``tf.data.Dataset`` for in-memory data (see :mod:`tinyann.runner.shims.data`),
``tf.data.AUTOTUNE``, ``tf.cast``, the dtypes (``tf.float32`` is a ``str`` subclass equal
to ``'float32'``, with ``.name``, ``.is_floating``...; ``tf.dtypes``, ``tf.as_dtype``);
tensors and gradients (``tf.constant``, ``tf.convert_to_tensor``, ``tf.Variable``,
``tf.GradientTape``, ``tf.stop_gradient``, ``tf.function`` run eagerly, ``tf.TensorSpec``,
``tf.numpy_function`` / ``tf.py_function``, ``tf.is_tensor``, ``tf.executing_eagerly``,
``tf.print``), ``tf.newaxis``, ``tf.version.VERSION``, and TensorFlow's everyday math
with its argument names and result dtypes (``tf.argmax`` int64, ``tf.shape`` int32...):
creation (``zeros``, ``fill``, ``eye``, ``range``, ``linspace``), ``reduce_*``,
elementwise math and comparisons, shapes and gathering (``gather``, ``gather_nd``,
``boolean_mask``, ``split``, ``pad``, ``tile``...), sorting (``sort``, ``argsort``,
``unique``, ``searchsorted``), ``tf.math.*`` (``top_k``, ``confusion_matrix``,
``segment_sum``, ``bincount``...), ``tf.nn.*`` (activations, cross-entropies,
``conv2d``, ``max_pool2d``, ``dropout``...), ``tf.linalg.*`` (``inv``, ``det``,
``solve``, ``cholesky``, ``svd``, ``qr``, ``band_part``...) and ``tf.random.*``
(``normal``, ``uniform``, ``truncated_normal``, ``shuffle``, ``categorical``), all
over :mod:`tinyann.ops` (see :mod:`tinyann.runner.shims.tf_ops`) and
:mod:`tinyann.autodiff`.
Any other name raises :class:`~tinyann.runner.shims._errors.NotServedError` (an
``AttributeError``) naming the symbol and, where one exists, the NumPy or tinyann
equivalent.
"""

from __future__ import annotations

import re
import types

import numpy as np

from tinyann import __version__ as _tinyann_version
from tinyann import backend as _backend
from tinyann import ops as _ops
from tinyann.autodiff import GradientTape, Tensor  # noqa: F401  (tf.GradientTape)
from tinyann.runner.shims import data as _data_impl
from tinyann.runner.shims import tf_ops as _t
from tinyann.runner.shims._errors import not_served
from tinyann.runner.shims._tensor import EagerTensor, to_numpy
from tinyann.variables import Variable as _Variable

#: TensorFlow 2.16 is the first whose tf.keras is Keras 3, the API tinyann follows;
#: the local part says what really runs.
__version__ = f"2.16.0+tinyann.{_tinyann_version}"

#: what a served ``tensorflow`` module shows (more are added below, with their
#: definitions); other globals here are helpers
SERVED = ["__version__", "keras", "data", "random", "config", "cast", "float16", "float32",
          "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
          "uint64", "bool", "dtypes", "DType", "as_dtype", "GradientTape", "Tensor",
          "Variable", "constant", "convert_to_tensor", "stop_gradient", "function",
          "newaxis", "version", "math", "nn", "linalg", "matmul", "reshape", "transpose",
          "expand_dims", "concat", "zeros_like", "ones_like", "one_hot"]

# TensorFlow name tinyann does not serve -> what to use instead (None: nothing to suggest)
_HINTS = {
    # in tf.math only (TensorFlow 2 has no top-level alias)
    "reduce_std": "tf.math.reduce_std", "reduce_variance": "tf.math.reduce_variance",
    "log": "tf.math.log", "ceil": "tf.math.ceil", "log_sigmoid": "tf.math.log_sigmoid",
    "reduce_euclidean_norm": "tf.math.reduce_euclidean_norm", "cumprod": "tf.math.cumprod",
    "top_k": "tf.math.top_k", "confusion_matrix": "tf.math.confusion_matrix",
    "signal": "numpy.fft", "scatter_nd": "keras.ops.scatter",
    "tensor_scatter_nd_update": "keras.ops.scatter_update", "RaggedTensor": None,
    "ragged": None, "SparseTensor": None, "TensorArray": "a Python list and tf.stack",
    "saved_model": "model.save('model.keras') and keras.models.load_model",
    "test": "tf.config.list_physical_devices('GPU')", "image": "numpy slicing and Pillow",
    "io": "numpy.load / Pillow", "sparse": None, "lite": None,
    "distribute": None, "summary": "keras.callbacks or print", "estimator": None,
    "compat": None, "string": None,
}
_RANDOM_HINTS = {
    # in tf.math only (TensorFlow 2 has no top-level alias)
    "reduce_std": "tf.math.reduce_std", "reduce_variance": "tf.math.reduce_variance",
    "log": "tf.math.log", "ceil": "tf.math.ceil", "log_sigmoid": "tf.math.log_sigmoid",
    "reduce_euclidean_norm": "tf.math.reduce_euclidean_norm", "cumprod": "tf.math.cumprod",
    "top_k": "tf.math.top_k", "confusion_matrix": "tf.math.confusion_matrix",
    "poisson": "numpy.random.default_rng(seed).poisson",
    "gamma": "numpy.random.default_rng(seed).gamma",
    "Generator": "numpy.random.default_rng", "set_global_generator": "tf.random.set_seed",
}
_CONFIG_HINTS = {
    # in tf.math only (TensorFlow 2 has no top-level alias)
    "reduce_std": "tf.math.reduce_std", "reduce_variance": "tf.math.reduce_variance",
    "log": "tf.math.log", "ceil": "tf.math.ceil", "log_sigmoid": "tf.math.log_sigmoid",
    "reduce_euclidean_norm": "tf.math.reduce_euclidean_norm", "cumprod": "tf.math.cumprod",
    "top_k": "tf.math.top_k", "confusion_matrix": "tf.math.confusion_matrix",
    "set_visible_devices": "not needed: tinyann runs on the CPU",
    "set_memory_growth": "not needed: tinyann runs on the CPU and allocates no GPU memory",
    "threading": "threadpoolctl.threadpool_limits(n) around the work",
    "run_functions_eagerly": "not needed: tinyann always runs eagerly",
}


class Namespace(types.ModuleType):
    """A TensorFlow namespace (``tf.random``...): served names, else a clear error."""

    def __init__(self, name, hints=None, **members):
        super().__init__(name)
        self.__dict__.update(members)
        self._hints = hints or {}

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        public = "tf" + self.__name__[len("tensorflow"):]
        raise not_served(f"{public}.{name}", self._hints.get(name))


# ---------------------------------------------------------------------- dtypes
# names (str subclasses), which NumPy and tinyann's `dtype=` arguments both take
float16, float32, float64 = _t.DType("float16"), _t.DType("float32"), _t.DType("float64")
int8, int16, int32, int64 = (_t.DType("int8"), _t.DType("int16"), _t.DType("int32"),
                             _t.DType("int64"))
uint8, uint16, uint32, uint64 = (_t.DType("uint8"), _t.DType("uint16"), _t.DType("uint32"),
                                 _t.DType("uint64"))
bool = _t.DType("bool")  # TensorFlow's name; this module never calls the builtin
DType, as_dtype = _t.DType, _t.as_dtype
_DTYPES = dict(float16=float16, float32=float32, float64=float64, int8=int8, int16=int16,
               int32=int32, int64=int64, uint8=uint8, uint16=uint16, uint32=uint32,
               uint64=uint64, bool=bool)
dtypes = Namespace("tensorflow.dtypes", None, DType=DType, as_dtype=as_dtype, **_DTYPES)


def cast(x, dtype, name=None):
    """``x`` as ``dtype`` (``tf.float32`` or any NumPy dtype); a Tensor stays on the tape."""
    if isinstance(x, (Tensor, _Variable)):
        return _ops.cast(x, getattr(dtype, "name", dtype))
    return np.asarray(x).astype(dtype, copy=False).view(EagerTensor)


# ---------------------------------------------------------------------- tensors, gradients
newaxis = None
version = types.SimpleNamespace(VERSION=__version__, VERSION_INFO=__version__)


def constant(value, dtype=None, shape=None, name=None):
    """A Tensor of ``value`` (Python floats become float32, ints int32, as TensorFlow)."""
    t = _ops.convert_to_tensor(value, dtype=getattr(dtype, "name", dtype))
    return Tensor(np.broadcast_to(t.numpy(), shape).copy()) if shape is not None else t


def convert_to_tensor(value, dtype=None, dtype_hint=None, name=None):
    return _ops.convert_to_tensor(value, dtype=dtype or dtype_hint)


def Variable(initial_value=None, trainable=True, name=None, dtype=None, **kwargs):  # noqa: N802
    """``tf.Variable``: a tinyann Variable (arithmetic, ``assign*``, watched by tapes)."""
    value = initial_value() if callable(initial_value) else initial_value
    if dtype is None and isinstance(value, (np.ndarray, Tensor)):
        dtype = np.asarray(value).dtype
    elif dtype is None and isinstance(value, (int, np.integer)) and value is not True and (
            value is not False):
        dtype = "int32"
    return _Variable(np.asarray(value), name=name or "Variable", trainable=trainable,
                     dtype=getattr(dtype, "name", dtype))


def function(func=None, **kwargs):
    """``@tf.function`` (with any of its arguments: input_signature=, jit_compile=...):
    the function itself, run eagerly."""
    return func if func is not None else (lambda f: f)


stop_gradient = _t.stop_gradient


def matmul(a, b, transpose_a=False, transpose_b=False, name=None, **kwargs):
    a, b = _t.tensors(a, b)
    a = _ops.swapaxes(a, -1, -2) if transpose_a else a
    b = _ops.swapaxes(b, -1, -2) if transpose_b else b
    return _ops.matmul(a, b)


def reshape(tensor, shape, name=None):
    return _ops.reshape(tensor, tuple(int(s) for s in _t._np(shape).reshape(-1)))


def transpose(a, perm=None, name=None, conjugate=False):
    return _ops.transpose(a, perm)


def concat(values, axis, name=None):
    return _ops.concatenate(values, axis=axis)


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype=None, name=None):
    out = _ops.one_hot(indices, depth, dtype=getattr(dtype, "name", dtype))
    if on_value is not None or off_value is not None:
        on, off = 1 if on_value is None else on_value, 0 if off_value is None else off_value
        out = _ops.where(_ops.cast(out, "bool"), on, off)
    return out if axis in (None, -1) else _ops.moveaxis(out, -1, axis)


def _expand_dims(input, axis, name=None):  # noqa: A002
    return _ops.expand_dims(input, axis)


def _tensor_args(op):
    def wrapped(x, y=None, name=None):
        return op(*_t.tensors(x)) if y is None else op(*_t.tensors(x, y))
    wrapped.__name__ = op.__name__
    return wrapped


# TensorFlow's names for ops whose arguments match (beyond a trailing name=)
_SAME = {name: _tensor_args(getattr(_ops, op)) for name, op in dict(
    square="square", sqrt="sqrt", exp="exp", abs="abs", add="add", subtract="subtract",
    multiply="multiply", divide="divide", maximum="maximum", minimum="minimum", log="log",
    log1p="log1p", sin="sin", cos="cos", tan="tan", tanh="tanh", sigmoid="sigmoid",
    floor="floor", ceil="ceil", round="round", sign="sign", negative="negative",
    pow="power", reciprocal="reciprocal", rsqrt="rsqrt", erf="erf",
    equal="equal", not_equal="not_equal", greater="greater", greater_equal="greater_equal",
    less="less", less_equal="less_equal", logical_and="logical_and", logical_or="logical_or",
    logical_not="logical_not", logical_xor="logical_xor", floordiv="floor_divide",
    floormod="mod", mod="mod", divide_no_nan="divide_no_nan", is_nan="isnan",
    is_inf="isinf", is_finite="isfinite", asin="arcsin", acos="arccos", atan="arctan",
    sinh="sinh", cosh="cosh", expm1="expm1",
    conj="conj").items()}
#: the _SAME names TensorFlow also has at the top level (tf.add, tf.sin, ...)
_SAME_TOP = (
    "square", "sqrt", "exp", "abs", "add", "subtract", "multiply", "divide", "maximum",
    "minimum", "floor", "round", "sign", "sin", "cos", "tan", "tanh", "sigmoid",
    "negative", "pow", "equal", "not_equal", "greater", "greater_equal", "less", "less_equal",
    "logical_and", "logical_not", "logical_or", "asin", "acos", "atan", "sinh", "cosh")
globals().update({name: _SAME[name] for name in _SAME_TOP})
atan2 = _t.atan2
expand_dims = _expand_dims
zeros_like, ones_like = _t.zeros_like, _t.ones_like

#: the top-level names taken as they are from tf_ops
_TOP = ["zeros", "ones", "fill", "eye", "range", "linspace", "rank", "size", "shape",
        "identity", "is_tensor", "executing_eagerly", "reduce_sum", "reduce_mean",
        "reduce_max", "reduce_min", "reduce_prod", "reduce_logsumexp", "reduce_all",
        "reduce_any", "argmax", "argmin", "add_n", "cumsum",
        "clip_by_value", "clip_by_norm", "norm", "where", "sort", "argsort", "unique",
        "searchsorted", "broadcast_to", "squeeze", "stack", "unstack", "split", "tile",
        "repeat", "reverse", "roll", "pad", "gather", "gather_nd", "boolean_mask",
        "tensordot", "einsum", "meshgrid", "print", "TensorSpec", "numpy_function",
        "py_function", "truediv", "device", "UnconnectedGradients"]
globals().update({name: getattr(_t, name) for name in _TOP})
SERVED += _TOP + list(_SAME_TOP) + ["atan2"]

_MATH = ["reduce_sum", "reduce_mean", "reduce_max", "reduce_min", "reduce_prod",
         "reduce_logsumexp", "reduce_all", "reduce_any", "reduce_std", "reduce_variance",
         "reduce_euclidean_norm", "argmax", "argmin", "add_n", "cumsum", "cumprod",
         "count_nonzero", "bincount", "segment_sum", "unsorted_segment_sum", "top_k",
         "in_top_k", "confusion_matrix", "l2_normalize", "log_sigmoid", "squared_difference",
         "truediv"]
def _sparse_softmax_cross_entropy_with_logits(labels=None, logits=None, name=None):
    return _ops.sparse_categorical_crossentropy(labels, logits, from_logits=True)


def _softmax_cross_entropy_with_logits(labels=None, logits=None, axis=-1, name=None):
    return _ops.categorical_crossentropy(labels, logits, from_logits=True, axis=axis)


def _sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None):
    return _ops.binary_crossentropy(labels, logits, from_logits=True)


def _softmax(logits, axis=-1, name=None):
    return _ops.softmax(logits, axis=axis)


def _log_softmax(logits, axis=-1, name=None):
    return _ops.log_softmax(logits, axis=axis)


math = Namespace("tensorflow.math", {"log2": "tf.keras.ops.log2", "log10": "tf.keras.ops.log10"},
                 **_SAME, **{name: getattr(_t, name) for name in _MATH},
                 softmax=_softmax, log_softmax=_log_softmax, softplus=_t.softplus,
                 atan2=_t.atan2, softsign=_t.softsign)


def _moments(x, axes, shift=None, keepdims=False, name=None):
    return _ops.moments(x, axes=_t._axes(axes), keepdims=keepdims)


nn = Namespace(
    "tensorflow.nn", {"log_sigmoid": "tf.math.log_sigmoid"}, relu=_t.relu, relu6=_t.relu6,
    sigmoid=_SAME["sigmoid"],
    tanh=_SAME["tanh"], softmax=_softmax, log_softmax=_log_softmax, softplus=_t.softplus,
    gelu=_t.gelu, silu=_t.silu, swish=_t.silu, elu=_t.elu,
    leaky_relu=_t.leaky_relu, moments=_moments,
    sparse_softmax_cross_entropy_with_logits=_sparse_softmax_cross_entropy_with_logits,
    softmax_cross_entropy_with_logits=_softmax_cross_entropy_with_logits,
    sigmoid_cross_entropy_with_logits=_sigmoid_cross_entropy_with_logits,
    **{name: getattr(_t, name) for name in [
        "l2_normalize", "dropout", "bias_add", "conv2d", "max_pool2d", "avg_pool2d",
        "embedding_lookup", "selu", "softsign", "top_k", "in_top_k",
        "weighted_cross_entropy_with_logits", "batch_normalization", "compute_average_loss",
        "scale_regularization_loss"]},
    max_pool=_t.max_pool2d, avg_pool=_t.avg_pool2d)


def _linalg_unary(op):
    def wrapped(input, name=None):  # noqa: A002 - TensorFlow's argument name
        return op(input)
    wrapped.__name__ = op.__name__
    return wrapped


def _solve(matrix, rhs, adjoint=False, name=None):
    return _ops.solve(_ops.swapaxes(matrix, -1, -2) if adjoint else matrix, rhs)


def _cholesky(input, name=None):  # noqa: A002
    return _ops.cholesky(input)


linalg = Namespace(
    "tensorflow.linalg", None, matmul=matmul, norm=_t.norm, eye=_t.eye,
    l2_normalize=_t.l2_normalize,
    diag=_t.linalg_diag, diag_part=_t.diag_part, trace=_t.trace, band_part=_t.band_part,
    matrix_transpose=_t.matrix_transpose, adjoint=_t.matrix_transpose, matvec=_t.matvec,
    svd=_t.svd, qr=_t.qr, eigh=_t.eigh, slogdet=_t.slogdet, solve=_solve, cholesky=_cholesky,
    inv=_t.inv, det=_linalg_unary(_ops.det), logdet=_linalg_unary(_ops.logdet), pinv=_t.pinv,
    tensordot=_t.tensordot, einsum=_t.einsum)


# ---------------------------------------------------------------------- tf.random
def set_seed(seed):
    """Seeds tinyann's random state (and NumPy's and Python's, as Keras's set_random_seed)."""
    _backend.set_random_seed(seed)


def _random_normal(shape, mean=0.0, stddev=1.0, dtype="float32", seed=None, name=None):
    rng = np.random.default_rng(seed) if seed is not None else _backend.rng()
    return Tensor(rng.normal(mean, stddev, size=_t._shape(shape)).astype(dtype))


def _random_uniform(shape, minval=0, maxval=None, dtype="float32", seed=None, name=None):
    """Floats in ``[minval, maxval)`` (maxval 1 by default); ints need ``maxval``."""
    rng = np.random.default_rng(seed) if seed is not None else _backend.rng()
    if np.dtype(dtype).kind in "iu":
        if maxval is None:
            raise ValueError("tf.random.uniform: an integer dtype needs maxval")
        return Tensor(rng.integers(minval, maxval, size=_t._shape(shape)).astype(dtype))
    high = 1.0 if maxval is None else maxval
    return Tensor(rng.uniform(minval, high, size=_t._shape(shape)).astype(dtype))


random = Namespace("tensorflow.random", _RANDOM_HINTS, set_seed=set_seed,
                   normal=_random_normal, uniform=_random_uniform,
                   shuffle=_t.random_shuffle, categorical=_t.random_categorical,
                   truncated_normal=_t.truncated_normal)


# ---------------------------------------------------------------------- tf.config
class PhysicalDevice:
    """``tf.config.PhysicalDevice``: tinyann computes on the CPU only."""

    def __init__(self, name, device_type):
        self.name, self.device_type = name, device_type

    def __repr__(self):
        return f"PhysicalDevice(name='{self.name}', device_type='{self.device_type}')"


def list_physical_devices(device_type=None):
    """``[PhysicalDevice(CPU:0)]`` for ``None`` or ``'CPU'``; ``[]`` for ``'GPU'`` and others."""
    if device_type is None or str(device_type).upper() == "CPU":
        return [PhysicalDevice("/physical_device:CPU:0", "CPU")]
    return []


def enable_op_determinism():
    """A no-op: tinyann gives bit-identical results for the same seed already."""


experimental_config = Namespace("tensorflow.config.experimental", _CONFIG_HINTS,
                                enable_op_determinism=enable_op_determinism,
                                list_physical_devices=list_physical_devices)
config = Namespace("tensorflow.config", _CONFIG_HINTS, experimental=experimental_config,
                   list_physical_devices=list_physical_devices,
                   list_logical_devices=list_physical_devices, PhysicalDevice=PhysicalDevice)


# ---------------------------------------------------------------------- tf.strings
def _per_string(fn):
    """``fn`` of one str, applied to a str, bytes, or an array / list of them (an object
    array back: NumPy's strings, as TextVectorization's standardize gets them)."""
    def op(input, *args, name=None, **kwargs):  # noqa: A002 - TensorFlow's argument name
        if isinstance(input, (str, bytes)):
            text = input.decode("utf-8") if isinstance(input, bytes) else input
            return fn(text, *args, **kwargs)
        array = np.asarray(to_numpy(input), dtype=object)
        out = np.empty(array.shape, dtype=object)
        for index, value in np.ndenumerate(array):
            text = value.decode("utf-8") if isinstance(value, bytes) else str(value)
            out[index] = fn(text, *args, **kwargs)
        return out
    op.__name__ = fn.__name__
    return op


def _regex_replace(text, pattern, rewrite, replace_global=True):
    # RE2's \1 group references are Python's too
    return re.sub(pattern, rewrite, text, count=0 if replace_global else 1)


strings = Namespace(
    "tensorflow.strings", {"split": "str.split in Python", "unicode_split": "list(text)"},
    lower=_per_string(str.lower), upper=_per_string(str.upper),
    strip=_per_string(str.strip), regex_replace=_per_string(_regex_replace),
    length=_per_string(len))


# ---------------------------------------------------------------------- tf.data
def _cardinality(dataset):
    return dataset.cardinality()


_DATA_HINTS = {
    # in tf.math only (TensorFlow 2 has no top-level alias)
    "reduce_std": "tf.math.reduce_std", "reduce_variance": "tf.math.reduce_variance",
    "log": "tf.math.log", "ceil": "tf.math.ceil", "log_sigmoid": "tf.math.log_sigmoid",
    "reduce_euclidean_norm": "tf.math.reduce_euclidean_norm", "cumprod": "tf.math.cumprod",
    "top_k": "tf.math.top_k", "confusion_matrix": "tf.math.confusion_matrix",
    "TFRecordDataset": "numpy arrays and Dataset.from_tensor_slices",
    "TextLineDataset": "reading the lines in Python, then Dataset.from_tensor_slices",
    "Options": None,
}
data = Namespace(
    "tensorflow.data", _DATA_HINTS, Dataset=_data_impl.Dataset, AUTOTUNE=_data_impl.AUTOTUNE,
    INFINITE_CARDINALITY=_data_impl.INFINITE_CARDINALITY,
    UNKNOWN_CARDINALITY=_data_impl.UNKNOWN_CARDINALITY,
    experimental=Namespace(
        "tensorflow.data.experimental", _DATA_HINTS, AUTOTUNE=_data_impl.AUTOTUNE,
        cardinality=_cardinality, INFINITE_CARDINALITY=_data_impl.INFINITE_CARDINALITY,
        UNKNOWN_CARDINALITY=_data_impl.UNKNOWN_CARDINALITY))


# ---------------------------------------------------------------------- the rest
#: ``name -> served module``, set by ``shims.modules`` when it serves this module
#: (so that the two never import each other)
serve_module = None


def __getattr__(name):
    if name == "keras" and serve_module is not None:
        # the same served module as `import tensorflow.keras` (clear errors included)
        return serve_module("tensorflow.keras")
    if name.startswith("__"):
        raise AttributeError(name)
    raise not_served(f"tf.{name}", _HINTS.get(name))


def __dir__():
    return sorted([*globals(), "keras"])
