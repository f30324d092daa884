"""Source resolution, caching, checksums and downloads (no network: file:// and 127.0.0.1)."""

from __future__ import annotations

import gzip
import os

import pytest

from tinyann.datasets import _idx, _sources, fashion_mnist

CACHE = ("cache", "datasets", "fashion-mnist")


def _dirs(root):
    return {
        "explicit": root / "explicit",
        "data-dir": root / "data" / "fashion-mnist",
        "cache": root.joinpath(*CACHE),
        "keras": root / "keras" / "datasets" / "fashion-mnist",
        "debian": root / "debian" / "fashion-mnist",
    }


@pytest.fixture
def reads(monkeypatch):
    """Records every file the loader reads."""
    seen = []
    real = _idx.read_bytes

    def spy(path):
        seen.append(os.fspath(path))
        return real(path)

    monkeypatch.setattr(_idx, "read_bytes", spy)
    return seen


def _used(reads):
    return {os.path.dirname(p) for p in reads}


# --- where the cache is -----------------------------------------------------


def test_cache_dir_resolution(monkeypatch, tmp_path):
    monkeypatch.setenv("TINYANN_CACHE_DIR", str(tmp_path / "c"))
    assert _sources.cache_dir("x") == str(tmp_path / "c" / "datasets" / "x")
    monkeypatch.delenv("TINYANN_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert _sources.cache_dir("x") == str(tmp_path / "xdg" / "tinyann" / "datasets" / "x")
    monkeypatch.setenv("XDG_CACHE_HOME", "relative/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert _sources.cache_dir("x") == str(
        tmp_path / "home" / ".cache" / "tinyann" / "datasets" / "x"
    )
    monkeypatch.delenv("KERAS_HOME")
    assert _sources.keras_dir("fashion-mnist") == str(
        tmp_path / "home" / ".keras" / "datasets" / "fashion-mnist"
    )


def test_mirror_override(monkeypatch):
    spec = fashion_mnist._spec()
    monkeypatch.delenv("TINYANN_DATASET_MIRRORS")
    assert _sources.mirrors(spec) == fashion_mnist.MIRRORS
    monkeypatch.setenv("TINYANN_DATASET_MIRRORS", " file:///a/{name}  http://b/ ")
    assert _sources.mirrors(spec) == ["file:///a/fashion-mnist", "http://b/"]
    monkeypatch.setattr(fashion_mnist, "MIRRORS", ["x"])
    monkeypatch.delenv("TINYANN_DATASET_MIRRORS")
    assert _sources.mirrors(fashion_mnist._spec()) == ["x"]


# --- order of places -----------------------------------------------------------


def test_order_explicit_then_datadir_then_cache_then_keras_then_debian(
    isolated, monkeypatch, tiny, h, reads
):
    dirs = _dirs(isolated)
    for d in dirs.values():
        h.write_set(d, tiny)
    monkeypatch.setenv("TINYANN_DATA_DIR", str(isolated / "data"))

    h.assert_loaded(fashion_mnist.load_data(path=dirs["explicit"]), tiny)
    assert _used(reads) == {str(dirs["explicit"])}
    for kind in ("data-dir", "cache", "keras", "debian"):
        reads.clear()
        h.assert_loaded(fashion_mnist.load_data(), tiny)
        assert _used(reads) == {str(dirs[kind])}, kind
        for p in list(dirs[kind].iterdir()):
            p.unlink()  # remove this place; the next one must take over
        if kind in ("keras", "debian"):
            # Loading from Keras/Debian gzip leaves a plain copy in the cache: drop it.
            for p in dirs["cache"].iterdir():
                p.unlink()


def test_invalid_place_falls_through(isolated, tiny, h, reads):
    dirs = _dirs(isolated)
    h.write_set(dirs["debian"], tiny)
    h.write_set(dirs["cache"], tiny, compress=False)
    (dirs["cache"] / "t10k-labels-idx1-ubyte").write_bytes(
        _idx.encode_idx(tiny["t10k-labels-idx1-ubyte"][::-1].copy())
    )
    h.assert_loaded(fashion_mnist.load_data(), tiny)
    assert str(dirs["debian"]) in _used(reads)
    # ... and the damaged cache file was replaced by a good decompressed copy.
    report = fashion_mnist.locate()
    assert [r.ok for r in report][:3] == [True, False, True]


def test_explicit_path_is_the_only_place(isolated, tiny, h, tmp_path):
    h.write_set(_dirs(isolated)["debian"], tiny)
    with pytest.raises(_sources.DatasetNotFoundError) as info:
        fashion_mnist.load_data(path=tmp_path / "nowhere")
    message = str(info.value)
    assert "path= argument" in message and "no such directory" in message
    assert "Debian" not in message.split("To fix")[0]


def test_explicit_path_plain_files_and_dotted_names(tmp_path, tiny, h):
    d = tmp_path / "mine"
    h.write_set(d, tiny, compress=False)
    for stem in ("train-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        (d / stem).rename(d / stem.replace("-idx", ".idx"))
    h.assert_loaded(fashion_mnist.load_data(path=str(d)), tiny)


def test_copy_to_cache_makes_next_load_read_plain_files(isolated, tiny, h, reads):
    dirs = _dirs(isolated)
    h.write_set(dirs["debian"], tiny)
    fashion_mnist.load_data()
    assert sorted(os.listdir(dirs["cache"])) == sorted(h.STEMS)  # no .part left
    reads.clear()
    h.assert_loaded(fashion_mnist.load_data(), tiny)
    assert _used(reads) == {str(dirs["cache"])}


def test_copy_to_cache_failure_is_ignored(isolated, tiny, h, monkeypatch):
    h.write_set(_dirs(isolated)["debian"], tiny)
    (isolated / "cache").write_text("a file where the cache directory should be")
    h.assert_loaded(fashion_mnist.load_data(), tiny)


def test_hash_is_computed_once_per_file(isolated, tiny, h, monkeypatch):
    h.write_set(_dirs(isolated)["cache"], tiny, compress=False)
    calls = []
    real = _sources._sha256
    monkeypatch.setattr(_sources, "_sha256", lambda b: calls.append(1) or real(b))
    fashion_mnist.load_data()
    fashion_mnist.load_data()
    assert len(calls) == 4
    os.utime(_dirs(isolated)["cache"] / "t10k-labels-idx1-ubyte", ns=(1, 1))
    fashion_mnist.load_data()
    assert len(calls) == 5  # a changed mtime means the file is hashed again


# --- reporting -------------------------------------------------------------------


def test_not_found_message_lists_places_reasons_and_fixes(isolated, monkeypatch, tiny, h):
    dirs = _dirs(isolated)
    monkeypatch.setenv("TINYANN_DATA_DIR", str(isolated / "data"))
    h.write_set(dirs["keras"], tiny)
    (dirs["keras"] / "train-images-idx3-ubyte.gz").unlink()
    with pytest.raises(OSError) as info:
        fashion_mnist.load_data()
    assert isinstance(info.value, _sources.DatasetNotFoundError)
    message = str(info.value)
    order = [
        "$TINYANN_DATA_DIR",
        "tinyann cache",
        "Keras cache",
        "Debian package dataset-fashion-mnist",
        "download",
    ]
    positions = [message.index(label) for label in order]
    assert positions == sorted(positions)
    assert "missing train-images-idx3-ubyte[.gz]" in message
    assert "no such directory" in message and "disabled" in message
    assert "apt-get install -y dataset-fashion-mnist" in message
    assert "path=" in message and "TINYANN_CACHE_DIR" in message


def test_locate_and_describe(isolated, tiny, h):
    h.write_set(_dirs(isolated)["debian"], tiny)
    reports = fashion_mnist.locate()
    assert [r.place.kind for r in reports] == ["cache", "keras", "debian", "download"]
    assert [r.ok for r in reports] == [False, False, True, None]
    text = fashion_mnist.describe_sources()
    assert "[ok] Debian package" in text and "load_data uses this" in text
    assert not (isolated / "cache").exists()  # locate never writes


def test_verify_reports_each_file(isolated, tiny, h):
    d = _dirs(isolated)["cache"]
    h.write_set(d, tiny, compress=False)
    assert all(c.ok for c in fashion_mnist.verify())
    (d / "train-labels-idx1-ubyte").write_bytes(_idx.encode_idx(tiny["t10k-labels-idx1-ubyte"]))
    checks = {c.name: c for c in fashion_mnist.verify()}
    assert not checks["train-labels-idx1-ubyte"].ok
    assert checks["train-labels-idx1-ubyte"].path == str(d / "train-labels-idx1-ubyte")
    assert sum(c.ok for c in checks.values()) == 3
    with pytest.raises(_sources.DatasetNotFoundError):
        fashion_mnist.verify(path=isolated / "empty")


# --- downloads ---------------------------------------------------------------------


def _serve(directory, arrays, h):
    h.write_set(directory, arrays, compress=True)


def test_download_from_file_url(isolated, monkeypatch, tiny, h, tmp_path, capsys):
    _serve(tmp_path / "mirror", tiny, h)
    monkeypatch.setenv("TINYANN_DATASET_MIRRORS", (tmp_path / "mirror").as_uri())
    h.assert_loaded(fashion_mnist.load_data(), tiny)
    cache = isolated.joinpath(*CACHE)
    assert sorted(os.listdir(cache)) == sorted(h.STEMS)
    assert "downloading file://" in capsys.readouterr().err
    assert [r.ok for r in fashion_mnist.locate()][0] is True


def test_download_http_retries_past_404_and_corrupt_mirror(
    isolated, monkeypatch, tiny, h, http_root
):
    www, base = http_root
    _serve(www / "good", tiny, h)
    bad = h.make_arrays(seed=99)
    _serve(www / "bad", bad, h)
    # The bad mirror's train labels are valid but different; its images are torn gzip.
    blob = (www / "bad" / "train-images-idx3-ubyte.gz").read_bytes()
    (www / "bad" / "train-images-idx3-ubyte.gz").write_bytes(blob[:100])
    monkeypatch.setenv("TINYANN_DATASET_MIRRORS", f"{base}/missing {base}/bad {base}/good/")
    h.assert_loaded(fashion_mnist.load_data(), tiny)
    assert sorted(os.listdir(isolated.joinpath(*CACHE))) == sorted(h.STEMS)


def test_download_checksum_mismatch_error(isolated, monkeypatch, tiny, h, http_root):
    www, base = http_root
    _serve(www / "bad", h.make_arrays(seed=5), h)
    monkeypatch.setenv("TINYANN_DATASET_MIRRORS", f"{base}/bad")
    with pytest.raises(_sources.DatasetNotFoundError) as info:
        fashion_mnist.load_data()
    message = str(info.value)
    stem = "train-images-idx3-ubyte"
    received = _sources._sha256(_idx.encode_idx(h.make_arrays(seed=5)[stem]))
    assert f"{base}/bad/{stem}.gz" in message
    assert fashion_mnist.SHA256[stem] in message and received in message
    assert "SHA-256 mismatch" in message
    cache = isolated.joinpath(*CACHE)
    assert os.listdir(cache) == []  # nothing unverified was placed


def test_partial_download_keeps_only_verified_files(isolated, monkeypatch, tiny, h, tmp_path):
    mirror = tmp_path / "mirror"
    _serve(mirror, tiny, h)
    (mirror / "t10k-images-idx3-ubyte.gz").unlink()
    monkeypatch.setenv("TINYANN_DATASET_MIRRORS", mirror.as_uri())
    with pytest.raises(_sources.DatasetNotFoundError, match="t10k-images-idx3-ubyte.gz"):
        fashion_mnist.load_data()
    cache = isolated.joinpath(*CACHE)
    assert sorted(os.listdir(cache)) == ["train-images-idx3-ubyte", "train-labels-idx1-ubyte"]
    # The next attempt downloads only what is missing.
    _serve(mirror, tiny, h)
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        (mirror / name).unlink()
    h.assert_loaded(fashion_mnist.load_data(), tiny)


def test_atomic_write_leaves_nothing_on_failure(isolated, monkeypatch, tiny, h, tmp_path):
    _serve(tmp_path / "mirror", tiny, h)
    monkeypatch.setenv("TINYANN_DATASET_MIRRORS", (tmp_path / "mirror").as_uri())

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(_sources.os, "replace", broken_replace)
    with pytest.raises(_sources.DatasetNotFoundError, match="No space left"):
        fashion_mnist.load_data()
    assert os.listdir(isolated.joinpath(*CACHE)) == []


def test_server_undoing_gzip_is_accepted(isolated, monkeypatch, tiny, h, tmp_path):
    mirror = tmp_path / "mirror"
    _serve(mirror, tiny, h)
    gz = mirror / "train-labels-idx1-ubyte.gz"
    gz.write_bytes(gzip.decompress(gz.read_bytes()))
    monkeypatch.setenv("TINYANN_DATASET_MIRRORS", mirror.as_uri())
    h.assert_loaded(fashion_mnist.load_data(), tiny)
