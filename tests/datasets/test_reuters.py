"""Reuters's loader on a small reuters.npz made here in exactly Keras's format (object
arrays of lists of ranks ``x``, int64 topics ``y``), against what real Keras 3 returned
for the same file and arguments (tests/fixtures/keras/dataset_facts.json): the seeded
shuffle, the split at int(n * (1 - test_split)), start/shift/vocabulary/maxlen. Also the
word index, the label names, the places and hashes, and a tampered file refused."""

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from tinyann.datasets import DatasetNotFoundError, _keras_files, reuters

FACTS = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "keras" /
                    "dataset_facts.json").read_text())["reuters"]


def objects(lists):
    out = np.empty(len(lists), dtype=object)
    for i, ids in enumerate(lists):
        out[i] = list(ids)
    return out


def make_npz(path, x=FACTS["x"], y=FACTS["y"]):
    np.savez(path, x=objects(x), y=np.array(y, dtype=FACTS["y_dtype"]))
    return path


@pytest.fixture(autouse=True)
def no_network(tmp_path, monkeypatch):
    monkeypatch.setattr(_keras_files, "_DIGESTS", {})
    monkeypatch.setenv("TINYANN_REUTERS_ORIGIN", (tmp_path / "nowhere").as_uri())


@pytest.mark.parametrize("case", sorted(FACTS["cases"]))
def test_load_data_equals_keras(tmp_path, case):
    facts = FACTS["cases"][case]
    path = make_npz(tmp_path / "reuters.npz")
    with pytest.warns(UserWarning, match="not Keras's reuters.npz"):
        (x, y), (xt, yt) = reuters.load_data(path=str(path), **facts["kwargs"])
    assert [list(s) for s in x] == facts["x_train"]
    assert [list(s) for s in xt] == facts["x_test"]
    assert y.tolist() == facts["y_train"] and yt.tolist() == facts["y_test"]
    for xs, ys in ((x, y), (xt, yt)):
        assert str(xs.dtype) == facts["x_dtype"] and xs.ndim == facts["x_ndim"]
        assert str(ys.dtype) == facts["y_dtype"] and len(xs) == len(ys)
        assert all(type(w) is int for s in xs for w in s)


def test_equal_lengths_still_give_a_1d_array(tmp_path):
    path = make_npz(tmp_path / "r.npz", x=[[1, 2], [3, 4], [5, 6], [7, 8], [9, 1]],
                    y=[0, 1, 0, 1, 0])
    with pytest.warns(UserWarning):
        (x, y), (xt, yt) = reuters.load_data(path=path)
    assert x.shape == (4,) and xt.shape == (1,) and isinstance(x[0], list)


def test_maxlen_that_keeps_nothing_says_so(tmp_path):
    path = make_npz(tmp_path / "r.npz")
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="no sequence was kept"):
        reuters.load_data(path=path, maxlen=2)


def test_label_names_are_keras():
    assert list(reuters.get_label_names()) == FACTS["label_names"]
    assert len(reuters.get_label_names()) == 46


def test_word_index_from_data_dir_and_keras_cache(tmp_path, monkeypatch, isolated):
    folder = tmp_path / "data" / "reuters"
    folder.mkdir(parents=True)
    (folder / "reuters_word_index.json").write_text(json.dumps({"the": 1, "of": 2}))
    monkeypatch.setenv("TINYANN_DATA_DIR", str(tmp_path / "data"))
    with pytest.warns(UserWarning, match="reuters_word_index.json"):
        assert reuters.get_word_index() == {"the": 1, "of": 2}
    monkeypatch.delenv("TINYANN_DATA_DIR")
    keras_cache = isolated / "keras" / "datasets"
    keras_cache.mkdir(parents=True)
    blob = json.dumps({"said": 3}).encode()
    (keras_cache / "reuters_word_index.json").write_bytes(blob)
    with pytest.raises(DatasetNotFoundError, match="md5 is not Keras's"):
        reuters.get_word_index()
    monkeypatch.setattr(reuters, "WORD_INDEX_MD5", hashlib.md5(blob).hexdigest())
    assert reuters.get_word_index() == {"said": 3}
    (keras_cache / "reuters_word_index.json").write_text("[1, 2]")
    with pytest.raises(DatasetNotFoundError):  # changed file: hash differs, not used
        reuters.get_word_index()


def test_download_is_checked_then_cached(tmp_path, monkeypatch, isolated):
    origin = tmp_path / "origin"
    origin.mkdir()
    blob = make_npz(origin / "reuters.npz").read_bytes()
    monkeypatch.setenv("TINYANN_REUTERS_ORIGIN", origin.as_uri())
    with pytest.raises(DatasetNotFoundError) as caught:
        reuters.load_data()
    assert "expected Keras's" in str(caught.value)
    monkeypatch.setattr(reuters, "NPZ_SHA256", hashlib.sha256(blob).hexdigest())
    (x, y), _ = reuters.load_data()
    assert [list(s) for s in x] == FACTS["cases"]["defaults"]["x_train"]
    cached = isolated / "cache" / "datasets" / "reuters" / "reuters.npz"
    assert cached.read_bytes() == blob
    (origin / "reuters.npz").unlink()
    reuters.load_data()  # from the cache now


class _Boom:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_a_tampered_file_is_refused_never_run(tmp_path, monkeypatch):
    payload = objects([[1, 2], [3]])
    payload[1] = _Boom()
    np.savez(tmp_path / "evil.npz", x=payload, y=np.array([0, 1]))
    called = []
    monkeypatch.setattr(os, "system", lambda *a: called.append(a))
    with pytest.warns(UserWarning), pytest.raises(reuters.UnsafeFileError,
                                                  match="refused to load"):
        reuters.load_data(path=tmp_path / "evil.npz")
    assert called == []


def test_wrong_contents_say_what_is_wrong(tmp_path):
    np.savez(tmp_path / "a.npz", x_train=objects([[1]]), y_train=np.array([0]))
    with pytest.warns(UserWarning), pytest.raises(ValueError, match=r"missing arrays \['x', 'y'\]"):
        reuters.load_data(path=tmp_path / "a.npz")
    np.savez(tmp_path / "b.npz", x=objects([[1], [2, 3]]), y=np.array([0]))
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="2 wires but y 1 labels"):
        reuters.load_data(path=tmp_path / "b.npz")
    np.savez(tmp_path / "c.npz", x=objects([["w"]]), y=np.array([0]))
    with pytest.raises(reuters.UnsafeFileError, match="list of ints"):
        reuters.read_npz(tmp_path / "c.npz")
