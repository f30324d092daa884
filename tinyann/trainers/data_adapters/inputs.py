"""The checks every array given to ``fit`` / ``evaluate`` / ``predict`` gets once per
call: numeric, with a batch axis, the same number of samples; and the batch size."""

from __future__ import annotations

import numpy as np

from tinyann import backend


def _name(i, n):
    return "x" if n == 1 else f"x[{i}]"


def flatten_inputs(x, names=None) -> list:
    """``x`` (an array, a list / tuple of arrays, or a dict keyed by input name) as a
    list in the model's input order.

    Args:
        x: the inputs as the user gave them.
        names: the model's input names in its input order (None: not known yet, a
            dict is then read in sorted key order, as Keras flattens dicts).
    """
    if isinstance(x, dict):
        if names is None:
            return [x[k] for k in sorted(x)]
        missing = [n for n in names if n not in x]
        if missing:
            raise ValueError(
                f'Missing data for input "{missing[0]}". You passed a data dictionary '
                f"with keys {list(x)}. Expected the following keys: {list(names)}"
            )
        return [x[n] for n in names]
    if isinstance(x, (list, tuple)):
        return list(x)
    return [x]


def as_input_arrays(x, what="x", names=None, kept=None) -> list[np.ndarray]:
    """``x`` as a list of arrays with at least one axis, in the model's input order
    (``names``, see ``flatten_inputs``). ``kept``: the inputs' declared non-float
    dtypes (see ``cast_inputs``); only an input declared ``"string"`` takes strings."""
    items = flatten_inputs(x, names)
    out = []
    for i, item in enumerate(items):
        if item is None:
            raise ValueError(f"Expected `{what}` to be an array. Received: None")
        arr = np.asarray(item)
        label = _name(i, len(items)) if what == "x" else what
        declared = kept[i] if kept is not None and i < len(kept) else None
        if arr.dtype.kind not in "biuf" and not (
                declared == "string" and arr.dtype.kind in "USO"):
            where = f" (input '{names[i]}')" if names is not None and i < len(names) else ""
            expected = "strings" if declared == "string" else (
                f"dtype {declared}" if declared is not None
                else "a numeric array (float, int, uint8 or bool)")
            raise ValueError(
                f"Expected `{label}`{where} to be {expected}. "
                f"Received: an array of dtype {arr.dtype}"
            )
        if arr.ndim == 0:
            raise ValueError(
                f"Expected `{label}` to have a batch axis. Received: a scalar {arr!r}"
            )
        if arr.shape[0] == 0:
            raise ValueError(
                f"Expected `{label}` to hold at least one sample. Received: an empty array "
                f"of shape {arr.shape}"
            )
        # the float conversion happens batch by batch (see ArrayData.batches): a
        # 150 MB float32 copy of a training set costs more than the whole fit here
        out.append(arr)
    return out


def is_float_dtype(dtype) -> bool:
    """Whether an ``Input``'s declared dtype is a float one (None: floatx)."""
    return dtype is None or str(dtype).startswith(("float", "bfloat"))


def cast_inputs(arrays, kept, floatx) -> list[np.ndarray]:
    """The inputs as the model's layers take them: floats (and the data of float
    inputs given as ints) in ``floatx``; an input declared int, bool or string
    (``kept[i]``, None for a float input; ``kept`` None: all float) keeps its dtype,
    as in Keras 3, strings as NumPy str / object arrays."""
    if kept is None:
        return [np.asarray(a, dtype=floatx) for a in arrays]
    return [np.asarray(a, dtype=floatx) if d is None else as_declared(a, d)
            for a, d in zip(arrays, kept)]


def as_declared(a, dtype) -> np.ndarray:
    """``a`` in an input's declared non-float dtype (``"string"``: as given; floats
    given to an int input are cast, truncated, as Keras's ``convert_to_tensor``)."""
    a = np.asarray(a)
    if dtype == "string":
        return a
    return a.astype(dtype, copy=False)


def as_target_array(y, name="y") -> np.ndarray:
    arr = np.asarray(y)
    if arr.dtype.kind not in "biuf":
        raise ValueError(
            f"Expected `{name}` to be a numeric array. Received: an array of dtype {arr.dtype}"
        )
    if arr.ndim == 0 or arr.shape[0] == 0:
        raise ValueError(
            f"Expected `{name}` to hold at least one sample. Received: shape {arr.shape}"
        )
    if arr.dtype.kind == "f" and not np.isfinite(arr).all():
        raise ValueError(f"`{name}` contains NaN or infinite values.")
    return arr


def check_lengths(xs, y=None, sample_weight=None) -> int:
    n = xs[0].shape[0]
    for i, a in enumerate(xs):
        if a.shape[0] != n:
            raise ValueError(
                "Data cardinality is ambiguous: all inputs must have the same number of "
                f"samples. Received: x[0] with {n} samples and x[{i}] with {a.shape[0]}"
            )
    for label, arr in (("y", y), ("sample_weight", sample_weight)):
        if arr is not None and arr.shape[0] != n:
            raise ValueError(
                "Data cardinality is ambiguous. Make sure all arrays contain the same number "
                f"of samples. Received: x sizes: {n}, {label} sizes: {arr.shape[0]}"
            )
    return n


def check_batch_size(batch_size, default=32) -> int:
    if batch_size is None:
        return default
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or (
            batch_size <= 0):
        raise ValueError(
            f"Expected `batch_size` to be a positive integer. Received: batch_size={batch_size!r}"
        )
    return int(batch_size)


def class_weight_to_sample_weights(class_weight, y) -> np.ndarray:
    """Per-sample weights from ``{class: weight}`` for integer or one-hot targets;
    classes not in the dict weigh 1.0 (Keras's rule, labels rounded)."""
    if not isinstance(class_weight, dict):
        raise ValueError(
            "`class_weight` must be a dict mapping class indices to weights. "
            f"Received: class_weight={class_weight!r}"
        )
    y = np.asarray(y)
    if y.ndim > 1:
        y = y.argmax(axis=-1) if y.shape[-1] != 1 else y[..., 0]
    labels = np.round(y).astype(np.int64).reshape(len(y))
    weights = np.ones(len(labels), dtype=backend.floatx())
    for cls, w in class_weight.items():
        weights[labels == int(cls)] = w
    return weights


def is_iterable_data(x) -> bool:
    """Whether ``x`` is a source of batches rather than an array or list of arrays."""
    if isinstance(x, (np.ndarray, list, tuple, dict)) or x is None:
        return False
    if hasattr(x, "__array__") or np.isscalar(x):
        return False
    return hasattr(x, "__iter__") or hasattr(x, "__getitem__")
