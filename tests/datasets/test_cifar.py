"""CIFAR-10/100 loaders on small archives made here in exactly Keras's format (a .tar.gz
of a folder of Python 2 pickles with byte-string keys), checked against the facts real
Keras 3 gave on the same inputs (tests/fixtures/keras/dataset_facts.json, written by
tools/keras_reference/make_dataset_facts.py): layout, dtypes, shapes, labels. Also the
places and hash rules, downloads from a local file URL and a local HTTP server, and
tampered pickles refused without running."""

import dataclasses
import hashlib
import io
import json
import os
import pickle
import tarfile
from pathlib import Path

import numpy as np
import pytest

from tinyann.datasets import DatasetNotFoundError, _keras_files, cifar10, cifar100

FACTS = json.loads((Path(__file__).resolve().parents[1] / "fixtures" / "keras" /
                    "dataset_facts.json").read_text())


@pytest.fixture(autouse=True)
def no_network(tmp_path, monkeypatch):
    monkeypatch.setattr(_keras_files, "_DIGESTS", {})
    for name in ("CIFAR10", "CIFAR100"):
        monkeypatch.setenv(f"TINYANN_{name}_ORIGIN", (tmp_path / "nowhere").as_uri())


# ------------------------------------------------------------ files in Keras's format
class Py2Pickler(pickle._Pickler):
    """Pickles as CIFAR's Python 2 files are: strings as BINSTRING opcodes, NumPy's
    reconstruction named ``numpy.core.multiarray``."""

    def _write_string(self, data):
        if len(data) < 256:
            self.write(pickle.SHORT_BINSTRING + bytes([len(data)]) + data)
        else:
            self.write(pickle.BINSTRING + len(data).to_bytes(4, "little") + data)

    def save_bytes(self, obj):
        self._write_string(obj)
        self.memoize(obj)

    def save_str(self, obj):  # Python 2 had byte strings where Python 3 has str
        self._write_string(obj.encode("latin1"))
        self.memoize(obj)

    def save_global(self, obj, name=None):
        if getattr(obj, "__name__", "") == "_reconstruct":
            self.write(pickle.GLOBAL + b"numpy.core.multiarray\n_reconstruct\n")
            self.memoize(obj)
            return
        super().save_global(obj, name)

    dispatch = dict(pickle._Pickler.dispatch)
    dispatch[bytes] = save_bytes
    dispatch[str] = save_str


def py2_pickle(obj) -> bytes:
    buffer = io.BytesIO()
    Py2Pickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue()


def pixels(first, count):
    """The formula input of the Keras facts: image n's 3072 values."""
    n = np.arange(first, first + count, dtype=np.int64)[:, None]
    k = np.arange(3072, dtype=np.int64)[None, :]
    return ((n * 37 + k * 11 + (k // 1024) * 5 + n // 256) % 256).astype(np.uint8)


def labels(first, count, modulo):
    return [int((i * 7 + 3) % modulo) for i in range(first, first + count)]


def cifar10_members(dumps=py2_pickle):
    """Keras's layout, two images per batch: batch i holds n = (i-1)*10000 + 0, 1."""
    members = {"batches.meta": dumps({"label_names": list(cifar10.CLASS_NAMES)}),
               "readme.html": b"<html></html>"}
    for i in range(1, 6):
        first = (i - 1) * 10000
        members[f"data_batch_{i}"] = dumps({
            "batch_label": f"training batch {i} of 5", "labels": labels(first, 2, 10),
            "data": pixels(first, 2), "filenames": [f"img_{first + j}.png" for j in (0, 1)]})
    members["test_batch"] = dumps({
        "batch_label": "testing batch 1 of 1", "labels": labels(50000, 2, 10),
        "data": pixels(50000, 2), "filenames": ["a.png", "b.png"]})
    return members


def cifar100_members(dumps=py2_pickle):
    out = {"meta": dumps({"fine_label_names": ["x"] * 100, "coarse_label_names": ["y"] * 20})}
    for name, first, count in (("train", 0, 3), ("test", 3, 2)):
        out[name] = dumps({"filenames": [f"{first + j}.png" for j in range(count)],
                           "batch_label": name, "fine_labels": labels(first, count, 100),
                           "coarse_labels": labels(first, count, 20),
                           "data": pixels(first, count)})
    return out


def write_tar(path, folder, members):
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def write_folder(directory, members):
    directory.mkdir(parents=True)
    for name, data in members.items():
        (directory / name).write_bytes(data)
    return directory


def sha(array):
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def with_hash(monkeypatch, module, path):
    """Makes ``path`` count as Keras's archive for ``module``."""
    digest = hashlib.sha256(Path(path).read_bytes()).hexdigest()
    monkeypatch.setattr(module, "ARCHIVE", dataclasses.replace(module.ARCHIVE, sha256=digest))


# ------------------------------------------------------------ CIFAR-10 against Keras
def check_cifar10_like_keras(result):
    facts = FACTS["cifar10"]
    (x, y), (xt, yt) = result
    assert x.shape == (10, 32, 32, 3) and xt.shape == (2, 32, 32, 3)
    assert y.shape == (10, 1) and yt.shape == (2, 1)
    for array, name in ((x, "x_train"), (y, "y_train"), (xt, "x_test"), (yt, "y_test")):
        assert str(array.dtype) == facts[name]["dtype"]
        assert array.shape[1:] == tuple(facts[name]["shape"][1:])
    kept = [(i - 1) * 10000 + j for i in range(1, 6) for j in (0, 1)]
    # image n of Keras's output, byte for byte, and its label
    assert [sha(x[k]) for k in range(10)] == [facts["train_images"][str(n)] for n in kept]
    assert y.tolist() == [facts["train_labels"][str(n)] for n in kept]
    assert [sha(im) for im in xt] == [facts["test_images"][str(n)] for n in (50000, 50001)]
    assert yt.tolist() == [facts["test_labels"][str(n)] for n in (50000, 50001)]
    assert x[1, 2, 3].tolist() == facts["pixel"]["x_train[1, 2, 3, :]"]
    assert xt[1, 31, 0].tolist() == facts["pixel"]["x_test[1, 31, 0, :]"]
    # tinyann's one documented difference: contiguous arrays, not a transposed view
    assert x.flags.c_contiguous and not facts["x_train"]["c_contiguous"]


def test_cifar10_archive_gives_keras_arrays(tmp_path):
    archive = write_tar(tmp_path / "cifar-10-python.tar.gz", "cifar-10-batches-py",
                        cifar10_members())
    with pytest.warns(UserWarning, match="is not Keras's"):
        check_cifar10_like_keras(cifar10.load_data(path=archive))


def test_channels_last_layout_from_the_channel_planes(tmp_path):
    archive = write_tar(tmp_path / "c.tar.gz", "cifar-10-batches-py", cifar10_members())
    with pytest.warns(UserWarning):
        (x, _), _ = cifar10.load_data(path=str(archive))
    flat = pixels(0, 1)[0]  # red plane, then green, then blue, each row by row
    h, w = 5, 17
    assert x[0, h, w].tolist() == [flat[c * 1024 + h * 32 + w] for c in range(3)]


def test_extracted_folders_and_data_dir(tmp_path, monkeypatch):
    members = cifar10_members()
    write_folder(tmp_path / "mine" / "cifar-10-batches-py", members)
    check_cifar10_like_keras(cifar10.load_data(path=tmp_path / "mine"))  # no hash: no warning
    check_cifar10_like_keras(cifar10.load_data(path=tmp_path / "mine" / "cifar-10-batches-py"))
    write_folder(tmp_path / "data" / "cifar10" / "cifar-10-batches-py", members)
    monkeypatch.setenv("TINYANN_DATA_DIR", str(tmp_path / "data"))
    check_cifar10_like_keras(cifar10.load_data())


def test_python3_pickles_load_too(tmp_path):
    archive = write_tar(tmp_path / "c.tar.gz", "cifar-10-batches-py",
                        cifar10_members(lambda obj: pickle.dumps(
                            {k.encode(): v for k, v in obj.items()}, protocol=4)))
    with pytest.warns(UserWarning):
        check_cifar10_like_keras(cifar10.load_data(path=archive))


def test_caches_need_keras_hash_and_download_is_checked(tmp_path, monkeypatch, isolated):
    origin = tmp_path / "origin"
    origin.mkdir()
    archive = write_tar(origin / "cifar-10-python.tar.gz", "cifar-10-batches-py",
                        cifar10_members())
    monkeypatch.setenv("TINYANN_CIFAR10_ORIGIN", origin.as_uri())
    # Keras 3's cache name holds the archive, but with the real hash expected it is not used
    keras_cache = isolated / "keras" / "datasets"
    keras_cache.mkdir(parents=True)
    (keras_cache / "cifar-10-batches-py-target_archive").write_bytes(archive.read_bytes())
    with pytest.raises(DatasetNotFoundError) as caught:
        cifar10.load_data()
    message = str(caught.value)
    assert "cifar-10-batches-py-target_archive: sha256 is not Keras's (not used)" in message
    assert "expected Keras's" in message and "cifar-10-python.tar.gz" in message
    # with the hash matching, Keras's cache is read and nothing is downloaded
    with_hash(monkeypatch, cifar10, archive)
    check_cifar10_like_keras(cifar10.load_data())
    cached = isolated / "cache" / "datasets" / "cifar10" / "cifar-10-python.tar.gz"
    assert not cached.exists()
    # without it, the download lands, checked, in tinyann's cache and is used next time
    (keras_cache / "cifar-10-batches-py-target_archive").unlink()
    check_cifar10_like_keras(cifar10.load_data())
    assert cached.read_bytes() == archive.read_bytes()
    archive.unlink()
    check_cifar10_like_keras(cifar10.load_data())


def test_download_over_http(http_root, monkeypatch, isolated):
    www, url = http_root
    archive = write_tar(www / "cifar-100-python.tar.gz", "cifar-100-python",
                        cifar100_members())
    with_hash(monkeypatch, cifar100, archive)
    monkeypatch.setenv("TINYANN_CIFAR100_ORIGIN", url)
    (x, y), _ = cifar100.load_data()
    assert x.shape == (3, 32, 32, 3) and y.dtype == np.int64
    assert (isolated / "cache" / "datasets" / "cifar100" / "cifar-100-python.tar.gz").exists()


# ------------------------------------------------------------ CIFAR-100 against Keras
@pytest.mark.parametrize("mode", ["fine", "coarse"])
def test_cifar100_gives_keras_arrays(tmp_path, mode):
    facts = FACTS["cifar100"][mode]
    archive = write_tar(tmp_path / "c100.tar.gz", "cifar-100-python", cifar100_members())
    with pytest.warns(UserWarning):
        (x, y), (xt, yt) = cifar100.load_data(label_mode=mode, path=archive)
    for array, name in ((x, "x_train"), (y, "y_train"), (xt, "x_test"), (yt, "y_test")):
        assert list(array.shape) == facts[name]["shape"]
        assert str(array.dtype) == facts[name]["dtype"]  # y is int64 in Keras's code
    assert y.tolist() == facts["y_train_values"] and yt.tolist() == facts["y_test_values"]
    assert [sha(im) for im in x] == facts["train_images"]
    assert [sha(im) for im in xt] == facts["test_images"]


def test_cifar100_label_mode_error_is_keras(tmp_path):
    with pytest.raises(ValueError) as caught:
        cifar100.load_data(label_mode="middle")
    assert str(caught.value) == FACTS["cifar100"]["bad_label_mode"]


# ------------------------------------------------------------ refused and broken files
class _Boom:
    def __reduce__(self):
        return (os.system, ("echo pwned > /dev/null",))


def test_a_tampered_batch_is_refused_never_run(tmp_path, monkeypatch):
    members = cifar10_members()
    members["data_batch_3"] = pickle.dumps({b"data": pixels(0, 2), b"labels": [1, _Boom()]},
                                           protocol=4)
    archive = write_tar(tmp_path / "evil.tar.gz", "cifar-10-batches-py", members)
    called = []
    monkeypatch.setattr(os, "system", lambda *a: called.append(a))
    with pytest.warns(UserWarning), pytest.raises(_keras_files.UnsafeFileError) as caught:
        cifar10.load_data(path=archive)
    assert "refused to load posix.system" in str(caught.value) or \
        "refused to load os.system" in str(caught.value)
    assert "data_batch_3" in str(caught.value) and called == []


@pytest.mark.parametrize("change, match", [
    (lambda m: m.pop("data_batch_5"), r"no batch file\(s\) \['data_batch_5'\]"),
    (lambda m: m.update(test_batch=py2_pickle({"data": pixels(0, 2)})), "expected keys"),
    (lambda m: m.update(test_batch=py2_pickle(
        {"data": pixels(0, 2).astype(np.int16), "labels": [1, 2]})), "uint8 array"),
    (lambda m: m.update(test_batch=py2_pickle({"data": pixels(0, 2), "labels": [1]})),
     "list of 2 ints"),
    (lambda m: m.update(test_batch=py2_pickle([1, 2])), "expected a pickled dict"),
    (lambda m: m.update(test_batch=py2_pickle({"data": pixels(0, 1), "labels": [300]})),
     "0-255"),
    (lambda m: m.update(test_batch=b"\x80\x02}q\x00"), "not a readable pickle"),
])
def test_malformed_archives_say_what_is_wrong(tmp_path, change, match):
    members = cifar10_members()
    change(members)
    archive = write_tar(tmp_path / "bad.tar.gz", "cifar-10-batches-py", members)
    with pytest.warns(UserWarning), pytest.raises(ValueError, match=match):
        cifar10.load_data(path=archive)


def test_not_an_archive_and_missing_paths(tmp_path):
    junk = tmp_path / "junk.tar.gz"
    junk.write_bytes(b"not a tarball")
    with pytest.warns(UserWarning), pytest.raises(ValueError,
                                                  match="not a readable CIFAR-10 archive"):
        cifar10.load_data(path=junk)
    with pytest.raises(FileNotFoundError, match="no file at path"):
        cifar10.load_data(path=tmp_path / "nope.tar.gz")
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="no batch file 'data_batch_1'"):
        cifar10.load_data(path=tmp_path / "empty")
