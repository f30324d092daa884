"""Files that Keras downloads from its own origins: finding one, checking its hash, and
reading pickled data in it without letting pickle run code.

Shared by ``imdb``, ``reuters``, ``cifar10``/``cifar100``, ``boston_housing`` and
``california_housing``. Where a file comes from, in order (:func:`fetch`):

1. ``path=`` given as the path of a file (it has a folder part): read as it is, any hash
   (a file that is not Keras's gets a one-line warning);
2. ``$TINYANN_DATA_DIR/<name>/<file>``: the same (a user's own or synthetic file);
3. Keras's cache ``~/.keras/datasets/<file>`` (``$KERAS_HOME``), under each name Keras
   has used, then tinyann's cache ``<cache>/datasets/<name>/<file>``: used only when the
   file has Keras's hash;
4. a download from Keras's origin (``$TINYANN_<NAME>_ORIGIN`` replaces the folder URL)
   into tinyann's cache, checked before it is kept.

Pickle can call any function named in the file, so ``np.load(allow_pickle=True)`` or a
plain ``pickle.load`` on a downloaded file would run whatever a tampered file asks for.
:class:`RestrictedUnpickler` admits NumPy's array reconstruction and nothing else; the
dicts, lists, ints and strings the datasets hold are pickle's own opcodes and need no
global, so every other object is refused with :class:`UnsafeFileError`.
"""

from __future__ import annotations

import hashlib
import io
import os
import pickle
import sys
import urllib.request
import warnings
import zipfile

import numpy as np

from tinyann.datasets import _sources

#: Where Keras keeps every dataset file it downloads.
ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

# The three globals that rebuild a NumPy array, under NumPy 1's and NumPy 2's names.
_ARRAY_GLOBALS = frozenset({
    ("numpy", "ndarray"), ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
})


class UnsafeFileError(ValueError):
    """A dataset file whose pickled data asks for objects the dataset never holds."""


class RestrictedUnpickler(pickle.Unpickler):
    """``pickle.Unpickler`` that admits NumPy's array reconstruction and nothing else.

    ``what`` names the file's kind for the error, e.g. ``"an imdb.npz holds only arrays
    of lists of word ids"``.
    """

    def __init__(self, file, what: str, **kwargs):
        super().__init__(file, **kwargs)
        self.what = what

    def find_class(self, module, name):
        if (module, name) in _ARRAY_GLOBALS:
            return super().find_class(module, name)
        raise UnsafeFileError(
            f"refused to load {module}.{name}: {self.what}; this file asks for other "
            "objects (tampered or not this dataset's file)")


def unpickle(data: bytes, where: str, what: str, encoding: str = "ASCII"):
    """The object pickled in ``data``, through :class:`RestrictedUnpickler`.

    Raises:
        UnsafeFileError: the pickle names any global but NumPy's array reconstruction.
        ValueError: ``data`` is not a complete pickle (the message names ``where``).
    """
    try:
        return RestrictedUnpickler(io.BytesIO(data), what, encoding=encoding).load()
    except UnsafeFileError as error:
        raise UnsafeFileError(f"{where}: {error}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError,
            IndexError, KeyError, UnicodeDecodeError) as error:
        raise ValueError(f"{where}: not a readable pickle ({type(error).__name__}: "
                         f"{error})") from None


# ---------------------------------------------------------------- .npz archives
def _read_npy(data: bytes, where: str, what: str, check_objects) -> np.ndarray:
    stream = io.BytesIO(data)
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
    else:  # 3.0 differs from 2.0 only in the header's text encoding
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
    if dtype.hasobject:
        if check_objects is None:
            raise UnsafeFileError(f"{where}: refused an array of pickled objects; {what}")
        array = unpickle(stream.read(), where, what)
        check_objects(array, where)
        return array
    count = int(np.prod(shape))
    raw = stream.read(count * dtype.itemsize)
    if len(raw) != count * dtype.itemsize:
        raise ValueError(f"{where}: truncated array (expected {count * dtype.itemsize} "
                         f"bytes, found {len(raw)})")
    array = np.frombuffer(raw, dtype=dtype, count=count)
    return array.reshape(shape, order="F" if fortran else "C").copy()


def check_sequences(array, where: str) -> None:
    """Accepts a 1-D object array of lists of ints (IMDB's and Reuters's ``x``)."""
    if not isinstance(array, np.ndarray) or array.dtype != object or array.ndim != 1:
        raise UnsafeFileError(f"{where}: expected a 1-D object array of sequences")
    for sequence in array:
        if not isinstance(sequence, list) or not all(type(w) is int for w in sequence):
            raise UnsafeFileError(f"{where}: expected each sequence to be a list of ints, "
                                  f"found {type(sequence).__name__}")


def read_npz(path, kind: str, what: str, check_objects=None) -> dict:
    """``{name: array}`` of an ``.npz`` file, read without free unpickling.

    Numeric arrays are read directly; object arrays only when ``check_objects`` is given
    (through :class:`RestrictedUnpickler`, then ``check_objects(array, where)``).

    Raises:
        UnsafeFileError: pickled objects that are not allowed.
        ValueError: not a readable ``.npz``; the message names the file and ``kind``.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            return {member[:-4]: _read_npy(archive.read(member), f"{path}:{member}", what,
                                           check_objects)
                    for member in archive.namelist() if member.endswith(".npy")}
    except UnsafeFileError:
        raise
    except (zipfile.BadZipFile, ValueError, EOFError, OSError) as error:
        raise ValueError(f"{path} is not a readable {kind} (a NumPy .npz archive): "
                         f"{error}") from None


def require(arrays: dict, names, path, title: str) -> None:
    """Raises a clear ValueError when the archive lacks one of ``names``."""
    missing = set(names) - set(arrays)
    if missing:
        raise ValueError(f"{path}: not a {title} file, missing arrays {sorted(missing)}; "
                         f"found {sorted(arrays)}")


# ---------------------------------------------------------------- finding the file
# (realpath, size, mtime_ns, algorithm) -> hex digest: CIFAR-10's archive takes ~0.5 s
# to hash, so each file is hashed once per process unless it changes.
_DIGESTS: dict[tuple, str] = {}


def digest(path, algorithm: str) -> str:
    """Hex digest of a file, read in 1 MiB blocks (remembered per process)."""
    st = os.stat(path)
    key = (os.path.realpath(path), st.st_size, st.st_mtime_ns, algorithm)
    if key not in _DIGESTS:
        h = hashlib.new(algorithm)
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        _DIGESTS[key] = h.hexdigest()
    return _DIGESTS[key]


def explicit(title: str, name: str, fname) -> str | None:
    """The file the user chose: ``fname`` itself when it has a folder part (it must
    exist), else ``$TINYANN_DATA_DIR/<name>/<fname>`` when that exists, else None."""
    fname = os.fspath(fname)
    if os.path.dirname(fname) or os.path.isabs(fname):
        if not os.path.exists(fname):
            raise FileNotFoundError(f"{title}: no file at path={fname!r}")
        return fname
    data_dir = os.environ.get(_sources.ENV_DATA_DIR)
    if data_dir:
        candidate = os.path.join(os.path.expanduser(data_dir), name, fname)
        if os.path.exists(candidate):
            return candidate
    return None


def origin_env(name: str) -> str:
    """The variable that replaces a dataset's download folder, e.g. TINYANN_IMDB_ORIGIN."""
    return f"TINYANN_{name.upper()}_ORIGIN"


def fetch(title: str, name: str, fname, algorithm: str, expected: str, *, remote: str,
          origin: str = ORIGIN, keras_names=(), hint: str = "", stacklevel: int = 3) -> str:
    """The path of a file with Keras's hash (or the user's own file), downloading it if
    need be. See the module docstring for the places, in order.

    Args:
        title: the dataset's name in messages ("IMDB").
        name: its folder in tinyann's cache and ``$TINYANN_DATA_DIR``.
        fname: the file's name in the caches, or the path of a file of the user's.
        algorithm, expected: Keras's hash of the file ("sha256" or "md5").
        remote: the file's name under ``origin`` (Keras downloads a fixed file).
        keras_names: other names Keras's cache may hold the file under.
        hint: an extra way to fix a missing file, for the error.
    """
    chosen = explicit(title, name, fname)
    if chosen is not None:
        if os.path.isfile(chosen) and digest(chosen, algorithm) != expected:
            warnings.warn(f"{title}: {chosen} is not Keras's {remote} ({algorithm} differs); "
                          "reading it as given", stacklevel=stacklevel)
        return chosen
    fname = os.fspath(fname)
    tried = []
    candidates = [os.path.join(_sources.keras_dir(""), n) for n in (fname, *keras_names)]
    candidates.append(os.path.join(_sources.cache_dir(name), fname))
    for candidate in candidates:
        if os.path.isfile(candidate):
            if digest(candidate, algorithm) == expected:
                return candidate
            tried.append(f"{candidate}: {algorithm} is not Keras's (not used)")
        else:
            tried.append(f"{candidate}: missing")
    base = os.environ.get(origin_env(name), origin)
    url = base.rstrip("/") + "/" + remote
    try:
        print(f"tinyann: downloading {url}", file=sys.stderr)
        with urllib.request.urlopen(url, timeout=_sources.DOWNLOAD_TIMEOUT) as response:
            blob = response.read()
        actual = hashlib.new(algorithm, blob).hexdigest()
        if actual != expected:
            raise ValueError(f"{algorithm} {actual}, expected Keras's {expected}")
        dest = _sources.cache_dir(name)
        os.makedirs(dest, exist_ok=True)
        target = os.path.join(dest, fname)
        _sources._atomic_write(target, blob)
        return target
    except (OSError, ValueError) as error:  # URLError, HTTPError, timeouts are OSError
        tried.append(f"{url}: {error}")
    raise _sources.DatasetNotFoundError(
        f"{title}'s {fname} was not found. Places tried:\n  " + "\n  ".join(tried) +
        f"\nFix: run where the network reaches {base}, or put Keras's file in "
        f"{_sources.keras_dir('')} or {_sources.cache_dir(name)}, or pass path= a file of "
        f"your own (or put it in $TINYANN_DATA_DIR/{name}/)" + (f"; {hint}" if hint else "")
        + ".")
