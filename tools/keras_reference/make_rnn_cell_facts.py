"""Keras 3's RNN over its cells, for tinyann's parity tests of the cell API.

    KERAS_BACKEND=jax /work/kerasenv/bin/python tools/keras_reference/make_rnn_cell_facts.py

For each cell (SimpleRNNCell, LSTMCell, GRUCell, GRUCell(reset_after=False)) and for
``RNN([LSTMCell(3), GRUCell(2)])`` it records, from weights drawn here and set in
Keras: the outputs of ``RNN(cell)`` on one batch under three settings (a mask with
return_sequences and return_state; go_backwards with an initial state and the mask;
the last output alone), then the weights after 3 SGD steps of ``fit`` (an RNN, then
a Dense, MSE). Writes ``tests/fixtures/rnn_cells/<case>.npz``, and a Keras-made
``keras_rnn_cells.keras`` with its outputs (``keras_rnn_cells.npz``). Never imported by the
tests.
"""

import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "rnn_cells"
BATCH, STEPS, FEATURES, UNITS = 3, 5, 2, 4


def make_cell(case):
    L = keras.layers
    return {"simple_rnn": lambda: L.SimpleRNNCell(UNITS),
            "lstm": lambda: L.LSTMCell(UNITS),
            "gru": lambda: L.GRUCell(UNITS),
            "gru_reset_before": lambda: L.GRUCell(UNITS, reset_after=False),
            "stacked": lambda: [L.LSTMCell(3), L.GRUCell(2)]}[case]()


def draw_weights(layer, rng):
    return [rng.uniform(-0.5, 0.5, w.shape).astype("float32") for w in layer.get_weights()]


def run(case, weights, x, mask, initial=None, **kw):
    """The flat outputs of ``RNN(cell, **kw)(x, initial_state, mask)``."""
    layer = keras.layers.RNN(make_cell(case), **kw)
    layer.build((None, STEPS, FEATURES))
    layer.set_weights(weights)
    given = None
    if initial is not None:   # a stacked cell takes its states nested per cell
        given = initial if case != "stacked" else [initial[:2], initial[2]]
    out = layer(x, initial_state=given, mask=mask)
    return [np.asarray(o) for o in keras.tree.flatten(out)]


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    for i, case in enumerate(["simple_rnn", "lstm", "gru", "gru_reset_before", "stacked"]):
        rng = np.random.default_rng(100 + i)
        x = rng.normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
        mask = np.ones((BATCH, STEPS), bool)
        mask[0, 3:] = False      # padding at the end
        mask[1, :2] = False      # and at the start
        facts = {"x": x, "mask": mask}
        base = keras.layers.RNN(make_cell(case))
        base.build((None, STEPS, FEATURES))
        weights = draw_weights(base, rng)
        for k, w in enumerate(weights):
            facts[f"w{k}"] = w
        sizes = keras.tree.flatten(base.state_size)
        states = [rng.normal(size=(BATCH, int(d))).astype("float32") for d in sizes]
        for k, s in enumerate(states):
            facts[f"state{k}"] = s

        for k, o in enumerate(run(case, weights, x, mask, None, return_sequences=True,
                                     return_state=True)):
            facts[f"masked_seq_state_{k}"] = o
        for k, o in enumerate(run(case, weights, x, mask, states, go_backwards=True,
                                     return_state=True)):
            facts[f"backwards_initial_{k}"] = o
        layer = keras.layers.RNN(make_cell(case))
        layer.build((None, STEPS, FEATURES))
        layer.set_weights(weights)
        facts["last"] = np.asarray(layer(x))

        # 3 SGD steps of fit: RNN -> Dense(1), MSE
        model = keras.Sequential([keras.Input((STEPS, FEATURES)),
                                  keras.layers.RNN(make_cell(case)), keras.layers.Dense(1)])
        dense = [rng.uniform(-0.5, 0.5, w.shape).astype("float32")
                 for w in model.layers[1].get_weights()]
        model.layers[0].set_weights(weights)
        model.layers[1].set_weights(dense)
        for k, w in enumerate(dense):
            facts[f"dense{k}"] = w
        y = rng.normal(size=(BATCH, 1)).astype("float32")
        facts["y"] = y
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        model.fit(x, y, batch_size=BATCH, epochs=3, shuffle=False, verbose=0)
        for k, w in enumerate(model.get_weights()):
            facts[f"trained{k}"] = w
        np.savez_compressed(OUT / f"{case}.npz", **facts)
        print(case, sorted(facts))


def keras_file():
    """A Keras-made .keras file with RNN(LSTMCell) and stacked cells, and its outputs."""
    keras.utils.set_random_seed(7)
    L = keras.layers
    model = keras.Sequential([keras.Input((STEPS, FEATURES)),
                              L.RNN(L.LSTMCell(UNITS), return_sequences=True),
                              L.RNN([L.GRUCell(3), L.SimpleRNNCell(2)]), L.Dense(1)])
    x = np.random.default_rng(7).normal(size=(BATCH, STEPS, FEATURES)).astype("float32")
    model.save(OUT / "keras_rnn_cells.keras")
    np.savez_compressed(OUT / "keras_rnn_cells.npz", x=x, y=model.predict(x, verbose=0))


if __name__ == "__main__":
    main()
    keras_file()
