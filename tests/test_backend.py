"""backend and config: float type, epsilon, random state, auto names, the package surface."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import tinyann as keras
from tinyann import backend, config


@pytest.fixture(autouse=True)
def fresh_names():
    backend.clear_session()
    yield
    backend.clear_session()


def test_defaults_as_keras():
    assert backend.floatx() == config.floatx() == "float32"
    assert backend.epsilon() == config.epsilon() == 1e-7
    assert backend.backend() == config.backend() == "numpy"
    assert config.image_data_format() == "channels_last"


def test_set_floatx_changes_new_weights_and_back():
    try:
        config.set_floatx("float64")
        assert keras.layers.Dense(2).dtype == "float64"
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
        assert model.get_weights()[0].dtype == np.float64
    finally:
        config.set_floatx("float32")
    assert keras.layers.Dense(2).dtype == "float32"


def test_set_floatx_rejects_unknown_types():
    with pytest.raises(ValueError, match=r"Unknown `floatx` value.*Received: floatx='float8'"):
        config.set_floatx("float8")


def test_set_epsilon():
    try:
        config.set_epsilon(1e-5)
        assert backend.epsilon() == 1e-5
    finally:
        config.set_epsilon(1e-7)


def test_set_random_seed_restarts_the_generator():
    backend.set_random_seed(3)
    first = backend.rng().random(4)
    backend.set_random_seed(3)
    np.testing.assert_array_equal(backend.rng().random(4), first)
    backend.set_random_seed(4)
    assert not np.array_equal(backend.rng().random(4), first)


def test_make_rng_with_a_seed_is_independent_of_the_global_state():
    backend.set_random_seed(1)
    a = backend.make_rng(99).random(3)
    backend.set_random_seed(2)
    np.testing.assert_array_equal(backend.make_rng(99).random(3), a)
    # without a seed it follows set_random_seed
    backend.set_random_seed(5)
    b = backend.make_rng().random(3)
    backend.set_random_seed(5)
    np.testing.assert_array_equal(backend.make_rng().random(3), b)


@pytest.mark.parametrize("name, snake", [("Dense", "dense"), ("MaxPooling2D", "max_pooling2d"),
                                         ("ReLU", "re_lu"), ("RMSprop", "rm_sprop"),
                                         ("BatchNormalization", "batch_normalization"),
                                         ("Conv2D", "conv2d"), ("InputLayer", "input_layer")])
def test_to_snake_case_as_keras(name, snake):
    assert backend.to_snake_case(name) == snake


def test_unique_names_count_per_prefix_until_cleared():
    assert [backend.unique_name("dense") for _ in range(3)] == ["dense", "dense_1", "dense_2"]
    assert backend.unique_name("flatten") == "flatten"
    backend.clear_session()
    assert backend.unique_name("dense") == "dense"


def test_interactive_logging_switch():
    assert config.is_interactive_logging_enabled()
    config.disable_interactive_logging()
    try:
        assert not config.is_interactive_logging_enabled()
    finally:
        config.enable_interactive_logging()
    assert config.is_interactive_logging_enabled()


def test_version():
    assert isinstance(keras.__version__, str) and keras.version() == keras.__version__
    assert keras.__version__.count(".") >= 1


def test_public_names_like_keras():
    for name in ("Sequential", "Model", "Input", "InputLayer", "Layer", "layers", "models",
                 "optimizers", "losses", "metrics", "activations", "callbacks", "utils",
                 "config", "backend", "initializers", "datasets"):
        assert hasattr(keras, name), name
    assert keras.models.Sequential is keras.Sequential
    assert keras.layers.Input is keras.Input


def test_import_is_light():
    # datasets and saving load on first use: `import tinyann` pulls in neither
    code = ("import sys, tinyann; print(sorted(m for m in ('tinyann.datasets', "
            "'tinyann.saving', 'gzip', 'urllib.request') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=60).stdout
    assert out.strip() == "[]"


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'Sequentail'"):
        _ = keras.Sequentail
