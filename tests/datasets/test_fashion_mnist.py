"""Fashion-MNIST loader: API shape on tiny data, plus one test on the real Debian files."""

from __future__ import annotations

import numpy as np
import pytest

import tinyann.datasets
from tinyann.datasets import fashion_mnist


def test_package_exports():
    assert tinyann.datasets.fashion_mnist is fashion_mnist
    assert issubclass(tinyann.datasets.DatasetNotFoundError, OSError)
    assert issubclass(tinyann.datasets.ChecksumMismatchError, ValueError)
    assert len(fashion_mnist.CLASS_NAMES) == 10


def test_checksum_table_is_complete():
    assert set(fashion_mnist.SHA256) == {
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    }
    assert all(len(v) == 64 and int(v, 16) >= 0 for v in fashion_mnist.SHA256.values())


def test_load_data_from_debian_dir_returns_keras_order(isolated, tiny, h):
    h.write_set(isolated / "debian" / "fashion-mnist", tiny)
    result = fashion_mnist.load_data()
    assert isinstance(result, tuple) and len(result) == 2
    h.assert_loaded(result, tiny)
    (x_train, y_train), (x_test, y_test) = result
    assert x_train.shape == (6, 28, 28) and y_train.shape == (6,)
    assert x_test.shape == (4, 28, 28) and y_test.shape == (4,)


def test_image_label_count_mismatch_is_an_error(tmp_path, monkeypatch, h):
    arrays = h.make_arrays()
    arrays["train-labels-idx1-ubyte"] = arrays["train-labels-idx1-ubyte"][:5].copy()
    hashes = h.write_set(tmp_path / "d", arrays)
    for stem, digest in hashes.items():
        monkeypatch.setitem(fashion_mnist.SHA256, stem, digest)
    with pytest.raises(ValueError, match=r"got \(6, 28, 28\) and \(5,\)"):
        fashion_mnist.load_data(path=tmp_path / "d")


def test_wrong_image_size_is_an_error(tmp_path, monkeypatch, h):
    arrays = h.make_arrays()
    arrays["t10k-images-idx3-ubyte"] = np.zeros((4, 32, 32), np.uint8)
    for stem, digest in h.write_set(tmp_path / "d", arrays).items():
        monkeypatch.setitem(fashion_mnist.SHA256, stem, digest)
    with pytest.raises(ValueError, match="expected .N, 28, 28. images"):
        fashion_mnist.load_data(path=tmp_path / "d")


@pytest.mark.slow
def test_real_fashion_mnist_from_debian_package():
    # Fails (never skips) without dataset-fashion-mnist, with the loader's own error
    # (places tried and `apt-get install -y dataset-fashion-mnist`).
    (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
    debian = [r for r in fashion_mnist.locate() if r.place.kind == "debian"]
    assert debian and debian[0].ok, fashion_mnist.describe_sources()
    assert x_train.shape == (60000, 28, 28) and x_train.dtype == np.uint8
    assert y_train.shape == (60000,) and y_train.dtype == np.uint8
    assert x_test.shape == (10000, 28, 28) and x_test.dtype == np.uint8
    assert y_test.shape == (10000,) and y_test.dtype == np.uint8
    assert y_train[:10].tolist() == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    assert np.bincount(y_train).tolist() == [6000] * 10
    assert np.bincount(y_test).tolist() == [1000] * 10
    assert all(check.ok for check in fashion_mnist.verify())
