"""Reference facts for tinyann's Keras-format dataset loaders (CIFAR-10/100, Reuters,
Boston and California housing).

Runs ONLY in the separate Keras venv (see README.md beside this file); it never imports
tinyann. It writes small inputs in exactly the format of Keras's files into a temporary
folder, points Keras's own ``load_data`` at them (its ``get_file`` is replaced by one
returning the local path, so nothing is downloaded), and records what Keras returns in
tests/fixtures/keras/dataset_facts.json. The inputs are given by formulas or literals
stored in the same JSON, so the tests rebuild them without this script.

CIFAR-10's loader fills arrays of exactly 50000 + 10000 images, so its input is full
size (generated, ~200 MB in /tmp, ~30 s); the facts keep the first two images of each
batch, which is what the tests rebuild.

Usage:  /work/kerasenv/bin/python tools/keras_reference/make_dataset_facts.py
"""

import hashlib
import json
import os
import pickle
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "numpy")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras.src.datasets import (  # noqa: E402
    boston_housing,
    california_housing,
    cifar10,
    cifar100,
    reuters,
)

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "keras" / "dataset_facts.json"


# ------------------------------------------------------------------ Python 2 pickles
class Py2Pickler(pickle._Pickler):
    """Writes pickles as CIFAR's Python 2 files are: byte strings as BINSTRING opcodes
    (Python 2 ``str``), and NumPy's reconstruction under ``numpy.core.multiarray``."""

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
    import io

    buffer = io.BytesIO()
    Py2Pickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue()


def cifar_pixels(first, count):
    """Images ``first .. first+count-1`` of the formula input: (count, 3072) uint8."""
    n = np.arange(first, first + count, dtype=np.int64)[:, None]
    k = np.arange(3072, dtype=np.int64)[None, :]
    return ((n * 37 + k * 11 + (k // 1024) * 5 + n // 256) % 256).astype(np.uint8)


def cifar_labels(first, count, modulo):
    return [int((i * 7 + 3) % modulo) for i in range(first, first + count)]


def digest(array) -> str:
    return hashlib.sha256(np.ascontiguousarray(array).tobytes()).hexdigest()


def describe(array):
    return {"shape": list(array.shape), "dtype": str(array.dtype),
            "c_contiguous": bool(array.flags.c_contiguous)}


def patch(module, path):
    module.get_file = lambda *args, **kwargs: str(path)


def cifar10_facts(tmp):
    folder = tmp / "cifar10" / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    for i in range(1, 6):
        first = (i - 1) * 10000
        batch = {"batch_label": f"training batch {i} of 5", "labels": cifar_labels(first, 10000, 10),
                 "data": cifar_pixels(first, 10000),
                 "filenames": [f"img_{first + j}.png" for j in range(10000)]}
        (folder / f"data_batch_{i}").write_bytes(py2_pickle(batch))
    test = {"batch_label": "testing batch 1 of 1", "labels": cifar_labels(50000, 10000, 10),
            "data": cifar_pixels(50000, 10000),
            "filenames": [f"img_{50000 + j}.png" for j in range(10000)]}
    (folder / "test_batch").write_bytes(py2_pickle(test))
    patch(cifar10, folder.parent)
    (x, y), (xt, yt) = cifar10.load_data()
    kept = [(i - 1) * 10000 + j for i in range(1, 6) for j in (0, 1)]
    return {
        "input": "batch i (1..5) holds images n = (i-1)*10000 + j, test_batch n = 50000 + j; "
                 "data[n, k] = (n*37 + k*11 + (k//1024)*5 + n//256) % 256; "
                 "labels[n] = (n*7 + 3) % 10; Python 2 pickles, byte-string keys",
        "x_train": describe(x), "y_train": describe(y),
        "x_test": describe(xt), "y_test": describe(yt),
        "train_images": {str(n): digest(x[n]) for n in kept},
        "train_labels": {str(n): y[n].tolist() for n in kept},
        "test_images": {str(n): digest(xt[n - 50000]) for n in (50000, 50001)},
        "test_labels": {str(n): yt[n - 50000].tolist() for n in (50000, 50001)},
        "pixel": {"x_train[1, 2, 3, :]": x[1, 2, 3].tolist(),
                  "x_test[1, 31, 0, :]": xt[1, 31, 0].tolist()},
    }


def cifar100_facts(tmp):
    folder = tmp / "cifar100" / "cifar-100-python"
    folder.mkdir(parents=True)
    for name, first, count in (("train", 0, 3), ("test", 3, 2)):
        batch = {"filenames": [f"img_{first + j}.png" for j in range(count)],
                 "batch_label": f"{name} batch",
                 "fine_labels": cifar_labels(first, count, 100),
                 "coarse_labels": cifar_labels(first, count, 20),
                 "data": cifar_pixels(first, count)}
        (folder / name).write_bytes(py2_pickle(batch))
    patch(cifar100, folder.parent)
    facts = {"input": "train holds images n = 0, 1, 2 and test n = 3, 4 (the CIFAR-10 "
                      "formula); fine_labels (n*7+3) % 100, coarse_labels (n*7+3) % 20"}
    for mode in ("fine", "coarse"):
        (x, y), (xt, yt) = cifar100.load_data(label_mode=mode)
        facts[mode] = {"x_train": describe(x), "y_train": describe(y), "x_test": describe(xt),
                       "y_test": describe(yt), "y_train_values": y.tolist(),
                       "y_test_values": yt.tolist(),
                       "train_images": [digest(im) for im in x],
                       "test_images": [digest(im) for im in xt]}
    try:
        cifar100.load_data(label_mode="middle")
    except ValueError as error:
        facts["bad_label_mode"] = str(error)
    return facts


REUTERS_X = [[5, 1, 8, 3], [2, 9], [4, 4, 4, 7, 1, 12], [6], [3, 10, 2], [11, 1, 5, 2, 9],
             [7, 7], [1, 2, 3, 4, 5, 6, 7], [8, 0, 13], [9, 3, 1, 1], [12, 11], [2]]
REUTERS_Y = [3, 4, 3, 19, 1, 45, 3, 4, 16, 11, 3, 20]
REUTERS_CASES = {
    "defaults": {},
    "num_words_skip_top": {"num_words": 10, "skip_top": 5},
    "maxlen": {"maxlen": 4},
    "split_seed": {"test_split": 0.3, "seed": 7},
    "no_start_no_shift": {"start_char": None, "index_from": 0},
    "no_start_shift": {"start_char": None, "index_from": 2, "num_words": 9},
    "oov_none": {"oov_char": None, "num_words": 8, "skip_top": 4},
    "zero_split": {"test_split": 0.0, "seed": 0},
}


def reuters_facts(tmp):
    xs = np.empty(len(REUTERS_X), dtype=object)
    for i, ids in enumerate(REUTERS_X):
        xs[i] = list(ids)
    path = tmp / "reuters.npz"
    np.savez(path, x=xs, y=np.array(REUTERS_Y, dtype=np.int64))
    patch(reuters, path)
    cases = {}
    for name, kwargs in REUTERS_CASES.items():
        (x, y), (xt, yt) = reuters.load_data(**kwargs)
        cases[name] = {"kwargs": kwargs, "x_train": [list(map(int, s)) for s in x],
                       "y_train": y.tolist(), "x_test": [list(map(int, s)) for s in xt],
                       "y_test": yt.tolist(), "x_dtype": str(x.dtype), "x_ndim": x.ndim,
                       "y_dtype": str(y.dtype)}
    return {"x": REUTERS_X, "y": REUTERS_Y, "y_dtype": "int64", "cases": cases,
            "label_names": list(reuters.get_label_names())}


def regression_facts(tmp, module, rows, columns, cases):
    x = np.arange(rows * columns, dtype=np.float64).reshape(rows, columns) / 4.0
    y = np.arange(rows, dtype=np.float64) + 0.5
    path = tmp / f"{module.__name__.rpartition('.')[2]}.npz"
    np.savez(path, x=x, y=y)
    patch(module, path)
    out = {"input": f"x = arange({rows}*{columns}).reshape({rows}, {columns}) / 4 (float64), "
                    f"y = arange({rows}) + 0.5", "rows": rows, "columns": columns, "cases": {}}
    for name, kwargs in cases.items():
        (xr, yr), (xe, ye) = module.load_data(**kwargs)
        out["cases"][name] = {
            "kwargs": kwargs, "train_rows": (yr - 0.5).astype(int).tolist(),
            "test_rows": (ye - 0.5).astype(int).tolist(),
            "x_train": describe(xr), "y_train": describe(yr), "x_test": describe(xe),
            "y_test": describe(ye),
            "x_matches_rows": bool(np.array_equal(xr, x[(yr - 0.5).astype(int)])),
        }
    errors = {}
    for bad in ({"test_split": 1.0}, {"test_split": -0.1}, {"version": "medium"}):
        if "version" in bad and module is not california_housing:
            continue
        try:
            module.load_data(**bad)
        except ValueError as error:
            errors[json.dumps(bad)] = str(error)
    out["errors"] = errors
    return out


def main():
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        facts = {
            "keras_version": keras.__version__, "numpy_version": np.__version__,
            "reuters": reuters_facts(tmp),
            "boston_housing": regression_facts(
                tmp, boston_housing, 11, 13,
                {"defaults": {}, "split_seed": {"test_split": 0.35, "seed": 5},
                 "zero_split": {"test_split": 0.0}}),
            "california_housing": regression_facts(
                tmp, california_housing, 605, 8,
                {"large": {}, "small": {"version": "small"},
                 "small_split_seed": {"version": "small", "test_split": 0.5, "seed": 1}}),
            "cifar100": cifar100_facts(tmp),
            "cifar10": cifar10_facts(tmp),
        }
    OUT.write_text(json.dumps(facts, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
