"""Progress output of fit / evaluate / predict, against Keras 3's (progress_lines.txt).

Keras always redraws with ANSI codes, '\\r' and '\\b'; tinyann writes only the
finished line when stdout is not a terminal. What a reader sees is the same:
the tests compare Keras's last visible text of each line with ours, timings and
values masked (the weights differ), then check our values are the epoch means.
"""

from __future__ import annotations

import re
from types import SimpleNamespace

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers
from tinyann.utils import progbar as progbar_module

ANSI = re.compile(r"\x1b\[[0-9;]*m")
TIMING = re.compile(r"\d+s( -)? \d+(us|ms|s)/step")
VALUE = re.compile(r"\d+\.\d{4}")


@pytest.fixture(autouse=True)
def not_a_terminal(monkeypatch):
    monkeypatch.delenv("TINYANN_INTERACTIVE", raising=False)


def keras_sections(text):
    """{call: [visible lines]} from progress_lines.txt: the text left on screen once
    each '\\r' and '\\b' has done its work."""
    parts = re.split(r"^===== (.*) =====\n", text, flags=re.M)
    out = {}
    for call, body in zip(parts[1::2], parts[2::2]):
        lines = []
        for raw in body.split("\n")[:-1]:
            visible = ANSI.sub("", raw).split("\r")[-1].replace("\b", "")
            lines.append(visible.rstrip())
        out[call] = lines
    return out


def masked(lines):
    return [VALUE.sub("<v>", TIMING.sub("<time>", line)) for line in lines]


def progress_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="softmax")])
    model.compile("sgd", "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


CALLS = {
    "model.fit(x, y, batch_size=32, epochs=2, validation_data=(xv, yv), verbose=1)":
        lambda m, d: m.fit(d.x, d.y, batch_size=32, epochs=2, validation_data=(d.xv, d.yv),
                           verbose=1),
    "model.fit(x, y, batch_size=32, epochs=2, validation_data=(xv, yv), verbose=2)":
        lambda m, d: m.fit(d.x, d.y, batch_size=32, epochs=2, validation_data=(d.xv, d.yv),
                           verbose=2),
    "model.fit(x, y, batch_size=32, epochs=2, validation_data=(xv, yv))  # verbose='auto'":
        lambda m, d: m.fit(d.x, d.y, batch_size=32, epochs=2, validation_data=(d.xv, d.yv)),
    "model.evaluate(x, y, batch_size=32, verbose=1)":
        lambda m, d: m.evaluate(d.x, d.y, batch_size=32, verbose=1),
    "model.predict(x, batch_size=32, verbose=1)":
        lambda m, d: m.predict(d.x, batch_size=32, verbose=1),
}


@pytest.mark.parametrize("call", CALLS)
def test_lines_look_like_keras(call, capsys, keras_fact, tiny_data):
    want = keras_sections(keras_fact("progress_lines.txt"))[call]
    CALLS[call](progress_model(), tiny_data)
    out = capsys.readouterr().out
    assert "\r" not in out and "\b" not in out and "\x1b" not in out
    got = out.split("\n")
    assert got[-1] == ""  # every line ends with a newline
    assert masked([line.rstrip() for line in got[:-1]]) == masked(want)


@pytest.mark.parametrize("verbose", [1, 2, "auto"])
def test_one_line_per_epoch_showing_the_epoch_means(verbose, capsys, tiny_data):
    model = progress_model()
    history = model.fit(tiny_data.x, tiny_data.y, batch_size=16, epochs=3, verbose=verbose,
                        validation_data=(tiny_data.xv, tiny_data.yv))
    lines = capsys.readouterr().out.splitlines()
    assert lines[0::2] == ["Epoch 1/3", "Epoch 2/3", "Epoch 3/3"]
    assert len(lines) == 6
    for epoch, line in enumerate(lines[1::2]):
        assert line.startswith("4/4 ")
        shown = dict(re.findall(r" - (\w+): (\d+\.\d{4})", line))
        assert list(shown) == ["accuracy", "loss", "val_accuracy", "val_loss"]
        for key, text in shown.items():
            assert text == f"{history.history[key][epoch]:.4f}"


@pytest.mark.parametrize("verbose", [1, 2])
def test_no_epoch_header_for_a_single_epoch(verbose, capsys, tiny_data):
    # Keras's ProgbarLogger prints "Epoch i/n" only when epochs > 1
    progress_model().fit(tiny_data.x, tiny_data.y, epochs=1, verbose=verbose)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1 and lines[0].startswith("2/2 ")


def test_verbose_two_format(capsys, tiny_data):
    progress_model().fit(tiny_data.x, tiny_data.y, epochs=1, verbose=2)
    line = capsys.readouterr().out.rstrip("\n")
    assert re.fullmatch(r"2/2 - \d+s - \d+(us|ms|s)/step - accuracy: \d\.\d{4} - "
                        r"loss: \d\.\d{4}", line)


def test_evaluate_line_shows_what_it_returns(capsys, tiny_data):
    loss, accuracy = progress_model().evaluate(tiny_data.x, tiny_data.y, verbose=1)
    line = capsys.readouterr().out.rstrip("\n")
    assert line.endswith(f"- accuracy: {accuracy:.4f} - loss: {loss:.4f}")


@pytest.mark.parametrize("call", ["fit", "evaluate", "predict"])
def test_verbose_zero_is_silent(call, capsys, tiny_data):
    model = progress_model()
    {"fit": lambda: model.fit(tiny_data.x, tiny_data.y, epochs=2, verbose=0),
     "evaluate": lambda: model.evaluate(tiny_data.x, tiny_data.y, verbose=0),
     "predict": lambda: model.predict(tiny_data.x, verbose=0)}[call]()
    assert capsys.readouterr().out == ""


def test_validation_inside_fit_prints_no_bar_of_its_own(capsys, tiny_data):
    progress_model().fit(tiny_data.x, tiny_data.y, epochs=1, verbose=1,
                         validation_data=(tiny_data.xv, tiny_data.yv))
    assert len(capsys.readouterr().out.splitlines()) == 1


def test_terminal_shows_running_means_batch_by_batch(monkeypatch, capsys, reference):
    # on a terminal every redraw shows the means over the batches seen so far;
    # a clock that jumps a second per reading makes every update redraw
    monkeypatch.setenv("TINYANN_INTERACTIVE", "1")
    ticks = iter(range(1, 10_000))
    monkeypatch.setattr(progbar_module, "time",
                        SimpleNamespace(perf_counter=lambda: float(next(ticks))))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((10, 4))
    y = rng.integers(0, 3, 10)
    kernel, bias = rng.uniform(-1, 1, (4, 3)), rng.uniform(-0.1, 0.1, 3)
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3, activation="softmax")])
    model.compile(keras.optimizers.SGD(0.5), "sparse_categorical_crossentropy")
    model.set_weights([kernel, bias])
    model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=1)
    out = capsys.readouterr().out
    assert out.endswith("\n")
    draws = [d for d in out.rstrip("\n").split("\r") if d]
    assert [d.split(" ")[0] for d in draws] == ["1/3", "2/3", "3/3", "3/3"]
    shown = [float(re.search(r"loss: (\d+\.\d{4})", d).group(1)) for d in draws]
    batch = reference.sgd_softmax_fit(kernel, bias, x, y, 0.5, 4, 1).batch_losses
    sizes = np.array([4, 4, 2])
    running = np.cumsum(np.array(batch) * sizes) / np.cumsum(sizes)
    np.testing.assert_allclose(shown, list(running) + [running[-1]], atol=6e-5)
    assert "\x1b[32m" in draws[0]  # the done part of the bar is green, as Keras's
