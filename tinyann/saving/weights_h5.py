"""``.weights.h5`` files: the model's variables (and its optimizer's) in Keras 3's layout.

The layout is described in ``state.py``; weights are matched by position, so a
fresh model of the same architecture, whatever its layer names, loads the file.
"""

from __future__ import annotations

import io
import os

from tinyann.saving import h5, state
from tinyann.saving.errors import file_error, reading
from tinyann.utils.files import atomic_path

WEIGHTS_SUFFIX = ".weights.h5"


def check_built(model, action) -> None:
    if not model.built or getattr(model, "_graph", True) is None:
        raise ValueError(
            f"You are {action} a model that has not yet been built. Try building the model "
            "first by calling it on some data or by using `build()`."
        )


def save_weights(model, filepath) -> None:
    """Writes ``model``'s variables to ``filepath`` (``.weights.h5``) atomically."""
    check_built(model, "saving")
    h5py = h5.require_h5py()
    with atomic_path(filepath) as tmp:
        with h5py.File(tmp, "w", userblock_size=h5.USERBLOCK_SIZE) as f:
            state.write(f, model)
        h5.seal(tmp)


def weights_bytes(model, include_optimizer=True) -> bytes:
    """The ``.weights.h5`` content as bytes (the ``model.weights.h5`` of a ``.keras``)."""
    h5py = h5.require_h5py()
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as f:
        state.write(f, model, include_optimizer=include_optimizer)
    return buffer.getvalue()


def load_weights(model, filepath, skip_mismatch=False) -> None:
    """Loads a ``.weights.h5`` file into ``model`` by position.

    Raises:
        InvalidFileError: the file is missing, not HDF5, or its weights do not fit
            the model (count or shape); the model is then left unchanged.
    """
    check_built(model, "loading weights into")
    if not os.path.exists(filepath):
        raise file_error(filepath, "no such file")
    h5.verify(filepath)
    with h5.open_h5(filepath, filepath) as f:
        read_open_file(f, model, filepath, skip_mismatch=skip_mismatch)


def read_open_file(f, model, filepath, include_optimizer=True, skip_mismatch=False) -> None:
    """Reads an open Keras-3-layout HDF5 file into ``model``, naming ``filepath`` on error."""
    with reading(filepath):
        state.read(f, model, filepath, include_optimizer=include_optimizer,
                   skip_mismatch=skip_mismatch)
