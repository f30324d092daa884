"""The compiled set as users meet it: ops equal to the NumPy set's, the JIT cache in
tinyann's cache folder (read-only sources, no HOME, a corrupt entry), the switch that
turns it off, and the same numbers from run to run."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("numba")

from tinyann import kernels  # noqa: E402
from tinyann.kernels import jit  # noqa: E402
from tinyann.kernels.compiled import optimizers as compiled_updates  # noqa: E402

PACKAGE = Path(__file__).resolve().parents[2] / "tinyann"
NUMPY = kernels.functions_of("numpy")
COMPILED = kernels.functions_of("compiled")
REF = kernels.functions_of("reference")


# ---------------------------------------------------------------------- the ops
@pytest.mark.parametrize("size", [compiled_updates.MIN_SIZE, compiled_updates.MIN_SIZE + 7])
@pytest.mark.parametrize("name", ["adam", "rmsprop"])
def test_compiled_updates_equal_the_numpy_set_bit_for_bit(name, size):
    rng = np.random.default_rng(3)
    w0 = rng.standard_normal(size).astype("float32")
    grads = [rng.standard_normal(size).astype("float32") for _ in range(3)]
    results = {}
    for set_name, functions in (("numpy", NUMPY), ("compiled", COMPILED), ("ref", REF)):
        w = w0.copy()
        m, v = np.zeros_like(w), np.zeros_like(w)
        for t, g in enumerate(grads, start=1):
            if name == "adam":
                functions["adam_update"](w, g, 1e-3, m, v, None, 0.9, 0.999, 1e-7, t)
            else:
                functions["rmsprop_update"](w, g, 1e-3, v, None, None, 0.9, 0.0, 1e-7)
        results[set_name] = w
    np.testing.assert_array_equal(results["compiled"], results["numpy"])
    np.testing.assert_allclose(results["compiled"], results["ref"], rtol=1e-6, atol=1e-7)


def test_small_or_unusual_arrays_stay_with_the_numpy_set():
    small = np.ones(compiled_updates.MIN_SIZE - 1, "float32")
    assert not compiled_updates._compiled(small, small)
    # a block of a large packed buffer counts as the buffer
    packed = np.ones(compiled_updates.MIN_SIZE + 10, "float32")
    block = packed[-10:]
    assert compiled_updates._compiled(block, block)
    big64 = np.ones(compiled_updates.MIN_SIZE, "float64")
    assert not compiled_updates._compiled(big64, big64)
    strided = np.ones(2 * compiled_updates.MIN_SIZE, "float32")[::2]
    assert not compiled_updates._compiled(strided.copy(), strided)


# ---------------------------------------------------------------------- the cache
def run_python(code, env, cwd=None):
    """``code`` in a fresh interpreter; returns its last stdout line as JSON."""
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, cwd=cwd,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


# one compiled kernel called in a fresh process: where its cache went, and its result
KERNEL_RUN = """
    import json, numpy as np
    from tinyann.kernels import jit
    from tinyann.kernels.compiled import optimizers
    w = np.ones(10, "float32"); g = np.full(10, 0.5, "float32")
    m, v = np.zeros(10, "float32"), np.zeros(10, "float32")
    f = np.float32
    optimizers._adam(w, g, m, v, f(0.1), f(0.1), f(0.001), f(1e-7))
    import numba.core.config as config
    print(json.dumps({"cache": config.CACHE_DIR, "w": w.tolist()}))
"""


def base_env(**extra):
    # (not the caller's kernel set either: make test also runs under reference)
    env = {k: v for k, v in os.environ.items()
           if k not in ("HOME", "XDG_CACHE_HOME", "TINYANN_CACHE_DIR", "TINYANN_KERNELS")}
    env.update(extra)
    return env


def cache_files(folder):
    return sorted(p.name for p in Path(folder).rglob("*") if p.suffix in (".nbi", ".nbc"))


def test_cache_goes_to_tinyann_cache_folder_and_is_reused(tmp_path):
    env = base_env(TINYANN_CACHE_DIR=str(tmp_path / "cache"),
                   PYTHONPATH=str(PACKAGE.parent))
    first = run_python(KERNEL_RUN, env)
    assert first["cache"] == str(tmp_path / "cache" / "numba")
    files = cache_files(tmp_path / "cache")
    assert any(f.endswith(".nbi") for f in files) and any(f.endswith(".nbc") for f in files)
    again = run_python(KERNEL_RUN, env)
    assert again["w"] == first["w"] and cache_files(tmp_path / "cache") == files


def test_without_home_the_cache_goes_to_a_temporary_folder(tmp_path):
    env = base_env(PYTHONPATH=str(PACKAGE.parent), TMPDIR=str(tmp_path))
    result = run_python(KERNEL_RUN, env)
    assert result["cache"].startswith(str(tmp_path)) and "tinyann-" in result["cache"]
    assert cache_files(tmp_path)


def test_read_only_sources_compile_into_the_user_cache(tmp_path):
    """tinyann installed where the process may not write (a system site-packages):
    the kernels still compile, cached in the user's folder only."""
    site = tmp_path / "site"
    shutil.copytree(PACKAGE, site / "tinyann", ignore=shutil.ignore_patterns("__pycache__"))
    cache = tmp_path / "cache"
    root = os.geteuid() == 0
    if root:  # root writes anywhere: the immutable attribute stops even root
        subprocess.run(["chattr", "-R", "+i", str(site)], check=True)
    else:
        for path in [site, *site.rglob("*")]:
            path.chmod(path.stat().st_mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))
    try:
        with pytest.raises(OSError):
            (site / "tinyann" / "probe").write_text("")  # it is read-only
        env = base_env(TINYANN_CACHE_DIR=str(cache), PYTHONPATH=str(site),
                       PYTHONDONTWRITEBYTECODE="1")
        result = run_python(KERNEL_RUN, env, cwd=str(tmp_path))
    finally:
        if root:
            subprocess.run(["chattr", "-R", "-i", str(site)], check=True)
        else:
            for path in [site, *site.rglob("*")]:
                path.chmod(path.stat().st_mode | stat.S_IWUSR)
    assert result["cache"] == str(cache / "numba") and cache_files(cache)
    assert not cache_files(site)  # nothing beside the sources


def test_a_corrupt_cache_entry_is_compiled_again(tmp_path):
    env = base_env(TINYANN_CACHE_DIR=str(tmp_path), PYTHONPATH=str(PACKAGE.parent))
    good = run_python(KERNEL_RUN, env)
    for path in Path(tmp_path).rglob("*.nb[ci]"):
        path.write_bytes(path.read_bytes()[:40])  # cut short, as by a full disk
    assert run_python(KERNEL_RUN, env)["w"] == good["w"]
    for path in Path(tmp_path).rglob("*.nb[ci]"):
        path.write_bytes(b"not a cache entry")
    assert run_python(KERNEL_RUN, env)["w"] == good["w"]


def test_cache_dir_falls_back_when_the_folder_cannot_be_made(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("a file where the cache folder would go")
    monkeypatch.setenv("TINYANN_CACHE_DIR", str(blocker))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    import tempfile

    monkeypatch.setattr(tempfile, "tempdir", None)
    assert jit.cache_dir().startswith(str(tmp_path / "tmp"))


# ---------------------------------------------------------------------- the switch
SWITCH_RUN = """
    import json, sys
    import tinyann
    print(json.dumps({"set": tinyann.kernels.kernel_set(), "numba": "numba" in sys.modules}))
"""


@pytest.mark.parametrize("value, expected", [("numpy", "numpy"), ("reference", "reference"),
                                             ("fast", "compiled"), ("", "compiled")])
def test_tinyann_kernels_selects_the_set_and_import_never_loads_numba(tmp_path, value,
                                                                      expected):
    env = base_env(TINYANN_KERNELS=value, TINYANN_CACHE_DIR=str(tmp_path),
                   PYTHONPATH=str(PACKAGE.parent))
    assert run_python(SWITCH_RUN, env) == {"set": expected, "numba": False}


def test_threads_setting_is_checked():
    with pytest.raises(ValueError, match="positive integer thread count. Received: 0"):
        jit.set_threads(0)


# ---------------------------------------------------------------------- repeatable
def test_the_cnn_trains_to_the_same_bits_twice_and_as_the_numpy_set_nearly():
    import tinyann as keras

    rng = np.random.default_rng(0)
    x = rng.random((256, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, 256)

    def train(kernels):
        previous = keras.config.kernels()
        keras.config.set_kernels(kernels)
        try:
            keras.utils.set_random_seed(5)
            layers = keras.layers
            model = keras.Sequential([
                keras.Input((28, 28, 1)), layers.Conv2D(8, 3, activation="relu", padding="same"),
                layers.MaxPooling2D(2), layers.Conv2D(16, 3, activation="relu", padding="same"),
                layers.MaxPooling2D(2), layers.Flatten(), layers.Dense(10, activation="softmax")])
            model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
            model.fit(x, y, epochs=2, batch_size=32, verbose=0)
            return model.get_weights()
        finally:
            keras.config.set_kernels(previous)

    first, second, numpy_set = train("compiled"), train("compiled"), train("numpy")
    for a, b, c in zip(first, second, numpy_set):
        np.testing.assert_array_equal(a, b)
        # col2im adds in another order: the sets agree to rounding, not to the bit
        np.testing.assert_allclose(a, c, rtol=1e-4, atol=1e-5)


def test_describe_names_the_running_set_and_numba():
    line = kernels.describe()
    expected = f"Kernels: {kernels.kernel_set()} (TINYANN_KERNELS={kernels.kernels()}; "
    assert line.startswith(expected)
    assert "numba 0." in line and jit.cache_dir() in line


def test_without_numba_the_numpy_set_runs_quietly(tmp_path):
    code = """
        import json, sys, warnings
        sys.modules["numba"] = None  # as if it were not installed
        warnings.simplefilter("error")
        import numpy as np
        import tinyann as keras
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Conv2D(4, 3),
                                  keras.layers.MaxPooling2D(2), keras.layers.Flatten(),
                                  keras.layers.Dense(3, activation="softmax")])
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
        model.fit(np.zeros((16, 8, 8, 1)), np.zeros(16, int), epochs=1, verbose=0)
        print(json.dumps({"set": keras.kernels.kernel_set(), "line": keras.kernels.describe()}))
    """
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, timeout=300,
                         env=base_env(PYTHONPATH=str(PACKAGE.parent),
                                      TINYANN_CACHE_DIR=str(tmp_path)))
    assert out.returncode == 0 and out.stderr == "", out.stderr[-2000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["set"] == "numpy"
    assert "numba is not installed: pip install 'tinyann[fast]'" in result["line"]


# ---------------------------------------------------------------------- Kernel
def _doubled(x, out):
    for i in jit.prange(x.shape[0]):
        out[i] = 2 * x[i]


def _first_calls_at_once(doubled):
    """Two threads calling ``doubled`` at the same moment; their results."""
    import threading

    start = threading.Barrier(2)
    results = {}

    def call(name):
        x, out = np.arange(5, dtype=np.float64), np.empty(5)
        start.wait()
        doubled(x, out)
        results[name] = out

    threads = [threading.Thread(target=call, args=(k,)) for k in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return list(results.values())


@pytest.mark.parametrize("parallel", [True, False])
def test_a_kernel_first_called_from_two_threads_compiles_once(parallel):
    doubled = jit.Kernel(_doubled, parallel=parallel)
    compiles = []
    compile_ = doubled._compile

    def counting(numba, args):
        compiles.append(args)
        return compile_(numba, args)

    doubled._compile = counting
    results = _first_calls_at_once(doubled)
    assert len(compiles) == 1 and len(results) == 2
    for out in results:
        np.testing.assert_array_equal(out, 2 * np.arange(5))
    assert doubled._dispatcher.targetoptions["parallel"] is parallel
    assert doubled._dispatcher.targetoptions["nogil"] is True


@pytest.mark.parametrize("keep", [True, False], ids=["training", "inference"])
def test_grey_3x3_pooled_kernel_equals_the_general_one(keep):
    """The unrolled kernel for one channel and 3x3 adds the same products in the same
    order as the general few-channel kernel: the same bits, the same offsets."""
    from tinyann.kernels.compiled import conv_pool

    rng = np.random.default_rng(11)
    padded = np.zeros((3, 12, 11, 1), np.float32)
    padded[:, 1:-1, 1:-1] = rng.normal(size=(3, 10, 9, 1))
    padded[0, :6] = 0  # ties: equal window outputs (the bias) route to the first
    weights = rng.normal(size=(3, 3, 1, 7)).astype(np.float32)
    bias = rng.normal(size=7).astype(np.float32)
    results = []
    for forward in (conv_pool.direct_pooled_forward, conv_pool.direct_pooled_forward_3x3_grey):
        out = np.full((3, 5, 4, 7), np.nan, np.float32)
        offsets = np.full(out.shape, 9, np.uint8)
        forward(padded, weights, bias, out, offsets if keep else np.zeros((1, 1, 1, 1),
                                                                       np.uint8), keep)
        results.append((out, offsets))
    np.testing.assert_array_equal(results[1][0], results[0][0])
    np.testing.assert_array_equal(results[1][1], results[0][1])
    assert not np.isnan(results[1][0]).any()
    assert (results[1][1] < 4).all() == keep
