"""Bidirectional and TimeDistributed: gradient checks, shapes, configs, errors, and
parity with real Keras 3 after 10 training steps (weights, paths, summaries, a
Keras-made .keras file; fixtures: tools/keras_reference/make_wrapper_fixtures.py)."""

import json
from pathlib import Path

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers

from .conftest import assert_trains_as_keras, check_layer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "keras" / "wrappers"
FACTS = json.loads((FIXTURES / "facts.json").read_text(encoding="utf-8"))
STEPS, VOCAB = 12, 30


def build(case):
    """The model of fixture ``case``, as make_wrapper_fixtures.py builds it."""
    keras.backend.clear_session()  # Keras's names: sequential, embedding, ...
    L = layers
    body = {
        "bidi_lstm": lambda: [keras.Input((STEPS,)), L.Embedding(VOCAB, 16),
                              L.Bidirectional(L.LSTM(8)), L.Dense(1, activation="sigmoid")],
        "bidi_gru_ave_mask": lambda: [
            keras.Input((STEPS,)), L.Embedding(VOCAB, 16, mask_zero=True),
            L.Bidirectional(L.GRU(4), merge_mode="ave"), L.Dense(1, activation="sigmoid")],
        "bidi_stacked_sum_mask": lambda: [
            keras.Input((STEPS,)), L.Embedding(VOCAB, 16, mask_zero=True),
            L.Bidirectional(L.LSTM(4, return_sequences=True), merge_mode="sum"), L.LSTM(4),
            L.Dense(1, activation="sigmoid")],
        "bidi_seq_mul_time_distributed": lambda: [
            keras.Input((STEPS, 20)),
            L.Bidirectional(L.SimpleRNN(4, return_sequences=True), merge_mode="mul"),
            L.TimeDistributed(L.Dense(1, activation="sigmoid"))],
    }[case]()
    model = keras.Sequential(body)
    model.compile(optimizer=keras.optimizers.RMSprop(learning_rate=1e-2),
                  loss="binary_crossentropy")
    return model


# ------------------------------------------------------------------ Keras parity
@pytest.mark.parametrize("case", sorted(FACTS["cases"]))
def test_weights_after_10_steps_match_keras(case):
    ref = np.load(FIXTURES / f"{case}.npz")
    model = build(case)
    facts = FACTS["cases"][case]
    assert [v.path for v in model.weights] == facts["paths"]
    assert_trains_as_keras(model, ref, facts["weights"])


@pytest.mark.parametrize("case", sorted(FACTS["cases"]))
def test_summary_counts_and_shapes_match_keras(case, capsys):
    build(case).summary()
    ours = capsys.readouterr().out
    keras_rows = [line for line in FACTS["cases"][case]["summary"].splitlines()
                  if line.startswith("│") or "params" in line]
    for line in keras_rows:
        assert line in ours, line


@pytest.mark.parametrize("case", sorted(FACTS["cases"]))
def test_keras_made_file_loads(case):
    ref = np.load(FIXTURES / f"{case}.npz")
    model = keras.models.load_model(FIXTURES / f"{case}.keras")
    for got, k in zip(model.get_weights(), range(FACTS["cases"][case]["weights"])):
        np.testing.assert_array_equal(got, ref[f"trained_{k}"])
    np.testing.assert_allclose(model.predict(ref["x"][:20], verbose=0), ref["pred"],
                               atol=1e-5)


@pytest.mark.parametrize("case", sorted(FACTS["cases"]))
def test_configs_match_keras(case):
    model = build(case)
    configs = FACTS["cases"][case]["configs"]
    for layer, config in zip(model.layers, configs):
        if not isinstance(layer, (layers.Bidirectional, layers.TimeDistributed)):
            continue
        ours = json.loads(json.dumps(layers.serialize(layer)["config"]))
        assert sorted(ours) == sorted(config)
        assert ours.get("merge_mode") == config.get("merge_mode")
        for key in ("layer", "backward_layer"):
            if key in config:
                assert ours[key]["class_name"] == config[key]["class_name"]
                assert ours[key]["config"]["name"] == config[key]["config"]["name"]
                assert (ours[key]["config"].get("go_backwards")
                        == config[key]["config"].get("go_backwards"))
        clone = type(layer).from_config(layer.get_config())
        assert json.dumps(clone.get_config(), sort_keys=True) == json.dumps(
            layer.get_config(), sort_keys=True)


def test_tinyann_file_round_trip(tmp_path):
    ref = np.load(FIXTURES / "bidi_lstm.npz")
    model = build("bidi_lstm")
    model.predict(ref["x"][:2], verbose=0)
    for suffix in (".keras", ".h5", ".weights.h5"):
        path = tmp_path / f"m{suffix}"
        if suffix == ".weights.h5":
            model.save_weights(path)
            loaded = build("bidi_lstm")
            loaded.load_weights(path)
        else:
            model.save(path)
            loaded = keras.models.load_model(path)
        np.testing.assert_array_equal(loaded.predict(ref["x"][:20], verbose=0),
                                      model.predict(ref["x"][:20], verbose=0))


# ------------------------------------------------------------------ gradients
def _float64(layer, x, rng):
    layer.build(x.shape)
    for sub in [layer] + layer._sublayers():
        sub.dtype = "float64"
        for inner in sub._sublayers():
            inner.dtype = "float64"
    for v in layer.weights:
        v.assign(v.numpy().astype(np.float64) + rng.normal(scale=0.1, size=v.shape))


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "ave", "mul"])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("cell", ["SimpleRNN", "LSTM", "GRU"])
def test_bidirectional_gradients(gradcheck, use_kernels, merge_mode, return_sequences,
                                 cell):
    use_kernels("reference")
    rng = np.random.default_rng(0)
    layer = layers.Bidirectional(getattr(layers, cell)(3, return_sequences=return_sequences),
                                 merge_mode=merge_mode)
    x = rng.normal(size=(2, 4, 3))
    _float64(layer, x, rng)
    check_layer(gradcheck, layer, x, rng)


def test_bidirectional_masked_gradients(gradcheck, use_kernels):
    use_kernels("reference")
    rng = np.random.default_rng(1)
    layer = layers.Bidirectional(layers.LSTM(3, return_sequences=True))
    x = rng.normal(size=(2, 5, 3))
    mask = np.array([[0, 0, 1, 1, 1], [1, 1, 1, 1, 1]], bool)
    _float64(layer, x, rng)
    out = layer.call(x, training=True, mask=mask)
    # Keras's zero_output_for_mask: no output at the padded steps
    np.testing.assert_array_equal(out[0, :2], 0)
    g = rng.normal(size=out.shape)
    dx = layer.backward(g.copy())

    def loss():
        return float(np.sum(g * layer.call(x, training=True, mask=mask)))

    gradcheck.assert_close(dx, gradcheck.numerical_grad(loss, x))
    analytic = [v.grad.copy() for v in layer.trainable_weights]
    for v, grad in zip(layer.trainable_weights, analytic):
        gradcheck.assert_close(grad, gradcheck.numerical_grad(loss, v.value))


def test_time_distributed_gradients(gradcheck):
    rng = np.random.default_rng(2)
    layer = layers.TimeDistributed(layers.Dense(3, activation="tanh"))
    x = rng.normal(size=(2, 4, 5))
    _float64(layer, x, rng)
    check_layer(gradcheck, layer, x, rng)


# ------------------------------------------------------------------ behaviour
def test_bidirectional_is_the_two_directions_merged():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(2, 6, 3)).astype(np.float32)
    bi = layers.Bidirectional(layers.GRU(4, return_sequences=True))
    out = bi(x)
    forward = bi.forward_layer(x)
    backward = bi.backward_layer(x)
    np.testing.assert_allclose(out[..., :4], forward, rtol=1e-6)
    # the backward layer read the sequence reversed; its outputs come back in time order
    np.testing.assert_allclose(out[..., 4:], backward[:, ::-1], rtol=1e-6)
    assert bi.forward_layer.name.startswith("forward_gru")
    assert bi.backward_layer.go_backwards and not bi.forward_layer.go_backwards


def test_time_distributed_applies_the_layer_at_every_step():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(3, 5, 4)).astype(np.float32)
    td = layers.TimeDistributed(layers.Dense(2))
    out = td(x)
    assert out.shape == (3, 5, 2)
    for t in range(5):
        np.testing.assert_allclose(out[:, t], td.layer(x[:, t]), rtol=1e-6)
    assert td.compute_output_shape((None, 5, 4)) == (None, 5, 2)


def test_errors_as_keras():
    with pytest.raises(ValueError, match="Invalid merge mode. Received: x"):
        layers.Bidirectional(layers.LSTM(4), merge_mode="x")
    with pytest.raises(ValueError, match="recurrent"):
        layers.Bidirectional(layers.Dense(4))
    with pytest.raises(ValueError, match="different `go_backwards`"):
        layers.Bidirectional(layers.LSTM(4), backward_layer=layers.LSTM(4))
    with pytest.raises(ValueError, match="Layer` instance"):
        layers.TimeDistributed("dense")
    with pytest.raises(ValueError, match="at least 3 dimensions"):
        layers.TimeDistributed(layers.Dense(2)).build((None, 4))
    with pytest.raises(ValueError, match="same `return_state`"):
        layers.Bidirectional(layers.LSTM(4, return_state=True), backward_layer=layers.LSTM(
            4, go_backwards=True))
    with pytest.raises(AttributeError, match="Layer must be stateful."):
        layers.Bidirectional(layers.LSTM(4)).reset_state()


def test_frozen_wrappers_train_in_inference_mode():
    """Called with training=False in a model, the wrappers run without dropout in a
    training step (Keras's frozen mode), and their weights still train."""
    rng = np.random.default_rng(5)
    inputs = keras.Input((6, 3))
    bi = layers.Bidirectional(layers.LSTM(4, dropout=0.5, return_sequences=True))
    td = layers.TimeDistributed(layers.Dropout(0.5))
    x = td(bi(inputs, training=False), training=False)
    outputs = layers.Dense(1, activation="sigmoid")(layers.Flatten()(x))
    model = keras.Model(inputs, outputs)
    model.compile(optimizer="sgd", loss="binary_crossentropy")
    data = rng.normal(size=(8, 6, 3)).astype(np.float32)
    before = [w.copy() for w in model.get_weights()]
    np.testing.assert_allclose(bi._frozen_call(data), bi(data, training=False), rtol=1e-6)
    np.testing.assert_array_equal(td._frozen_call(data), data)
    labels = rng.integers(0, 2, 8)
    expected = model.evaluate(data, labels, verbose=0)
    history = model.fit(data, labels, batch_size=8, epochs=1, verbose=0)
    # one batch: the step's loss is the loss before the update, without dropout
    np.testing.assert_allclose(history.history["loss"][0], expected, rtol=1e-5)
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
