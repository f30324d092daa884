"""``.keras`` files: Keras 3's zip archive of ``metadata.json``, ``config.json`` and
``model.weights.h5``, entries stored uncompressed as Keras writes them.

Reading never extracts anything: the three entries are read into memory after
checking the archive (no entry escaping it, no duplicate names, sizes within
limits), and the weights file is opened from memory.
"""

from __future__ import annotations

import contextlib
import datetime
import io
import json
import os
import zipfile
import zlib

from tinyann.saving import config as config_module
from tinyann.saving import h5, weights_h5
from tinyann.saving.errors import SavingError, file_error, with_file
from tinyann.utils.files import atomic_path

CONFIG_FILENAME = "config.json"
METADATA_FILENAME = "metadata.json"
WEIGHTS_FILENAME = "model.weights.h5"
# the Keras version whose file format tinyann writes (see tests/fixtures/keras/saving)
KERAS_FORMAT_VERSION = "3.15.1"
MAX_JSON_BYTES = 32 * 2**20
# HDF5 keeps about 1-2 KiB of metadata per dataset; this bounds the weights entry
_H5_OVERHEAD_PER_ARRAY = 8192
_H5_OVERHEAD_FIXED = 2**20


def save_model(model, filepath) -> None:
    """Writes ``model`` (architecture, weights, compile state) as a ``.keras`` file."""
    from tinyann._version import __version__

    config_json = json.dumps(config_module.serialize_model(model))
    metadata_json = json.dumps({
        "keras_version": KERAS_FORMAT_VERSION,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        "tinyann_version": __version__,
    })
    weights = weights_h5.weights_bytes(model)
    with atomic_path(filepath) as tmp, zipfile.ZipFile(tmp, "w") as zf:
        for name, data in ((METADATA_FILENAME, metadata_json.encode()),
                           (CONFIG_FILENAME, config_json.encode()),
                           (WEIGHTS_FILENAME, weights)):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_STORED
            info.external_attr = 0o600 << 16  # what Keras's writes carry
            zf.writestr(info, data)


def _check_member_name(name, filepath) -> None:
    parts = name.replace("\\", "/").split("/")
    if name.startswith(("/", "\\")) or ".." in parts or (len(name) > 1 and name[1] == ":"):
        raise file_error(filepath, f"the archive entry {name!r} would escape the archive")


def _read_member(zf, name, limit, filepath) -> bytes:
    info = zf.getinfo(name)
    if info.file_size > limit:
        raise file_error(
            filepath, f"the archive entry {name!r} is too large: it declares "
            f"{info.file_size} bytes, at most {limit} are expected")
    with zf.open(info) as f:
        data = f.read(limit + 1)
    if len(data) != info.file_size:
        raise file_error(filepath, f"the archive entry {name!r} is truncated")
    return data


def open_archive(filepath):
    """The ZipFile, after checking every entry name; clear errors for non-zip files."""
    if not os.path.exists(filepath):
        raise file_error(filepath, "no such file. Please ensure the file is an accessible "
                         "`.keras` zip file.")
    if h5.is_hdf5(filepath):
        raise file_error(filepath, "this is an HDF5 file, not a `.keras` zip archive; "
                         "it was probably saved as `.h5`. Rename it to end in `.h5`.")
    try:
        zf = zipfile.ZipFile(filepath, "r")
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as e:
        raise file_error(filepath, f"not a valid `.keras` zip archive "
                         f"(truncated, corrupt or another format): {e}") from None
    try:
        names = zf.namelist()
        for name in names:
            _check_member_name(name, filepath)
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise file_error(filepath, "the archive holds several entries named "
                             f"{duplicates[0]!r}")
        if CONFIG_FILENAME not in names:
            raise file_error(filepath, f"the archive has no {CONFIG_FILENAME}; it is not a "
                             "`.keras` model file")
    except BaseException:
        zf.close()
        raise
    return zf


def read_config(zf, filepath) -> dict:
    try:
        text = _read_member(zf, CONFIG_FILENAME, MAX_JSON_BYTES, filepath).decode("utf-8")
        config = json.loads(text)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as e:
        raise file_error(filepath, f"{CONFIG_FILENAME} cannot be read: {e}") from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise file_error(filepath, f"{CONFIG_FILENAME} is not valid JSON: {e}") from None
    if not isinstance(config, dict):
        raise file_error(filepath, f"{CONFIG_FILENAME} must hold a JSON object")
    return config


def load_model(filepath, custom_objects=None, compile=True):
    """The model stored in a ``.keras`` file (compiled if it was and ``compile``)."""
    with open_archive(filepath) as zf:
        config = read_config(zf, filepath)
        if not compile:
            config["compile_config"] = None
        model = build_from_config(config, custom_objects, filepath)
        load_weights_from_archive(zf, model, filepath)
    return model


def build_from_config(config, custom_objects, filepath, compile=True):
    """The model of a ``config.json`` dict; errors name ``filepath``."""
    try:
        with _random_stream_preserved():
            return config_module.deserialize_model(config, custom_objects, compile=compile)
    except SavingError as e:
        raise with_file(e, filepath) from e.__cause__
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as e:
        raise file_error(filepath, f"the model config cannot be rebuilt: "
                         f"{type(e).__name__}: {e}") from e


@contextlib.contextmanager
def _random_stream_preserved():
    """Building a model draws initial weights (overwritten by the file's right after):
    the global generator is put back, so that loading a model does not change what a
    seeded program does next (a resumed ``fit`` shuffles as an uninterrupted one)."""
    from tinyann import backend

    state = backend.rng().bit_generator.state
    try:
        yield
    finally:
        backend.rng().bit_generator.state = state


def load_weights_from_archive(zf, model, filepath, skip_mismatch=False) -> None:
    """Reads ``model.weights.h5`` from an open ``.keras`` archive into ``model``."""
    if WEIGHTS_FILENAME not in zf.namelist():
        raise file_error(filepath, f"the archive has no {WEIGHTS_FILENAME}")
    optimizer = getattr(model, "optimizer", None)
    arrays = len(model.weights) + (3 * len(model.weights) + 2 if optimizer else 0)
    nbytes = sum(int(w.size) * 8 for w in model.weights) * (4 if optimizer else 1)
    limit = nbytes + arrays * _H5_OVERHEAD_PER_ARRAY + _H5_OVERHEAD_FIXED
    try:
        data = _read_member(zf, WEIGHTS_FILENAME, limit, filepath)
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError) as e:
        raise file_error(filepath, f"{WEIGHTS_FILENAME} cannot be read: {e}") from None
    with h5.open_h5(io.BytesIO(data), filepath) as f:
        weights_h5.read_open_file(f, model, filepath, skip_mismatch=skip_mismatch)


def load_weights(model, filepath, skip_mismatch=False) -> None:
    """``model.load_weights('x.keras')``: the weights (and optimizer state) only."""
    weights_h5.check_built(model, "loading weights into")
    with open_archive(filepath) as zf:
        load_weights_from_archive(zf, model, filepath, skip_mismatch=skip_mismatch)
