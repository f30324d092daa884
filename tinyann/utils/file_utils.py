"""``keras.utils.get_file``: a file from a URL into Keras's cache (``~/.keras/datasets``,
or ``$KERAS_HOME``), checked against a hash, optionally extracted; the tutorials fetch
their data with it (``get_file('flower_photos.tar', origin=url, extract=True)``).

Keras 3's paths: ``<cache_dir>/<cache_subdir>/<fname>``; with ``extract``, the
archive is kept as ``fname`` (or ``<fname>_archive`` when fname has no dot) and the
files go to ``<fname before its first dot>_extracted`` (or ``<fname>``), which is
returned. A file already there (with the right hash) is not fetched again. The
download is written to a temporary file and renamed when complete and checked, so an
interrupted one leaves nothing; archive members that would land outside the folder
are skipped, as Keras does.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import warnings

from tinyann.utils.files import atomic_path

CHUNK = 1 << 16


def keras_home() -> str:
    """``$KERAS_HOME``, else ``~/.keras``."""
    return os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")


def resolve_hasher(algorithm, file_hash=None):
    """sha256 when asked, or 'auto' with a 64-digit hash; md5 otherwise (Keras's rule)."""
    if algorithm == "sha256" or (algorithm == "auto" and file_hash is not None
                                 and len(file_hash) == 64):
        return hashlib.sha256()
    return hashlib.md5()


def hash_file(fpath, algorithm="sha256", chunk_size=CHUNK) -> str:
    hasher = resolve_hasher(algorithm) if isinstance(algorithm, str) else algorithm
    with open(fpath, "rb") as f:
        for chunk in iter(lambda: f.read(chunk_size), b""):
            hasher.update(chunk)
    return hasher.hexdigest()


def validate_file(fpath, file_hash, algorithm="auto", chunk_size=CHUNK) -> bool:
    return hash_file(fpath, resolve_hasher(algorithm, file_hash), chunk_size) == str(file_hash)


def _inside(base, name) -> bool:
    target = os.path.realpath(os.path.join(base, name))
    return os.path.commonpath([os.path.realpath(base), target]) == os.path.realpath(base)


def extract_archive(file_path, path=".", archive_format="auto") -> bool:
    """Extracts a tar (any compression) or zip archive into ``path``; False if the file
    is neither."""
    import tarfile  # (here: `import tinyann` stays light)
    import zipfile

    if archive_format is None:
        return False
    formats = ["tar", "zip"] if archive_format == "auto" else (
        [archive_format] if isinstance(archive_format, str) else list(archive_format))
    for kind in formats:
        if kind == "tar" and tarfile.is_tarfile(file_path):
            with tarfile.open(file_path) as archive:
                members = []
                for m in archive.getmembers():
                    if _inside(path, m.name) and not (m.issym() or m.islnk()) or (
                            (m.issym() or m.islnk()) and _inside(
                                path, os.path.join(os.path.dirname(m.name), m.linkname))):
                        members.append(m)
                    else:
                        warnings.warn(f"Skipping invalid path during archive extraction: "
                                      f"'{m.name}'.", stacklevel=2)
                archive.extractall(path, members=members, filter="data")
            return True
        if kind == "zip" and zipfile.is_zipfile(file_path):
            with zipfile.ZipFile(file_path) as archive:
                members = []
                for info in archive.infolist():
                    if _inside(path, info.filename):
                        members.append(info)
                    else:
                        warnings.warn(f"Skipping invalid path during archive extraction: "
                                      f"'{info.filename}'.", stacklevel=2)
                archive.extractall(path, members=members)
            return True
        if kind not in ("tar", "zip"):
            raise NotImplementedError(kind)
    return False


def _fetch(origin, target, file_hash, hash_algorithm) -> None:
    import urllib.error
    import urllib.request

    print(f"Downloading data from {origin}")
    with atomic_path(target) as tmp:
        try:
            with urllib.request.urlopen(origin) as response, open(tmp, "wb") as out:
                for chunk in iter(lambda: response.read(CHUNK), b""):
                    out.write(chunk)
        except urllib.error.HTTPError as e:
            raise Exception(f"URL fetch failure on {origin}: {e.code} -- {e.msg}") from e
        except urllib.error.URLError as e:
            raise Exception(
                f"URL fetch failure on {origin}: {e.errno} -- {e.reason}") from e
        if file_hash is not None and not validate_file(tmp, file_hash, hash_algorithm):
            raise ValueError(
                f"Incomplete or corrupted file detected. The {hash_algorithm} file hash "
                f"does not match the provided value of {file_hash}.")


def get_file(fname=None, origin=None, untar=False, md5_hash=None, file_hash=None,
             cache_subdir="datasets", hash_algorithm="auto", extract=False,
             archive_format="auto", cache_dir=None, force_download=False) -> str:
    """The local path of ``origin``'s file (fetched if needed); with ``extract``, the
    folder of its contents. See the module docstring for the paths."""
    import urllib.parse

    if origin is None:
        raise ValueError('Please specify the "origin" argument (URL of the file to download).')
    if md5_hash is not None and file_hash is None:
        file_hash, hash_algorithm = md5_hash, "md5"
    base = os.path.expanduser(cache_dir or keras_home())
    if not os.access(base, os.W_OK) and os.path.exists(base) or not _can_make(base):
        base = os.path.join("/tmp" if os.path.isdir("/tmp") else tempfile.gettempdir(),
                            ".keras")
    datadir = os.path.join(base, cache_subdir)
    os.makedirs(datadir, exist_ok=True)
    given = fname
    fname = os.fspath(fname) if fname else ""
    if not fname:
        fname = os.path.basename(urllib.parse.urlsplit(origin).path)
        if not fname:
            raise ValueError(f"Can't parse the file name from the origin provided: '{origin}'."
                             "Please specify the `fname` argument.")
    elif os.sep in fname:
        raise ValueError("Paths are no longer accepted as the `fname` argument. To specify "
                         "the file's parent directory, use the `cache_dir` argument. "
                         f"Received: fname={fname}")
    extraction_dir = None
    if extract or untar:
        if given and "." in fname:
            target = os.path.join(datadir, fname)
            extraction_dir = os.path.join(datadir, f"{fname[:fname.find('.')]}_extracted")
        else:
            target = os.path.join(datadir, f"{fname}_archive")
            extraction_dir = os.path.join(datadir, fname)
    else:
        target = os.path.join(datadir, fname)
    download = force_download or not os.path.exists(target)
    if not download and file_hash is not None and not validate_file(target, file_hash,
                                                                    hash_algorithm):
        print("A local file was found, but it seems to be incomplete or outdated because "
              f"the {hash_algorithm} file hash does not match the original value of "
              f"{file_hash} so we will re-download the data.")
        download = True
    if download:
        _fetch(origin, target, file_hash, hash_algorithm)
    if extraction_dir is None:
        return target
    if not extract_archive(target, extraction_dir, "tar" if untar else archive_format):
        warnings.warn("Could not extract archive.", stacklevel=2)
    return extraction_dir


def _can_make(folder) -> bool:
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return False
    return os.access(folder, os.W_OK)
