"""Numeric settings, the random state and unique names, shared by every module.

tinyann computes in float32 end to end (``floatx()``); gradient checks switch the
whole library to float64 with ``set_floatx("float64")``.
"""

from __future__ import annotations

import functools
import random as _py_random
import re
import sys

import numpy as np

_FLOATX = "float32"
_EPSILON = 1e-7
_RNG = np.random.default_rng()
_SEED: int | None = None
_NAME_COUNTS: dict[str, int] = {}


def floatx() -> str:
    """The float type of weights and activations: ``'float32'`` unless changed."""
    return _FLOATX


def set_floatx(value: str) -> None:
    """Sets the float type (``'float32'`` or ``'float64'``) for weights made from now on."""
    global _FLOATX
    if value not in ("float16", "float32", "float64"):
        raise ValueError(
            "Unknown `floatx` value. Expected one of 'float16', 'float32', 'float64'. "
            f"Received: floatx={value!r}"
        )
    _FLOATX = value


def epsilon() -> float:
    """The fuzz factor used in losses and optimizers (1e-7, as Keras)."""
    return _EPSILON


def set_epsilon(value: float) -> None:
    global _EPSILON
    _EPSILON = float(value)


def backend() -> str:
    """The name of the backend: always ``'numpy'``."""
    return "numpy"


def image_data_format() -> str:
    """Always ``'channels_last'``: tinyann's layers take (batch, ..., channels)."""
    return "channels_last"


def set_image_data_format(data_format: str) -> None:
    """Accepts ``'channels_last'`` only (tinyann's layers have no other layout)."""
    value = str(data_format).lower() if isinstance(data_format, str) else data_format
    if value not in ("channels_first", "channels_last"):
        raise ValueError(
            "The `data_format` argument must be one of {'channels_first', 'channels_last'}. "
            f"Received: data_format={data_format!r}")
    if value == "channels_first":
        raise NotImplementedError(
            "tinyann's layers compute in 'channels_last' only (batch, height, width, "
            "channels): transpose channels-first data with np.moveaxis(x, 1, -1) instead "
            "of setting the image data format")


def set_random_seed(seed: int) -> None:
    """Seeds every random choice in tinyann, Python's ``random`` and NumPy's global state.

    Initializers, shuffling in ``fit`` and dropout masks all draw from one generator,
    so the same seed gives bit-identical weights and histories.
    """
    global _RNG, _SEED
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(
            f"Expected `seed` to be a non-negative integer. Received: seed={seed!r}"
        )
    _SEED = int(seed)
    _RNG = np.random.default_rng(_SEED)
    _py_random.seed(_SEED)
    np.random.seed(_SEED % 2**32)


def rng() -> np.random.Generator:
    """The generator every random choice in tinyann draws from."""
    return _RNG


def make_rng(seed: int | None = None) -> np.random.Generator:
    """A generator of its own for a layer or initializer given an explicit ``seed``.

    Without a seed it is spawned from the global generator, so it still follows
    ``set_random_seed``.
    """
    if seed is None:
        return np.random.default_rng(_RNG.integers(0, 2**63 - 1))
    return np.random.default_rng(int(seed))


def to_snake_case(name: str) -> str:
    """``'MaxPooling2D'`` -> ``'max_pooling2d'``, as Keras names layers."""
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    name = re.sub(r"([a-z])([A-Z])", r"\1_\2", name)
    return name.lower()


def get_uid(prefix: str = "") -> int:
    """Keras's counter of ``prefix``: 1, 2, 3... (the auto names use the same one:
    after ``get_uid('dense')``, the next Dense is ``dense_1``)."""
    _NAME_COUNTS[prefix] = _NAME_COUNTS.get(prefix, 0) + 1
    return _NAME_COUNTS[prefix]


def unique_name(prefix: str) -> str:
    """``dense``, then ``dense_1``, ``dense_2``... as Keras's auto names."""
    count = _NAME_COUNTS.get(prefix, 0)
    _NAME_COUNTS[prefix] = count + 1
    return prefix if count == 0 else f"{prefix}_{count}"


# the global DTypePolicy (tinyann.dtype_policies); None: floatx()'s
_DTYPE_POLICY = None


def clear_session(free_memory: bool = True) -> None:
    """Resets Keras's global state: the auto-name counters (``dense`` is again the next
    name) and the global dtype policy; with ``free_memory``, runs the garbage collector.
    ``floatx`` and the random state stay, as in Keras."""
    global _DTYPE_POLICY
    _NAME_COUNTS.clear()
    _DTYPE_POLICY = None
    if free_memory:
        import gc

        gc.collect()


def is_keras_tensor(x) -> bool:
    """Whether ``x`` is a symbolic tensor (``keras.Input``, a layer's output on one)."""
    # (no KerasTensor exists before its module is loaded; backend imports no layer)
    module = sys.modules.get("tinyann.layers.keras_tensor")
    return module is not None and isinstance(x, module.KerasTensor)


# ---------------------------------------------------------------- Keras's dtypes
# standardize_dtype, result_type, is_float_dtype, is_int_dtype (keras.backend's and
# keras.utils'): Keras's names, and its promotion lattice (JAX's, Python int / float
# weakly typed) with the TensorFlow backend's 64-bit rule (int64 and float64 stay,
# uint64 -> uint32, complex128 -> complex64), as Keras 3 with TensorFlow answers.
ALLOWED_DTYPES = ("float16", "float32", "float64", "uint8", "uint16", "uint32", "uint64",
                  "int8", "int16", "int32", "int64", "bfloat16", "bool", "string",
                  "float8_e4m3fn", "float8_e5m2", "complex64", "complex128")
_PYTHON_DTYPES = {bool: "bool", int: "int64", float: "float32", str: "string",
                  "int": "int64", complex: "complex128"}
_FLOAT8 = ("float8_e4m3fn", "float8_e5m2")
_BIT64_TO_BIT32 = {"int64": "int64", "uint64": "uint32", "float64": "float64",
                   "complex128": "complex64"}


def standardize_dtype(dtype) -> str:
    """Keras's name for ``dtype`` (``np.float32``, ``'float32'``, ``float``...;
    None -> ``floatx()``). Raises ValueError for a name Keras does not know."""
    if dtype is None:
        return floatx()
    dtype = _PYTHON_DTYPES.get(dtype, dtype) if isinstance(dtype, (str, type)) else dtype
    if isinstance(dtype, type) and issubclass(dtype, np.generic):
        dtype = np.dtype(dtype).name
    elif hasattr(dtype, "name") and not isinstance(dtype, str):
        dtype = dtype.name
    elif hasattr(dtype, "__name__"):
        dtype = dtype.__name__
    if dtype not in ALLOWED_DTYPES:
        raise ValueError(f"Invalid dtype: {dtype}")
    return dtype


def is_float_dtype(dtype) -> bool:
    dtype = standardize_dtype(dtype)
    return dtype.startswith("float") or dtype.startswith("bfloat")


def is_int_dtype(dtype) -> bool:
    dtype = standardize_dtype(dtype)
    return dtype.startswith("int") or dtype.startswith("uint")


# each type -> the types just above it ("int" and "float": Python's weak types)
_LATTICE = {
    "bool": ["int"], "uint8": ["int16", "uint16"], "uint16": ["int32", "uint32"],
    "uint32": ["int64", "uint64"], "uint64": ["float"], "int": ["uint8", "int8", "complex64"],
    "int8": ["int16"], "int16": ["int32"], "int32": ["int64"], "int64": ["float"],
    "float": ["bfloat16", "float16"], "bfloat16": ["float32"], "float16": ["float32"],
    "float32": ["float64", "complex64"], "float64": ["complex128"],
    "complex64": ["complex128"], "complex128": [],
}


def _upper_bounds() -> dict:
    bounds = {node: {node} for node in _LATTICE}
    for node in _LATTICE:
        while True:
            above = set().union(*(_LATTICE[b] for b in bounds[node]))
            if above <= bounds[node]:
                break
            bounds[node] |= above
    return bounds


_UPPER = _upper_bounds()


@functools.lru_cache(512)
def _least_upper_bound(*nodes) -> str:
    nodes = set(nodes)
    for node in nodes:
        if node not in _UPPER:
            raise ValueError(f"dtype={node!r} is not a valid dtype for Keras type promotion.")
    common = set.intersection(*(_UPPER[n] for n in nodes))
    least = (common & nodes) or {c for c in common if common <= _UPPER[c]}
    if len(least) != 1:
        raise ValueError(
            f"Input dtypes {tuple(sorted(nodes))} have no available implicit dtype "
            "promotion path. Try explicitly casting inputs to the desired output type.")
    return least.pop()


def _weak(dtype: str) -> str:
    if dtype == "bool":
        return dtype
    for kind in ("float", "int", "complex"):
        if kind in dtype:
            return kind
    raise ValueError(f"Invalid value for argument `dtype`. Received: dtype={dtype}")


def result_type(*dtypes) -> str:
    """The dtype Keras's type promotion gives for ``dtypes`` (``floatx()`` for none)."""
    if not dtypes:
        return floatx()
    for dtype in dtypes:
        if isinstance(dtype, str) and dtype in _FLOAT8:
            raise ValueError("There is no implicit conversions from float8 dtypes to "
                             f"others. You must cast it internally. Received: {dtypes}")
    args = [floatx() if d is None else d for d in dtypes]
    names = [standardize_dtype(d) for d in args]
    weak = [d is int or d is float for d in args]
    if len(names) == 1:
        out, out_weak = names[0], weak[0]
    elif len(set(names)) == 1 and not all(weak):
        out, out_weak = names[0], False
    elif all(weak):
        out, out_weak = _least_upper_bound(*set(names)), True
    else:
        out = _least_upper_bound(*{_weak(n) if w else n for n, w in zip(names, weak)})
        out_weak = out in ("int", "float")
    if out != "bool" and out_weak:
        precision = floatx()[-2:]
        kind = "f" if out == "bfloat16" else out[:1]
        out = {"b": "bool", "i": f"int{precision}", "u": f"uint{precision}"}.get(
            kind, f"float{precision}")
    return _BIT64_TO_BIT32.get(out, out)
