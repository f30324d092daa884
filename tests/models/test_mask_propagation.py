"""Keras 3's mask propagation through a model's graph: merge layers, a user's layer's
``compute_mask`` and ``call(mask=)``, layers of several inputs getting each input's
mask. Each rule is compared with Keras on tests/fixtures/masks/mask_facts.npz
(tools/keras_reference/make_mask_facts.py)."""

from pathlib import Path

import numpy as np
import pytest

import tinyann as keras
from tinyann import layers, ops

FACTS = np.load(Path(__file__).parents[1] / "fixtures" / "masks" / "mask_facts.npz")


def weights(case, model):
    model.set_weights([FACTS[f"{case}_w{k}"] for k in range(len(model.get_weights()))])


def mha_add_model():
    inp = keras.Input((6,))
    e = layers.Embedding(10, 8, mask_zero=True)(inp)
    a = layers.MultiHeadAttention(num_heads=2, key_dim=4)(e, e)
    n = layers.LayerNormalization()(layers.Add()([e, a]))
    return keras.Model(inp, layers.GlobalAveragePooling1D()(n)), keras.Model(inp, n)


def test_mha_add_layernorm_pooling_averages_unmasked_steps_as_keras():
    model, inner = mha_add_model()
    weights("mha_add", model)
    x = FACTS["mha_add_x"].astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), FACTS["mha_add_y"], atol=1e-5)
    inner.predict(x, verbose=0)
    np.testing.assert_array_equal(inner._graph.output_masks[0], FACTS["mha_add_mask"])
    # not the plain mean over all steps (the rule changes the numbers)
    full = inner.predict(x, verbose=0).mean(axis=1)
    assert np.abs(full - FACTS["mha_add_y"]).max() > 1e-3


def test_multiply_of_two_masked_sequences_as_keras():
    i1, i2 = keras.Input((5,)), keras.Input((5,))
    m = layers.Multiply()([layers.Embedding(10, 4, mask_zero=True)(i1),
                           layers.Embedding(10, 4, mask_zero=True)(i2)])
    model = keras.Model([i1, i2], layers.GlobalAveragePooling1D()(m))
    inner = keras.Model([i1, i2], m)
    weights("multiply", model)
    x = [FACTS["multiply_x1"].astype("float32"), FACTS["multiply_x2"].astype("float32")]
    np.testing.assert_allclose(model.predict(x, verbose=0), FACTS["multiply_y"], atol=1e-5)
    np.testing.assert_allclose(inner.predict(x, verbose=0), FACTS["multiply_seq"], atol=1e-6)
    np.testing.assert_array_equal(inner._graph.output_masks[0], FACTS["multiply_mask"])


def test_concatenate_of_a_masked_and_an_unmasked_sequence_as_keras():
    i1, i2 = keras.Input((5,)), keras.Input((5, 2))
    e1 = layers.Embedding(10, 3, mask_zero=True)(i1)
    features = layers.Concatenate()([e1, i2])
    steps = layers.Concatenate(axis=1)([e1, layers.Dense(3)(i2)])
    model = keras.Model([i1, i2], [layers.GlobalAveragePooling1D()(features),
                                   layers.GlobalAveragePooling1D()(steps)])
    inner = keras.Model([i1, i2], [features, steps])
    weights("concat_model", model)
    x = [FACTS["concat_model_x1"].astype("float32"), FACTS["concat_model_x2"]]
    y1, y2 = model.predict(x, verbose=0)
    np.testing.assert_allclose(y1, FACTS["concat_model_y1"], atol=1e-5)
    np.testing.assert_allclose(y2, FACTS["concat_model_y2"], atol=1e-5)
    inner.predict(x, verbose=0)
    f_mask, s_mask = inner._graph.output_masks
    np.testing.assert_array_equal(f_mask, FACTS["concat_model_mask_features"])
    np.testing.assert_array_equal(s_mask, FACTS["concat_model_mask_steps"])


def cross_model():
    iq, iv = keras.Input((4,)), keras.Input((6,))
    q = layers.Embedding(10, 8, mask_zero=True)(iq)
    v = layers.Embedding(10, 8, mask_zero=True)(iv)
    a = layers.MultiHeadAttention(num_heads=2, key_dim=4)(q, v)
    b = layers.Attention()([q, v])
    model = keras.Model([iq, iv], [layers.GlobalAveragePooling1D()(a),
                                   layers.GlobalAveragePooling1D()(b)])
    return model, keras.Model([iq, iv], [a, b])


def test_cross_attention_gets_the_query_and_the_value_masks_as_keras():
    model, inner = cross_model()
    weights("cross", model)
    x = [FACTS["cross_xq"].astype("float32"), FACTS["cross_xv"].astype("float32")]
    y1, y2 = model.predict(x, verbose=0)
    np.testing.assert_allclose(y1, FACTS["cross_y1"], atol=1e-5)
    np.testing.assert_allclose(y2, FACTS["cross_y2"], atol=1e-5)
    a, b = inner.predict(x, verbose=0)
    np.testing.assert_allclose(a, FACTS["cross_seq_mha"], atol=1e-5)
    np.testing.assert_allclose(b, FACTS["cross_seq_att"], atol=1e-5)
    np.testing.assert_array_equal(inner._graph.output_masks[0], FACTS["cross_mask_mha"])


class TransformerEncoder(keras.layers.Layer):
    def __init__(self, embed_dim, dense_dim, num_heads, **kwargs):
        super().__init__(**kwargs)
        self.attention = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.dense_proj = keras.Sequential([layers.Dense(dense_dim, activation="relu"),
                                            layers.Dense(embed_dim)])
        self.layernorm_1 = layers.LayerNormalization()
        self.layernorm_2 = layers.LayerNormalization()

    def call(self, inputs, mask=None):
        padding_mask = None
        if mask is not None:
            padding_mask = ops.expand_dims(mask, axis=1)
        attention_output = self.attention(inputs, inputs, attention_mask=padding_mask)
        proj_input = self.layernorm_1(inputs + attention_output)
        proj_output = self.dense_proj(proj_input)
        return self.layernorm_2(proj_input + proj_output)


class PositionalEmbedding(keras.layers.Layer):
    def __init__(self, sequence_length, input_dim, output_dim, **kwargs):
        super().__init__(**kwargs)
        self.token_embeddings = layers.Embedding(input_dim, output_dim)
        self.position_embeddings = layers.Embedding(sequence_length, output_dim)

    def call(self, inputs):
        length = ops.shape(inputs)[-1]
        positions = ops.arange(0, length, 1)
        return self.token_embeddings(inputs) + self.position_embeddings(positions)

    def compute_mask(self, inputs, mask=None):
        return ops.not_equal(inputs, 0)


def book_model(rate=0.5):
    inp = keras.Input((8,))
    h = PositionalEmbedding(8, 12, 8)(inp)
    h = TransformerEncoder(8, 16, 2)(h)
    h = layers.Dropout(rate)(layers.GlobalMaxPooling1D()(h))
    model = keras.Model(inp, layers.Dense(1, activation="sigmoid")(h))
    weights("book", model)
    return model


def test_book_transformer_encoder_gets_the_positional_embedding_mask():
    model = book_model()
    x = FACTS["book_x"].astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), FACTS["book_pred"], atol=1e-5)


def test_book_transformer_trains_as_keras_with_the_mask():
    model = book_model(rate=0.0)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy")
    x, y = FACTS["book_x"].astype("float32"), FACTS["book_y"]
    model.fit(x, y, epochs=3, batch_size=len(x), shuffle=False, verbose=0)
    for k, w in enumerate(model.get_weights()):
        np.testing.assert_allclose(w, FACTS[f"book_trained{k}"], atol=1e-5)


def test_book_layers_in_a_sequential_get_the_mask():
    model = keras.Sequential([keras.Input((8,)), PositionalEmbedding(8, 12, 8),
                              TransformerEncoder(8, 16, 2), layers.GlobalMaxPooling1D(),
                              layers.Dropout(0.5), layers.Dense(1, activation="sigmoid")])
    weights("book", model)
    x = FACTS["book_x"].astype("float32")
    np.testing.assert_allclose(model.predict(x, verbose=0), FACTS["book_pred"], atol=1e-5)


class BookModel(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.embed = PositionalEmbedding(8, 12, 8)
        self.encoder = TransformerEncoder(8, 16, 2)
        self.pool = layers.GlobalMaxPooling1D()
        self.drop = layers.Dropout(0.5)
        self.out = layers.Dense(1, activation="sigmoid")

    def call(self, inputs, training=False):
        h = self.pool(self.encoder(self.embed(inputs)))
        return self.out(self.drop(h, training=training))


def test_book_layers_in_a_subclassed_model_get_the_mask_in_predict_and_calls():
    model = BookModel()
    x = FACTS["book_x"].astype("float32")
    model.predict(x[:1], verbose=0)   # builds it
    weights("book", model)
    np.testing.assert_allclose(model.predict(x, verbose=0), FACTS["book_pred"], atol=1e-5)
    np.testing.assert_allclose(np.asarray(model(x)), FACTS["book_pred"], atol=1e-5)


def test_eager_layer_calls_carry_keras_masks():
    from tinyann.layers.keras_masks import get_keras_mask

    x = FACTS["mha_add_x"].astype("float32")
    emb = layers.Embedding(10, 8, mask_zero=True)
    e = emb(x)
    np.testing.assert_array_equal(get_keras_mask(e), x != 0)
    # a layer that supports masking passes it on; MultiHeadAttention reads its query's
    # and value's, puts the query's on its output and (as Keras) takes theirs off
    n = layers.LayerNormalization()(e)
    np.testing.assert_array_equal(get_keras_mask(n), x != 0)
    a = layers.MultiHeadAttention(num_heads=2, key_dim=4)(n, n)
    np.testing.assert_array_equal(get_keras_mask(a), x != 0)
    assert get_keras_mask(n) is None
    # the book's PositionalEmbedding (a user's compute_mask) called eagerly
    pe = PositionalEmbedding(8, 12, 8)
    ids = FACTS["book_x"].astype("float32")
    np.testing.assert_array_equal(get_keras_mask(pe(ids)), ids != 0)
    # a merge of two masked tensors
    s = layers.Add()([emb(x), emb(x)])
    np.testing.assert_array_equal(get_keras_mask(s), x != 0)


def test_book_model_on_a_gradient_tape_matches_its_fit_step():
    from tinyann.autodiff import GradientTape

    model = book_model(rate=0.0)
    x, y = FACTS["book_x"].astype("float32"), FACTS["book_y"][:, None]
    loss_fn = keras.losses.BinaryCrossentropy()
    with GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
    grads = [np.asarray(g) for g in tape.gradient(loss, model.trainable_weights)]
    model.compile(optimizer=keras.optimizers.SGD(1.0), loss="binary_crossentropy")
    before = [np.array(w.numpy()) for w in model.trainable_weights]
    model.train_on_batch(x, y)
    for b, w, g in zip(before, model.trainable_weights, grads):
        np.testing.assert_allclose(b - np.array(w.numpy()), g, rtol=1e-4, atol=1e-6)
    # and after one step of fit, the first SGD step of Keras's fit (3 steps compared above)
    assert any(np.abs(g).max() > 0 for g in grads)


def test_masked_graph_gradients_match_numerical(gradcheck):
    keras.utils.set_random_seed(0)
    model, _ = mha_add_model()
    x = np.array([[1, 2, 3, 0, 0, 0], [4, 5, 0, 0, 0, 0]], "float64")
    upstream = np.random.default_rng(1).normal(size=(2, 8))
    graph = model._graph
    graph.forward([x], training=True)
    assert graph.output_masks[0] is None   # pooled: no mask leaves the model
    graph.backward([upstream])
    for w in model.trainable_weights[:3]:
        analytic = np.array(w.grad)

        def loss():
            return float(np.sum(graph.forward([x], training=False)[0] * upstream))

        gradcheck.assert_close(analytic, gradcheck.numerical_grad(loss, w.value), rtol=1e-5)


@pytest.mark.parametrize("second_masked", [True, False])
def test_a_merge_mask_reaching_the_output_masks_the_loss(second_masked):
    i1, i2 = keras.Input((5,)), keras.Input((5,))
    e1 = layers.Embedding(10, 4, mask_zero=True)(i1)
    e2 = layers.Embedding(10, 4, mask_zero=second_masked)(i2)
    model = keras.Model([i1, i2], layers.Dense(1)(layers.Add()([e1, e2])))
    # Keras: the OR of the masks when both have one, else no mask
    assert model._graph.masked_outputs == [second_masked]
    x = [np.array([[1, 2, 0, 0, 0]], "float32"), np.array([[3, 0, 0, 0, 0]], "float32")]
    model.predict(x, verbose=0)
    mask = model._graph.output_masks[0]
    if second_masked:
        np.testing.assert_array_equal(mask, (x[0] != 0) | (x[1] != 0))
    else:
        assert mask is None
