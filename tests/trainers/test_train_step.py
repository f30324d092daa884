"""The one training step: the same step for arrays and iterables, and fit's process-wide
settings scoped to the call (the fused gradient's own tests are in tests/kernels/)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

import tinyann as keras
from tinyann.utils import denormals


def _model(loss="sparse_categorical_crossentropy"):
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((5,)), keras.layers.Dense(8, activation="relu"),
                              keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss=loss, metrics=["accuracy"])
    return model


class _Batches:
    """A dataset-like iterable: the same batches at each epoch."""

    def __init__(self, batches):
        self.batches = batches

    def __iter__(self):
        return iter(self.batches)


def test_arrays_and_a_dataset_of_batches_train_the_same_weights():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((40, 5)).astype("float32")
    y = rng.integers(0, 3, 40)
    from_arrays = _model()
    h_arrays = from_arrays.fit(x, y, batch_size=8, epochs=2, shuffle=False, verbose=0)
    from_batches = _model()
    batches = [(x[i:i + 8], y[i:i + 8]) for i in range(0, 40, 8)]
    h_batches = from_batches.fit(_Batches(batches), epochs=2, verbose=0)
    for a, b in zip(from_arrays.get_weights(), from_batches.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(h_arrays.history["loss"], h_batches.history["loss"], rtol=1e-5)
    np.testing.assert_allclose(h_arrays.history["accuracy"], h_batches.history["accuracy"])


def _denormal_survives() -> bool:
    tiny = np.array([1e-40], dtype=np.float32)  # a float32 subnormal
    return bool((tiny * np.float32(1.0))[0] != 0)


class _Probe(keras.callbacks.Callback):
    """Records the settings inside fit, then raises to end it."""

    def __init__(self, fail):
        super().__init__()
        self.fail = fail
        self.seen = None

    def on_train_batch_end(self, batch, logs=None):
        self.seen = (sys.getswitchinterval(), _denormal_survives())
        if self.fail:
            raise RuntimeError("stop here")


@pytest.mark.parametrize("fail", [False, True])
def test_switch_interval_and_denormal_flushing_are_restored_after_fit(fail):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((16, 5)).astype("float32")
    y = rng.integers(0, 3, 16)
    model = _model()
    before = sys.getswitchinterval()
    assert _denormal_survives()
    probe = _Probe(fail)
    if fail:
        with pytest.raises(RuntimeError, match="stop here"):
            model.fit(x, y, batch_size=8, verbose=0, callbacks=[probe])
    else:
        model.fit(x, y, batch_size=8, verbose=0, callbacks=[probe])
    interval, survives = probe.seen
    assert interval < before  # set for the call...
    if denormals._LIB is not None:
        assert not survives  # ...and subnormals flushed inside it (x86-64 Linux)
    assert sys.getswitchinterval() == before  # restored after it
    assert _denormal_survives()
