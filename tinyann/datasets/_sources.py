"""Where dataset files come from, and proof that they are the right ones.

Places are tried in this order (see :func:`places`):

1. ``path=`` given to ``load_data``: used alone; if it fails, nothing else is tried.
2. ``$TINYANN_DATA_DIR/<name>`` if that variable is set.
3. The tinyann cache ``<root>/datasets/<name>``, where ``<root>`` is
   ``$TINYANN_CACHE_DIR``, else ``$XDG_CACHE_HOME/tinyann``, else ``~/.cache/tinyann``.
4. Keras's cache ``$KERAS_HOME/datasets/<keras_subdir>`` (default ``~/.keras``).
5. A Debian package directory, e.g. ``/usr/share/datasets/fashion-mnist``.
6. Download from the mirrors into the tinyann cache. ``$TINYANN_DATASET_MIRRORS``
   (space-separated base URLs; ``{name}`` is replaced by the dataset name)
   overrides the dataset's list; set it empty to forbid downloads.

A directory is valid when it holds all four files (``x`` or ``x.gz``) and each
one's SHA-256 over its *decompressed* bytes matches, so upstream and Debian's
recompressed gzip files both pass. Hashes are remembered per process, keyed by
(path, size, mtime). Loading gzip files from Keras's or Debian's directory also
writes decompressed copies into the tinyann cache: gunzipping Fashion-MNIST
takes ~0.3 s, reading the plain copy ~0.02 s.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import tempfile
import urllib.request
from dataclasses import dataclass

from tinyann.datasets import _idx

ENV_DATA_DIR = "TINYANN_DATA_DIR"
ENV_CACHE_DIR = "TINYANN_CACHE_DIR"
ENV_MIRRORS = "TINYANN_DATASET_MIRRORS"

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
TEST_IMAGES = "t10k-images-idx3-ubyte"
TEST_LABELS = "t10k-labels-idx1-ubyte"

#: Seconds a mirror may stall before the next one is tried.
DOWNLOAD_TIMEOUT = 60.0
#: Copy gzip files found in Keras's or Debian's directory, decompressed, into the cache.
CACHE_DECOMPRESSED_COPY = True

# (realpath, size, mtime_ns) -> SHA-256 hex of the decompressed content.
_HASHES: dict[tuple[str, int, int], str] = {}


class DatasetNotFoundError(OSError):
    """No place held valid files and no download succeeded; the message says why."""


class ChecksumMismatchError(ValueError):
    """A file's decompressed SHA-256 differs from the expected one."""

    def __init__(self, filename: str, location: str, expected: str, received: str):
        super().__init__(
            f"{filename}: SHA-256 mismatch for {location}: expected {expected}, received {received}"
        )
        self.filename, self.location = filename, location
        self.expected, self.received = expected, received


@dataclass(frozen=True)
class DatasetSpec:
    """What one dataset needs; built by each dataset module from its globals."""

    name: str  # cache subdirectory, e.g. "fashion-mnist"
    title: str  # for messages, e.g. "Fashion-MNIST"
    sha256: dict  # file stem -> SHA-256 of decompressed bytes; order is report order
    mirrors: tuple = ()
    keras_subdir: str | None = None
    debian_dir: str | None = None
    debian_package: str | None = None


def spec_from_globals(module_globals: dict, name: str, title: str) -> DatasetSpec:
    """The spec of a dataset module, from its ``SHA256``, ``MIRRORS``, ``DEBIAN_DIR``,
    ``DEBIAN_PACKAGE`` and optional ``KERAS_SUBDIR``; called per use so patching counts."""
    return DatasetSpec(
        name=name,
        title=title,
        sha256=dict(module_globals["SHA256"]),
        mirrors=tuple(module_globals["MIRRORS"]),
        keras_subdir=module_globals.get("KERAS_SUBDIR"),
        debian_dir=module_globals["DEBIAN_DIR"],
        debian_package=module_globals["DEBIAN_PACKAGE"],
    )


@dataclass(frozen=True)
class Place:
    """One place looked at: ``kind`` is explicit|data-dir|cache|keras|debian|download."""

    kind: str
    label: str
    location: str


@dataclass(frozen=True)
class PlaceReport:
    """Outcome of looking at a place; ``ok`` is None where nothing was tried (download)."""

    place: Place
    ok: bool | None
    detail: str


@dataclass(frozen=True)
class FileCheck:
    """One file's verification result."""

    name: str
    path: str
    expected: str
    actual: str

    @property
    def ok(self) -> bool:
        return self.expected == self.actual


@dataclass
class Found:
    """Valid files: stem -> path, and stem -> decompressed bytes when kept."""

    place: Place
    paths: dict
    data: dict


def cache_root() -> str:
    """The tinyann cache root (``$TINYANN_CACHE_DIR``, XDG, or ``~/.cache/tinyann``)."""
    root = os.environ.get(ENV_CACHE_DIR)
    if root:
        return os.path.expanduser(root)
    xdg = os.environ.get("XDG_CACHE_HOME")
    # The XDG spec says relative values are invalid and must be ignored.
    if xdg and os.path.isabs(xdg):
        return os.path.join(xdg, "tinyann")
    return os.path.join(os.path.expanduser("~"), ".cache", "tinyann")


def cache_dir(name: str) -> str:
    """Where dataset ``name`` is cached and downloaded to."""
    return os.path.join(cache_root(), "datasets", name)


def keras_dir(subdir: str) -> str:
    """Keras's own dataset cache directory, honouring ``$KERAS_HOME`` as Keras does."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return os.path.join(home, "datasets", subdir)


def mirrors(spec: DatasetSpec) -> list[str]:
    """Base URLs to download from: ``$TINYANN_DATASET_MIRRORS`` if set, else the spec's."""
    env = os.environ.get(ENV_MIRRORS)
    bases = env.split() if env is not None else list(spec.mirrors)
    return [b.replace("{name}", spec.name) for b in bases]


def places(spec: DatasetSpec, path: str | os.PathLike | None = None) -> list[Place]:
    """Every place to look, in order; an explicit ``path`` is the only one."""
    if path is not None:
        return [Place("explicit", "path= argument", os.path.abspath(os.fspath(path)))]
    out = []
    if os.environ.get(ENV_DATA_DIR):
        data_dir = os.path.join(os.path.expanduser(os.environ[ENV_DATA_DIR]), spec.name)
        out.append(Place("data-dir", f"${ENV_DATA_DIR}", data_dir))
    out.append(Place("cache", "tinyann cache", cache_dir(spec.name)))
    if spec.keras_subdir:
        out.append(Place("keras", "Keras cache", keras_dir(spec.keras_subdir)))
    if spec.debian_dir:
        out.append(Place("debian", f"Debian package {spec.debian_package}", spec.debian_dir))
    urls = " ".join(mirrors(spec)) or "no mirrors"
    out.append(Place("download", "download into the tinyann cache", urls))
    return out


def _sha256(data: bytes | bytearray) -> str:
    return hashlib.sha256(data).hexdigest()


def _key(path: str) -> tuple[str, int, int]:
    st = os.stat(path)
    return (os.path.realpath(path), st.st_size, st.st_mtime_ns)


def _find(directory: str, stem: str) -> str | None:
    """The file for ``stem`` in ``directory``: plain, .gz, or LeCun's dotted naming."""
    dotted = stem.replace("-idx", ".idx")
    for name in (stem, stem + ".gz", dotted, dotted + ".gz"):
        candidate = os.path.join(directory, name)
        if os.path.isfile(candidate):
            return candidate
    return None


def _read_verified(path: str, expected: str, fresh: bool = False) -> tuple[bytearray, str]:
    """Reads and decompresses ``path``; hashes it unless this process already has."""
    key = _key(path)
    data = _idx.read_bytes(path)
    actual = None if fresh else _HASHES.get(key)
    if actual is None:
        actual = _HASHES[key] = _sha256(data)
    return data, actual


def _probe(place: Place, spec: DatasetSpec, keep: bool) -> tuple[Found | None, str]:
    """Checks one directory; returns (Found or None, human-readable detail)."""
    directory = place.location
    if not os.path.isdir(directory):
        return None, "no such directory" + (" (not installed)" if place.kind == "debian" else "")
    paths = {stem: _find(directory, stem) for stem in spec.sha256}
    missing = [stem for stem, p in paths.items() if p is None]
    if missing:
        return None, "missing " + ", ".join(f"{m}[.gz]" for m in missing)
    found = Found(place, paths, {})
    for stem, p in paths.items():
        try:
            data, actual = _read_verified(p, spec.sha256[stem])
        except (OSError, ValueError) as exc:
            return None, f"unreadable: {exc}"
        if actual != spec.sha256[stem]:
            return None, str(ChecksumMismatchError(stem, p, spec.sha256[stem], actual))
        if keep:
            found.data[stem] = data
    return found, f"valid ({len(paths)} files, SHA-256 checked)"


def _atomic_write(target: str, data: bytes | bytearray) -> None:
    """Writes via a temp file in the same directory + os.replace: all or nothing."""
    fd, tmp = tempfile.mkstemp(
        prefix=f".{os.path.basename(target)}.", suffix=".part", dir=os.path.dirname(target)
    )
    try:
        # No fsync: a cache file torn by a power cut fails its hash and is replaced.
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _HASHES[_key(target)] = _sha256(data)


def _copy_to_cache(spec: DatasetSpec, found: Found) -> None:
    """Stores decompressed copies of gzip files so later loads skip gunzip."""
    dest = cache_dir(spec.name)
    try:
        os.makedirs(dest, exist_ok=True)
        for stem, p in found.paths.items():
            if p.endswith(".gz"):
                _atomic_write(os.path.join(dest, stem), found.data[stem])
    except OSError:
        pass  # Only a speed-up: a read-only or full cache must not break loading.


def _download_file(stem: str, expected: str, urls: list[str], dest: str) -> bytearray:
    """Fetches ``stem`` from the first mirror that serves bytes with the right hash."""
    errors = []
    for base in urls:
        url = f"{base.rstrip('/')}/{stem}.gz"
        try:
            print(f"tinyann: downloading {url}", file=sys.stderr)
            with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT) as response:
                blob = response.read()
            # Some servers undo the gzip transfer themselves; accept plain IDX too.
            data = _idx.gunzip(blob, url) if blob[:2] == b"\x1f\x8b" else bytearray(blob)
            actual = _sha256(data)
            if actual != expected:
                raise ChecksumMismatchError(stem, url, expected, actual)
        except (OSError, ValueError) as exc:  # URLError, HTTPError and timeouts are OSError
            errors.append(
                f"{url}: {exc}" if not isinstance(exc, ChecksumMismatchError) else str(exc)
            )
            continue
        _atomic_write(os.path.join(dest, stem), data)
        return data
    raise OSError("; ".join(errors) or f"{stem}: no mirror to try")


def _download(spec: DatasetSpec, place: Place, urls: list[str]) -> Found:
    """Downloads whatever the cache lacks, verifying each file before it is placed."""
    dest = cache_dir(spec.name)
    os.makedirs(dest, exist_ok=True)
    found = Found(place, {}, {})
    for stem, expected in spec.sha256.items():
        target = os.path.join(dest, stem)
        data = None
        if os.path.isfile(target):  # kept from an earlier, partly failed download
            with contextlib.suppress(OSError, ValueError):
                data, actual = _read_verified(target, expected)
                data = data if actual == expected else None
        if data is None:
            data = _download_file(stem, expected, urls, dest)
        found.paths[stem], found.data[stem] = target, data
    return found


def _fix_hints(spec: DatasetSpec) -> list[str]:
    hints = []
    if spec.debian_package:
        hints.append(f"as root: apt-get install -y {spec.debian_package}")
    files = ", ".join(spec.sha256)
    hints.append(f"pass path=DIR, a directory holding the four IDX files (.gz or not): {files}")
    hints.append(f"copy them into {cache_dir(spec.name)} ({ENV_CACHE_DIR} sets the cache root)")
    if not mirrors(spec):
        hints.append(f"allow downloads: set {ENV_MIRRORS} to reachable base URLs")
    return hints


def _not_found(spec: DatasetSpec, failures: list[tuple[Place, str]]) -> DatasetNotFoundError:
    lines = [f"{spec.title} could not be loaded. Places tried, in order:"]
    for i, (place, why) in enumerate(failures, 1):
        lines.append(f"  {i}. {place.label} ({place.location}): {why}")
    lines.append("To fix, any one of:")
    lines += [f"  - {hint}" for hint in _fix_hints(spec)]
    return DatasetNotFoundError("\n".join(lines))


def load(spec: DatasetSpec, path: str | os.PathLike | None = None) -> Found:
    """Finds valid files (downloading if needed) and returns their decompressed bytes."""
    failures: list[tuple[Place, str]] = []
    for place in places(spec, path):
        if place.kind == "download":
            urls = mirrors(spec)
            if not urls:
                failures.append((place, f"disabled (${ENV_MIRRORS} is empty)"))
                continue
            try:
                return _download(spec, place, urls)
            except OSError as exc:
                failures.append((place, str(exc)))
                continue
        found, detail = _probe(place, spec, keep=True)
        if found is not None:
            if place.kind in ("keras", "debian") and CACHE_DECOMPRESSED_COPY:
                _copy_to_cache(spec, found)
            return found
        failures.append((place, detail))
    raise _not_found(spec, failures)


def load_mnist_like(spec: DatasetSpec, path=None) -> tuple[tuple, tuple]:
    """Loads the four files into Keras's ``((x_train, y_train), (x_test, y_test))``."""
    found = load(spec, path)
    d, p = found.data, found.paths
    return (
        _idx.parse_pair(d[TRAIN_IMAGES], d[TRAIN_LABELS], p[TRAIN_IMAGES], p[TRAIN_LABELS]),
        _idx.parse_pair(d[TEST_IMAGES], d[TEST_LABELS], p[TEST_IMAGES], p[TEST_LABELS]),
    )


def locate(spec: DatasetSpec, path=None) -> list[PlaceReport]:
    """Looks at every place in order (downloading nothing) and says what is there."""
    reports = []
    for place in places(spec, path):
        if place.kind == "download":
            urls = mirrors(spec)
            detail = (
                "not tried by locate(); would fetch from " + " ".join(urls)
                if urls
                else f"disabled (${ENV_MIRRORS} is empty)"
            )
            reports.append(PlaceReport(place, None, detail))
            continue
        found, detail = _probe(place, spec, keep=False)
        reports.append(PlaceReport(place, found is not None, detail))
    return reports


def describe(spec: DatasetSpec, path=None) -> str:
    """:func:`locate` as text, marking the place ``load_data`` would use."""
    lines = [f"{spec.title}: places looked at, in order"]
    chosen = False
    for i, r in enumerate(locate(spec, path), 1):
        mark = {True: "ok", False: "--", None: "??"}[r.ok]
        used = "  <- load_data uses this" if r.ok and not chosen else ""
        chosen = chosen or bool(r.ok)
        lines.append(
            f"  {i}. [{mark}] {r.place.label}: {r.place.location}\n         {r.detail}{used}"
        )
    return "\n".join(lines)


def verify(spec: DatasetSpec, path=None) -> list[FileCheck]:
    """Re-hashes, ignoring the per-process memo, the files of the first place having all four."""
    for place in places(spec, path):
        if place.kind == "download" or not os.path.isdir(place.location):
            continue
        paths = {stem: _find(place.location, stem) for stem in spec.sha256}
        if None in paths.values():
            continue
        checks = []
        for stem, p in paths.items():
            try:
                actual = _read_verified(p, spec.sha256[stem], fresh=True)[1]
            except (OSError, ValueError) as exc:
                actual = f"unreadable: {exc}"
            checks.append(FileCheck(stem, p, spec.sha256[stem], actual))
        return checks
    raise _not_found(spec, [(r.place, r.detail) for r in locate(spec, path)])


_LOAD_DATA_DOC = """Loads {title}.

    Args:
        path: Optional directory holding the four IDX files (gzip or not). When
            given it is the only place tried.

    Returns:
        ``((x_train, y_train), (x_test, y_test))``, uint8, shapes (60000, 28, 28),
        (60000,), (10000, 28, 28), (10000,); {labels}.
    """


def module_functions(spec_of, labels: str, module: str) -> tuple:
    """The public ``load_data``, ``locate``, ``describe_sources`` and ``verify`` of a
    dataset module of four IDX files; ``spec_of()`` builds its spec at each call."""

    def load_data(path=None):
        return load_mnist_like(spec_of(), path)

    def locate_(path=None) -> list:
        """Every place looked at, in order, with whether valid files are there."""
        return locate(spec_of(), path)

    def describe_sources(path=None) -> str:
        """:func:`locate` as text for the CLI."""
        return describe(spec_of(), path)

    def verify_(path=None) -> list:
        """Fresh SHA-256 of the first complete set of files found; each result has ``.ok``."""
        return verify(spec_of(), path)

    load_data.__doc__ = _LOAD_DATA_DOC.format(title=spec_of().title, labels=labels)
    functions = (load_data, locate_, describe_sources, verify_)
    for function, name in zip(functions, ("load_data", "locate", "describe_sources", "verify")):
        function.__name__ = function.__qualname__ = name
        function.__module__ = module
    return functions
