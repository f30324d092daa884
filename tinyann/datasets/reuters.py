"""Reuters newswires: 11,228 wires as lists of word ids, labelled over 46 topics.

Usage, as in Keras::

    (x_train, y_train), (x_test, y_test) = tinyann.datasets.reuters.load_data(num_words=10000)

Keras's ``reuters.npz`` holds one set (``x``: object array of lists of word ranks,
``y``: topic ids); ``load_data`` shuffles it with ``np.random.RandomState(seed)`` and
cuts it at ``int(len * (1 - test_split))``. Where the file comes from, in order (see
``_keras_files``): ``path=`` as a file path, ``$TINYANN_DATA_DIR/reuters/``, Keras's
cache ``~/.keras/datasets/reuters.npz``, tinyann's cache ``<cache>/datasets/reuters/``
(both only with Keras's SHA-256), then a download from Keras's origin
(``$TINYANN_REUTERS_ORIGIN`` replaces it). The object arrays are read by a restricted
unpickler: a tampered file raises :class:`UnsafeFileError` and never runs code.
"""

from __future__ import annotations

import json

import numpy as np

from tinyann.datasets import _keras_files, _sequences

NAME = "reuters"
#: Keras's checks: SHA-256 of reuters.npz, MD5 of the word index (Keras gives no other).
NPZ_SHA256 = "d6586e694ee56d7a4e65172e12b3e987c03096cb01eab99753921ef915959916"
WORD_INDEX_MD5 = "4d44cc38712099c9e383dc6e5f11a921"

UnsafeFileError = _keras_files.UnsafeFileError

_WHAT = "a reuters.npz holds only arrays of lists of word ids"

#: The 46 topics, in label order (Keras's ``get_label_names``).
LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing",
    "money-supply", "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass",
    "crude", "nat-gas", "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum",
    "oilseed", "gold", "tin", "strategic-metal", "livestock", "retail", "ipi",
    "iron-steel", "rubber", "heat", "jobs", "lei", "bop", "zinc", "orange", "pet-chem",
    "dlr", "gas", "silver", "wpi", "hog", "lead",
)


def _fetch(fname, algorithm, expected, remote) -> str:
    return _keras_files.fetch("Reuters", NAME, fname, algorithm, expected, remote=remote,
                              stacklevel=4)


def read_npz(path) -> dict:
    """``{"x": ..., "y": ...}`` of a ``reuters.npz``, object arrays read safely.

    Raises:
        UnsafeFileError: the file asks pickle for anything but arrays of lists of ints.
        ValueError: not a readable ``.npz`` (the message names the file).
    """
    return _keras_files.read_npz(path, "reuters.npz", _WHAT, _keras_files.check_sequences)


def load_data(path="reuters.npz", num_words=None, skip_top=0, maxlen=None, test_split=0.2,
              seed=113, start_char=1, oov_char=2, index_from=3):
    """The newswires as Keras gives them: ``(x_train, y_train), (x_test, y_test)``.

    ``x_*``: 1-D object arrays of lists of word ids, shapes ``(n_train,)``, ``(n_test,)``;
    ``y_*``: int64 topic ids 0-45 (:func:`get_label_names`), same lengths.

    Args:
        path: the file name in the caches, or the path of a file of your own.
        num_words: keep ids below ``num_words`` (the most frequent words); others become
            ``oov_char``. None: ids below the largest one.
        skip_top: ids below ``skip_top`` become ``oov_char`` too.
        maxlen: keep only wires shorter than ``maxlen`` ids (start mark included).
        test_split: the share of the (shuffled, filtered) wires kept for testing.
        seed: the shuffle is ``np.random.RandomState(seed).shuffle`` of the indices.
        start_char: each wire starts with this id (None: no start mark).
        oov_char: the id of cut words; None drops them.
        index_from: word ranks in the file are shifted up by this much.
    """
    path_used = _fetch(path, "sha256", NPZ_SHA256, "reuters.npz")
    arrays = read_npz(path_used)
    _keras_files.require(arrays, ("x", "y"), path_used, "Reuters")
    xs, labels = arrays["x"], arrays["y"]
    if len(xs) != len(labels):
        raise ValueError(f"{path_used}: x holds {len(xs)} wires but y {len(labels)} labels")
    xs, labels = _sequences.shuffled(np.random.RandomState(seed), xs, labels)
    xs = _sequences.mark_and_shift(xs, start_char, index_from)
    if maxlen:
        xs, labels = _sequences.remove_long(maxlen, xs, labels)
        _sequences.check_no_sequence_lost(maxlen, xs)
    xs = _sequences.limit_vocabulary(xs, num_words, skip_top, oov_char)
    # Keras cuts at int(len * (1 - test_split)), after filtering
    cut = int(len(xs) * (1 - test_split))
    labels = np.asarray(labels, dtype=arrays["y"].dtype)  # maxlen made it a list
    return ((_sequences.object_array(xs[:cut]), np.array(labels[:cut])),
            (_sequences.object_array(xs[cut:]), np.array(labels[cut:])))


def get_word_index(path="reuters_word_index.json") -> dict:
    """``{word: rank}`` (1 is the most frequent word; the ids in ``x`` are rank +
    ``index_from``)."""
    with open(_fetch(path, "md5", WORD_INDEX_MD5, "reuters_word_index.json"),
              encoding="utf-8") as f:
        index = json.load(f)
    if not isinstance(index, dict):
        raise ValueError(f"{path}: expected a JSON object of words to ranks")
    return index


def get_label_names() -> tuple:
    """The 46 topic names; ``get_label_names()[y]`` names label ``y``."""
    return LABEL_NAMES
