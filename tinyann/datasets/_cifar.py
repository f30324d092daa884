"""Reading CIFAR-10 and CIFAR-100 as Keras does, from the "python version" archives.

Each archive holds a folder (``cifar-10-batches-py`` or ``cifar-100-python``) of batch
files; each batch is a Python 2 pickle of a dict with byte-string keys: ``data``, a
uint8 array (images, 3072) laid out channel by channel (1024 red, 1024 green, 1024
blue values, each row by row), and the labels as a list of ints (``labels``, or
``fine_labels`` and ``coarse_labels``), plus ``batch_label`` and ``filenames``. Images
come out channels-last, ``(n, 32, 32, 3)``, as Keras gives them under its default
``image_data_format``.

The pickles are read by ``_keras_files.RestrictedUnpickler``: dicts, lists, ints and
strings are pickle's own opcodes, and the only globals admitted are NumPy's array
reconstruction, so a tampered batch raises ``UnsafeFileError`` instead of running code.

Where the data come from, in order:

1. ``path=``: the archive (``.tar.gz``, any hash; one not Keras's gets a warning), or a
   folder holding the extracted folder or the batch files themselves;
2. ``$TINYANN_DATA_DIR/<name>/``: the archive, or the extracted folder;
3. Keras's cache ``~/.keras/datasets/`` (Keras 3's ``<folder>-target_archive``, or Keras
   2's ``<folder>.tar.gz``), then tinyann's cache ``<cache>/datasets/<name>/<archive>``,
   both only with Keras's SHA-256 of the archive;
4. a download of the archive from the CIFAR home page (Keras's origin; the variable
   ``TINYANN_<NAME>_ORIGIN`` replaces the folder URL) into tinyann's cache.
"""

from __future__ import annotations

import os
import tarfile
from dataclasses import dataclass

import numpy as np

from tinyann.datasets import _keras_files, _sources

#: The folder Keras downloads both archives from.
ORIGIN = "https://www.cs.toronto.edu/~kriz/"
PIXELS = 32 * 32 * 3


@dataclass(frozen=True)
class Archive:
    """One CIFAR archive: its names, Keras's SHA-256, and the batches to read."""

    title: str  # "CIFAR-10"
    name: str  # tinyann's cache folder and $TINYANN_DATA_DIR subfolder: "cifar10"
    archive: str  # file name at the origin: "cifar-10-python.tar.gz"
    folder: str  # the folder inside: "cifar-10-batches-py"
    sha256: str
    keras_names: tuple  # names Keras's cache holds the archive under


def _what(archive: Archive) -> str:
    return (f"a {archive.title} batch holds only a dict of byte strings, lists of ints "
            "and one uint8 array")


def source(archive: Archive, path=None) -> str:
    """The archive file or extracted folder to read (see the module docstring)."""
    if path is None:
        data_dir = os.environ.get(_sources.ENV_DATA_DIR)
        if data_dir:
            folder = os.path.join(os.path.expanduser(data_dir), archive.name, archive.folder)
            if os.path.isdir(folder):
                return folder
        fname = archive.archive
    else:
        fname = os.path.abspath(os.fspath(path))
        if os.path.isdir(fname):
            nested = os.path.join(fname, archive.folder)
            return nested if os.path.isdir(nested) else fname
    return _keras_files.fetch(archive.title, archive.name, fname, "sha256", archive.sha256,
                              remote=archive.archive, origin=ORIGIN,
                              keras_names=archive.keras_names, stacklevel=5)


def read_members(where: str, archive: Archive, names) -> dict:
    """``{name: bytes}`` of the batch files ``names``, from an archive or a folder."""
    if os.path.isdir(where):
        out = {}
        for name in names:
            file = os.path.join(where, name)
            if not os.path.isfile(file):
                raise FileNotFoundError(f"{archive.title}: {where} has no batch file {name!r} "
                                        f"(expected {', '.join(names)})")
            with open(file, "rb") as f:
                out[name] = f.read()
        return out
    try:
        found = {}
        with tarfile.open(where, "r:*") as tar:
            # one pass in archive order (a gzip stream cannot seek back cheaply), reading
            # members' bytes only: nothing is extracted, so no name in it can write a file
            for member in tar:
                name = os.path.basename(member.name)
                if member.isfile() and name in names:
                    found[name] = tar.extractfile(member).read()
        missing = [n for n in names if n not in found]
        if missing:
            raise ValueError(f"{where}: the archive has no batch file(s) {missing} "
                             f"(expected {archive.folder}/ with {', '.join(names)})")
        return found
    except (tarfile.TarError, EOFError, OSError) as error:
        raise ValueError(f"{where} is not a readable {archive.title} archive (a .tar.gz "
                         f"of {archive.folder}/): {error}") from None


def parse_batch(data: bytes, where: str, archive: Archive, label_key: str):
    """``(images (n, 32, 32, 3) uint8, labels list of ints)`` of one pickled batch."""
    # encoding="bytes": Python 2 strings arrive as bytes, as Keras reads them
    batch = _keras_files.unpickle(data, where, _what(archive), encoding="bytes")
    if not isinstance(batch, dict):
        raise ValueError(f"{where}: expected a pickled dict, found {type(batch).__name__}")
    batch = {k.decode("utf8") if isinstance(k, bytes) else k: v for k, v in batch.items()}
    if "data" not in batch or label_key not in batch:
        raise ValueError(f"{where}: expected keys 'data' and {label_key!r}, found "
                         f"{sorted(map(str, batch))}")
    pixels, labels = batch["data"], batch[label_key]
    if not isinstance(pixels, np.ndarray) or pixels.dtype != np.uint8 or pixels.ndim != 2 \
            or pixels.shape[1] != PIXELS:
        raise ValueError(f"{where}: expected 'data' as a uint8 array (n, {PIXELS}), found "
                         f"{getattr(pixels, 'dtype', type(pixels).__name__)} "
                         f"{getattr(pixels, 'shape', '')}")
    labels = list(labels) if isinstance(labels, (list, np.ndarray)) else None
    if labels is None or not all(isinstance(v, (int, np.integer)) for v in labels) \
            or len(labels) != len(pixels):
        raise ValueError(f"{where}: expected {label_key!r} as a list of {len(pixels)} ints")
    # stored channel by channel (n, 3, 32, 32); Keras's default layout is channels-last.
    # One contiguous copy now, so batches sliced from it later are contiguous too.
    images = np.ascontiguousarray(pixels.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    return images, labels


def load_batches(archive: Archive, path, names, label_key: str):
    """``{name: (images, labels)}`` for the batch files ``names``."""
    where = source(archive, path)
    raw = read_members(where, archive, names)
    return {name: parse_batch(raw[name], f"{where}:{name}", archive, label_key)
            for name in names}
