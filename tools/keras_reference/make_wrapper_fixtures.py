"""Bidirectional and TimeDistributed in real Keras 3: weights after 10 training steps,
summaries, configs, weight paths and a saved ``.keras`` file, for tinyann's parity tests
(tests/layers/test_wrappers.py).

    KERAS_BACKEND=jax /work/kerasenv/bin/python tools/keras_reference/make_wrapper_fixtures.py

Run on JAX for the reason make_recurrent_fixtures.py gives (Embedding's dense gradient).
Writes tests/fixtures/keras/wrappers/: ``<case>.npz``, ``<case>.keras`` and ``facts.json``.
"""

import io
import json
import os
import sys
from contextlib import redirect_stdout
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "keras" / "wrappers"
STEPS, VOCAB = 12, 30


def build(case):
    L = keras.layers
    if case == "bidi_lstm":
        body = [keras.Input((STEPS,)), L.Embedding(VOCAB, 16), L.Bidirectional(L.LSTM(8)),
                L.Dense(1, activation="sigmoid")]
    elif case == "bidi_gru_ave_mask":
        body = [keras.Input((STEPS,)), L.Embedding(VOCAB, 16, mask_zero=True),
                L.Bidirectional(L.GRU(4), merge_mode="ave"), L.Dense(1, activation="sigmoid")]
    elif case == "bidi_stacked_sum_mask":
        body = [keras.Input((STEPS,)), L.Embedding(VOCAB, 16, mask_zero=True),
                L.Bidirectional(L.LSTM(4, return_sequences=True), merge_mode="sum"),
                L.LSTM(4), L.Dense(1, activation="sigmoid")]
    elif case == "bidi_seq_mul_time_distributed":
        body = [keras.Input((STEPS, 20)),
                L.Bidirectional(L.SimpleRNN(4, return_sequences=True), merge_mode="mul"),
                L.TimeDistributed(L.Dense(1, activation="sigmoid"))]
    model = keras.Sequential(body)
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-2),
                  loss="binary_crossentropy")
    return model


def data(case, rng):
    if case == "bidi_seq_mul_time_distributed":
        ids = rng.integers(0, 20, (160, STEPS))
        return np.eye(20, dtype="float32")[ids], rng.integers(0, 2, (160, STEPS, 1))
    ids = rng.integers(1, VOCAB, (160, STEPS))
    if case.endswith("_mask"):  # padded at the front, as pad_sequences does
        for row, length in zip(ids, rng.integers(3, STEPS + 1, 160)):
            row[:STEPS - length] = 0
    return ids, rng.integers(0, 2, 160)


CASES = ["bidi_lstm", "bidi_gru_ave_mask", "bidi_stacked_sum_mask",
         "bidi_seq_mul_time_distributed"]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    facts = {"keras": keras.__version__, "backend": keras.backend.backend(), "cases": {}}
    for i, case in enumerate(CASES):
        keras.backend.clear_session()
        keras.utils.set_random_seed(200 + i)
        model = build(case)
        rng = np.random.default_rng(50 + i)
        x, y = data(case, rng)
        initial = model.get_weights()
        text = io.StringIO()
        with redirect_stdout(text):
            model.summary()
        model.fit(x, y, batch_size=16, epochs=1, shuffle=False, verbose=0)
        trained = model.get_weights()
        pred = model.predict(x[:20], verbose=0)
        arrays = {"x": x, "y": y, "pred": pred}
        arrays.update({f"initial_{k}": w for k, w in enumerate(initial)})
        arrays.update({f"trained_{k}": w for k, w in enumerate(trained)})
        np.savez_compressed(OUT / f"{case}.npz", **arrays)
        facts["cases"][case] = {
            "paths": [v.path for v in model.weights],
            "configs": [layer.get_config() for layer in model.layers],
            "summary": text.getvalue(), "weights": len(initial)}
        model.save(OUT / f"{case}.keras")
    with open(OUT / "facts.json", "w", encoding="utf-8") as f:
        json.dump(facts, f, indent=1, default=str)
    print("wrote", OUT, file=sys.stderr)


if __name__ == "__main__":
    main()
