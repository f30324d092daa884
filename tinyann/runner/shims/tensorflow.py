"""The part of TensorFlow that Keras scripts use, served as ``tensorflow`` by ``tinyann run``.

Served: ``tf.keras`` (tinyann under Keras's names), ``tf.random.set_seed``,
``tf.keras.utils.set_random_seed``, ``tf.config.experimental.enable_op_determinism()``
(a no-op: tinyann is deterministic), ``tf.config.list_physical_devices``,
``tf.data.Dataset`` for in-memory data (see :mod:`tinyann.runner.shims.data`),
``tf.data.AUTOTUNE``, ``tf.cast`` and the dtype names (``tf.float32`` is ``'float32'``).
Any other name raises :class:`~tinyann.runner.shims._errors.NotServedError` (an
``AttributeError``) naming the symbol and, where one exists, the NumPy or tinyann
equivalent.
"""

from __future__ import annotations

import types

import numpy as np

from tinyann import __version__ as _tinyann_version
from tinyann import backend as _backend
from tinyann.runner.shims import data as _data_impl
from tinyann.runner.shims._errors import not_served
from tinyann.runner.shims._tensor import EagerTensor

#: TensorFlow 2.16 is the first whose tf.keras is Keras 3, the API tinyann follows;
#: the local part says what really runs.
__version__ = f"2.16.0+tinyann.{_tinyann_version}"

#: what a served ``tensorflow`` module shows; other globals here are helpers
SERVED = ["__version__", "keras", "data", "random", "config", "cast", "float16", "float32",
           "float64", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32",
           "uint64", "bool"]

# TensorFlow name -> NumPy / tinyann equivalent (None: nothing to suggest)
_HINTS = {
    "constant": "numpy.asarray(value, dtype=...)",
    "convert_to_tensor": "numpy.asarray",
    "Tensor": "numpy.ndarray",
    "is_tensor": "isinstance(x, numpy.ndarray)",
    "Variable": "a NumPy array (layer weights are tinyann Variables: layer.kernel.value)",
    "reduce_mean": "numpy.mean", "reduce_sum": "numpy.sum", "reduce_max": "numpy.max",
    "reduce_min": "numpy.min", "reduce_prod": "numpy.prod", "reduce_all": "numpy.all",
    "reduce_any": "numpy.any", "argmax": "numpy.argmax", "argmin": "numpy.argmin",
    "reshape": "numpy.reshape", "expand_dims": "numpy.expand_dims", "squeeze": "numpy.squeeze",
    "concat": "numpy.concatenate", "stack": "numpy.stack", "transpose": "numpy.transpose",
    "matmul": "numpy.matmul (the @ operator)", "tensordot": "numpy.tensordot",
    "zeros": "numpy.zeros", "ones": "numpy.ones", "zeros_like": "numpy.zeros_like",
    "ones_like": "numpy.ones_like", "fill": "numpy.full", "eye": "numpy.eye",
    "range": "numpy.arange", "linspace": "numpy.linspace", "shape": "numpy.shape (x.shape)",
    "size": "numpy.size", "rank": "numpy.ndim", "one_hot": "keras.utils.to_categorical",
    "where": "numpy.where", "gather": "numpy.take", "clip_by_value": "numpy.clip",
    "equal": "numpy.equal", "not_equal": "numpy.not_equal", "greater": "numpy.greater",
    "less": "numpy.less", "maximum": "numpy.maximum", "minimum": "numpy.minimum",
    "abs": "numpy.abs", "exp": "numpy.exp", "sqrt": "numpy.sqrt", "square": "numpy.square",
    "pow": "numpy.power", "add": "numpy.add", "multiply": "numpy.multiply",
    "subtract": "numpy.subtract", "divide": "numpy.divide", "sort": "numpy.sort",
    "argsort": "numpy.argsort", "unique": "numpy.unique", "math": "numpy (tf.math.x is "
    "mostly numpy.x)", "linalg": "numpy.linalg", "signal": "numpy.fft",
    "nn": "keras.activations (relu, sigmoid, softmax, tanh)",
    "GradientTape": "model.fit or model.train_on_batch (tinyann has no autograd: each layer "
    "computes its own gradient)",
    "function": "not needed: tinyann runs NumPy eagerly; remove @tf.function",
    "print": "print", "executing_eagerly": None, "device": None,
    "saved_model": "model.save('model.keras') and keras.models.load_model",
    "test": "tf.config.list_physical_devices('GPU')", "image": "numpy slicing and Pillow",
    "io": "numpy.load / Pillow", "strings": None, "sparse": None, "lite": None,
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


# ---------------------------------------------------------------------- tf.random
def set_seed(seed):
    """Seeds tinyann's random state (and NumPy's and Python's, as Keras's set_random_seed)."""
    _backend.set_random_seed(seed)


random = Namespace("tensorflow.random", _RANDOM_HINTS, set_seed=set_seed)


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
