"""The TensorFlow surface served to scripts (``tinyann.runner.shims.tensorflow``)."""

from __future__ import annotations

import numpy as np
import pytest

import tinyann as keras
from tinyann.runner.shims import modules
from tinyann.runner.shims import tensorflow as tf
from tinyann.runner.shims._errors import NotServedError


@pytest.fixture
def served_tf():
    """The module a script gets from ``import tensorflow``."""
    return modules.module("tensorflow")


def _kernel():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])
    return model.get_weights()[0]


def test_set_seed_and_op_determinism_make_runs_repeatable(served_tf):
    served_tf.random.set_seed(11)
    assert served_tf.config.experimental.enable_op_determinism() is None
    first = _kernel()
    served_tf.keras.utils.set_random_seed(11)
    second = _kernel()
    served_tf.random.set_seed(12)
    third = _kernel()
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, third)


def test_devices_dtypes_and_cast(served_tf):
    cpus = served_tf.config.list_physical_devices("CPU")
    assert [d.device_type for d in cpus] == ["CPU"]
    assert served_tf.config.list_physical_devices("GPU") == []
    assert served_tf.config.experimental.list_physical_devices("GPU") == []
    x = served_tf.cast(np.array([1.7, 2.2]), served_tf.int32)
    assert x.dtype == np.int32 and x.numpy().tolist() == [1, 2]
    assert served_tf.float32 == "float32"
    assert served_tf.data.AUTOTUNE == served_tf.data.experimental.AUTOTUNE == -1
    assert served_tf.data.Dataset is tf.data.Dataset
    assert served_tf.keras.Sequential is keras.Sequential


@pytest.mark.parametrize("get,match", [
    (lambda t: t.reduce_mean, r"`tf.reduce_mean` is not served .* Use numpy.mean instead\."),
    (lambda t: t.one_hot, r"Use keras.utils.to_categorical instead\."),
    (lambda t: t.GradientTape, r"tinyann has no autograd"),
    (lambda t: t.function, r"It is not needed here: tinyann runs NumPy eagerly"),
    (lambda t: t.random.uniform, r"`tf.random.uniform` .*numpy.random.default_rng\(seed\)"),
    (lambda t: t.config.experimental.set_memory_growth,
     r"`tf.config.experimental.set_memory_growth` .* not needed here"),
    (lambda t: t.data.TFRecordDataset, r"`tf.data.TFRecordDataset` is not served"),
    (lambda t: t.nn.relu, r"`tf.nn` is not served .*keras.activations"),
    (lambda t: t.np, r"`tf.np` is not served"),  # the module's own helpers are not served
    (lambda t: t.Namespace, r"`tf.Namespace` is not served"),
    (lambda t: t.strings, r"`tf.strings` is not served by tinyann: TensorFlow is not "
                          r"installed for this run, and tinyann provides only tf.keras"),
])
def test_unserved_symbols_name_themselves_and_an_equivalent(served_tf, get, match):
    with pytest.raises(NotServedError, match=match):
        get(served_tf)


def test_the_plain_module_raises_the_same_errors():
    # `from tinyann.runner.shims import tensorflow as tf` outside a run behaves the same
    with pytest.raises(NotServedError, match="Use numpy.mean instead"):
        _ = tf.reduce_mean
    with pytest.raises(NotServedError, match="`tf.random.normal`"):
        _ = tf.random.normal
    assert tf.keras.layers.Dense is keras.layers.Dense


def test_probing_with_hasattr_stays_quiet(served_tf):
    # matplotlib looks for sys.modules['tensorflow'].is_tensor and expects AttributeError
    assert not hasattr(served_tf, "is_tensor")
    assert not hasattr(served_tf, "__wrapped__")
    assert hasattr(served_tf, "data") and hasattr(served_tf, "__version__")


def test_dir_lists_only_served_names(served_tf):
    names = dir(served_tf)
    assert {"keras", "data", "random", "config", "cast", "float32"} <= set(names)
    assert "np" not in names and "Namespace" not in names
