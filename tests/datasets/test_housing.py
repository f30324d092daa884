"""Boston and California housing loaders on small .npz files made here in Keras's format
(``x`` float64 (samples, features), ``y`` float64 (samples,)), against what real Keras 3
returned for the same files (tests/fixtures/keras/dataset_facts.json): the seeded
shuffle, the split, ``version="small"``, the argument errors. Also the places, hashes
and download (local HTTP server), and files that hold pickled objects refused."""

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from tinyann.datasets import DatasetNotFoundError, _keras_files, boston_housing, california_housing

FACTS = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "keras" /
                    "dataset_facts.json").read_text())
MODULES = {"boston_housing": boston_housing, "california_housing": california_housing}


@pytest.fixture(autouse=True)
def no_network(tmp_path, monkeypatch):
    monkeypatch.setattr(_keras_files, "_DIGESTS", {})
    for name in MODULES:
        monkeypatch.setenv(f"TINYANN_{name.upper()}_ORIGIN", (tmp_path / "nowhere").as_uri())


def inputs(name):
    """The facts' input: x = arange(rows*columns).reshape / 4, y = arange(rows) + 0.5."""
    rows, columns = FACTS[name]["rows"], FACTS[name]["columns"]
    x = np.arange(rows * columns, dtype=np.float64).reshape(rows, columns) / 4.0
    return x, np.arange(rows, dtype=np.float64) + 0.5


def make_npz(path, name):
    x, y = inputs(name)
    np.savez(path, x=x, y=y)
    return path


CASES = [(name, case) for name in MODULES for case in sorted(FACTS[name]["cases"])]


@pytest.mark.parametrize("name, case", CASES)
def test_load_data_equals_keras(tmp_path, name, case):
    facts = FACTS[name]["cases"][case]
    path = make_npz(tmp_path / f"{name}.npz", name)
    with pytest.warns(UserWarning, match=f"not Keras's {name}.npz"):
        (x, y), (xt, yt) = MODULES[name].load_data(path=str(path), **facts["kwargs"])
    x_in, y_in = inputs(name)
    rows, test_rows = facts["train_rows"], facts["test_rows"]
    assert (y - 0.5).astype(int).tolist() == rows and (yt - 0.5).astype(int).tolist() == test_rows
    np.testing.assert_array_equal(x, x_in[rows].reshape(-1, x_in.shape[1]))
    np.testing.assert_array_equal(xt, x_in[test_rows].reshape(-1, x_in.shape[1]))
    for array, key in ((x, "x_train"), (y, "y_train"), (xt, "x_test"), (yt, "y_test")):
        assert list(array.shape) == facts[key]["shape"]
        assert str(array.dtype) == facts[key]["dtype"]


@pytest.mark.parametrize("name, kwargs", [
    (name, json.loads(bad)) for name in MODULES for bad in FACTS[name]["errors"]])
def test_argument_errors_are_keras(name, kwargs):
    expected = FACTS[name]["errors"][json.dumps(kwargs)]
    with pytest.raises(ValueError) as caught:
        MODULES[name].load_data(**kwargs)
    assert str(caught.value) == expected


def test_download_over_http_then_keras_cache(http_root, monkeypatch, isolated):
    www, url = http_root
    blob = make_npz(www / "california_housing.npz", "california_housing").read_bytes()
    monkeypatch.setenv("TINYANN_CALIFORNIA_HOUSING_ORIGIN", url)
    with pytest.raises(DatasetNotFoundError, match="expected Keras's"):
        california_housing.load_data()
    monkeypatch.setattr(california_housing, "NPZ_SHA256", hashlib.sha256(blob).hexdigest())
    (x, _), _ = california_housing.load_data(version="small")
    assert x.shape == (480, 8)
    cached = isolated / "cache" / "datasets" / "california_housing" / "california_housing.npz"
    assert cached.read_bytes() == blob
    # Keras's cache comes before tinyann's
    keras_cache = isolated / "keras" / "datasets"
    keras_cache.mkdir(parents=True)
    cached.rename(keras_cache / "california_housing.npz")
    (www / "california_housing.npz").unlink()
    (x, _), _ = california_housing.load_data()
    assert x.shape == (484, 8) and not cached.exists()


class _Boom:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_pickled_objects_are_refused_never_run(tmp_path, monkeypatch):
    x = np.empty(2, dtype=object)
    x[0], x[1] = _Boom(), 1.0
    np.savez(tmp_path / "evil.npz", x=x, y=np.array([0.5, 1.5]))
    called = []
    monkeypatch.setattr(os, "system", lambda *a: called.append(a))
    with pytest.warns(UserWarning), pytest.raises(_keras_files.UnsafeFileError,
                                                  match="refused an array of pickled objects"):
        boston_housing.load_data(path=tmp_path / "evil.npz")
    assert called == []


def test_wrong_shapes_and_widths(tmp_path):
    np.savez(tmp_path / "a.npz", x=np.zeros((4, 13)), y=np.zeros(3))
    with pytest.warns(UserWarning), pytest.raises(ValueError, match=r"received x \(4, 13\) "
                                                  r"and y \(3,\)"):
        boston_housing.load_data(path=tmp_path / "a.npz")
    np.savez(tmp_path / "b.npz", x=np.zeros((4, 5)), y=np.zeros(4))
    with pytest.warns(UserWarning) as record:
        (x, _), _ = boston_housing.load_data(path=tmp_path / "b.npz")
    assert any("has 13 features, this file 5" in str(w.message) for w in record)
    assert x.shape == (3, 5)
    (tmp_path / "c.npz").write_bytes(b"junk")
    with pytest.warns(UserWarning), pytest.raises(ValueError, match="c.npz is not a readable"):
        boston_housing.load_data(path=tmp_path / "c.npz")
