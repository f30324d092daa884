"""LearningRateScheduler and ReduceLROnPlateau inside fit: the optimizer really
trains with the rate they set, and History logs it."""

from __future__ import annotations

import numpy as np
import pytest

import tinyann as keras


class LrAtBatch(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.rates = []

    def on_train_batch_begin(self, batch, logs=None):
        self.rates.append(float(np.asarray(self.model.optimizer.learning_rate)))


def test_scheduler_sets_the_rate_each_epoch(make_model, make_data):
    x, y = make_data(n=32)
    model = make_model(optimizer=keras.optimizers.SGD(learning_rate=0.1))
    seen = LrAtBatch()
    sched = keras.callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (2 ** epoch))
    history = model.fit(x, y, epochs=3, batch_size=32, verbose=0, callbacks=[sched, seen])
    np.testing.assert_allclose(seen.rates, [0.1, 0.05, 0.025], rtol=1e-6)
    np.testing.assert_allclose(history.history["learning_rate"], [0.1, 0.05, 0.025], rtol=1e-6)


def test_scheduler_rate_changes_the_update(make_model, make_data):
    x, y = make_data(n=32)
    a = make_model(optimizer=keras.optimizers.SGD(learning_rate=0.1), seed=4)
    b = make_model(optimizer=keras.optimizers.SGD(learning_rate=0.1), seed=4)
    start = a.get_weights()
    a.fit(x, y, epochs=1, batch_size=32, shuffle=False, verbose=0,
          callbacks=[keras.callbacks.LearningRateScheduler(lambda e, lr: 0.0)])
    b.fit(x, y, epochs=1, batch_size=32, shuffle=False, verbose=0)
    for w0, wa in zip(start, a.get_weights()):
        np.testing.assert_array_equal(w0, wa)
    assert any(not np.array_equal(w0, wb) for w0, wb in zip(start, b.get_weights()))


def test_scheduler_bad_return_value(make_model, make_data):
    x, y = make_data(n=32)
    model = make_model()
    with pytest.raises(ValueError, match=r"The output of the `schedule` function should be a "
                                         r"float\. Got: fast"):
        model.fit(x, y, epochs=1, verbose=0,
                  callbacks=[keras.callbacks.LearningRateScheduler(lambda e, lr: "fast")])
    with pytest.raises(ValueError, match=r"`schedule` must be a function"):
        keras.callbacks.LearningRateScheduler(0.1)


def test_reduce_on_plateau_in_fit(make_model, make_data, script):
    x, y = make_data(n=32)
    model = make_model(optimizer=keras.optimizers.SGD(learning_rate=0.1))
    seen = LrAtBatch()
    reduce = keras.callbacks.ReduceLROnPlateau(patience=1, factor=0.5, min_lr=0.03)
    history = model.fit(x, y, epochs=5, batch_size=32, verbose=0, validation_data=(x, y),
                        callbacks=[script([1.0, 1.0, 1.0, 1.0, 1.0]), reduce, seen])
    np.testing.assert_allclose(seen.rates, [0.1, 0.1, 0.05, 0.03, 0.03], rtol=1e-6)
    # logged at each epoch end before that epoch's reduction, as Keras
    np.testing.assert_allclose(history.history["learning_rate"],
                               [0.1, 0.1, 0.05, 0.03, 0.03], rtol=1e-6)


@pytest.mark.parametrize("kwargs, match", [
    ({"factor": 1.0}, r"does not support a factor >= 1\.0\. Received factor=1\.0"),
    ({"factor": -0.5}, r"needs a factor in \[0, 1\)\. Received factor=-0\.5"),
    ({"patience": -1}, r"`patience` must be a non-negative integer"),
    ({"cooldown": -1}, r"`cooldown` must be a non-negative integer"),
    ({"min_lr": -1e-3}, r"`min_lr` must be >= 0"),
])
def test_reduce_on_plateau_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        keras.callbacks.ReduceLROnPlateau(**kwargs)


def test_reduce_on_plateau_ignores_keras2_arguments_with_a_warning():
    with pytest.warns(UserWarning, match=r"ignores the argument\(s\) \['epsilon'\]"):
        keras.callbacks.ReduceLROnPlateau(epsilon=1e-4)
