"""Recurrent states (issue 22): ``return_state=True``, ``initial_state=``, ``stateful``
and Bidirectional's ``merge_mode=None`` / ``return_state``: shapes, Keras's errors,
numerical gradient checks of models where states flow between layers, and parity
with real Keras 3 (fixtures: tools/keras_reference/make_recurrent_state_fixtures.py).
"""

import json
import zipfile
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
    # the states are not weights (Keras's rnn_state variables are untracked): the saved
    # weights are the kernel, recurrent kernel and bias
    assert [v.path.split("/")[-1] for v in model.weights] == ["kernel", "recurrent_kernel",
                                                            "bias"]
    if FACTS["cases"]:
        assert FACTS["cases"]["stateful_lstm"]["weight_count"] == 3


def test_stateful_errors():
    with pytest.raises(ValueError, match=r"batch size must be static. Found dynamic batch "
                                         r"size: sequence.shape=\(None, 3, 2\)"):
        keras.Sequential([keras.Input((3, 2)), layers.GRU(2, stateful=True)])
    model = keras.Sequential([layers.GRU(2, stateful=True, batch_input_shape=(4, 3, 2))])
    with pytest.raises(ValueError, match="Expected batch size: 4\n- Received batch size: 3"):
        model.predict(np.zeros((3, 3, 2)), verbose=0)
    assert model.get_config()["layers"][-1]["config"]["stateful"] is True


# ------------------------------------------------------------------ parity with Keras 3
VOCAB, T_IN, T_OUT = 20, 7, 5


def _encdec_lstm():
    enc_in = keras.Input((T_IN,), name="enc_tokens")
    dec_in = keras.Input((T_OUT,), name="dec_tokens")
    _, h, c = layers.LSTM(8, return_state=True, name="encoder")(layers.Embedding(VOCAB, 6)(
        enc_in))
    seq = layers.LSTM(8, return_sequences=True, name="decoder")(
        layers.Embedding(VOCAB, 6)(dec_in), initial_state=[h, c])
    out = layers.Dense(VOCAB, activation="softmax", name="next_token")(seq)
    model = keras.Model([enc_in, dec_in], out)
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _encdec_gru():
    enc_in, dec_in = keras.Input((T_IN, 3)), keras.Input((T_OUT, 2))
    _, h = layers.GRU(6, return_state=True, name="encoder")(enc_in)
    seq = layers.GRU(6, return_sequences=True, name="decoder")(dec_in, initial_state=h)
    model = keras.Model([enc_in, dec_in], layers.Dense(2, name="out")(seq))
    model.compile(keras.optimizers.RMSprop(1e-2), "mse")
    return model


def _encdec_simple_rnn_states_out():
    inp = keras.Input((T_IN, 3))
    seq, h = layers.SimpleRNN(5, return_state=True, return_sequences=True, name="first")(inp)
    last = layers.SimpleRNN(5, name="second")(seq, initial_state=[h])
    model = keras.Model(inp, [layers.Dense(1, name="value")(last),
                              layers.Dense(2, name="state_head")(h)])
    model.compile(keras.optimizers.SGD(0.05), ["mse", "mse"])
    return model


def _masked_lstm_td():
    model = keras.Sequential([
        keras.Input((T_IN,)), layers.Embedding(VOCAB, 6, mask_zero=True),
        layers.LSTM(8, return_sequences=True),
        layers.TimeDistributed(layers.Dense(4, activation="softmax"))])
    model.compile(keras.optimizers.Adam(1e-2), "sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return model


def _masked_gru_dense():
    model = keras.Sequential([
        keras.Input((T_IN,)), layers.Embedding(VOCAB, 5, mask_zero=True),
        layers.GRU(6, return_sequences=True), layers.Dense(1)])
    model.compile(keras.optimizers.RMSprop(1e-2), "mse", metrics=["mae"])
    return model


def _stateful_lstm():
    model = keras.Sequential([keras.Input((T_IN, 3), batch_size=4),
                              layers.LSTM(5, stateful=True), layers.Dense(1)])
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    return model


def _bidirectional_none():
    inp = keras.Input((T_IN, 3))
    fwd, bwd = layers.Bidirectional(layers.LSTM(4, return_sequences=True), merge_mode=None,
                                    name="bi_none")(inp)
    both = layers.Concatenate()([fwd, bwd])
    merged, _, h_b = layers.Bidirectional(layers.GRU(3, return_state=True), merge_mode="sum",
                                          name="bi_state")(both)
    out = layers.Dense(1, name="out")(layers.Concatenate()([merged, h_b]))
    model = keras.Model(inp, out)
    model.compile(keras.optimizers.Adam(1e-2), "mse")
    return model


BUILD = {f.__name__[1:]: f for f in (
    _encdec_lstm, _encdec_gru, _encdec_simple_rnn_states_out, _masked_lstm_td,
    _masked_gru_dense, _stateful_lstm, _bidirectional_none)}


def _case_data(case):
    ref = np.load(FIXTURES / f"state_{case}.npz")
    count = lambda prefix: sum(k.startswith(prefix) for k in ref.files)  # noqa: E731
    xs = [ref[f"x_{k}"] for k in range(count("x_"))]
    ys = [ref[f"y_{k}"] for k in range(count("y_"))]
    preds = [ref[f"pred_{k}"] for k in range(count("pred_"))]
    sw = ref["sample_weight"] if "sample_weight" in ref.files else None
    return ref, xs, ys, preds, sw


def _layer_entries(path):
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))["config"]
    return {(e.get("name") or e["config"]["name"]): e for e in config["layers"]}


def _one(arrays):
    return arrays[0] if len(arrays) == 1 else arrays


def _trained_as_keras(case):
    """The case's model from Keras's initial weights (matched by path), trained as
    the fixture script trained it; returns the model and the fixture."""
    fact = FACTS["cases"][case]
    ref, xs, ys, preds, sw = _case_data(case)
    keras.backend.clear_session()
    model = BUILD[case]()
    by_path = {v.path: v for v in model.weights}
    assert sorted(by_path) == sorted(fact["paths"])
    for k, path in enumerate(fact["paths"]):
        by_path[path].assign(ref[f"initial_{k}"])
    options = fact["options"]
    batch_size = options.get("batch_size", 16)
    model.fit(_one(xs), _one(ys), sample_weight=sw, batch_size=batch_size,
              epochs=options.get("epochs", 1), shuffle=False, verbose=0)
    for k, path in enumerate(fact["paths"]):
        np.testing.assert_allclose(by_path[path].numpy(), ref[f"trained_{k}"], atol=1e-5,
                                   rtol=0, err_msg=path)
    return model, fact, (xs, ys, preds, sw, batch_size)


needs_fixtures = pytest.mark.skipif(not FACTS["cases"], reason="state fixtures not made")


@needs_fixtures
@pytest.mark.parametrize("case", sorted(BUILD))
def test_training_matches_keras(case):
    """Weights after training within 1e-5 of Keras's, then Keras's predictions and
    evaluate's loss and metrics (masked ones: the mean over unmasked steps)."""
    model, fact, (xs, ys, preds, sw, batch_size) = _trained_as_keras(case)
    n_pred = preds[0].shape[0]
    got = model.predict(_one([x[:n_pred] for x in xs]), batch_size=batch_size, verbose=0)
    for want, have in zip(preds, got if isinstance(got, list) else [got]):
        np.testing.assert_allclose(have, want, atol=1e-5)
    if case == "stateful_lstm":
        model.layers[0].reset_state()
    evaluated = model.evaluate(_one(xs), _one(ys), sample_weight=sw, batch_size=batch_size,
                               verbose=0, return_dict=True)
    assert sorted(evaluated) == sorted(fact["evaluate"])
    for name, value in fact["evaluate"].items():
        assert evaluated[name] == pytest.approx(value, rel=1e-5, abs=1e-6), name


@needs_fixtures
@pytest.mark.parametrize("case", sorted(BUILD))
def test_keras_files_load_and_round_trip(tmp_path, case):
    """Keras's .keras file loads (initial_state read from the call's kwargs) and gives
    Keras's predictions; tinyann's own file reads back the same."""
    fact = FACTS["cases"][case]
    ref, xs, ys, preds, sw = _case_data(case)
    loaded = keras.models.load_model(FIXTURES / f"state_{case}.keras")
    # (a loaded Sequential's layers are built alone: their paths lose "sequential/")
    by_path = {v.path: v.numpy() for v in loaded.weights}
    for k, path in enumerate(fact["paths"]):
        path = path.removeprefix("sequential/")
        np.testing.assert_array_equal(by_path[path], ref[f"trained_{k}"], err_msg=path)
    batch_size = fact["options"].get("batch_size", 16)
    inputs = _one([x[:preds[0].shape[0]] for x in xs])
    got = loaded.predict(inputs, batch_size=batch_size, verbose=0)
    got = got if isinstance(got, list) else [got]
    if case != "stateful_lstm":  # (Keras predicted from the state training left)
        for want, have in zip(preds, got):
            np.testing.assert_allclose(have, want, atol=1e-5)
    if fact["inbound_nodes"]:
        config = loaded.get_config()
        for entry in config["layers"]:
            want = fact["inbound_nodes"][entry["name"]]
            assert [n["kwargs"].get("initial_state") for n in entry["inbound_nodes"]] == [
                n["kwargs"].get("initial_state") for n in want], entry["name"]
    path = tmp_path / "again.keras"
    if case == "stateful_lstm":
        loaded.reset_states()
    loaded.save(path)
    # the build configs Keras reads back (a decoder's shapes_dict with its states)
    ours, theirs = (_layer_entries(p) for p in (path, FIXTURES / f"state_{case}.keras"))
    assert {k: v.get("build_config") for k, v in ours.items()} == {
        k: v.get("build_config") for k, v in theirs.items()}
    again = keras.models.load_model(path)
    if case == "stateful_lstm":
        loaded.reset_states()
    expected = loaded.predict(inputs, batch_size=batch_size, verbose=0)
    result = again.predict(inputs, batch_size=batch_size, verbose=0)
    for want, have in zip(expected if isinstance(expected, list) else [expected],
                          result if isinstance(result, list) else [result]):
        np.testing.assert_array_equal(have, want)


def test_gradient_tape_through_states(reference_float64):
    """Eager calls on a GradientTape: ``return_state`` outputs and ``initial_state``
    inputs are differentiated (the states' and weights' gradients, numerically)."""
    from tinyann import ops
    from tinyann.autodiff import GradientTape

    rng = np.random.default_rng(8)
    lstm = layers.LSTM(3, return_sequences=True, return_state=True)
    x = rng.normal(size=(2, 4, 2))
    h0, c0 = rng.normal(size=(2, 3)), rng.normal(size=(2, 3))
    lstm.build(x.shape)
    _perturbed(lstm, rng)
    g_seq, g_c = rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 3))

    def loss_of(h0_, c0_):
        seq, _, c = lstm(x, initial_state=[h0_, c0_])
        return ops.sum(seq * g_seq) + ops.sum(c * g_c)

    h0_t, c0_t = ops.convert_to_tensor(h0), ops.convert_to_tensor(c0)
    with GradientTape() as tape:
        tape.watch(h0_t)
        tape.watch(c0_t)
        loss = loss_of(h0_t, c0_t)
    grads = tape.gradient(loss, [h0_t, c0_t, *lstm.trainable_weights])

    def value():
        return float(np.asarray(loss_of(h0, c0)))

    check = reference_float64
    check.assert_close(np.asarray(grads[0]), check.numerical_grad(value, h0))
    check.assert_close(np.asarray(grads[1]), check.numerical_grad(value, c0))
    for v, grad in zip(lstm.trainable_weights, grads[2:]):
        check.assert_close(np.asarray(grad), check.numerical_grad(value, v.value))


def test_clone_model_keeps_initial_state_as_a_keyword():
    enc_in, dec_in = keras.Input((4, 3)), keras.Input((3, 2))
    _, h = layers.GRU(3, return_state=True)(enc_in)
    seq = layers.GRU(3, return_sequences=True)(dec_in, initial_state=h)
    model = keras.Model([enc_in, dec_in], seq)
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    rng = np.random.default_rng(9)
    xs = [rng.normal(size=(2, 4, 3)).astype("float32"),
          rng.normal(size=(2, 3, 2)).astype("float32")]
    np.testing.assert_array_equal(clone.predict(xs, verbose=0), model.predict(xs, verbose=0))
    decoder = clone.get_config()["layers"][-1]
    assert decoder["inbound_nodes"][0]["kwargs"]["initial_state"]["config"][
        "keras_history"][2] == 1  # the encoder's second output, h, as a single tensor


def test_sequential_with_several_outputs_before_a_layer():
    with pytest.raises(ValueError, match='Layer "dense" expects 1 input\\(s\\), but it '
                                         "received 3 input tensors"):
        keras.Sequential([keras.Input((5, 3)), layers.LSTM(4, return_state=True),
                          layers.Dense(1, name="dense")])
    last = keras.Sequential([keras.Input((5, 3)), layers.LSTM(4, return_state=True)])
    assert [o.shape for o in last.predict(np.zeros((2, 5, 3)), verbose=0)] == [(2, 4)] * 3


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_kernel_sets_agree_on_states(use_kernels, kind):
    """The default set (compiled kernels where it has them, the reference
    ``*_with_state`` pair elsewhere) and the reference set: same outputs, states and
    gradients for a return_state layer fed initial states."""
    rng = np.random.default_rng(10)
    x = rng.normal(size=(3, 5, 4)).astype("float32")
    n = 2 if kind == "lstm" else 1
    states = [rng.normal(size=(3, 2)).astype("float32") for _ in range(n)]
    grads = [rng.normal(size=(3, 5, 2)).astype("float32")] + [
        rng.normal(size=(3, 2)).astype("float32") for _ in range(n)]
    layer = KINDS[kind](2, return_sequences=True, return_state=True)
    layer.build(x.shape)
    results = []
    for kernel_set in ("fast", "reference"):
        use_kernels(kernel_set)
        plain = layer.call(x, training=True)
        d_plain = layer.backward([g.copy() for g in grads])
        given = layer.call([x, *states], training=True)
        d_given = layer.backward([g.copy() for g in grads])
        results.append([*plain, d_plain, *given, *d_given])
    for fast, ref in zip(*results):
        np.testing.assert_allclose(fast, ref, atol=2e-6)


def test_one_layer_called_plainly_then_with_states_on_one_tape():
    """The plain call is one node (taped_call), the call with an initial state another
    (taped_call_many): the second must not overwrite the cache the first one's backward
    reads. The tape's gradient equals the two calls' gradients taken apart."""
    from tinyann.autodiff import GradientTape

    rng = np.random.default_rng(4)
    x1 = rng.normal(size=(3, 4, 2)).astype("float32")
    x2 = rng.normal(size=(3, 4, 2)).astype("float32")
    h0 = keras.Variable(rng.normal(size=(3, 5)).astype("float32"))
    layer = layers.GRU(5)
    layer(x1)

    def grads(*calls):
        with GradientTape() as tape:
            total = 0.0
            for call in calls:
                total = total + keras.ops.sum(call() ** 2)
        return tape.gradient(total, layer.trainable_weights + [h0])

    plain = lambda: layer(x1)  # noqa: E731
    with_state = lambda: layer(x2, initial_state=[h0])  # noqa: E731
    both = grads(plain, with_state)
    apart = [a + (0 if b is None else b.numpy() if hasattr(b, "numpy") else b)
             for a, b in zip([np.asarray(g) for g in grads(plain)[:-1]] + [0.0],
                             grads(with_state))]
    for got, expected in zip(both, apart):
        np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=1e-5,
                                   atol=1e-6)
