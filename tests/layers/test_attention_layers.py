"""Attention and AdditiveAttention: Keras's numbers (tests/fixtures/attention, made by
tools/keras_reference/make_attention_facts.py), numerical gradients, masks, configs,
training and files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import tinyann as keras

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "attention"


def _layers():
    return {"dot": keras.layers.Attention(),
            "dot_scale": keras.layers.Attention(use_scale=True),
            "concat": keras.layers.Attention(score_mode="concat", use_scale=True),
            "additive": keras.layers.AdditiveAttention(),
            "additive_noscale": keras.layers.AdditiveAttention(use_scale=False)}


@pytest.mark.parametrize("name", list(_layers()))
@pytest.mark.parametrize("causal", [False, True])
def test_same_weights_give_keras_outputs_and_scores(name, causal):
    a = np.load(FIXTURES / "attention_cases.npz")
    layer = _layers()[name]
    layer([a["q"], a["v"], a["k"]])
    layer.set_weights([a[f"{name}_w{i}"] for i in range(len(layer.weights))])
    out, scores = layer([a["q"], a["v"], a["k"]], mask=[a["q_mask"], a["v_mask"]],
                        use_causal_mask=causal, return_attention_scores=True)
    tag = f"{name}_{'causal' if causal else 'plain'}"
    np.testing.assert_allclose(np.asarray(out), a[f"{tag}_output"], atol=1e-5)
    np.testing.assert_allclose(np.asarray(scores), a[f"{tag}_scores"], atol=1e-5)
    np.testing.assert_allclose(np.asarray(layer([a["q"], a["v"]])),
                               a[f"{name}_nokey_output"], atol=1e-5)


def test_weights_names_and_shapes():
    layer = keras.layers.Attention(use_scale=True, score_mode="concat")
    layer([np.ones((1, 2, 3)), np.ones((1, 4, 3))])
    assert [(w.name, w.shape) for w in layer.weights] == [("scale", ()),
                                                          ("concat_score_weight", ())]
    additive = keras.layers.AdditiveAttention()
    additive([np.ones((1, 2, 3)), np.ones((1, 4, 3))])
    assert [(w.name, w.shape) for w in additive.weights] == [("scale", (3,))]


def test_dot_attention_is_softmax_of_q_k_times_v():
    rng = np.random.default_rng(0)
    q, v = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4))
    logits = q @ v.transpose(0, 2, 1)
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    np.testing.assert_allclose(np.asarray(keras.layers.Attention()([q, v])), p @ v,
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", list(_layers()))
@pytest.mark.parametrize("case", ["key_masks_causal", "self", "scores"])
def test_numerical_gradients(gradcheck, name, case):
    rng = np.random.default_rng(2)
    layer = _layers()[name]
    q = rng.normal(size=(2, 3, 4))
    v = rng.normal(size=(2, 4, 4))
    kwargs = {}
    if case == "key_masks_causal":
        arrays = [q, v, rng.normal(size=(2, 4, 4))]
        kwargs = dict(use_causal_mask=True, mask=[np.array([[1, 1, 0], [1, 1, 1]], bool),
                                                  np.array([[1, 0, 1, 1], [1, 1, 1, 0]], bool)])
    elif case == "self":
        arrays = [q, q]
    else:
        arrays = [q, v]
    layer._maybe_build([x.shape for x in arrays])
    for w in layer.weights:  # away from 1, so the scale's gradient is tested
        w.assign(w.numpy() * 0.7 + 0.1)
    with_scores = case == "scores"

    def forward():
        return layer.call(arrays, training=True, return_attention_scores=with_scores,
                          **kwargs)

    first = forward()
    outs = list(first) if with_scores else [first]
    gs = [rng.normal(size=o.shape) for o in outs]
    grads = layer.backward(gs if with_scores else gs[0])
    analytic = [w.grad.copy() for w in layer.trainable_weights]

    def loss():
        got = forward()
        got = list(got) if with_scores else [got]
        return float(sum(np.sum(g * o) for g, o in zip(gs, got)))

    checked = arrays
    if case == "self":
        grads, checked = [grads[0] + grads[1]], [q]
    for x, dx in zip(checked, grads):
        gradcheck.assert_close(dx, gradcheck.numerical_grad(loss, x), rtol=1e-6)
    for w, grad in zip(layer.trainable_weights, analytic):
        gradcheck.assert_close(grad, gradcheck.numerical_grad(loss, w.value), rtol=1e-6)


def test_query_mask_zeroes_rows_and_is_the_output_mask():
    layer = keras.layers.Attention()
    q_mask = np.array([[True, False]])
    out = layer([np.ones((1, 2, 3)), np.ones((1, 4, 3))], mask=[q_mask, None])
    assert np.all(np.asarray(out)[0, 1] == 0) and np.all(np.asarray(out)[0, 0] == 1)
    assert layer.compute_mask(None, [q_mask, None]) is q_mask


@pytest.mark.parametrize("call,message", [
    (lambda layer: layer(np.ones((1, 2, 3))), "must be called on a list"),
    (lambda layer: layer([np.ones((1, 2, 3))]), "length 2 or 3"),
    (lambda layer: layer([np.ones((1, 2, 3))] * 2, mask=np.ones((1, 2))), "mask must be"),
    (lambda layer: layer([np.ones((1, 2, 3)), np.ones((1, 4, 5))]), "same last dimension"),
    (lambda layer: layer([np.ones((1, 2, 3)), np.ones((1, 4, 3)), np.ones((1, 5, 3))]),
     "same number of steps"),
])
def test_bad_calls(call, message):
    with pytest.raises(ValueError, match=message):
        call(keras.layers.Attention())


def test_bad_arguments():
    with pytest.raises(ValueError, match="score_mode"):
        keras.layers.Attention(score_mode="general")
    with pytest.raises(ValueError, match="dropout"):
        keras.layers.AdditiveAttention(dropout=-0.1)


def test_configs_are_keras():
    config = keras.layers.Attention(use_scale=True, dropout=0.2, name="att").get_config()
    assert {k: config[k] for k in ("use_scale", "score_mode", "dropout", "seed")} == {
        "use_scale": True, "score_mode": "dot", "dropout": 0.2, "seed": None}
    additive = keras.layers.AdditiveAttention().get_config()
    assert "score_mode" not in additive and additive["use_scale"] is True
    assert keras.layers.AdditiveAttention.from_config(additive).get_config() == additive


def _seq2seq(layer_class):
    q = keras.Input((3, 4))
    v = keras.Input((5, 4))
    out = layer_class()([q, v], use_causal_mask=True)
    return keras.Model([q, v], keras.layers.Dense(1)(keras.layers.Flatten()(out)))


@pytest.mark.parametrize("layer_class", [keras.layers.Attention,
                                         keras.layers.AdditiveAttention])
def test_trains_and_round_trips_in_a_keras_file(tmp_path, layer_class):
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = [rng.normal(size=(64, 3, 4)).astype("float32"),
         rng.normal(size=(64, 5, 4)).astype("float32")]
    y = x[1][:, :1, 0] * 3  # query step 0 sees value step 0 alone (causal)
    model = _seq2seq(layer_class)
    model.compile(keras.optimizers.Adam(0.02), "mse")
    history = model.fit(x, y, epochs=25, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < 0.3 * history.history["loss"][0]
    model.save(tmp_path / "m.keras")
    node = [e for e in model.get_config()["layers"] if e["class_name"] == layer_class.__name__
            ][0]["inbound_nodes"][0]
    assert node["kwargs"] == {"use_causal_mask": True}
    loaded = keras.models.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(loaded.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-6)


def test_on_a_tape_without_training_there_is_no_dropout():
    from tinyann.autodiff import GradientTape

    rng = np.random.default_rng(4)
    layer = keras.layers.AdditiveAttention(dropout=0.5)
    q, v = rng.normal(size=(2, 3, 4)), rng.normal(size=(2, 5, 4))
    want = np.asarray(layer([q, v]))
    with GradientTape() as tape:
        out, scores = layer([q, v], return_attention_scores=True)
        loss = keras.ops.sum(out * out)
    np.testing.assert_allclose(np.asarray(out), want, rtol=1e-6)
    grads = tape.gradient(loss, layer.trainable_weights)
    assert grads[0] is not None and np.any(np.asarray(grads[0]) != 0)
