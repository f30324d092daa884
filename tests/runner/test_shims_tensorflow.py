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
    (lambda t: t.signal, r"`tf.signal` is not served .* Use numpy.fft instead\."),
    (lambda t: t.scatter_nd, r"Use keras.ops.scatter instead\."),
    (lambda t: t.random.poisson, r"`tf.random.poisson` .*numpy.random.default_rng\(seed\)"),
    (lambda t: t.config.experimental.set_memory_growth,
     r"`tf.config.experimental.set_memory_growth` .* not needed here"),
    (lambda t: t.data.TFRecordDataset, r"`tf.data.TFRecordDataset` is not served"),
    (lambda t: t.nn.conv3d_transpose, r"`tf.nn.conv3d_transpose` is not served"),
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
    with pytest.raises(NotServedError, match="Use numpy.fft instead"):
        _ = tf.signal
    with pytest.raises(NotServedError, match="`tf.random.poisson`"):
        _ = tf.random.poisson
    assert tf.keras.layers.Dense is keras.layers.Dense


def test_probing_with_hasattr_stays_quiet(served_tf):
    # hasattr answers False, not an error, for what is not served
    assert not hasattr(served_tf, "RaggedTensor")
    assert not hasattr(served_tf, "__wrapped__")
    assert hasattr(served_tf, "data") and hasattr(served_tf, "__version__")


def test_dir_lists_only_served_names(served_tf):
    names = dir(served_tf)
    assert {"keras", "data", "random", "config", "cast", "float32"} <= set(names)
    assert "np" not in names and "Namespace" not in names


def test_quickstart_tensors_and_tape(served_tf):
    # TensorFlow's beginner quickstart, on tiny random data
    rng = np.random.default_rng(0)
    x_train = rng.random((4, 28, 28)).astype("float32")
    y_train = np.array([3, 1, 4, 1])
    model = keras.Sequential([keras.Input((28, 28)), keras.layers.Flatten(),
                              keras.layers.Dense(16, activation="relu"),
                              keras.layers.Dense(10)])
    predictions = model(x_train[:1]).numpy()
    probs = served_tf.nn.softmax(predictions).numpy()
    assert probs.shape == (1, 10) and abs(float(probs.sum()) - 1) < 1e-5
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    value = float(np.asarray(loss_fn(y_train[:1], predictions)))
    assert value == pytest.approx(-np.log(probs[0, 3]), rel=1e-5)

    w = served_tf.Variable(served_tf.random.normal((3, 2), seed=1))
    x = served_tf.constant([[1.0, 2.0, 3.0]])
    assert x.dtype == np.float32 and served_tf.newaxis is None
    assert served_tf.version.VERSION.startswith("2.")

    @served_tf.function(jit_compile=True)
    def loss(x):
        return served_tf.reduce_mean(served_tf.square(served_tf.matmul(x, w)))

    with served_tf.GradientTape() as tape:
        y = loss(x)
    grad = tape.gradient(y, w)
    expected = 2 * x.numpy().T @ (x.numpy() @ w.numpy()) / 2
    np.testing.assert_allclose(grad.numpy(), expected, rtol=1e-5)
    w.assign_sub(0.1 * grad)
    assert served_tf.math.reduce_sum(served_tf.ones((2, 2))).numpy() == 4.0
