"""Fixtures for dataset tests: an isolated environment and tiny IDX data sets.

Every test runs with the caches, Keras's home and the Debian directory pointed
into its tmp_path and downloads disabled, so nothing reads the real home
directory or the network. Tests marked ``slow`` keep the real Debian directory.
"""

from __future__ import annotations

import functools
import hashlib
import http.server
import os
import threading
from types import SimpleNamespace

import numpy as np
import pytest

from tinyann.datasets import _idx, _sources, fashion_mnist, mnist

STEMS = (_sources.TRAIN_IMAGES, _sources.TRAIN_LABELS, _sources.TEST_IMAGES, _sources.TEST_LABELS)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch, request):
    """Points every source at tmp_path; returns that root."""
    root = tmp_path / "env"
    monkeypatch.setenv("TINYANN_CACHE_DIR", str(root / "cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(root / "xdg"))
    monkeypatch.setenv("KERAS_HOME", str(root / "keras"))
    monkeypatch.setenv("HOME", str(root / "home"))
    monkeypatch.setenv("TINYANN_DATASET_MIRRORS", "")
    monkeypatch.delenv("TINYANN_DATA_DIR", raising=False)
    if request.node.get_closest_marker("slow") is None:
        monkeypatch.setattr(fashion_mnist, "DEBIAN_DIR", str(root / "debian" / "fashion-mnist"))
    monkeypatch.setattr(_sources, "_HASHES", {})
    return root


def make_arrays(n_train: int = 6, n_test: int = 4, seed: int = 0) -> dict:
    """Random Fashion-MNIST-shaped arrays: stem -> uint8 array."""
    rng = np.random.default_rng(seed)
    return {
        _sources.TRAIN_IMAGES: rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        _sources.TRAIN_LABELS: rng.integers(0, 10, n_train, dtype=np.uint8),
        _sources.TEST_IMAGES: rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        _sources.TEST_LABELS: rng.integers(0, 10, n_test, dtype=np.uint8),
    }


def write_set(directory, arrays: dict, compress: bool = True) -> dict:
    """Writes the four files into ``directory``; returns stem -> decompressed SHA-256."""
    os.makedirs(directory, exist_ok=True)
    hashes = {}
    for stem, array in arrays.items():
        name = stem + (".gz" if compress else "")
        _idx.write_idx(os.path.join(directory, name), array, compress=compress)
        hashes[stem] = hashlib.sha256(_idx.encode_idx(array)).hexdigest()
    return hashes


@pytest.fixture
def tiny(monkeypatch):
    """A tiny data set whose hashes are patched into both dataset modules."""
    arrays = make_arrays()
    hashes = {stem: hashlib.sha256(_idx.encode_idx(a)).hexdigest() for stem, a in arrays.items()}
    for module in (fashion_mnist, mnist):
        for stem, digest in hashes.items():
            monkeypatch.setitem(module.SHA256, stem, digest)
    return arrays


def assert_loaded(result, arrays: dict) -> None:
    """Checks load_data's nested tuple against the arrays written."""
    (x_train, y_train), (x_test, y_test) = result
    for got, stem in (
        (x_train, STEMS[0]),
        (y_train, STEMS[1]),
        (x_test, STEMS[2]),
        (y_test, STEMS[3]),
    ):
        assert got.dtype == np.uint8
        np.testing.assert_array_equal(got, arrays[stem])


@pytest.fixture
def h():
    """The helpers above, for tests (conftest modules are not importable by name)."""
    return SimpleNamespace(
        make_arrays=make_arrays, write_set=write_set, assert_loaded=assert_loaded, STEMS=STEMS
    )


@pytest.fixture
def http_root(tmp_path):
    """Serves tmp_path/www on 127.0.0.1; yields (directory, base URL). Stops itself."""
    www = tmp_path / "www"
    www.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):  # keep pytest output clean
            pass

    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(Quiet, directory=str(www))
    )
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    # Safety net: the server shuts down after 60 s even if teardown never runs.
    guard = threading.Timer(60.0, server.shutdown)
    guard.daemon = True
    guard.start()
    try:
        yield www, f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        guard.cancel()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
