"""Chapter 9's recurrent models in real Keras 3: weights after 10 training steps,
summaries, configs and saved files, for tinyann's parity tests.

    KERAS_BACKEND=jax /work/kerasenv/bin/python tools/keras_reference/make_recurrent_fixtures.py

Run on JAX: Keras on TensorFlow hands an Embedding's gradient to the optimizer as
IndexedSlices (only the rows a batch used), and its RMSprop and Adam then update the
slots of those rows only, so its weights after 10 steps differ from the dense update
by up to 0.05 (measured: the LSTM case, 0.041 on the table). Keras on JAX takes the
dense gradient, as tinyann does; on the one-hot SimpleRNN (no Embedding) the two
backends agree with each other and with tinyann within 1e-7.

Writes tests/fixtures/keras/recurrent/: ``<case>.npz`` (the initial weights, the data,
the weights after 10 steps of batch 16 and the predictions), ``facts.json`` (configs,
summaries, weight paths) and ``<case>.keras`` / ``<case>.h5`` / ``<case>.weights.h5``
(Keras-made files for tinyann to load). Never imported by tinyann's tests.
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

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "keras" / "recurrent"
STEPS, VOCAB = 12, 30


def build(case):
    L = keras.layers
    if case == "simple_rnn_onehot":
        body = [keras.Input((STEPS, 20)), L.SimpleRNN(8)]
    else:
        mask = case.endswith("_mask")
        body = [keras.Input((STEPS,)), L.Embedding(VOCAB, 16, mask_zero=mask)]
        kind = case.replace("_mask", "")
        if kind == "simple_rnn":
            body.append(L.SimpleRNN(8))
        elif kind == "lstm":
            body.append(L.LSTM(8))
        elif kind == "gru":
            body.append(L.GRU(8))
        elif kind == "gru_reset_before":
            body.append(L.GRU(8, reset_after=False))
        elif kind == "stacked":
            body += [L.LSTM(8, return_sequences=True), L.LSTM(8)]
    model = keras.Sequential(body + [L.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-2),
                  loss="binary_crossentropy", metrics=["accuracy"])
    return model


def data(case, rng):
    y = rng.integers(0, 2, 160)
    if case == "simple_rnn_onehot":
        ids = rng.integers(0, 20, (160, STEPS))
        return np.eye(20, dtype="float32")[ids], y
    ids = rng.integers(1, VOCAB, (160, STEPS))
    if case.endswith("_mask"):  # padded at the front, as pad_sequences does
        for row, length in zip(ids, rng.integers(3, STEPS + 1, 160)):
            row[:STEPS - length] = 0
    return ids, y


CASES = ["simple_rnn_onehot", "simple_rnn", "lstm", "gru", "gru_reset_before", "stacked",
         "simple_rnn_mask", "lstm_mask", "gru_mask", "stacked_mask"]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    facts = {"keras": keras.__version__, "backend": keras.backend.backend(), "cases": {}}
    for i, case in enumerate(CASES):
        keras.backend.clear_session()
        keras.utils.set_random_seed(100 + i)
        model = build(case)
        rng = np.random.default_rng(i)
        x, y = data(case, rng)
        initial = model.get_weights()
        text = io.StringIO()
        with redirect_stdout(text):
            model.summary()  # before fit: no optimizer variables yet
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
        if case in ("lstm", "gru", "simple_rnn_onehot"):
            model.save(OUT / f"{case}.keras")
            model.save(OUT / f"{case}.h5")
            model.save_weights(OUT / f"{case}.weights.h5")
    with open(OUT / "facts.json", "w", encoding="utf-8") as f:
        json.dump(facts, f, indent=1, default=str)
    print("wrote", OUT, file=sys.stderr)


if __name__ == "__main__":
    main()
