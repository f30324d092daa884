"""keras.utils: to_categorical, normalize, set_random_seed and Progbar."""

from __future__ import annotations

import io
import re
from types import SimpleNamespace

import numpy as np
import pytest

import tinyann as keras
from tinyann import backend, utils
from tinyann.utils import progbar as progbar_module
from tinyann.utils.progbar import Progbar, format_eta, format_time_per_step, format_value


# ---------------------------------------------------------------- to_categorical
def test_to_categorical():
    out = utils.to_categorical([2, 0, 1, 2])
    np.testing.assert_array_equal(out, np.eye(3)[[2, 0, 1, 2]])
    assert out.dtype == np.float64  # as Keras 3 gives for NumPy input
    assert utils.to_categorical(np.array([1, 0]), num_classes=4).shape == (2, 4)


def test_to_categorical_column_and_float_labels():
    np.testing.assert_array_equal(utils.to_categorical(np.array([[1], [0]])), np.eye(2)[[1, 0]])
    np.testing.assert_array_equal(utils.to_categorical(np.array([1.0, 0.0])), np.eye(2)[[1, 0]])
    grid = utils.to_categorical(np.array([[0, 1], [2, 1]]))
    assert grid.shape == (2, 2, 3) and grid[1, 0, 2] == 1.0


@pytest.mark.parametrize("labels, num_classes, message", [
    ([0, 3], 3, r"Labels must be in \[0, num_classes=3\)\. Received: max label 3"),
    ([0, -1], None, r"labels >= 0\. Received: min label -1"),
    ([0.5, 1.0], None, "integer class labels.*non-integer"),
    (["a", "b"], None, "integer class labels.*dtype <U1"),
])
def test_to_categorical_errors(labels, num_classes, message):
    with pytest.raises(ValueError, match=message):
        utils.to_categorical(labels, num_classes=num_classes)


def test_normalize():
    x = np.array([[3.0, 4.0], [0.0, 0.0]])
    out = utils.normalize(x)
    np.testing.assert_allclose(out, [[0.6, 0.8], [0.0, 0.0]])
    assert out.dtype == np.float64
    np.testing.assert_allclose(utils.normalize(np.array([[1, 1]]), order=1), [[0.5, 0.5]])


# ---------------------------------------------------------------- seeds
def test_set_random_seed_is_the_backend_one():
    assert utils.set_random_seed is backend.set_random_seed
    assert keras.utils.set_random_seed is backend.set_random_seed


def test_set_random_seed_seeds_numpy_and_python():
    import random

    utils.set_random_seed(11)
    first = (np.random.rand(), random.random(), backend.rng().random())
    utils.set_random_seed(11)
    assert (np.random.rand(), random.random(), backend.rng().random()) == first


@pytest.mark.parametrize("seed", [-1, 1.5, "1", True, None])
def test_set_random_seed_needs_a_non_negative_integer(seed):
    with pytest.raises(ValueError, match=r"non-negative integer\. Received: seed="):
        utils.set_random_seed(seed)


# ---------------------------------------------------------------- formatting
@pytest.mark.parametrize("value, text", [(0.51234, "0.5123"), (12.0, "12.0000"),
                                         (0.0005, "5.0000e-04"), (0.0, "0.0000e+00"),
                                         (-2.5, "-2.5000")])
def test_format_value_as_keras(value, text):
    assert format_value(value) == text


@pytest.mark.parametrize("seconds, text", [(2.4, "2s/step"), (0.0, "0s/step"),
                                           (0.0123, "12ms/step"), (0.0004, "400us/step")])
def test_format_time_per_step(seconds, text):
    assert format_time_per_step(seconds) == text


@pytest.mark.parametrize("seconds, text", [(5.2, "5s"), (75, "1:15"), (3725, "1:02:05")])
def test_format_eta(seconds, text):
    assert format_eta(seconds) == text


# ---------------------------------------------------------------- Progbar
@pytest.fixture
def clock(monkeypatch):
    """A clock that moves one second per reading, so every update may redraw."""
    ticks = iter(range(1, 100_000))
    monkeypatch.setattr(progbar_module, "time",
                        SimpleNamespace(perf_counter=lambda: float(next(ticks))))


def test_not_a_terminal_writes_only_the_last_line(monkeypatch, clock):
    monkeypatch.delenv("TINYANN_INTERACTIVE", raising=False)
    stream = io.StringIO()
    bar = Progbar(3, stream=stream)
    for step in (1, 2, 3):
        bar.update(step, [("loss", float(step))])
    lines = stream.getvalue().splitlines()
    assert len(lines) == 1 and "\r" not in stream.getvalue()
    # values are averaged over the steps; the final update shows the last value given
    assert re.fullmatch(r"3/3 ━{20} \d+s \d+(s|ms|us)/step - loss: 3\.0000", lines[0])


def test_terminal_redraws_with_running_averages(monkeypatch, clock):
    monkeypatch.setenv("TINYANN_INTERACTIVE", "1")
    stream = io.StringIO()
    bar = Progbar(4, stream=stream)
    for step, loss in zip((1, 2, 4), (4.0, 2.0, 1.0)):
        bar.update(step, [("loss", loss)], finalize=False)
    draws = stream.getvalue().split("\r")[1:]
    shown = [float(re.search(r"loss: (\S+)", d).group(1)) for d in draws]
    # step 4 came two steps after step 2: its value weighs 2
    assert shown == [4.0, 3.0, pytest.approx((4 + 2 + 2 * 1) / 4)]
    assert "\x1b[32m" + "━" * 10 + "\x1b[0m" in draws[1]  # half done, green as Keras


def test_stateful_metrics_are_shown_as_given(monkeypatch, clock):
    monkeypatch.setenv("TINYANN_INTERACTIVE", "1")
    stream = io.StringIO()
    bar = Progbar(3, stream=stream, stateful_metrics=["acc"])
    bar.update(1, [("acc", 0.5), ("loss", 1.0)])
    bar.update(2, [("acc", 0.25), ("loss", 3.0)])
    last = stream.getvalue().split("\r")[-1]
    assert "acc: 0.2500" in last and "loss: 2.0000" in last


def test_stateless_metrics_average_only_those(monkeypatch, clock):
    monkeypatch.setenv("TINYANN_INTERACTIVE", "1")
    stream = io.StringIO()
    bar = Progbar(3, stream=stream, stateless_metrics=["loss"])
    bar.update(1, {"acc": 0.5, "loss": 1.0})
    bar.update(2, {"acc": 0.25, "loss": 3.0})
    last = stream.getvalue().split("\r")[-1]
    assert "acc: 0.2500" in last and "loss: 2.0000" in last


def test_both_metric_lists_is_an_error():
    with pytest.raises(ValueError, match="Only one of"):
        Progbar(3, stateful_metrics=["a"], stateless_metrics=["b"])


def test_lazy_values_are_read_only_when_drawn(monkeypatch):
    monkeypatch.delenv("TINYANN_INTERACTIVE", raising=False)
    calls = []

    def values():
        calls.append(1)
        return {"loss": 0.5}

    stream = io.StringIO()
    bar = Progbar(100, stream=stream, stateless_metrics=set())
    for step in range(1, 100):
        bar.update(step, values)
    assert calls == []  # not a terminal: nothing drawn before the end
    bar.update(100, values)
    assert calls == [1] and stream.getvalue().endswith("- loss: 0.5000\n")


def test_verbose_two_and_zero(clock):
    stream = io.StringIO()
    bar = Progbar(2, verbose=2, stream=stream)
    bar.update(1, [("loss", 1.0)])
    bar.update(2, [("loss", 0.5)])
    assert re.fullmatch(r"2/2 - \d+s - \d+(s|ms|us)/step - loss: 0\.5000\n", stream.getvalue())
    silent = io.StringIO()
    quiet = Progbar(2, verbose=0, stream=silent)
    quiet.update(2, [("loss", 1.0)])
    assert silent.getvalue() == ""


def test_add_and_unknown_target(monkeypatch, clock):
    monkeypatch.delenv("TINYANN_INTERACTIVE", raising=False)
    stream = io.StringIO()
    bar = Progbar(None, stream=stream)
    bar.add(5)
    bar.add(5, [("loss", 2.0)])
    bar.update(10, [("loss", 2.0)], finalize=True)
    assert stream.getvalue().startswith("     10/Unknown ")
