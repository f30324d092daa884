"""Keras 3's recurrent states and masked losses, for tinyann's parity tests (issue 22):
encoder-decoders (``return_state=True`` feeding ``initial_state=``), sequence models
whose Embedding(mask_zero=True) mask reaches the loss, a stateful LSTM, and
Bidirectional with ``merge_mode=None`` and ``return_state=True``.

    KERAS_BACKEND=jax /work/kerasenv/bin/python tools/keras_reference/make_recurrent_state_fixtures.py
    KERAS_BACKEND=tensorflow /work/kerasenv/bin/python \
        tools/keras_reference/make_recurrent_state_fixtures.py stateful_lstm

Run on JAX (see make_recurrent_fixtures.py: dense Embedding gradients), except the
stateful case, on TensorFlow: Keras 3.15 on JAX does not carry a stateful layer's
states from one training batch to the next (its rnn_state variables are not among
the variables the stateless JAX train step returns: measured, its weights after
training equal those of stateful=False within 5e-8), while on TensorFlow the
states carry as ``RNN.call`` assigns them (no Embedding there, so TensorFlow's
sparse gradients do not matter). Naming cases on the command line remakes only
those (their facts merged into state_facts.json). Writes
tests/fixtures/keras/recurrent/state_<case>.npz (initial weights, data, weights after
a few steps of batch 16 (stateful: 4), predictions, evaluate's loss and metrics)
and state_<case>.keras (the trained model, for tinyann to load), and
state_facts.json (the configs' inbound nodes, output shapes, state paths).
Never imported by tinyann's tests.
"""

import json
import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "jax")
import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "keras" / "recurrent"
L = keras.layers
VOCAB, T_IN, T_OUT, N = 20, 7, 5, 64


def _padded(rng, n, steps, vocab, min_len):
    """Integer sequences padded with 0 at the end (post padding), lengths random."""
    ids = rng.integers(1, vocab, (n, steps))
    for row, length in zip(ids, rng.integers(min_len, steps + 1, n)):
        row[length:] = 0
    return ids


def encdec_lstm(rng):
    """Embedding -> LSTM(return_state) ; Embedding -> LSTM(initial_state=[h, c]) ->
    Dense softmax per step; sparse cross-entropy."""
    enc_in = keras.Input((T_IN,), name="enc_tokens")
    dec_in = keras.Input((T_OUT,), name="dec_tokens")
    _, h, c = L.LSTM(8, return_state=True, name="encoder")(L.Embedding(VOCAB, 6)(enc_in))
    seq = L.LSTM(8, return_sequences=True, name="decoder")(L.Embedding(VOCAB, 6)(dec_in),
                                                            initial_state=[h, c])
    out = L.Dense(VOCAB, activation="softmax", name="next_token")(seq)
    model = keras.Model([enc_in, dec_in], out)
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    x = [rng.integers(1, VOCAB, (N, T_IN)), rng.integers(1, VOCAB, (N, T_OUT))]
    y = rng.integers(0, VOCAB, (N, T_OUT))
    return model, x, y, {}


def encdec_gru(rng):
    """GRU(return_state) on floats; GRU(initial_state=h) -> Dense(2); the encoder's
    output and state both used (a Dense on the state); MSE."""
    enc_in = keras.Input((T_IN, 3))
    dec_in = keras.Input((T_OUT, 2))
    _, h = L.GRU(6, return_state=True, name="encoder")(enc_in)
    seq = L.GRU(6, return_sequences=True, name="decoder")(dec_in, initial_state=h)
    out = L.Dense(2, name="out")(seq)
    model = keras.Model([enc_in, dec_in], out)
    model.compile(keras.optimizers.RMSprop(1e-2), "mse")
    x = [rng.normal(size=(N, T_IN, 3)), rng.normal(size=(N, T_OUT, 2))]
    y = rng.normal(size=(N, T_OUT, 2))
    return model, x, y, {}


def encdec_simple_rnn_states_out(rng):
    """A model whose outputs include the states: [Dense(h), c] from LSTM(return_state)
    and SimpleRNN(return_state) feeding a second SimpleRNN; two losses."""
    inp = keras.Input((T_IN, 3))
    seq, h = L.SimpleRNN(5, return_state=True, return_sequences=True, name="first")(inp)
    last = L.SimpleRNN(5, name="second")(seq, initial_state=[h])
    out = L.Dense(1, name="value")(last)
    state = L.Dense(2, name="state_head")(h)
    model = keras.Model(inp, [out, state])
    model.compile(keras.optimizers.SGD(0.05), ["mse", "mse"])
    x = rng.normal(size=(N, T_IN, 3))
    y = [rng.normal(size=(N, 1)), rng.normal(size=(N, 2))]
    return model, x, y, {}


def masked_lstm_td(rng):
    """Embedding(mask_zero) -> LSTM(return_sequences) -> TimeDistributed(Dense softmax):
    the mask reaches the loss and the accuracy."""
    model = keras.Sequential([
        keras.Input((T_IN,)), L.Embedding(VOCAB, 6, mask_zero=True),
        L.LSTM(8, return_sequences=True),
        L.TimeDistributed(L.Dense(4, activation="softmax"))])
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    x = _padded(rng, N, T_IN, VOCAB, 2)
    y = rng.integers(0, 4, (N, T_IN))
    return model, x, y, {}


def masked_gru_dense(rng):
    """Embedding(mask_zero) -> GRU(return_sequences) -> Dense(1) on 3-D; MSE with
    per-step sample weights ``(N, steps)`` (the mask and the weights combine; Keras
    3.15 fails on per-sample weights ``(N,)`` with a mask: 'Incompatible shapes for
    broadcasting: shapes=[(16, 7), (16,)]')."""
    model = keras.Sequential([
        keras.Input((T_IN,)), L.Embedding(VOCAB, 5, mask_zero=True),
        L.GRU(6, return_sequences=True), L.Dense(1)])
    model.compile(keras.optimizers.RMSprop(1e-2), "mse", metrics=["mae"])
    x = _padded(rng, N, T_IN, VOCAB, 1)
    y = rng.normal(size=(N, T_IN, 1))
    sw = rng.uniform(0.2, 2.0, (N, T_IN))
    return model, x, y, {"sample_weight": sw}


def stateful_lstm(rng):
    """LSTM(stateful) with a fixed batch of 4: two epochs, the state carried between
    batches (no reset), then predictions from the carried state."""
    model = keras.Sequential([keras.Input((T_IN, 3), batch_size=4),
                              L.LSTM(5, stateful=True), L.Dense(1)])
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    x = rng.normal(size=(16, T_IN, 3))
    y = rng.normal(size=(16, 1))
    return model, x, y, {"batch_size": 4, "epochs": 2}


def bidirectional_none(rng):
    """Bidirectional(LSTM(return_sequences), merge_mode=None) -> [forward, backward]
    -> Concatenate -> Dense; and Bidirectional(GRU(return_state)) -> Dense on the
    backward state."""
    inp = keras.Input((T_IN, 3))
    fwd, bwd = L.Bidirectional(L.LSTM(4, return_sequences=True), merge_mode=None,
                               name="bi_none")(inp)
    both = L.Concatenate()([fwd, bwd])
    merged, h_f, h_b = L.Bidirectional(L.GRU(3, return_state=True), merge_mode="sum",
                                       name="bi_state")(both)
    out = L.Dense(1, name="out")(L.Concatenate()([merged, h_b]))
    model = keras.Model(inp, out)
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    x = rng.normal(size=(N, T_IN, 3))
    y = rng.normal(size=(N, 1))
    return model, x, y, {}


CASES = [encdec_lstm, encdec_gru, encdec_simple_rnn_states_out, masked_lstm_td,
         masked_gru_dense, stateful_lstm, bidirectional_none]


def _as_list(v):
    return list(v) if isinstance(v, (list, tuple)) else [v]


def main(only=()):
    OUT.mkdir(parents=True, exist_ok=True)
    facts = {"keras": keras.__version__, "cases": {}}
    if only:
        facts = json.loads((OUT / "state_facts.json").read_text(encoding="utf-8"))
    for i, make in enumerate(CASES):
        case = make.__name__
        if only and case not in only:
            continue
        keras.backend.clear_session()
        keras.utils.set_random_seed(300 + i)
        rng = np.random.default_rng(30 + i)
        model, x, y, options = make(rng)
        x = [a.astype("float32") if a.dtype.kind == "f" else a for a in _as_list(x)]
        y = [a.astype("float32") if a.dtype.kind == "f" else a for a in _as_list(y)]
        sw = options.get("sample_weight")
        batch_size = options.get("batch_size", 16)
        initial = model.get_weights()
        xs = x if len(x) > 1 else x[0]
        ys = y if len(y) > 1 else y[0]
        model.fit(xs, ys, sample_weight=sw, batch_size=batch_size,
                  epochs=options.get("epochs", 1), shuffle=False, verbose=0)
        trained = model.get_weights()
        n_pred = 8 if case == "stateful_lstm" else 20
        pred = _as_list(model.predict([a[:n_pred] for a in x] if len(x) > 1 else x[0][:n_pred],
                                      batch_size=batch_size, verbose=0))
        if case == "stateful_lstm":
            model.layers[0].reset_state()
        evaluated = model.evaluate(xs, ys, sample_weight=sw, batch_size=batch_size,
                                   verbose=0, return_dict=True)
        arrays = {f"y_{k}": a for k, a in enumerate(y)}
        arrays.update({f"x_{k}": a for k, a in enumerate(x)})
        arrays.update({f"pred_{k}": p for k, p in enumerate(pred)})
        arrays.update({f"initial_{k}": w for k, w in enumerate(initial)})
        arrays.update({f"trained_{k}": w for k, w in enumerate(trained)})
        if sw is not None:
            arrays["sample_weight"] = sw
        np.savez_compressed(OUT / f"state_{case}.npz", **arrays)
        config = model.get_config()
        facts["cases"][case] = {
            "backend": keras.backend.backend(),
            "options": {k: v for k, v in options.items() if k != "sample_weight"},
            "evaluate": {k: float(v) for k, v in evaluated.items()},
            "paths": [v.path for v in model.weights],
            "output_shapes": [list(t.shape) for t in model.outputs],
            "inbound_nodes": None if isinstance(model, keras.Sequential) else {
                layer["name"]: layer.get("inbound_nodes") for layer in config["layers"]}}
        if case == "stateful_lstm":
            lstm = model.layers[0]
            facts["cases"][case]["state_paths"] = [v.path for v in lstm.states]
            facts["cases"][case]["weight_count"] = len(lstm.weights)
        model.save(OUT / f"state_{case}.keras")
    with open(OUT / "state_facts.json", "w", encoding="utf-8") as f:
        json.dump(facts, f, indent=1, default=str)
    print("wrote", OUT, file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
