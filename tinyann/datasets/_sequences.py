"""Keras's word-id arithmetic for the sequence datasets (IMDB, Reuters).

Each sequence is a list of word ranks (1 = most frequent word). Keras marks the start
with ``start_char``, shifts every rank up by ``index_from`` (so 0, 1, 2 stay free for
padding, start and out-of-vocabulary), drops sequences of ``maxlen`` ids or more, and
replaces ids outside ``[skip_top, num_words)`` by ``oov_char`` (or drops them when it is
None). The functions below do exactly that, in that order, on Python lists.
"""

from __future__ import annotations

import numpy as np


def shuffled(rng: np.random.RandomState, *arrays):
    """``arrays`` reordered by one ``rng.shuffle`` of ``arange(len)``, as Keras does."""
    order = np.arange(len(arrays[0]))
    rng.shuffle(order)
    return tuple(a[order] for a in arrays)


def mark_and_shift(sequences, start_char, index_from) -> list:
    """Each sequence as a list: ``[start_char] + [w + index_from ...]`` (no mark if None)."""
    if start_char is not None:
        return [[start_char] + [w + index_from for w in x] for x in sequences]
    return [[w + index_from for w in x] for x in sequences]


def remove_long(maxlen, sequences, labels):
    """Keeps the sequences *shorter* than ``maxlen`` (strictly, as Keras); labels as a list."""
    kept = [(x, y) for x, y in zip(sequences, labels) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def limit_vocabulary(sequences, num_words, skip_top, oov_char) -> list:
    """Ids outside ``[skip_top, num_words)`` become ``oov_char``, or go if it is None.

    ``num_words`` None or 0 means the largest id present (which Keras then excludes too,
    since the range is half-open).
    """
    if not num_words:
        num_words = max(max(x) for x in sequences)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in sequences]
    return [[w for w in x if skip_top <= w < num_words] for x in sequences]


def object_array(lists) -> np.ndarray:
    """A 1-D object array of the lists, shape ``(len(lists),)``."""
    out = np.empty(len(lists), dtype=object)
    for i, ids in enumerate(lists):  # one by one: equal lengths must not make a 2-D array
        out[i] = ids
    return out


def check_no_sequence_lost(maxlen, *groups) -> None:
    """Keras's error when ``maxlen`` filtered every sequence out of a group."""
    if any(len(group) == 0 for group in groups):
        raise ValueError(f"After filtering for sequences shorter than maxlen={maxlen}, "
                         "no sequence was kept. Increase maxlen.")
