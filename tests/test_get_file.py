"""keras.utils.get_file on file:// URLs (these machines reach no other server): Keras
3's paths, hashes, re-use of a cached file, extraction of tar and zip archives (members
outside the folder skipped), atomic downloads, and its errors."""

import hashlib
import io
import os
import tarfile
import zipfile

import pytest

import tinyann as keras


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    return tmp_path / "kh"


def _url(path):
    return path.resolve().as_uri()


def test_a_plain_file_lands_in_keras_cache(tmp_path, home):
    source = tmp_path / "data.csv"
    source.write_text("a,b\n1,2\n")
    path = keras.utils.get_file(origin=_url(source))
    assert path == str(home / "datasets" / "data.csv")
    assert open(path).read() == "a,b\n1,2\n"
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    source.write_text("changed")  # a cached file with the right hash is not fetched again
    assert open(keras.utils.get_file("data.csv", _url(source), file_hash=digest)).read() \
        == "a,b\n1,2\n"


def test_a_wrong_hash_refuses_and_leaves_nothing(tmp_path, home):
    source = tmp_path / "x.bin"
    source.write_bytes(b"12345")
    with pytest.raises(ValueError, match="Incomplete or corrupted file detected"):
        keras.utils.get_file("x.bin", _url(source), file_hash="0" * 64)
    assert os.listdir(home / "datasets") == []
    md5 = hashlib.md5(b"12345").hexdigest()
    assert keras.utils.get_file("x.bin", _url(source), md5_hash=md5).endswith("x.bin")


def _tar(path, files):
    with tarfile.open(path, "w:gz") as archive:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))


def test_extract_tar_as_keras_names_it(tmp_path, home):
    archive = tmp_path / "flower_photos.tgz"
    _tar(archive, {"flower_photos/roses/a.txt": b"rose", "../evil.txt": b"x"})
    with pytest.warns(UserWarning, match="Skipping invalid path"):
        folder = keras.utils.get_file("flower_photos.tgz", _url(archive), extract=True)
    assert folder == str(home / "datasets" / "flower_photos_extracted")
    assert open(os.path.join(folder, "flower_photos/roses/a.txt")).read() == "rose"
    assert not (home / "datasets" / "evil.txt").exists()
    with pytest.warns(UserWarning, match="Skipping invalid path"):
        untarred = keras.utils.get_file("photos", _url(archive), untar=True)
    assert untarred == str(home / "datasets" / "photos")
    assert (home / "datasets" / "photos_archive").exists()


def test_extract_zip(tmp_path, home):
    archive = tmp_path / "data.zip"
    with zipfile.ZipFile(archive, "w") as z:
        z.writestr("inner/b.txt", "bee")
    folder = keras.utils.get_file(origin=_url(archive), extract=True)
    assert folder == str(home / "datasets" / "data.zip")
    assert open(os.path.join(folder, "inner", "b.txt")).read() == "bee"


def test_errors(tmp_path, home):
    with pytest.raises(ValueError, match='specify the "origin"'):
        keras.utils.get_file("a.txt")
    with pytest.raises(ValueError, match="Paths are no longer accepted"):
        keras.utils.get_file("dir/a.txt", origin="file:///nowhere")
    with pytest.raises(Exception, match="URL fetch failure"):
        keras.utils.get_file("a.txt", origin=_url(tmp_path / "missing.txt"))
    assert os.listdir(home / "datasets") == []
