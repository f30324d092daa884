"""The kernel switch: config.set_kernels / TINYANN_KERNELS pick the set every layer,
loss and optimizer calls; a bad name is a ValueError listing the valid ones."""

import os
import subprocess
import sys

import numpy as np
import pytest

import tinyann
from tinyann import kernels
from tinyann.kernels import jit
from tinyann.kernels.fast import activations as fast_activations
from tinyann.kernels.fast import dense as fast_dense
from tinyann.kernels.reference import activations as ref_activations
from tinyann.kernels.reference import conv as ref_conv
from tinyann.kernels.reference import pooling as ref_pooling

FAST = "compiled" if jit.available() else "numpy"


@pytest.fixture
def restore_kernels():
    previous = kernels.kernels()
    yield
    kernels.set_kernels(previous)


def test_set_kernels_switches_the_functions_and_restores(restore_kernels):
    previous = tinyann.config.kernels()
    tinyann.config.set_kernels("reference")
    assert tinyann.config.kernels() == "reference" and kernels.kernel_set() == "reference"
    assert kernels.relu_forward is ref_activations.relu_forward
    assert kernels.conv2d_forward is ref_conv.conv2d_forward
    tinyann.config.set_kernels("FAST")
    # fast: the compiled set where numba is installed, else the NumPy set
    assert tinyann.config.kernels() == "fast" and kernels.kernel_set() == FAST
    assert kernels.relu_forward is fast_activations.relu_forward
    # an op the fast set has no own version of comes from the reference set
    assert kernels.global_avg_pool2d_forward is ref_pooling.global_avg_pool2d_forward
    tinyann.config.set_kernels(previous)
    assert tinyann.config.kernels() == previous


def test_numpy_names_the_numpy_set(restore_kernels):
    tinyann.config.set_kernels("numpy")
    assert kernels.kernels() == "numpy" and kernels.kernel_set() == "numpy"
    assert kernels.dense_forward is fast_dense.dense_forward


@pytest.mark.parametrize("bad", ["gpu", "", None, 3])
def test_an_unknown_set_is_a_clear_error(bad, restore_kernels):
    before = kernels.relu_forward
    with pytest.raises(ValueError, match=r"Unknown kernel set .*Expected one of "
                                         r"\['fast', 'compiled', 'numpy', 'reference'\]"):
        tinyann.config.set_kernels(bad)
    assert kernels.relu_forward is before  # nothing changed


@pytest.mark.parametrize("name", ["fast", pytest.param("compiled", marks=pytest.mark.skipif(
    not jit.available(), reason="numba is not installed")), "numpy", "reference"])
def test_every_set_has_every_op(name):
    functions = kernels.functions_of(name)
    assert sorted(functions) == sorted(kernels.OPS)
    assert all(callable(f) for f in functions.values())


def test_a_layer_follows_the_switch(restore_kernels):
    rng = np.random.default_rng(0)
    layer = tinyann.layers.Conv2D(2, 3, padding="same", activation="relu")
    x = rng.normal(size=(1, 5, 5, 3)).astype("float32")
    layer.build(x.shape)
    tinyann.config.set_kernels("fast")
    fast_out = layer(x, training=True)
    assert hasattr(layer._ctx, "cols")  # the fast set's workspace
    tinyann.config.set_kernels("reference")
    ref_out = layer(x, training=True)
    assert isinstance(layer._ctx, tuple)  # the reference's (columns, geometry)
    np.testing.assert_allclose(fast_out, ref_out, rtol=1e-5, atol=1e-6)


def _run_with_env(value, code):
    env = dict(os.environ, TINYANN_KERNELS=value)
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=60)


def test_the_environment_variable_selects_the_set():
    done = _run_with_env("reference", "import tinyann; print(tinyann.config.kernels())")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "reference"


def test_a_bad_environment_variable_is_a_clear_error():
    done = _run_with_env("turbo", "import tinyann")
    assert done.returncode != 0
    assert "Unknown kernel set 'turbo'" in done.stderr
