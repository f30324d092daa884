"""MNIST loader on tiny IDX files (the real data cannot be fetched here)."""

from __future__ import annotations

import os

import pytest

from tinyann.datasets import _sources, mnist


def test_checksum_table_is_complete():
    assert list(mnist.SHA256) == [
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
    ]
    assert all(len(v) == 64 and int(v, 16) >= 0 for v in mnist.SHA256.values())
    assert len(set(mnist.SHA256.values())) == 4


def test_places_have_no_debian_or_keras(isolated):
    kinds = [r.place.kind for r in mnist.locate()]
    assert kinds == ["cache", "download"]


def test_load_from_explicit_path(tmp_path, tiny, h):
    h.write_set(tmp_path / "digits", tiny, compress=False)
    h.assert_loaded(mnist.load_data(path=tmp_path / "digits"), tiny)


def test_load_from_cache(isolated, tiny, h):
    h.write_set(isolated / "cache" / "datasets" / "mnist", tiny)
    h.assert_loaded(mnist.load_data(), tiny)


def test_data_dir_env(isolated, monkeypatch, tiny, h):
    h.write_set(isolated / "data" / "mnist", tiny)
    monkeypatch.setenv("TINYANN_DATA_DIR", str(isolated / "data"))
    h.assert_loaded(mnist.load_data(), tiny)


def test_unpatched_checksums_reject_tiny_files(tmp_path, h):
    h.write_set(tmp_path / "digits", h.make_arrays())
    with pytest.raises(_sources.DatasetNotFoundError, match="SHA-256 mismatch"):
        mnist.load_data(path=tmp_path / "digits")


def test_download_with_module_mirror_list(isolated, monkeypatch, tiny, h, tmp_path):
    h.write_set(tmp_path / "mirror", tiny)
    monkeypatch.delenv("TINYANN_DATASET_MIRRORS")
    monkeypatch.setattr(
        mnist, "MIRRORS", [(tmp_path / "absent").as_uri(), (tmp_path / "mirror").as_uri()]
    )
    h.assert_loaded(mnist.load_data(), tiny)
    cache = isolated / "cache" / "datasets" / "mnist"
    assert sorted(os.listdir(cache)) == sorted(h.STEMS)


def test_download_over_http(isolated, monkeypatch, tiny, h, http_root):
    www, base = http_root
    h.write_set(www / "mnist", tiny)
    monkeypatch.setenv("TINYANN_DATASET_MIRRORS", base + "/{name}/")
    h.assert_loaded(mnist.load_data(), tiny)


def test_not_found_message(isolated):
    with pytest.raises(OSError) as info:
        mnist.load_data()
    message = str(info.value)
    assert "MNIST could not be loaded" in message
    assert "apt-get" not in message  # no Debian package to suggest
    assert "path=" in message and "TINYANN_DATASET_MIRRORS" in message
