"""Embedding, SimpleRNN, LSTM and GRU: Keras's arguments, shapes, weights and configs;
gradient checks of the layers; parity with real Keras 3 after 10 training steps;
Keras-made files loaded and tinyann's files read back (fixtures:
tools/keras_reference/make_recurrent_fixtures.py)."""

import json
import warnings
from pathlib import Path

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers

from .conftest import assert_trains_as_keras, check_layer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras" / "recurrent"
FACTS = json.loads((FIXTURES / "facts.json").read_text(encoding="utf-8"))
STEPS, VOCAB = 12, 30
# keys Keras 3.15 writes and tinyann leaves out (tests/saving/test_saving_config.py)
NEWER_KERAS_KEYS = {"quantization_config", "input_axes", "output_axes"}


def _without_newer_keys(config):
    if isinstance(config, dict):
        return {k: _without_newer_keys(v) for k, v in config.items()
                if k not in NEWER_KERAS_KEYS}
    return config


def build(case):
    """The model of fixture ``case``, as make_recurrent_fixtures.py builds it."""
    if case == "simple_rnn_onehot":
        body = [keras.Input((STEPS, 20)), layers.SimpleRNN(8)]
    else:
        masked = case.endswith("_mask")
        case = case.replace("_mask", "")
        body = [keras.Input((STEPS,)), layers.Embedding(VOCAB, 16, mask_zero=masked)]
        body += {"simple_rnn": lambda: [layers.SimpleRNN(8)], "lstm": lambda: [layers.LSTM(8)],
                 "gru": lambda: [layers.GRU(8)],
                 "gru_reset_before": lambda: [layers.GRU(8, reset_after=False)],
                 "stacked": lambda: [layers.LSTM(8, return_sequences=True), layers.LSTM(8)],
                 }[case]()
    model = keras.Sequential(body + [layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-2),
                  loss="binary_crossentropy", metrics=["accuracy"])
    return model


@pytest.mark.parametrize("case", sorted(FACTS["cases"]))
def test_weights_after_10_steps_match_keras(case):
    ref = np.load(FIXTURES / f"{case}.npz")
    assert_trains_as_keras(build(case), ref, FACTS["cases"][case]["weights"])


@pytest.mark.parametrize("case", sorted(FACTS["cases"]))
def test_paths_configs_and_summary_match_keras(case, capsys):
    facts = FACTS["cases"][case]
    keras.backend.clear_session()
    model = build(case)
    assert [v.path for v in model.weights] == facts["paths"]
    for layer, config in zip(model.layers, facts["configs"]):
        assert layer.get_config() == _without_newer_keys(config), layer.name
    model.summary()
    assert capsys.readouterr().out == facts["summary"]


@pytest.mark.parametrize("case", ["lstm", "gru", "simple_rnn_onehot"])
@pytest.mark.parametrize("suffix", [".keras", ".h5"])
def test_keras_made_files_load_and_predict_as_keras(case, suffix):
    ref = np.load(FIXTURES / f"{case}.npz")
    model = keras.models.load_model(FIXTURES / f"{case}{suffix}")
    np.testing.assert_allclose(model.predict(ref["x"][:20], verbose=0), ref["pred"], atol=1e-5)
    weights_only = build(case)
    weights_only.load_weights(FIXTURES / f"{case}.weights.h5")
    np.testing.assert_allclose(weights_only.predict(ref["x"][:20], verbose=0), ref["pred"],
                               atol=1e-5)


@pytest.mark.parametrize("case", ["stacked", "gru_reset_before", "simple_rnn"])
@pytest.mark.parametrize("suffix", [".keras", ".h5", ".weights.h5"])
def test_files_round_trip(tmp_path, case, suffix):
    ref = np.load(FIXTURES / f"{case}.npz")
    model = build(case)
    model.fit(ref["x"], ref["y"], batch_size=16, epochs=1, verbose=0)
    path = tmp_path / f"m{suffix}"
    expected = model.predict(ref["x"][:10], verbose=0)
    if suffix == ".weights.h5":
        model.save_weights(path)
        again = build(case)
        again.load_weights(path)
    else:
        model.save(path)
        again = keras.models.load_model(path)
    np.testing.assert_array_equal(again.predict(ref["x"][:10], verbose=0), expected)


# ------------------------------------------------------------------ gradients
@pytest.mark.parametrize("layer", [
    lambda: layers.SimpleRNN(3, return_sequences=True),
    lambda: layers.SimpleRNN(3, go_backwards=True),
    lambda: layers.LSTM(3),
    lambda: layers.LSTM(2, return_sequences=True, go_backwards=True),
    lambda: layers.GRU(3),
    lambda: layers.GRU(2, reset_after=False, return_sequences=True),
    lambda: layers.LSTM(2, use_bias=False),
], ids=["rnn_seq", "rnn_backwards", "lstm", "lstm_seq_backwards", "gru", "gru_before",
        "lstm_no_bias"])
def test_layer_gradients(gradcheck, use_kernels, layer):
    # the reference kernels: the compiled set's tanh is a float32 approximation (3.4e-7)
    use_kernels("reference")
    rng = np.random.default_rng(0)
    lay = layer()
    lay.dtype = "float64"
    x = rng.normal(size=(2, 4, 3))
    lay.build(x.shape)
    lay.cell.dtype = "float64"
    for v in lay.weights:
        v.assign(v.numpy().astype(np.float64) + rng.normal(scale=0.1, size=v.shape))
    check_layer(gradcheck, lay, x, rng)


def test_embedding_gradient_and_lookup(gradcheck):
    rng = np.random.default_rng(1)
    emb = layers.Embedding(7, 3)
    ids = np.array([[1, 2, 2], [6, 0, 1]])
    out = emb(ids)
    np.testing.assert_array_equal(out, emb.embeddings.numpy()[ids])
    emb(ids, training=True)
    g = rng.normal(size=(2, 3, 3)).astype(np.float32)
    emb.backward(g)
    expected = np.zeros((7, 3), np.float32)
    np.add.at(expected, ids.ravel(), g.reshape(-1, 3))
    np.testing.assert_allclose(emb.embeddings.grad, expected, rtol=1e-6)


# ------------------------------------------------------------------ behaviour
def test_defaults_as_keras():
    lstm = layers.LSTM(4)
    lstm.build((None, 5, 3))
    bias = lstm.cell.bias.numpy()
    np.testing.assert_array_equal(bias, [0] * 4 + [1] * 4 + [0] * 8)  # unit_forget_bias
    u = lstm.cell.recurrent_kernel.numpy()  # orthogonal: (4, 16) with orthonormal rows
    np.testing.assert_allclose(u @ u.T, np.eye(4), atol=1e-5)
    gru = layers.GRU(4)
    gru.build((None, 5, 3))
    assert gru.cell.bias.shape == (2, 12)
    emb = layers.Embedding(10, 4)
    emb.build((None, 3))
    assert np.abs(emb.embeddings.numpy()).max() <= 0.05


def test_output_shapes_and_go_backwards():
    x = np.random.default_rng(2).normal(size=(3, 6, 4)).astype(np.float32)
    seq = layers.SimpleRNN(5, return_sequences=True)
    assert seq(x).shape == (3, 6, 5)
    last = layers.SimpleRNN(5)
    last.build(x.shape)
    last.set_weights(seq.get_weights())
    np.testing.assert_allclose(last(x), seq(x)[:, -1], rtol=1e-6)
    back = layers.SimpleRNN(5, go_backwards=True)
    back.build(x.shape)
    back.set_weights(seq.get_weights())
    np.testing.assert_allclose(back(x), seq(x[:, ::-1])[:, -1], rtol=1e-6)


def test_dropout_only_in_training_and_seeded():
    x = np.ones((4, 5, 3), np.float32)
    a, b = layers.LSTM(3, dropout=0.5, recurrent_dropout=0.3, seed=7), layers.LSTM(3, seed=7)
    a.build(x.shape)
    b.build(x.shape)
    b.set_weights(a.get_weights())
    np.testing.assert_array_equal(a(x), b(x))  # inference: no dropout
    assert not np.allclose(a(x, training=True), b(x, training=True))
    c = layers.LSTM(3, dropout=0.5, recurrent_dropout=0.3, seed=7)
    c.build(x.shape)
    c.set_weights(a.get_weights())
    a2 = layers.LSTM(3, dropout=0.5, recurrent_dropout=0.3, seed=7)
    a2.build(x.shape)
    a2.set_weights(a.get_weights())
    np.testing.assert_array_equal(c(x, training=True), a2(x, training=True))


def test_input_length_is_accepted_with_keras_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        emb = layers.Embedding(500, 16, input_length=100)
    assert any("input_length" in str(w.message) for w in caught)
    assert "input_length" not in emb.get_config()


def test_textbook_forms_build():
    m1 = keras.Sequential([layers.SimpleRNN(8, input_shape=(100, 200)),
                           layers.Dense(1, activation="sigmoid")])
    m2 = keras.Sequential([layers.Embedding(500, 16, input_shape=(100,)), layers.LSTM(8),
                           layers.Dense(1, activation="sigmoid")])
    assert m1.count_params() == 200 * 8 + 8 * 8 + 8 + 9  # 1,681, as the book prints
    assert m2.count_params() == 8809


@pytest.mark.parametrize("make,match", [
    (lambda: layers.LSTM(0), "units"),
    (lambda: layers.GRU(4, dropout=1.5), "dropout"),
    (lambda: layers.Embedding(0, 4), "input_dim"),
    (lambda: layers.LSTM(4, kernel_constraint="max_norm"), "kernel_constraint"),
])
def test_bad_arguments(make, match):
    with pytest.raises((ValueError, NotImplementedError), match=match):
        make()


def test_bad_inputs():
    lstm = layers.LSTM(3)
    with pytest.raises(ValueError, match="expected ndim=3"):
        lstm(np.zeros((2, 4), np.float32))
    emb = layers.Embedding(5, 2)
    with pytest.raises(ValueError, match=r"ids must be in \[0, 5\)"):
        emb(np.array([[1, 5]]))
    with pytest.raises(ValueError, match="integer ids"):
        emb(np.array([[1.5, 2.0]]))


def test_learns_a_sequence_signal():
    """A sum-of-signs signal spread over the sequence: LSTM and GRU learn it."""
    rng = np.random.default_rng(3)
    x = rng.integers(1, 40, (600, 15))
    y = ((x < 20).sum(axis=1) > 7).astype("int64")
    for rnn in (layers.LSTM(8), layers.GRU(8)):
        keras.utils.set_random_seed(0)
        model = keras.Sequential([keras.Input((15,)), layers.Embedding(40, 8), rnn,
                                  layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        history = model.fit(x[:500], y[:500], epochs=15, batch_size=32, verbose=0)
        assert history.history["accuracy"][-1] > 0.85, rnn.name
        assert model.evaluate(x[500:], y[500:], verbose=0)[1] > 0.8


def test_frozen_call_records_without_dropout():
    """An LSTM called with training=False inside a model runs without dropout in fit
    (Keras's), and still back-propagates."""
    x = np.random.default_rng(5).normal(size=(4, 6, 3)).astype(np.float32)
    lstm = layers.LSTM(3, dropout=0.5, recurrent_dropout=0.5, return_sequences=True)
    lstm.build(x.shape)
    frozen = lstm._frozen_call(x)
    np.testing.assert_array_equal(frozen, lstm(x))
    dx = lstm.backward(np.ones_like(frozen))
    assert dx.shape == x.shape and np.all(np.isfinite(lstm.cell.kernel.grad))
    inputs = keras.Input((6, 3))
    model = keras.Model(inputs, layers.Dense(1)(layers.LSTM(2, dropout=0.5)(inputs,
                                                                             training=False)))
    model.compile("sgd", "mse")
    model.fit(x, np.zeros(4), verbose=0)  # the frozen step trains the LSTM's weights


def test_masked_steps_keep_state_in_a_model():
    """Pre-padded reviews: with mask_zero the padding does not move the state."""
    keras.utils.set_random_seed(2)
    model = keras.Sequential([keras.Input((6,)), layers.Embedding(9, 4, mask_zero=True),
                              layers.GRU(3, return_sequences=True), layers.LSTM(2)])
    short = np.array([[0, 0, 0, 3, 4, 5]])
    shorter = np.array([[0, 0, 0, 0, 4, 5]])
    unpadded = keras.Sequential([keras.Input((3,)), layers.Embedding(9, 4),
                                 layers.GRU(3, return_sequences=True), layers.LSTM(2)])
    unpadded.set_weights(model.get_weights())
    np.testing.assert_allclose(model.predict(short, verbose=0),
                               unpadded.predict(short[:, 3:], verbose=0), atol=1e-6)
    assert not np.allclose(model.predict(short, verbose=0), model.predict(shorter, verbose=0))


def test_a_first_recurrent_layer_skips_dx_and_trains_the_same():
    """The model tells its first layer that nothing needs dL/dinput (Dense does the same)."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(12, 5, 4)).astype("float32")
    y = rng.integers(0, 2, 12)

    def train(with_dx):
        keras.utils.set_random_seed(1)
        model = keras.Sequential([keras.Input((5, 4)), keras.layers.LSTM(3),
                                  keras.layers.Dense(1, activation="sigmoid")])
        model.compile(optimizer="adam", loss="binary_crossentropy")
        assert model.layers[0]._needs_input_grad is False
        if with_dx:
            model.layers[0]._needs_input_grad = True
        model.fit(x, y, batch_size=4, epochs=2, verbose=0)
        return model

    skipped, computed = train(False), train(True)
    for a, b in zip(skipped.get_weights(), computed.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert computed.layers[0].backward(np.ones((4, 3), "float32")).shape == (4, 5, 4)
    assert skipped.layers[0].backward(np.ones((4, 3), "float32")) is None


def _padded_ids():
    rng = np.random.default_rng(3)
    x = rng.integers(1, 30, size=(12, 9))
    for i, length in enumerate(rng.integers(2, 9, size=12)):
        x[i, length:] = 0  # padding at the end, masked by Embedding(mask_zero=True)
    return x, rng.standard_normal((12, 1)).astype("float32")


@pytest.mark.parametrize("wrap", [False, True])
def test_a_masked_model_called_with_training_false_keeps_its_masks_in_fit(wrap):
    """A text model called with ``training=False`` inside another (Keras's frozen
    call) still masks the padding while ``fit`` trains around it: the loss a training
    step reports equals ``evaluate``'s when the learning rate is 0."""
    x, y = _padded_ids()
    recurrent = layers.LSTM(4)
    inner = keras.Sequential([keras.Input((9,)), layers.Embedding(30, 3, mask_zero=True),
                              layers.Bidirectional(recurrent) if wrap else recurrent])
    inputs = keras.Input((9,))
    outer = keras.Model(inputs, layers.Dense(1)(inner(inputs, training=False)))
    outer.compile(optimizer=keras.optimizers.SGD(learning_rate=0.0), loss="mse")
    trained = outer.train_on_batch(x, y)
    np.testing.assert_allclose(trained, outer.evaluate(x, y, verbose=0), rtol=1e-6)
    unmasked = keras.Sequential([keras.Input((9,)), layers.Embedding(30, 3),
                                 layers.Bidirectional(layers.LSTM(4)) if wrap
                                 else layers.LSTM(4)])
    unmasked.set_weights(inner.get_weights())
    assert not np.allclose(unmasked.predict(x, verbose=0), inner.predict(x, verbose=0))


def test_a_layer_called_with_training_false_in_a_masked_graph_stays_in_inference():
    x, _ = _padded_ids()
    inputs = keras.Input((9,))
    h = layers.LSTM(6, return_sequences=True)(layers.Embedding(30, 4, mask_zero=True)(inputs))
    out = layers.Dropout(0.9)(h, training=False)
    model = keras.Model(inputs, layers.LSTM(3)(out))
    np.testing.assert_allclose(np.asarray(model(x, training=True)),
                               model.predict(x, verbose=0), rtol=1e-6)
