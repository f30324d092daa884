"""More ``model.summary()`` references from real Keras 3: wide (Korean) characters,
names too long for their column, and functional models.

Runs ONLY in the separate Keras venv (see README.md beside this file); it never
imports tinyann. Every layer and model is named explicitly, so the output does
not depend on auto-name counters. Writes tests/fixtures/keras/summary_extra.json:
``{case: {"code": ..., "summary_kwargs": {...}, "text": what print_fn received}}``.

Usage:  /work/kerasenv/bin/python tools/keras_reference/make_summary_extra.py
"""

import json
import os
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "keras"

CASES = {
    # rich pads cells by display width: a Korean syllable takes two columns
    "unicode_names": (
        "keras.Sequential([keras.Input((4,)), layers.Dense(3, name='은닉층'), "
        "layers.Dense(2, name='출력층')], name='한국어_모델')",
        {"line_length": 76},
    ),
    # rich wraps at spaces and cuts a word longer than the column with '…'
    "long_names": (
        "keras.Sequential([keras.Input((4,)), "
        "layers.Dense(3, name='a_very_long_layer_name_that_does_not_fit_in_the_column'), "
        "layers.Dense(2, name='출력층_with_a_long_tail_이름입니다_길다')], name='long')",
        {"line_length": 76},
    ),
    # a functional chain is printed like a Sequential, its InputLayer included
    "functional_chain": (
        "keras.Model(pixels, layers.Dense(2, name='out')(layers.Dense(3, name='hidden')"
        "(pixels)), name='chain')",
        {"line_length": 76},
    ),
    # Keras's 'Trainable' column: its header is cut to 'Traina…' by the same rules
    "show_trainable": (
        "keras.Sequential([keras.Input((28, 28)), layers.Flatten(name='flatten'), "
        "layers.Dense(4, name='frozen', trainable=False), layers.Dense(2, name='top')], "
        "name='partly_frozen')",
        {"line_length": 100, "show_trainable": True},
    ),
    # two heads on one input: the 'Connected to' layout, positions [.3, .56, .74, 1]
    "two_heads": (
        "keras.Model(pixels, [layers.Dense(3, name='left')(pixels), "
        "layers.Dense(2, name='right')(pixels)], name='two_heads')",
        {"line_length": 100},
    ),
}


def main():
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    # rich crops its output at the console width (80 without a terminal): every case
    # passes line_length, so a wide console only stops that cropping
    os.environ["COLUMNS"] = "200"
    import keras
    from keras import layers

    out = {"keras": keras.__version__}
    for case, (code, kwargs) in CASES.items():
        pixels = keras.Input((4,), name="pixels")
        model = eval(code, {"keras": keras, "layers": layers, "pixels": pixels})
        calls = []
        model.summary(print_fn=calls.append, **kwargs)
        assert len(calls) == 1, calls
        out[case] = {"code": code, "summary_kwargs": kwargs, "text": calls[0]}
    with open(OUT / "summary_extra.json", "w", encoding="utf-8") as f:
        json.dump(out, f, indent=1, ensure_ascii=False)
        f.write("\n")
    sys.stdout.write(f"wrote {OUT / 'summary_extra.json'}\n")


if __name__ == "__main__":
    main()
