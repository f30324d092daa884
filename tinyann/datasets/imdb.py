"""IMDB movie reviews: 25,000 + 25,000 reviews as lists of word ids, labels 0/1.

Usage, as in Keras (the textbook's chapter 9)::

    (train_input, train_target), (test_input, test_target) = \\
        tinyann.datasets.imdb.load_data(num_words=500)

Where ``imdb.npz`` comes from, in order:

1. ``path=`` given as the path of a file: read as it is (any hash; a file that is not
   Keras's gets a one-line warning);
2. ``$TINYANN_DATA_DIR/imdb/imdb.npz``: the same (a synthetic file for tests and
   benchmarks, or a user's own: ``tinyann data --synthetic imdb`` writes one);
3. Keras's cache ``~/.keras/datasets/imdb.npz`` (``$KERAS_HOME``), then tinyann's cache
   ``<cache>/datasets/imdb/imdb.npz``: used only when the file is Keras's (SHA-256);
4. a download from Keras's own origin into tinyann's cache, checked before it is kept.

The reviews are stored as NumPy object arrays, which ``np.load`` reads with pickle: a
tampered file could run any code. This module never unpickles freely: it reads the
arrays itself (:func:`read_npz`) with an unpickler that admits only NumPy's array
reconstruction and the lists of ints the file holds, so any other object is refused
with :class:`UnsafeFileError`, never executed.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import sys
import urllib.request
import warnings
import zipfile

import numpy as np

from tinyann.datasets import _sources

ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
#: Keras's own checks: SHA-256 of imdb.npz, MD5 of the word index (Keras gives no other)
NPZ_SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_MD5 = "bfafd718b763782e994055a2d397834f"
NAME = "imdb"


class UnsafeFileError(ValueError):
    """An ``imdb.npz`` whose pickled arrays hold something besides lists of ints."""


# ---------------------------------------------------------------- reading safely
_ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
            ("numpy", "ndarray"), ("numpy", "dtype")}


class _ArrayUnpickler(pickle.Unpickler):
    """Admits NumPy's array reconstruction and nothing else: lists and ints are
    pickle's own opcodes and need no global."""

    def find_class(self, module, name):
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise UnsafeFileError(
            f"refused to load {module}.{name}: an imdb.npz holds only arrays of lists of "
            "word ids; this file asks for other objects (tampered or not an IMDB file)")


def _read_npy(data: bytes, where: str) -> np.ndarray:
    stream = io.BytesIO(data)
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
    else:
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
    if dtype.hasobject:
        try:
            array = _ArrayUnpickler(stream).load()
        except UnsafeFileError as error:
            raise UnsafeFileError(f"{where}: {error}") from None
        if not isinstance(array, np.ndarray) or array.dtype != object or array.ndim != 1:
            raise UnsafeFileError(f"{where}: expected a 1-D object array of reviews")
        for review in array:
            if not isinstance(review, list) or not all(type(w) is int for w in review):
                raise UnsafeFileError(f"{where}: expected each review to be a list of ints, "
                                      f"found {type(review).__name__}")
        return array
    count = int(np.prod(shape))
    array = np.frombuffer(stream.read(count * dtype.itemsize), dtype=dtype, count=count)
    return array.reshape(shape, order="F" if fortran else "C").copy()


def read_npz(path) -> dict:
    """``{name: array}`` of an ``.npz`` file, object arrays through the safe unpickler.

    Raises:
        UnsafeFileError: the file asks pickle for anything but arrays of lists of ints.
        ValueError: not a readable ``.npz`` (the message names the file).
    """
    try:
        with zipfile.ZipFile(path) as archive:
            return {member[:-4]: _read_npy(archive.read(member), f"{path}:{member}")
                    for member in archive.namelist() if member.endswith(".npy")}
    except UnsafeFileError:
        raise
    except (zipfile.BadZipFile, ValueError, EOFError, pickle.UnpicklingError, OSError) as error:
        raise ValueError(f"{path} is not a readable imdb.npz (a NumPy .npz archive): "
                         f"{error}") from None


# ---------------------------------------------------------------- finding the file
def _digest(path, algorithm) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _explicit(fname):
    """The file given by the user (a path, or $TINYANN_DATA_DIR/imdb/<fname>), if any."""
    if os.path.dirname(os.fspath(fname)) or os.path.isabs(fname):
        if not os.path.isfile(fname):
            raise FileNotFoundError(f"IMDB: no file at path={os.fspath(fname)!r}")
        return os.fspath(fname)
    data_dir = os.environ.get(_sources.ENV_DATA_DIR)
    if data_dir:
        candidate = os.path.join(os.path.expanduser(data_dir), NAME, fname)
        if os.path.isfile(candidate):
            return candidate
    return None


def _fetch(fname, algorithm, expected) -> str:
    """A file with Keras's hash: explicit, Keras's cache, tinyann's cache, or downloaded."""
    explicit = _explicit(fname)
    if explicit is not None:
        if _digest(explicit, algorithm) != expected:
            warnings.warn(f"IMDB: {explicit} is not Keras's {fname} ({algorithm} differs); "
                          "reading it as given", stacklevel=3)
        return explicit
    tried = []
    for folder in (_sources.keras_dir(""), _sources.cache_dir(NAME)):
        candidate = os.path.join(folder, fname)
        if os.path.isfile(candidate):
            if _digest(candidate, algorithm) == expected:
                return candidate
            tried.append(f"{candidate}: {algorithm} is not Keras's (not used)")
        else:
            tried.append(f"{candidate}: missing")
    dest = _sources.cache_dir(NAME)
    url = os.environ.get("TINYANN_IMDB_ORIGIN", ORIGIN).rstrip("/") + "/" + fname
    try:
        print(f"tinyann: downloading {url}", file=sys.stderr)
        with urllib.request.urlopen(url, timeout=_sources.DOWNLOAD_TIMEOUT) as response:
            blob = response.read()
        actual = getattr(hashlib, algorithm)(blob).hexdigest()
        if actual != expected:
            raise ValueError(f"{algorithm} {actual}, expected Keras's {expected}")
        os.makedirs(dest, exist_ok=True)
        target = os.path.join(dest, fname)
        _sources._atomic_write(target, blob)
        return target
    except (OSError, ValueError) as error:
        tried.append(f"{url}: {error}")
    raise _sources.DatasetNotFoundError(
        f"IMDB's {fname} was not found. Places tried:\n  " + "\n  ".join(tried) +
        f"\nFix: `tinyann data --fetch imdb` where the network reaches {ORIGIN}, or put "
        f"Keras's file in {_sources.keras_dir('')}, or a file of your own in "
        f"$TINYANN_DATA_DIR/{NAME}/ (`tinyann data --synthetic imdb` makes one).")


# ---------------------------------------------------------------- Keras's load_data
def _remove_long(maxlen, sequences, labels):
    """Keeps the sequences shorter than ``maxlen`` (strictly, as Keras)."""
    keep = [i for i, s in enumerate(sequences) if len(s) < maxlen]
    return [sequences[i] for i in keep], labels[keep]


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113,
              start_char=1, oov_char=2, index_from=3, **kwargs):
    """The reviews as Keras gives them: ``(x_train, y_train), (x_test, y_test)``.

    ``x_*`` are 1-D object arrays of lists of word ids; ``y_*`` int labels (1: positive).

    Args:
        path: the file name in the caches, or the path of a file of your own.
        num_words: keep the ``num_words`` most frequent words (ids below it); others
            become ``oov_char`` (dropped if it is None).
        skip_top: ids below ``skip_top`` become ``oov_char`` too.
        maxlen: keep only reviews shorter than ``maxlen``.
        seed: both sets are shuffled by ``np.random.RandomState(seed)``.
        start_char: each review starts with this id (None: no start mark).
        oov_char: the id of words cut by ``num_words`` / ``skip_top``.
        index_from: word ids in the file are shifted up by this much.
    """
    if kwargs:
        raise TypeError(f"Unrecognized keyword arguments: {kwargs}")
    arrays = read_npz(_fetch(path, "sha256", NPZ_SHA256))
    missing = {"x_train", "y_train", "x_test", "y_test"} - set(arrays)
    if missing:
        raise ValueError(f"{path}: not an IMDB file, missing arrays {sorted(missing)}")
    x_train, labels_train = arrays["x_train"], arrays["y_train"]
    x_test, labels_test = arrays["x_test"], arrays["y_test"]
    rng = np.random.RandomState(seed)
    order = np.arange(len(x_train))
    rng.shuffle(order)
    x_train, labels_train = x_train[order], labels_train[order]
    order = np.arange(len(x_test))
    rng.shuffle(order)
    x_test, labels_test = x_test[order], labels_test[order]

    def shifted(reviews):
        if start_char is not None:
            return [[start_char] + [w + index_from for w in x] for x in reviews]
        return [[w + index_from for w in x] for x in reviews]

    x_train, x_test = shifted(x_train), shifted(x_test)
    if maxlen:
        x_train, labels_train = _remove_long(maxlen, x_train, labels_train)
        x_test, labels_test = _remove_long(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, "
                             "no sequence was kept. Increase maxlen.")
    xs = x_train + x_test
    labels = np.concatenate([labels_train, labels_test])
    if not num_words:
        num_words = max(max(x) for x in xs)
    if oov_char is not None:
        xs = [[w if skip_top <= w < num_words else oov_char for w in x] for x in xs]
    else:
        xs = [[w for w in x if skip_top <= w < num_words] for x in xs]
    n = len(x_train)
    return ((_object_array(xs[:n]), labels[:n]), (_object_array(xs[n:]), labels[n:]))


def _object_array(lists) -> np.ndarray:
    out = np.empty(len(lists), dtype=object)
    for i, ids in enumerate(lists):  # one by one: equal lengths must not make a 2-D array
        out[i] = ids
    return out


def get_word_index(path="imdb_word_index.json") -> dict:
    """``{word: rank}`` (1 is the most frequent word; add ``index_from`` for the ids)."""
    with open(_fetch(path, "md5", WORD_INDEX_MD5), encoding="utf-8") as f:
        index = json.load(f)
    if not isinstance(index, dict):
        raise ValueError(f"{path}: expected a JSON object of words to ranks")
    return index
