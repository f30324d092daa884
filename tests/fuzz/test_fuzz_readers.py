"""Hypothesis fuzzing of the readers of outside input: IDX files, the config inside
``.keras`` zips, notebook files and the command line. Every input either loads or gets a
one-line error naming what was expected, of a documented type:

- IDX (``tinyann.datasets._idx``): ``ValueError`` naming the source.
- ``.keras`` (``keras.models.load_model``): ``tinyann.saving.SavingError`` (a ``ValueError``
  or ``TypeError``) naming the file, or ``NotImplementedError`` naming a Keras feature
  tinyann lacks (the config asks for it: a dtype policy, constraints...). Byte-level damage
  of ``.keras`` / ``.h5`` files is fuzzed in tests/saving/test_saving_fuzz.py; here the zip
  is well formed and its JSON is not.
- notebooks (``tinyann run x.ipynb``): ``NotebookFileError`` (a ``ValueError``) naming the file.
- command line: argparse's usage and one ``error:`` line, exit status 2.

Sizes are bounded and each test runs a few seconds (``max_examples``, ``deadline``);
derandomized so CI is repeatable; ``TINYANN_FUZZ_EXAMPLES=2000`` explores further by hand.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import struct
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import tinyann as keras
from tinyann.datasets import _idx
from tinyann.saving import SavingError

EXAMPLES = int(os.environ.get("TINYANN_FUZZ_EXAMPLES", 0))


def fuzz(examples, deadline_ms=5000):
    """Hypothesis settings: a few seconds by default, more with TINYANN_FUZZ_EXAMPLES."""
    return settings(max_examples=EXAMPLES or examples, deadline=deadline_ms, database=None,
                    derandomize=not EXAMPLES,
                    suppress_health_check=[HealthCheck.function_scoped_fixture,
                                           HealthCheck.too_slow])


def assert_one_line(error, *names):
    message = str(error)
    assert message and "\n" not in message, repr(message)
    for name in names:
        assert name in message, (name, message)


# ----------------------------------------------------------------------------- IDX
def _header(zero, dtype, dims, shape):
    return struct.pack(">HBB", zero, dtype, dims) + struct.pack(f">{len(shape)}I", *shape)


idx_files = st.one_of(
    st.binary(max_size=64),
    # headers close to valid ones: small or huge sizes, payloads too short, exact or too long
    st.builds(
        lambda zero, dtype, shape, extra_dims, payload: (
            _header(zero, dtype, len(shape) + extra_dims, shape) + payload),
        st.sampled_from([0, 0, 0, 1, 0x1F8B]),
        st.sampled_from([0x08, 0x08, 0x08, 0x09, 0x0D, 0xFF]),
        st.lists(st.one_of(st.integers(0, 4), st.sampled_from([2**31, 2**32 - 1, 2**16 + 1])),
                 max_size=4),
        st.sampled_from([0, 0, 0, 1, 3]),
        st.binary(max_size=48)),
)


@fuzz(400)
@given(data=idx_files, ndim=st.sampled_from([None, 1, 3]))
def test_idx_bytes_decode_or_raise_a_one_line_value_error(data, ndim):
    try:
        array = _idx.parse_idx(data, "fuzz.idx", ndim=ndim)
    except ValueError as error:
        assert_one_line(error, "fuzz.idx", "expected")
        return
    header = 4 + 4 * array.ndim
    assert array.dtype == np.uint8 and len(data) == header + array.size
    assert ndim is None or array.ndim == ndim
    assert _idx.encode_idx(array) == bytes(data)


@fuzz(60)
@given(data=idx_files, compress=st.booleans(), cut=st.integers(0, 40))
def test_idx_files_on_disk_gzip_or_not(data, compress, cut):
    import gzip

    blob = gzip.compress(data, mtime=0) if compress else data
    blob = blob[:len(blob) - cut] if compress and cut else blob
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "x-idx3-ubyte.gz"
        path.write_bytes(blob)
        try:
            _idx.read_idx(path)
        except ValueError as error:
            assert_one_line(error, str(path), "expected")


# ------------------------------------------------------------------------- .keras
def _json_values():
    leaves = st.one_of(st.none(), st.booleans(), st.integers(-3, 10**12),
                       st.floats(allow_nan=True), st.text(max_size=12),
                       st.sampled_from(["Dense", "Sequential", "relu", "float32", "InputLayer",
                                        "keras.layers", "Functional", "__lambda__"]))
    return st.recursive(leaves, lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)),
        max_leaves=8)


def _nodes(tree, path=()):
    """Every (path, value) in a JSON tree, the root first."""
    yield path, tree
    if isinstance(tree, dict):
        for key, value in tree.items():
            yield from _nodes(value, path + (key,))
    elif isinstance(tree, list):
        for i, value in enumerate(tree):
            yield from _nodes(value, path + (i,))


def _replace(tree, path, value):
    if not path:
        return value
    parent = tree
    for key in path[:-1]:
        parent = parent[key]
    if value is _DELETE:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return tree


_DELETE = object()


@pytest.fixture(scope="module")
def keras_zip():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "m.keras"
        model.save(path)
        with zipfile.ZipFile(path) as z:
            return {name: z.read(name) for name in z.namelist()}


@fuzz(300)
@given(member=st.sampled_from(["config.json", "metadata.json"]), where=st.floats(0, 1),
       value=st.one_of(st.just(_DELETE), _json_values()), seed=st.integers(0, 3))
def test_keras_zip_with_a_damaged_config_loads_or_names_the_file(keras_zip, member, where,
                                                                 value, seed):
    tree = json.loads(keras_zip[member])
    nodes = list(_nodes(tree))
    path, _ = nodes[min(int(where * len(nodes)), len(nodes) - 1)]
    if value is _DELETE and not path:
        value = {}
    tree = _replace(tree, path, value)
    with tempfile.TemporaryDirectory() as d:
        target = Path(d) / "m.keras"
        with zipfile.ZipFile(target, "w") as z:
            for name, data in keras_zip.items():
                z.writestr(name, json.dumps(tree) if name == member else data)
        try:
            keras.models.load_model(target)
        except SavingError as error:
            assert_one_line(error, str(target))
        except NotImplementedError as error:  # a Keras feature tinyann lacks, named
            assert_one_line(error, "tinyann")


# ---------------------------------------------------------------------- notebooks
def _notebook_like():
    cell = st.fixed_dictionaries(
        {"cell_type": st.sampled_from(["code", "markdown", "raw", "other", 3])},
        optional={"source": st.one_of(st.text(max_size=20), st.lists(st.text(max_size=8)),
                                      st.integers()),
                  "metadata": st.one_of(st.just({}), _json_values()),
                  "outputs": st.one_of(st.just([]), _json_values()),
                  "execution_count": st.one_of(st.none(), st.integers(), st.text(max_size=3))})
    return st.fixed_dictionaries(
        {}, optional={"cells": st.one_of(st.lists(cell, max_size=3), _json_values()),
                      "nbformat": st.sampled_from([4, 3, 5, "4", None]),
                      "nbformat_minor": st.one_of(st.integers(-1, 10), st.text(max_size=2)),
                      "metadata": st.one_of(st.just({}), _json_values()),
                      "worksheets": _json_values()})


notebook_files = st.one_of(
    st.binary(max_size=80),
    _json_values().map(lambda v: json.dumps(v).encode()),
    _notebook_like().map(lambda v: json.dumps(v).encode()),
)


@pytest.fixture(scope="module")
def warm_notebook_reader(tmp_path_factory):
    """nbformat's first read loads its JSON schemas (seconds): done before the timed cases."""
    pytest.importorskip("nbformat")
    from tinyann.runner.notebook import read_notebook

    path = tmp_path_factory.mktemp("nb") / "ok.ipynb"
    path.write_text(json.dumps({"cells": [], "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}))
    read_notebook(path)


@fuzz(300)
@given(data=notebook_files)
def test_notebook_files_read_or_raise_a_one_line_notebook_error(warm_notebook_reader, data):
    from tinyann.runner.notebook import NotebookFileError, read_notebook

    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "x.ipynb"
        path.write_bytes(data)
        try:
            notebook = read_notebook(path)
        except NotebookFileError as error:
            assert_one_line(error, str(path))
            return
    assert notebook.nbformat == 4 and isinstance(notebook.cells, list)


# --------------------------------------------------------------------- command line
_WORDS = ["data", "train", "run", "jupyter", "install", "uninstall", "predict", "report",
          "serve", "baseline", "--model", "cnn", "--epochs", "--batch-size", "--seed",
          "--learning-rate", "--verbose", "--out", "--port", "--host", "--workers", "x.py",
          "--data", "--image-size", "--color-mode", "rgb", "--test-split", "0.6",
          "-1", "0", "3", "1e-3", "nan", "inf", "--", "-", "--nope", "=", "é", ""]


@fuzz(300)
@given(argv=st.lists(st.one_of(st.sampled_from(_WORDS), st.text(max_size=6)), max_size=6))
def test_command_lines_parse_or_exit_2_with_one_error_line(argv):
    from tinyann.cli import _parser

    if {"-h", "--help"} & set(argv) or any(a.startswith("--h") for a in argv):
        return  # help prints and exits 0; not what is fuzzed here
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
            _parser().parse_args(argv)
    except SystemExit as stop:
        assert stop.code == 2
        errors = [line for line in stderr.getvalue().splitlines() if ": error: " in line]
        assert len(errors) == 1 and errors[0].startswith("tinyann"), stderr.getvalue()


def test_an_empty_idx_array_with_huge_sizes_is_refused_by_name():
    # found by the fuzzing: numpy cannot even make an empty array of this shape
    data = _header(0, 0x08, 4, (0, 2**32 - 1, 2**32 - 1, 2**32 - 1))
    with pytest.raises(ValueError, match=r"fuzz\.idx: bad IDX header: expected sizes"):
        _idx.parse_idx(data, "fuzz.idx")


@pytest.mark.parametrize("cells", [{}, [1], [{"source": "x"}]])
def test_a_notebook_whose_cells_are_not_cells_is_refused_by_name(warm_notebook_reader,
                                                                 tmp_path, cells):
    # found by the fuzzing: nbformat only logs these, and the run failed later
    from tinyann.runner.notebook import NotebookFileError, read_notebook

    path = tmp_path / "x.ipynb"
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}))
    with pytest.raises(NotebookFileError, match=r"x\.ipynb is not a valid notebook: "):
        read_notebook(path)


def test_an_idx_scalar_is_refused_as_the_writer_refuses_it():
    # found by the fuzzing: 0 dimensions decoded to a 0-d array that encode_idx rejects
    with pytest.raises(ValueError, match=r"fuzz\.idx: bad IDX header: expected 1 to 255"):
        _idx.parse_idx(_header(0, 0x08, 0, ()) + b"\x07", "fuzz.idx")
