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

import json

import numpy as np

from tinyann.datasets import _keras_files, _sequences

ORIGIN = _keras_files.ORIGIN
#: Keras's own checks: SHA-256 of imdb.npz, MD5 of the word index (Keras gives no other)
NPZ_SHA256 = "69664113be75683a8fe16e3ed0ab59fda8886cb3cd7ada244f7d9544e4676b9f"
WORD_INDEX_MD5 = "bfafd718b763782e994055a2d397834f"
NAME = "imdb"

#: An ``imdb.npz`` whose pickled arrays hold something besides lists of ints.
UnsafeFileError = _keras_files.UnsafeFileError

_WHAT = "an imdb.npz holds only arrays of lists of word ids"
_HINT = ("`tinyann data --fetch imdb` fetches it, `tinyann data --synthetic imdb` "
         "makes a stand-in")


def read_npz(path) -> dict:
    """``{name: array}`` of an ``.npz`` file, object arrays through the safe unpickler.

    Raises:
        UnsafeFileError: the file asks pickle for anything but arrays of lists of ints.
        ValueError: not a readable ``.npz`` (the message names the file).
    """
    return _keras_files.read_npz(path, "imdb.npz", _WHAT, _keras_files.check_sequences)


def _fetch(fname, algorithm, expected, remote) -> str:
    """A file with Keras's hash: explicit, Keras's cache, tinyann's cache, or downloaded."""
    return _keras_files.fetch("IMDB", NAME, fname, algorithm, expected, remote=remote,
                              hint=_HINT, stacklevel=4)


# ---------------------------------------------------------------- Keras's load_data
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
    arrays = read_npz(_fetch(path, "sha256", NPZ_SHA256, "imdb.npz"))
    _keras_files.require(arrays, ("x_train", "y_train", "x_test", "y_test"), path, "IMDB")
    rng = np.random.RandomState(seed)
    # one generator, train first: the test order depends on the train set's size
    x_train, labels_train = _sequences.shuffled(rng, arrays["x_train"], arrays["y_train"])
    x_test, labels_test = _sequences.shuffled(rng, arrays["x_test"], arrays["y_test"])
    x_train = _sequences.mark_and_shift(x_train, start_char, index_from)
    x_test = _sequences.mark_and_shift(x_test, start_char, index_from)
    if maxlen:
        x_train, labels_train = _sequences.remove_long(maxlen, x_train, labels_train)
        x_test, labels_test = _sequences.remove_long(maxlen, x_test, labels_test)
        _sequences.check_no_sequence_lost(maxlen, x_train, x_test)
    xs = _sequences.limit_vocabulary(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([labels_train, labels_test])
    n = len(x_train)
    return ((_sequences.object_array(xs[:n]), labels[:n]),
            (_sequences.object_array(xs[n:]), labels[n:]))


def get_word_index(path="imdb_word_index.json") -> dict:
    """``{word: rank}`` (1 is the most frequent word; add ``index_from`` for the ids)."""
    with open(_fetch(path, "md5", WORD_INDEX_MD5, "imdb_word_index.json"),
              encoding="utf-8") as f:
        index = json.load(f)
    if not isinstance(index, dict):
        raise ValueError(f"{path}: expected a JSON object of words to ranks")
    return index
