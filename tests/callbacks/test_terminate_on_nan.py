"""A diverging fit: TerminateOnNaN stops it at the first NaN batch; without it
fit warns once and does not pass silently."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tinyann as keras


def _diverging(make_model, make_data):
    x, y = make_data(n=256)
    x = x * 100.0
    model = make_model(optimizer=keras.optimizers.SGD(learning_rate=1e12))
    return model, x, y


def test_stops_at_the_first_nan_batch(make_model, make_data, capsys):
    model, x, y = _diverging(make_model, make_data)
    losses = []
    record = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: losses.append(logs["loss"]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(x, y, epochs=5, batch_size=16, verbose=0,
                            callbacks=[record, keras.callbacks.TerminateOnNaN()])
    # the callback has said it: no second message from fit
    assert not [w for w in caught if "training loss became" in str(w.message)]
    bad = next(i for i, v in enumerate(losses) if not np.isfinite(v))
    assert len(losses) == bad + 1  # no batch after the first NaN one
    assert capsys.readouterr().out == f"Batch {bad}: Invalid loss, terminating training\n"
    assert len(history.history["loss"]) == 1
    assert model.stop_training is True


def test_raise_error_option(make_model, make_data):
    model, x, y = _diverging(make_model, make_data)
    with pytest.raises(RuntimeError, match=r"^NaN or Inf loss encountered at batch \d+\. "
                                           r"Loss value: (nan|inf)\. Terminating training "
                                           r"immediately\. \(raised in callback "
                                           r"TerminateOnNaN\.on_train_batch_end\)"):
        model.fit(x, y, epochs=5, batch_size=16, verbose=0,
                  callbacks=[keras.callbacks.TerminateOnNaN(raise_error=True)])


def test_without_it_fit_warns_once(make_model, make_data):
    model, x, y = _diverging(make_model, make_data)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    nan_warnings = [w for w in caught if issubclass(w.category, RuntimeWarning)
                    and "training loss became" in str(w.message)]
    assert len(nan_warnings) == 1
    assert "TerminateOnNaN" in str(nan_warnings[0].message)
    assert not np.isfinite(history.history["loss"][0])


def test_a_finite_run_is_not_stopped(make_model, make_data):
    x, y = make_data()
    model = make_model()
    history = model.fit(x, y, epochs=3, verbose=0,
                        callbacks=[keras.callbacks.TerminateOnNaN()])
    assert len(history.history["loss"]) == 3
    assert model.stop_training is False
