"""MultiHeadAttention: Keras's numbers (tests/fixtures/attention, made by
tools/keras_reference/make_attention_facts.py), weights, masks, numerical gradients,
training under fit, configs and files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import tinyann as keras
from tinyann.autodiff import GradientTape

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "attention"


@pytest.fixture(scope="module")
def cases():
    facts = json.loads((FIXTURES / "mha_cases.json").read_text(encoding="utf-8"))
    return facts, np.load(FIXTURES / "mha_cases.npz")


def _keras_layer(fact):
    options = dict(fact["layer"])
    if "attention_axes" in options:
        options["attention_axes"] = tuple(options["attention_axes"])
    return keras.layers.MultiHeadAttention(**options)


CASES = ["self", "cross_key", "causal", "attention_mask", "masks", "axes2d"]


@pytest.mark.parametrize("name", CASES)
def test_same_weights_give_keras_outputs_and_scores(cases, name):
    facts, arrays = cases
    fact = facts[name]
    layer = _keras_layer(fact)
    query, value = arrays[f"{name}_query"], arrays[f"{name}_value"]
    kwargs = {k: arrays[f"{name}_{k}"] for k in fact["inputs"]}
    if fact["use_causal_mask"]:
        kwargs["use_causal_mask"] = True
    layer(query, value, **kwargs)
    layer.set_weights([arrays[f"{name}_w{i}"] for i in range(fact["weight_count"])])
    out, scores = layer(query, value, return_attention_scores=True, **kwargs)
    np.testing.assert_allclose(np.asarray(scores), arrays[f"{name}_scores"], atol=1e-5)
    np.testing.assert_allclose(np.asarray(out), arrays[f"{name}_output"], atol=1e-5)
    plain = layer(query, value, **kwargs)
    np.testing.assert_allclose(np.asarray(plain), arrays[f"{name}_output_plain"], atol=1e-5)


@pytest.mark.parametrize("name", CASES)
def test_weights_have_keras_paths_shapes_and_config(cases, name):
    facts, arrays = cases
    fact = facts[name]
    keras.utils.clear_session()
    layer = _keras_layer(fact)
    query, value = arrays[f"{name}_query"], arrays[f"{name}_value"]
    kwargs = {k: arrays[f"{name}_{k}"] for k in fact["inputs"]}
    layer(query, value, **kwargs)
    # Keras numbered its layers in one session: compare the paths after the layer name
    assert [w.path.split("/", 1)[1] for w in layer.weights] == [
        p.split("/", 1)[1] for p in fact["paths"]]
    assert [w.shape for w in layer.weights] == [
        arrays[f"{name}_w{i}"].shape for i in range(fact["weight_count"])]
    config = layer.get_config()
    want = dict(fact["config"], name=config["name"])
    # Keras 3.15 writes its initializers' EinsumDense-only fields; tinyann's omit them
    want["kernel_initializer"]["config"] = {"seed": None}
    want["output_shape"] = None if want["output_shape"] is None else tuple(
        want["output_shape"])
    assert json.loads(json.dumps(config)) == json.loads(json.dumps(want))
    again = keras.layers.MultiHeadAttention.from_config(config)
    assert again.get_config() == config


def test_scores_and_output_follow_the_formula():
    """softmax(Q K^T / sqrt(key_dim)) V per head, re-derived with plain NumPy."""
    rng = np.random.default_rng(0)
    layer = keras.layers.MultiHeadAttention(2, 3, bias_initializer="random_normal")
    x = rng.normal(size=(2, 4, 5)).astype("float32")
    out, scores = layer(x, x, return_attention_scores=True)
    wq, bq, wk, bk, wv, bv, wo, bo = [w.astype("float64") for w in layer.get_weights()]
    q = np.einsum("btd,dnh->btnh", x, wq) + bq
    k = np.einsum("bsd,dnh->bsnh", x, wk) + bk
    v = np.einsum("bsd,dnh->bsnh", x, wv) + bv
    logits = np.einsum("btnh,bsnh->bnts", q, k) / np.sqrt(3)
    p = np.exp(logits - logits.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    want = np.einsum("bnts,bsnh->btnh", p, v)
    want = np.einsum("btnh,nhd->btd", want, wo) + bo
    np.testing.assert_allclose(np.asarray(scores), p, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(np.asarray(out), want, rtol=1e-4, atol=1e-5)


def test_causal_mask_keeps_the_future_out():
    rng = np.random.default_rng(1)
    layer = keras.layers.MultiHeadAttention(1, 2)
    x = rng.normal(size=(1, 4, 3)).astype("float32")
    _, scores = layer(x, x, use_causal_mask=True, return_attention_scores=True)
    scores = np.asarray(scores)[0, 0]
    assert np.all(scores[np.triu_indices(4, 1)] == 0)
    np.testing.assert_allclose(scores.sum(-1), 1, rtol=1e-6)
    # changing a later step does not change an earlier output
    y = np.asarray(layer(x, x, use_causal_mask=True))
    x2 = x.copy()
    x2[0, 3] += 1.0
    y2 = np.asarray(layer(x2, x2, use_causal_mask=True))
    np.testing.assert_allclose(y2[0, :3], y[0, :3], rtol=1e-6)


def _grad_case(gradcheck, helpers, layer, arrays, kwargs, with_scores=False):
    """Numerical gradients of sum(G * output) [+ sum(H * scores)] for the inputs and
    every weight, through the layer's own backward."""
    rng = np.random.default_rng(7)
    layout = kwargs.pop("layout")
    run_kwargs = dict(kwargs, layout=layout, return_attention_scores=with_scores)

    def forward():
        return layer.call(arrays, training=True, **run_kwargs)

    first = forward()
    outs = list(first) if with_scores else [first]
    gs = [rng.normal(size=o.shape) for o in outs]
    grads = layer.backward(gs if with_scores else gs[0])

    def loss():
        got = forward()
        got = list(got) if with_scores else [got]
        return float(sum(np.sum(g * o) for g, o in zip(gs, got)))

    analytic = [v.grad.copy() for v in layer.trainable_weights]
    checked = arrays
    if arrays[1] is arrays[0]:  # self-attention: one array, two uses
        grads = [grads[0] + grads[1]] + list(grads[2:])
        checked = [arrays[0]] + list(arrays[2:])
    for x, dx in zip(checked, grads):
        if dx is None:
            continue
        gradcheck.assert_close(dx, gradcheck.numerical_grad(loss, x), rtol=1e-6)
    for v, grad in zip(layer.trainable_weights, analytic):
        gradcheck.assert_close(grad, gradcheck.numerical_grad(loss, v.value), rtol=1e-6)
    return grads


@pytest.mark.parametrize("case", ["self", "cross_key", "causal_masks", "attention_mask",
                                  "scores", "axes2d", "output_shape"])
def test_numerical_gradients(gradcheck, helpers, case):
    rng = np.random.default_rng(3)
    options = dict(num_heads=2, key_dim=2, bias_initializer="random_normal")
    q = rng.normal(size=(2, 3, 4))
    v = rng.normal(size=(2, 4, 3))
    kwargs = {"layout": (False, False)}
    if case == "self":
        arrays = [q, q]
    elif case == "cross_key":
        options["value_dim"] = 3
        arrays = [q, v, rng.normal(size=(2, 4, 5))]
        kwargs["layout"] = (True, False)
    elif case == "causal_masks":
        arrays = [q, q]
        kwargs.update(use_causal_mask=True, mask=[np.array([[1, 1, 0], [1, 1, 1]], bool),
                                                  np.array([[1, 0, 1], [1, 1, 1]], bool)])
    elif case == "attention_mask":
        arrays = [q, v, (rng.random((2, 3, 4)) > 0.4).astype("float64")]
        kwargs["layout"] = (False, True)
    elif case == "scores":
        arrays = [q, v]
    elif case == "axes2d":
        options["attention_axes"] = (1, 2)
        q = rng.normal(size=(2, 2, 3, 4))
        arrays = [q, q]
    else:
        options["output_shape"] = (2, 3)
        arrays = [q, v]
    layer = keras.layers.MultiHeadAttention(**options)
    layer._build_layout = kwargs["layout"]
    layer._maybe_build([a.shape for a in arrays])
    grads = _grad_case(gradcheck, helpers, layer, arrays, kwargs, with_scores=case == "scores")
    if case == "attention_mask":
        assert grads[-1] is None


def test_value_mask_from_embedding_reaches_the_layer_in_a_model():
    """Keras's masks: a padded step of the value is never attended to, so changing
    the padding's embedding changes no output."""
    keras.utils.set_random_seed(0)
    inputs = keras.Input((4,))
    embedding = keras.layers.Embedding(6, 4, mask_zero=True)
    e = embedding(inputs)
    a = keras.layers.MultiHeadAttention(2, 2)(e, e)
    model = keras.Model(inputs, a)
    x = np.array([[1, 2, 0, 0], [3, 4, 5, 0]], "float32")
    before = model.predict(x, verbose=0)
    table = embedding.embeddings.numpy()
    table[0] += 5.0
    embedding.embeddings.assign(table)
    after = model.predict(x, verbose=0)
    np.testing.assert_allclose(after[0, :2], before[0, :2], rtol=1e-5)
    np.testing.assert_allclose(after[1, :3], before[1, :3], rtol=1e-5)


@pytest.mark.parametrize("name", ["plain", "masked"])
def test_three_sgd_steps_match_keras(name):
    ref = np.load(FIXTURES / "mha_train.npz")
    keras.utils.set_random_seed(0)
    if name == "plain":
        inputs = keras.Input((5, 4))
        a = keras.layers.MultiHeadAttention(2, 3, name="mha")(inputs, inputs)
        h = keras.layers.LayerNormalization()(keras.layers.Add()([inputs, a]))
        h = keras.layers.GlobalAveragePooling1D()(h)
    else:
        inputs = keras.Input((5,))
        e = keras.layers.Embedding(7, 4, mask_zero=True)(inputs)
        a = keras.layers.MultiHeadAttention(2, 3, name="mha")(e, e, use_causal_mask=True)
        h = keras.layers.GlobalAveragePooling1D()(a)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(h))
    count = int(ref[f"{name}_count"])
    model.set_weights([ref[f"{name}_initial_{k}"] for k in range(count)])
    model.compile(keras.optimizers.SGD(0.1), "binary_crossentropy")
    model.fit(ref[f"{name}_x"], ref["y"], batch_size=8, epochs=1, shuffle=False, verbose=0)
    for k, (got, variable) in enumerate(zip(model.get_weights(), model.weights)):
        np.testing.assert_allclose(got, ref[f"{name}_trained_{k}"], atol=1e-5, rtol=0,
                                   err_msg=variable.path)
    np.testing.assert_allclose(model.predict(ref[f"{name}_x"], verbose=0),
                               ref[f"{name}_predictions"], atol=1e-5)


def test_transformer_encoder_classifier_learns_under_fit():
    """Embedding -> MHA + residual + LayerNormalization -> Dense block ->
    GlobalAveragePooling1D -> Dense: is token 5 in the (padded) sequence?"""
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(0)
    x = rng.integers(1, 12, size=(384, 8))
    for i, n in enumerate(rng.integers(3, 9, size=len(x))):
        x[i, n:] = 0
    y = np.array([int(5 in row) for row in x], "float32")
    inputs = keras.Input((8,))
    e = keras.layers.Embedding(12, 16, mask_zero=True)(inputs)
    a = keras.layers.MultiHeadAttention(2, 8, dropout=0.1)(e, e)
    h = keras.layers.LayerNormalization()(keras.layers.Add()([e, a]))
    f = keras.layers.Dense(16, activation="relu")(h)
    h = keras.layers.LayerNormalization()(keras.layers.Add()([h, keras.layers.Dense(16)(f)]))
    h = keras.layers.GlobalAveragePooling1D()(h)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(h))
    model.compile(keras.optimizers.Adam(0.01), "binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x.astype("float32"), y, epochs=12, batch_size=32, verbose=0)
    assert history.history["accuracy"][0] < 0.9
    assert history.history["accuracy"][-1] > 0.95


def test_gradient_tape_matches_fit_backward():
    rng = np.random.default_rng(5)
    layer = keras.layers.MultiHeadAttention(2, 2)
    q = keras.ops.convert_to_tensor(rng.normal(size=(2, 3, 4)).astype("float32"))
    v = keras.ops.convert_to_tensor(rng.normal(size=(2, 5, 4)).astype("float32"))
    layer(q, v)
    with GradientTape(persistent=True) as tape:
        tape.watch(q)
        out, scores = layer(q, v, return_attention_scores=True)
        loss = keras.ops.sum(out * out) + keras.ops.sum(scores[:, 0])
    dq, *dw = tape.gradient(loss, [q] + layer.trainable_weights)
    o, s = layer.call([np.asarray(q), np.asarray(v)], training=True,
                      return_attention_scores=True, layout=(False, False))
    gs = np.zeros_like(s)
    gs[:, 0] = 1
    want = layer.backward([2 * o, gs])
    np.testing.assert_allclose(np.asarray(dq), want[0], rtol=1e-4, atol=1e-6)
    for got, variable in zip(dw, layer.trainable_weights):
        np.testing.assert_allclose(np.asarray(got), variable.grad, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("kwargs,error,message", [
    (dict(num_heads=0, key_dim=2), ValueError, "num_heads"),
    (dict(num_heads=2, key_dim=-1), ValueError, "key_dim"),
    (dict(num_heads=2, key_dim=2, dropout=1.5), ValueError, "dropout"),
    (dict(num_heads=2, key_dim=2, use_gate=True), NotImplementedError, "use_gate"),
])
def test_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        keras.layers.MultiHeadAttention(**kwargs)


def test_value_and_key_must_share_their_steps():
    layer = keras.layers.MultiHeadAttention(2, 2)
    with pytest.raises(ValueError, match="All dimensions of `value` and `key`"):
        layer(np.zeros((1, 3, 4)), np.zeros((1, 5, 4)), key=np.zeros((1, 4, 4)))
    with pytest.raises(ValueError, match="needs `query` and `value`"):
        keras.layers.MultiHeadAttention(2, 2)(np.zeros((1, 3, 4)))
    built = keras.layers.MultiHeadAttention(2, 2)
    built(np.zeros((1, 3, 4)), np.zeros((1, 5, 4)))
    with pytest.raises(ValueError, match="built for a value with last dimension 4"):
        built(np.zeros((1, 3, 4)), np.zeros((1, 5, 6)))


def test_symbolic_shapes_and_summary():
    q = keras.Input((4, 6))
    v = keras.Input((5, 3))
    layer = keras.layers.MultiHeadAttention(2, 3, output_shape=7)
    out, scores = layer(q, v, return_attention_scores=True)
    assert out.shape == (None, 4, 7) and scores.shape == (None, 2, 4, 5)
    model = keras.Model([q, v], [out, scores])
    # query (6, 2, 3) + (2, 3); key and value (3, 2, 3) + (2, 3); output (2, 3, 7) + (7,)
    assert layer.count_params() == (36 + 6) + 2 * (18 + 6) + (42 + 7)
    got = model.predict([np.ones((2, 4, 6)), np.ones((2, 5, 3))], verbose=0)
    assert got[0].shape == (2, 4, 7) and got[1].shape == (2, 2, 4, 5)


def _cross_model():
    q = keras.Input((4, 6))
    v = keras.Input((5, 3))
    mask = keras.Input((4, 5))
    out = keras.layers.MultiHeadAttention(2, 3, name="mha")(
        q, v, key=v, attention_mask=mask, use_causal_mask=True)
    return keras.Model([q, v, mask], keras.layers.GlobalAveragePooling1D()(out))


def test_keras_file_round_trip_keeps_keys_masks_and_options(tmp_path):
    keras.utils.set_random_seed(2)
    model = _cross_model()
    rng = np.random.default_rng(0)
    data = [rng.normal(size=(2, 4, 6)), rng.normal(size=(2, 5, 3)),
            (rng.random((2, 4, 5)) > 0.3).astype("float32")]
    path = tmp_path / "m.keras"
    model.save(path)
    config = model.get_config()
    node = [entry for entry in config["layers"] if entry["name"] == "mha"][0][
        "inbound_nodes"][0]
    assert len(node["args"]) == 2 and set(node["kwargs"]) == {
        "key", "attention_mask", "use_causal_mask"}
    loaded = keras.models.load_model(path)
    np.testing.assert_allclose(loaded.predict(data, verbose=0),
                               model.predict(data, verbose=0), rtol=1e-6)
    model.save_weights(tmp_path / "m.weights.h5")
    other = _cross_model()
    other.load_weights(tmp_path / "m.weights.h5")
    np.testing.assert_allclose(other.predict(data, verbose=0),
                               model.predict(data, verbose=0), rtol=1e-6)


def test_keras_made_file_loads_and_predicts_the_same():
    model = keras.models.load_model(FIXTURES / "mha_model.keras")
    io = np.load(FIXTURES / "mha_model_io.npz")
    np.testing.assert_allclose(model.predict(io["x"], verbose=0), io["y"], atol=1e-5)
    mha = [layer for layer in model.layers
           if isinstance(layer, keras.layers.MultiHeadAttention)][0]
    assert [w.path.split("/", 1)[1] for w in mha.weights][:2] == ["query/kernel", "query/bias"]


def test_on_a_tape_without_training_no_dropout_and_gradients_flow():
    """A custom loop: `mha(q, v)` on a tape (training=None) runs in inference mode
    (no dropout) and still differentiates."""
    rng = np.random.default_rng(8)
    layer = keras.layers.MultiHeadAttention(2, 2, dropout=0.5)
    x = rng.normal(size=(2, 3, 4)).astype("float32")
    want = np.asarray(layer(x, x))
    with GradientTape() as tape:
        out = layer(x, x)
        loss = keras.ops.sum(out * out)
    np.testing.assert_allclose(np.asarray(out), want, rtol=1e-6)
    grads = tape.gradient(loss, layer.trainable_weights)
    assert all(g is not None and np.any(np.asarray(g) != 0) for g in grads)


def test_called_with_training_false_in_a_model_it_stays_in_inference_mode():
    keras.utils.set_random_seed(3)
    rng = np.random.default_rng(3)
    inputs = keras.Input((4, 3))
    a = keras.layers.MultiHeadAttention(2, 2, dropout=0.9)(inputs, inputs, training=False)
    model = keras.Model(inputs, keras.layers.Dense(1)(keras.layers.Flatten()(a)))
    model.compile(keras.optimizers.SGD(0.05), "mse")
    x = rng.normal(size=(32, 4, 3)).astype("float32")
    y = x.sum(axis=(1, 2))[:, None]
    first = model.evaluate(x, y, verbose=0)
    model.fit(x, y, epochs=10, batch_size=8, verbose=0)
    # with the scores' dropout at 0.9 active the fit could not bring the loss down
    assert model.evaluate(x, y, verbose=0) < 0.5 * first


@pytest.mark.parametrize("dropout,with_scores,zeros", [(0.0, False, False),
                                                       (0.0, True, True),
                                                       (0.1, False, True)])
def test_a_query_row_masked_throughout_as_keras(dropout, with_scores, zeros):
    """Keras's fused kernel (no dropout, no scores asked) lets a row masked throughout
    attend uniformly to every step; its Softmax path (scores asked, or dropout) gives
    that row zero attention: tinyann follows both."""
    rng = np.random.default_rng(9)
    layer = keras.layers.MultiHeadAttention(2, 2, dropout=dropout, use_bias=False)
    q, v = rng.normal(size=(1, 3, 4)), rng.normal(size=(1, 5, 4))
    mask = np.ones((1, 3, 5), bool)
    mask[0, 1] = False
    out = layer(q, v, attention_mask=mask, return_attention_scores=with_scores)
    row = np.asarray(out[0] if with_scores else out)[0, 1]
    if zeros:
        assert np.all(row == 0)
    else:
        wq, wk, wv, wo = layer.get_weights()
        values = np.einsum("bsd,dnh->bsnh", v, wv).mean(axis=1)   # uniform weights
        np.testing.assert_allclose(row, np.einsum("bnh,nhd->bd", values, wo)[0], rtol=1e-5)


# The book's Transformer chapter (Deep Learning with Python): a PositionalEmbedding and
# a TransformerEncoder written as users' layers around MultiHeadAttention.

class TransformerEncoder(keras.layers.Layer):
    def __init__(self, embed_dim, dense_dim, num_heads, **kwargs):
        super().__init__(**kwargs)
        self.embed_dim, self.dense_dim, self.num_heads = embed_dim, dense_dim, num_heads
        self.attention = keras.layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.dense_proj = keras.Sequential([keras.layers.Dense(dense_dim, activation="relu"),
                                            keras.layers.Dense(embed_dim)])
        self.layernorm_1 = keras.layers.LayerNormalization()
        self.layernorm_2 = keras.layers.LayerNormalization()

    def call(self, inputs, mask=None):
        if mask is not None:
            mask = keras.ops.expand_dims(mask, axis=1)
        attention_output = self.attention(inputs, inputs, attention_mask=mask)
        proj_input = self.layernorm_1(inputs + attention_output)
        proj_output = self.dense_proj(proj_input)
        return self.layernorm_2(proj_input + proj_output)

    def get_config(self):
        config = super().get_config()
        config.update(embed_dim=self.embed_dim, num_heads=self.num_heads, dense_dim=self.dense_dim)
        return config

class PositionalEmbedding(keras.layers.Layer):
    def __init__(self, sequence_length, input_dim, output_dim, **kwargs):
        super().__init__(**kwargs)
        self.token_embeddings = keras.layers.Embedding(input_dim, output_dim)
        self.position_embeddings = keras.layers.Embedding(sequence_length, output_dim)
        self.sequence_length, self.input_dim = sequence_length, input_dim
        self.output_dim = output_dim

    def call(self, inputs):
        length = keras.ops.shape(inputs)[-1]
        positions = keras.ops.arange(0, length, 1)
        embedded_tokens = self.token_embeddings(inputs)
        embedded_positions = self.position_embeddings(positions)
        return embedded_tokens + embedded_positions

    def compute_mask(self, inputs, mask=None):
        return keras.ops.not_equal(inputs, 0)



def test_book_transformer_encoder_as_users_layers_trains_under_fit():
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    x = rng.integers(1, 20, size=(256, 10))
    for i, n in enumerate(rng.integers(4, 11, size=len(x))):
        x[i, n:] = 0
    y = np.array([int(7 in row) for row in x], "float32")
    inputs = keras.Input(shape=(10,))
    h = PositionalEmbedding(10, 20, 16)(inputs)
    h = TransformerEncoder(16, 32, 2)(h)
    h = keras.layers.Dropout(0.5)(keras.layers.GlobalMaxPooling1D()(h))
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(h))
    model.compile(optimizer="rmsprop", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(x.astype("float32"), y, epochs=10, batch_size=32, verbose=0)
    assert history.history["accuracy"][0] < 0.8
    assert history.history["accuracy"][-1] > 0.9
