"""IMDB's loader on small files made here in exactly Keras's format (np.savez of object
arrays of lists): Keras's shuffling and index arithmetic against hand-computed
expectations, the places and hash rules, the download path (a local file URL), and a
tampered file refused without running it. No real IMDB on this machine."""

import hashlib
import json
import os
import pickle
import zipfile

import numpy as np
import pytest

from tinyann.datasets import _sources, imdb, synthetic_imdb
from tinyann.utils import pad_sequences

TRAIN = [[1, 2, 3], [4, 5], [6, 7, 8, 9], [10]]
TEST = [[11, 12], [13], [14, 15, 16]]


def _objects(lists):
    out = np.empty(len(lists), dtype=object)
    for i, ids in enumerate(lists):
        out[i] = ids
    return out


def make_npz(path, train=TRAIN, test=TEST):
    np.savez(path, x_train=_objects(train), y_train=np.array([0, 1, 0, 1]),
             x_test=_objects(test), y_test=np.array([1, 0, 1]))
    return path


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """An explicit place ($TINYANN_DATA_DIR/imdb) with a small file, empty caches."""
    folder = tmp_path / "data" / "imdb"
    folder.mkdir(parents=True)
    make_npz(folder / "imdb.npz")
    (folder / "imdb_word_index.json").write_text(json.dumps({"the": 1, "film": 2}))
    monkeypatch.setenv("TINYANN_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("TINYANN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    monkeypatch.setenv("TINYANN_IMDB_ORIGIN", (tmp_path / "nowhere").as_uri())
    return folder


def keras_order(n, seed, draw):
    """The permutation Keras applies: RandomState(seed) shuffles train, then test."""
    rng = np.random.RandomState(seed)
    orders = []
    for size in n:
        order = np.arange(size)
        rng.shuffle(order)
        orders.append(order)
    return orders[draw]


def test_keras_shuffle_and_index_arithmetic(data_dir):
    with pytest.warns(UserWarning, match="not Keras's imdb.npz"):
        (x, y), (xt, yt) = imdb.load_data()
    train_order, test_order = keras_order((4, 3), 113, 0), keras_order((4, 3), 113, 1)
    # start_char 1, then every id + index_from 3; num_words defaults to the largest id,
    # and Keras keeps ids *below* num_words, so the largest id itself becomes oov_char 2
    top = max(TRAIN[2] + TEST[2]) + 3

    def keras_ids(review):
        return [1] + [w + 3 if w + 3 < top else 2 for w in review]

    assert list(x) == [keras_ids(TRAIN[i]) for i in train_order]
    assert list(xt) == [keras_ids(TEST[i]) for i in test_order]
    np.testing.assert_array_equal(y, np.array([0, 1, 0, 1])[train_order])
    assert x.dtype == object and x.shape == (4,)


def test_num_words_skip_top_oov_and_maxlen(data_dir):
    with pytest.warns(UserWarning):
        (x, _), (xt, _) = imdb.load_data(num_words=10, skip_top=2, seed=0, start_char=None,
                                         oov_char=9, index_from=0)
    order = keras_order((4, 3), 0, 0)
    expected = [[w if 2 <= w < 10 else 9 for w in TRAIN[i]] for i in order]
    assert list(x) == expected
    with pytest.warns(UserWarning):
        (x, y), (xt, yt) = imdb.load_data(maxlen=4, seed=0, oov_char=None, num_words=8)
    # maxlen keeps reviews strictly shorter than 4 (with the start mark); oov None drops
    kept = [TRAIN[i] for i in order if len(TRAIN[i]) + 1 < 4]
    assert list(x) == [[1] + [w + 3 for w in r if w + 3 < 8] for r in kept]
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="no sequence was kept"):
        imdb.load_data(maxlen=1)


def test_word_index(data_dir):
    with pytest.warns(UserWarning, match="imdb_word_index.json"):
        assert imdb.get_word_index() == {"the": 1, "film": 2}


class _Boom:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_a_tampered_file_is_refused_never_run(tmp_path, monkeypatch):
    path = tmp_path / "evil.npz"
    # Keras's layout, but x_train's pickle holds a callable's reduction (os.system)
    payload = _objects([[1, 2], [3]])
    payload[0] = _Boom()
    np.savez(path, x_train=payload, y_train=np.array([0, 1]), x_test=_objects([[1]]),
             y_test=np.array([1]))
    called = []
    monkeypatch.setattr(os, "system", lambda *a: called.append(a))
    with pytest.warns(UserWarning), pytest.raises(imdb.UnsafeFileError,
                                                  match="refused to load"):
        imdb.load_data(path=str(path))
    assert called == []


def test_wrong_element_types_are_refused(tmp_path):
    path = tmp_path / "odd.npz"
    np.savez(path, x_train=_objects([["a"]]), y_train=np.array([0]),
             x_test=_objects([[1]]), y_test=np.array([1]))
    with pytest.raises(imdb.UnsafeFileError, match="list of ints"):
        imdb.read_npz(path)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="junk.npz is not a readable imdb.npz"):
        imdb.read_npz(tmp_path / "junk.npz")


def test_caches_need_keras_hash_and_download_is_checked(tmp_path, monkeypatch):
    monkeypatch.delenv("TINYANN_DATA_DIR", raising=False)
    monkeypatch.setenv("TINYANN_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras"))
    origin = tmp_path / "origin"
    origin.mkdir()
    blob = make_npz(origin / "imdb.npz").read_bytes()
    monkeypatch.setenv("TINYANN_IMDB_ORIGIN", origin.as_uri())
    # a cache file that is not Keras's is not used, and the download's hash is checked
    keras_cache = tmp_path / "keras" / "datasets"
    keras_cache.mkdir(parents=True)
    (keras_cache / "imdb.npz").write_bytes(blob)
    with pytest.raises(_sources.DatasetNotFoundError) as caught:
        imdb.load_data()
    message = str(caught.value)
    assert "sha256 is not Keras's (not used)" in message and "expected Keras's" in message
    # once the origin serves bytes with the expected hash, they land in tinyann's cache
    monkeypatch.setattr(imdb, "NPZ_SHA256", hashlib.sha256(blob).hexdigest())
    (keras_cache / "imdb.npz").unlink()
    (x, _), _ = imdb.load_data()
    assert len(x) == 4
    assert (tmp_path / "cache" / "datasets" / "imdb" / "imdb.npz").read_bytes() == blob
    # and the Keras cache is searched first when its file is Keras's
    (keras_cache / "imdb.npz").write_bytes(blob)
    (tmp_path / "cache" / "datasets" / "imdb" / "imdb.npz").unlink()
    imdb.load_data()
    assert not (tmp_path / "cache" / "datasets" / "imdb" / "imdb.npz").exists()


def test_missing_explicit_path(tmp_path):
    with pytest.raises(FileNotFoundError, match="no file at path"):
        imdb.load_data(path=str(tmp_path / "nope.npz"))


def test_synthetic_reviews_in_keras_format_carry_a_learnable_signal(tmp_path):
    path = synthetic_imdb.write(tmp_path / "imdb", train=4000, test=1000, seed=1)
    with zipfile.ZipFile(path) as archive:  # Keras's member names and dtypes
        assert sorted(archive.namelist()) == ["x_test.npy", "x_train.npy", "y_test.npy",
                                              "y_train.npy"]
    with pytest.warns(UserWarning):
        (x, y), (xt, yt) = imdb.load_data(path=path, num_words=500)
    assert len(x) == 4000 and len(xt) == 1000 and set(np.unique(y)) == {0, 1}
    assert 120 < np.median([len(r) for r in x]) < 260
    # the textbook's view: the last 100 ids; a bag-of-words logistic regression learns it
    seqs = pad_sequences(x, maxlen=100)
    bags = np.stack([np.bincount(r, minlength=500) for r in seqs]) / 100.0
    tbags = np.stack([np.bincount(r, minlength=500) for r in pad_sequences(xt, 100)]) / 100.0
    # a simple linear vote: the 40 words whose counts differ most between the classes
    # (t statistic on the training set), each voting with the sign of its difference
    positive, negative = bags[y == 1].mean(axis=0), bags[y == 0].mean(axis=0)
    t = (positive - negative) / (bags.std(axis=0) + 1e-9)
    w = np.zeros(500)
    top = np.argsort(-np.abs(t))[:40]
    w[top] = np.sign(t[top])
    threshold = w @ (positive + negative) / 2
    accuracy = np.mean(((tbags @ w) > threshold) == yt)
    assert accuracy > 0.75


def test_safe_reader_equals_numpy_on_a_keras_format_file(tmp_path):
    path = make_npz(tmp_path / "k.npz")
    safe = imdb.read_npz(path)
    with np.load(path, allow_pickle=True) as trusted:
        for key in trusted.files:
            assert [list(v) if isinstance(v, list) else v for v in safe[key]] == \
                [list(v) if isinstance(v, list) else v for v in trusted[key]]
    assert pickle.loads(pickle.dumps(1)) == 1  # the module leaves pickle itself alone


def test_synthetic_signal_sets_the_share_of_opinion_words(tmp_path):
    # the same seed draws the same words; a higher signal turns more of them into
    # opinion words, so more ids differ from the signal-free file
    def words(signal):
        path = synthetic_imdb.write(tmp_path / str(signal), train=300, test=100, seed=2,
                                    signal=signal)
        with pytest.warns(UserWarning):
            (x, _), _ = imdb.load_data(path=path)
        return np.concatenate([np.asarray(r) for r in x])

    plain = words(0.0)
    low, high = np.mean(words(0.08) != plain), np.mean(words(0.3) != plain)
    assert 0.03 < low < 0.1 and 0.2 < high < 0.35
