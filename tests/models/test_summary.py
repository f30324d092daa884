"""summary(): the same text as Keras 3 (summary_*.txt, made with print_fn, no terminal).

The models are built in the order Keras's script built them, after
``clear_session()``, so the auto names match. Keras's default width is
``min(88, terminal columns - 4)``: 80 columns (the fallback without a terminal)
gave the 76-wide fixtures, 200 columns the 88-wide one.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinyann as keras
from tinyann import backend, layers


def build_seed_and_mlp():
    backend.clear_session()
    seed = keras.Sequential([keras.Input((784,)), layers.Dense(10, activation="softmax")])
    mlp = keras.Sequential([keras.Input((28, 28)), layers.Flatten(),
                            layers.Dense(100, activation="relu"),
                            layers.Dense(10, activation="softmax")])
    return seed, mlp


def summary_text(model, **kwargs):
    calls = []
    model.summary(print_fn=lambda *args, **kw: calls.append((args, kw)), **kwargs)
    assert len(calls) == 1, "print_fn is called once, with the whole table"
    (args, kw), = calls
    assert len(args) == 1 and kw == {}
    return args[0]


def test_seed_model(keras_fact):
    seed, _ = build_seed_and_mlp()
    assert summary_text(seed, line_length=76) == keras_fact("summary_seed.txt")


def test_mlp(keras_fact):
    _, mlp = build_seed_and_mlp()
    assert summary_text(mlp, line_length=76) == keras_fact("summary_mlp.txt")


def test_mlp_after_training_counts_optimizer_params(keras_fact):
    _, mlp = build_seed_and_mlp()
    rng = np.random.default_rng(0)
    mlp.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    mlp.fit(rng.standard_normal((32, 28, 28)).astype("float32"), rng.integers(0, 10, 32),
            batch_size=32, epochs=1, verbose=0)
    assert summary_text(mlp, line_length=76) == keras_fact("summary_mlp_compiled.txt")


def test_compiled_but_untrained_has_no_optimizer_params(keras_fact):
    _, mlp = build_seed_and_mlp()
    mlp.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    assert summary_text(mlp, line_length=76) == keras_fact("summary_mlp.txt")


@pytest.mark.parametrize("columns, fixture", [("80", "summary_seed.txt"),
                                              ("200", "summary_seed_wide.txt")])
def test_default_width_follows_the_terminal(columns, fixture, monkeypatch, keras_fact):
    monkeypatch.setenv("COLUMNS", columns)
    seed, _ = build_seed_and_mlp()
    assert summary_text(seed) == keras_fact(fixture)


def test_legacy_input_shape_model_prints_the_same(keras_fact):
    # seeds 001/003 build the model as Sequential(Dense(..., input_shape=(784,)))
    backend.clear_session()
    model = keras.Sequential(layers.Dense(10, activation="softmax", input_shape=(784,)))
    assert summary_text(model, line_length=76) == keras_fact("summary_seed.txt")


def test_without_print_fn_prints_to_stdout(capsys, keras_fact, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    seed, _ = build_seed_and_mlp()
    seed.summary()
    assert capsys.readouterr().out == keras_fact("summary_seed.txt")


def _extra_cases():
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "fixtures" / "keras" / "summary_extra.json"
    cases = json.loads(path.read_text(encoding="utf-8"))
    return {name: case for name, case in cases.items() if isinstance(case, dict)}


@pytest.mark.parametrize("case", sorted(_extra_cases()))
def test_wide_characters_long_names_functional_layouts_and_trainable(case):
    # made by tools/keras_reference/make_summary_extra.py; every name is explicit
    fact = _extra_cases()[case]
    pixels = keras.Input((4,), name="pixels")
    model = eval(fact["code"], {"keras": keras, "layers": layers, "pixels": pixels})
    assert summary_text(model, **fact["summary_kwargs"]) == fact["text"]


def test_unbuilt_model():
    backend.clear_session()
    model = keras.Sequential([layers.Dense(3)])
    text = summary_text(model, line_length=76)
    assert "dense (Dense)" in text and "0 (unbuilt)" in text
    assert " Total params: 0 (0.00 B)" in text
