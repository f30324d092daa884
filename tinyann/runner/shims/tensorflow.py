"""The part of TensorFlow that Keras scripts use, served as ``tensorflow`` by ``tinyann run``.

Served: ``tf.keras`` (tinyann under Keras's names), ``tf.random.set_seed``,
``tf.keras.utils.set_random_seed``, ``tf.config.experimental.enable_op_determinism()``
(a no-op: tinyann is deterministic), ``tf.config.list_physical_devices``,
``tf.data.Dataset`` for in-memory data (see :mod:`tinyann.runner.shims.data`),
``tf.data.AUTOTUNE``, ``tf.cast`` and the dtype names (``tf.float32`` is ``'float32'``);
tensors and gradients (``tf.constant``, ``tf.convert_to_tensor``, ``tf.Variable``,
``tf.GradientTape``, ``tf.stop_gradient``, ``tf.function`` run eagerly), the math
tutorials use (``tf.reduce_*``, ``tf.matmul``, ``tf.math.*``, ``tf.nn.*``,
``tf.random.normal`` / ``uniform``), ``tf.newaxis`` and ``tf.version.VERSION``, all
over :mod:`tinyann.ops` and :mod:`tinyann.autodiff`.
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
from tinyann.runner.shims._errors import not_served
from tinyann.runner.shims._tensor import EagerTensor, to_numpy
from tinyann.variables import Variable as _Variable

#: TensorFlow 2.16 is the first whose tf.keras is Keras 3, the API tinyann follows;
#: the local part says what really runs.
__version__ = f"2.16.0+tinyann.{_tinyann_version}"

#: what a served ``tensorflow`` module shows; other globals here are helpers
SERVED = ["__version__", "keras", "data", "random", "config", "cast", "float16", "float32",
           "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
           "uint64", "bool", "GradientTape", "Tensor", "Variable", "constant",
           "convert_to_tensor", "stop_gradient", "function", "newaxis", "version",
           "math", "nn", "reduce_sum", "reduce_mean", "reduce_max", "reduce_min",
           "reduce_prod", "matmul", "reshape", "transpose", "expand_dims", "squeeze",
           "concat", "stack", "zeros", "ones", "zeros_like", "ones_like", "argmax", "argmin",
           "square", "sqrt", "exp", "abs", "add", "subtract", "multiply", "divide", "maximum",
           "minimum", "where", "one_hot", "shape"]

# TensorFlow name tinyann does not serve -> what to use instead (None: nothing to suggest)
_HINTS = {
    "is_tensor": "isinstance(x, numpy.ndarray)", "reduce_all": "numpy.all",
    "reduce_any": "numpy.any", "tensordot": "numpy.tensordot", "fill": "numpy.full",
    "eye": "numpy.eye", "range": "numpy.arange", "linspace": "numpy.linspace",
    "size": "numpy.size", "rank": "numpy.ndim", "gather": "numpy.take",
    "clip_by_value": "numpy.clip", "equal": "numpy.equal", "not_equal": "numpy.not_equal",
    "greater": "numpy.greater", "less": "numpy.less", "pow": "numpy.power",
    "sort": "numpy.sort", "argsort": "numpy.argsort", "unique": "numpy.unique",
    "linalg": "numpy.linalg", "signal": "numpy.fft", "print": "print",
    "executing_eagerly": None, "device": None,
    "saved_model": "model.save('model.keras') and keras.models.load_model",
    "test": "tf.config.list_physical_devices('GPU')", "image": "numpy slicing and Pillow",
    "io": "numpy.load / Pillow", "sparse": None, "lite": None,
    "distribute": None, "summary": "keras.callbacks or print", "estimator": None,
    "compat": None, "string": None,
}
_RANDOM_HINTS = {
    "uniform": "numpy.random.default_rng(seed).uniform",
    "normal": "numpy.random.default_rng(seed).normal",
    "truncated_normal": "numpy.random.default_rng(seed).normal and numpy.clip",
    "shuffle": "numpy.random.default_rng(seed).permutation",
    "categorical": "numpy.random.default_rng(seed).choice",
    "Generator": "numpy.random.default_rng", "set_global_generator": "tf.random.set_seed",
}
_CONFIG_HINTS = {
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
# strings, which NumPy and tinyann's `dtype=` arguments both take
float16, float32, float64 = "float16", "float32", "float64"
int8, int16, int32, int64 = "int8", "int16", "int32", "int64"
uint8, uint16, uint32, uint64 = "uint8", "uint16", "uint32", "uint64"
bool = "bool"  # TensorFlow's name; this module never calls the builtin


def cast(x, dtype, name=None):
    """``x`` as an array of ``dtype`` (``tf.float32`` or any NumPy dtype)."""
    return np.asarray(x).astype(dtype, copy=False).view(EagerTensor)


# ---------------------------------------------------------------------- tensors, gradients
newaxis = None
version = types.SimpleNamespace(VERSION=__version__, VERSION_INFO=__version__)


def constant(value, dtype=None, shape=None, name=None):
    """A Tensor of ``value`` (Python floats become float32, ints int32, as TensorFlow)."""
    t = _ops.convert_to_tensor(value, dtype=dtype)
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
    """``@tf.function`` (with any of its arguments: jit_compile=, reduce_retracing=...):
    the function itself, run eagerly."""
    return func if func is not None else (lambda f: f)


def _reduction(op):
    def reduce(input_tensor, axis=None, keepdims=False, name=None):
        return op(input_tensor, axis=axis, keepdims=keepdims)
    return reduce


reduce_sum, reduce_mean = _reduction(_ops.sum), _reduction(_ops.mean)
reduce_max, reduce_min = _reduction(_ops.max), _reduction(_ops.min)
reduce_prod = _reduction(_ops.prod)
reduce_logsumexp = _reduction(_ops.logsumexp)
stop_gradient = _ops.stop_gradient
shape = _ops.shape


def matmul(a, b, transpose_a=False, transpose_b=False, name=None):
    a = _ops.swapaxes(a, -1, -2) if transpose_a else a
    b = _ops.swapaxes(b, -1, -2) if transpose_b else b
    return _ops.matmul(a, b)


def reshape(tensor, shape, name=None):
    return _ops.reshape(tensor, shape)


def transpose(a, perm=None, name=None):
    return _ops.transpose(a, perm)


def concat(values, axis, name=None):
    return _ops.concatenate(values, axis=axis)


def one_hot(indices, depth, dtype=None, name=None):
    return _ops.one_hot(indices, depth, dtype=dtype)


def _argreduce(op):
    def arg(input, axis=None, output_type="int64", name=None):  # noqa: A002
        return _ops.cast(op(input, axis=0 if axis is None else axis), output_type)
    return arg


argmax, argmin = _argreduce(_ops.argmax), _argreduce(_ops.argmin)
(expand_dims, squeeze, stack, zeros, ones, zeros_like, ones_like, square, sqrt, exp, abs,
 add, subtract, multiply, divide, maximum, minimum, where) = (
    _ops.expand_dims, _ops.squeeze, _ops.stack, _ops.zeros, _ops.ones, _ops.zeros_like,
    _ops.ones_like, _ops.square, _ops.sqrt, _ops.exp, _ops.abs, _ops.add, _ops.subtract,
    _ops.multiply, _ops.divide, _ops.maximum, _ops.minimum, _ops.where)

math = Namespace(
    "tensorflow.math", None, reduce_sum=reduce_sum, reduce_mean=reduce_mean,
    reduce_max=reduce_max, reduce_min=reduce_min, reduce_prod=reduce_prod,
    reduce_logsumexp=reduce_logsumexp, argmax=argmax, argmin=argmin, add=add,
    subtract=subtract, multiply=multiply, divide=divide, maximum=maximum, minimum=minimum,
    square=square, sqrt=sqrt, exp=exp, log=_ops.log, abs=abs, tanh=_ops.tanh,
    sigmoid=_ops.sigmoid, log1p=_ops.log1p, sin=_ops.sin, cos=_ops.cos, pow=_ops.power,
    equal=_ops.equal, greater=_ops.greater, less=_ops.less, softplus=_ops.softplus,
    negative=_ops.negative, reciprocal=_ops.reciprocal)


def _softmax(logits, axis=-1, name=None):
    return _ops.softmax(logits, axis=axis)


def _log_softmax(logits, axis=-1, name=None):
    return _ops.log_softmax(logits, axis=axis)


def _sparse_softmax_cross_entropy_with_logits(labels=None, logits=None, name=None):
    return _ops.sparse_categorical_crossentropy(labels, logits, from_logits=True)


def _softmax_cross_entropy_with_logits(labels=None, logits=None, axis=-1, name=None):
    return _ops.categorical_crossentropy(labels, logits, from_logits=True, axis=axis)


def _sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None):
    return _ops.binary_crossentropy(labels, logits, from_logits=True)


nn = Namespace(
    "tensorflow.nn", None, relu=_ops.relu, relu6=_ops.relu6, sigmoid=_ops.sigmoid,
    tanh=_ops.tanh, softmax=_softmax, log_softmax=_log_softmax, softplus=_ops.softplus,
    gelu=_ops.gelu, silu=_ops.silu, swish=_ops.silu, elu=_ops.elu,
    leaky_relu=_ops.leaky_relu, moments=_ops.moments,
    sparse_softmax_cross_entropy_with_logits=_sparse_softmax_cross_entropy_with_logits,
    softmax_cross_entropy_with_logits=_softmax_cross_entropy_with_logits,
    sigmoid_cross_entropy_with_logits=_sigmoid_cross_entropy_with_logits)


# ---------------------------------------------------------------------- tf.random
def set_seed(seed):
    """Seeds tinyann's random state (and NumPy's and Python's, as Keras's set_random_seed)."""
    _backend.set_random_seed(seed)


def _random_normal(shape, mean=0.0, stddev=1.0, dtype="float32", seed=None, name=None):
    rng = np.random.default_rng(seed) if seed is not None else _backend.rng()
    return Tensor(rng.normal(mean, stddev, size=tuple(shape)).astype(dtype))


def _random_uniform(shape, minval=0, maxval=None, dtype="float32", seed=None, name=None):
    rng = np.random.default_rng(seed) if seed is not None else _backend.rng()
    if np.dtype(dtype).kind in "iu":
        return Tensor(rng.integers(minval, maxval, size=tuple(shape)).astype(dtype))
    high = 1.0 if maxval is None else maxval
    return Tensor(rng.uniform(minval, high, size=tuple(shape)).astype(dtype))


random = Namespace("tensorflow.random", _RANDOM_HINTS, set_seed=set_seed,
                   normal=_random_normal, uniform=_random_uniform)


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
