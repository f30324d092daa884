"""Recurrent states (issue 22): ``return_state=True``, ``initial_state=``, ``stateful``
and Bidirectional's ``merge_mode=None`` / ``return_state``: shapes, Keras's errors,
numerical gradient checks of models where states flow between layers, and parity
with real Keras 3 (fixtures: tools/keras_reference/make_recurrent_state_fixtures.py).
"""

import json
from pathlib import Path

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras" / "recurrent"
KINDS = {"simple_rnn": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}


def _facts():
    path = FIXTURES / "state_facts.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {"cases": {}}


FACTS = _facts()


# ------------------------------------------------------------------ shapes and values
@pytest.mark.parametrize("kind", sorted(KINDS))
@pytest.mark.parametrize("sequences", [False, True], ids=["last", "sequences"])
def test_return_state_outputs(kind, sequences):
    layer = KINDS[kind](4, return_state=True, return_sequences=sequences)
    n_states = 2 if kind == "lstm" else 1
    symbolic = layer(keras.Input((6, 3)))
    assert isinstance(symbolic, list) and len(symbolic) == 1 + n_states
    assert symbolic[0].shape == ((None, 6, 4) if sequences else (None, 4))
    assert all(s.shape == (None, 4) for s in symbolic[1:])
    x = np.random.default_rng(0).normal(size=(2, 6, 3)).astype("float32")
    out = layer(x)
    assert len(out) == 1 + n_states
    last = out[0][:, -1] if sequences else out[0]
    np.testing.assert_array_equal(np.asarray(out[1]), np.asarray(last))  # h_T: the last output
    # the same weights without return_state give the same output
    plain = KINDS[kind](4, return_sequences=sequences)
    plain.build(x.shape)
    plain.set_weights(layer.get_weights())
    np.testing.assert_allclose(np.asarray(plain(x)), np.asarray(out[0]), atol=1e-6)


def test_initial_state_changes_the_output_and_zeros_do_not():
    rng = np.random.default_rng(1)
    lstm = layers.LSTM(3, return_sequences=True, return_state=True)
    x = rng.normal(size=(2, 5, 4)).astype("float32")
    out, h, c = lstm(x)
    zeros = np.zeros((2, 3), "float32")
    same = lstm(x, initial_state=[zeros, zeros])
    np.testing.assert_allclose(np.asarray(same[0]), np.asarray(out), atol=1e-6)
    # continuing from the final states of the first half = running the whole sequence
    first = lstm(x[:, :2])
    second = lstm(x[:, 2:], initial_state=[np.asarray(first[1]), np.asarray(first[2])])
    np.testing.assert_allclose(np.asarray(second[0]), np.asarray(out)[:, 2:], atol=1e-6)
    np.testing.assert_allclose(np.asarray(second[2]), np.asarray(c), atol=1e-6)


def test_initial_state_errors():
    lstm = layers.LSTM(3)
    with pytest.raises(ValueError, match=r"expects 2 initial state\(s\) \(\[h, c\]\), but "
                                         r"received 1"):
        lstm(keras.Input((5, 4)), initial_state=[keras.Input((3,))])
    with pytest.raises(ValueError, match=r"initial state 1 must have shape \(batch, 3\). "
                                         r"Received: shape=\(None, 4\)"):
        lstm(keras.Input((5, 4)), initial_state=[keras.Input((3,)), keras.Input((4,))])
    gru = layers.GRU(2)
    with pytest.raises(ValueError, match="initial state 0 has batch size 3 but the "
                                         "sequences have batch size 2"):
        gru(np.zeros((2, 5, 4)), initial_state=np.zeros((3, 2)))


# ------------------------------------------------------------------ gradients
def _check_model_gradients(gradcheck, model, xs, rng, float_inputs):
    """``sum(G_k * output_k)`` over every output: the graph's backward gives every
    weight's gradient and dL/dinput for the float inputs (numerically checked)."""
    graph = model._graph
    graph.set_needs_input_grad(True)
    outs = graph.forward(xs, training=True)
    gs = [rng.normal(size=o.shape) for o in outs]
    d_inputs = graph.backward([g.copy() for g in gs])
    analytic = [v.grad.copy() for v in model.trainable_weights]

    def loss():
        return sum(float(np.sum(g * o)) for g, o in zip(gs, graph.forward(xs, training=True)))

    for v, grad in zip(model.trainable_weights, analytic):
        gradcheck.assert_close(grad, gradcheck.numerical_grad(loss, v.value))
    for k in float_inputs:
        gradcheck.assert_close(d_inputs[k], gradcheck.numerical_grad(loss, xs[k]))


def _perturbed(model, rng):
    for v in model.weights:
        v.assign(v.numpy() + rng.normal(scale=0.2, size=v.shape))


@pytest.fixture
def reference_float64(gradcheck, use_kernels):
    # the reference kernels (the compiled set's tanh is a float32 approximation)
    use_kernels("reference")
    return gradcheck


def test_encoder_decoder_gradients(reference_float64):
    """LSTM(return_state) -> the decoder's initial_state; the model also outputs the
    encoder's c: gradients reach the encoder through h and c, and from c directly."""
    rng = np.random.default_rng(2)
    enc_in, dec_in = keras.Input((4, 3)), keras.Input((3, 2))
    _, h, c = layers.LSTM(3, return_state=True)(enc_in)
    seq = layers.LSTM(3, return_sequences=True)(dec_in, initial_state=[h, c])
    model = keras.Model([enc_in, dec_in], [layers.Dense(2)(seq), c])
    _perturbed(model, rng)
    xs = [rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 3, 2))]
    _check_model_gradients(reference_float64, model, xs, rng, [0, 1])


@pytest.mark.parametrize("kind", ["simple_rnn", "gru"])
def test_state_chain_gradients_backwards_and_masked(reference_float64, kind):
    """A go_backwards encoder with a masked input (Embedding(mask_zero)) returning
    sequences and its state; the state starts a second layer, the sequences feed it."""
    rng = np.random.default_rng(3)
    tokens = keras.Input((5,))
    emb = layers.Embedding(7, 3, mask_zero=True)(tokens)
    seq, h = KINDS[kind](3, return_sequences=True, return_state=True, go_backwards=True)(emb)
    last = KINDS[kind](2 if kind == "simple_rnn" else 3, return_sequences=False)
    if kind == "simple_rnn":
        last = layers.SimpleRNN(3)
    out = last(seq, initial_state=h)
    model = keras.Model(tokens, [layers.Dense(2)(out), h])
    _perturbed(model, rng)
    ids = np.array([[1, 2, 3, 0, 0], [4, 5, 6, 1, 2]], dtype=np.float64)
    _check_model_gradients(reference_float64, model, [ids], rng, [])


@pytest.mark.parametrize("merge_mode", [None, "concat", "mul"])
def test_bidirectional_states_gradients(reference_float64, merge_mode):
    """Bidirectional(LSTM(return_sequences, return_state)) given initial states: every
    output (the merged output or both, the 4 states) read by the loss."""
    rng = np.random.default_rng(4)
    seq_in = keras.Input((4, 3))
    states_in = [keras.Input((2,)) for _ in range(4)]
    outs = layers.Bidirectional(layers.LSTM(2, return_sequences=True, return_state=True),
                                merge_mode=merge_mode)(seq_in, initial_state=states_in)
    assert len(outs) == (6 if merge_mode is None else 5)
    model = keras.Model([seq_in, *states_in], outs)
    _perturbed(model, rng)
    xs = [rng.normal(size=(2, 4, 3))] + [rng.normal(size=(2, 2)) for _ in range(4)]
    _check_model_gradients(reference_float64, model, xs, rng, range(5))


def test_unused_outputs_get_no_gradient(reference_float64):
    """Only the state is used (the output ignored): backward gets None for it."""
    rng = np.random.default_rng(5)
    inp = keras.Input((4, 3))
    _, h = layers.GRU(3, return_state=True)(inp)
    model = keras.Model(inp, layers.Dense(1)(h))
    _perturbed(model, rng)
    _check_model_gradients(reference_float64, model, [rng.normal(size=(2, 4, 3))], rng, [0])


# ------------------------------------------------------------------ Bidirectional
def test_bidirectional_merge_modes_and_none():
    rng = np.random.default_rng(6)
    x = rng.normal(size=(2, 5, 3)).astype("float32")
    inner = layers.LSTM(4, return_sequences=True)
    pair = layers.Bidirectional(inner, merge_mode=None)
    fwd, bwd = pair(x)
    assert np.asarray(fwd).shape == np.asarray(bwd).shape == (2, 5, 4)
    expected = {"concat": np.concatenate([fwd, bwd], -1), "sum": fwd + bwd,
                "mul": fwd * bwd, "ave": (fwd + bwd) / 2}
    for mode, want in expected.items():
        merged = layers.Bidirectional(layers.LSTM(4, return_sequences=True), merge_mode=mode)
        merged.build(x.shape)
        merged.set_weights(pair.get_weights())
        np.testing.assert_allclose(np.asarray(merged(x)), want, atol=1e-6, err_msg=mode)
    symbolic = layers.Bidirectional(layers.GRU(3, return_state=True), merge_mode=None)(
        keras.Input((5, 3)))
    assert [t.shape for t in symbolic] == [(None, 3)] * 4
    with pytest.raises(ValueError, match="expects 4 initial states"):
        layers.Bidirectional(layers.LSTM(2))(keras.Input((5, 3)),
                                             initial_state=[keras.Input((2,))] * 2)


# ------------------------------------------------------------------ stateful
def test_stateful_carries_the_state_and_resets():
    rng = np.random.default_rng(7)
    x = rng.normal(size=(2, 6, 3)).astype("float32")
    model = keras.Sequential([keras.Input((3, 3), batch_size=2),
                              layers.LSTM(4, stateful=True, name="mem")])
    whole = layers.LSTM(4)
    whole.build((2, 6, 3))
    whole.set_weights(model.get_weights())
    first = model.predict(x[:, :3], verbose=0, batch_size=2)
    second = model.predict(x[:, 3:], verbose=0, batch_size=2)
    # two stateful halves = the whole sequence at once
    np.testing.assert_allclose(second, np.asarray(whole(x)), atol=1e-6)
    model.get_layer("mem").reset_state()
    np.testing.assert_allclose(model.predict(x[:, :3], verbose=0, batch_size=2), first,
                               atol=1e-6)
    model.reset_states()  # Keras 2's name, kept for old tutorials
    np.testing.assert_allclose(model.predict(x[:, :3], verbose=0, batch_size=2), first,
                               atol=1e-6)
    # the states are not weights: the saved weights are the kernel, recurrent, bias
    assert [v.path.split("/")[-1] for v in model.weights] == ["kernel", "recurrent_kernel",
                                                            "bias"]


def test_stateful_errors():
    with pytest.raises(ValueError, match=r"batch size must be static. Found dynamic batch "
                                         r"size: sequence.shape=\(None, 3, 2\)"):
        keras.Sequential([keras.Input((3, 2)), layers.GRU(2, stateful=True)])
    model = keras.Sequential([layers.GRU(2, stateful=True, batch_input_shape=(4, 3, 2))])
    with pytest.raises(ValueError, match="Expected batch size: 4\n- Received batch size: 3"):
        model.predict(np.zeros((3, 3, 2)), verbose=0)
    assert model.get_config()["layers"][-1]["config"]["stateful"] is True
