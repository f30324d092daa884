"""Synthetic movie reviews in exactly the format of Keras's ``imdb.npz``, for tests, CI
and benchmarks where the real file cannot be had.

Each review is a list of word ranks (1 = the most frequent word) drawn from a Zipf
law over ``vocabulary`` words, with lengths spread like IMDB's (median about 180,
a long tail). The sentiment is spread over the whole review: every word is, with
probability ``signal``, one of 40 "opinion" words among the 400 most frequent
ranks (so ``num_words=200`` or ``500`` keeps most of them), drawn from the label's
20 words with probability ``purity`` and from the other label's otherwise. A model
that reads only the last 100 words still sees about ``100 * signal`` opinions.
The timings of the chapter's models do not depend on the words, only on the shapes.
"""

from __future__ import annotations

import json
import os

import numpy as np

from tinyann.datasets import _sources
from tinyann.datasets.imdb import NAME


def reviews(count, vocabulary=10_000, signal=0.08, purity=0.75, seed=0):
    """``(list of lists of ranks, labels int64)`` of ``count`` synthetic reviews."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, count)
    lengths = np.clip(np.exp(rng.normal(5.2, 0.55, count)), 10, 2500).astype(int)
    ranks = np.arange(1, vocabulary + 1)
    zipf = 1.0 / ranks
    zipf /= zipf.sum()
    opinion = rng.choice(np.arange(20, 400), size=40, replace=False) + 1
    positive, negative = opinion[:20], opinion[20:]
    words = rng.choice(ranks, size=int(lengths.sum()), p=zipf)
    is_opinion = rng.random(words.size) < signal
    own = rng.random(words.size) < purity
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    label_of_word = np.repeat(labels, lengths)
    side = np.where(own, label_of_word, 1 - label_of_word)
    picks = rng.integers(0, 20, words.size)
    words = np.where(is_opinion, np.where(side == 1, positive[picks], negative[picks]), words)
    out = [words[s:s + n].tolist() for s, n in zip(starts, lengths)]
    return out, labels.astype(np.int64)


def _object_array(lists):
    array = np.empty(len(lists), dtype=object)
    for i, ids in enumerate(lists):
        array[i] = ids
    return array


def write(directory=None, train=25_000, test=25_000, vocabulary=10_000, seed=0,
          signal=0.08) -> str:
    """Writes ``imdb.npz`` and ``imdb_word_index.json`` (words ``w1``, ``w2``...) into
    ``directory`` (default ``$TINYANN_DATA_DIR/imdb``); returns the npz's path.
    ``signal`` is :func:`reviews`'s share of opinion words (tests raise it to learn
    from fewer reviews)."""
    if directory is None:
        root = os.environ.get(_sources.ENV_DATA_DIR)
        if not root:
            raise ValueError("Give a directory, or set TINYANN_DATA_DIR (the synthetic file "
                             "goes to $TINYANN_DATA_DIR/imdb, where load_data looks)")
        directory = os.path.join(os.path.expanduser(root), NAME)
    os.makedirs(directory, exist_ok=True)
    x, y = reviews(train + test, vocabulary=vocabulary, signal=signal, seed=seed)
    target = os.path.join(directory, "imdb.npz")
    # np.savez pickles the object arrays the way Keras's file holds them
    tmp = target + ".part.npz"
    np.savez(tmp, x_train=_object_array(x[:train]), y_train=y[:train],
             x_test=_object_array(x[train:]), y_test=y[train:])
    os.replace(tmp, target)
    index = {f"w{rank}": rank for rank in range(1, vocabulary + 1)}
    with open(os.path.join(directory, "imdb_word_index.json.part"), "w",
              encoding="utf-8") as f:
        json.dump(index, f)
    os.replace(os.path.join(directory, "imdb_word_index.json.part"),
               os.path.join(directory, "imdb_word_index.json"))
    return target
