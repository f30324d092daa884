"""Reference facts from real Keras 3 for mask propagation (merge layers, users'
layers with ``compute_mask`` / ``call(mask=)``, multi-input layers' masks).

Runs ONLY in the separate Keras venv (see README.md beside this file); it never
imports tinyann. Writes tests/fixtures/masks/mask_facts.npz, per case ``<case>_<name>``:
the inputs, the weights (``w0``, ``w1``... in ``model.get_weights()`` order), Keras's
outputs and the masks Keras computed (``layer.compute_mask`` and the eager outputs'
``_keras_mask``). Cases:

    merge_<Layer>    compute_mask of Add, Subtract, Multiply, Average, Maximum,
                     Minimum on two masks (``both``) and on a mask and None (``one``)
    concat           Concatenate's compute_mask along the features and the steps
    mha_add          Embedding(mask_zero) -> MHA -> Add -> LayerNorm -> GAP1D
    multiply         Embedding(mask_zero) x2 -> Multiply -> GAP1D (masked values)
    concat_model     Concatenate of a masked and an unmasked sequence -> GAP1D
    cross            MHA(query, value) and Attention([query, value]) whose query and
                     value have different masks -> GAP1D
    book             the book's PositionalEmbedding + TransformerEncoder (users'
                     layers) -> GlobalMaxPooling1D -> Dropout -> Dense: predictions,
                     then 3 full-batch SGD steps of fit (Dropout rate set to 0)

Usage:  /work/kerasenv/bin/python tools/keras_reference/make_mask_facts.py
"""

import os
from pathlib import Path

import numpy as np

os.environ.setdefault("KERAS_BACKEND", "tensorflow")

import keras  # noqa: E402
from keras import layers, ops  # noqa: E402

OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "masks"
facts = {}


def ids(rng, batch, steps, lengths, vocab=10):
    x = rng.integers(1, vocab, size=(batch, steps))
    for i, n in enumerate(lengths):
        x[i, n:] = 0
    return x.astype("int32")


def put(case, **arrays):
    for name, value in arrays.items():
        facts[f"{case}_{name}"] = np.asarray(value)


def put_weights(case, model):
    for k, w in enumerate(model.get_weights()):
        facts[f"{case}_w{k}"] = w


def merge_masks(rng):
    a = rng.random((2, 4)) > 0.4
    b = rng.random((2, 4)) > 0.4
    x = ops.zeros((2, 4, 3))
    put("merge", a=a, b=b)
    for name in ("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum"):
        layer = getattr(layers, name)()
        put(f"merge_{name}", both=ops.convert_to_numpy(layer.compute_mask([x, x], [a, b])))
        assert layer.compute_mask([x, x], [a, None]) is None


def concat_masks(rng):
    a = rng.random((2, 4)) > 0.4
    x, y = ops.zeros((2, 4, 3)), ops.zeros((2, 5, 3))
    put("concat", a=a,
        features=ops.convert_to_numpy(layers.Concatenate().compute_mask([x, x], [a, None])),
        steps=ops.convert_to_numpy(layers.Concatenate(axis=1).compute_mask([x, y], [a, None])))


def mha_add(rng):
    keras.utils.set_random_seed(1)
    inp = keras.Input((6,), dtype="int32")
    emb, mha = layers.Embedding(10, 8, mask_zero=True), layers.MultiHeadAttention(2, 4)
    add, norm = layers.Add(), layers.LayerNormalization()
    e = emb(inp)
    n = norm(add([e, mha(e, e)]))
    model = keras.Model(inp, layers.GlobalAveragePooling1D()(n))
    x = ids(rng, 3, 6, [6, 4, 2])
    put_weights("mha_add", model)
    # (eagerly Keras's MHA takes the mask off its query tensor: ask the layers)
    e = emb(x)
    a = mha(e, e)
    mask = add.compute_mask([e, a], [emb.compute_mask(x), a._keras_mask])
    put("mha_add", x=x, y=model.predict(x, verbose=0), mask=ops.convert_to_numpy(mask))


def multiply(rng):
    keras.utils.set_random_seed(2)
    i1, i2 = keras.Input((5,), dtype="int32"), keras.Input((5,), dtype="int32")
    emb1, emb2 = layers.Embedding(10, 4, mask_zero=True), layers.Embedding(10, 4, mask_zero=True)
    mul = layers.Multiply()
    m = mul([emb1(i1), emb2(i2)])
    model = keras.Model([i1, i2], layers.GlobalAveragePooling1D()(m))
    x1, x2 = ids(rng, 3, 5, [5, 3, 1]), ids(rng, 3, 5, [4, 5, 0])
    put_weights("multiply", model)
    seq = mul([emb1(x1), emb2(x2)])
    put("multiply", x1=x1, x2=x2, y=model.predict([x1, x2], verbose=0),
        seq=ops.convert_to_numpy(seq), mask=ops.convert_to_numpy(seq._keras_mask))


def concat_model(rng):
    keras.utils.set_random_seed(3)
    i1, i2 = keras.Input((5,), dtype="int32"), keras.Input((5, 2))
    emb, dense = layers.Embedding(10, 3, mask_zero=True), layers.Dense(3)
    cat_f, cat_s = layers.Concatenate(), layers.Concatenate(axis=1)
    e1 = emb(i1)
    features = cat_f([e1, i2])
    steps = cat_s([e1, dense(i2)])
    model = keras.Model([i1, i2], [layers.GlobalAveragePooling1D()(features),
                                   layers.GlobalAveragePooling1D()(steps)])
    x1 = ids(rng, 3, 5, [5, 3, 1])
    x2 = rng.normal(size=(3, 5, 2)).astype("float32")
    put_weights("concat_model", model)
    y1, y2 = model.predict([x1, x2], verbose=0)
    e1 = emb(x1)
    f, s = cat_f([e1, ops.convert_to_tensor(x2)]), cat_s([e1, dense(x2)])
    put("concat_model", x1=x1, x2=x2, y1=y1, y2=y2,
        mask_features=ops.convert_to_numpy(f._keras_mask),
        mask_steps=ops.convert_to_numpy(s._keras_mask))


def cross(rng):
    keras.utils.set_random_seed(4)
    iq, iv = keras.Input((4,), dtype="int32"), keras.Input((6,), dtype="int32")
    emb_q, emb_v = layers.Embedding(10, 8, mask_zero=True), layers.Embedding(10, 8, mask_zero=True)
    mha, att = layers.MultiHeadAttention(num_heads=2, key_dim=4), layers.Attention()
    q, v = emb_q(iq), emb_v(iv)
    a, b = mha(q, v), att([q, v])
    model = keras.Model([iq, iv], [layers.GlobalAveragePooling1D()(a),
                                   layers.GlobalAveragePooling1D()(b)])
    xq, xv = ids(rng, 3, 4, [4, 2, 3]), ids(rng, 3, 6, [3, 6, 1])
    put_weights("cross", model)
    y1, y2 = model.predict([xq, xv], verbose=0)
    # (each on its own embeddings: eagerly Keras's MHA takes the query's mask off)
    ta, tb = mha(emb_q(xq), emb_v(xv)), att([emb_q(xq), emb_v(xv)])
    put("cross", xq=xq, xv=xv, y1=y1, y2=y2, seq_mha=ops.convert_to_numpy(ta),
        seq_att=ops.convert_to_numpy(tb), mask_mha=ops.convert_to_numpy(ta._keras_mask))


class TransformerEncoder(layers.Layer):
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


class PositionalEmbedding(layers.Layer):
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


def book(rng):
    keras.utils.set_random_seed(5)
    inp = keras.Input((8,), dtype="int32")
    pe = PositionalEmbedding(8, 12, 8)
    h = pe(inp)
    h = TransformerEncoder(8, 16, 2)(h)
    h = layers.Dropout(0.5)(layers.GlobalMaxPooling1D()(h))
    model = keras.Model(inp, layers.Dense(1, activation="sigmoid")(h))
    x = ids(rng, 6, 8, [8, 5, 3, 6, 2, 7], vocab=12)
    y = (x == 7).any(axis=1).astype("float32")
    put_weights("book", model)
    put("book", x=x, y=y, pred=model.predict(x, verbose=0),
        mask=ops.convert_to_numpy(pe.compute_mask(x)))
    model.layers[-2].rate = 0.0  # Dropout: no randomness in the steps compared
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy")
    model.fit(x, y, epochs=3, batch_size=len(x), shuffle=False, verbose=0)
    for k, w in enumerate(model.get_weights()):
        facts[f"book_trained{k}"] = w


def main():
    rng = np.random.default_rng(0)
    merge_masks(rng)
    concat_masks(rng)
    mha_add(rng)
    multiply(rng)
    concat_model(rng)
    cross(rng)
    book(rng)
    OUT.mkdir(parents=True, exist_ok=True)
    tmp = OUT / "mask_facts.tmp.npz"
    np.savez(tmp, **facts)
    os.replace(tmp, OUT / "mask_facts.npz")
    print(f"wrote {len(facts)} arrays to {OUT / 'mask_facts.npz'}")


if __name__ == "__main__":
    main()
