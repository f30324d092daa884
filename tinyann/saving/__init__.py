"""Saving and loading models, interchangeable with Keras 3.

    model.save("model.keras")              # Keras 3's zip: config + weights + optimizer
    model.save("model.h5")                 # legacy HDF5, as Keras 3 / tf.keras write it
    model.save_weights("model.weights.h5") # Keras 3's weights file
    model = tinyann.models.load_model("model.keras")

Files are written atomically and never pickled; loading runs no code from the
file (a class resolves only to tinyann's own or to one you registered).
HDF5 needs h5py (``pip install h5py``).
"""

from __future__ import annotations

import json
import os
import warnings

from tinyann.saving.errors import (
    InvalidFileError,
    SavingError,
    UnknownObjectError,
    UnsafeObjectError,
)
from tinyann.saving.registry import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from tinyann.saving.serialization import deserialize_keras_object, serialize_keras_object

__all__ = ["save_model", "load_model", "save_weights", "load_weights", "model_from_json",
           "register_keras_serializable", "get_custom_objects",
           "get_registered_name", "get_registered_object", "custom_object_scope",
           "CustomObjectScope", "serialize_keras_object", "deserialize_keras_object",
           "SavingError", "InvalidFileError", "UnknownObjectError", "UnsafeObjectError"]

_LEGACY_SUFFIXES = (".h5", ".hdf5")


def _ask_to_proceed(filepath) -> bool:
    """Keras's prompt before overwriting when ``overwrite=False``."""
    try:
        answer = input(f"[WARNING] {filepath} already exists - overwrite? [y/n]").strip().lower()
        while answer not in ("y", "n"):
            answer = input('Enter "y" (overwrite) or "n" (cancel).').strip().lower()
    except EOFError:
        raise FileExistsError(
            f"{filepath} already exists and overwrite=False (no terminal to ask)") from None
    if answer == "n":
        return False
    print("[TIP] Next time specify overwrite=True!")
    return True


def save_model(model, filepath, overwrite=True, zipped=None, **kwargs):
    """Saves ``model`` as ``.keras`` (recommended) or legacy ``.h5``.

    Args:
        filepath: path ending in ``.keras``, ``.h5`` or ``.hdf5``.
        overwrite: if False and the file exists, ask before replacing it.
        include_optimizer: (``.h5`` only) also save the compile state.
    """
    include_optimizer = kwargs.pop("include_optimizer", True)
    save_format = kwargs.pop("save_format", None)
    if kwargs:
        raise ValueError(f"The following argument(s) are not supported: {list(kwargs)}")
    path = os.fspath(filepath)
    if save_format and not path.endswith((".keras", *_LEGACY_SUFFIXES)):
        raise ValueError(
            "The `save_format` argument is deprecated in Keras 3. Please remove this "
            "argument and pass a file path with either `.keras` or `.h5` extension."
            f"Received: save_format={save_format}")
    if zipped is False:
        raise NotImplementedError("tinyann saves `.keras` files zipped only (zipped=False "
                                  "writes a directory in Keras)")
    if not path.endswith((".keras", *_LEGACY_SUFFIXES)):
        raise ValueError(
            "Invalid filepath extension for saving. Please add either a `.keras` extension "
            "for the native Keras format (recommended) or a `.h5` extension. "
            f"Received: filepath={path}.")
    if os.path.exists(path) and not overwrite and not _ask_to_proceed(path):
        return
    if not model.built:
        warnings.warn("You are saving a model that has not yet been built. It might not "
                      "contain any weights yet. Consider building the model first by "
                      "calling it on some data.", stacklevel=3)
    if path.endswith(".keras"):
        from tinyann.saving import keras_zip

        keras_zip.save_model(model, path)
    else:
        from tinyann.saving import legacy_h5

        legacy_h5.save_model(model, path, include_optimizer=include_optimizer)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Loads a model saved with ``model.save()`` (``.keras`` or legacy ``.h5``).

    Args:
        custom_objects: ``{name: class or function}`` for custom layers, losses...
        compile: whether to restore the compile state (optimizer with its slots,
            loss, metrics), so ``evaluate`` works at once and ``fit`` resumes.
        safe_mode: accepted for Keras compatibility; tinyann never runs code from
            a file either way.

    Raises:
        InvalidFileError: missing, truncated, corrupt or oversized file, wrong
            format, or weights that do not fit the architecture.
        UnknownObjectError: a class or function that is not built in or registered.
    """
    # (a scope: nested layers' configs, read by the layers themselves, see them too)
    with custom_object_scope(custom_objects):
        return _load_model(os.fspath(filepath), custom_objects, compile)


def _load_model(path, custom_objects, compile):
    if path.endswith(".keras"):
        from tinyann.saving import keras_zip

        return keras_zip.load_model(path, custom_objects=custom_objects, compile=compile)
    if path.endswith(_LEGACY_SUFFIXES):
        from tinyann.saving import h5, legacy_h5

        if os.path.exists(path) and not h5.is_hdf5(path) and _is_zip(path):
            raise InvalidFileError(
                f"Cannot load {path!r}: this is a `.keras` zip archive, not an HDF5 file. "
                "Rename it to end in `.keras`.", path)
        return legacy_h5.load_model(path, custom_objects=custom_objects, compile=compile)
    raise ValueError(
        f"File format not supported: filepath={path}. Keras 3 only supports V3 `.keras` "
        "files and legacy H5 format files (`.h5` extension).")


def _is_zip(path) -> bool:
    import zipfile

    try:
        return zipfile.is_zipfile(path)
    except OSError:
        return False


def save_weights(model, filepath, overwrite=True, max_shard_size=None):
    """Saves the weights (and optimizer state) to a ``.weights.h5`` file."""
    path = os.fspath(filepath)
    if max_shard_size is not None:
        raise NotImplementedError("tinyann does not write sharded weights (max_shard_size)")
    if not path.endswith(".weights.h5"):
        raise ValueError(f"The filename must end in `.weights.h5`. Received: filepath={path}")
    if os.path.exists(path) and not overwrite and not _ask_to_proceed(path):
        return
    from tinyann.saving import weights_h5

    weights_h5.save_weights(model, path)


def load_weights(model, filepath, skip_mismatch=False, **kwargs):
    """Loads weights from ``.weights.h5``, ``.keras`` or legacy ``.h5`` (by position;
    ``by_name=True`` matches layer names in legacy files)."""
    by_name = kwargs.pop("by_name", None)
    if kwargs:
        raise ValueError(f"Invalid keyword arguments: {kwargs}")
    path = os.fspath(filepath)
    if by_name is not None and (path.endswith(".weights.h5") or not path.endswith(
            _LEGACY_SUFFIXES)):
        raise ValueError("`by_name` only supports loading legacy '.h5' or '.hdf5' files. "
                         f"Received: {path}")
    if path.endswith(".keras"):
        from tinyann.saving import keras_zip

        return keras_zip.load_weights(model, path, skip_mismatch=skip_mismatch)
    if path.endswith(".weights.h5"):
        from tinyann.saving import weights_h5

        return weights_h5.load_weights(model, path, skip_mismatch=skip_mismatch)
    if path.endswith(_LEGACY_SUFFIXES):
        from tinyann.saving import legacy_h5, weights_h5

        weights_h5.check_built(model, "loading weights into")
        return legacy_h5.load_weights(model, path, skip_mismatch=skip_mismatch,
                                      by_name=bool(by_name))
    raise ValueError(
        f"File format not supported: filepath={path}. Keras 3 only supports V3 `.keras` "
        "files, `.weights.h5` files, or legacy H5 format files (`.h5` extension).")


def model_from_json(json_string, custom_objects=None):
    """A model (compiled if the JSON has a compile config) from ``model.to_json()``."""
    from tinyann.saving import keras_zip

    try:
        config = json.loads(json_string)
    except (TypeError, json.JSONDecodeError) as e:
        raise InvalidFileError(f"model_from_json received invalid JSON: {e}") from None
    if not isinstance(config, dict):
        raise InvalidFileError("model_from_json expects a JSON object (from `to_json()`).")
    with custom_object_scope(custom_objects):
        return keras_zip.build_from_config(config, custom_objects, "<json string>")
