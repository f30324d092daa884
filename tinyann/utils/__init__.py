"""Utilities with Keras's names: ``set_random_seed``, ``to_categorical``, ``Progbar``,
``pad_sequences``, ``clear_session``, the (de)serialization and registration helpers,
``split_dataset``, ``pack_x_y_sample_weight`` / ``unpack_x_y_sample_weight``..."""

from __future__ import annotations

import numpy as np

from tinyann.backend import (
    clear_session,
    is_keras_tensor,
    set_random_seed,
    standardize_dtype,
)
from tinyann.config import (
    disable_interactive_logging,
    enable_interactive_logging,
    is_interactive_logging_enabled,
)
from tinyann.utils.config import Config
from tinyann.utils.data_utils import (
    get_source_inputs,
    pack_x_y_sample_weight,
    split_dataset,
    unpack_x_y_sample_weight,
)
from tinyann.utils.file_utils import get_file
from tinyann.utils.image_dataset import image_dataset_from_directory
from tinyann.utils.image_utils import array_to_img, img_to_array, load_img, save_img
from tinyann.utils.plot_model import plot_model
from tinyann.utils.progbar import Progbar
from tinyann.utils.py_dataset import PyDataset, Sequence
from tinyann.utils.sequence_utils import pad_sequences
from tinyann.utils.text_dataset import text_dataset_from_directory
from tinyann.utils.timeseries_dataset import timeseries_dataset_from_array

__all__ = ["set_random_seed", "to_categorical", "normalize", "Progbar", "PyDataset",
           "Sequence", "plot_model", "pad_sequences", "image_dataset_from_directory",
           "load_img", "img_to_array", "array_to_img", "save_img",
           "timeseries_dataset_from_array", "get_file", "text_dataset_from_directory",
           "clear_session", "is_keras_tensor", "standardize_dtype", "Config",
           "disable_interactive_logging", "enable_interactive_logging",
           "is_interactive_logging_enabled", "register_keras_serializable",
           "get_custom_objects", "get_registered_name", "get_registered_object",
           "custom_object_scope", "CustomObjectScope", "serialize_keras_object",
           "deserialize_keras_object", "get_source_inputs", "pack_x_y_sample_weight",
           "unpack_x_y_sample_weight", "split_dataset"]



# keras.saving's objects, loaded on first use: `import tinyann` does not load saving
_FROM_SAVING = ("CustomObjectScope", "custom_object_scope", "get_custom_objects",
                "get_registered_name", "get_registered_object", "register_keras_serializable",
                "serialize_keras_object", "deserialize_keras_object")


def __getattr__(name):
    if name in _FROM_SAVING:
        from tinyann import saving

        return getattr(saving, name)
    raise AttributeError(f"module 'tinyann.utils' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_FROM_SAVING))


def to_categorical(x, num_classes=None) -> np.ndarray:
    """One-hot encodes integer labels. (N,) or (N, 1) -> (N, num_classes).

    float64, as Keras 3 gives for NumPy input (training casts to float32 anyway).
    Unlike Keras, which casts to int64 silently, non-integer or negative labels
    are an error here.
    """
    x = np.asarray(x)
    if x.dtype.kind not in "biuf":
        raise ValueError(
            f"`to_categorical` expects integer class labels. Received: an array of dtype "
            f"{x.dtype}"
        )
    if x.ndim > 1 and x.shape[-1] == 1:
        x = x.reshape(x.shape[:-1])
    if x.size and (x.dtype.kind not in "iub" and np.any(x != np.round(x))):
        raise ValueError(
            f"`to_categorical` expects integer class labels. Received dtype {x.dtype} "
            "with non-integer values"
        )
    labels = x.astype(np.int64)
    if labels.size and labels.min() < 0:
        raise ValueError(
            f"`to_categorical` expects labels >= 0. Received: min label {labels.min()}"
        )
    if num_classes is None:
        num_classes = int(labels.max()) + 1 if labels.size else 0
    elif labels.size and labels.max() >= num_classes:
        raise ValueError(
            f"Labels must be in [0, num_classes={num_classes}). "
            f"Received: max label {labels.max()}"
        )
    out = np.zeros(labels.shape + (num_classes,), dtype="float64")
    np.put_along_axis(out, labels[..., None], 1.0, axis=-1)
    return out


def normalize(x, axis=-1, order=2) -> np.ndarray:
    """Scales ``x`` to unit ``order``-norm along ``axis`` (zero vectors stay zero).

    Float input keeps its dtype, as Keras's NumPy path.
    """
    x = np.asarray(x)
    if x.dtype.kind != "f":
        x = x.astype("float32")
    norm = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return x / np.where(norm == 0, 1, norm)
