"""HDF5 through h5py (optional): checked access to groups and datasets.

A weights file is read only through these helpers. They refuse links to other
files, external and virtual datasets, non-numeric data, and any dataset whose
shape differs from the weight it should fill, before reading its values, so
a file cannot make tinyann read elsewhere or allocate more than the model needs.
"""

from __future__ import annotations

import hashlib

import numpy as np

from tinyann.saving.errors import file_error

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"
# tinyann's HDF5 files start with a 512-byte user block (HDF5 skips it; h5py and
# Keras read the files as usual) holding a SHA-256 of the rest: a damaged file is
# refused before the HDF5 library parses it (a damaged HDF5 structure can make the
# library loop forever), and damaged weights cannot load silently
USERBLOCK_SIZE = 512
_MAGIC = b"TINYANN-HDF5-SHA256"


def require_h5py(what="HDF5 files (.h5, .weights.h5, .keras)"):
    """The h5py module, or an ImportError saying how to install it."""
    try:
        import h5py
    except ImportError as e:
        raise ImportError(
            f"Saving and loading {what} requires the h5py package. "
            "You can install it via `pip install h5py` (or `pip install tinyann[app]`)."
        ) from e
    return h5py


def is_hdf5(filepath) -> bool:
    """Whether the file has the HDF5 signature (at offset 0, or after tinyann's block)."""
    try:
        with open(filepath, "rb") as f:
            head = f.read(USERBLOCK_SIZE + 8)
    except OSError:
        return False
    return head[:8] == HDF5_SIGNATURE or head[USERBLOCK_SIZE:] == HDF5_SIGNATURE


def seal(path) -> None:
    """Writes the checksum block into a file made with ``userblock_size=USERBLOCK_SIZE``.

    The block holds ``magic sha256 length`` twice, at its start and at its end, so one
    damaged copy still identifies the file as tinyann's.
    """
    with open(path, "r+b") as f:
        f.seek(USERBLOCK_SIZE)
        digest, size = _digest(f)
        record = b"%s %s %020d\n" % (_MAGIC, digest.encode(), size)
        f.seek(0)
        f.write(record + bytes(USERBLOCK_SIZE - 2 * _RECORD) + record)


_RECORD = len(_MAGIC) + 1 + 64 + 1 + 20 + 1


def _digest(f):
    sha, size = hashlib.sha256(), 0
    for chunk in iter(lambda: f.read(2**20), b""):
        sha.update(chunk)
        size += len(chunk)
    return sha.hexdigest(), size


def _parse_record(record):
    parts = record.rstrip(b"\n").split(b" ")
    if len(parts) != 3 or parts[0] != _MAGIC or not parts[2].isdigit() or len(parts[1]) != 64:
        return None
    return parts[1].decode("ascii", "replace"), int(parts[2])


def verify(filepath) -> None:
    """Checks tinyann's checksum block, if the file has one (Keras's files do not)."""
    try:
        with open(filepath, "rb") as f:
            block = f.read(USERBLOCK_SIZE)
            copies = [block[:_RECORD], block[USERBLOCK_SIZE - _RECORD:]]
            if not any(c.startswith(_MAGIC) for c in copies):
                return
            parsed = [p for p in map(_parse_record, copies) if p]
            f.seek(USERBLOCK_SIZE)
            digest, actual = _digest(f)
    except FileNotFoundError:
        raise file_error(filepath, "no such file") from None
    if not parsed:
        raise file_error(filepath, "the file is damaged: its checksum block is unreadable")
    expected, size = parsed[0]
    if actual != size:
        raise file_error(filepath, f"the file is truncated or damaged: it holds {actual} "
                         f"bytes of HDF5 data, {size} were written")
    if digest != expected:
        raise file_error(filepath, "the file is damaged: its checksum does not match "
                         "what was written (SHA-256)")


def open_h5(source, filepath, mode="r"):
    """``h5py.File`` on a path or file object, with a clear error for non-HDF5 data."""
    h5py = require_h5py()
    try:
        return h5py.File(source, mode)
    except FileNotFoundError:
        raise file_error(filepath, "no such file") from None
    except (OSError, ValueError) as e:
        raise file_error(
            filepath, f"not a readable HDF5 file (truncated, corrupt or another format): {e}"
        ) from None


def get_group(parent, path, filepath, required=True):
    """The group at ``path`` ('a/b/c') under ``parent``; None if absent and not required."""
    h5py = require_h5py()
    current = parent
    for part in path.split("/"):
        if not part:
            raise file_error(filepath, f"invalid group path {path!r}")
        if part not in current:
            if required:
                raise file_error(filepath, f"missing group '{current.name.rstrip('/')}/{part}'")
            return None
        current = _member(current, part, filepath)
        if not isinstance(current, h5py.Group):
            raise file_error(filepath, f"expected a group at {current.name!r}, found a dataset")
    return current


def _member(group, name, filepath):
    """``group[name]``, refusing soft and external links (they could point anywhere)."""
    h5py = require_h5py()
    link = group.get(name, getclass=True, getlink=True)
    if link in (h5py.ExternalLink, h5py.SoftLink):
        raise file_error(filepath, f"'{name}' is a {link.__name__}; links are not allowed")
    return group[name]


def get_dataset(group, name, filepath):
    """The dataset ``name`` in ``group`` after the safety checks (values not read yet)."""
    h5py = require_h5py()
    if "/" in name:
        group_path, name = name.rsplit("/", 1)
        group = get_group(group, group_path, filepath)
    if name not in group:
        raise file_error(filepath, f"missing dataset '{group.name.rstrip('/')}/{name}'")
    ds = _member(group, name, filepath)
    if not isinstance(ds, h5py.Dataset):
        raise file_error(filepath, f"expected a dataset at {ds.name!r}, found a group")
    if ds.external or ds.is_virtual:
        raise file_error(filepath, f"dataset {ds.name!r} keeps its data outside the file")
    if ds.dtype.kind not in "fiub":
        raise file_error(
            filepath, f"dataset {ds.name!r} holds {ds.dtype} values, expected numbers")
    return ds


def read_dataset(ds, expected_shape, filepath, what):
    """The values of ``ds`` if its shape is ``expected_shape``, else a clear error."""
    shape = tuple(int(d) for d in ds.shape)
    if expected_shape is not None and shape != tuple(expected_shape):
        raise file_error(
            filepath,
            f"shape mismatch for {what}: the model expects shape {tuple(expected_shape)}, "
            f"the file has shape {shape} (dataset {ds.name!r})",
        )
    try:
        return np.asarray(ds[()])
    except (OSError, ValueError, TypeError, RuntimeError) as e:
        raise file_error(filepath, f"dataset {ds.name!r} cannot be read: {e}") from None


def attr_strings(node, name, filepath) -> list[str]:
    """A list-of-strings attribute (Keras splits long ones into name0, name1...)."""
    if name in node.attrs:
        chunks = [node.attrs[name]]
    else:
        chunks, i = [], 0
        while f"{name}{i}" in node.attrs:
            chunks.append(node.attrs[f"{name}{i}"])
            i += 1
    out = []
    for chunk in chunks:
        values = np.atleast_1d(np.asarray(chunk))
        if values.size and values.dtype.kind not in "OSU":
            raise file_error(filepath, f"attribute {name!r} of {node.name!r} is not text")
        for v in values.tolist():
            out.append(_text(v, filepath, name))
    return out


def attr_text(node, name, filepath, default=None):
    """A string attribute (stored as str or UTF-8 bytes); ``default`` if absent."""
    if name not in node.attrs:
        return default
    value = node.attrs[name]
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value.item()
    return _text(value, filepath, name)


def _text(value, filepath, name) -> str:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise file_error(filepath, f"attribute {name!r} is not valid UTF-8") from None
    if isinstance(value, str):
        return value
    raise file_error(filepath, f"attribute {name!r} is not text: {type(value).__name__}")
